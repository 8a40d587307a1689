from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<uuid:pk>/revoke/", views.revoke, name="token_revoke"),
]
