"""Keep auth groups in step with memberships and organisations; announce roster exports."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from townships.models import Membership, Organisation
from townships.roles import ROLES_BY_KIND, group_name, sync_role_group, sync_user_groups

# Sent with ``request``, ``rows`` and ``region_codes`` once a roster workbook is written. The read audit
# lives in referrals (which depends on townships, never the reverse) and records it from there.
roster_exported = Signal()

# Sent with ``years`` after ``CalendarDay`` rows were written in bulk (``calendar.days_changed``), which
# sends no ``post_save``. Stored deadlines count those days; referrals recomputes them from here.
calendar_days_changed = Signal()


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender, instance: Membership, **kwargs) -> None:
    sync_user_groups(instance.user)


@receiver(post_save, sender=Organisation)
def organisation_saved(sender, instance: Organisation, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or created:
        return
    # A changed kind or region changes what the organisation's groups may do.
    from django.contrib.auth.models import Group

    with transaction.atomic():
        for role in ROLES_BY_KIND.get(instance.kind, ()):
            if Group.objects.filter(name=group_name(instance.pk, role)).exists():
                sync_role_group(instance, role)


@receiver(post_save, sender="townships.CalendarDay")
@receiver(post_delete, sender="townships.CalendarDay")
def calendar_changed(sender, **kwargs) -> None:
    from townships import calendar

    transaction.on_commit(calendar.invalidate)
