"""``/ws/notifications/``: live notifications, referral changes and import progress (docs/api.md#websocket).

Authentication: the session cookie of a browser whose Origin is one of ours, or — for API clients,
which send no Origin — a first message ``{"type": "auth", "token": "..."}`` within 5 seconds.
Anything else is closed with 4401. A socket joins its user's group and one group per organisation
the user belongs to.

A socket lives no longer than what it authenticated with: it is closed with 4401 when its token is
revoked (at once: ``token.revoked``) or expires, when its session ends (logout at once; idle expiry
when the session row says so — the socket learns the expiry when it opens and reads the row again
then, to find the person active meanwhile or the session over), when the password changes, or when
the user is deactivated.

Beyond the contract's messages, a ``notification`` also carries ``unread`` (the recipient's count
after it), and ``{"type": "unread", "unread": n}`` follows marking notifications read, so that every
open page of the user shows the same number. Clients ignore what they do not know.

A second ``hello`` on an open socket means "read everything again from the database": it follows a
failed channel-layer receive once Redis answers again, since a message may have been lost with it.
The socket itself stays open through such a failure. A Redis that comes back empty (a restart) has
also lost the group memberships, so the socket joins its groups again before that ``hello``; and it
joins them again every few minutes anyway, which finds memberships lost without any failed receive
(a failover, group expiry after 24 h) and then also resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
import weakref
from importlib import import_module
from urllib.parse import urlparse

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http.request import validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from notifications import redis_layer
from notifications.service import organisation_group, unread_count, user_group

AUTH_TIMEOUT_SECONDS = 5
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_ORIGIN = 4403

# After the channel layer's receive fails: wait, try again, and count Redis back once a receive has
# been blocking without an error for a second (or has brought a message).
RECEIVE_RETRY_FIRST_SECONDS = 0.1
RECEIVE_RETRY_MAX_SECONDS = 5.0
RECOVERED_AFTER_SECONDS = 1.0

# How often a socket joins its groups again (± a quarter, so that a worker's sockets spread out):
# well inside channels-redis's 24 h group expiry, and soon enough after memberships vanish silently.
REJOIN_SECONDS = 300.0
# A socket reads its credentials again at their expiry, and at least this often: a session deleted
# in the database or a missed push is noticed within this time.
RECHECK_AT_MOST_SECONDS = 3600.0
# When that check cannot reach the database: keep the socket, try again after this long.
RECHECK_RETRY_SECONDS = 30.0

# What the channel layer may hand a socket. None of their handlers touches the database directly
# (``session.check`` reads it through database_sync_to_async, which cleans up connections itself).
LAYER_EVENTS = frozenset(
    {
        "bundle",
        "notification.new",
        "unread.changed",
        "referral.changed",
        "import.progress",
        "session.revoked",
        "session.check",
        "token.revoked",
    }
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
def _token_holder(key: str):
    """(user, token id, expiry) for a working token of an active user, else None. Counts as a use."""
    from accounts.tokens import authenticate

    token = authenticate(key)
    return None if token is None else (token.user, token.pk, token.expires_at)


@database_sync_to_async
def _token_expiry(token_id) -> datetime.datetime | None:
    from accounts.tokens import expiry_of

    return expiry_of(token_id)


@database_sync_to_async
def _session_expiry(session_key: str, user_id: int) -> datetime.datetime | None:
    """When the session expires as things stand, or None if it no longer holds for this user.

    What the next request with this cookie would find: the row gone or expired, another user, the
    user inactive, or a password changed since (the session's auth hash no longer matches). Read
    without a side effect — unlike ``django.contrib.auth.get_user``, which would flush or cycle it.
    """
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore(session_key)
    now = timezone.now()
    model = getattr(store, "get_model_class", None)
    if model is not None:
        row = model().objects.filter(session_key=session_key, expire_date__gt=now).first()
        if row is None:
            return None
        data, expires_at = store.decode(row.session_data), row.expire_date
    else:
        # A session store without rows (cache): it forgets an expired session by itself.
        data = store.load()
        expires_at = now + datetime.timedelta(seconds=RECHECK_AT_MOST_SECONDS)
    if str(data.get(SESSION_KEY)) != str(user_id):
        return None
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    session_hash = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not session_hash or not any(constant_time_compare(session_hash, h) for h in hashes):
        return None
    return expires_at


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
    token_id = None  # the API token it authenticated with
    session_key: str | None = None  # or the session
    groups_joined: list[str]
    _auth_timer: asyncio.TimerHandle | None = None
    _layer_receive = None
    _ended = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.groups_joined = []
        self._tasks: set[asyncio.Task] = set()  # watching the credentials, rejoining the groups

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
            if not self._ended:  # closed for its credentials: not one message more
                await getattr(self, get_handler_name(message))(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        origin = _origin(self.scope)
        if origin is not None and not origin_allowed(origin):
            await self.close(code=CLOSE_BAD_ORIGIN)
            return
        await self.accept()
        # A cookie is only trusted when a browser of ours says where it comes from: this is what
        # stops another site's page from opening a socket with our user's cookie.
        user = await _session_user(self.scope) if origin is not None else None
        session_key = getattr(self.scope.get("session"), "session_key", None) if user is not None else None
        expires_at = await _session_expiry(session_key, user.pk) if session_key else None
        if expires_at is not None:
            self.session_key = session_key
            await self._start(user, expires_at)
        else:
            loop = asyncio.get_running_loop()
            self._auth_timer = loop.call_later(AUTH_TIMEOUT_SECONDS, self._auth_expired)

    def _auth_expired(self) -> None:
        if self.user is None:
            self._closing = asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if self._ended:
            return
        if self.user is None:
            if kind == "auth" and isinstance(content.get("token"), str):
                holder = await _token_holder(content["token"])
                if holder is not None:
                    user, self.token_id, expires_at = holder
                    await self._start(user, expires_at)
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

    async def _start(self, user, expires_at: datetime.datetime) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        self.user = user
        self.groups_joined = [user_group(user.pk)] + [organisation_group(o) for o in await _organisations(user)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        _live.add(self)
        await self.send_json({"type": "hello", "unread": await _unread(user)})
        self._spawn(self._watch_credentials(expires_at))
        self._spawn(self._keep_joined())

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _credentials_expiry(self) -> datetime.datetime | None:
        if self.token_id is not None:
            return await _token_expiry(self.token_id)
        return await _session_expiry(self.session_key, self.user.pk)

    async def _watch_credentials(self, expires_at: datetime.datetime) -> None:
        """Sleep until the credentials expire, then read them again: renewed meanwhile, or over."""
        while True:
            wait = (expires_at - timezone.now()).total_seconds()
            await asyncio.sleep(min(max(wait, 0), RECHECK_AT_MOST_SECONDS))
            try:
                renewed = await self._credentials_expiry()
            except Exception:  # the database away: not a reason to drop a page, try again later
                log.warning("could not check a socket's credentials", exc_info=True)
                expires_at = timezone.now() + datetime.timedelta(seconds=RECHECK_RETRY_SECONDS)
                continue
            if renewed is None:
                await self._end()
                return
            expires_at = renewed

    async def _keep_joined(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS * (0.75 + random.random() / 2))  # noqa: S311
            try:
                lost = await redis_layer.join(self.channel_layer, self.groups_joined, self.channel_name)
            except Exception:  # Redis away: once it answers, the receive loop's recovery rejoins
                log.debug("could not rejoin a socket's groups", exc_info=True)
                continue
            if lost:
                log.info("a socket's group memberships had vanished; joined again")
                await self._hello()

    async def _hello(self) -> None:
        with contextlib.suppress(Exception):  # the socket may be closing meanwhile
            await self.send_json({"type": "hello", "unread": await _unread(self.user)})

    async def resync(self) -> None:
        """After the layer failed: join the groups again (Redis may have restarted empty), then a
        second greeting, for the page to read its lists, inbox and badge again from the database."""
        with contextlib.suppress(Exception):
            await redis_layer.join(self.channel_layer, self.groups_joined, self.channel_name)
        await self._hello()

    async def _end(self) -> None:
        """Its credentials are over: leave the groups, hear nothing more, close with 4401."""
        if self._ended:
            return
        self._ended = True
        _live.discard(self)
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        groups, self.groups_joined = self.groups_joined, []
        with contextlib.suppress(Exception):
            for group in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code) -> None:
        _live.discard(self)
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- Messages from the channel layer ----------------------------------------------------------

    async def bundle(self, event) -> None:
        """Many group messages in one (``redis_layer.group_send_many``): this socket's share, in order."""
        for position in event["to"].get(self.channel_name, ()):
            message = event["messages"][position]
            if message.get("type") in LAYER_EVENTS - {"bundle"}:
                await self.dispatch(message)

    async def notification_new(self, event) -> None:
        message = {"type": "notification", "notification": event["notification"]}
        if "unread" in event:
            # Beyond docs/api.md#websocket: the recipient's unread count after this one, so the badge is set.
            message["unread"] = event["unread"]
        await self.send_json(message)

    async def unread_changed(self, event) -> None:
        """Read in another tab or through the API: every page of this user shows the new count."""
        await self.send_json({"type": "unread", "unread": event["unread"]})

    async def referral_changed(self, event) -> None:
        keys = ("type", "referral", "state", "event")
        await self.send_json({key: event.get(key) for key in keys} | {"type": "referral.changed"})

    async def import_progress(self, event) -> None:
        await self.send_json(
            {"type": "import.progress", "import": event["import"], "done": event["done"], "total": event["total"]}
        )

    async def session_revoked(self, event) -> None:
        """Logout (of this session) or deactivation (every session) ends the socket."""
        key = event.get("session_key")
        if key is None or (self.session_key is not None and self.session_key == key):
            await self._end()

    async def session_check(self, event) -> None:
        """The password changed: a browser's socket whose session no longer holds ends."""
        if self.session_key is not None and await _session_expiry(self.session_key, self.user.pk) is None:
            await self._end()

    async def token_revoked(self, event) -> None:
        """A token was revoked (by its owner, an administrator, a password change): its sockets end."""
        if self.token_id is not None and str(self.token_id) in event["tokens"]:
            await self._end()
