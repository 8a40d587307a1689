"""The referral's own steps: one function per action, each one ``step`` (``referrals/steps.py``).

A function checks what can be wrong whatever the state (an unknown reason code, a target outside the
rules), then, inside the step, calls the FSM transition and writes what follows from it. The lock,
the permission, the required elements, the deadline, the save, the timeline event and the live push
are the step's. Registering and editing drafts are in ``referrals/intake.py``; the mediation steps
(conclusion, sessions, follow-ups...) in ``mediation/workflow.py``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.service import notify
from referrals import permissions
from referrals.deadlines import beyond_petition_deadline, petition_due
from referrals.errors import BeyondPetitionDeadline, InvalidInput, Missing, NotAvailable
from referrals.models import (
    DeadlineKind,
    DeclineReason,
    Exclusion,
    Extension,
    ExtensionConsent,
    Handling,
    Party,
    PetitionExtension,
    Referral,
    State,
    Suspension,
)
from referrals.notices import Notice
from referrals.registry import registry
from referrals.steps import excerpt, step, tell
from townships.models import Mediator, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet
    from django_stubs_ext import StrOrPromise

# --- Required elements (要件) ------------------------------------------------------------------


def missing_for_submit(referral: Referral) -> list[Missing]:
    """What a referral needs before it is referred (docs/workflow.md, "Refer")."""
    missing: list[Missing] = []
    parties = list(referral.parties.all())
    if not any(p.role == Party.Role.PETITIONER for p in parties):
        missing.append(Missing("petitioner", _("至少一名申请人(信访人)")))
    if not any(p.role == Party.Role.RESPONDENT for p in parties):
        missing.append(Missing("respondent", _("至少一名被申请人")))
    for i, party in enumerate(parties, start=1):
        label = party.name or _("第%d名当事人") % i
        if not party.name:
            missing.append(Missing(f"party_name:{i}", _("第%d名当事人的姓名或名称") % i))
        if party.kind == Party.Kind.PERSON and not (party.id_number or party.phone):
            missing.append(Missing(f"party_identity:{i}", _("%s的身份证号或联系电话") % label))
        if not party.has_consent:
            missing.append(Missing(f"consent:{i}", _("%s同意调解的日期和方式") % label))
    if not referral.category:
        missing.append(Missing("category", _("纠纷类别")))
    if not referral.summary.strip():
        missing.append(Missing("summary", _("事实摘要")))
    if not referral.claims.strip():
        missing.append(Missing("claims", _("当事人诉求")))
    if not referral.scope_ground:
        missing.append(Missing("scope_ground", _("调解范围依据(属于可调解的纠纷类型)")))
    for exclusion in Exclusion:
        if exclusion.value not in referral.exclusions_absent:
            missing.append(Missing(f"exclusion:{exclusion.value}", _("确认不存在：%s") % exclusion.label))
    if referral.target_id is None:
        missing.append(Missing("target", _("接收单位")))
    elif not permissions.referral_targets(referral.origin).filter(pk=referral.target_id).exists():
        missing.append(Missing("target", _("接收单位须为本市可接收移交的调委会、司法局或综治中心")))
    return missing


def missing_for_accept(referral: Referral, mediators: Sequence[Mediator], rights_explained: bool) -> list[Missing]:
    missing: list[Missing] = []
    if not mediators:
        missing.append(Missing("lead_mediator", _("主调解员(从本调委会在册调解员中选择)")))
    else:
        for mediator in mediators:
            if mediator.committee_id != referral.target_id or not mediator.active:
                missing.append(Missing("mediator_not_on_roster", _("%s不是本调委会在册调解员") % mediator.name))
    if not rights_explained:
        missing.append(Missing("rights_explained", _("已向当事人告知权利义务(人民调解当事人权利义务告知书)")))
    return missing


def missing_elements(referral: Referral, action: str) -> list[Missing]:
    """Elements the action still lacks that can be read from the referral itself (for checklists)."""
    return [m for check in registry.checks(action) for m in check(referral)]


# --- Steps -----------------------------------------------------------------------------------


def _target(referral: Referral) -> Organisation:
    """The receiver the referral names. Each step that reads it acts in a state that has one (submitted,
    declined, mediating...): the rule (``referrals/actions.py``) or a required element says so."""
    assert referral.target is not None, f"{referral.number} names no receiver"
    return referral.target


def _open_handling(referral: Referral, organisation: Organisation, at: datetime.datetime) -> None:
    Handling.objects.create(referral=referral, organisation=organisation, started_at=at)


def _end_handling(referral: Referral, result: str, at: datetime.datetime) -> None:
    Handling.objects.filter(referral=referral, ended_at__isnull=True).update(ended_at=at, result=result)


def _require_target(targets: QuerySet[Organisation], target: Organisation, message: str) -> None:
    if not targets.filter(pk=target.pk).exists():
        raise InvalidInput({"target": [message]})


def submit_referral(referral: Referral, *, by: User) -> Referral:
    """Refer a draft to its target (移交). From: draft. Who: an officer of the origin office.

    Needs every element of "Refer" (``missing_for_submit``, registered for the action). Tells the target.
    """
    with step(referral, by=by, action="submit") as s:
        r = s.referral
        r.submit(at=s.now)
        target = _target(r)  # a required element of "Refer"
        s.data = {"target": r.target_id, "target_name": target.name}
        _open_handling(r, target, s.now)
        tell(r, "target", Notice.REFERRAL_RECEIVED, _("新移交案件 %s") % r.number, excerpt(r.summary), by=by)
    return r


def dispatch_referral(referral: Referral, *, by: User, target: Organisation, note: str = "") -> Referral:
    """Route a referral onward (分派). From: submitted, at a justice bureau or governance centre.

    Who: a dispatcher of the current target; to a mediation committee of its area
    (``permissions.dispatch_targets``). Restarts the acceptance clock; tells the new target and the
    origin office.
    """
    with step(referral, by=by, action="dispatch") as s:
        r = s.referral
        _require_target(permissions.dispatch_targets(r), target, _("只能分派给本辖区内的人民调解委员会。"))
        previous = _target(r)
        r.dispatch(target=target, at=s.now)
        s.note = note
        s.data = {"from": previous.pk, "from_name": previous.name, "target": target.pk, "target_name": target.name}
        _end_handling(r, Handling.Result.DISPATCHED, s.now)
        _open_handling(r, target, s.now)
        tell(r, "target", Notice.REFERRAL_RECEIVED, _("新分派案件 %s") % r.number, excerpt(r.summary), by=by)
        tell(
            r,
            "origin",
            Notice.REFERRAL_ROUTED,
            _("%(number)s 已分派至 %(target)s") % {"number": r.number, "target": target.name},
            note,
            by=by,
        )
    return r


def accept_referral(
    referral: Referral, *, by: User, mediators: Sequence[Mediator], rights_explained: bool, note: str = ""
) -> Referral:
    """Accept a referral for mediation (受理). From: submitted, at a mediation committee.

    Who: a mediator of the target committee. Needs a lead mediator (the first of ``mediators``)
    from the committee's active roster, and the parties told their rights and duties. Starts the
    mediation clock; tells the origin office.
    """
    with step(
        referral, by=by, action="accept", missing=lambda r: missing_for_accept(r, mediators, rights_explained)
    ) as s:
        r = s.referral
        r.accept(lead=mediators[0], at=s.now)
        r.mediators.set(mediators)
        s.note = note
        s.data = {"mediators": [m.pk for m in mediators], "lead": mediators[0].name}
        _end_handling(r, Handling.Result.ACCEPTED, s.now)
        tell(
            r,
            "origin",
            Notice.REFERRAL_ACCEPTED,
            _("%(number)s 已被 %(target)s 受理") % {"number": r.number, "target": _target(r).name},
            _("主调解员：%s") % mediators[0].name,
            by=by,
        )
    return r


def decline_referral(referral: Referral, *, by: User, reason: str, note: str = "") -> Referral:
    """Return a referral to the origin office (退回). From: submitted.

    Who: a mediator or dispatcher of the target. Needs a reason code (and a note for "other").
    A second return flags the referral as ping-pong and tells the supervising bureau.
    """
    if reason not in DeclineReason.values:
        raise InvalidInput({"reason": [_("未知的退回原因：%s") % reason]})
    if reason == DeclineReason.OTHER and not note.strip():
        raise InvalidInput({"note": [_("退回原因为“其他”时须填写说明。")]})
    with step(referral, by=by, action="decline") as s:
        r = s.referral
        target = _target(r)
        r.decline(at=s.now)
        label = str(DeclineReason(reason).label)
        s.note = note
        s.data = {"reason": reason, "reason_label": label, "by_organisation": target.pk, "by_name": target.name}
        _end_handling(r, Handling.Result.DECLINED, s.now)
        tell(
            r,
            "origin",
            Notice.REFERRAL_RETURNED,
            _("%(number)s 被 %(target)s 退回") % {"number": r.number, "target": target.name},
            label + (f"：{note}" if note else ""),
            by=by,
        )
        if r.ping_pong:
            tell(
                r,
                "supervisors",
                Notice.PING_PONG,
                _("%(number)s 已被退回 %(n)d 次") % {"number": r.number, "n": r.returns_count},
                excerpt(r.summary),
                by=by,
            )
    return r


def redirect_referral(referral: Referral, *, by: User, target: Organisation, note: str = "") -> Referral:
    """Refer a returned referral again, to another receiver (重新移交). From: declined.

    Who: an officer of the origin office, or — once it is ping-pong — a dispatcher of the
    supervising justice bureau (``permissions.redirect_targets`` says where each may send it).
    Restarts the acceptance clock; tells the new target.
    """
    with step(referral, by=by, action="redirect") as s:
        r = s.referral
        if target.pk == r.target_id:
            raise InvalidInput({"target": [_("刚退回的单位不能再次作为接收单位，请选择其他单位。")]})
        if permissions.Actor.of(by, r).origin_officer:
            refused = _("只能移交给本市可接收移交的调委会、司法局或综治中心。")
        else:
            refused = _("只能分派给本辖区内的人民调解委员会。")
        _require_target(permissions.redirect_targets(by, r), target, refused)
        r.redirect(target=target, at=s.now)
        s.note = note
        s.data = {"target": target.pk, "target_name": target.name}
        _open_handling(r, target, s.now)
        tell(r, "target", Notice.REFERRAL_RECEIVED, _("新移交案件 %s") % r.number, excerpt(r.summary), by=by)
    return r


def withdraw_referral(referral: Referral, *, by: User, reason: str) -> Referral:
    """Take back a referral its receiver has not accepted yet (撤回). From: submitted; to: draft.

    Who: an officer of the origin office. Needs a reason. The receiver's turn ends (``Handling``
    result ``withdrawn``) and it is told why. As a draft the referral is the office's own working
    paper again: the receiver no longer sees it, the refer clock (from ``received_on``) applies, and
    the office may correct it and submit it again, to the same receiver or another.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写撤回原因。")]})
    with step(referral, by=by, action="withdraw") as s:
        r = s.referral
        target = _target(r)
        # Read before the referral becomes a draft, which only the origin office may see.
        receivers = list(permissions.audience(r, "target"))
        r.withdraw(at=s.now)
        s.note = reason
        s.data = {"target": target.pk, "target_name": target.name}
        _end_handling(r, Handling.Result.WITHDRAWN, s.now)
        notify(
            receivers,
            kind=Notice.REFERRAL_WITHDRAWN,
            # No link: the draft is no longer theirs to open.
            title=_("%(number)s 已被 %(origin)s 撤回") % {"number": r.number, "origin": r.origin.name},
            body=reason,
            referral_id=r.pk,
            exclude=[by.pk],
        )
    return r


