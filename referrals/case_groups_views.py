"""类案 groups' pages (``referrals/case_groups.py`` holds the rules): the list with the form that sets
one up, and a group's page — its members with their state and deadline, its working notes, and the
forms of its managers (add a referral by number, take one out with a reason, write a note) and of
other apps (mediation's combined session)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from referrals import case_groups, permissions
from referrals.errors import InvalidInput
from referrals.forms import CaseGroupForm, CaseGroupMemberForm, CaseGroupNoteForm
from referrals.registry import registry
from referrals.views import copy_errors


def group_list(request: HttpRequest) -> HttpResponse:
    """GET: the groups the user may see; POST: set one up (the page again with each mistake otherwise)."""
    leads = case_groups.lead_choices(request.user)
    form, status = None, 200
    if request.method == "POST":
        form = CaseGroupForm(request.POST, leads=leads, auto_id="id_group_%s")
        if form.is_valid():
            try:
                group = case_groups.create_group(by=request.user, **form.cleaned_data)
            except InvalidInput as exc:
                copy_errors(form, exc)
            else:
                messages.success(request, _("已建立类案「%s」。") % group.name)
                return redirect("referrals:case_group", group.pk)
        status = 400
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "referrals/case_groups.html",
        {
            "report": case_groups.report(request.user),
            "columns": case_groups.figure_labels(),
            "form": form or (CaseGroupForm(leads=leads, auto_id="id_group_%s") if leads.exists() else None),
        },
        status=status,
    )


def group_page(request: HttpRequest, pk: int, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    if request.method != "GET" and not forms:
        return HttpResponseNotAllowed(["GET"])
    group = case_groups.group_for(request.user, pk)
    shown, hidden = case_groups.members(group, request.user)
    manages = case_groups.manages(request.user, group)
    forms = forms or {}
    panels = []
    for panel in registry.group_panels:
        context = panel.context(request, group)
        if context is not None:
            panels.append((panel.template, context))
    return render(
        request,
        "referrals/case_group_detail.html",
        {
            "group": group,
            "members": shown,
            "hidden": hidden,
            "notes": group.notes.select_related("created_by"),
            "manages": manages,
            "member_form": forms.get("member") or (CaseGroupMemberForm(auto_id="id_member_%s") if manages else None),
            "note_form": forms.get("note") or (CaseGroupNoteForm(auto_id="id_note_%s") if manages else None),
            "remove_errors": forms.get("remove"),
            "panels": panels,
        },
        status=status,
    )


def remove_member(request: HttpRequest, pk: int, referral: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    group = case_groups.group_for(request.user, pk)
    found = permissions.get_referral_for_user(request.user, referral)
    try:
        case_groups.leave_case_group(found, by=request.user, group=group, reason=request.POST.get("reason", ""))
    except InvalidInput as exc:
        return group_page(request, pk, forms={"remove": (found.pk, exc.errors)}, status=400)
    messages.success(request, _("已将 %s 移出本类案，记录保留。") % found.number)
    return redirect("referrals:case_group", group.pk)


def _managers_form(request: HttpRequest, pk: int, key: str, form_class, run) -> HttpResponse:
    """POST of a manager's form on the group page: ``run(group, cleaned_data)`` returns what to say;
    the page again, with each mistake at its field, otherwise."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    group = case_groups.group_for(request.user, pk)
    case_groups.require_manager(request.user, group)
    form = form_class(request.POST, auto_id=f"id_{key}_%s")
    if form.is_valid():
        try:
            said = run(group, form.cleaned_data)
        except InvalidInput as exc:
            copy_errors(form, exc)
        else:
            messages.success(request, said)
            return redirect("referrals:case_group", group.pk)
    return group_page(request, pk, forms={key: form}, status=400)


def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    def run(group, data) -> str:
        referral = case_groups.referral_by_number(request.user, data["referral"])
        case_groups.join_case_group(referral, by=request.user, group=group)
        return _("已将 %s 列入本类案。") % referral.number

    return _managers_form(request, pk, "member", CaseGroupMemberForm, run)


def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    def run(group, data) -> str:
        case_groups.add_note(group, by=request.user, text=data["text"])
        return _("已添加工作记录。")

    return _managers_form(request, pk, "note", CaseGroupNoteForm, run)
