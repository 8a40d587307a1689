"""Roster API (docs/api.md): imports, the import template, and the roster export.

- ``POST /api/roster-imports/`` multipart ``{file, dry_run, replace?, committee?}`` → the report:
  200 dry run, 201 applied, 202 still running (a large file in scaled mode), 400 when any row has
  a mistake or the file is refused (nothing written), 403 when the user may manage no roster or the
  file touches rosters that are not theirs.
- ``GET /api/roster-imports/{id}/`` → the report; ``POST .../{id}/apply/`` applies a clean dry run;
  ``POST .../{id}/undo/`` undoes an apply within 24 hours (409 with the reason when it may not be);
  ``GET .../{id}/errors.xlsx`` → the original rows with an error column.
- ``GET /api/roster-template/`` → the xlsx template.
- ``GET /api/exports/roster.xlsx?organisation=&region=&active=`` → the rosters the user may read.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import ErrorSerializer, error_responses
from lib.spreadsheets import Column, SheetWriter, dated_filename, new_workbook, xlsx_response
from townships.categories import Category
from townships.importers import apply_preview, import_for, imports_of, report_json, runner, start_roster_import
from townships.models import Mediator, Organisation, Region, RosterImport
from townships.roles import (
    RosterMasks,
    committees_managed_by,
    committees_viewable_by,
    may_manage_some_roster,
    roster_search,
)
from townships.roster_import.columns import COLUMN_BY_KEY, TEMPLATE_COLUMNS
from townships.roster_import.undo import UndoRefused, undo_roster_import
from townships.roster_import.workbooks import error_workbook, template_workbook
from townships.signals import roster_exported

Status = RosterImport.Status


def forbidden(message: str) -> Response:
    return Response({"detail": message, "code": "forbidden"}, status=status.HTTP_403_FORBIDDEN)


def no_roster_rights() -> Response:
    return forbidden(_("只有司法所、司法局负责花名册的人员可以导入花名册。"))


def report_response(record: RosterImport) -> Response:
    """The report with the status code of its outcome."""
    body = report_json(record)
    if record.status in (Status.QUEUED, Status.RUNNING):
        return Response(body, status=status.HTTP_202_ACCEPTED)
    if record.status == Status.SUCCEEDED:
        return Response(body, status=status.HTTP_201_CREATED if record.applied else status.HTTP_200_OK)
    if record.status == Status.INVALID:
        if any(e.get("code") == "forbidden" for e in record.errors):
            return Response({**body, "code": "forbidden"}, status=status.HTTP_403_FORBIDDEN)
        return Response({**body, "code": "invalid_rows"}, status=status.HTTP_400_BAD_REQUEST)
    if record.status == Status.REFUSED:
        errors = [{"row": None, "column": "", "letter": "", "message": record.detail, "code": "file_refused"}]
        return Response({**body, "errors": errors, "code": "file_refused"}, status=status.HTTP_400_BAD_REQUEST)
    return Response({**body, "code": "import_failed"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


XLSX_RESPONSE = {(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY}


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row number as Excel shows it")
    column = serializers.CharField(help_text="The column's header as written in the file")
    letter = serializers.CharField(help_text="The column letter (A, B, ...)")
    message = serializers.CharField()
    code = serializers.CharField(help_text='"invalid", "forbidden" or "file_refused"')


class RosterPersonSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row number as Excel shows it (none for the absent)")
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="Masked: region and last four digits")
    committee = serializers.CharField(help_text="The committee's name")


class RosterFieldChangeSerializer(serializers.Serializer):
    field = serializers.ChoiceField(
        choices=["name", "sex", "mobile", "position", "employment", "specialities", "note", "active"]
    )
    label = serializers.CharField(help_text="The column's name in the template (在册 for active)")
    old = serializers.CharField(help_text="The value before, as the roster shows it (labels, not codes)")
    new = serializers.CharField(help_text="The value after, as the roster shows it")


class RosterChangedPersonSerializer(RosterPersonSerializer):
    changes = RosterFieldChangeSerializer(many=True)


class RosterPeopleSerializer(serializers.Serializer):
    """Person by person, what the import will do (a dry run) or did (an apply). Each list holds the
    first 2,000 at most; ``created``, ``updated`` and ``deactivated`` of the report count them all.
    Empty when the file has mistakes (nothing is written)."""

    created = RosterPersonSerializer(many=True, help_text="Put on the roster")
    updated = RosterChangedPersonSerializer(many=True, help_text="On the roster already, with what changes")
    deactivated = RosterPersonSerializer(many=True, help_text="Replace mode: off the roster (不在册), not deleted")


class RosterImportReportSerializer(serializers.Serializer):
    """The shape of ``report_json`` (for the API schema)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField()
    replace = serializers.BooleanField()
    file_name = serializers.CharField()
    file_sha256 = serializers.CharField()
    sheet = serializers.CharField()
    header_row = serializers.IntegerField(allow_null=True)
    total_rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deactivated = serializers.IntegerField()
    people = RosterPeopleSerializer()
    committees = serializers.ListField(child=serializers.DictField())
    error_count = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    detail = serializers.CharField()
    preview = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    undoable_until = serializers.DateTimeField(
        allow_null=True, help_text="An applied import may be undone until then (POST .../undo/); null otherwise"
    )
    undone_at = serializers.DateTimeField(allow_null=True)


