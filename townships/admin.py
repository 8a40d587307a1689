from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from townships.calendar import days_changed
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
    """Where an administrator enters the State Council's notice or confirms a computed year.

    Whatever is saved or confirmed here becomes the administrator's own (``source="admin"``), which a
    later load of the reference data never overwrites (``townships.calendar.load_year``).
    """

    list_display = ["date", "is_workday", "kind", "name", "source", "confirmed"]
    list_filter = ["kind", "source", "confirmed", "is_workday"]
    date_hierarchy = "date"
    readonly_fields = ["source"]
    actions = ["confirm_days"]

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.ADMIN
        super().save_model(request, obj, form, change)

    @admin.action(description=_("将所选日期标为已确认"))
    def confirm_days(self, request, queryset):
        # One UPDATE and one announcement: saving a year's days one by one would recompute every open
        # referral's deadline once per day.
        days = queryset.filter(confirmed=False)
        years = sorted({d.year for d in days.values_list("date", flat=True)})
        count = days.update(confirmed=True, source=CalendarDay.Source.ADMIN)
        if count:
            days_changed(*years)
        self.message_user(request, _("已确认 %d 天。") % count, messages.SUCCESS)
