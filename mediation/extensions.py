"""Mediation's part of the referral registry: its actions, panels, JSON sections, checks, sweeps and
figures, as one ``Extension`` registered in ``MediationConfig.ready()`` (see referrals/registry.py)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation import group_sessions, ledger, reminders, stats, workflow
from mediation.documents import links as print_links
from mediation.dossier import dossier, missing_for_close, pending
from mediation.dossier import label as item_label
from mediation.forms import (
    AgreementProgressForm,
    AttachmentForm,
    CorrectionForm,
    DossierTaskForm,
    FailForm,
    FollowUpForm,
    ResponseForm,
    SessionForm,
    SucceedForm,
    SupervisionForm,
)
from mediation.models import (
    Agreement,
    Attachment,
    CorrectionRequest,
    FollowUp,
    MediationSession,
    SupervisionOrder,
    Termination,
)
from mediation.serializers import (
    AgreementProgressSerializer,
    AttachmentUploadSerializer,
    CorrectionSerializer,
    FailSerializer,
    FollowUpSerializer,
    ResponseSerializer,
    SessionSerializer,
    SucceedSerializer,
    SupervisionSerializer,
)
from referrals import permissions
from referrals.actions import by_handler, by_reviewer, fsm
from referrals.deadlines import followup_status
from referrals.models import CONCLUDED_STATES, OPEN_STATES, LegalRoute, State, TerminationReason
from referrals.registry import RECORD, Action, Extension, GroupPanel, Panel, Section


def _latest(items, round_: int):
    return next((i for i in items if i.round == round_), None)


def agreement_json(referral, user, full: bool):
    agreement = _latest(referral.agreements.all(), referral.round)
    if agreement is None:
        return None
    return {
        "number": agreement.number,  # 协议书文号; "" for an oral agreement
        "form": agreement.form,
        "terms": agreement.terms,
        "amount": str(agreement.amount) if agreement.amount is not None else None,
        "performance_method": agreement.performance_method,
        "performance_place": agreement.performance_place,
        "performance_due": agreement.performance_due.isoformat(),
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else None,
        "effective_on": agreement.effective_on.isoformat(),
        "performance": agreement.performance,
        "confirmation": {
            # None for an oral agreement: only a written one can be confirmed.
            "deadline": agreement.confirmation_deadline.isoformat() if agreement.confirmable else None,
            "applied_on": agreement.confirmation_applied_on.isoformat() if agreement.confirmation_applied_on else None,
            "court": agreement.confirmation_court,
            "result": agreement.confirmation_result,
            "ruling_on": agreement.confirmation_ruling_on.isoformat() if agreement.confirmation_ruling_on else None,
        },
    }


def outcome_json(referral, user, full: bool):
    if referral.concluded_at is None:
        return None
    if _latest(referral.agreements.all(), referral.round) is not None:
        return {"result": "agreement", "concluded_at": referral.concluded_at.isoformat()}
    termination = _latest(referral.terminations.all(), referral.round)
    if termination is None:
        return None
    return {
        "result": "terminated",
        "concluded_at": referral.concluded_at.isoformat(),
        "reason": termination.reason,
        "reason_label": str(TerminationReason(termination.reason).label),
        "note": termination.note,
        "routes_explained": termination.routes_explained,
    }


def correction_json(referral, user, full: bool):
    """The current round's latest 退回补正 (open or answered), or null."""
    c = referral.correction_requests.filter(round=referral.round).order_by("requested_at").last()
    if c is None:
        return None
    return {
        "id": c.pk,
        "items": [{"item": i, "label": item_label(i), "received": i in c.received} for i in c.items],
        "outstanding": c.outstanding,
        "note": c.note,
        "requested_at": c.requested_at.isoformat(),
        "due_on": c.due_on.isoformat(),
        "due_provisional": c.due_provisional,
        "overdue": c.overdue(timezone.localdate()),
        "answered_at": c.answered_at.isoformat() if c.answered_at else None,
    }


# --- Panels of the referral page -------------------------------------------------------------


