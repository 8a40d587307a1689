"""``/ws/notifications/``: live notifications, referral changes and import progress (DESIGN.md §7).

Authentication: the session cookie of a browser whose Origin is one of ours, or — for API clients,
which send no Origin — a first message ``{"type": "auth", "token": "..."}`` within 5 seconds.
Anything else is closed with 4401. A socket joins its user's group and one group per organisation
the user belongs to; logging out or deactivation closes it.

Beyond the contract's messages, a ``notification`` also carries ``unread`` (the recipient's count
after it), and ``{"type": "unread", "unread": n}`` follows marking notifications read, so that every
open page of the user shows the same number. Clients ignore what they do not know.

A second ``hello`` on an open socket means "read everything again from the database": it follows a
failed channel-layer receive once Redis answers again, since a message may have been lost with it.
The socket itself stays open through such a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from urllib.parse import urlparse

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host

from notifications.service import organisation_group, unread_count, user_group

AUTH_TIMEOUT_SECONDS = 5
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_ORIGIN = 4403

# After the channel layer's receive fails: wait, try again, and count Redis back once a receive has
# been blocking without an error for a second (or has brought a message).
RECEIVE_RETRY_FIRST_SECONDS = 0.1
RECEIVE_RETRY_MAX_SECONDS = 5.0
RECOVERED_AFTER_SECONDS = 1.0

# What the channel layer may hand a socket. None of their handlers touches the database.
LAYER_EVENTS = frozenset(
    {"bundle", "notification.new", "unread.changed", "referral.changed", "import.progress", "session.revoked"}
)

log = logging.getLogger(__name__)

# The authenticated sockets of this process. All of them share one receive loop in channels-redis,
# so when that loop fails, the message it was fetching may have been meant for any of them.
_live: weakref.WeakSet[NotificationConsumer] = weakref.WeakSet()
_missed_while_broken = False
_resyncs: set[asyncio.Task] = set()


def _layer_broke() -> None:
    global _missed_while_broken
    if not _missed_while_broken:
        log.warning("channel layer receive failed; sockets will resync once it works again", exc_info=True)
    _missed_while_broken = True


def _layer_works() -> None:
    """Redis is back: every page of this process reads what it may have missed from the database."""
    global _missed_while_broken
    if not _missed_while_broken:
        return
    _missed_while_broken = False
    for consumer in list(_live):
        task = asyncio.ensure_future(consumer.resync())
        _resyncs.add(task)
        task.add_done_callback(_resyncs.discard)


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
    _layer_receive = None

    # channels' AsyncConsumer.__call__ stores the layer's receive here and ends the consumer (and
    # with it the WebSocket, close 1006) as soon as one call raises. A Redis hiccup must not cost a
    # page its socket, so the dispatch loop gets a receive that waits and tries again instead.
    @property
    def channel_receive(self):
        return self._receive_from_layer

    @channel_receive.setter
    def channel_receive(self, layer_receive) -> None:
        self._layer_receive = layer_receive

    async def _receive_from_layer(self) -> dict:
        failures = 0
        while True:
            try:
                if not failures:
                    return await self._layer_receive()
                pending = asyncio.ensure_future(self._layer_receive())
                try:
                    await asyncio.wait({pending}, timeout=RECOVERED_AFTER_SECONDS)
                except asyncio.CancelledError:
                    pending.cancel()
                    raise
                if not pending.done() or pending.exception() is None:
                    _layer_works()
                return await pending
            except Exception:  # not CancelledError: a closing socket still ends the wait
                failures += 1
                _layer_broke()
                ceiling = min(RECEIVE_RETRY_MAX_SECONDS, RECEIVE_RETRY_FIRST_SECONDS * 2 ** (failures - 1))
                # Jitter: the sockets of a process fail one after another and should not retry in step.
                await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)  # noqa: S311

    async def dispatch(self, message) -> None:
        # channels closes stale database connections (a trip to the database thread) before every
        # handler. The layer's handlers never touch the database, and everything else here reaches
        # it through database_sync_to_async, which does that clean-up itself: skipping it spares a
        # burst to the 500 sockets of a worker 500 trips through that one thread.
        if message.get("type") in LAYER_EVENTS:
            await getattr(self, get_handler_name(message))(message)
        else:
            await super().dispatch(message)

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
        _live.add(self)
        await self.send_json({"type": "hello", "unread": await _unread(user)})

    async def resync(self) -> None:
        """A second greeting: the page reads its lists, inbox and badge again from the database."""
        with contextlib.suppress(Exception):  # the socket may be closing meanwhile
            await self.send_json({"type": "hello", "unread": await _unread(self.user)})

    async def disconnect(self, code) -> None:
        _live.discard(self)
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- Messages from the channel layer ----------------------------------------------------------

    async def bundle(self, event) -> None:
        """Many group messages in one (``service._redis_group_send_many``): this socket's share, in order."""
        for position in event["to"].get(self.channel_name, ()):
            message = event["messages"][position]
            if message.get("type") in LAYER_EVENTS - {"bundle"}:
                await self.dispatch(message)

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
