from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.ObtainToken.as_view(), name="api-token"),
    path("auth/tokens/", api.ApiTokenList.as_view(), name="api-tokens"),
    path("auth/tokens/<uuid:pk>/", api.ApiTokenDetail.as_view(), name="api-token-detail"),
]
