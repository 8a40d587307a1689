"""Mediation steps: sessions, conclusion (agreement or termination), performance and judicial
confirmation, follow-up visits, supervision orders and attachments.

Each function is one step (``referrals/steps.py``: lock, permission, elements, deadline, save,
timeline, live push); concluding drives the referral's ``succeed``/``fail`` transitions, the records
leave its state as it is.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.uploads import UploadRejected, sniff
from mediation.documents import agreement_number_fields
from mediation.dossier import REQUESTABLE
from mediation.dossier import label as item_label
from mediation.models import (
    Agreement,
    Attachment,
    CorrectionRequest,
    DossierItem,
    FollowUp,
    MediationSession,
    SupervisionOrder,
    Termination,
)
from mediation.notices import Notice
from mediation.routes import routes_for
from notifications.service import notify
from referrals import permissions
from referrals.deadlines import RULES, correction_due
from referrals.errors import InvalidInput, Missing, NotAvailable
from referrals.models import CONCLUDED_STATES, Lawyer, LegalRoute, Referral, TerminationReason
from referrals.notices import Notice as ReferralNotice
from referrals.steps import party_step, referral_url, step, tell
from referrals.workflow import end_suspension
from townships.models import Mediator


def _not_future(value: datetime.date | None, field: str) -> None:
    if value and value > timezone.localdate():
        raise InvalidInput({field: [_("日期不能晚于今天。")]})


def _current_sessions(referral: Referral):
    return MediationSession.objects.filter(referral=referral, round=referral.round)


# --- Sessions --------------------------------------------------------------------------------


NOT_ON_ROSTER = gettext_lazy("所选调解员中有不属于本调委会在册调解员的，请重新选择。")
NOT_ON_LAWYER_ROSTER = gettext_lazy("所选律师中有不在移交信访部门在册律师名册中的，请重新选择。")


def _check_session_mediators(referral: Referral, mediators: list[Mediator]) -> None:
    # Named by nobody: the roster of another committee is not the recorder's to read.
    if any(m.committee_id != referral.target_id for m in mediators):
        raise InvalidInput({"mediators": [str(NOT_ON_ROSTER)]})


def _check_session_lawyers(referral: Referral, lawyers: list[Lawyer]) -> None:
    """Lawyers on the roster of the petition office that referred the case, still on it."""
    # Named by nobody, and the same for an unknown id (the serializer's message): another office's
    # roster is not the recorder's to read.
    if any(x.office_id != referral.origin_id or not x.active for x in lawyers):
        raise InvalidInput({"lawyers": [str(NOT_ON_LAWYER_ROSTER)]})


def _check_held_on(referral: Referral, held_on: datetime.date) -> None:
    if referral.mediation_started_at and held_on < timezone.localtime(referral.mediation_started_at).date():
        raise InvalidInput({"held_on": [_("调解日期不能早于本轮调解开始日期。")]})


def record_session(
    referral: Referral,
    *,
    by,
    held_on: datetime.date,
    location: str,
    participants: str,
    record: str,
    mediators: list[Mediator] | None = None,
    lawyers: list[Lawyer] | None = None,
) -> MediationSession:
    """Add a mediation record (人民调解记录). While mediating; by a mediator of the handling committee."""
    _not_future(held_on, "held_on")
    with step(referral, by=by, action="record_session") as s:
        r = s.referral
        _check_held_on(r, held_on)
        people = mediators or ([r.lead_mediator] if r.lead_mediator_id else [])
        _check_session_mediators(r, people)
        _check_session_lawyers(r, lawyers or [])
        if r.lead_mediator_id is None:
            # A round escalated to a higher tier (升级调解) is the new committee's: its first session
            # names who mediates, the first of them leading.
            if not people:
                raise InvalidInput({"mediators": [_("本案已升级调解，请选择本调委会主持调解的调解员。")]})
            r.lead_mediator = people[0]
            r.mediators.add(*people)
        session = MediationSession.objects.create(
            referral=r,
            round=r.round,
            held_on=held_on,
            location=location,
            participants=participants,
            record=record,
            created_by=by,
        )
        session.mediators.set(people)
        session.lawyers.set(lawyers or [])
        s.note = _("%(date)s 于%(place)s调解") % {"date": held_on.isoformat(), "place": location}
        s.data = {"session": session.pk}
    return session


def update_session(
    session: MediationSession,
    *,
    by,
    held_on: datetime.date,
    location: str,
    participants: str,
    record: str,
    mediators: list[Mediator] | None = None,
    lawyers: list[Lawyer] | None = None,
) -> MediationSession:
    """Correct a record of the current round. While mediating; by the handling committee.

    Records of an earlier round are history and stay as they were written.
    """
    _not_future(held_on, "held_on")
    with step(session.referral, by=by, action="update_session") as s:
        r = s.referral
        if session.referral_id != r.pk or session.round != r.round:
            raise InvalidInput({"session": [_("只能修改本轮调解的记录。")]})
        _check_held_on(r, held_on)
        if mediators is not None:
            _check_session_mediators(r, mediators)
        if lawyers is not None:
            _check_session_lawyers(r, lawyers)
        session.held_on, session.location, session.participants, session.record = (
            held_on,
            location,
            participants,
            record,
        )
        session.save(update_fields=["held_on", "location", "participants", "record", "updated_at"])
        if mediators is not None:
            session.mediators.set(mediators)
        if lawyers is not None:
            session.lawyers.set(lawyers)
        s.note = _("修改 %s 的调解记录") % held_on.isoformat()
        s.data = {"session": session.pk}
    return session


# --- Conclusion ------------------------------------------------------------------------------


@dataclass
class AgreementInput:
    form: str
    terms: str
    performance_method: str
    performance_due: datetime.date | None
    amount: Decimal | None = None
    performance_place: str = ""
    signed_on: datetime.date | None = None


def missing_for_agreement(referral: Referral, agreement: AgreementInput) -> list[Missing]:
    """人民调解法 Art. 29: the agreement's own elements (the session record is ``missing_session``,
    registered for the action, so the referral page lists it before the form is filled in)."""
    missing: list[Missing] = []
    if agreement.form not in Agreement.Form.values:
        missing.append(Missing("agreement_form", _("协议形式(书面或口头)")))
    if not agreement.terms.strip():
        missing.append(Missing("agreement_terms", _("协议内容(各方的权利义务)")))
    if not agreement.performance_method.strip():
        missing.append(Missing("performance_method", _("履行方式")))
    if agreement.performance_due is None:
        missing.append(Missing("performance_due", _("履行期限")))
    if agreement.form == Agreement.Form.WRITTEN and agreement.signed_on is None:
        missing.append(Missing("signed_on", _("书面协议的签订日期(各方当事人、调解员签名并加盖调委会印章)")))
    return missing


def succeed_referral(referral: Referral, *, by, agreement: AgreementInput, note: str = "", scan=None) -> Referral:
    """Mediation succeeded (调解成功). From: mediating. Who: a mediator of the handling committee.

    Needs a session record of this round and a complete agreement. A written agreement takes
    effect on signature, an oral one when recorded; the judicial-confirmation window starts then.
    ``scan``, the signed and sealed agreement (an upload or a list of them, the pages; optional),
    goes into the dossier with it.
    """
    _not_future(agreement.signed_on, "signed_on")
    if agreement.amount is not None and agreement.amount < 0:
        raise InvalidInput({"amount": [_("金额不能为负数。")]})
    scans = _as_list(scan)
    signed = _read_uploads(scans, "scan")
    with step(referral, by=by, action="succeed", missing=lambda r: missing_for_agreement(r, agreement)) as s:
        r = s.referral
        if agreement.signed_on and agreement.signed_on < timezone.localtime(r.mediation_started_at).date():
            raise InvalidInput({"signed_on": [_("签订日期不能早于本轮调解开始日期。")]})
        written = agreement.form == Agreement.Form.WRITTEN
        effective = agreement.signed_on if written else timezone.localtime(s.now).date()
        if agreement.performance_due < effective:
            raise InvalidInput({"performance_due": [_("履行期限不能早于协议生效日期(%s)。") % effective.isoformat()]})
        r.succeed(at=s.now)
        created = Agreement.objects.create(
            referral=r,
            region_code=r.region_code,
            round=r.round,
            form=agreement.form,
            terms=agreement.terms.strip(),
            amount=agreement.amount,
            performance_method=agreement.performance_method.strip(),
            performance_place=agreement.performance_place,
            performance_due=agreement.performance_due,
            signed_on=agreement.signed_on,
            effective_on=effective,
            created_by=by,
            # 文号: from the committee's yearly counter, in this step's transaction, once.
            **agreement_number_fields(r.target, agreement.form, effective),
        )
        s.note = note
        s.data = {
            "agreement": created.pk,
            "form": agreement.form,
            "amount": str(agreement.amount) if agreement.amount is not None else None,
        }
        if created.number:
            s.data["number"] = created.number
        stored = [
            _store_attachment(r, by=by, kind=DossierItem.AGREEMENT, upload=upload, read=read)
            for upload, read in zip(scans, signed, strict=True)
        ]
        if stored:
            s.data["scan"] = stored[0].pk
            if len(stored) > 1:
                s.data["scans"] = [a.pk for a in stored]
        tell(
            r,
            "origin",
            ReferralNotice.REFERRAL_CONCLUDED,
            _("%s 调解成功，达成协议") % r.number,
            agreement.terms[:120],
            by=by,
        )
    return r


def missing_for_termination(referral: Referral, reason: str, routes: list[str], no_session_note: str) -> list[Missing]:
    missing: list[Missing] = []
    if not reason:
        missing.append(Missing("termination_reason", _("终止调解的原因")))
    if not routes:
        missing.append(Missing("routes_explained", _("已告知当事人可通过诉讼、仲裁、行政等途径维护权益")))
    if not _current_sessions(referral).exists() and not no_session_note.strip():
        missing.append(Missing("session_or_note", _("调解记录，或未开展调解的原因说明")))
    return missing


def fail_referral(
    referral: Referral,
    *,
    by,
    reason: str,
    note: str = "",
    routes_explained: list[str] | None = None,
    no_session_note: str = "",
) -> Referral:
    """Mediation ended without agreement (终止调解). From: mediating. Who: the handling committee.

    Needs a reason code, the legal routes explained to the parties, and a session record or a
    note why none was held. A pause still open (中止) ends with it.
    """
    routes = list(dict.fromkeys(routes_explained or []))
    if reason and reason not in TerminationReason.values:
        raise InvalidInput({"reason": [_("未知的终止原因：%s") % reason]})
    unknown = [r for r in routes if r not in LegalRoute.values]
    if unknown:
        raise InvalidInput({"routes_explained": [_("未知的救济途径：%s") % "、".join(unknown)]})
    closed = [r for r in routes if r not in routes_for(referral.category)]
    if closed:
        raise InvalidInput(
            {
                "routes_explained": [
                    _("%(routes)s不适用于%(category)s纠纷，请只勾选当事人确可采用的途径。")
                    % {
                        "routes": "、".join(str(LegalRoute(r).label) for r in closed),
                        "category": referral.get_category_display(),
                    }
                ]
            }
        )
    if reason == TerminationReason.OTHER and not note.strip():
        raise InvalidInput({"note": [_("终止原因为“其他”时须填写说明。")]})
    with step(
        referral, by=by, action="fail", missing=lambda r: missing_for_termination(r, reason, routes, no_session_note)
    ) as s:
        r = s.referral
        if r.is_suspended:
            end_suspension(r, by=by, at=s.now)
        r.fail(at=s.now)
        Termination.objects.create(
            referral=r,
            round=r.round,
            reason=reason,
            note=note,
            routes_explained=routes,
            no_session_note=no_session_note,
            created_by=by,
        )
        label = str(TerminationReason(reason).label)
        s.note = note
        s.data = {"reason": reason, "reason_label": label, "routes": routes}
        tell(r, "origin", ReferralNotice.REFERRAL_CONCLUDED, _("%s 终止调解，未达成协议") % r.number, label, by=by)
    return r


# --- After the agreement ---------------------------------------------------------------------


def current_agreement(referral: Referral) -> Agreement | None:
    return Agreement.objects.filter(referral=referral).order_by("-round").first()


def record_agreement_progress(
    referral: Referral,
    *,
    by,
    performance: str | None = None,
    performance_recorded_on: datetime.date | None = None,
    confirmation_applied_on: datetime.date | None = None,
    confirmation_court: str = "",
    confirmation_result: str = "",
    confirmation_ruling_on: datetime.date | None = None,
) -> Agreement:
    """Record performance of the agreement and its judicial confirmation (司法确认).

    After success (also once closed); by the handling committee. An application for confirmation
    must fall within 30 days of the agreement taking effect (人民调解法 Art. 33).
    """
    for field, value in (
        ("performance_recorded_on", performance_recorded_on),
        ("confirmation_applied_on", confirmation_applied_on),
        ("confirmation_ruling_on", confirmation_ruling_on),
    ):
        _not_future(value, field)
    if performance and performance not in Agreement.Performance.values:
        raise InvalidInput({"performance": [_("未知的履行情况：%s") % performance]})
    if confirmation_result and confirmation_result not in Agreement.ConfirmationResult.values:
        raise InvalidInput({"confirmation_result": [_("未知的司法确认结果：%s") % confirmation_result]})
    with step(referral, by=by, action="record_agreement_progress") as s:
        agreement = current_agreement(s.referral)
        if agreement is None:
            raise InvalidInput({"agreement": [_("本案没有调解协议。")]})
        fields = []
        if performance:
            if performance_recorded_on and performance_recorded_on < agreement.effective_on:
                raise InvalidInput({"performance_recorded_on": [_("履行情况日期不能早于协议生效日期。")]})
            agreement.performance = performance
            agreement.performance_recorded_on = performance_recorded_on or timezone.localdate()
            fields += ["performance", "performance_recorded_on"]
        if confirmation_applied_on:
            if not agreement.confirmable:
                raise InvalidInput(
                    {
                        "confirmation_applied_on": [
                            _("口头调解协议不能申请司法确认：人民调解法第三十三条要求书面调解协议。")
                        ]
                    }
                )
            if confirmation_applied_on < agreement.effective_on:
                raise InvalidInput({"confirmation_applied_on": [_("申请日期不能早于协议生效日期。")]})
            if confirmation_applied_on > agreement.confirmation_deadline:
                raise InvalidInput(
                    {
                        "confirmation_applied_on": [
                            _("已超过司法确认申请期限(%s)。") % agreement.confirmation_deadline.isoformat()
                        ]
                    }
                )
            if not confirmation_court.strip():
                raise InvalidInput({"confirmation_court": [_("请填写受理法院。")]})
            agreement.confirmation_applied_on = confirmation_applied_on
            agreement.confirmation_court = confirmation_court.strip()
            agreement.confirmation_result = confirmation_result or Agreement.ConfirmationResult.PENDING
            fields += ["confirmation_applied_on", "confirmation_court", "confirmation_result"]
        elif confirmation_result or confirmation_ruling_on:
            if agreement.confirmation_applied_on is None:
                raise InvalidInput({"confirmation_applied_on": [_("请先登记申请司法确认的日期。")]})
            if confirmation_result:
                agreement.confirmation_result = confirmation_result
                fields.append("confirmation_result")
        if confirmation_ruling_on:
            if confirmation_ruling_on < (agreement.confirmation_applied_on or agreement.effective_on):
                raise InvalidInput({"confirmation_ruling_on": [_("裁定日期不能早于申请日期。")]})
            agreement.confirmation_ruling_on = confirmation_ruling_on
            fields.append("confirmation_ruling_on")
        if not fields:
            raise InvalidInput({"performance": [_("请至少填写一项履行或司法确认情况。")]})
        agreement.save(update_fields=fields)
        s.data = {k: str(getattr(agreement, k)) for k in fields}
    return agreement


def _tell_dissatisfied(referral: Referral, title: str, note: str, *, by=None) -> None:
    """A dissatisfied party, from a visit or their own rating, is brought to the petition office's
    reviewers: they may reopen the case in one step."""
    tell(referral, "origin_reviewers", Notice.FOLLOWUP_DISSATISFIED, title, note[:120], by=by)


def add_followup(
    referral: Referral,
    *,
    by,
    visited_on: datetime.date,
    method: str,
    satisfaction: str,
    performance: str = "",
    note: str = "",
) -> FollowUp:
    """Record a follow-up visit (回访). After conclusion; by the committee or the petition office.

    A dissatisfied party is brought to the petition office's reviewers, who may reopen in one step.
    The first visit after the round's conclusion satisfies its follow-up clock (``followed_up_on``).
    """
    _not_future(visited_on, "visited_on")
    with step(referral, by=by, action="add_followup") as s:
        r = s.referral
        if r.concluded_at and visited_on < timezone.localtime(r.concluded_at).date():
            raise InvalidInput({"visited_on": [_("回访日期不能早于调解结束日期。")]})
        org_id = r.target_id if permissions.Actor.of(by, r).target_handler else r.origin_id
        followup = FollowUp.objects.create(
            referral=r,
            region_code=r.region_code,
            visited_on=visited_on,
            method=method,
            satisfaction=satisfaction,
            performance=performance,
            note=note,
            by=by,
            organisation_id=org_id,
        )
        # The round's first visit satisfies the follow-up clock (referrals/deadlines.py).
        if r.followup_due_on is not None and (r.followed_up_on is None or visited_on < r.followed_up_on):
            r.followed_up_on = visited_on
        if performance:
            Agreement.objects.filter(referral=r, round=r.round).update(
                performance=performance, performance_recorded_on=visited_on
            )
        if satisfaction == FollowUp.Satisfaction.DISSATISFIED:
            _tell_dissatisfied(r, _("%s 回访不满意，可重新调解") % r.number, note, by=by)
        s.note = note
        s.data = {"satisfaction": satisfaction, "method": method}
    return followup


def rate_by_party(party, *, satisfaction: str, note: str = "") -> FollowUp:
    """The party's own 满意度评价 through their personal link, after the round concluded.

    A follow-up of source ``party`` (no staff member): it counts in 满意率 like any latest follow-up,
    and a 不满意 reaches the petition office's reviewers exactly as a dissatisfied visit does. It does
    not stand for the committee's own 回访 (the follow-up clock runs on). Once per party and round.
    """
    if satisfaction not in FollowUp.Satisfaction.values:
        raise InvalidInput({"satisfaction": [_("请选择满意、基本满意或不满意。")]})
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput({"note": [_("意见不超过500字。")]})
    with party_step(party, action="party_rating") as s:
        r = s.referral
        if r.concluded_at is None:
            raise NotAvailable(_("调解结束后才能评价。"))
        concluded_on = timezone.localtime(r.concluded_at).date()
        if FollowUp.objects.filter(
            referral=r, party=party, source=FollowUp.Source.PARTY, visited_on__gte=concluded_on
        ).exists():
            raise NotAvailable(_("您已评价过本次调解，谢谢。"))
        followup = FollowUp.objects.create(
            referral=r,
            region_code=r.region_code,
            visited_on=timezone.localdate(),
            method=FollowUp.Method.SMS,
            satisfaction=satisfaction,
            note=note,
            source=FollowUp.Source.PARTY,
            party=party,
            organisation_id=r.target_id,
        )
        if satisfaction == FollowUp.Satisfaction.DISSATISFIED:
            _tell_dissatisfied(r, _("%s 当事人在线评价不满意，可重新调解") % r.number, note)
        s.note = note
        s.data = {"satisfaction": satisfaction}
    return followup


# --- Supervision -----------------------------------------------------------------------------


def issue_supervision(
    referral: Referral, *, by, note: str, respond_by: datetime.date, kind: str = SupervisionOrder.Kind.WRITTEN_NOTICE
) -> SupervisionOrder:
    """Issue a supervision order (督办) to whoever holds the referral now.

    Open referrals past draft; by a supervisor whose region covers the referral.
    """
    if respond_by < timezone.localdate():
        raise InvalidInput({"respond_by": [_("回复期限不能早于今天。")]})
    if kind not in SupervisionOrder.Kind.values:
        raise InvalidInput({"kind": [_("未知的督办方式：%s") % kind]})
    with step(referral, by=by, action="issue_supervision") as s:
        r = s.referral
        rule = RULES.get(r.state)
        responsible = rule.responsible if rule else "origin"
        addressed = r.target if responsible == "target" else r.origin
        order = SupervisionOrder.objects.create(
            referral=r, kind=kind, note=note, respond_by=respond_by, issued_by=by, addressed_to=addressed
        )
        tell(
            r,
            responsible,
            Notice.SUPERVISION_ORDER,
            _("%(number)s 督办：请于%(date)s前回复") % {"number": r.number, "date": respond_by.isoformat()},
            note[:120],
            by=by,
        )
        s.note = note
        s.data = {"order": order.pk, "kind": kind, "respond_by": respond_by.isoformat(), "addressed_to": addressed.name}
    return order


def respond_supervision(order: SupervisionOrder, *, by, response: str) -> SupervisionOrder:
    """Answer a supervision order (回复督办). By the organisation it is addressed to
    (``mediation.rules.may_answer``)."""
    if not response.strip():
        raise InvalidInput({"response": [_("请填写办理情况。")]})
    with step(order.referral, by=by, action="respond_supervision") as s:
        fresh = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        if fresh.answered:
            raise InvalidInput({"response": [_("该督办已回复。")]})
        if not may_answer(by, fresh):
            raise permissions.Forbidden(_("该督办不是发给您单位的。"))
        fresh.response, fresh.responded_by, fresh.responded_at = response.strip(), by, s.now
        fresh.save(update_fields=["response", "responded_by", "responded_at"])
        notify(
            [fresh.issued_by_id],
            kind=Notice.SUPERVISION_RESPONSE,
            title=_("%s 督办已回复") % s.referral.number,
            body=response[:120],
            url=referral_url(s.referral),
            referral_id=s.referral.pk,
            exclude=[by.pk],
        )
        s.note = response
        s.data = {"order": fresh.pk}
    return fresh


def may_answer(user, order: SupervisionOrder) -> bool:
    """A supervision order is answered by a member of the organisation it was addressed to, which may
    have routed the case on since (the action's rule only says the user has to do with the case)."""
    return order.addressed_to_id in permissions.grants_of(user).orgs("view_org_referrals")


# --- Attachments -----------------------------------------------------------------------------


def _read_uploads(uploads, field: str = "file") -> list[tuple[bytes, str]]:
    """Each upload's bytes and type, judged by content, not by name (``lib/uploads.py``), all
    before anything is stored: one refused file refuses them all, every refused one named (by its
    file name when there are several)."""
    read, errors = [], []
    for upload in uploads:
        try:
            read.append(sniff(upload))
        except UploadRejected as exc:
            errors.append(f"{upload.name}：{exc.message}" if len(uploads) > 1 else exc.message)
    if errors:
        raise InvalidInput({field: errors})
    return read


def _as_list(upload_or_uploads) -> list:
    if upload_or_uploads is None:
        return []
    return list(upload_or_uploads) if isinstance(upload_or_uploads, (list, tuple)) else [upload_or_uploads]


def _store_attachment(referral: Referral, *, by, kind: str, upload, read: tuple[bytes, str]) -> Attachment:
    """One paper of the dossier, inside the caller's step. The file is written before the row commits;
    if the step is refused the file stays behind, unreferenced and named by its hash, which costs
    disk space but never exposes anything."""
    content, content_type = read
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        referral=referral,
        kind=kind,
        original_name=(upload.name or "file")[-200:],
        content_type=content_type,
        size=len(content),
        sha256=digest,
        uploaded_by=by,
    )
    attachment.file.save(digest, ContentFile(content), save=False)
    attachment.save()
    return attachment


