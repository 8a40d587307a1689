"""Pages of the mediation records: record forms posted from the referral page, downloads, prints."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import api, workflow
from mediation.dossier import dossier
from mediation.forms import (
    AgreementProgressForm,
    AttachmentForm,
    FollowUpForm,
    ResponseForm,
    SessionForm,
    SupervisionForm,
)
from mediation.models import Agreement, MediationSession, SupervisionOrder
from referrals import permissions
from referrals.audit import log_access
from referrals.errors import InvalidInput, MissingElements
from referrals.models import AccessLog
from referrals.views import referral_detail

# record name → (permission action, form, workflow function, success message)
RECORDS = {
    "session": ("record_session", SessionForm, workflow.record_session, gettext_lazy("已保存调解记录。")),
    "progress": (
        "record_agreement_progress",
        AgreementProgressForm,
        workflow.record_agreement_progress,
        gettext_lazy("已登记履行与司法确认情况。"),
    ),
    "followup": ("followup", FollowUpForm, workflow.add_followup, gettext_lazy("已保存回访记录。")),
    "supervise": ("supervise", SupervisionForm, workflow.issue_supervision, gettext_lazy("已发出督办。")),
    "attach": ("attach", AttachmentForm, workflow.add_attachment, gettext_lazy("已上传材料。")),
}


def add_record(request: HttpRequest, pk: int, record: str) -> HttpResponse:
    """POST one of the record forms of the referral page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if record not in RECORDS:
        raise Http404
    referral = permissions.get_referral_for_user(request.user, pk)
    action, form_class, run, done = RECORDS[record]
    permissions.require(request.user, referral, action)
    form = form_class(request.POST, request.FILES, referral=referral, user=request.user)
    if form.is_valid():
        try:
            run(referral, by=request.user, **form.payload())
        except (InvalidInput, MissingElements) as exc:
            _copy_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("referrals:detail", pk=pk)
    request.record_forms = {record: form}
    return referral_detail(request, pk, bound_action=f"record:{record}", bound_form=form)


def update_session(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    """Correct a mediation record of the current round (the handling committee, while mediating)."""
    referral = permissions.get_referral_for_user(request.user, pk)
    try:
        session = MediationSession.objects.get(pk=sid, referral=referral)
    except MediationSession.DoesNotExist:
        raise Http404 from None
    permissions.require(request.user, referral, "record_session")
    status = 200
    if request.method == "POST":
        form = SessionForm(request.POST, referral=referral, user=request.user)
        if form.is_valid():
            try:
                workflow.update_session(session, by=request.user, **form.payload())
            except InvalidInput as exc:
                _copy_errors(form, exc)
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
        except InvalidInput as exc:
            _copy_errors(form, exc)
        else:
            messages.success(request, _("已回复督办。"))
            return redirect("referrals:detail", pk=pk)
    request.record_forms = {f"respond:{sid}": form}
    return referral_detail(request, pk, bound_action=f"record:respond:{sid}", bound_form=form)


def _copy_errors(form, exc) -> None:
    if isinstance(exc, MissingElements):
        for m in exc.missing:
            form.add_error(None, m.message)
        return
    for field, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


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
