"""复查 and 复核: the petitioner contests the written reply to a closed referral (信访工作条例 Arts. 35–36).

The one place that writes and counts them, for the referral page, the 复查复核 page, the API, the list
filter, the reminder sweep and the figures:

- **The reply** (``record_reply``): once the referral is closed, its origin office records the day the
  petitioner received the written reply (``reply_delivered_on``). It can be corrected until a 复查 is
  registered. The 30 days to ask for 复查 run from it.
- **Who keeps a request** (``keeper``): the petition office one level above the office whose decision
  is contested — the origin office's parent for 复查, the 复查 office's parent for 复核. Where that
  office is not in this system (the city's own referrals go to the province), the contested office
  records the higher body's handling itself and names that body (``body``). The keeper's officers and
  reviewers register the request and its answer; registering it is what lets the office above see
  the referral (``permissions.referrals_visible_to``). Before that, it finds the referral only by its
  exact number, and only among the closed referrals of the offices directly below it
  (``appealable_by_number``): what the petitioner brings with the reply in hand.
- **When**: 复查 once the reply is recorded, requested within ``APPEAL_REQUEST_DAYS`` (30) calendar days
  of its delivery; 复核 once a 复查 was answered (维持 / 变更 / 撤销) and its opinion delivered, within
  30 days of that delivery. A late request is refused with the last day it could have been made. One
  of each per referral; a 复核's opinion is final.
- **The answer clock** (``due_on``): ``APPEAL_ANSWER_DAYS`` (30) calendar days from the request's receipt,
  plus the days of a hearing (听证, not counted), the last day rolled past rest days. The sweep tells the
  keeper when it is near and, when passed, the origin office too (``DeadlineKind.APPEAL``).
- **The answer** (``answer_appeal``): the outcome, the opinion's date and text, optionally its document
  and the day it was delivered; correctable until delivered. Before the answer, the same form records a
  hearing's days alone. Withdrawn by the petitioner ends the request without an opinion.
- **Figures**: per kind — requested, open, overdue, answered late, and each outcome — beside the closed
  referrals whose reply was delivered; each number opens its list (``?appeal=``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.uploads import UploadRejected, sniff
from referrals import permissions
from referrals.bureau import Appeal, Lawyer, keep_paper
from referrals.errors import InvalidInput
from referrals.leader_cases import check_date, parse_year
from referrals.models import DeadlineKind, Referral, State
from referrals.notices import Notice
from referrals.registry import RECORD, Action, Extension, Panel, Section
from referrals.reminders import announce_clock, day_clock_q, sweep_clock, told
from referrals.steps import step, tell
from townships.calendar import calendar_period_end
from townships.models import Organisation
from townships.validators import FORMULA_START, normalise_name

if TYPE_CHECKING:
    from referrals.permissions import Actor, AnyUser

Kind = Appeal.Kind
Outcome = Appeal.Outcome
GROUNDS_MAX = 2000
OPINION_MAX = 4000
BODY_MAX: int = Appeal._meta.get_field("body").max_length or 100
HEARING_MAX_DAYS = 90
# The outcomes after which the petitioner may go one level further (a withdrawn 复查 has no opinion).
ANSWERED = (Outcome.UPHELD, Outcome.CHANGED, Outcome.REVOKED)
STATUSES = ("open", "overdue", "answered", "late", *Outcome.values)
COLUMNS = ("requested", "open", "overdue", "answered", "late", *Outcome.values)
NOT_FOUND = gettext_lazy(
    "未找到可登记复查复核的案件：请核对案件编号。只能登记下级信访部门已办结的案件，或本部门可查看的案件。"
)


# --- The rule --------------------------------------------------------------------------------


def office_above(office: Organisation) -> Organisation | None:
    """The petition office of the level above, if it is in this system."""
    parent = office.parent
    if parent is not None and parent.kind == Organisation.Kind.PETITION_OFFICE and parent.active:
        return parent
    return None


def appeal_of(referral: Referral, kind: str) -> Appeal | None:
    # Read from the prefetched list where there is one (pages and lists prefetch ``appeals``).
    return next((a for a in referral.appeals.all() if a.kind == kind), None)


def unfinished(referral: Referral) -> Appeal | None:
    """The request not yet answered and delivered (at most one: 复核 follows a finished 复查)."""
    return next((a for a in referral.appeals.all() if not a.finished), None)


def next_kind(referral: Referral) -> str | None:
    """What the petitioner may ask for now: 复查 after the reply, 复核 after a delivered 复查 opinion."""
    if referral.state != State.CLOSED or referral.merged_into_id is not None or referral.reply_delivered_on is None:
        return None
    review = appeal_of(referral, Kind.REVIEW)
    if review is None:
        return Kind.REVIEW
    if review.outcome in ANSWERED and review.delivered_on is not None and appeal_of(referral, Kind.RE_REVIEW) is None:
        return Kind.RE_REVIEW
    return None


def keeper(referral: Referral, kind: str) -> tuple[Organisation, bool]:
    """The office that keeps a request of this kind, and whether it keeps it for a body outside the
    system (then it names that body)."""
    if kind == Kind.REVIEW:
        contested = referral.origin
    else:
        review = appeal_of(referral, Kind.REVIEW)
        assert review is not None, "a 复核 follows a 复查"
        if review.body:  # the 复查 was made outside the system: so is the 复核
            return review.office, True
        contested = review.office
    above = office_above(contested)
    return (above, False) if above is not None else (contested, True)


def _kind_to_register(referral: Referral) -> str:
    return Kind.REVIEW if appeal_of(referral, Kind.REVIEW) is None else Kind.RE_REVIEW


def keeps_next(actor: Actor, referral: Referral) -> bool:
    """Who registers a request: an officer or reviewer of the office that keeps it."""
    return keeper(referral, _kind_to_register(referral))[0].pk in actor.petition_offices


def keeps_unfinished(actor: Actor, referral: Referral) -> bool:
    """Who answers a request: an officer or reviewer of the office that keeps it (of the last one, once
    it is finished: told then that there is nothing to answer, not that it was never theirs)."""
    current = unfinished(referral) or max(referral.appeals.all(), key=lambda a: a.pk, default=None)
    return current is not None and current.office_id in actor.petition_offices


def keeps_reply(actor: Actor, referral: Referral) -> bool:
    return actor.origin_officer or actor.origin_reviewer


def may_record_reply(referral: Referral) -> bool:
    """The reply is recorded, or corrected, on a closed referral until a 复查 is registered — and again
    once it is closed anew after its requests were answered (a 撤销 sends it back to be handled)."""
    if referral.state != State.CLOSED:
        return False
    requests = list(referral.appeals.all())
    if not requests:
        return True
    answered = [a.decided_at for a in requests if a.decided_at is not None]
    closed = referral.closed_at
    return len(answered) == len(requests) and closed is not None and closed > max(answered)


def may_register(referral: Referral) -> bool:
    return next_kind(referral) is not None


def may_answer(referral: Referral) -> bool:
    return unfinished(referral) is not None


def holds_reopening(referral: Referral) -> str:
    """A request under way holds the referral as it was answered: reopening it (and then merging it, or
    closing it again) would take from the office above the case it is reviewing."""
    if referral.state == State.CLOSED and unfinished(referral) is not None:
        return _("本案的复查复核申请正在办理，答复并送达前不能重新调解。")
    return ""


def refusal(referral: Referral) -> str:
    """Why no request can be registered on this referral now, in the user's words."""
    if referral.state != State.CLOSED:
        return _("本案尚未办结，不能登记复查复核。")
    if referral.reply_delivered_on is None:
        return _("本案尚未登记书面答复意见送达日期，请原办理的信访部门先登记。")
    review = appeal_of(referral, Kind.REVIEW)
    if review is not None and not review.finished:
        return _("本案的复查申请尚在办理中，复查意见送达后才能申请复核。")
    if review is not None and review.outcome == Outcome.WITHDRAWN:
        return _("申请人已撤回复查申请，本案不能再申请复核。")
    if appeal_of(referral, Kind.RE_REVIEW) is not None:
        return _("本案已经复核，复核意见为最终意见，不再受理。")
    return _("本案现在不能登记复查复核。")


