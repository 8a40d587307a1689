"""Reactions of the referrals app to changes elsewhere."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from townships.signals import roster_exported


@receiver(post_save, sender="townships.CalendarDay")
@receiver(post_delete, sender="townships.CalendarDay")
def calendar_changed(sender, raw: bool = False, **kwargs) -> None:
    # Stored deadlines count working days: a corrected holiday moves them. Fixture loading (raw)
    # restores rows as they were, deadlines included.
    if raw:
        return
    from referrals.tasks import recompute_deadlines

    transaction.on_commit(recompute_deadlines.enqueue)


@receiver(post_migrate)
def fill_statistics_cells(sender, app_config=None, using="default", **kwargs) -> None:
    """A database that has referrals but no statistics cells (new columns, a restored dump) gets
    them computed once, so summaries are right from the first request."""
    if app_config is None or app_config.label != "referrals":
        return
    from django.db import connections

    from referrals import rollup
    from referrals.models import Referral, StatsCell

    if StatsCell._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated to a point before the cells existed
    if not StatsCell.objects.using(using).exists() and Referral.objects.using(using).exists():
        rollup.rebuild()


@receiver(roster_exported)
def record_roster_export(sender, request, rows: int, region_codes, **kwargs) -> None:
    from referrals.audit import log_export
    from referrals.models import AccessLog

    log_export(request, AccessLog.Action.EXPORT_ROSTER, rows=rows, region_codes=region_codes)
