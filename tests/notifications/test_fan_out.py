"""Many pushes at once over Redis (``redis_layer.group_send_many``), and sockets that outlive a
failing channel-layer receive.

The batched send must deliver exactly what one ``group_send`` per group would: each socket the
messages of its own groups, in order, each recipient its own notification and unread count.
"""

from __future__ import annotations

import os
import socket as sockets
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from redis.exceptions import TimeoutError as RedisTimeoutError

from mediation.notices import Notice as MediationNotice
from notifications import consumers, service
from notifications.models import Notification
from notifications.service import notify
from referrals.notices import Notice as ReferralNotice
from tests.notifications.conftest import api_client, browser, in_test_thread, session_cookie, token_for
from tests.security.conftest import PERSONAS
from tests.security.test_websocket_groups import every_group, expected_groups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("consumer_shares_test_connection")]

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"


def redis_answers() -> bool:
    try:
        with sockets.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(params=[True, False], ids=["batched", "plain group_send"])
def redis_layer(settings, request):
    """The app's Redis layer configuration, under a prefix of this test's own; each test runs with the
    channels-redis internals (notifications/redis_layer.py) and with the plain fallback."""
    settings.NOTIFY_REDIS_INTERNALS = request.param
    if not redis_answers():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    prefix = f"fan-out-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS, "socket_timeout": 10}], "prefix": prefix, "capacity": 10_000},
        }
    }
    channel_layers.backends.clear()
    yield
    async_to_sync(get_channel_layer().flush)()
    channel_layers.backends.clear()


def run(scenario) -> None:
    async_to_sync(scenario)()


async def drain(ws) -> list[dict]:
    got = []
    while not await ws.receive_nothing(timeout=0.3):
        got.append(await ws.receive_json_from(timeout=1))
    return got


def test_an_organisation_wide_notify_gives_every_tab_its_own_notification_and_count(
    people, redis_layer, django_capture_on_commit_callbacks
):
    Notification.objects.create(recipient=people.mediator, kind=ReferralNotice.REFERRAL_RECEIVED, title="旧的")
    mediator, other, officer = (session_cookie(u) for u in (people.mediator, people.other_mediator, people.officer))

    def tell_both():
        with django_capture_on_commit_callbacks(execute=True):
            rows = notify(
                [people.mediator, people.other_mediator], kind=MediationNotice.SUPERVISION_ORDER, title="全员"
            )
        return {row.recipient_id: row for row in rows}

    async def scenario():
        tab1, _ = await browser(mediator)
        tab2, _ = await browser(mediator)
        ws_other, _ = await browser(other)
        ws_officer, _ = await browser(officer)
        rows = await in_test_thread(tell_both)()
        mine, theirs = rows[people.mediator.pk], rows[people.other_mediator.pk]
        for tab in (tab1, tab2):
            assert await drain(tab) == [{"type": "notification", "notification": mine.as_message(), "unread": 2}]
        assert await drain(ws_other) == [{"type": "notification", "notification": theirs.as_message(), "unread": 1}]
        assert await drain(ws_officer) == []
        for ws in (tab1, tab2, ws_other, ws_officer):
            await ws.disconnect()

    run(scenario)


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_batch_to_every_group_reaches_each_socket_exactly_through_its_own_groups_in_order(
    people, persona, redis_layer
):
    key = token_for(getattr(people, persona))
    groups, expected = every_group(people), expected_groups(people, persona)

    async def scenario():
        ws, _hello = await api_client(key)
        await in_test_thread(service._send_many)(
            [(group, {"type": "referral.changed", "referral": n, "state": group}) for n, group in enumerate(groups)]
        )
        got = await drain(ws)
        assert [m["state"] for m in got] == [g for g in groups if g in expected]
        assert [m["referral"] for m in got] == sorted(m["referral"] for m in got)
        await ws.disconnect()

    run(scenario)


# --- A failing receive -----------------------------------------------------------------------------


@pytest.fixture
def receive_loses_boom(monkeypatch):
    """The layer's receive fails while fetching a "boom" message, which is gone with it — what a
    Redis connection dropping with a popped message in flight does."""
    layer_class = type(get_channel_layer())
    original = layer_class.receive

    async def receive(self, channel):
        message = await original(self, channel)
        if message.get("state") == "boom":
            raise RedisTimeoutError("Timeout reading from 127.0.0.1:6379")
        return message

    monkeypatch.setattr(layer_class, "receive", receive)
    monkeypatch.setattr(consumers, "RECOVERED_AFTER_SECONDS", 0.2)


def test_a_failing_receive_keeps_every_socket_open_and_has_them_all_resync(
    people, receive_loses_boom, django_capture_on_commit_callbacks
):
    Notification.objects.create(recipient=people.officer, kind=ReferralNotice.REFERRAL_RECEIVED, title="旧的")
    mediator, officer = session_cookie(people.mediator), session_cookie(people.officer)

    def tell_mediator():
        with django_capture_on_commit_callbacks(execute=True):
            return notify([people.mediator], kind=MediationNotice.SUPERVISION_ORDER, title="督办")[0]

    async def scenario():
        ws, _ = await browser(mediator)
        ws_officer, _ = await browser(officer)
        # Lost on its way to the mediator's socket: that page must read the database again, and
        # so must the officer's, since one receive loop serves every socket of a process.
        await get_channel_layer().group_send(f"user.{people.mediator.pk}", {"type": "x", "state": "boom"})
        assert await ws.receive_json_from(timeout=3) == {"type": "hello", "unread": 0}
        assert await ws_officer.receive_json_from(timeout=3) == {"type": "hello", "unread": 1}
        row = await in_test_thread(tell_mediator)()
        message = await ws.receive_json_from(timeout=3)
        assert message["notification"]["id"] == row.pk
        # Once per failure, not again.
        assert await ws.receive_nothing(timeout=0.5)
        assert await ws_officer.receive_nothing(timeout=0.1)
        await ws.disconnect()
        await ws_officer.disconnect()

    run(scenario)


def test_the_internals_refuse_to_start_against_another_channels_redis(settings, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from notifications import redis_layer

    settings.NOTIFY_REDIS_INTERNALS = True
    redis_layer.check_version()  # the pinned one: fine
    monkeypatch.setattr(redis_layer, "PINNED", "0.0.1")
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_REDIS_INTERNALS=0"):
        redis_layer.check_version()
    settings.NOTIFY_REDIS_INTERNALS = False
    redis_layer.check_version()  # switched off: nothing to check