def urge_referral(referral: Referral, *, by: User, note: str = "") -> Referral:
    """Remind the handler of an overdue referral (催办). From: submitted or mediating, past its deadline.

    Who: an officer or reviewer of the origin office. Counts the reminder (``urge_count``, 催办次数)
    and tells the members of the organisation whose clock has run out.
    """
    with step(referral, by=by, action="urge") as s:
        r = s.referral
        r.urge_count += 1
        s.note = note
        assert r.due_on is not None  # urged only once overdue
        s.data = {"count": r.urge_count, "deadline": r.deadline_kind, "due_on": r.due_on.isoformat()}
        late = str(DeadlineKind(r.deadline_kind).label) if r.deadline_kind else ""
        tell(
            r,
            "target",
            Notice.REFERRAL_URGED,
            _("%(number)s 已超过%(deadline)s，%(origin)s 催办（第%(n)d次）")
            % {"number": r.number, "deadline": late, "origin": r.origin.name, "n": r.urge_count},
            note,
            by=by,
        )
    return r


@dataclass(frozen=True)
class ExtensionCap:
    """How many days one extension may add: 1 to a setting's number, and what is said of any other.
    Checked here; the page form and the API state the same bounds and words in their fields."""

    setting: Literal["EXTENSION_MAX_DAYS", "PETITION_EXTENSION_MAX_DAYS"]  # a key of settings.FANGDIAO
    words: StrOrPromise  # ``%d``: the setting's number

    @property
    def limit(self) -> int:
        return settings.FANGDIAO[self.setting]

    def message(self) -> str:
        return str(self.words) % self.limit

    def check(self, days: int) -> None:
        if not 1 <= days <= self.limit:
            raise InvalidInput({"days": [self.message()]})