def _bound(request) -> dict:
    """The form the user just sent and got back with errors, by action (set by the action view)."""
    return getattr(request, "bound_forms", {})


def _form(request, action: str, form_class, referral):
    bound = _bound(request).get(action)
    return bound if bound is not None else form_class(referral=referral, user=request.user)


def _url(referral, action: str) -> str:
    return reverse("referrals:action", args=[referral.pk, action])


def _record_form(request, referral, action: str, form_class, allowed: bool) -> dict:
    """A panel's form for ``action`` (None unless ``allowed``), where it posts, whether it opens (sent
    back with errors), and ``quick``: the form in the page's action bar (``referral_detail``) too."""
    return {
        "form": _form(request, action, form_class, referral) if allowed else None,
        "url": _url(referral, action),
        "open": action in _bound(request),
        "quick": [action] if allowed else [],
    }


def sessions_panel(request, referral):
    if referral.accepted_at is None:
        return None
    sessions = list(
        MediationSession.objects.filter(referral=referral)
        .prefetch_related("mediators", "lawyers")
        .order_by("round", "held_on")
    )
    can_record = permissions.can(request.user, referral, "record_session")
    return {
        "sessions": sessions,
        **_record_form(request, referral, "record_session", SessionForm, can_record),
    }


def outcome_panel(request, referral):
    agreements = list(Agreement.objects.filter(referral=referral).order_by("-round"))
    terminations = list(Termination.objects.filter(referral=referral).order_by("-round"))
    if not agreements and not terminations:
        return None
    current = _latest(agreements, referral.round)
    can_progress = current is not None and permissions.can(request.user, referral, "record_agreement_progress")
    today = timezone.localdate()
    return {
        "agreement": current,
        "termination": _latest(terminations, referral.round),
        "history": [a for a in agreements if a is not current] + [t for t in terminations if t.round != referral.round],
        "window_open": current.confirmation_window_open(today) if current else False,
        "days_left": (current.confirmation_deadline - today).days if current and current.confirmable else None,
        **_record_form(request, referral, "record_agreement_progress", AgreementProgressForm, can_progress),
        "route_labels": dict(LegalRoute.choices),
    }


def followup_panel(request, referral):
    followups = list(
        FollowUp.objects.filter(referral=referral).select_related("by", "party").order_by("visited_on", "id")
    )
    can_add = permissions.can(request.user, referral, "add_followup")
    if not followups and not can_add and referral.followup_due_on is None:
        return None
    last = followups[-1] if followups else None
    clock = None
    if referral.followup_due_on is not None:
        clock = {
            "due_on": referral.followup_due_on,
            "provisional": referral.followup_provisional,
            "followed_up_on": referral.followed_up_on,
            "status": followup_status(referral),
            "days": settings.FANGDIAO["FOLLOWUP_DAYS"],
        }
    return {
        "clock": clock,
        "followups": followups,
        **_record_form(request, referral, "add_followup", FollowUpForm, can_add),
        "offer_reopen": last is not None
        and last.satisfaction == FollowUp.Satisfaction.DISSATISFIED
        and permissions.can(request.user, referral, "reopen"),
    }


def supervision_panel(request, referral):
    orders = list(
        SupervisionOrder.objects.filter(referral=referral)
        .select_related("issued_by", "responded_by", "addressed_to")
        .order_by("issued_at")
    )
    can_issue = permissions.can(request.user, referral, "issue_supervision")
    if not orders and not can_issue:
        return None
    can_respond = permissions.can(request.user, referral, "respond_supervision")
    today = timezone.localdate()
    bound = _bound(request)
    rows = []
    for order in orders:
        respond_form = None
        if can_respond and not order.answered and workflow.may_answer(request.user, order):
            respond_form = bound.get(f"respond_supervision:{order.pk}") or ResponseForm(
                referral=referral, user=request.user
            )
        rows.append(
            {
                "order": order,
                "overdue": order.overdue(today),
                "form": respond_form,
                "url": reverse("mediation:respond_supervision", args=[referral.pk, order.pk]),
            }
        )
    return {
        "orders": rows,
        **_record_form(request, referral, "issue_supervision", SupervisionForm, can_issue),
    }