def add_attachment(referral: Referral, *, by, kind: str, upload=None, uploads=None) -> Attachment:
    """Store a scanned document of the dossier. Type and size are checked by content, not by name.

    ``upload``, one file; or ``uploads``, several of the same kind (the pages of a scan, photos),
    each checked alike and stored in one step: all of them, or none (the first is returned).
    Who: the origin office (officers and reviewers) or the handling committee; not once closed. A
    paper the reviewer asked for (退回补正) counts as received; with the last one the request is
    answered and the office's reviewers are told.
    """
    if kind not in DossierItem.values:
        raise InvalidInput({"kind": [_("未知的材料类别：%s") % kind]})
    files = _as_list(upload) + _as_list(uploads)
    if not files:
        raise InvalidInput({"file": [_("请选择要上传的文件。")]})
    read = _read_uploads(files)
    with step(referral, by=by, action="add_attachment") as s:
        stored = [
            _store_attachment(s.referral, by=by, kind=kind, upload=f, read=r) for f, r in zip(files, read, strict=True)
        ]
        attachment = stored[0]
        s.note = "\n".join(a.original_name for a in stored)
        s.data = {"attachment": attachment.pk, "kind": kind, "sha256": attachment.sha256}
        if len(stored) > 1:
            s.data["attachments"] = [a.pk for a in stored]
        request = _receive_correction(s.referral, kind, by=by, at=s.now)
        if request is not None:
            s.note += "\n" + _("补正：%s") % item_label(kind)
            s.data |= {"correction": request.pk, "answered": request.answered}
    return attachment


