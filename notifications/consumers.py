"""``/ws/notifications/``: live notifications, referral changes and import progress (DESIGN.md §7).

Authentication: the session cookie of a browser whose Origin is one of ours, or — for API clients,
which send no Origin — a first message ``{"type": "auth", "token": "..."}`` within 5 seconds.
Anything else is closed with 4401. A socket joins its user's group and one group per organisation
the user belongs to; logging out or deactivation closes it.

Beyond the contract's messages, a ``notification`` also carries ``unread`` (the recipient's count
after it), and ``{"type": "unread", "unread": n}`` follows marking notifications read, so that every
open page of the user shows the same number. Clients ignore what they do not know.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host

from notifications.service import organisation_group, unread_count, user_group

AUTH_TIMEOUT_SECONDS = 5
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_ORIGIN = 4403


def _origin(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def origin_allowed(origin: str) -> bool:
    parsed = urlparse(origin)
    if not parsed.hostname:
        return False
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    host = parsed.hostname if ":" not in parsed.hostname else f"[{parsed.hostname}]"
    return validate_host(host, allowed)


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    try:
        token = Token.objects.select_related("user").get(key=key)
    except (Token.DoesNotExist, ValueError):
        return None
    return token.user if token.user.is_active else None


@database_sync_to_async
def _organisations(user) -> list[int]:
    from townships.models import Membership

    return sorted(set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True)))


@database_sync_to_async
def _unread(user) -> int:
    return unread_count(user)


@database_sync_to_async
def _session_user(scope):
    user = scope.get("user")
    if user is None:
        return None
    # Touch the lazy user inside a thread: resolving it queries the database.
    return user if user.is_authenticated and user.is_active else None


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    user = None
    groups_joined: list[str]
    _auth_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        self.groups_joined = []
        origin = _origin(self.scope)
        if origin is not None and not origin_allowed(origin):
            await self.close(code=CLOSE_BAD_ORIGIN)
            return
        await self.accept()
        # A cookie is only trusted when a browser of ours says where it comes from: this is what
        # stops another site's page from opening a socket with our user's cookie.
        user = await _session_user(self.scope) if origin is not None else None
        if user is not None:
            await self._start(user)
        else:
            loop = asyncio.get_running_loop()
            self._auth_timer = loop.call_later(AUTH_TIMEOUT_SECONDS, self._auth_expired)

    def _auth_expired(self) -> None:
        if self.user is None:
            self._closing = asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if self.user is None:
            if kind == "auth" and isinstance(content.get("token"), str):
                user = await _user_for_token(content["token"])
                if user is not None:
                    await self._start(user)
                    return
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "resync":
            await self.send_json({"type": "hello", "unread": await _unread(self.user)})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:  # not JSON
            if self.user is None:
                await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _start(self, user) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        self.user = user
        self.groups_joined = [user_group(user.pk)] + [organisation_group(o) for o in await _organisations(user)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "hello", "unread": await _unread(user)})

    async def disconnect(self, code) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- Messages from the channel layer ----------------------------------------------------------

    async def notification_new(self, event) -> None:
        message = {"type": "notification", "notification": event["notification"]}
        if "unread" in event:
            # Beyond DESIGN.md §7: the recipient's unread count after this one, so the badge is set.
            message["unread"] = event["unread"]
        await self.send_json(message)

    async def unread_changed(self, event) -> None:
        """Read in another tab or through the API: every page of this user shows the new count."""
        await self.send_json({"type": "unread", "unread": event["unread"]})

    async def referral_changed(self, event) -> None:
        await self.send_json({"type": "referral.changed", "referral": event["referral"], "state": event["state"]})

    async def import_progress(self, event) -> None:
        await self.send_json(
            {"type": "import.progress", "import": event["import"], "done": event["done"], "total": event["total"]}
        )

    async def session_revoked(self, event) -> None:
        """Logout (of this session) or deactivation (every session) ends the socket."""
        key = event.get("session_key")
        mine = self.scope.get("session")
        if key is None or (mine is not None and getattr(mine, "session_key", None) == key):
            await self.close(code=CLOSE_UNAUTHENTICATED)