def dossier_panel(request, referral):
    if referral.state == State.DRAFT and not permissions.can(request.user, referral, "add_attachment"):
        return None
    attachments = list(Attachment.objects.filter(referral=referral).select_related("uploaded_by"))
    today = timezone.localdate()
    corrections = [
        {
            "request": c,
            "items": [(item_label(i), i in c.received) for i in c.items],
            "overdue": c.overdue(today),
            "current": c.round == referral.round,
        }
        for c in CorrectionRequest.objects.filter(referral=referral).select_related("requested_by").order_by("-id")
    ]
    can_attach = permissions.can(request.user, referral, "add_attachment")
    return {
        "entries": dossier(referral),
        "attachments": attachments,
        "corrections": corrections,
        "can_download": permissions.can_see_personal_data(request.user, referral),
        **_record_form(request, referral, "add_attachment", AttachmentForm, can_attach),
        # The printable documents the referral has reached (mediation/documents.py).
        "documents": print_links(referral),
    }


# --- Tasks: what the user has to do besides the action bar's steps --------------------------------


def dossier_task(request, referral):
    """卷宗待补充: for the handling committee once it has concluded, what the dossier still lacks and
    what the reviewer asked for (退回补正), with the upload right there. None when nothing is wanted."""
    if referral.state not in CONCLUDED_STATES or not permissions.Actor.of(request.user, referral).target_handler:
        return None
    if not permissions.can(request.user, referral, "add_attachment"):
        return None
    wanted = pending(referral)
    if not wanted:
        return None
    return {
        "pending": wanted,
        "request": wanted.request,
        "overdue": wanted.request.overdue(timezone.localdate()) if wanted.request else False,
        "form": DossierTaskForm(referral=referral, user=request.user, items=wanted.items),
        "url": _url(referral, "add_attachment"),
    }


def _mediating(r) -> bool:
    return r.state == State.MEDIATING


