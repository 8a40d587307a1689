"""Pages of the mediation records: record forms posted from the referral page, downloads, prints."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_access
from core.models import AccessLog
from mediation import api, workflow
from mediation.access import get_record_for_user
from mediation.documents import DOCUMENTS, VOLUME_PAGES, CaseFile, page_counter_css
from mediation.dossier import dossier
from mediation.forms import (
    ResponseForm,
    SessionForm,
)
from mediation.models import MediationSession, SupervisionOrder
from referrals import permissions
from referrals.errors import InvalidInput, MissingElements
from referrals.views import copy_errors, referral_detail


def update_session(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    """Correct a mediation record of the current round (the handling committee, while mediating)."""
    referral, session = get_record_for_user(request.user, pk, MediationSession, sid, "update_session")
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
                "lawyers": list(session.lawyers.values_list("pk", flat=True)),
            },
        )
    context = {"referral": referral, "session": session, "form": form}
    return render(request, "mediation/update_session.html", context, status=status)


def respond_supervision(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    referral, order = get_record_for_user(request.user, pk, SupervisionOrder, sid, "respond_supervision")
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


def print_document(request: HttpRequest, pk: int, document: str) -> HttpResponse:
    """Print-ready A4 pages generated from the case data, so that nobody retypes them.

    One document per URL (``mediation.documents.DOCUMENTS``); the volume's own pages (cover,
    contents, back cover, and the whole volume) carry the volume's documents too, laid out off-page
    (``offstage``) when not printed, so that the browser can count their pages for the contents.
    """
    if document not in DOCUMENTS:
        raise Http404
    referral = permissions.get_referral_for_user(request.user, pk)
    case = CaseFile(referral)
    if not case.available(document):
        raise Http404
    if document == "volume":
        sections = ["cover", "contents", *case.volume, "back_cover"]
        shown = set(sections)
    elif document in VOLUME_PAGES:
        sections = ["cover", "contents", *case.volume, "back_cover"]
        shown = {document}
    else:
        sections = [document]
        shown = {document}
    full_data = permissions.can_see_personal_data(request.user, referral)
    if full_data and any(DOCUMENTS[s].personal for s in sections):
        log_access(request, AccessLog.Action.PRINT_DOCUMENT, referral=referral, detail={"document": document})
    context = {
        "referral": referral,
        "case": case,
        "title": case.title(document),
        "document": document,
        "sections": [
            {"slug": s, "title": case.title(s), "template": f"mediation/print_{s}.html", "shown": s in shown}
            for s in sections
        ],
        "paginated": document in VOLUME_PAGES,
        "full_data": full_data,
        "parties": case.parties,
        "party_lines": case.party_lines,
        "agreement": case.agreement,
        "termination": case.termination,
        "mediators": case.mediators,
        "dossier": dossier(referral) if document == "dossier" else [],
        "page_counter": page_counter_css(),
        "today": timezone.localdate(),
    }
    return render(request, "mediation/print_base.html", context)
