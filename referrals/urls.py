from django.urls import path

from referrals import appeals_views, case_groups_views, views
from referrals.registry import registry

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.create_referral, name="create_referral"),
    path("audit/", views.access_log, name="audit"),
    path("leaders/", views.leader_case_list, name="leader_cases"),
    path("assigned/", views.assignment_list, name="assignments"),
    path("lawyers/", views.lawyer_list, name="lawyers"),
    path("lawyers/add/", views.add_lawyer, name="add_lawyer"),
    path("lawyers/import/", views.import_lawyers, name="import_lawyers"),
    path("lawyers/<int:pk>/active/", views.set_lawyer_active, name="set_lawyer_active"),
    path("lawyers/consultations/add/", views.add_consultation, name="add_consultation"),
    path("appeals/", appeals_views.appeal_list, name="appeals"),
    path("appeals/register/", appeals_views.register_by_number, name="register_appeal_by_number"),
    path("groups/", case_groups_views.group_list, name="case_groups"),
    path("groups/<int:pk>/", case_groups_views.group_page, name="case_group"),
    path("groups/<int:pk>/members/", case_groups_views.add_member, name="add_case_group_member"),
    path(
        "groups/<int:pk>/members/<int:referral>/remove/",
        case_groups_views.remove_member,
        name="remove_case_group_member",
    ),
    path("groups/<int:pk>/notes/", case_groups_views.add_note, name="add_case_group_note"),
    path("filters/", views.saved_filter_list, name="saved_filters"),
    path("filters/<int:pk>/delete/", views.delete_saved_filter, name="delete_saved_filter"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/", views.update_draft, name="update_draft"),
    path("<int:pk>/actions/<slug:action>/", views.referral_action, name="action"),
    path("<int:pk>/appeals/<int:appeal>/document/", appeals_views.appeal_document, name="appeal_document"),
    path("<int:pk>/assignment/report/", views.assignment_report, name="assignment_report"),
    path("<int:pk>/petition-extension/notice/", views.petition_extension_notice, name="petition_extension_notice"),
]
# One URL name per action with a form as well (referrals:accept, referrals:add_followup ...), all
# served by the one view: the noun of an action is the same in the registry, the URL and the event.
urlpatterns += [
    path(f"<int:pk>/actions/{a.name}/", views.referral_action, {"action": a.name}, name=a.name)
    for a in registry.actions()
    if a.form is not None
]
