from django.urls import path

from messaging import api

urlpatterns = [
    path("referrals/<int:pk>/messages/", api.Messages.as_view(), name="api-messages"),
    path("referrals/<int:pk>/messages/<int:mid>/resend/", api.Resend.as_view(), name="api-message-resend"),
    path("referrals/<int:pk>/parties/<int:pid>/link/", api.PartyLinkView.as_view(), name="api-party-link"),
    path("sms/receipts/", api.Receipts.as_view(), name="api-sms-receipts"),
    path("sms/replies/", api.Replies.as_view(), name="api-sms-replies"),
]
