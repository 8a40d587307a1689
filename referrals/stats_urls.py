"""Statistics API (mounted at /api/): the summary of docs/api.md and the statistics workbook."""

from django.urls import path

from referrals import stats_api

urlpatterns = [
    path("stats/summary/", stats_api.StatsSummary.as_view(), name="api-stats-summary"),
    path("exports/statistics.xlsx", stats_api.StatisticsWorkbook.as_view(), name="api-stats-workbook"),
]
