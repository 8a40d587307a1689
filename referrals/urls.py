from django.urls import path

from referrals import views
from referrals.permissions import ACTIONS

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.create_referral, name="create"),
    path("audit/", views.access_log, name="audit"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/", views.edit_referral, name="edit"),
    path("<int:pk>/actions/<slug:action>/", views.referral_action, name="action"),
]
# One URL name per action as well (referrals:accept, referrals:close ...), all served by one view.
urlpatterns += [
    path(f"<int:pk>/actions/{name}/", views.referral_action, {"action": name}, name=name)
    for name in ACTIONS
    if name != "edit"
]