EXTENSION_DAYS = ExtensionCap("EXTENSION_MAX_DAYS", gettext_lazy("每次延长天数应在1至%d天之间。"))
PETITION_EXTENSION_DAYS = ExtensionCap("PETITION_EXTENSION_MAX_DAYS", gettext_lazy("信访办理期限只能延长1至%d天。"))


@dataclass(frozen=True)
class PartyConsent:
    """One party's consent to an extension of the mediation period: the party (its id), the day and
    how it was given (``Party.ConsentMethod``), as the consent to mediation itself is recorded."""

    party: int
    consented_on: datetime.date
    method: str


def missing_extension_consents(referral: Referral, consents: Sequence[PartyConsent]) -> list[Missing]:
    """Every party of the referral must consent to the extension: one element per party that has not,
    named (``extension_consent:<party id>``)."""
    given = {c.party for c in consents}
    return [
        Missing(
            f"extension_consent:{party.pk}",
            _("%(name)s（%(role)s）同意延长调解期限的日期和方式")
            % {"name": party.name, "role": Party.Role(party.role).label},
        )
        for party in referral.parties.all()
        if party.pk not in given
    ]


class GivenConsent(TypedDict):
    """A checked consent as the timeline keeps it (``data["consents"]`` of an ``extend`` event)."""

    party: int
    name: str
    consented_on: str  # ISO date
    method: str
    method_label: str


