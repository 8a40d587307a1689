"""Referral pages: list, register/edit, detail with the actions this user may take."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.audit import log_access
from core.models import AccessLog
from referrals import (
    assignments,
    assignments_api,
    intake,
    lawyers,
    leader_cases,
    listing,
    permissions,
    repeats,
    saved_filters,
)
from referrals.actions import perform
from referrals.api import referral_queryset
from referrals.deadlines import petition_start, petition_status
from referrals.errors import InvalidInput, MissingElements
from referrals.filters import TRUE, FilterError, filter_referrals
from referrals.forms import PartyFormSet, ReferralForm, initial_from, referral_input
from referrals.models import Lawyer, Party, PetitionExtension, SavedFilter, State, TimelineEvent
from referrals.registry import STEP, registry
from referrals.workflow import missing_elements
from townships.categories import Category

PAGE_SIZE = 25


def referral_list(request: HttpRequest, *, save_errors: dict | None = None, save_name: str = "") -> HttpResponse:
    """The list: search, filters (shown as removable chips), a sort, stable pages and a total; the
    user's saved filters. ``save_errors``: a "save this filter" just refused, shown with its name."""
    params = request.GET
    qs = referral_queryset(request.user, many=True)
    errors: dict[str, list[str]] = {}
    try:
        qs = filter_referrals(qs, params)
    except FilterError as exc:
        errors.update(exc.errors)
    try:
        sort = listing.parse_sort(params)
    except FilterError as exc:
        errors.update(exc.errors)
        sort = listing.SORTS[listing.DEFAULT_SORT]
    total, total_more = listing.count(qs)
    cursor = params.get("cursor") or None
    before = params.get("before", "")
    if not cursor and sort.value == listing.DEFAULT_SORT and before.isdigit() and len(before) <= 18:
        qs = qs.filter(pk__lt=int(before))  # the pages' links before cursors: same order, same rows
    try:
        page = listing.paginate(qs, sort, cursor, PAGE_SIZE)
    except FilterError as exc:
        errors.update(exc.errors)
        page = listing.paginate(qs, sort, None, PAGE_SIZE)
    shown = repeats.shown_repeats(page.rows, request.user)
    for row in page.rows:
        row.repeat_shown = row.repeat_of_id in shown  # never flag a repeat of what the viewer may not open
    unpaged = listing.query_without_paging(params)
    list_url = reverse("referrals:list")  # links stay the list's when a refused save shows it
    context = {
        "referrals": page.rows,
        "total": total,
        "total_more": total_more,
        "list_url": list_url,
        "next_url": f"{list_url}?" + "&".join(filter(None, [unpaged, urlencode({"cursor": page.next})]))
        if page.next
        else None,
        "first_url": f"{list_url}?{unpaged}",
        "params": params,
        "is_first_page": not cursor and not before,
    }
    if params.get("fragment"):  # the rows alone, fetched again by the live page
        return render(request, "referrals/_list_rows.html", context)
    region = params.get("region", "").strip()
    groups = listing.township_groups(permissions.areas_of(request.user))
    offered = {code for g in groups for code, _label in g.options}
    context |= {
        "filter_errors": errors,
        "states": State.choices,
        "categories": Category.choices,
        "sorts": [(s.value, s.label) for s in listing.SORTS.values()],
        "sort": sort.value,
        "township_groups": groups,
        # A region set by a link (the city from a statistics page) and not among the choices.
        "region_other": listing.region_label(region) if region and region not in offered else None,
        "chips": listing.active_filters(params),
        # Several states or categories at once (a statistics link): kept as one choice, named in full.
        "state_other": _several(params.get("state", ""), dict(State.choices)),
        "category_other": _several(params.get("category", ""), dict(Category.choices)),
        "flags": {flag: params.get(flag, "").lower() in TRUE for flag in ("overdue", "due_soon")},
        # Filters set by links that the form has no field for: kept when the form is sent again.
        "kept": [(k, params[k]) for k in listing.KEPT_BY_FORM if params.get(k)],
        "saved_filters": list(saved_filters.saved_filters_of(request.user)),
        "saved_max": SavedFilter.MAX_PER_USER,
        "current_query": saved_filters.query_of(params),
        "save_errors": save_errors or {},
        "save_name": save_name,
        "unpaged": unpaged,
    }
    return render(request, "referrals/referral_list.html", context, status=400 if save_errors else 200)


