"""Helpers for driving the WebSocket consumer in tests.

Tests are plain (synchronous) functions that run an async scenario with ``async_to_sync``: the
consumer's database calls then run in the test's own thread, inside its transaction, so these tests
need no transactional database (which would reload the reference data after each test).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.tokens import issue_token
from config.asgi import application
from tests.conftest import login

OURS = b"http://testserver"


@pytest.fixture
def consumer_shares_test_connection(monkeypatch):
    """Let the consumer's database calls share the test's connection without closing it.

    ``database_sync_to_async`` closes "old" connections around each call, as a request does. Run
    in the test's thread, that would close the connection that holds the test's transaction (on
    PostgreSQL; SQLite ignores closing its in-memory database). Django's test client switches the
    same clean-up off for requests.
    """
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def session_cookie(user) -> str:
    return login(user).cookies["sessionid"].value


def token_for(user, name: str = "") -> str:
    """A new API token of the user (one per client): its key."""
    return issue_token(user, name=name)[1]


def socket(*, cookie: str | None = None, origin: bytes | None = OURS) -> WebsocketCommunicator:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/notifications/", headers=headers)


async def browser(cookie: str) -> tuple[WebsocketCommunicator, dict]:
    """A page of ours with a logged-in session: connected and greeted."""
    ws = socket(cookie=cookie)
    connected, _code = await ws.connect()
    assert connected
    return ws, await ws.receive_json_from(timeout=2)


async def api_client(token: str) -> tuple[WebsocketCommunicator, dict]:
    """An API client (no Origin): connected, authenticated by its first message, greeted."""
    ws = socket(origin=None)
    connected, _code = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": token})
    return ws, await ws.receive_json_from(timeout=2)


async def closed_with(ws: WebsocketCommunicator, timeout: float = 2) -> int | None:
    """The close code the server sent (None if it sent something else first).

    After a close, the server (Daphne) answers with ``websocket.disconnect`` and the consumer ends;
    the communicator must say it too, or the consumer is left waiting on the channel layer until the
    test's event loop shuts down, which on Redis could wait for ever.
    """
    output = await ws.receive_output(timeout=timeout)
    if output["type"] != "websocket.close":
        return None
    await ws.send_input({"type": "websocket.disconnect", "code": output.get("code", 1000)})
    await ws.wait(timeout)
    return output.get("code")


def in_test_thread(fn):
    """Run synchronous test code (database, workflow) from the scenario, in the test's thread."""
    return database_sync_to_async(fn)