def _check_extension_consents(referral: Referral, consents: Sequence[PartyConsent]) -> list[GivenConsent]:
    """Each consent names a party of this referral once, a known method, a day within the current
    round and not in the future. Returns them for the timeline, in the parties' order."""
    parties = {p.pk: p for p in referral.parties.all()}
    started = timezone.localtime(referral.mediation_started_at).date() if referral.mediation_started_at else None
    today = timezone.localdate()
    errors: list[str] = []
    seen: set[int] = set()
    for i, c in enumerate(consents, start=1):
        party = parties.get(c.party)
        if party is None:
            errors.append(_("第%(i)d项：本案没有编号为%(id)s的当事人。") % {"i": i, "id": c.party})
            continue
        if c.party in seen:
            errors.append(_("%s的同意重复登记。") % party.name)
        seen.add(c.party)
        if c.method not in dict(Party.STAFF_CONSENT_CHOICES):
            errors.append(_("%(name)s：未知的同意方式“%(method)s”。") % {"name": party.name, "method": c.method})
        if c.consented_on > today:
            errors.append(_("%s同意延期的日期不能晚于今天。") % party.name)
        elif started and c.consented_on < started:
            errors.append(
                _("%(name)s同意延期的日期不能早于本轮调解开始日期(%(date)s)。")
                % {"name": party.name, "date": started.isoformat()}
            )
    if errors:
        raise InvalidInput({"consents": errors})
    order = {pk: n for n, pk in enumerate(parties)}
    return [
        {
            "party": c.party,
            "name": parties[c.party].name,
            "consented_on": c.consented_on.isoformat(),
            "method": c.method,
            "method_label": str(Party.ConsentMethod(c.method).label),
        }
        for c in sorted(consents, key=lambda c: order[c.party])
    ]


