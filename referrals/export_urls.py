from django.urls import path

from referrals import exports

urlpatterns = [
    path("exports/referrals.xlsx", exports.ReferralLedgerExport.as_view(), name="api-export-referrals"),
]
