from django.urls import path

from referrals import api

urlpatterns = [
    path("auth/token/", api.ObtainToken.as_view(), name="api-token"),
    path("organisations/", api.OrganisationList.as_view(), name="api-organisations"),
    path("mediators/", api.MediatorList.as_view(), name="api-mediators"),
    path("referrals/", api.ReferralListCreate.as_view(), name="api-referrals"),
    path("referrals/<int:pk>/", api.ReferralDetail.as_view(), name="api-referral"),
    path("referrals/<int:pk>/actions/<slug:action>/", api.ReferralAction.as_view(), name="api-referral-action"),
    path("referrals/<int:pk>/timeline/", api.ReferralTimeline.as_view(), name="api-referral-timeline"),
]
