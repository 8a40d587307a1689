"""Referral pages: list, register/edit, detail with the actions this user may take."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from referrals import permissions, workflow
from referrals.api import referral_queryset
from referrals.audit import log_access
from referrals.extensions import ACTION_FORMS as EXTRA_ACTION_FORMS
from referrals.extensions import PANELS
from referrals.filters import FilterError, filter_referrals
from referrals.forms import ACTION_FORMS, PartyFormSet, ReferralForm, initial_from, referral_input
from referrals.models import AccessLog, Party, State, TimelineEvent
from referrals.permissions import WORKFLOW_ACTIONS
from referrals.workflow import missing_elements, possible_duplicates
from townships.categories import Category
from townships.models import Organisation

PAGE_SIZE = 25


def referral_list(request: HttpRequest) -> HttpResponse:
    qs = referral_queryset(request.user)
    errors = {}
    try:
        qs = filter_referrals(qs, request.GET)
    except FilterError as exc:
        errors = exc.errors
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    params = request.GET.copy()
    params.pop("before", None)
    next_url = None
    if more:
        params["before"] = rows[-1].pk
        next_url = "?" + params.urlencode()
    context = {
        "referrals": rows,
        "next_url": next_url,
        "filter_errors": errors,
        "states": State.choices,
        "categories": Category.choices,
        "params": request.GET,
        "is_first_page": not before,
    }
    template = "referrals/_list_rows.html" if request.GET.get("fragment") else "referrals/referral_list.html"
    return render(request, template, context)


def _offices(user):
    ids = permissions.grants_of(user).orgs("refer_from")
    return Organisation.objects.filter(pk__in=ids).select_related("region").order_by("region__code")


def create_referral(request: HttpRequest) -> HttpResponse:
    offices = _offices(request.user)
    if not offices.exists():
        raise permissions.Forbidden(_("只有信访部门的信访干部可以登记案件。"))
    if request.method == "POST":
        form = ReferralForm(request.POST, offices=offices)
        parties = PartyFormSet(request.POST, prefix="parties")
        if form.is_valid() and parties.is_valid():
            referral = workflow.create_referral(
                by=request.user, origin=form.cleaned_data["origin"], data=referral_input(form, parties)
            )
            messages.success(request, _("已登记案件 %s（草稿）。请核对要件后移交。") % referral.number)
            return redirect("referrals:detail", pk=referral.pk)
    else:
        form = ReferralForm(offices=offices, initial={"received_on": None})
        parties = PartyFormSet(
            prefix="parties",
            initial=[{"role": Party.Role.PETITIONER}, {"role": Party.Role.RESPONDENT}],
        )
    return render(request, "referrals/referral_form.html", {"form": form, "parties": parties, "referral": None})


def edit_referral(request: HttpRequest, pk: int) -> HttpResponse:
    referral = permissions.get_referral_for_user(request.user, pk)
    permissions.require(request.user, referral, "edit")
    offices = _offices(request.user)
    if request.method == "POST":
        form = ReferralForm(request.POST, offices=offices)
        parties = PartyFormSet(request.POST, prefix="parties")
        if form.is_valid() and parties.is_valid():
            workflow.update_draft(referral, by=request.user, data=referral_input(form, parties))
            messages.success(request, _("已保存修改。"))
            return redirect("referrals:detail", pk=referral.pk)
    else:
        initial, party_initial = initial_from(referral)
        form = ReferralForm(offices=offices, initial=initial)
        parties = PartyFormSet(prefix="parties", initial=party_initial)
    return render(request, "referrals/referral_form.html", {"form": form, "parties": parties, "referral": referral})


def _action_form(action: str):
    if action in ACTION_FORMS:
        return ACTION_FORMS[action], None
    form_class, run = EXTRA_ACTION_FORMS[action]
    return form_class, run


def action_auto_id(action: str) -> str:
    # The page holds several action forms with fields of the same name (reason, note): each form's
    # ids carry its action so that every label points at its own field.
    return f"id_{action}_%s"


WORKFLOW_RUNNERS = {
    "submit": workflow.submit_referral,
    "dispatch": workflow.dispatch_referral,
    "accept": workflow.accept_referral,
    "decline": workflow.decline_referral,
    "redirect": workflow.redirect_referral,
    "extend": workflow.extend_mediation,
    "suspend": workflow.suspend_mediation,
    "resume": workflow.resume_mediation,
    "close": workflow.close_referral,
    "reopen": workflow.reopen_referral,
}


def referral_detail(request: HttpRequest, pk: int, *, bound_action: str | None = None, bound_form=None) -> HttpResponse:
    referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
    user = request.user
    actions = []
    for action in permissions.available_actions(user, referral, WORKFLOW_ACTIONS):
        if action == bound_action:
            form = bound_form
        else:
            form_class, _run = _action_form(action)
            form = form_class(referral=referral, user=user, auto_id=action_auto_id(action))
        actions.append(
            {
                "name": action,
                "label": permissions.action_label(action),
                "form": form,
                "missing": missing_elements(referral, action),
                "open": action == bound_action,
                "url": reverse("referrals:action", args=[referral.pk, action]),
            }
        )
    events = TimelineEvent.objects.filter(referral=referral).select_related("actor").order_by("at", "id")
    panels = []
    for panel in sorted(PANELS.values(), key=lambda p: p.order):
        context = panel.context(request, referral)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    context = {
        "referral": referral,
        "mediators": sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.name)),
        "full_data": permissions.can_see_personal_data(user, referral),
        "parties": list(referral.parties.all()),
        "actions": actions,
        "can_edit": permissions.can(user, referral, "edit"),
        "events": events,
        "panels": panels,
        "duplicates": possible_duplicates(referral) if referral.state == State.DRAFT else [],
        "visible_duplicates": set(
            permissions.referrals_visible_to(user).filter(pk__in=[referral.repeat_of_id]).values_list("pk", flat=True)
        )
        if referral.repeat_of_id
        else set(),
    }
    if context["full_data"] and bound_form is None:
        log_access(request, AccessLog.Action.VIEW_PERSONAL_DATA, referral=referral)
    status = 400 if bound_form is not None else 200
    return render(request, "referrals/referral_detail.html", context, status=status)


def access_log(request: HttpRequest) -> HttpResponse:
    """The read audit of the supervisor's region: who saw personal data, downloaded or exported."""
    entries = permissions.access_log_visible_to(request.user)
    if not request.user.is_superuser and not permissions.grants_of(request.user).region_codes("supervise_region"):
        raise permissions.Forbidden(_("只有司法行政机关的督导人员可以查看访问日志。"))
    if action := request.GET.get("action"):
        entries = entries.filter(action=action)
    if username := request.GET.get("user", "").strip():
        entries = entries.filter(username=username)
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(pk__lt=int(before))
    rows = list(entries.order_by("-id")[: PAGE_SIZE * 2 + 1])
    more = len(rows) > PAGE_SIZE * 2
    rows = rows[: PAGE_SIZE * 2]
    return render(
        request,
        "referrals/access_log.html",
        {
            "entries": rows,
            "actions": AccessLog.Action.choices,
            "params": request.GET,
            "next_before": rows[-1].pk if more else None,
        },
    )


def referral_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST an action's short form; on success back to the referral, else the form with its errors."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
    if action not in permissions.ACTIONS or (action not in ACTION_FORMS and action not in EXTRA_ACTION_FORMS):
        return HttpResponse(status=404)
    permissions.require(request.user, referral, action)
    form_class, run = _action_form(action)
    form = form_class(request.POST, request.FILES, referral=referral, user=request.user, auto_id=action_auto_id(action))
    if not form.is_valid():
        return referral_detail(request, pk, bound_action=action, bound_form=form)
    runner = run or WORKFLOW_RUNNERS[action]
    from referrals.errors import InvalidInput, MissingElements

    try:
        runner(referral, by=request.user, **form.payload())
    except MissingElements as exc:
        for m in exc.missing:
            form.add_error(None, m.message)
        return referral_detail(request, pk, bound_action=action, bound_form=form)
    except InvalidInput as exc:
        for field, msgs in exc.errors.items():
            for msg in msgs:
                form.add_error(field if field in form.fields else None, msg)
        return referral_detail(request, pk, bound_action=action, bound_form=form)
    messages.success(
        request, _("已%(action)s：%(number)s") % {"action": permissions.action_label(action), "number": referral.number}
    )
    return redirect("referrals:detail", pk=referral.pk)
