"""Issuing, checking and revoking API tokens (``accounts.models.ApiToken``).

A key is shown once, when it is issued; only its SHA-256 is stored. A token lasts
``API_TOKEN_DAYS`` from its last use (sliding), and each use writes at most once a minute, so that
a client calling many times a second costs one write a minute, not one per request. Deleting a
token row — revoking it here, in the admin, with the password or with the user — closes its open
WebSocket connections (``accounts.signals``).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import ApiToken

KEY_BYTES = 20  # 40 hex characters, like the rest_framework.authtoken keys they replace
PREFIX_LENGTH = 8
TOUCH_EVERY = datetime.timedelta(minutes=1)
# A script that asks for a new token at every start must not pile them up: beyond this many, the
# least recently used go.
MAX_TOKENS_PER_USER = 20


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.API_TOKEN_DAYS)


def issue_token(user, *, name: str = "") -> tuple[ApiToken, str]:
    """A new token for one client of the user: the row, and the key (never stored, shown once)."""
    key = secrets.token_hex(KEY_BYTES)
    with transaction.atomic():
        _make_room(user)
        token = store(user, key, name=name)
    return token, key


def store(user, key: str, *, name: str = "") -> ApiToken:
    """Keep a key given elsewhere (a token of rest_framework.authtoken) as a token of this app."""
    return ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:PREFIX_LENGTH],
        key_hash=digest(key),
        expires_at=timezone.now() + lifetime(),
    )


def _make_room(user) -> None:
    own = ApiToken.objects.filter(user=user)
    own.filter(expires_at__lte=timezone.now()).delete()
    keep = own.annotate(used=Coalesce("last_used_at", "created_at")).order_by("-used").values_list("pk", flat=True)
    own.exclude(pk__in=list(keep[: MAX_TOKENS_PER_USER - 1])).delete()


def authenticate(key: str) -> ApiToken | None:
    """The live token of an active user with this key, its use recorded; None for anything else."""
    if not key or len(key) > 200:
        return None
    now = timezone.now()
    token = ApiToken.objects.select_related("user").filter(key_hash=digest(key)).first()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at, token.expires_at = now, now + lifetime()
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at, expires_at=token.expires_at)
    return token


def expiry_of(token_id: uuid.UUID) -> datetime.datetime | None:
    """When the token expires as things stand, or None if it no longer works (revoked, expired, user inactive)."""
    row = (
        ApiToken.objects.filter(pk=token_id, expires_at__gt=timezone.now(), user__is_active=True)
        .values_list("expires_at", flat=True)
        .first()
    )
    return row


def tokens_of(user):
    """The user's own tokens that still work, newest first."""
    return ApiToken.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())


def revoke_token(user, token_id: uuid.UUID) -> bool:
    """Revoke one of the user's own tokens; False if it is not theirs (or already gone)."""
    deleted, _by_model = ApiToken.objects.filter(user_id=user.pk, pk=token_id).delete()
    return bool(deleted)


def revoke_all(user_id: int) -> int:
    deleted, _by_model = ApiToken.objects.filter(user_id=user_id).delete()
    return deleted