# --- Corrections (退回补正) ------------------------------------------------------------------


def request_correction(referral: Referral, *, by, items: list[str], note: str = "") -> CorrectionRequest:
    """Send a concluded referral's dossier back to the committee for papers it lacks (退回补正).

    From: succeeded or failed; the referral keeps its state and the review clock keeps running. Who:
    a reviewer of the origin office. Needs at least one dossier paper (``REQUESTABLE``); one request
    at a time per round. The committee has ``CLOCK_CORRECTION_WORKING_DAYS`` (3) working days
    (``deadlines.correction_due``) and is told; each upload of a paper asked for answers it item by
    item (``add_attachment``).
    """
    items = list(dict.fromkeys(items))
    if not items:
        raise InvalidInput({"items": [_("请选择需要补正的卷宗材料。")]})
    unknown = [i for i in items if i not in REQUESTABLE]
    if unknown:
        raise InvalidInput({"items": [_("不能要求补正的材料：%s") % "、".join(unknown)]})
    note = note.strip()
    with step(referral, by=by, action="request_correction") as s:
        r = s.referral
        earlier = _open_correction(r)
        if earlier is not None:
            raise NotAvailable(
                _("本案已有一次退回补正尚未补齐（期限%s），请待补齐后再提出，或自行上传材料。")
                % earlier.due_on.isoformat()
            )
        due = correction_due(timezone.localtime(s.now).date())
        request = CorrectionRequest.objects.create(
            referral=r,
            round=r.round,
            items=items,
            note=note,
            requested_by=by,
            requested_at=s.now,
            due_on=due.date,
            due_provisional=due.provisional,
        )
        labels = "、".join(item_label(i) for i in items)
        s.note = _("待补正：%s") % labels + (f"\n{note}" if note else "")
        s.data = {"correction": request.pk, "items": items, "due_on": due.date.isoformat()}
        tell(
            r,
            "target",
            Notice.CORRECTION_REQUESTED,
            _("%(number)s 退回补正：请于%(date)s前补充卷宗材料") % {"number": r.number, "date": due.date.isoformat()},
            labels + (f"。{note}" if note else ""),
            by=by,
        )
    return request