def answer_due(requested_on: datetime.date, hearing_days: int = 0) -> datetime.date:
    """The last day to answer: 30 calendar days from the request's receipt, plus a hearing's days,
    rolled past rest days."""
    return calendar_period_end(requested_on, settings.FANGDIAO["APPEAL_ANSWER_DAYS"] + hearing_days).date


def request_window(referral: Referral, kind: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day on which a request of this kind may be received."""
    if kind == Kind.REVIEW:
        start = referral.reply_delivered_on
    else:
        review = appeal_of(referral, Kind.REVIEW)
        start = review.delivered_on if review else None
    assert start is not None, "the window opens with a delivery"
    return start, calendar_period_end(start, settings.FANGDIAO["APPEAL_REQUEST_DAYS"]).date


def overdue_q(today: datetime.date, prefix: str = "") -> Q:
    """Not answered, and the day to answer by has passed (a deadline day is whole)."""
    return Q(**{f"{prefix}decided_on__isnull": True, f"{prefix}due_on__lt": today})


# --- Writing ---------------------------------------------------------------------------------


def record_reply(referral: Referral, *, by: Any, delivered_on: datetime.date | None) -> Referral:
    """Record the day the written reply reached the petitioner (答复意见送达), or correct it."""
    errors: dict[str, list[str]] = {}
    check_date(errors, "delivered_on", delivered_on, _("请填写答复意见送达日期。"))
    if errors:
        raise InvalidInput(errors)
    assert delivered_on is not None  # said above otherwise
    with step(referral, by=by, action="record_reply") as s:
        r = s.referral
        closed_on = timezone.localdate(r.closed_at) if r.closed_at else None
        if closed_on is not None and delivered_on < closed_on:
            raise InvalidInput({"delivered_on": [_("送达日期不能早于办结日期（%s）。") % closed_on.isoformat()]})
        previous = r.reply_delivered_on
        r.reply_delivered_on = delivered_on
        last = calendar_period_end(delivered_on, settings.FANGDIAO["APPEAL_REQUEST_DAYS"]).date
        s.note = _("书面答复意见于%(day)s送达，申请复查期限至%(last)s") % {
            "day": delivered_on.isoformat(),
            "last": last.isoformat(),
        }
        s.data = {"delivered_on": delivered_on.isoformat()}
        if previous:
            s.data["previous"] = previous.isoformat()
    return referral


def check_request(
    *, requested_on: datetime.date | None, grounds: str, body: str, proxy: bool
) -> tuple[str, str, dict[str, list[str]]]:
    """The grounds and body as stored, and every mistake of the input alone (keys as the API's)."""
    errors: dict[str, list[str]] = {}
    check_date(errors, "requested_on", requested_on, _("请填写收到申请的日期。"))
    grounds = (grounds or "").strip()
    if not grounds:
        errors["grounds"] = [_("请填写申请人的请求和理由。")]
    elif len(grounds) > GROUNDS_MAX:
        errors["grounds"] = [_("申请理由不能超过%d个字。") % GROUNDS_MAX]
    body = normalise_name(body or "") if proxy else ""
    if proxy and not body:
        errors["body"] = [_("上级信访部门不在本系统中，请填写办理复查复核的机关名称，如“广东省信访局”。")]
    elif len(body) > BODY_MAX:
        errors["body"] = [_("机关名称不能超过%d个字。") % BODY_MAX]
    elif body.startswith(FORMULA_START):
        errors["body"] = [_("机关名称不能以 =、+、-、@ 开头。")]
    return grounds, body, errors


def register_appeal(
    referral: Referral,
    *,
    by: Any,
    requested_on: datetime.date | None,
    grounds: str,
    lawyer: Lawyer | int | None = None,
    body: str = "",
    kind: str | None = None,
) -> Appeal:
    """Register a 复查 or 复核 request (whichever is next) received on ``requested_on``.

    Who: the keeping office's officers and reviewers (403). When: ``next_kind`` (409). 400 for a bad
    or late date, no grounds, a lawyer not on the keeper's roster, a missing outside body."""
    with step(referral, by=by, action="register_appeal") as s:
        r = s.referral
        current = next_kind(r)
        assert current is not None  # the action's ``when``
        office, proxy = keeper(r, current)
        grounds, body, errors = check_request(requested_on=requested_on, grounds=grounds, body=body, proxy=proxy)
        if kind and kind != current:
            errors["kind"] = [_("本案现在应登记%s申请。") % Kind(current).label]
        if proxy and lawyer is not None:
            # The body outside the system has its own studio; this office's lawyers are not its.
            errors["lawyer"] = [_("上级机关办理的复查复核，不登记本部门的律师。")]
            chosen = None
        else:
            chosen = _roster_lawyer(office, lawyer, errors)
        if requested_on is not None and "requested_on" not in errors:
            first, last = request_window(r, current)
            if requested_on < first:
                errors["requested_on"] = [_("收到申请日期不能早于意见送达日期（%s）。") % first.isoformat()]
            elif requested_on > last:
                errors["requested_on"] = [
                    _("已超过申请期限：意见于%(first)s送达，%(kind)s申请最迟应于%(last)s（含当日）提出。")
                    % {"first": first.isoformat(), "last": last.isoformat(), "kind": Kind(current).label}
                ]
        if errors:
            raise InvalidInput(errors)
        assert requested_on is not None
        appeal = Appeal.objects.create(
            referral=r,
            kind=current,
            office=office,
            body=body,
            requested_on=requested_on,
            grounds=grounds,
            lawyer=chosen,
            due_on=answer_due(requested_on),
            registered_by=by,
            registered_at=s.now,
        )
        s.note = _("%(body)s收到%(kind)s申请（%(day)s），应于%(due)s前答复") % {
            "body": body or office.name,
            "kind": appeal.get_kind_display(),
            "day": requested_on.isoformat(),
            "due": appeal.due_on.isoformat(),
        }
        s.data = {"kind": current, "requested_on": requested_on.isoformat(), "due_on": appeal.due_on.isoformat()}
        tell(
            r,
            "origin",
            Notice.REFERRAL_APPEALED,
            _("%(number)s 申请人已申请%(kind)s") % {"number": r.number, "kind": appeal.get_kind_display()},
            grounds[:120],
            by=by,
        )
    return appeal


def _roster_lawyer(office: Organisation, lawyer: Lawyer | int | None, errors: dict[str, list[str]]) -> Lawyer | None:
    """The lawyer of the keeping office's studio (复查复核律师工作室), from its active roster. Another
    office's lawyer reads as an unknown one."""
    if lawyer is None:
        return None
    pk = lawyer.pk if isinstance(lawyer, Lawyer) else lawyer
    found = Lawyer.objects.filter(pk=pk, office=office, active=True).first()
    if found is None:
        errors["lawyer"] = [_("请从本部门在册律师中选择参与的律师。")]
    return found


def answer_errors(
    *,
    outcome: str = "",
    decided_on: datetime.date | None = None,
    opinion: str = "",
    delivered_on: datetime.date | None = None,
    hearing_days: int | None = None,
) -> dict[str, list[str]]:
    """Every mistake of an answer's input alone (keys as the API's); the page's form asks too."""
    errors: dict[str, list[str]] = {}
    opinion = (opinion or "").strip()
    if hearing_days is not None and not 0 <= hearing_days <= HEARING_MAX_DAYS:
        errors["hearing_days"] = [_("听证天数应在0到%d之间。") % HEARING_MAX_DAYS]
    if outcome and outcome not in Outcome.values:
        errors["outcome"] = [_("请选择办理结果：维持、变更、撤销或申请人撤回。")]
    if not outcome and not hearing_days:
        errors["outcome"] = [_("请选择办理结果；只登记听证时，请填写听证天数。")]
    if outcome:
        check_date(errors, "decided_on", decided_on, _("请填写意见日期（撤回的，填写撤回日期）。"))
    if outcome in ANSWERED and not opinion:
        errors["opinion"] = [_("请填写复查复核意见。")]
    elif len(opinion) > OPINION_MAX:
        errors["opinion"] = [_("意见不能超过%d个字。") % OPINION_MAX]
    if outcome in ANSWERED and delivered_on is not None:
        check_date(errors, "delivered_on", delivered_on, "")
        if decided_on is not None and "delivered_on" not in errors and delivered_on < decided_on:
            errors["delivered_on"] = [_("送达日期不能早于意见日期。")]
    return errors


def check_answer(**values: Any) -> None:
    """``answer_errors`` as a refusal (``InvalidInput``)."""
    if errors := answer_errors(**values):
        raise InvalidInput(errors)


def answer_appeal(
    referral: Referral,
    *,
    by: Any,
    outcome: str = "",
    decided_on: datetime.date | None = None,
    opinion: str = "",
    delivered_on: datetime.date | None = None,
    hearing_days: int | None = None,
    document: Any = None,
) -> Appeal:
    """Record the answer to the open request (复查意见 / 复核意见), or, without an outcome, the days of a
    hearing held for it. Correctable until the opinion is delivered."""
    errors = answer_errors(
        outcome=outcome, decided_on=decided_on, opinion=opinion, delivered_on=delivered_on, hearing_days=hearing_days
    )
    opinion = (opinion or "").strip()
    read = None
    if document is not None and not outcome:
        errors["document"] = [_("只登记听证时不能上传意见书；请在登记办理结果时上传。")]
    elif document is not None:
        try:
            read = sniff(document)
        except UploadRejected as exc:
            errors["document"] = [exc.message]
    if errors:
        raise InvalidInput(errors)
    with step(referral, by=by, action="answer_appeal") as s:
        appeal = unfinished(s.referral)
        assert appeal is not None  # the action's ``when``
        later: dict[str, list[str]] = {}
        if decided_on is not None and outcome and decided_on < appeal.requested_on:
            later["decided_on"] = [_("意见日期不能早于收到申请日期（%s）。") % appeal.requested_on.isoformat()]
        if hearing_days is not None and hearing_days != appeal.hearing_days:
            if appeal.kind != Kind.RE_REVIEW:
                # Art. 36 lets the 复核 office hold a hearing outside its 30 days; Art. 35 gives 复查 none.
                later["hearing_days"] = [_("听证只适用于复核（信访工作条例第三十六条），复查的答复期限为30日。")]
            elif appeal.decided_on is not None:
                # Days added after the answer would only move the day it was measured against.
                later["hearing_days"] = [_("复核意见已登记，听证天数不能再更改。")]
        if later:
            raise InvalidInput(later)
        if hearing_days is not None:
            appeal.hearing_days = hearing_days
            appeal.due_on = answer_due(appeal.requested_on, hearing_days)
        if outcome:
            appeal.outcome = outcome
            appeal.decided_on = decided_on
            appeal.opinion = opinion
            appeal.delivered_on = delivered_on if outcome in ANSWERED else None
            appeal.decided_by = by
            appeal.decided_at = s.now
            if read is not None:
                folder = f"appeal-opinions/{appeal.referral_id}"
                appeal.document_name, appeal.document_type = keep_paper(appeal.document, folder, document, read)
            s.note = _("%(kind)s意见：%(outcome)s（%(day)s）") % {
                "kind": appeal.get_kind_display(),
                "outcome": appeal.get_outcome_display(),
                "day": decided_on.isoformat() if decided_on else "",
            }
        else:
            s.note = _("%(kind)s听证%(days)d天，答复期限顺延至%(due)s") % {
                "kind": appeal.get_kind_display(),
                "days": appeal.hearing_days,
                "due": appeal.due_on.isoformat(),
            }
        appeal.save()
        s.data = {
            "kind": appeal.kind,
            "outcome": appeal.outcome,
            "decided_on": appeal.decided_on.isoformat() if appeal.decided_on else None,
            "delivered_on": appeal.delivered_on.isoformat() if appeal.delivered_on else None,
            "hearing_days": appeal.hearing_days,
            "late": bool(appeal.decided_on and appeal.decided_on > appeal.due_on),
        }
        if outcome:
            tell(
                s.referral,
                "origin",
                Notice.REFERRAL_APPEALED,
                _("%(number)s %(kind)s意见：%(outcome)s")
                % {
                    "number": s.referral.number,
                    "kind": appeal.get_kind_display(),
                    "outcome": appeal.get_outcome_display(),
                },
                by=by,
            )
    return appeal


# --- Finding a referral to register against ----------------------------------------------------


def appealable_by_number(user: AnyUser, text: str) -> Referral | None:
    """The referral of this number for the 复查复核 page: one the user may see, or a closed one of an
    office directly below the user's (or below the office of its 复查). None reads the same whether
    the number does not exist or is not the user's to look up."""
    found = permissions.visible_by_number(user, text)
    if found is not None:
        return found
    number = permissions.typed_number(text)
    g = permissions.grants_of(user)
    offices = g.orgs("refer_from") | g.orgs("review_for")
    if not number or not offices:
        return None
    below = Q(origin__parent_id__in=offices) | Exists(
        Appeal.objects.filter(referral=OuterRef("pk"), kind=Kind.REVIEW, body="", office__parent_id__in=offices)
    )
    return Referral.objects.filter(below, number=number, state=State.CLOSED, merged_into__isnull=True).first()


# --- Reading ---------------------------------------------------------------------------------


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def appeal_json(appeal: Appeal, today: datetime.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": appeal.pk,
        "kind": appeal.kind,
        "kind_label": appeal.get_kind_display(),
        "office": {"id": appeal.office_id, "name": appeal.office.name},
        "body": appeal.body or appeal.office.name,
        "requested_on": appeal.requested_on.isoformat(),
        "grounds": appeal.grounds,
        "lawyer": {"id": appeal.lawyer_id, "name": appeal.lawyer.name, "firm": appeal.lawyer.firm}
        if appeal.lawyer
        else None,
        "hearing_days": appeal.hearing_days,
        "due_on": appeal.due_on.isoformat(),
        "overdue": appeal.decided_on is None and appeal.due_on < today,
        "outcome": appeal.outcome or None,
        "outcome_label": appeal.get_outcome_display() or None,
        "decided_on": _date(appeal.decided_on),
        "late": bool(appeal.decided_on and appeal.decided_on > appeal.due_on),
        "opinion": appeal.opinion,
        "delivered_on": _date(appeal.delivered_on),
        "document": reverse("referrals:appeal_document", args=[appeal.referral_id, appeal.pk])
        if appeal.document
        else None,
    }


def appeals_json(referral: Referral, user: AnyUser | None = None, full: bool = False) -> dict[str, Any] | None:
    """``appeals`` of the referral's JSON: the reply's delivery and each request (null before closure)."""
    items = sorted(referral.appeals.all(), key=lambda a: a.kind != Kind.REVIEW)
    if referral.reply_delivered_on is None and not items:
        return None
    today = timezone.localdate()
    return {
        "reply_delivered_on": _date(referral.reply_delivered_on),
        "next": next_kind(referral),
        "items": [appeal_json(a, today) for a in items],
    }


def filter_condition(value: str, year: str, errors: dict[str, list[str]], today: datetime.date) -> Q | None:
    """``?appeal=``: ``replied`` (the reply's delivery recorded), ``review`` or ``re_review`` (any request
    of that kind), or ``<kind>.<status>`` with a status of ``STATUSES``; ``?appeal_year=`` keeps the
    replies delivered, or the requests received, in that year (as the figures count them)."""
    value = value.strip()
    in_year = parse_year(year, errors, key="appeal_year") if year else None
    if value == "replied":
        return Q(reply_delivered_on__isnull=False) & (Q(reply_delivered_on__year=in_year) if in_year else Q())
    kind, _dot, status = value.partition(".")
    if kind not in Kind.values or (status and status not in STATUSES):
        errors["appeal"] = [
            _("未知的复查复核条件：%s（应为 replied、review、re_review，或如 review.upheld、re_review.overdue）")
            % value
        ]
        return None
    requests = Appeal.objects.filter(status_q(status, today), referral=OuterRef("pk"), kind=kind)
    if in_year:
        requests = requests.filter(requested_on__year=in_year)
    return Q(Exists(requests))


def status_q(status: str, today: datetime.date) -> Q:
    if status == "open":
        return Q(decided_on__isnull=True)
    if status == "overdue":
        return overdue_q(today)
    if status == "answered":
        return Q(outcome__in=ANSWERED)
    if status == "late":
        return Q(decided_on__gt=F("due_on"))
    if status:
        return Q(outcome=status)
    return Q()


@dataclass(frozen=True)
class Scope:
    year: int | None = None


def parse_scope(params: Mapping[str, str]) -> Scope:
    errors: dict[str, list[str]] = {}
    year = parse_year(params.get("year") or "", errors)
    if errors:
        raise InvalidInput(errors)
    return Scope(year=year)


@dataclass
class Row:
    kind: str
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    @property
    def label(self) -> str:
        return str(Kind(self.kind).label)


@dataclass
class Report:
    scope: Scope
    replied: int
    rows: list[Row]
    generated_at: datetime.datetime

    contested: int = 0  # of the replies delivered in the scope, those asked to be reviewed

    @property
    def contested_share(self) -> float | None:
        """申请复查的比例: of the replies delivered in the scope, the share whose 复查 was asked for."""
        return round(self.contested / self.replied, 4) if self.replied else None

    @property
    def summary(self) -> str:
        review, re_review = (r.figures for r in self.rows)
        return _(
            "已送达答复意见%(replied)d件；申请复查%(review)d件（维持%(r_up)d件，变更%(r_ch)d件，撤销%(r_rv)d件，"
            "撤回%(r_wd)d件，办理中%(r_open)d件）；申请复核%(re)d件（维持%(c_up)d件，变更%(c_ch)d件，"
            "撤销%(c_rv)d件，撤回%(c_wd)d件，办理中%(c_open)d件）"
        ) % {
            "replied": self.replied,
            "review": review["requested"],
            "r_up": review["upheld"],
            "r_ch": review["changed"],
            "r_rv": review["revoked"],
            "r_wd": review["withdrawn"],
            "r_open": review["open"],
            "re": re_review["requested"],
            "c_up": re_review["upheld"],
            "c_ch": re_review["changed"],
            "c_rv": re_review["revoked"],
            "c_wd": re_review["withdrawn"],
            "c_open": re_review["open"],
        }

    def list_query(self, kind: str, column: str = "requested") -> str:
        """The referral list's query behind a number (``?appeal=`` and ``?appeal_year=``)."""
        value = kind if column == "requested" else f"{kind}.{column}"
        return urlencode({"appeal": value, **({"appeal_year": self.scope.year} if self.scope.year else {})})


def appeals_visible_to(user: AnyUser) -> QuerySet[Appeal]:
    return Appeal.objects.filter(referral__in=permissions.referrals_visible_to(user))


def requests_in(user: AnyUser, scope: Scope) -> QuerySet[Appeal]:
    """The requests listed beside the figures: those the user may see, received in the scope's year,
    newest first."""
    rows = appeals_visible_to(user).select_related("referral", "office", "lawyer")
    if scope.year is not None:
        rows = rows.filter(requested_on__year=scope.year)
    return rows.order_by("-requested_on", "-pk")


def report(user: AnyUser, scope: Scope, *, now: datetime.datetime | None = None) -> Report:
    """The figures over the requests whose referral ``user`` may see (a merged one counts nowhere),
    received in the scope's year; ``replied`` counts the replies delivered in that year."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    qs = appeals_visible_to(user).filter(referral__merged_into__isnull=True)
    replied = permissions.referrals_visible_to(user).filter(reply_delivered_on__isnull=False, merged_into__isnull=True)
    if scope.year is not None:
        qs = qs.filter(requested_on__year=scope.year)
        replied = replied.filter(reply_delivered_on__year=scope.year)
    rows = {kind: Row(kind) for kind in Kind.values}
    for kind, outcome, decided_on, due_on in qs.values_list("kind", "outcome", "decided_on", "due_on"):
        f = rows[kind].figures
        f["requested"] += 1
        f["open"] += decided_on is None
        f["overdue"] += decided_on is None and due_on < today
        f["answered"] += outcome in ANSWERED
        f["late"] += decided_on is not None and decided_on > due_on
        if outcome:
            f[outcome] += 1
    contested = replied.filter(Exists(Appeal.objects.filter(referral=OuterRef("pk"), kind=Kind.REVIEW))).count()
    return Report(scope=scope, replied=replied.count(), rows=list(rows.values()), generated_at=now, contested=contested)


# --- The reminder sweep -------------------------------------------------------------------------


def _candidates(level: str, today: datetime.date) -> QuerySet[Referral]:
    pending = Appeal.objects.filter(
        day_clock_q("due_on", level, today), referral=OuterRef("pk"), decided_on__isnull=True
    )
    return (
        Referral.objects.filter(Exists(pending))
        .annotate(appeal_due_on=pending.values("due_on")[:1])
        .exclude(told(DeadlineKind.APPEAL, "appeal_due_on", level))
        .select_related("origin")
        .order_by("pk")
    )


def sweep_appeal_deadlines(now: datetime.datetime | None = None) -> int:
    """The answer clock of a 复查 or 复核 entering "due soon" (to the keeping office) or "overdue" (to
    it and the origin office), once per ``due_on`` and level: a hearing that moves the day earns fresh
    reminders, the answer ends them."""
    today = timezone.localtime(now or timezone.now()).date()
    return sweep_clock(lambda level: _candidates(level, today), _announce)


def _announce(referral: Referral, level: str) -> bool:
    return announce_clock(
        referral,
        level,
        kind=DeadlineKind.APPEAL,
        due_on=referral.appeal_due_on,  # type: ignore[attr-defined]  # annotated by ``_candidates``
        audiences=("appeal_keepers", "origin"),
        titles=(
            _("%(number)s 复查复核答复期限将于%(due)s届满"),
            _("%(number)s 已超过复查复核答复期限(%(due)s)，尚未答复"),
        ),
    )


# --- The registry ------------------------------------------------------------------------------


def extension() -> Extension:
    """The three actions, the referral's ``appeals``, the panel and the sweep (``ReferralsConfig.ready``)."""
    from referrals.action_serializers import AnswerAppealSerializer, RegisterAppealSerializer, ReplySerializer
    from referrals.appeal_forms import AnswerAppealForm, RegisterAppealForm, ReplyForm
    from referrals.appeals_views import appeals_panel

    return Extension(
        name="appeals",
        actions=(
            Action(
                "record_reply",
                gettext_lazy("登记答复意见送达"),
                who=keeps_reply,
                when=may_record_reply,
                kind=RECORD,
                run=record_reply,
                form=ReplyForm,
                serializer=ReplySerializer,
                order=64,
                done=gettext_lazy("已登记答复意见送达日期。"),
                refused=gettext_lazy("只能对已办结、尚未申请复查的案件登记答复意见送达日期。"),
            ),
            Action(
                "register_appeal",
                gettext_lazy("登记复查复核申请"),
                who=keeps_next,
                when=may_register,
                kind=RECORD,
                run=register_appeal,
                form=RegisterAppealForm,
                serializer=RegisterAppealSerializer,
                order=65,
                done=gettext_lazy("已登记复查复核申请。"),
                refused=refusal,
            ),
            Action(
                "answer_appeal",
                gettext_lazy("登记复查复核意见"),
                who=keeps_unfinished,
                when=may_answer,
                kind=RECORD,
                run=answer_appeal,
                form=AnswerAppealForm,
                serializer=AnswerAppealSerializer,
                order=66,
                done=gettext_lazy("已登记复查复核意见。"),
                refused=gettext_lazy("本案没有待答复的复查复核申请。"),
            ),
        ),
        # Detail only (``ReferralSerializer.get_appeals``); prefetched so that a list's rows can ask
        # ``holds_reopening`` without a query each.
        sections=(Section("appeals", ("appeals",), appeals_json),),
        holds={"reopen": (holds_reopening,)},
        panels=(Panel("appeals", "referrals/panel_appeals.html", appeals_panel, order=7),),
        sweeps={"appeal_deadlines": sweep_appeal_deadlines},
    )
