"""Which channel-layer groups a socket hears: its own user's and its own organisations', no one else's.

A message is sent to every group any persona could be in; each persona's socket must receive exactly
those of ``user.<own id>`` and ``org.<id>`` of the organisations they belong to (docs/api.md#websocket,
notifications/consumers.py), whether it authenticated by session cookie or by token. A socket that
has not authenticated hears nothing before it is closed.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from notifications import consumers
from tests.notifications.conftest import (
    api_client,
    browser,
    closed_with,
    consumer_shares_test_connection,  # noqa: F401 - a fixture, used through usefixtures
    session_cookie,
    socket,
    token_for,
)
from tests.security.conftest import PERSONAS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("consumer_shares_test_connection")]


def organisations_of(people, persona: str) -> set[int]:
    """Written out from the personas of tests/conftest.py, not read from the memberships."""
    city_bureau = people.city.memberships.get().organisation_id
    return {
        "officer": {people.petition_office.pk},
        "reviewer": {people.petition_office.pk},
        "mediator": {people.huanshi.pk},
        "other_mediator": {people.taicheng.pk},
        "supervisor": {people.bureau.pk},  # dispatcher and supervisor there: one group
        "city": {city_bureau},
        "outsider": set(),
    }[persona]


def every_group(people) -> list[str]:
    users = {f"user.{getattr(people, p).pk}" for p in PERSONAS}
    organisations = {f"org.{o}" for p in PERSONAS for o in organisations_of(people, p)}
    return sorted(users | organisations)


async def shout_to(groups: list[str]) -> None:
    layer = get_channel_layer()
    for n, group in enumerate(groups):
        await layer.group_send(group, {"type": "referral.changed", "referral": n, "state": group})


async def heard(ws) -> set[str]:
    groups = set()
    while not await ws.receive_nothing(timeout=0.3):
        message = await ws.receive_json_from(timeout=1)
        assert message["type"] == "referral.changed"
        groups.add(message["state"])
    return groups


def expected_groups(people, persona: str) -> set[str]:
    return {f"user.{getattr(people, persona).pk}"} | {f"org.{o}" for o in organisations_of(people, persona)}


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_browsers_socket_hears_its_users_groups_and_its_organisations_only(people, persona):
    cookie = session_cookie(getattr(people, persona))
    groups, expected = every_group(people), expected_groups(people, persona)

    async def scenario():
        ws, hello = await browser(cookie)
        assert hello["type"] == "hello"
        await shout_to(groups)
        assert await heard(ws) == expected
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize("persona", ["officer", "mediator", "supervisor", "outsider"])
def test_an_api_clients_socket_hears_the_token_owners_groups_only(people, persona):
    key = token_for(getattr(people, persona))
    groups, expected = every_group(people), expected_groups(people, persona)

    async def scenario():
        ws, hello = await api_client(key)
        assert hello["type"] == "hello"
        await shout_to(groups)
        assert await heard(ws) == expected
        await ws.disconnect()

    async_to_sync(scenario)()


def test_a_socket_that_never_authenticates_hears_nothing_before_it_is_closed(people, monkeypatch):
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.5)
    groups = every_group(people)

    async def scenario():
        ws = socket(origin=None)
        assert (await ws.connect())[0]
        await shout_to(groups)
        # The first thing the socket gets is its closing, not one of the messages.
        assert await closed_with(ws, timeout=2) == 4401

    async_to_sync(scenario)()
