"""Mediation steps: sessions, conclusion (agreement or termination), performance and judicial
confirmation, follow-up visits, supervision orders and attachments.

Concluding drives the referral's ``succeed``/``fail`` transitions through ``referrals.workflow.perform``
(lock, permission, elements, timeline, deadline, notifications); records that do not change the
state go through ``perform_record``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.dossier import missing_for_close
from mediation.files import UploadRejected, sniff
from mediation.models import (
    Agreement,
    Attachment,
    DossierItem,
    FollowUp,
    MediationSession,
    SupervisionOrder,
    Termination,
)
from notifications.models import Kind as NotificationKind
from notifications.service import notify
from referrals import permissions, rollup
from referrals.deadlines import RULES
from referrals.errors import InvalidInput, Missing
from referrals.models import LegalRoute, Referral, TerminationReason
from referrals.workflow import (
    Step,
    perform,
    perform_record,
    referral_url,
    register_after_step,
    register_element_check,
    tell,
)
from townships.models import Mediator


def _not_future(value: datetime.date | None, field: str) -> None:
    if value and value > timezone.localdate():
        raise InvalidInput({field: [_("日期不能晚于今天。")]})


def _current_sessions(referral: Referral):
    return MediationSession.objects.filter(referral=referral, round=referral.round)


# --- Sessions --------------------------------------------------------------------------------


def _check_session_mediators(referral: Referral, mediators: list[Mediator]) -> None:
    foreign = [m.name for m in mediators if m.committee_id != referral.target_id]
    if foreign:
        raise InvalidInput({"mediators": [_("%s不是本调委会的调解员。") % "、".join(foreign)]})


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
) -> MediationSession:
    """Add a mediation record (人民调解记录). While mediating; by a mediator of the handling committee."""
    _not_future(held_on, "held_on")
    created: list[MediationSession] = []

    def write(r: Referral, now: datetime.datetime) -> Step:
        _check_held_on(r, held_on)
        people = mediators or ([r.lead_mediator] if r.lead_mediator_id else [])
        _check_session_mediators(r, people)
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
        created.append(session)
        return Step(
            note=_("%(date)s 于%(place)s调解") % {"date": held_on.isoformat(), "place": location},
            data={"session": session.pk},
        )

    perform_record(referral, by=by, action="record_session", event="session", write=write)
    return created[0]


def update_session(
    session: MediationSession,
    *,
    by,
    held_on: datetime.date,
    location: str,
    participants: str,
    record: str,
    mediators: list[Mediator] | None = None,
) -> MediationSession:
    """Correct a record of the current round. While mediating; by the handling committee.

    Records of an earlier round are history and stay as they were written.
    """
    _not_future(held_on, "held_on")

    def write(r: Referral, now: datetime.datetime) -> Step:
        if session.referral_id != r.pk or session.round != r.round:
            raise InvalidInput({"session": [_("只能修改本轮调解的记录。")]})
        _check_held_on(r, held_on)
        if mediators is not None:
            _check_session_mediators(r, mediators)
        session.held_on, session.location, session.participants, session.record = (
            held_on,
            location,
            participants,
            record,
        )
        session.save(update_fields=["held_on", "location", "participants", "record", "updated_at"])
        if mediators is not None:
            session.mediators.set(mediators)
        return Step(note=_("修改 %s 的调解记录") % held_on.isoformat(), data={"session": session.pk})

    perform_record(session.referral_id, by=by, action="record_session", event="session_edit", write=write)
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
    """人民调解法 Art. 29 and DOMAIN.md §5 "Conclude with agreement": the agreement's own elements
    (the session record is ``missing_session``, checked before the form is even filled in)."""
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


def conclude_with_agreement(referral: Referral, *, by, agreement: AgreementInput, note: str = "") -> Referral:
    """Mediation succeeded (调解成功). From: mediating. Who: a mediator of the handling committee.

    Needs a session record of this round and a complete agreement. A written agreement takes
    effect on signature, an oral one when recorded; the judicial-confirmation window starts then.
    """
    _not_future(agreement.signed_on, "signed_on")
    if agreement.amount is not None and agreement.amount < 0:
        raise InvalidInput({"amount": [_("金额不能为负数。")]})

    def change(r: Referral, now: datetime.datetime) -> Step:
        if agreement.signed_on and agreement.signed_on < timezone.localtime(r.mediation_started_at).date():
            raise InvalidInput({"signed_on": [_("签订日期不能早于本轮调解开始日期。")]})
        effective = agreement.signed_on if agreement.form == Agreement.Form.WRITTEN else timezone.localtime(now).date()
        if agreement.performance_due < effective:
            raise InvalidInput({"performance_due": [_("履行期限不能早于协议生效日期(%s)。") % effective.isoformat()]})
        r.succeed(at=now)
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
        )
        return Step(
            note=note,
            data={
                "agreement": created.pk,
                "form": agreement.form,
                "amount": str(agreement.amount) if agreement.amount is not None else None,
            },
        )

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_CONCLUDED,
            _("%s 调解成功，达成协议") % r.number,
            agreement.terms[:120],
            by=by,
        )

    return perform(
        referral,
        by=by,
        action="succeed",
        change=change,
        check=lambda r: missing_for_agreement(r, agreement),
        after=after,
    )


def missing_for_termination(referral: Referral, reason: str, routes: list[str], no_session_note: str) -> list[Missing]:
    missing: list[Missing] = []
    if not reason:
        missing.append(Missing("termination_reason", _("终止调解的原因")))
    if not routes:
        missing.append(Missing("routes_explained", _("已告知当事人可通过诉讼、仲裁、行政等途径维护权益")))
    if not _current_sessions(referral).exists() and not no_session_note.strip():
        missing.append(Missing("session_or_note", _("调解记录，或未开展调解的原因说明")))
    return missing


def terminate_mediation(
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
    note why none was held.
    """
    routes = list(dict.fromkeys(routes_explained or []))
    if reason and reason not in TerminationReason.values:
        raise InvalidInput({"reason": [_("未知的终止原因：%s") % reason]})
    unknown = [r for r in routes if r not in LegalRoute.values]
    if unknown:
        raise InvalidInput({"routes_explained": [_("未知的救济途径：%s") % "、".join(unknown)]})
    if reason == TerminationReason.OTHER and not note.strip():
        raise InvalidInput({"note": [_("终止原因为“其他”时须填写说明。")]})

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.fail(at=now)
        Termination.objects.create(
            referral=r,
            round=r.round,
            reason=reason,
            note=note,
            routes_explained=routes,
            no_session_note=no_session_note,
            created_by=by,
        )
        return Step(
            note=note, data={"reason": reason, "reason_label": str(TerminationReason(reason).label), "routes": routes}
        )

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_CONCLUDED,
            _("%s 终止调解，未达成协议") % r.number,
            step.data["reason_label"],
            by=by,
        )

    return perform(
        referral,
        by=by,
        action="fail",
        change=change,
        check=lambda r: missing_for_termination(r, reason, routes, no_session_note),
        after=after,
    )


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
    result: list[Agreement] = []

    def write(r: Referral, now: datetime.datetime) -> Step:
        agreement = current_agreement(r)
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
        result.append(agreement)
        return Step(data={k: str(getattr(agreement, k)) for k in fields})

    perform_record(
        referral, by=by, action="record_agreement_progress", event="agreement_progress", write=_tracked(write)
    )
    return result[0]


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
    """
    _not_future(visited_on, "visited_on")
    created: list[FollowUp] = []

    def write(r: Referral, now: datetime.datetime) -> Step:
        if r.concluded_at and visited_on < timezone.localtime(r.concluded_at).date():
            raise InvalidInput({"visited_on": [_("回访日期不能早于调解结束日期。")]})
        actor = permissions.Actor.of(by, r)
        org_id = r.target_id if actor.target_handler else r.origin_id
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
        if performance:
            Agreement.objects.filter(referral=r, round=r.round).update(
                performance=performance, performance_recorded_on=visited_on
            )
        if satisfaction == FollowUp.Satisfaction.DISSATISFIED:
            tell(
                r,
                "origin_reviewers",
                NotificationKind.FOLLOWUP_DISSATISFIED,
                _("%s 回访不满意，可重新调解") % r.number,
                note[:120],
                by=by,
            )
        created.append(followup)
        return Step(note=note, data={"satisfaction": satisfaction, "method": method})

    perform_record(referral, by=by, action="followup", event="followup", write=_tracked(write))
    return created[0]


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
    created: list[SupervisionOrder] = []

    def write(r: Referral, now: datetime.datetime) -> Step:
        rule = RULES.get(r.state)
        responsible = rule.responsible if rule else "origin"
        addressed = r.target if responsible == "target" else r.origin
        order = SupervisionOrder.objects.create(
            referral=r, kind=kind, note=note, respond_by=respond_by, issued_by=by, addressed_to=addressed
        )
        tell(
            r,
            responsible,
            NotificationKind.SUPERVISION_ORDER,
            _("%(number)s 督办：请于%(date)s前回复") % {"number": r.number, "date": respond_by.isoformat()},
            note[:120],
            by=by,
        )
        created.append(order)
        return Step(
            note=note,
            data={
                "order": order.pk,
                "kind": kind,
                "respond_by": respond_by.isoformat(),
                "addressed_to": addressed.name,
            },
        )

    perform_record(referral, by=by, action="supervise", event="supervision", write=write)
    return created[0]


def respond_supervision(order: SupervisionOrder, *, by, response: str) -> SupervisionOrder:
    """Answer a supervision order (回复督办). By the organisation it is addressed to."""
    if not response.strip():
        raise InvalidInput({"response": [_("请填写办理情况。")]})

    def write(r: Referral, now: datetime.datetime) -> Step:
        fresh = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        if fresh.answered:
            raise InvalidInput({"response": [_("该督办已回复。")]})
        if fresh.addressed_to_id not in permissions.grants_of(by).orgs("view_org_referrals"):
            raise permissions.Forbidden(_("该督办不是发给您单位的。"))
        fresh.response, fresh.responded_by, fresh.responded_at = response.strip(), by, now
        fresh.save(update_fields=["response", "responded_by", "responded_at"])
        order.__dict__.update(fresh.__dict__)
        notify(
            [fresh.issued_by_id],
            kind=NotificationKind.SUPERVISION_RESPONSE,
            title=_("%s 督办已回复") % r.number,
            body=response[:120],
            url=referral_url(r),
            referral_id=r.pk,
            exclude=[by.pk],
        )
        return Step(note=response, data={"order": fresh.pk})

    perform_record(order.referral_id, by=by, action="respond_supervision", event="supervision_response", write=write)
    return order


# --- Attachments -----------------------------------------------------------------------------


def add_attachment(referral: Referral, *, by, kind: str, upload) -> Attachment:
    """Store a scanned document of the dossier. Type and size are checked by content, not by name."""
    if kind not in DossierItem.values:
        raise InvalidInput({"kind": [_("未知的材料类别：%s") % kind]})
    try:
        content, content_type = sniff(upload)
    except UploadRejected as exc:
        raise InvalidInput({"file": [exc.message]}) from None
    digest = hashlib.sha256(content).hexdigest()
    created: list[Attachment] = []
    # The file is written before the row commits; if the step is refused the file stays behind,
    # unreferenced and named by its hash, which costs disk space but never exposes anything.

    def write(r: Referral, now: datetime.datetime) -> Step:
        attachment = Attachment(
            referral=r,
            kind=kind,
            original_name=(upload.name or "file")[-200:],
            content_type=content_type,
            size=len(content),
            sha256=digest,
            uploaded_by=by,
        )
        attachment.file.save(digest, ContentFile(content), save=False)
        attachment.save()
        created.append(attachment)
        return Step(note=attachment.original_name, data={"attachment": attachment.pk, "kind": kind, "sha256": digest})

    perform_record(referral, by=by, action="attach", event="attachment", write=write)
    return created[0]


def missing_session(referral: Referral) -> list[Missing]:
    """Concluding with an agreement needs a record of this round's mediation (人民调解记录)."""
    if _current_sessions(referral).exists():
        return []
    return [Missing("session", _("至少一份调解记录(人民调解记录)"))]


def _tracked(write: Callable[[Referral, datetime.datetime], Step]) -> Callable[[Referral, datetime.datetime], Step]:
    """A record step that changes agreements or follow-ups, keeping mediation's running totals
    (``MediationCell``) in step, in its transaction and under its row lock."""

    def tracked_write(r: Referral, now: datetime.datetime) -> Step:
        with rollup.tracked(r.pk, sources=["mediation"]):
            return write(r, now)

    return tracked_write


def _no_longer_current(referral: Referral) -> None:
    # Runs after the reopen step's own measurement, so it measures its change itself.
    with rollup.tracked(referral.pk, sources=["mediation"]):
        Agreement.objects.filter(referral=referral, current=True).update(current=False)


def register() -> None:
    """Closing needs the dossier's must-items (DOMAIN.md §5); registered on the referral workflow."""
    register_element_check("close", missing_for_close)
    # Registered rather than checked with the form's data, so the referral page lists it before
    # the mediator fills in the agreement.
    register_element_check("succeed", missing_session)
    register_after_step("reopen", _no_longer_current)