def _several(value: str, labels: dict) -> str | None:
    codes = [c.strip() for c in value.split(",") if c.strip()]
    return "、".join(str(labels.get(c, c)) for c in codes) if len(codes) > 1 else None


def saved_filter_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's saved filters (to open or delete). POST ``name`` + ``query``: save one; back
    to the list it shows, or the list again with the mistake named and nothing saved."""
    if request.method == "POST":
        name, query = request.POST.get("name", ""), request.POST.get("query", "")
        try:
            saved = saved_filters.save_filter(request.user, name=name, query=query)
        except InvalidInput as exc:
            asked = saved_filters.params_of(query)
            request.GET = QueryDict(saved_filters.query_of(asked) if asked is not None else "")
            return referral_list(request, save_errors=exc.errors, save_name=name)
        messages.success(request, _("已保存筛选「%s」。") % saved.name)
        return redirect(reverse("referrals:list") + "?" + saved.query)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "referrals/saved_filters.html",
        {"saved_filters": saved_filters.saved_filters_of(request.user), "saved_max": SavedFilter.MAX_PER_USER},
    )


def delete_saved_filter(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete one of the user's own saved filters (anyone else's: 404)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    name = saved_filters.saved_filters_of(request.user).filter(pk=pk).values_list("name", flat=True).first()
    saved_filters.delete_filter(request.user, pk)
    messages.success(request, _("已删除筛选「%s」。") % name)
    back = request.POST.get("next", "")
    local = back.startswith("/referrals/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None)
    return redirect(back if local else reverse("referrals:list"))


def lawyer_page(
    request: HttpRequest, *, lawyer_form=None, consultation_form=None, import_form=None, status: int = 200
) -> HttpResponse:
    """律师参与信访: the consultations' figures (批次, 人次) for a period, the latest consultations, and
    the rosters, with the forms for the offices the user keeps (``referrals/lawyers.py``)."""
    from referrals.forms import ConsultationForm, LawyerForm, LawyerImportForm

    errors: dict[str, list[str]] = {}
    try:
        period = lawyers.parse_period(request.GET)
    except InvalidInput as exc:
        errors, period = exc.errors, lawyers.parse_period({})
    user = request.user
    kept = lawyers.offices_kept_by(user)
    roster = list(lawyers.lawyers_visible_to(user).order_by("office__name", "-active", "name"))
    keepable = Lawyer.objects.filter(office_id__in=kept, active=True).select_related("office").order_by("name")
    recent = list(
        lawyers.consultations_visible_to(user).filter(held_on__gte=period.date_from, held_on__lte=period.date_to)[:50]
    )
    return render(
        request,
        "referrals/lawyers.html",
        {
            "figures": lawyers.figures(user, period),
            "period": period,
            "errors": errors,
            "roster": [(x, user.is_superuser or x.office_id in kept) for x in roster],
            "recent": recent,
            "shown_referrals": lawyers.shown_referrals(user, recent),
            "lawyer_form": lawyer_form
            or (LawyerForm(offices=lawyers.offices_of(kept), auto_id="id_lawyer_%s") if kept else None),
            "consultation_form": consultation_form
            or (ConsultationForm(lawyers=keepable, auto_id="id_consult_%s") if kept else None),
            "import_form": import_form or (LawyerImportForm(offices=lawyers.offices_of(kept)) if kept else None),
        },
        status=status,
    )


def _post_lawyer_form(request: HttpRequest, form, name: str, save: Callable[[dict], str]) -> HttpResponse:
    """One of the lawyers page's forms posted: ``save`` its values and say what was done there, or the
    page again with this form (``name``) and each mistake at its field, nothing written (400)."""
    if form.is_valid():
        try:
            done = save(form.cleaned_data)
        except InvalidInput as exc:
            copy_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("referrals:lawyers")
    return lawyer_page(request, status=400, **{name: form})


def add_lawyer(request: HttpRequest) -> HttpResponse:
    """POST: put a lawyer on the roster of the user's office; the page again with each mistake otherwise."""
    from referrals.forms import LawyerForm

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    lawyers.office_for_page(request.user)
    offices = lawyers.offices_of(lawyers.offices_kept_by(request.user))
    form = LawyerForm(request.POST, offices=offices, auto_id="id_lawyer_%s")

    def save(data: dict) -> str:
        values = dict(data)
        office = lawyers.office_for(request.user, values.pop("office", None))
        lawyer = lawyers.add_lawyer(by=request.user, office=office, **values)
        return _("已将%s加入律师名册。") % lawyer.name

    return _post_lawyer_form(request, form, "lawyer_form", save)


