"""Reactions of the referrals app to changes elsewhere."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from townships.signals import calendar_days_changed, roster_exported


@receiver(post_save, sender="townships.CalendarDay")
@receiver(post_delete, sender="townships.CalendarDay")
def calendar_changed(sender, raw: bool = False, **kwargs) -> None:
    # Stored deadlines count working days: a corrected holiday moves them. Fixture loading (raw)
    # restores rows as they were, deadlines included.
    if raw:
        return
    from referrals.tasks import recompute_deadlines

    transaction.on_commit(recompute_deadlines.enqueue)


@receiver(calendar_days_changed)
def calendar_days_loaded(sender, years, **kwargs) -> None:
    # A whole year loaded or taken over (load_reference_data), or days confirmed in bulk in the admin.
    from referrals.tasks import recompute_deadlines

    transaction.on_commit(recompute_deadlines.enqueue)


@receiver(post_migrate)
def fill_statistics_cells(sender, app_config=None, using="default", **kwargs) -> None:
    """Running totals that are missing after a migration (every app's ``Extension.rollups``)."""
    if app_config is None:
        return
    from referrals import rollup

    rollup.fill_empty(app_config.label, using)


@receiver(roster_exported)
def record_roster_export(sender, request, rows: int, region_codes, **kwargs) -> None:
    from core.audit import log_export
    from core.models import AccessLog

    log_export(request, AccessLog.Action.EXPORT_ROSTER, rows=rows, region_codes=region_codes)
