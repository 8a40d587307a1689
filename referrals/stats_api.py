"""``GET /api/stats/summary/`` (docs/api.md) and the statistics workbook.

Both answer within the user's scope (``referrals/stats.py``): bad parameters are a 400 naming each
one, a region outside what a supervisor supervises is a 403.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from lib.spreadsheets import Column, SheetWriter, dated_filename, new_workbook, xlsx_response
from referrals import stats

SCOPE_PARAMETERS = [
    OpenApiParameter("region", str, description="区划代码 (NBS), e.g. 440703; prefix = containment"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="信访登记日期 from (YYYY-MM-DD), inclusive"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="信访登记日期 to (YYYY-MM-DD), inclusive"),
    OpenApiParameter("target", int, description="receiving organisation id"),
    OpenApiParameter("origin", int, description="referring petition office id"),
    OpenApiParameter("category", str, description="dispute category code"),
]


def scope_from_request(request) -> stats.Scope:
    try:
        return stats.parse_scope(request.user, request.query_params)
    except stats.ScopeInvalid as exc:
        raise serializers.ValidationError(exc.errors) from None
    except stats.ScopeForbidden as exc:
        raise exceptions.PermissionDenied(str(exc), code="region_out_of_scope") from None


# --- Response schema (documentation only: the view returns ``stats.summary`` as it is) ---------


class RowSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    accepted = serializers.IntegerField()
    concluded = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    closed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True, help_text="succeeded ÷ concluded, 0–1")


class TownshipRowSerializer(RowSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(help_text="township, or county/city for referrals held at that level (本级)")
    county_code = serializers.CharField()
    county_name = serializers.CharField()


class NamedRowSerializer(RowSerializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MonthRowSerializer(RowSerializer):
    month = serializers.CharField(help_text="YYYY-MM of the received date")


class SummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_state = serializers.DictField(child=serializers.IntegerField())
    by_category = serializers.DictField(child=serializers.IntegerField())
    by_township = TownshipRowSerializer(many=True)
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    concluded = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    avg_days_to_conclude = serializers.FloatField(allow_null=True)
    figures = serializers.DictField(help_text="every figure by key; definitions in docs/statistics.md")
    by_county = NamedRowSerializer(many=True)
    categories = NamedRowSerializer(many=True)
    by_month = MonthRowSerializer(many=True)
    scope = serializers.DictField()


class StatsSummary(APIView):
    @extend_schema(
        operation_id="stats_summary",
        parameters=SCOPE_PARAMETERS,
        responses={200: SummarySerializer, **error_responses(400, 401, 403)},
        description="Figures of the referrals the user may see, received in the period (docs/api.md).",
    )
    def get(self, request):
        return Response(stats.summary(scope_from_request(request)))


# --- The statistics workbook ---------------------------------------------------------------------

ROW_COLUMNS = [
    ("total", gettext_lazy("受理案件")),
    ("open", gettext_lazy("在办")),
    ("accepted", gettext_lazy("已受理")),
    ("concluded", gettext_lazy("调解结束")),
    ("succeeded", gettext_lazy("调解成功")),
    ("failed", gettext_lazy("调解终止")),
    ("closed", gettext_lazy("已办结")),
    ("overdue", gettext_lazy("已超期")),
    ("success_rate", gettext_lazy("成功率(%)")),
]

# The overview sheet: figures in the order a report reads them.
OVERVIEW = (
    *stats.LEADING_COUNTS,
    "success_rate",
    "answered_on_time",
    "acceptance_due",
    "timely_acceptance_rate",
    "concluded_on_time",
    "conclusion_due",
    "on_time_conclusion_rate",
    "closed_on_time",
    "closing_due",
    "closed_on_time_rate",
    "petition_on_time",
    "petition_due",
    "petition_on_time_rate",
    "avg_days_to_accept",
    "median_days_to_accept",
    "avg_days_to_conclude",
    "median_days_to_conclude",
    "agreements",
    "agreements_written",
    "agreements_oral",
    "amount_involved",
    "agreements_performed",
    "judicially_confirmed",
    "followups_visited",
    "satisfied",
    "dissatisfied",
    "satisfaction_rate",
    "rated_by_party",
    "party_satisfied",
    "party_satisfaction_rate",
    "supervision_overdue",
)

UNITS = {
    stats.COUNT: gettext_lazy("件"),
    stats.RATE: "%",
    stats.DAYS: gettext_lazy("天"),
    stats.AMOUNT: gettext_lazy("元"),
}


def cell_value(unit: str, value: Any):
    """A figure as a number Excel can sum: rates as percentages, amounts as numbers."""
    if value is None:
        return None
    if unit == stats.RATE:
        return round(value * 100, 2)
    if unit == stats.AMOUNT:
        return float(value)
    return value


def _row_values(row: dict[str, Any]) -> list:
    return [cell_value(stats.FIGURES[key].unit, row[key]) for key, _title in ROW_COLUMNS]


def statistics_workbook(scope: stats.Scope, data: dict[str, Any]):
    workbook = new_workbook()
    where = scope.region.name if scope.region else _("全部")
    period = f"{data['scope']['from'] or _('不限')} — {data['scope']['to'] or _('不限')}"
    caption = _("访调对接统计表 · %(where)s · 信访登记日期 %(period)s · 生成于 %(at)s") % {
        "where": where,
        "period": period,
        "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    overview = SheetWriter(
        workbook,
        _("概况"),
        [Column(_("指标"), 18), Column(_("数值"), 14), Column(_("单位"), 8), Column(_("定义"), 90)],
        caption=caption,
    )
    for key in OVERVIEW:
        figure = stats.FIGURES.get(key)
        if figure is None or key not in data["figures"]:
            continue
        value = data["figures"][key]
        overview.write([str(figure.label), cell_value(figure.unit, value), UNITS[figure.unit], str(figure.definition)])
    sheets = [
        (_("按月"), [Column(_("月份"), 10)], [[r["month"]] for r in data["by_month"]], data["by_month"]),
        (
            _("按区县"),
            [Column(_("区划代码"), 12), Column(_("区县"), 12)],
            [[r["code"], r["name"]] for r in data["by_county"]],
            data["by_county"],
        ),
        (
            _("按镇街"),
            [Column(_("区划代码"), 12), Column(_("区县"), 12), Column(_("镇街"), 16)],
            [[r["code"], r["county_name"], r["name"]] for r in data["by_township"]],
            data["by_township"],
        ),
        (_("按类别"), [Column(_("纠纷类别"), 14)], [[r["name"]] for r in data["categories"]], data["categories"]),
    ]
    for title, heads, keys, rows in sheets:
        sheet = SheetWriter(workbook, title, heads + [Column(t, 10) for _k, t in ROW_COLUMNS], caption=caption)
        for key_cells, row in zip(keys, rows, strict=True):
            sheet.write(key_cells + _row_values(row))
    return workbook


class StatisticsWorkbook(APIView):
    @extend_schema(
        operation_id="statistics_workbook",
        parameters=SCOPE_PARAMETERS,
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes,
            **error_responses(400, 401, 403),
        },
        description="The summary's figures as a workbook: overview, by month, county, township and category.",
    )
    def get(self, request):
        scope = scope_from_request(request)
        data = stats.summary(scope)
        return xlsx_response(statistics_workbook(scope, data), dated_filename(_("访调对接统计表")))
