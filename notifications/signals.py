"""Close live sockets when their session ends, their token is revoked or their user is deactivated."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken
from accounts.signals import password_changed
from notifications.service import _send, close_token_sockets, recheck_session_sockets, user_group


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    key = getattr(getattr(request, "session", None), "session_key", None)
    _send(user_group(user.pk), {"type": "session.revoked", "session_key": key})


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        user_id = instance.pk
        transaction.on_commit(lambda: _send(user_group(user_id), {"type": "session.revoked", "session_key": None}))


@receiver(post_delete, sender=ApiToken)
def token_deleted(sender, instance: ApiToken, **kwargs) -> None:
    close_token_sockets(instance.user_id, [instance.pk])


@receiver(password_changed)
def password_was_changed(sender, user_id: int, **kwargs) -> None:
    # The user's other browser sessions no longer hold: their sockets check now.
    recheck_session_sockets(user_id)