def import_lawyers(request: HttpRequest) -> HttpResponse:
    """POST a spreadsheet: its lawyers onto the roster of the user's office, or the page again with each
    mistake by row and column, nothing written (``referrals/lawyer_import.py``)."""
    from referrals.forms import LawyerImportForm
    from referrals.lawyer_import import import_lawyers as run_import

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    lawyers.office_for_page(request.user)
    form = LawyerImportForm(
        request.POST, request.FILES, offices=lawyers.offices_of(lawyers.offices_kept_by(request.user))
    )

    def save(data: dict) -> str:
        office = lawyers.office_for(request.user, data.get("office"))
        result = run_import(by=request.user, office=office, upload=data["file"])
        return _("律师名册已导入：新增%(added)d人，已在名册%(unchanged)d人。") % result.__dict__

    return _post_lawyer_form(request, form, "import_form", save)


def set_lawyer_active(request: HttpRequest, pk: int) -> HttpResponse:
    """POST ``active=0|1``: take a lawyer off the roster (kept) or put them back."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    lawyer = lawyers.lawyer_for(request.user, pk)
    if request.POST.get("active") not in ("0", "1"):
        return HttpResponseBadRequest(_("参数 active 应为 0（移出名册）或 1（恢复在册）。"))
    active = request.POST.get("active") == "1"
    lawyer = lawyers.set_active(lawyer, by=request.user, active=active)
    messages.success(request, (_("%s已恢复在册。") if active else _("%s已移出律师名册，记录保留。")) % lawyer.name)
    return redirect("referrals:lawyers")


def add_consultation(request: HttpRequest) -> HttpResponse:
    """POST: record one consultation; the page again with each mistake, nothing written, otherwise."""
    from referrals.forms import ConsultationForm

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    lawyers.office_for_page(request.user)
    keepable = Lawyer.objects.filter(office_id__in=lawyers.offices_kept_by(request.user), active=True)
    form = ConsultationForm(request.POST, lawyers=keepable, auto_id="id_consult_%s")

    def save(data: dict) -> str:
        referral = lawyers.referral_by_number(request.user, data["referral"])
        lawyers.record_consultation(
            by=request.user,
            lawyer=data["lawyer"],
            held_on=data["held_on"],
            persons=data["persons"],
            topic=data["topic"],
            referral=referral,
        )
        return _("已登记法律咨询。")

    return _post_lawyer_form(request, form, "consultation_form", save)


def lawyer_list(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return lawyer_page(request)


def assignment_list(request: HttpRequest) -> HttpResponse:
    """交办件: by level and batch over the referrals the user may see, for a year (this year unless
    asked; empty: every year) and a level (``referrals/assignments.py``)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    scope, errors, years = leader_cases.yearly_scope(request.GET, assignments.parse_scope, assignments.Scope)
    rep = assignments.report(request.user, scope)
    labels = assignments.figure_labels()
    return render(
        request,
        "referrals/assignments.html",
        {
            "report": rep,
            "scope": scope,
            "errors": errors,
            "figures": labels,
            "tiles": [(key, label, text, rep.totals[key]) for key, label, text in labels],
            "years": years,
            "levels": assignments.Level.choices,
        },
    )


def assignment_report(request: HttpRequest, pk: int):
    """The 交办件's report as sent (``referrals/assignments_api.py``)."""
    return assignments_api.serve_report(request, pk)


