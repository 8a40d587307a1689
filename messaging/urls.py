from django.urls import path

from messaging import pages

app_name = "messaging"

urlpatterns = [
    path("<int:pk>/parties/<int:pid>/link/", pages.party_link, name="party_link"),
    path("<int:pk>/messages/<int:mid>/resend/", pages.resend, name="resend"),
]
