"""Background work of messaging (django.tasks: immediate by default, a worker when scaled)."""

from __future__ import annotations

from django_tasks import task

from messaging.sender import send_due


@task()
def deliver(ids: list[int]) -> int:
    """Send these messages now if they are due (just written by a step, or queued again).

    With the immediate backend this runs in the request that took the step, after its commit: one
    gateway failure is enough to leave the rest to the sweep, so a dead gateway costs the request
    one timeout at most (``SMS_HTTP_TIMEOUT``).
    """
    return send_due(ids=ids, max_failures=1)
