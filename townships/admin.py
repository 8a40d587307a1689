from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from townships.models import CalendarDay, Mediator, Membership, Organisation, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "committee_type", "region", "active"]
    list_filter = ["kind", "committee_type", "active"]
    search_fields = ["name", "region__name", "region__code"]
    raw_id_fields = ["region", "parent"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__username", "user__first_name", "organisation__name"]
    raw_id_fields = ["user", "organisation"]


@admin.register(Mediator)
class MediatorAdmin(admin.ModelAdmin):
    list_display = ["name", "committee", "sex", "position", "employment", "active"]
    list_filter = ["active", "position", "employment", "sex"]
    search_fields = ["name", "committee__name", "mobile"]
    raw_id_fields = ["committee", "user"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "kind", "name", "source", "confirmed"]
    list_filter = ["kind", "source", "confirmed", "is_workday"]
    date_hierarchy = "date"
    actions = ["confirm_days"]

    @admin.action(description=_("将所选日期标为已确认"))
    def confirm_days(self, request, queryset):
        # Saved one by one so that signals recompute deadlines that count these days.
        count = 0
        for day in queryset.filter(confirmed=False):
            day.confirmed = True
            day.source = CalendarDay.Source.ADMIN
            day.save(update_fields=["confirmed", "source"])
            count += 1
        self.message_user(request, _("已确认 %d 天。") % count, messages.SUCCESS)
