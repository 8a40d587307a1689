from django.urls import path

from mediation import api, group_sessions

urlpatterns = [
    path("referrals/<int:pk>/sessions/", api.Sessions.as_view(), name="api-sessions"),
    path("referrals/<int:pk>/sessions/<int:sid>/", api.SessionDetail.as_view(), name="api-session"),
    path("referrals/<int:pk>/followups/", api.FollowUps.as_view(), name="api-followups"),
    path("referrals/<int:pk>/supervisions/", api.Supervisions.as_view(), name="api-supervisions"),
    path(
        "referrals/<int:pk>/supervisions/<int:sid>/respond/",
        api.RespondSupervision.as_view(),
        name="api-supervision-respond",
    ),
    path("referrals/<int:pk>/agreement/progress/", api.AgreementProgress.as_view(), name="api-agreement-progress"),
    path("referrals/<int:pk>/attachments/", api.Attachments.as_view(), name="api-attachments"),
    path("referrals/<int:pk>/dossier/", api.Dossier.as_view(), name="api-dossier"),
    path("case-groups/<int:pk>/sessions/", group_sessions.GroupSessions.as_view(), name="api-case-group-sessions"),
]
