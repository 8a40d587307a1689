from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications/", api.NotificationList.as_view(), name="api-notifications"),
    path("notifications/read-all/", api.NotificationReadAll.as_view(), name="api-notifications-read-all"),
    path("notifications/<int:pk>/read/", api.NotificationRead.as_view(), name="api-notification-read"),
]
