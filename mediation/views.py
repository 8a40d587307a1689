"""Pages of the mediation records: record forms posted from the referral page, downloads, prints."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import log_access
from core.models import AccessLog
from mediation import api, workflow
from mediation.dossier import dossier
from mediation.forms import (
    ResponseForm,
    SessionForm,
)
from mediation.models import Agreement, MediationSession, SupervisionOrder
from referrals import permissions
from referrals.errors import InvalidInput, MissingElements
from referrals.views import copy_errors, referral_detail


def update_session(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    """Correct a mediation record of the current round (the handling committee, while mediating)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    try:
        session = MediationSession.objects.get(pk=sid, referral=referral)
    except MediationSession.DoesNotExist:
        raise Http404 from None
    permissions.require(request.user, referral, "update_session")
    status = 200
    if request.method == "POST":
        form = SessionForm(request.POST, referral=referral, user=request.user)
        if form.is_valid():
            try:
                workflow.update_session(session, by=request.user, **form.payload())
            except InvalidInput as exc:
                copy_errors(form, exc)
            else:
                messages.success(request, _("已修改调解记录。"))
                return redirect(reverse("referrals:detail", args=[pk]) + "#sessions")
        status = 400
    else:
        form = SessionForm(
            referral=referral,
            user=request.user,
            initial={
                "held_on": session.held_on,
                "location": session.location,
                "participants": session.participants,
                "record": session.record,
                "mediators": list(session.mediators.values_list("pk", flat=True)),
            },
        )
    context = {"referral": referral, "session": session, "form": form}
    return render(request, "mediation/update_session.html", context, status=status)


def respond_supervision(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    referral = permissions.get_referral_for_user(request.user, pk)
    try:
        order = SupervisionOrder.objects.get(pk=sid, referral=referral)
    except SupervisionOrder.DoesNotExist:
        raise Http404 from None
    permissions.require(request.user, referral, "respond_supervision")
    form = ResponseForm(request.POST, referral=referral, user=request.user)
    if form.is_valid():
        try:
            workflow.respond_supervision(order, by=request.user, response=form.cleaned_data["response"])
        except (InvalidInput, MissingElements) as exc:
            copy_errors(form, exc)
        else:
            messages.success(request, _("已回复督办。"))
            return redirect("referrals:detail", pk=pk)
    return referral_detail(request, pk, bound={f"respond_supervision:{sid}": form})


def download_attachment(request: HttpRequest, pk: int, aid: int):
    return api.serve_attachment(request, pk, aid)


# The documents that print the parties' ID numbers, phones and addresses (masked unless allowed).
PERSONAL_DOCUMENTS = {"transfer", "agreement"}

DOCUMENTS = {
    "transfer": gettext_lazy("访调对接移交单"),
    "acceptance": gettext_lazy("人民调解受理通知书"),
    "agreement": gettext_lazy("人民调解协议书"),
    "termination": gettext_lazy("终止人民调解告知书"),
    "dossier": gettext_lazy("人民调解卷宗目录"),
}


def print_document(request: HttpRequest, pk: int, document: str) -> HttpResponse:
    """Print-ready A4 pages generated from the case data, so that nobody retypes them."""
    if document not in DOCUMENTS:
        raise Http404
    referral = permissions.get_referral_for_user(request.user, pk)
    # The current round's outcome only: after a reopening, the earlier agreement is history.
    agreement = referral.agreements.filter(round=referral.round).first()
    termination = referral.terminations.filter(round=referral.round).first()
    available = {
        "transfer": referral.submitted_at is not None,
        "acceptance": referral.accepted_at is not None,
        "agreement": agreement is not None,
        "termination": termination is not None,
        "dossier": True,
    }
    if not available[document]:
        raise Http404
    full_data = permissions.can_see_personal_data(request.user, referral)
    if full_data and document in PERSONAL_DOCUMENTS:
        log_access(request, AccessLog.Action.PRINT_DOCUMENT, referral=referral, detail={"document": document})
    title = DOCUMENTS[document]
    if document == "agreement" and agreement.form == Agreement.Form.ORAL:
        # An oral agreement is recorded by the mediator, not signed (人民调解法 Art. 30).
        title = _("口头调解协议记录")
    context = {
        "referral": referral,
        "title": title,
        "document": document,
        "full_data": full_data,
        "parties": list(referral.parties.all()),
        "agreement": agreement,
        "termination": termination,
        "sessions": list(referral.sessions.filter(round=referral.round).prefetch_related("mediators")),
        # The lead mediator (主调解员) first, as on every other list of the case's mediators.
        "mediators": sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.name)),
        "dossier": dossier(referral) if document == "dossier" else [],
        "today": timezone.localdate(),
    }
    return render(request, f"mediation/print_{document}.html", context)