def extend_referral(
    referral: Referral, *, by: User, days: int, reason: str, consents: Sequence[PartyConsent] = ()
) -> Referral:
    """Extend the mediation period (延期). From: mediating, not suspended.

    Who: a mediator of the handling committee. Only with every party's consent, each recorded with its
    day and method (``ExtensionConsent``); a party missing is named (``missing_extension_consents``).
    Each extension and their total are capped by settings.
    """
    EXTENSION_DAYS.check(days)
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写延期原因。")]})
    consents = list(consents)
    given: list[GivenConsent] = []

    def consented(r: Referral) -> list[Missing]:
        # A consent naming no party of this referral, twice, or badly dated is bad input (400 at once);
        # the parties no consent names are then the missing elements.
        given[:] = _check_extension_consents(r, consents)
        return missing_extension_consents(r, consents)

    with step(referral, by=by, action="extend", missing=consented) as s:
        r = s.referral
        total = settings.FANGDIAO["EXTENSIONS_MAX_TOTAL_DAYS"]
        if r.extension_days + days > total:
            raise InvalidInput(
                {
                    "days": [
                        _("累计延长不得超过%(total)d天(已延长%(used)d天)。")
                        % {"total": total, "used": r.extension_days}
                    ]
                }
            )
        _refuse_beyond_petition_deadline(r, days, "days", _("延长调解期限%d天") % days)
        r.extend(days=days)
        # The timeline says who consented, when and how.
        who = "；".join(f"{c['name']} {c['consented_on']} {c['method_label']}" for c in given)
        s.note = reason + "\n" + _("当事人同意延期：%s") % who
        s.data = {"days": days, "total": r.extension_days, "consents": given}
        extension = Extension.objects.create(
            referral=r, days=days, reason=reason, parties_consented=True, round=r.round, by=by, at=s.now
        )
        ExtensionConsent.objects.bulk_create(
            ExtensionConsent(
                extension=extension,
                party_id=c["party"],
                consented_on=datetime.date.fromisoformat(c["consented_on"]),
                method=c["method"],
            )
            for c in given
        )
        tell(
            r,
            "origin",
            Notice.REFERRAL_UPDATED,
            _("%(number)s 调解期限延长%(days)d天") % {"number": r.number, "days": days},
            reason,
            by=by,
        )
    return r


def _refuse_beyond_petition_deadline(referral: Referral, more_days: int, field: str, what: str) -> None:
    """Refuse to lengthen mediation past the petition's own deadline (信访工作条例 Art. 34), naming both
    dates: the office must extend the petition clock first (``extend_petition``), which it may do once."""
    clash = beyond_petition_deadline(referral, more_days)
    if clash is None:
        return
    mediation, petition = clash
    message = _("%(what)s后调解期限将至%(mediation)s，超过信访办理期限%(petition)s。") % {
        "what": what,
        "mediation": mediation.isoformat(),
        "petition": petition.isoformat(),
    }
    if referral.petition_extension_days:
        message += _("信访办理期限已延长过一次，不能再延长，请在信访办理期限内结束调解。")
    else:
        message += _("如确需%s，请先由信访部门延长信访办理期限。") % what
    raise BeyondPetitionDeadline({field: [message]})


