"""Admin views: notifications are a record of what was said, so they are read-only here."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import EmailPreference, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmailPreference)
class EmailPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
