from django.urls import path

from townships import api, calendar_api

urlpatterns = [
    path("roster-imports/", api.RosterImportCreate.as_view(), name="api-roster-imports"),
    path("roster-imports/<int:pk>/", api.RosterImportDetail.as_view(), name="api-roster-import"),
    path("roster-imports/<int:pk>/apply/", api.RosterImportApply.as_view(), name="api-roster-import-apply"),
    path("roster-imports/<int:pk>/undo/", api.RosterImportUndo.as_view(), name="api-roster-import-undo"),
    path("roster-imports/<int:pk>/errors.xlsx", api.RosterImportErrors.as_view(), name="api-roster-import-errors"),
    path("roster-template/", api.RosterTemplate.as_view(), name="api-roster-template"),
    path("exports/roster.xlsx", api.RosterExport.as_view(), name="api-export-roster"),
    path("calendar/", calendar_api.CalendarYear.as_view(), name="api-calendar"),
]