def extend_petition_referral(
    referral: Referral, *, by: User, days: int, reason: str, approved_by_name: str
) -> Referral:
    """Extend the petition's handling period (延长信访办理期限, 信访工作条例 Art. 34). Any open state, once.

    Who: a reviewer of the origin office, with the approval of the office's head (named here); at most
    ``CLOCK_PETITION_EXTENSION_MAX_DAYS`` (30) days. Moves ``petition_due_on``; the petitioner is told the
    reason by the printed notice (延期告知书). Tells the office and the current handler.
    """
    PETITION_EXTENSION_DAYS.check(days)
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写延期理由。")]})
    if not approved_by_name.strip():
        raise InvalidInput({"approved_by_name": [_("请填写批准延期的本机关负责人。")]})
    with step(referral, by=by, action="extend_petition") as s:
        r = s.referral
        if r.petition_extension_days:
            raise NotAvailable()  # once only (the action's rule says so too)
        previous = petition_due(r).date
        r.petition_extension_days = days
        due = petition_due(r)
        r.petition_due_on, r.petition_provisional = due.date, due.provisional
        PetitionExtension.objects.create(
            referral=r,
            days=days,
            reason=reason.strip(),
            approved_by_name=approved_by_name.strip(),
            previous_due_on=previous,
            due_on=due.date,
            by=by,
            at=s.now,
        )
        s.note = reason.strip()
        s.data = {
            "days": days,
            "previous_due_on": previous.isoformat(),
            "due_on": due.date.isoformat(),
            "approved_by": approved_by_name.strip(),
        }
        title = _("%(number)s 信访办理期限延长%(days)d天，至%(due)s") % {
            "number": r.number,
            "days": days,
            "due": due.date.isoformat(),
        }
        tell(r, "origin", Notice.REFERRAL_UPDATED, title, reason, by=by)
        tell(r, "target", Notice.REFERRAL_UPDATED, title, reason, by=by)
    return r


