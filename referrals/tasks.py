"""Background work of the referrals app (django.tasks API: immediate here, a worker when scaled)."""

from __future__ import annotations

from django_tasks import task

from referrals.deadlines import recompute_open_deadlines


@task()
def recompute_deadlines() -> int:
    """Recompute stored deadlines of open referrals after the working-day calendar changed."""
    return recompute_open_deadlines()
