from django.urls import path

from referrals import (
    api,
    appeals_api,
    assignments_api,
    case_groups_api,
    lawyers_api,
    leader_cases_api,
    links_api,
    saved_filters_api,
)

urlpatterns = [
    path("organisations/", api.OrganisationList.as_view(), name="api-organisations"),
    path("mediators/", api.MediatorList.as_view(), name="api-mediators"),
    path("referrals/", api.ReferralListCreate.as_view(), name="api-referrals"),
    path("referrals/<int:pk>/", api.ReferralDetail.as_view(), name="api-referral"),
    path("referrals/<int:pk>/actions/<slug:action>/", api.ReferralAction.as_view(), name="api-referral-action"),
    path("referrals/<int:pk>/timeline/", api.ReferralTimeline.as_view(), name="api-referral-timeline"),
    path("referrals/<int:pk>/leader/", leader_cases_api.ReferralLeader.as_view(), name="api-referral-leader"),
    path(
        "referrals/<int:pk>/assignment/", assignments_api.ReferralAssignment.as_view(), name="api-referral-assignment"
    ),
    path("assignments/", assignments_api.AssignmentList.as_view(), name="api-assignments"),
    path("referrals/<int:pk>/reply/", appeals_api.ReferralReply.as_view(), name="api-referral-reply"),
    path("referrals/<int:pk>/appeals/", appeals_api.ReferralAppeals.as_view(), name="api-referral-appeals"),
    path(
        "referrals/<int:pk>/appeals/answer/",
        appeals_api.ReferralAppealAnswer.as_view(),
        name="api-referral-appeal-answer",
    ),
    path("appeals/", appeals_api.AppealList.as_view(), name="api-appeals"),
    path("referrals/<int:pk>/links/", links_api.ReferralLinks.as_view(), name="api-referral-links"),
    path("referrals/<int:pk>/links/<int:other>/", links_api.ReferralLink.as_view(), name="api-referral-link"),
    path("case-groups/", case_groups_api.CaseGroups.as_view(), name="api-case-groups"),
    path("case-groups/figures/", case_groups_api.CaseGroupFigures.as_view(), name="api-case-group-figures"),
    path("case-groups/<int:pk>/", case_groups_api.CaseGroupDetail.as_view(), name="api-case-group"),
    path("case-groups/<int:pk>/members/", case_groups_api.CaseGroupMembers.as_view(), name="api-case-group-members"),
    path(
        "case-groups/<int:pk>/members/<int:referral>/",
        case_groups_api.CaseGroupMember.as_view(),
        name="api-case-group-member",
    ),
    path("case-groups/<int:pk>/notes/", case_groups_api.CaseGroupNotes.as_view(), name="api-case-group-notes"),
    path("lawyers/", lawyers_api.LawyerList.as_view(), name="api-lawyers"),
    path("lawyers/import/", lawyers_api.LawyerImport.as_view(), name="api-lawyer-import"),
    path("lawyers/<int:pk>/", lawyers_api.LawyerDetail.as_view(), name="api-lawyer"),
    path("consultations/", lawyers_api.ConsultationList.as_view(), name="api-consultations"),
    path("consultations/figures/", lawyers_api.ConsultationFigures.as_view(), name="api-consultation-figures"),
    path("leader-cases/", leader_cases_api.LeaderCaseList.as_view(), name="api-leader-cases"),
    path("saved-filters/", saved_filters_api.SavedFilterList.as_view(), name="api-saved-filters"),
    path("saved-filters/<int:pk>/", saved_filters_api.SavedFilterDetail.as_view(), name="api-saved-filter"),
]