def suspend_referral(referral: Referral, *, by: User, reason: str) -> Referral:
    """Pause the mediation clock (中止), e.g. while waiting for an appraisal. From: mediating.

    Who: a mediator of the handling committee. The pause is kept as a ledger entry.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写中止原因。")]})
    with step(referral, by=by, action="suspend") as s:
        r = s.referral
        # A pause of a whole day or more moves the mediation deadline: refused when there is no day to spare.
        _refuse_beyond_petition_deadline(r, 1, "non_field_errors", _("中止调解"))
        r.suspend(at=s.now)
        s.note = reason
        Suspension.objects.create(referral=r, started_at=s.now, reason=reason, started_by=by)
        tell(r, "origin", Notice.REFERRAL_UPDATED, _("%s 调解中止") % r.number, reason, by=by)
    return r


def end_suspension(referral: Referral, *, by: User, at: datetime.datetime) -> None:
    """Close the open pause of the mediation clock, if any (resuming, or ending mediation while paused)."""
    Suspension.objects.filter(referral=referral, ended_at__isnull=True).update(ended_at=at, ended_by=by)


def resume_referral(referral: Referral, *, by: User, note: str = "") -> Referral:
    """Restart the mediation clock after a pause (恢复). From: mediating, suspended.

    The paused days are added to the mediation period.
    """
    with step(referral, by=by, action="resume") as s:
        r = s.referral
        end_suspension(r, by=by, at=s.now)
        r.resume()
        s.note = note
        tell(r, "origin", Notice.REFERRAL_UPDATED, _("%s 恢复调解") % r.number, note, by=by)
    return r


def close_referral(referral: Referral, *, by: User, note: str) -> Referral:
    """Review the outcome and close the petition (审核办结). From: succeeded, failed or declined.

    Who: a reviewer of the origin office. Needs the review note and the outcome's own elements
    (the mediation dossier's must-items are registered by the mediation app).
    """

    def noted(r: Referral) -> list[Missing]:
        return [] if note.strip() else [Missing("review_note", _("审核意见"))]

    with step(referral, by=by, action="close", missing=noted) as s:
        r = s.referral
        r.close(note=note, at=s.now)
        s.note = note
        tell(r, "origin", Notice.REFERRAL_CLOSED, _("%s 已审核办结") % r.number, note, by=by)
        if r.target_id:
            tell(r, "target", Notice.REFERRAL_CLOSED, _("%s 已审核办结") % r.number, note, by=by)
    return r


def reopen_referral(referral: Referral, *, by: User, reason: str) -> Referral:
    """Send a concluded or closed referral back for another round of mediation (重新调解).

    From: succeeded, failed or closed. Who: a reviewer of the origin office (e.g. after a
    dissatisfied follow-up). Starts a new mediation round and clock; tells the committee.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写重新调解的原因。")]})
    with step(referral, by=by, action="reopen") as s:
        r = s.referral
        r.reopen(at=s.now)
        s.note = reason
        s.data = {"round": r.round}
        tell(r, "target", Notice.REFERRAL_REOPENED, _("%s 需重新调解") % r.number, reason, by=by)
    return r


def failed_rounds_at_tier(referral: Referral) -> int:
    """Rounds that ended without agreement (终止调解) since the referral came to its current tier."""
    events = referral.events.filter(action="fail")
    if referral.escalated_at:
        events = events.filter(at__gte=referral.escalated_at)
    return events.count()


def may_escalate(referral: Referral) -> bool:
    """A failed or stalled mediation (升级调解): ``ESCALATE_AFTER_FAILED_ROUNDS`` rounds at this tier ended
    without agreement, or mediating ``ESCALATE_AFTER_OVERDUE_DAYS`` days past the deadline."""
    rules = settings.FANGDIAO
    if referral.state == State.FAILED:
        needed = rules["ESCALATE_AFTER_FAILED_ROUNDS"]
        # The round that just failed is one: counted from the history only when more are needed (the
        # rule is read for every row of a supervisor's list).
        return needed <= 1 or failed_rounds_at_tier(referral) >= needed
    if referral.state == State.MEDIATING and referral.due_on is not None:
        late = (timezone.localdate() - referral.due_on).days
        return late >= max(rules["ESCALATE_AFTER_OVERDUE_DAYS"], 1)
    return False


def escalate_referral(referral: Referral, *, by: User, target: Organisation, reason: str) -> Referral:
    """Take a dispute the township could not resolve up a tier (升级调解). From: failed, or mediating
    past its deadline (``may_escalate``); to: mediating, at the new tier.

    Who: a dispatcher or supervisor of the county (or city) justice bureau; to a mediation committee
    of a higher tier above the referral's place, in the user's area (``permissions.escalation_targets``).
    A new round with its own mediation clock; the township's record (its sessions, its outcome on the
    timeline, its turn in ``Handling``) is kept, and the township still sees the referral. The new
    committee names its mediators at its first session. Tells the new committee and the origin office.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写升级调解的原因。")]})
    with step(referral, by=by, action="escalate") as s:
        r = s.referral
        _require_target(
            permissions.escalation_targets(by, r), target, _("只能升级至本辖区内更高层级的人民调解委员会。")
        )
        previous, tier = _target(r), r.get_tier_display()
        end_suspension(r, by=by, at=s.now)
        r.escalate(target=target, at=s.now)
        r.mediators.clear()
        s.note = reason
        s.data = {
            "from": previous.pk,
            "from_name": previous.name,
            "from_tier": str(tier),
            "target": target.pk,
            "target_name": target.name,
            "tier": r.tier,
            "round": r.round,
        }
        # The township's turn ended at its acceptance; the new committee's begins already accepted.
        Handling.objects.create(
            referral=r, organisation=target, started_at=s.now, ended_at=s.now, result=Handling.Result.ESCALATED
        )
        title = _("%(number)s 升级至 %(target)s 调解") % {"number": r.number, "target": target.name}
        tell(r, "target", Notice.REFERRAL_ESCALATED, title, reason, by=by)
        tell(r, "origin", Notice.REFERRAL_ESCALATED, title, reason, by=by)
    return r
