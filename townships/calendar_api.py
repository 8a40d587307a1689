"""Working-day calendar API (docs/api.md.1, docs/clocks.md).

- ``GET /api/calendar/?year=YYYY`` → ``{year, confirmed, days: [{date, working, kind, name, confirmed}]}``,
  one entry per day of the year, as deadlines count them: the stored calendar, and for days it does
  not hold what loading the year would store (the statutory rule where nothing is published), never
  confirmed. Any logged-in user; 400 for a year that is not a number in 2000–2100.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from townships.calendar import default_calendar
from townships.models import CalendarDay

FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarQuery(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        error_messages={
            "required": _("请指定年份。"),
            "invalid": _("年份须为数字。"),
            "min_value": _("年份须在 2000 至 2100 之间。"),
            "max_value": _("年份须在 2000 至 2100 之间。"),
        },
    )


class CalendarDayOut(serializers.Serializer):
    date = serializers.DateField()
    working = serializers.BooleanField(help_text="a working day (deadlines count it)")
    kind = serializers.ChoiceField(choices=CalendarDay.Kind.choices)
    name = serializers.CharField(allow_blank=True, help_text="the holiday's name, on holidays and make-up working days")
    confirmed = serializers.BooleanField(
        help_text="false: computed (the statutory rule, no published calendar yet) or not confirmed by an administrator"
    )


class CalendarYearOut(serializers.Serializer):
    year = serializers.IntegerField()
    confirmed = serializers.BooleanField(help_text="every day of the year confirmed; false: the year is provisional")
    days = CalendarDayOut(many=True)


class CalendarYear(APIView):
    @extend_schema(
        operation_id="calendar_year",
        parameters=[
            OpenApiParameter(
                "year",
                {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
                required=True,
                description="the calendar year, 2000–2100",
            )
        ],
        responses={200: CalendarYearOut, **error_responses(400, 401)},
    )
    def get(self, request):
        query = CalendarQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["year"]
        days = [
            {
                "date": date.isoformat(),
                "working": day.is_workday,
                "kind": day.kind,
                "name": day.name,
                "confirmed": day.confirmed,
            }
            for date, day in default_calendar().year(year)
        ]
        return Response({"year": year, "confirmed": all(d["confirmed"] for d in days), "days": days})
