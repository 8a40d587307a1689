"""Roster pages: the roster list, and the import (upload → preview → apply, with its error list)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from townships.forms import RosterFilterForm, RosterImportForm
from townships.importers import apply_preview, import_for, imports_of, may_apply, runner, start_roster_import
from townships.makeup import makeup_warnings
from townships.models import Mediator, Organisation, Region, RosterImport
from townships.roles import (
    RosterMasks,
    committees_managed_by,
    committees_viewable_by,
    may_manage_some_roster,
    roster_search,
)
from townships.roster_import import undo
from townships.roster_import.people import people_lists
from townships.roster_import.undo import may_undo, undo_deadline

PAGE_SIZE = 50


def _region_choices(committees) -> list[tuple[str, str]]:
    """Counties and townships that have a committee the user may read, county first."""
    codes = {c.region.code[:6] for c in committees} | {c.region.code[:9] for c in committees if len(c.region.code) >= 9}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [(code, names[code] if len(code) == 6 else f"　{names[code]}") for code in sorted(codes) if code in names]


def rosters(request: HttpRequest) -> HttpResponse:
    """The roster entries of the committees the user may read, filtered; masked for non-keepers."""
    user = request.user
    committees = committees_viewable_by(user).select_related("region__parent").order_by("region__code", "name")
    committee_list = list(committees)
    manager = may_manage_some_roster(user)
    if not committee_list and not manager:
        raise PermissionDenied(_("您没有可查看的调解员花名册。"))
    form = RosterFilterForm(request.GET or None, committees=committees, regions=_region_choices(committee_list))
    mediators = Mediator.objects.filter(committee__in=committees.values("pk"))
    status = "active"
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"] or "active"
        if data["committee"]:
            mediators = mediators.filter(committee=data["committee"])
        if data["region"]:
            mediators = mediators.filter(committee__region__code__startswith=data["region"])
        if data["position"]:
            mediators = mediators.filter(position=data["position"])
        if data["employment"]:
            mediators = mediators.filter(employment=data["employment"])
        if search := data["search"].strip():
            mediators = mediators.filter(roster_search(search))
    if status == "active":
        mediators = mediators.filter(active=True)
    elif status == "inactive":
        mediators = mediators.filter(active=False)
    mediators = mediators.select_related("committee__region").order_by(
        "committee__region__code", "committee__name", "name"
    )
    page = Paginator(mediators, PAGE_SIZE).get_page(request.GET.get("page"))
    masks = RosterMasks(user)
    rows = [{"m": m, "id_number": masks.id_number(m), "mobile": masks.mobile(m)} for m in page]
    params = request.GET.copy()
    params.pop("page", None)
    data = form.cleaned_data if form.is_valid() else {}
    export = {
        "organisation": data.get("committee").pk if data.get("committee") else "",
        "region": data.get("region", ""),
        "active": {"active": "true", "inactive": "false"}.get(status, "all"),
        "search": data.get("search", ""),
    }
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "params": params.urlencode(),
        "manager": manager,
        "export_url": reverse("api-export-roster") + "?" + urlencode({k: v for k, v in export.items() if v}),
        "makeup": makeup_warnings(committees.filter(pk=data["committee"].pk) if data.get("committee") else committees),
    }
    return render(request, "townships/roster_list.html", context)


def _require_manager(request: HttpRequest) -> None:
    if not may_manage_some_roster(request.user):
        raise PermissionDenied(_("只有司法所、司法局负责花名册的人员可以导入花名册。"))


def import_roster(request: HttpRequest) -> HttpResponse:
    """Upload a roster: it is checked (a dry run) and the preview shown; nothing is written yet."""
    _require_manager(request)
    committees = committees_managed_by(request.user).select_related("region__parent").order_by("region__code", "name")
    if request.method == "POST":
        form = RosterImportForm(request.POST, request.FILES, committees=committees)
        if form.is_valid():
            record = start_roster_import(
                user=request.user,
                upload=form.cleaned_data["file"],
                dry_run=True,
                replace=form.cleaned_data["replace"],
                default_committee=form.cleaned_data["committee"],
                run=runner(),
            )
            return redirect("townships:import_detail", pk=record.pk)
    else:
        form = RosterImportForm(committees=committees)
    recent = imports_of(request.user).order_by("-id")[:10]
    return render(request, "townships/import_roster.html", {"form": form, "recent": recent})


def _own_import(request: HttpRequest, pk: int) -> RosterImport:
    try:
        return imports_of(request.user).select_related("preview", "default_committee").get(pk=pk)
    except RosterImport.DoesNotExist:
        raise Http404 from None


def _visible_import(request: HttpRequest, pk: int) -> RosterImport:
    try:
        return import_for(request.user, pk)
    except RosterImport.DoesNotExist:
        raise Http404 from None


def roster_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's report: counts, who is created, changed or taken off the roster, every mistake by
    row and column, and what may be done next (apply a preview, undo an apply)."""
    record = _visible_import(request, pk)
    applied_by = record.applies.filter(applied=True).order_by("-id").first() if record.dry_run else None
    deadline = undo_deadline(record)
    context = {
        "record": record,
        "running": record.status in (RosterImport.Status.QUEUED, RosterImport.Status.RUNNING),
        "can_apply": may_apply(record) and may_manage_some_roster(request.user),
        "applied_by": applied_by,
        "undo_until": deadline if deadline and deadline > timezone.now() and may_undo(request.user, record) else None,
        "people": people_lists(record),
        "errors_url": reverse("api-roster-import-errors", args=[record.pk])
        if record.error_count and record.file.name
        else "",
        "status_url": reverse("api-roster-import", args=[record.pk]),
        # After an import is applied: how the committees it touched now stand (人民调解法 Art. 9).
        "makeup": makeup_warnings(
            Organisation.objects.filter(pk__in=[c["id"] for c in record.committees if c.get("id")])
        )
        if record.applied and not record.undone_at
        else [],
    }
    return render(request, "townships/roster_import_detail.html", context)


def apply_roster_import(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_manager(request)
    preview = _own_import(request, pk)
    record = apply_preview(preview, user=request.user, run=runner())
    if record is None:
        messages.error(request, _("这份预览已导入或有错误，不能再次确认。请重新上传文件。"))
        return redirect("townships:import_detail", pk=preview.pk)
    if record.applied:
        messages.success(
            request,
            _(
                "已导入：新增 %(created)d 人，更新 %(updated)d 人，"
                "未变 %(unchanged)d 人，标为不在册 %(deactivated)d 人。24小时内可在本页撤销。"
            )
            % {
                "created": record.created,
                "updated": record.updated,
                "unchanged": record.unchanged,
                "deactivated": record.deactivated,
            },
        )
    return redirect("townships:import_detail", pk=record.pk)


def undo_roster_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo an applied import (the detail page's button, after a confirmation)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_manager(request)
    record = _visible_import(request, pk)
    try:
        result = undo.undo_roster_import(record, by=request.user)
    except undo.UndoRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, result.summary())
    return redirect("townships:import_detail", pk=record.pk)
