"""``notify()``: write notification rows in the caller's transaction, push them after commit.

Callers decide who hears about what (``referrals/permissions.py`` for referrals) and pass the
people here; this module knows users and organisations, never referrals (docs/architecture.md#layout).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from notifications import redis_layer
from notifications.models import EmailPreference, Notification

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def organisation_group(organisation_id: int) -> str:
    return f"org.{organisation_id}"


def _send(group: str, message: dict) -> None:
    _send_many([(group, message)])


def _send_many(messages: list[tuple[str, dict]]) -> None:
    """Push messages to groups; a broken channel layer must never break the step that caused them.

    One trip into the event loop for all of them: from a thread without a loop (the reminder
    command) each ``async_to_sync`` call would start a loop of its own — 200 pushes one by one took
    ~690 ms against Redis, batched ~45 ms.
    """
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def push() -> None:
        if len(messages) > 1 and redis_layer.batches(layer):
            await redis_layer.group_send_many(layer, messages)
            return
        for group, message in messages:
            try:
                await layer.group_send(group, message)
            except Exception:
                log.warning("could not push to %s", group, exc_info=True)

    try:
        async_to_sync(push)()
    except Exception:
        log.warning("could not push %d messages", len(messages), exc_info=True)


def notify(
    recipients: Iterable,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    referral_id: int | None = None,
    exclude: Iterable[int] = (),
) -> list[Notification]:
    """Store one notification per recipient now; push them (and emails) once the caller commits.

    ``recipients`` are users or user ids; duplicates and ``exclude`` (usually the actor) are dropped.
    """
    excluded = set(exclude)
    ids: list[int] = []
    for r in recipients:
        uid = r if isinstance(r, int) else r.pk
        if uid not in excluded and uid not in ids:
            ids.append(uid)
    if not ids:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient_id=uid, kind=kind, referral_id=referral_id, title=title[:200], body=body, url=url)
            for uid in ids
        ]
    )
    transaction.on_commit(lambda: _deliver(rows))
    return rows


def _deliver(rows: list[Notification]) -> None:
    # Each message carries the recipient's unread count as it stands after commit, so a badge is
    # set, not incremented, and cannot drift from the database (one grouped query for everyone).
    counts = dict(
        Notification.objects.filter(recipient_id__in={r.recipient_id for r in rows}, read_at__isnull=True)
        .values_list("recipient_id")
        .annotate(n=Count("id"))
    )
    _send_many(
        [
            (
                user_group(row.recipient_id),
                {
                    "type": "notification.new",
                    "notification": row.as_message(),
                    "unread": counts.get(row.recipient_id, 0),
                },
            )
            for row in rows
        ]
    )
    _email(rows)


def _email(rows: list[Notification]) -> None:
    wanted = set(
        EmailPreference.objects.filter(user_id__in=[r.recipient_id for r in rows], enabled=True).values_list(
            "user_id", flat=True
        )
    )
    if not wanted:
        return
    addresses = dict(get_user_model().objects.filter(pk__in=wanted).exclude(email="").values_list("pk", "email"))
    messages = [
        (row.title, f"{row.body}\n\n{row.url}".strip(), settings.DEFAULT_FROM_EMAIL, [addresses[row.recipient_id]])
        for row in rows
        if row.recipient_id in addresses
    ]
    if messages:
        try:
            send_mass_mail(messages, fail_silently=False)
        except Exception:
            log.warning("could not send notification emails", exc_info=True)


def broadcast_referral_changed(
    organisation_ids: Iterable[int], referral_id: int, state: str, event_id: int | None = None
) -> None:
    """After commit, tell every page of these organisations that a referral changed.

    ``event`` is the timeline entry the change wrote: a case page that already shows it (the page
    the actor was sent to after their own step) knows it is up to date and does not reload.
    """
    ids = sorted(set(organisation_ids))

    def send() -> None:
        message = {"type": "referral.changed", "referral": referral_id, "state": state, "event": event_id}
        _send_many([(organisation_group(org_id), message) for org_id in ids])

    transaction.on_commit(send)


def push_import_progress(user_id: int, import_id: int, done: int, total: int) -> None:
    """Progress is transient: pushed at once, never stored."""
    _send(user_group(user_id), {"type": "import.progress", "import": import_id, "done": done, "total": total})


def close_token_sockets(user_id: int, token_ids: Iterable) -> None:
    """After commit, close the sockets that authenticated with these (revoked) tokens of the user."""
    message = {"type": "token.revoked", "tokens": [str(token_id) for token_id in token_ids]}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def recheck_session_sockets(user_id: int) -> None:
    """After commit, have the user's browser sockets check that their session still holds (a password change)."""
    transaction.on_commit(lambda: _send(user_group(user_id), {"type": "session.check"}))


def notifications_of(user) -> QuerySet[Notification]:
    """A user's own notifications, newest first: nobody sees anyone else's."""
    return Notification.objects.filter(recipient_id=user.pk)


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def mark_read(user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; ``Notification.DoesNotExist`` for anyone else's.

    Marking an already read notification changes nothing. The user's other tabs learn the new
    unread count after commit.
    """
    with transaction.atomic():
        notification = notifications_of(user).get(pk=notification_id)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            _push_unread_after_commit(user.pk)
    return notification


def mark_all_read(user) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    with transaction.atomic():
        changed = notifications_of(user).filter(read_at__isnull=True).update(read_at=timezone.now())
        if changed:
            _push_unread_after_commit(user.pk)
    return changed


def _push_unread_after_commit(user_id: int) -> None:
    def send() -> None:
        unread = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
        _send(user_group(user_id), {"type": "unread.changed", "unread": unread})

    transaction.on_commit(send)


def email_enabled(user) -> bool:
    return EmailPreference.objects.filter(user_id=user.pk, enabled=True).exists()


def set_email_enabled(user, enabled: bool) -> None:
    """Opt in to (or out of) receiving each notification by email as well."""
    EmailPreference.objects.update_or_create(user_id=user.pk, defaults={"enabled": enabled})
