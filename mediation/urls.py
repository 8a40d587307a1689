from django.urls import path

from mediation import group_sessions, views

app_name = "mediation"

urlpatterns = [
    path("<int:pk>/sessions/<int:sid>/edit/", views.update_session, name="update_session"),
    path("<int:pk>/supervisions/<int:sid>/respond/", views.respond_supervision, name="respond_supervision"),
    path("<int:pk>/attachments/<int:aid>/", views.download_attachment, name="attachment"),
    path("<int:pk>/print/<slug:document>/", views.print_document, name="print"),
    path("groups/<int:pk>/session/", group_sessions.group_session_page, name="group_session"),
]