def _open_correction(referral: Referral) -> CorrectionRequest | None:
    """The referral's unanswered request of this round, locked (inside a step), while it awaits review."""
    if referral.state not in CONCLUDED_STATES:
        return None
    return (
        CorrectionRequest.objects.select_for_update()
        .filter(referral=referral, round=referral.round, answered_at__isnull=True)
        .order_by("requested_at")
        .first()
    )


def _receive_correction(referral: Referral, kind: str, *, by, at) -> CorrectionRequest | None:
    """An upload of a paper the open request is waiting for: received; the last one answers it."""
    request = _open_correction(referral)
    if request is None or kind not in request.outstanding:
        return None
    request.received = [*request.received, kind]
    fields = ["received"]
    if not request.outstanding:
        request.answered_at = at
        fields.append("answered_at")
        tell(
            referral,
            "origin_reviewers",
            Notice.CORRECTION_ANSWERED,
            _("%s 已补正卷宗材料，可审核办结") % referral.number,
            "、".join(request.labels()),
            by=by,
        )
    request.save(update_fields=fields)
    return request


def missing_session(referral: Referral) -> list[Missing]:
    """Concluding with an agreement needs a record of this round's mediation (人民调解记录)."""
    if _current_sessions(referral).exists():
        return []
    return [Missing("session", _("至少一份调解记录(人民调解记录)"))]


def agreement_no_longer_current(referral: Referral) -> None:
    """After a reopening the earlier round's agreement is history (the step keeps the totals)."""
    Agreement.objects.filter(referral=referral, current=True).update(current=False)