def leader_case_list(request: HttpRequest) -> HttpResponse:
    """领导包案: the lists per leader and in total over the referrals the user may see, filtered by
    year (this year unless asked; empty: every year), level and region (``referrals/leader_cases.py``)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    scope, errors, years = leader_cases.yearly_scope(request.GET, leader_cases.parse_scope, leader_cases.Scope)
    rep = leader_cases.report(request.user, scope)
    groups = listing.township_groups(permissions.areas_of(request.user))
    offered = {code for g in groups for code, _label in g.options}
    return render(
        request,
        "referrals/leader_cases.html",
        {
            "report": rep,
            "scope": scope,
            "errors": errors,
            "figures": leader_cases.figure_labels(),
            "tiles": [(key, label, text, rep.totals[key]) for key, label, text in leader_cases.figure_labels()],
            "years": years,
            "levels": leader_cases.Level.choices,
            "township_groups": groups,
            "region_other": listing.region_label(scope.region)
            if scope.region and scope.region not in offered
            else None,
            "export_query": scope.query(),
        },
        status=400 if errors else 200,
    )


def create_referral(request: HttpRequest) -> HttpResponse:
    offices = permissions.offices_of(request.user).order_by("region__code")
    if not offices.exists():
        raise permissions.Forbidden(_("只有信访部门的信访干部可以登记案件。"))
    if request.method == "POST":
        form = ReferralForm(request.POST, offices=offices)
        parties = PartyFormSet(request.POST, prefix="parties")
        if form.is_valid() and parties.is_valid():
            referral = intake.create_referral(
                by=request.user, origin=form.cleaned_data["origin"], data=referral_input(form, parties)
            )
            messages.success(request, _("已登记案件 %s（草稿）。请核对要件后移交。") % referral.number)
            _warn_late_acceptance(request, referral)
            return redirect("referrals:detail", pk=referral.pk)
    else:
        form = ReferralForm(offices=offices, initial={"received_on": None})
        parties = PartyFormSet(
            prefix="parties",
            initial=[{"role": Party.Role.PETITIONER}, {"role": Party.Role.RESPONDENT}],
        )
    return render(request, "referrals/referral_form.html", {"form": form, "parties": parties, "referral": None})


def _warn_late_acceptance(request: HttpRequest, referral) -> None:
    """Saved, yet accepted later than 15 days after receipt: said, never refused."""
    if warning := intake.acceptance_warning(referral.received_on, referral.petition_accepted_on):
        messages.warning(request, warning)


def update_draft(request: HttpRequest, pk: int) -> HttpResponse:
    referral = permissions.get_referral_for_user(request.user, pk)
    permissions.require(request.user, referral, "update_draft")
    offices = permissions.offices_of(request.user).order_by("region__code")
    initial, party_initial = initial_from(referral)
    if request.method == "POST":
        form = ReferralForm(request.POST, offices=offices)
        # With the stored parties as initial: a consent a party gave online stays a valid choice.
        parties = PartyFormSet(request.POST, prefix="parties", initial=party_initial)
        if form.is_valid() and parties.is_valid():
            try:
                saved = intake.update_draft(referral, by=request.user, data=referral_input(form, parties))
            except InvalidInput as exc:
                copy_errors(form, exc)
            else:
                messages.success(request, _("已保存修改。"))
                _warn_late_acceptance(request, saved)
                return redirect("referrals:detail", pk=referral.pk)
    else:
        form = ReferralForm(offices=offices, initial=initial)
        parties = PartyFormSet(prefix="parties", initial=party_initial)
    return render(request, "referrals/referral_form.html", {"form": form, "parties": parties, "referral": referral})


def action_auto_id(action: str) -> str:
    # The page holds several action forms with fields of the same name (reason, note): each form's
    # ids carry its action so that every label points at its own field.
    return f"id_{action}_%s"


def referral_detail(request: HttpRequest, pk: int, *, bound: dict | None = None) -> HttpResponse:
    """The referral page; ``bound`` holds a form just sent back with its errors, by action."""
    referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
    user = request.user
    request.bound_forms = bound or {}
    actions = []
    for action in registry.actions(STEP):
        if not permissions.can(user, referral, action.name):
            continue
        form = request.bound_forms.get(action.name) or action.form(
            referral=referral, user=user, auto_id=action_auto_id(action.name)
        )
        actions.append(
            {
                "name": action.name,
                "label": action.label,
                "form": form,
                "missing": missing_elements(referral, action.name),
                "open": action.name in request.bound_forms,
                "confirm": action.confirm,
                "url": reverse("referrals:action", args=[referral.pk, action.name]),
            }
        )
    events = list(TimelineEvent.objects.filter(referral=referral).select_related("actor").order_by("at", "id"))
    panels = []
    for panel in registry.panels:
        context = panel.context(request, referral)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    # What else is the user's to do now (the committee's missing dossier papers), in the 办理 card.
    tasks = []
    for task in registry.tasks:
        context = task.context(request, referral)
        if context is not None:
            tasks.append({"template": task.template, "context": context})
    # The action bar (held at the bottom of a phone's screen): the steps and the panels' own forms, in
    # the registry's order; each button opens its form (``id="action-<name>"`` on the page).
    quick = [name for p in panels for name in p["context"].get("quick", ())]
    entries = sorted((registry.action(name) for name in [*(a["name"] for a in actions), *quick]), key=lambda a: a.order)
    bar = [{"label": entry.label, "target": f"action-{entry.name}"} for entry in entries]
    context = {
        "referral": referral,
        "bar": bar,
        "mediators": sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.name)),
        "full_data": permissions.can_see_personal_data(user, referral),
        "parties": list(referral.parties.all()),
        "actions": actions,
        "can_edit": permissions.can(user, referral, "update_draft"),
        "events": events,
        # While a returned referral waits for its office, why it came back stands among its facts.
        "last_return": next((e for e in reversed(events) if e.action == "decline"), None)
        if referral.state == State.DECLINED
        else None,
        "panels": panels,
        "tasks": tasks,
        "repeats": repeats.check(referral, user=user, request=request),
        "petition_clock": petition_clock_context(referral),
    }
    if context["full_data"] and not bound:
        log_access(request, AccessLog.Action.VIEW_PERSONAL_DATA, referral=referral)
    return render(request, "referrals/referral_detail.html", context, status=400 if bound else 200)


def petition_clock_context(referral) -> dict:
    """The petition's own clock, shown beside the current stage's on the referral page."""
    extension = (
        PetitionExtension.objects.filter(referral=referral).first() if referral.petition_extension_days else None
    )
    return {
        "accepted_on": petition_start(referral),
        "due_on": referral.petition_due_on,
        "provisional": referral.petition_provisional,
        "status": petition_status(referral),
        "extension": extension,
        "late_acceptance": intake.acceptance_warning(referral.received_on, referral.petition_accepted_on),
        "days": settings.FANGDIAO["PETITION_DAYS"],
        "max_extension": settings.FANGDIAO["PETITION_EXTENSION_MAX_DAYS"],
    }


def petition_extension_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """延期告知书: the notice to the petitioner of the petition clock's extension and its reason
    (信访工作条例 Art. 34), print-ready like the mediation documents. Whoever may see the referral;
    404 until the clock has been extended. Names only: no personal data to audit."""
    referral = permissions.get_referral_for_user(request.user, pk)
    extension = PetitionExtension.objects.filter(referral=referral).select_related("by").first()
    if extension is None:
        raise Http404
    context = {
        "referral": referral,
        "title": _("信访事项延期办理告知书"),
        "extension": extension,
        "petitioners": list(referral.parties.filter(role=Party.Role.PETITIONER)),
        "accepted_on": petition_start(referral),
        "petition_days": settings.FANGDIAO["PETITION_DAYS"],
        "today": timezone.localdate(),
    }
    return render(request, "referrals/print_petition_extension.html", context)


def access_log(request: HttpRequest) -> HttpResponse:
    """The read audit of the supervisor's region: who saw personal data, downloaded or exported."""
    entries = permissions.access_log_visible_to(request.user)
    if not permissions.may_read_access_log(request.user):
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


