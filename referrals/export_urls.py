from django.urls import path

from referrals import exports, leader_cases_api

urlpatterns = [
    path("exports/referrals.xlsx", exports.ReferralLedgerExport.as_view(), name="api-export-referrals"),
    path("exports/leader-cases.xlsx", leader_cases_api.LeaderCaseExport.as_view(), name="api-export-leader-cases"),
]
