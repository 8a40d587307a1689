"""The parties' pages, the only part of the site the public gateway passes (``/p/``, docs/sms.md)."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", views.case, name="case"),
    path("<str:token>/code/", views.send_code, name="code"),
    path("<str:token>/verify/", views.verify, name="verify"),
    path("<str:token>/consent/", views.consent, name="consent"),
    path("<str:token>/rating/", views.rating, name="rating"),
    path("<str:token>/documents/<int:aid>/", views.document, name="document"),
]