class RosterImportRefusedReportSerializer(RosterImportReportSerializer):
    # A plain string: a second "status" enum of the same choices would get a hashed name.
    status = serializers.CharField(help_text='"invalid" or "refused"')
    code = serializers.CharField(help_text='"invalid_rows", "file_refused" or "forbidden"')


# A refused batch answers with its report; a request refused before any batch (no roster rights, a
# form error) with the plain error body. Only the report has an ``id``, only the error ``errors`` as an
# object: exactly one of the two fits each answer.
REFUSAL = PolymorphicProxySerializer(
    component_name="RosterImportRefusal",
    serializers=[RosterImportRefusedReportSerializer, ErrorSerializer],
    resource_type_field_name=None,
)

REPORT_RESPONSES = {
    200: RosterImportReportSerializer,
    201: RosterImportReportSerializer,
    202: RosterImportReportSerializer,
    400: REFUSAL,
    403: REFUSAL,
    **error_responses(401),
}


class RosterImportUpload(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    dry_run = serializers.BooleanField(required=False, default=True)
    replace = serializers.BooleanField(required=False, default=False)
    committee = serializers.IntegerField(required=False, allow_null=True, default=None)


class RosterImportCreate(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": RosterImportUpload}, responses={**REPORT_RESPONSES, **error_responses(415)}
    )
    def post(self, request):
        if not may_manage_some_roster(request.user):
            return no_roster_rights()
        serializer = RosterImportUpload(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        committee = None
        if data["committee"] is not None:
            committee = (
                committees_managed_by(request.user).select_related("region").filter(pk=data["committee"]).first()
            )
            if committee is None:
                return forbidden(_("您无权维护该调委会的花名册。"))
        record = start_roster_import(
            user=request.user,
            upload=data["file"],
            dry_run=data["dry_run"],
            replace=data["replace"],
            default_committee=committee,
            run=runner(),
        )
        return report_response(record)


def own_import(user, pk: int) -> RosterImport:
    try:
        return imports_of(user).get(pk=pk)
    except RosterImport.DoesNotExist:
        raise Http404 from None


def visible_import(user, pk: int) -> RosterImport:
    try:
        return import_for(user, pk)
    except RosterImport.DoesNotExist:
        raise Http404 from None


class RosterImportDetail(APIView):
    @extend_schema(responses={200: RosterImportReportSerializer, **error_responses(401, 404)})
    def get(self, request, pk: int):
        return Response(report_json(visible_import(request.user, pk)))


class RosterImportApply(APIView):
    @extend_schema(request=None, responses={**REPORT_RESPONSES, **error_responses(401, 404, 409)})
    def post(self, request, pk: int):
        preview = own_import(request.user, pk)
        if not may_manage_some_roster(request.user):
            return no_roster_rights()
        record = apply_preview(preview, user=request.user, run=runner())
        if record is None:
            return Response(
                {"detail": _("只有检查无误、尚未导入的预览才能确认导入。请重新上传文件。"), "code": "not_available"},
                status=status.HTTP_409_CONFLICT,
            )
        return report_response(record)


class RosterImportUndo(APIView):
    @extend_schema(
        request=None,
        responses={200: RosterImportReportSerializer, **error_responses(401, 403, 404, 409)},
        description=(
            "Undo an applied import within 24 hours of its end: changed entries get their earlier values, "
            "entries it took off the roster are back, entries it created are deleted (or taken off the "
            "roster when a referral names them). The person who applied it, or a keeper of every roster it "
            "touched. 409 (nothing changed) when it is not an applied import, was undone already, is too "
            "old, or an entry it touched was changed since (by a later import: undo that one first)."
        ),
    )
    def post(self, request, pk: int):
        record = visible_import(request.user, pk)
        try:
            undo_roster_import(record, by=request.user)
        except UndoRefused as refusal:
            return Response({"detail": refusal.message, "code": refusal.code}, status=status.HTTP_409_CONFLICT)
        record.refresh_from_db()
        return Response(report_json(record))


class RosterImportErrors(APIView):
    @extend_schema(responses={**XLSX_RESPONSE, **error_responses(401, 404)})
    def get(self, request, pk: int):
        record = own_import(request.user, pk)
        if not record.error_count or not record.file.name:
            raise Http404
        stem = _("花名册错误清单_%s") % record.file_name.rsplit(".", 1)[0][:40]
        return xlsx_response(error_workbook(record), dated_filename(stem))


class RosterTemplate(APIView):
    @extend_schema(responses={**XLSX_RESPONSE, **error_responses(401, 403)})
    def get(self, request):
        if not may_manage_some_roster(request.user):
            return no_roster_rights()
        return xlsx_response(template_workbook(request.user), dated_filename(_("人民调解员花名册导入模板")))


# --- Roster export -----------------------------------------------------------------------------


def export_columns() -> list[Column]:
    widths = {"committee": 28, "id_number": 22, "mobile": 15, "specialities": 24, "note": 24}
    return [
        *(Column(str(COLUMN_BY_KEY[k].label), widths.get(k, 12)) for k in TEMPLATE_COLUMNS),
        Column(_("在册"), 8),
        Column(_("更新时间"), 18),
    ]


def roster_rows(user, mediators, place_names: dict[str, str]):
    """Rows of the export, masked per committee: full data for those who keep the roster.

    The columns are the import template's, so a keeper's export can be edited and imported back.
    """
    masks = RosterMasks(user)
    labels = dict(Category.choices)
    for m in mediators:
        committee = m.committee
        code = committee.region.code
        yield [
            place_names.get(code[:6], ""),
            place_names.get(code[:9], "") if len(code) >= 9 else "",
            committee.name,
            m.name,
            m.get_sex_display(),
            masks.id_number(m),
            masks.mobile(m),
            m.get_position_display(),
            m.get_employment_display(),
            "、".join(str(labels[s]) for s in m.specialities if s in labels),
            m.note,
            _("在册") if m.active else _("不在册"),
            m.updated_at,
        ]


# ``active`` of the export: the entries on the roster, off it, or both (None).
ACTIVE_FILTERS: dict[str, bool | None] = {"1": True, "true": True, "0": False, "false": False, "all": None}


def export_scope(committees, params) -> tuple:
    """The committees an export covers (``organisation``, ``region``) and the name for its file."""
    scope_name = ""
    if organisation := params.get("organisation"):
        if not organisation.isdigit():
            raise serializers.ValidationError({"organisation": [_("应为数字。")]})
        committee = committees.filter(pk=int(organisation)).first()
        if committee is None:
            raise Http404
        committees = committees.filter(pk=committee.pk)
        scope_name = committee.name
    if region := params.get("region"):
        if not region.isdigit() or len(region) > 12:
            raise serializers.ValidationError({"region": [_("区划代码应为数字。")]})
        committees = committees.filter(region__code__startswith=region)
        scope_name = scope_name or Region.objects.filter(code=region).values_list("name", flat=True).first() or ""
    return committees, scope_name


class RosterExport(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("organisation", int),
            OpenApiParameter("region", str, description="region code (NBS) or its prefix: digits, at most 12"),
            OpenApiParameter("active", str, enum=["true", "false", "all"], description="default true"),
            OpenApiParameter("search", str),
        ],
        responses={**XLSX_RESPONSE, **error_responses(400, 401, 404)},
    )
    def get(self, request):
        params = request.query_params
        committees, scope_name = export_scope(committees_viewable_by(request.user), params)
        mediators = Mediator.objects.filter(committee__in=committees.values("pk"))
        active = ACTIVE_FILTERS.get(params.get("active", "true").lower(), "invalid")
        if active == "invalid":
            raise serializers.ValidationError({"active": [_("应为 true、false 或 all。")]})
        if active is not None:
            mediators = mediators.filter(active=active)
        if search := params.get("search", "").strip():
            mediators = mediators.filter(roster_search(search))
        mediators = mediators.select_related("committee__region").order_by(
            "committee__region__code", "committee__name", "name", "pk"
        )
        place_names = dict(
            Region.objects.filter(level__in=(Region.Level.COUNTY, Region.Level.TOWNSHIP)).values_list("code", "name")
        )
        workbook = new_workbook()
        writer = SheetWriter(workbook, _("人民调解员花名册"), export_columns())
        regions: set[str] = set()

        def counted(items):
            for mediator in items:
                regions.add(mediator.committee.region.code)
                yield mediator

        rows = 0
        for row in roster_rows(request.user, counted(mediators.iterator(chunk_size=2000)), place_names):
            writer.write(row)
            rows += 1
        roster_exported.send(RosterExport, request=request, rows=rows, region_codes=regions)
        stem = _("人民调解员花名册")
        if scope_name:
            stem = f"{stem}_{scope_name}"
        return xlsx_response(workbook, dated_filename(stem))


def organisation_choices(user) -> list[Organisation]:
    """The committees whose roster the user may read, for filters and the import form."""
    return list(committees_viewable_by(user).select_related("region").order_by("region__code", "name"))
