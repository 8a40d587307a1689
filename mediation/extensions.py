"""Mediation's contributions to the referral API and pages (see referrals/extensions.py)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation import reminders, workflow
from mediation.dossier import dossier
from mediation.forms import (
    AgreementProgressForm,
    AttachmentForm,
    FailForm,
    FollowUpForm,
    ResponseForm,
    SessionForm,
    SucceedForm,
    SupervisionForm,
)
from mediation.models import Agreement, Attachment, FollowUp, MediationSession, SupervisionOrder, Termination
from mediation.serializers import FailSerializer, SucceedSerializer
from referrals import permissions
from referrals.extensions import (
    ActionHandler,
    Panel,
    Section,
    register_action_form,
    register_action_handler,
    register_panel,
    register_section,
)
from referrals.models import LegalRoute, State, TerminationReason
from referrals.reminders import register_sweep
from referrals.timeline import register_label


def _latest(items, round_: int):
    return next((i for i in items if i.round == round_), None)


def agreement_json(referral, user, full: bool):
    agreement = _latest(referral.agreements.all(), referral.round)
    if agreement is None:
        return None
    return {
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
            "deadline": agreement.confirmation_deadline.isoformat(),
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


# --- Panels of the referral page -------------------------------------------------------------


def _form(request, key: str, form_class, referral):
    bound = getattr(request, "record_forms", {}).get(key)
    return bound if bound is not None else form_class(referral=referral, user=request.user)


def _url(referral, record: str) -> str:
    return reverse("mediation:record", args=[referral.pk, record])


def sessions_panel(request, referral):
    if referral.accepted_at is None:
        return None
    sessions = list(
        MediationSession.objects.filter(referral=referral).prefetch_related("mediators").order_by("round", "held_on")
    )
    can_record = permissions.can(request.user, referral, "record_session")
    return {
        "sessions": sessions,
        "form": _form(request, "session", SessionForm, referral) if can_record else None,
        "url": _url(referral, "session"),
        "open": "session" in getattr(request, "record_forms", {}),
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
        "days_left": (current.confirmation_deadline - today).days if current else None,
        "form": _form(request, "progress", AgreementProgressForm, referral) if can_progress else None,
        "url": _url(referral, "progress"),
        "open": "progress" in getattr(request, "record_forms", {}),
        "route_labels": dict(LegalRoute.choices),
    }


def followup_panel(request, referral):
    followups = list(FollowUp.objects.filter(referral=referral).select_related("by").order_by("visited_on", "id"))
    can_add = permissions.can(request.user, referral, "followup")
    if not followups and not can_add:
        return None
    last = followups[-1] if followups else None
    return {
        "followups": followups,
        "form": _form(request, "followup", FollowUpForm, referral) if can_add else None,
        "url": _url(referral, "followup"),
        "open": "followup" in getattr(request, "record_forms", {}),
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
    can_issue = permissions.can(request.user, referral, "supervise")
    if not orders and not can_issue:
        return None
    mine = permissions.grants_of(request.user).orgs("view_org_referrals")
    can_respond = permissions.can(request.user, referral, "respond_supervision")
    today = timezone.localdate()
    bound = getattr(request, "record_forms", {})
    rows = []
    for order in orders:
        respond_form = None
        if can_respond and not order.answered and order.addressed_to_id in mine:
            respond_form = bound.get(f"respond:{order.pk}") or ResponseForm(referral=referral, user=request.user)
        rows.append(
            {
                "order": order,
                "overdue": order.overdue(today),
                "form": respond_form,
                "url": reverse("mediation:respond", args=[referral.pk, order.pk]),
            }
        )
    return {
        "orders": rows,
        "form": _form(request, "supervise", SupervisionForm, referral) if can_issue else None,
        "url": _url(referral, "supervise"),
        "open": "supervise" in bound,
    }


def dossier_panel(request, referral):
    if referral.state == State.DRAFT and not permissions.can(request.user, referral, "attach"):
        return None
    attachments = list(Attachment.objects.filter(referral=referral).select_related("uploaded_by"))
    can_attach = permissions.can(request.user, referral, "attach")
    documents = [
        ("transfer", _("移交单"), referral.submitted_at is not None),
        ("acceptance", _("受理通知书"), referral.accepted_at is not None),
        ("agreement", _("调解协议书"), any(a.round == referral.round for a in referral.agreements.all())),
        ("termination", _("终止调解告知书"), any(t.round == referral.round for t in referral.terminations.all())),
        ("dossier", _("卷宗目录"), True),
    ]
    return {
        "entries": dossier(referral),
        "attachments": attachments,
        "can_download": permissions.can_see_personal_data(request.user, referral),
        "form": _form(request, "attach", AttachmentForm, referral) if can_attach else None,
        "url": _url(referral, "attach"),
        "open": "attach" in getattr(request, "record_forms", {}),
        "documents": [
            (doc, label, reverse("mediation:print", args=[referral.pk, doc])) for doc, label, ok in documents if ok
        ],
    }


def register() -> None:
    rounds = (
        Prefetch("agreements", queryset=Agreement.objects.order_by("round")),
        Prefetch("terminations", queryset=Termination.objects.order_by("round")),
    )
    register_section(Section("agreement", rounds, agreement_json))
    register_section(Section("outcome", (), outcome_json))
    register_action_handler("succeed", ActionHandler(SucceedSerializer, workflow.conclude_with_agreement))
    register_action_handler("fail", ActionHandler(FailSerializer, workflow.terminate_mediation))
    register_action_form("succeed", SucceedForm, workflow.conclude_with_agreement)
    register_action_form("fail", FailForm, workflow.terminate_mediation)
    register_panel(Panel("sessions", "mediation/panel_sessions.html", sessions_panel, order=10))
    register_panel(Panel("outcome", "mediation/panel_outcome.html", outcome_panel, order=20))
    register_panel(Panel("followups", "mediation/panel_followups.html", followup_panel, order=30))
    register_panel(Panel("supervision", "mediation/panel_supervision.html", supervision_panel, order=40))
    register_panel(Panel("dossier", "mediation/panel_dossier.html", dossier_panel, order=50))
    for action, label in {
        "session": _("调解记录"),
        "session_edit": _("修改调解记录"),
        "agreement_progress": _("登记履行与司法确认"),
        "followup": _("回访"),
        "supervision": _("督办"),
        "supervision_response": _("回复督办"),
        "attachment": _("上传材料"),
    }.items():
        register_label(action, label)
    workflow.register()
    register_sweep("confirmation_window", reminders.sweep_confirmation_windows)
    register_sweep("supervision_overdue", reminders.sweep_overdue_supervisions)
    import mediation.stats  # noqa: F401 - registers mediation's figures with referrals/stats.py (its last line)
