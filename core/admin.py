"""Admin of the base records: the read audit, which nobody may change (append-only)."""

from django.contrib import admin

from core.models import AccessLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept as written: listed and opened, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "action", "referral_number", "region_code", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "referral_number"]
