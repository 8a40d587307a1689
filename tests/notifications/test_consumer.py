"""The WebSocket consumer at /ws/notifications/ (docs/api.md#websocket), driven with WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import copy

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from accounts.models import ApiToken
from mediation.notices import Notice as MediationNotice
from notifications import consumers
from notifications.models import Notification
from notifications.service import mark_all_read, notify, push_import_progress
from referrals.models import TimelineEvent
from referrals.notices import Notice as ReferralNotice
from tests.conftest import login
from tests.notifications.conftest import api_client, browser, closed_with, in_test_thread, session_cookie, socket
from tests.notifications.conftest import token_for as token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("consumer_shares_test_connection")]


def run(scenario) -> None:
    async_to_sync(scenario)()


def make_notifications(user, *, unread: int, read: int = 0) -> None:
    for i in range(unread + read):
        n = Notification.objects.create(recipient=user, kind=ReferralNotice.REFERRAL_RECEIVED, title=f"通知{i}")
        if i >= unread:
            n.read_at = n.created_at
            n.save(update_fields=["read_at"])


# --- Authentication --------------------------------------------------------------------------


def test_a_logged_in_browser_is_greeted_with_its_unread_count(people):
    make_notifications(people.mediator, unread=2, read=3)
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws, hello = await browser(cookie)
        assert hello == {"type": "hello", "unread": 2}
        await ws.disconnect()

    run(scenario)


def test_an_api_client_authenticates_with_a_token_in_its_first_message(people):
    make_notifications(people.officer, unread=1)
    key = token(people.officer)

    async def scenario():
        ws, hello = await api_client(key)
        assert hello == {"type": "hello", "unread": 1}
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from() == {"type": "pong"}
        await ws.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth", "token": "not-a-real-token"},
        {"type": "auth"},
        {"type": "ping"},
        "not a dict",
    ],
    ids=["bad token", "missing token", "no auth at all", "not an object"],
)
def test_a_first_message_without_a_valid_token_closes_with_4401(people, first_message):
    async def scenario():
        ws = socket(origin=None)
        assert (await ws.connect())[0]
        await ws.send_json_to(first_message)
        assert await closed_with(ws) == 4401

    run(scenario)


def test_text_that_is_not_json_closes_an_unauthenticated_socket_with_4401(people):
    async def scenario():
        ws = socket(origin=None)
        assert (await ws.connect())[0]
        await ws.send_to(text_data="hello?")
        assert await closed_with(ws) == 4401

    run(scenario)


def test_an_inactive_users_token_is_refused(people):
    key = token(people.mediator)
    people.mediator.is_active = False
    people.mediator.save()

    async def scenario():
        ws = socket(origin=None)
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "auth", "token": key})
        assert await closed_with(ws) == 4401

    run(scenario)


def test_a_socket_that_stays_silent_is_closed_with_4401_when_the_wait_is_over(people, monkeypatch):
    # The contract's 5 seconds, shortened so that the test stays fast.
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.05)

    async def scenario():
        ws = socket(origin=None)
        assert (await ws.connect())[0]
        assert await closed_with(ws, timeout=1) == 4401

    run(scenario)


def test_a_session_cookie_without_an_origin_is_not_trusted(people, monkeypatch):
    # Only a page of ours says where it comes from; a cookie alone must not authenticate.
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.05)
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws = socket(cookie=cookie, origin=None)
        assert (await ws.connect())[0]
        assert await closed_with(ws, timeout=1) == 4401

    run(scenario)


def test_a_page_of_another_site_cannot_open_a_socket_with_our_cookie(people):
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws = socket(cookie=cookie, origin=b"https://evil.example")
        assert await ws.connect() == (False, 4403)

    run(scenario)


def test_an_expired_session_waits_for_a_token_and_then_closes_with_4401(people, monkeypatch):
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.05)

    async def scenario():
        ws = socket(cookie="no-such-session")
        assert (await ws.connect())[0]
        assert await closed_with(ws, timeout=1) == 4401

    run(scenario)


# --- Who hears what --------------------------------------------------------------------------


def test_a_notification_reaches_its_recipient_only(people, django_capture_on_commit_callbacks):
    mediator, other = session_cookie(people.mediator), session_cookie(people.other_mediator)
    make_notifications(people.mediator, unread=1)

    def tell_mediator():
        with django_capture_on_commit_callbacks(execute=True):
            return notify(
                [people.mediator], kind=MediationNotice.SUPERVISION_ORDER, title="督办", body="请回复", url="/x/"
            )[0]

    async def scenario():
        ws, _ = await browser(mediator)
        ws_other, _ = await browser(other)
        row = await in_test_thread(tell_mediator)()
        message = await ws.receive_json_from(timeout=2)
        assert message["type"] == "notification"
        assert message["unread"] == 2
        assert message["notification"] == {
            "id": row.pk,
            "kind": "supervision_order",
            "title": "督办",
            "body": "请回复",
            "url": "/x/",
            "referral": None,
            "created_at": row.created_at.isoformat(),
        }
        assert await ws_other.receive_nothing(timeout=0.2)
        await ws.disconnect()
        await ws_other.disconnect()

    run(scenario)


def test_submitting_a_referral_reaches_the_target_committees_sockets_only(
    people, story, django_capture_on_commit_callbacks
):
    mediator, officer = session_cookie(people.mediator), session_cookie(people.officer)
    other, outsider = session_cookie(people.other_mediator), session_cookie(people.outsider)
    mediator_token = token(people.mediator)

    def submit():
        with django_capture_on_commit_callbacks(execute=True):
            return story.submitted()

    async def scenario():
        ws, _ = await browser(mediator)
        ws_api, _ = await api_client(mediator_token)
        ws_officer, _ = await browser(officer)
        bystanders = [(await browser(other))[0], (await browser(outsider))[0]]
        referral = await in_test_thread(submit)()
        # Each push names the timeline entry it reports, so the actor's own page need not reload.
        events = await in_test_thread(
            lambda: dict(TimelineEvent.objects.filter(referral=referral).values_list("to_state", "pk"))
        )()

        for mediator_socket in (ws, ws_api):
            first = await mediator_socket.receive_json_from(timeout=2)
            second = await mediator_socket.receive_json_from(timeout=2)
            assert first["type"] == "notification"
            assert first["notification"]["kind"] == "referral_received"
            assert first["notification"]["referral"] == referral.pk
            assert first["notification"]["url"] == f"/referrals/{referral.pk}/"
            assert second == {
                "type": "referral.changed",
                "referral": referral.pk,
                "state": "submitted",
                "event": events["submitted"],
            }
        # The officer acted: no notification for herself, but her office's pages refresh — when she
        # registered the draft, and when she submitted it.
        for state in ("draft", "submitted"):
            assert await ws_officer.receive_json_from(timeout=2) == {
                "type": "referral.changed",
                "referral": referral.pk,
                "state": state,
                "event": events[state],
            }
        for ws_bystander in bystanders:
            assert await ws_bystander.receive_nothing(timeout=0.2)
        for s in (ws, ws_api, ws_officer, *bystanders):
            await s.disconnect()

    run(scenario)


def test_import_progress_reaches_the_user_who_imports(people):
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws, _ = await browser(cookie)
        await in_test_thread(push_import_progress)(people.mediator.pk, 7, 30, 120)
        assert await ws.receive_json_from(timeout=2) == {
            "type": "import.progress",
            "import": 7,
            "done": 30,
            "total": 120,
        }
        await ws.disconnect()

    run(scenario)


def test_reading_in_one_tab_updates_the_count_in_the_others(people, django_capture_on_commit_callbacks):
    make_notifications(people.officer, unread=3)
    cookie = session_cookie(people.officer)

    def read_all():
        with django_capture_on_commit_callbacks(execute=True):
            mark_all_read(people.officer)

    async def scenario():
        tab1, hello1 = await browser(cookie)
        tab2, hello2 = await browser(cookie)
        assert hello1["unread"] == hello2["unread"] == 3
        await in_test_thread(read_all)()
        assert await tab1.receive_json_from(timeout=2) == {"type": "unread", "unread": 0}
        assert await tab2.receive_json_from(timeout=2) == {"type": "unread", "unread": 0}
        await tab1.disconnect()
        await tab2.disconnect()

    run(scenario)


def test_a_reconnecting_page_is_greeted_with_what_arrived_while_it_was_away(
    people, story, django_capture_on_commit_callbacks
):
    cookie = session_cookie(people.mediator)

    def submit_two():
        with django_capture_on_commit_callbacks(execute=True):
            story.submitted()
            story.submitted()

    async def scenario():
        ws, hello = await browser(cookie)
        assert hello["unread"] == 0
        await ws.disconnect()
        await in_test_thread(submit_two)()  # while the page is offline
        again, hello = await browser(cookie)
        assert hello == {"type": "hello", "unread": 2}
        await again.disconnect()

    run(scenario)


# --- Sessions ending -------------------------------------------------------------------------


def test_logging_out_closes_that_sessions_sockets_but_not_the_users_api_client(people):
    client = login(people.mediator)
    cookie = client.cookies["sessionid"].value
    other_session = session_cookie(people.mediator)  # the same person, another browser
    key = token(people.mediator)

    async def scenario():
        ws, _ = await browser(cookie)
        ws_other_browser, _ = await browser(other_session)
        ws_api, _ = await api_client(key)
        response = await in_test_thread(client.post)("/logout/")
        assert response.status_code == 302
        assert await closed_with(ws) == 4401
        await ws_api.send_json_to({"type": "ping"})
        assert await ws_api.receive_json_from(timeout=2) == {"type": "pong"}
        await ws_other_browser.send_json_to({"type": "ping"})
        assert await ws_other_browser.receive_json_from(timeout=2) == {"type": "pong"}
        await ws_api.disconnect()
        await ws_other_browser.disconnect()

    run(scenario)


def test_deactivating_a_user_closes_every_socket_they_have(people, django_capture_on_commit_callbacks):
    cookie = session_cookie(people.mediator)
    key = token(people.mediator)
    colleague = session_cookie(people.officer)

    def deactivate():
        with django_capture_on_commit_callbacks(execute=True):
            people.mediator.is_active = False
            people.mediator.save()

    async def scenario():
        ws, _ = await browser(cookie)
        ws_api, _ = await api_client(key)
        ws_colleague, _ = await browser(colleague)
        await in_test_thread(deactivate)()
        assert await closed_with(ws) == 4401
        assert await closed_with(ws_api) == 4401
        await ws_colleague.send_json_to({"type": "ping"})
        assert await ws_colleague.receive_json_from(timeout=2) == {"type": "pong"}
        await ws_colleague.disconnect()

    run(scenario)


# --- Credentials ending: tokens and sessions --------------------------------------------------


def revoke_through_the_api(key: str, token_id, on_commit) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with on_commit(execute=True):
        return client.delete(f"/api/auth/tokens/{token_id}/").status_code


def test_a_revoked_tokens_socket_is_closed_and_hears_nothing_more(people, django_capture_on_commit_callbacks):
    phone, laptop = token(people.mediator, "手机"), token(people.mediator, "电脑")
    phone_id = ApiToken.objects.get(user=people.mediator, name="手机").pk

    def tell_mediator():
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                [people.mediator], kind=MediationNotice.SUPERVISION_ORDER, title="督办", body="当事人电话 13800001111"
            )

    async def scenario():
        ws_phone, _ = await api_client(phone)
        ws_laptop, _ = await api_client(laptop)
        status = await in_test_thread(revoke_through_the_api)(laptop, phone_id, django_capture_on_commit_callbacks)
        assert status == 204
        await in_test_thread(tell_mediator)()
        assert await closed_with(ws_phone) == 4401
        assert await ws_phone.receive_nothing(timeout=0.2)
        # The same person's other client keeps its socket, and hears the notification.
        assert (await ws_laptop.receive_json_from(timeout=2))["type"] == "notification"
        await ws_laptop.disconnect()

    run(scenario)


def test_an_expiring_tokens_socket_is_closed_when_the_token_expires(people, settings):
    settings.API_TOKEN_DAYS = 2 / 86400  # two seconds, so that the test stays short
    key = token(people.mediator)

    async def scenario():
        ws, hello = await api_client(key)
        assert hello["type"] == "hello"
        assert await closed_with(ws, timeout=10) == 4401

    run(scenario)


def test_changing_the_password_closes_the_users_sockets_and_no_one_elses(people, django_capture_on_commit_callbacks):
    key = token(people.mediator)
    cookie = session_cookie(people.mediator)
    colleague = session_cookie(people.officer)

    def change_password():
        # What the admin's password form does.
        with django_capture_on_commit_callbacks(execute=True):
            people.mediator.set_password("another-long-passphrase")
            people.mediator.save()

    async def scenario():
        ws_api, _ = await api_client(key)
        ws_browser, _ = await browser(cookie)
        ws_colleague, _ = await browser(colleague)
        await in_test_thread(change_password)()
        assert await closed_with(ws_api) == 4401
        assert await closed_with(ws_browser) == 4401
        await ws_colleague.send_json_to({"type": "ping"})
        assert await ws_colleague.receive_json_from(timeout=2) == {"type": "pong"}
        await ws_colleague.disconnect()

    run(scenario)


def test_a_socket_is_closed_when_its_session_expires(people, settings):
    settings.SESSION_COOKIE_AGE = 2  # seconds of idleness, so that the test stays short
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws, hello = await browser(cookie)
        assert hello["type"] == "hello"
        assert await closed_with(ws, timeout=10) == 4401

    run(scenario)


def test_a_socket_outlives_the_expiry_it_was_opened_with_while_the_user_is_active(people, settings):
    settings.SESSION_COOKIE_AGE = 2
    client = login(people.mediator)

    async def scenario():
        ws, _ = await browser(client.cookies["sessionid"].value)
        settings.SESSION_COOKIE_AGE = 4
        # The person opens a page: the session now lasts until 4 s from here.
        assert (await in_test_thread(client.get)("/notifications/")).status_code == 200
        await asyncio.sleep(2.5)  # past the expiry the socket learnt when it opened
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=2) == {"type": "pong"}
        assert await closed_with(ws, timeout=10) == 4401  # and closed once the renewed session is over

    run(scenario)


def test_refreshes_triggered_by_pushes_do_not_keep_a_socket_open(people, settings):
    settings.SESSION_COOKIE_AGE = 2
    client = login(people.mediator)

    async def scenario():
        ws, _ = await browser(client.cookies["sessionid"].value)
        settings.SESSION_COOKIE_AGE = 3600
        # What live.js fetches after a push: marked, so the session is not renewed by it.
        response = await in_test_thread(client.get)("/notifications/?fragment=1", HTTP_X_LIVE_REFRESH="1")
        assert response.status_code == 200
        assert await closed_with(ws, timeout=10) == 4401

    run(scenario)


# --- Group memberships -----------------------------------------------------------------------


@pytest.fixture
def short_group_expiry(settings):
    """Group memberships that lapse after 2 s, as they do after channels-redis's 24 h in production."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})["group_expiry"] = 2
    settings.CHANNEL_LAYERS = layers  # channels builds the layer afresh on this change


def test_pushes_keep_reaching_a_socket_open_longer_than_the_layers_group_expiry(
    people, short_group_expiry, monkeypatch
):
    monkeypatch.setattr(consumers, "REJOIN_SECONDS", 0.3)
    cookie = session_cookie(people.mediator)

    async def scenario():
        ws, _ = await browser(cookie)
        await asyncio.sleep(3)  # longer than the group expiry
        await in_test_thread(push_import_progress)(people.mediator.pk, 7, 1, 2)
        assert await ws.receive_json_from(timeout=2) == {"type": "import.progress", "import": 7, "done": 1, "total": 2}
        await ws.disconnect()

    run(scenario)
