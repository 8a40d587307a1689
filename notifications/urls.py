from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_centre, name="centre"),
    path("read-all/", views.read_all_notifications, name="read_all"),
    path("email/", views.email_preference, name="email"),
    path("<int:pk>/read/", views.read_notification, name="read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
]