def copy_errors(form, exc: InvalidInput | MissingElements) -> None:
    """A workflow refusal shown on the form that asked for it: a missing element at the field that
    gives it (the form's ``field_of``), else at the top; a bad value at its field."""
    if isinstance(exc, MissingElements):
        field_of = getattr(form, "field_of", lambda code: None)
        for m in exc.missing:
            field = field_of(m.code)
            if field is None:
                form.add_error(None, m.message)
            else:
                form.add_error(field, ValidationError(_("缺少必备要件：%s") % m.message, code="missing"))
        return
    for field, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


def referral_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST an action's form (a step of the action bar or a record of a panel): on success back to the
    referral, else the page with the form and its errors."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    referral = permissions.get_referral_for_user(request.user, pk, queryset=referral_queryset(request.user))
    if action not in registry or registry.action(action).form is None:
        return HttpResponse(status=404)
    entry = registry.action(action)
    permissions.require(request.user, referral, action)
    form = entry.form(request.POST, request.FILES, referral=referral, user=request.user, auto_id=action_auto_id(action))
    if form.is_valid():
        try:
            perform(entry, referral, by=request.user, payload=form.payload())
        except (MissingElements, InvalidInput) as exc:
            copy_errors(form, exc)
        else:
            done = entry.done or _("已%(action)s：%(number)s") % {"action": entry.label, "number": referral.number}
            messages.success(request, done)
            return redirect("referrals:detail", pk=referral.pk)
    return referral_detail(request, pk, bound={action: form})
