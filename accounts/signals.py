"""Tokens end with the password and with the user. Open sockets follow (the notifications app listens
to ``password_changed`` and to a token's deletion: this app sits below it and does not import it)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver

from accounts import tokens

# Sent after a user's password changed (``user_id``): their other sessions end at their next request.
password_changed = Signal()

_BEFORE = "_accounts_before_save"


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def remember_credentials(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    # Logging in saves last_login alone: no query for that.
    if raw or instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    setattr(instance, _BEFORE, before)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def end_tokens_with_the_password(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if created or raw or before is None:
        return
    changed = before["password"] != instance.password
    if changed or not instance.is_active:
        # Whoever knew the old password may have made a token with it.
        tokens.revoke_all(instance.pk)
    if changed:
        # Django ends the other sessions at their next request (their auth hash no longer matches).
        password_changed.send(sender=sender, user_id=instance.pk)


if apps.is_installed("rest_framework.authtoken"):
    from rest_framework.authtoken.models import Token as LegacyToken

    @receiver(post_save, sender=LegacyToken)
    def adopt_legacy_token(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
        """A rest_framework.authtoken row (``manage.py drf_create_token``, older scripts) becomes a token
        of ours with the same key, and the row with the key in clear goes: the key keeps working,
        with a lifetime, and is kept hashed only."""
        if raw:
            return
        tokens.store(instance.user, instance.key)
        sender.objects.filter(pk=instance.pk).delete()
