from django.urls import path

from townships import views

app_name = "townships"

urlpatterns = [
    path("", views.rosters, name="rosters"),
    path("import/", views.import_roster, name="import"),
    path("imports/<int:pk>/", views.roster_import_detail, name="import_detail"),
    path("imports/<int:pk>/apply/", views.apply_roster_import, name="import_apply"),
    path("imports/<int:pk>/undo/", views.undo_roster_import, name="import_undo"),
]