ACTIONS = (
    Action(
        "succeed",
        _("调解成功"),
        who=by_handler,
        when=fsm("succeed"),
        run=workflow.succeed_referral,
        form=SucceedForm,
        serializer=SucceedSerializer,
        order=90,
        confirm=_("确认调解成功并登记调解协议？"),
    ),
    Action(
        "fail",
        _("终止调解"),
        who=by_handler,
        when=fsm("fail"),
        run=workflow.fail_referral,
        form=FailForm,
        serializer=FailSerializer,
        order=100,
        confirm=_("确认终止调解？终止后本轮调解结束。"),
    ),
    Action(
        "record_session",
        _("记录调解"),
        who=by_handler,
        when=_mediating,
        kind=RECORD,
        run=workflow.record_session,
        form=SessionForm,
        serializer=SessionSerializer,
        order=10,
        done=_("已保存调解记录。"),
    ),
    Action(
        "update_session",
        _("修改调解记录"),
        who=by_handler,
        when=_mediating,
        kind=RECORD,
        # Of one session, at its own page and API URL (mediation:update_session): no form here.
        run=workflow.update_session,
        serializer=SessionSerializer,
        order=11,
        done=_("已修改调解记录。"),
    ),
    Action(
        "record_agreement_progress",
        _("登记履行与司法确认"),
        who=by_handler,
        when=lambda r: r.state in (State.SUCCEEDED, State.CLOSED),
        kind=RECORD,
        run=workflow.record_agreement_progress,
        form=AgreementProgressForm,
        serializer=AgreementProgressSerializer,
        order=20,
        done=_("已登记履行与司法确认情况。"),
    ),
    Action(
        "add_followup",
        _("回访"),
        who=lambda a, r: a.target_handler or a.origin_officer or a.origin_reviewer,
        when=lambda r: r.state in (*CONCLUDED_STATES, State.CLOSED),
        kind=RECORD,
        run=workflow.add_followup,
        form=FollowUpForm,
        serializer=FollowUpSerializer,
        order=30,
        done=_("已保存回访记录。"),
    ),
    Action(
        "issue_supervision",
        _("督办"),
        who=lambda a, r: a.supervisor,
        when=lambda r: r.state in OPEN_STATES and r.state != State.DRAFT,
        kind=RECORD,
        run=workflow.issue_supervision,
        form=SupervisionForm,
        serializer=SupervisionSerializer,
        order=40,
        done=_("已发出督办。"),
    ),
    # Answered by the organisation the order was addressed to (``workflow.may_answer``), which may
    # have routed the case on since: here, anyone who has to do with the case.
    Action(
        "respond_supervision",
        _("回复督办"),
        who=lambda a, r: (
            a.target_handler or a.target_dispatcher or a.origin_officer or a.origin_reviewer or a.past_handler(r)
        ),
        when=lambda r: r.state != State.DRAFT,
        kind=RECORD,
        # Of one order, at its own page and API URL (mediation:respond_supervision): no form here.
        run=workflow.respond_supervision,
        serializer=ResponseSerializer,
        order=41,
        done=_("已回复督办。"),
    ),
    # The reviewer answers a 退回补正 as well as the committee: 审核办结 must not wait on a paper the
    # office itself holds.
    Action(
        "add_attachment",
        _("上传材料"),
        who=lambda a, r: a.origin_officer or a.origin_reviewer or a.target_handler,
        when=lambda r: r.state != State.CLOSED,
        kind=RECORD,
        run=workflow.add_attachment,
        form=AttachmentForm,
        serializer=AttachmentUploadSerializer,
        order=50,
        done=_("已上传材料。"),
    ),
    # 退回补正: the reviewer sends the dossier back to the committee for the papers it lacks; the
    # referral stays concluded, the request has a clock of its own and is answered by uploads.
    Action(
        "request_correction",
        _("退回补正"),
        who=by_reviewer,
        when=lambda r: r.state in CONCLUDED_STATES,
        run=workflow.request_correction,
        form=CorrectionForm,
        serializer=CorrectionSerializer,
        order=112,
        refused=_("只能对调解已结束、等待审核办结的案件退回补正。"),
    ),
)


def extension() -> Extension:
    rounds = (
        Prefetch("agreements", queryset=Agreement.objects.order_by("round")),
        Prefetch("terminations", queryset=Termination.objects.order_by("round")),
    )
    return Extension(
        name="mediation",
        actions=ACTIONS,
        # Closing needs the dossier's must-items; concluding with an agreement a session record of the
        # round — listed on the page before the mediator fills in the agreement.
        checks={"close": [missing_for_close], "succeed": [workflow.missing_session]},
        after={"reopen": [workflow.agreement_no_longer_current]},
        sections=(
            Section("agreement", rounds, agreement_json),
            Section("outcome", (), outcome_json),
            # Read for a referral's detail only (``ReferralSerializer.get_correction``): no prefetch.
            Section("correction", (), correction_json),
        ),
        panels=(
            Panel("sessions", "mediation/panel_sessions.html", sessions_panel, order=10),
            Panel("outcome", "mediation/panel_outcome.html", outcome_panel, order=20),
            Panel("followups", "mediation/panel_followups.html", followup_panel, order=30),
            Panel("supervision", "mediation/panel_supervision.html", supervision_panel, order=40),
            Panel("dossier", "mediation/panel_dossier.html", dossier_panel, order=50),
        ),
        tasks=(Panel("dossier_task", "mediation/task_dossier.html", dossier_task, order=10),),
        # 类案合并调解: on a 类案 group's page, for the committee mediating some of its referrals.
        group_panels=(GroupPanel("group_session", "mediation/group_session.html", group_sessions.panel),),
        sweeps={
            "confirmation_window": reminders.sweep_confirmation_windows,
            "supervision_overdue": reminders.sweep_overdue_supervisions,
            "correction_overdue": reminders.sweep_overdue_corrections,
        },
        stats=stats.SOURCE,
        rollups=(stats.CELLS,),
        ledger_outcomes=ledger.outcomes,
    )
