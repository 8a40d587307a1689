from django.urls import path

from referrals import api, saved_filters_api

urlpatterns = [
    path("organisations/", api.OrganisationList.as_view(), name="api-organisations"),
    path("mediators/", api.MediatorList.as_view(), name="api-mediators"),
    path("referrals/", api.ReferralListCreate.as_view(), name="api-referrals"),
    path("referrals/<int:pk>/", api.ReferralDetail.as_view(), name="api-referral"),
    path("referrals/<int:pk>/actions/<slug:action>/", api.ReferralAction.as_view(), name="api-referral-action"),
    path("referrals/<int:pk>/timeline/", api.ReferralTimeline.as_view(), name="api-referral-timeline"),
    path("saved-filters/", saved_filters_api.SavedFilterList.as_view(), name="api-saved-filters"),
    path("saved-filters/<int:pk>/", saved_filters_api.SavedFilterDetail.as_view(), name="api-saved-filter"),
]
