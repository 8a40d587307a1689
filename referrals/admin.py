"""Admin views of the workflow models: read-only. State changes go through the workflow only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from referrals.models import Party, Referral, TimelineEvent


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    fields = ["role", "kind", "name", "consent_given_on", "consent_method"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["number", "state", "category", "origin", "target", "due_on", "created_at"]
    list_filter = ["state", "category", "ping_pong"]
    search_fields = ["number", "petition_no"]
    list_select_related = ["origin", "target"]
    inlines = [PartyInline]
    exclude = ["mediators"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["referral", "at", "actor", "action", "from_state", "to_state"]
    list_filter = ["action"]
    search_fields = ["referral__number"]
    list_select_related = ["referral", "actor"]
