"""Browser journeys against a real server: uvicorn in a subprocess, its own SQLite database with the
Jiangmen reference data and the demo accounts, driven by Playwright through Debian's Chromium.

Nothing is downloaded at run time; without /usr/bin/chromium the journeys skip with a message.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# `make screenshots` sets it (docs/screenshots); other runs of the journeys leave the committed pictures alone.
SCREENSHOTS = Path(os.environ["SCREENSHOTS_DIR"]).resolve() if os.environ.get("SCREENSHOTS_DIR") else None
PASSWORD = "jiangmen-demo"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server at {url} did not come up")


@pytest.fixture(scope="session")
def server_var(tmp_path_factory) -> Path:
    """The server's VAR_DIR: its log, uploads and the SMS it "sends" (``sms.log``, console backend)."""
    return tmp_path_factory.mktemp("e2e-var")


@pytest.fixture(scope="session")
def server(server_var) -> Iterator[str]:
    """A seeded server on a free loopback port; its URL."""
    var = server_var
    port = _free_port()
    # Production settings (no debug pages, hashed static files), over plain HTTP on loopback.
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "VAR_DIR": str(var),
        "STATIC_ROOT": str(var / "static"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REMINDER_LOOP_IN_SERVER": "0",
        "PYTHONUNBUFFERED": "1",
        # The parties' links point at this server; texts go out whatever the hour the suite runs.
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SMS_QUIET_HOURS": "",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)  # the journeys run the embedded mode that `make run` gives a newcomer
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "seed_demo", "--force"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    log = open(var / "server.log", "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            python,
            "-m",
            "config.serve",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "on",
            "--ws",
            "websockets-sansio",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/login/")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's `chromium` package to run the browser journeys")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Session:
    """One person in one browser context (own cookies), at a given viewport."""

    def __init__(self, browser, server: str, viewport: dict, *, external: list[str]) -> None:
        self.server = server
        # Without the service worker (static/js/app.js registers it): requests it made would pass
        # the route below unseen. tests/e2e/test_phone_mediator.py tries the worker on its own.
        self.context = browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=viewport["width"] < 500,
            service_workers="block",
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()

        # Any request leaving the server is recorded and refused: government intranets have no internet.
        def route(route_request):
            request_url = route_request.request.url
            if (
                request_url.startswith(server)
                or request_url.startswith(server.replace("http", "ws"))
                or request_url.startswith("data:")
                or request_url.startswith("blob:")
            ):
                route_request.continue_()
            else:
                external.append(request_url)
                route_request.abort()

        self.context.route("**/*", route)

    def login(self, username: str) -> Session:
        self.page.goto(self.server + "/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.server + "/")
        return self

    def go(self, path: str) -> Session:
        goto(self.page, self.server + path)
        return self

    def shot(self, name: str) -> None:
        if SCREENSHOTS is None:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # JPEG: the committed screenshots are for people to look at, not pixel comparisons.
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.jpg"), full_page=True, type="jpeg", quality=70)

    def close(self) -> None:
        # Since Playwright 1.41 closing a context waits for route handlers still running; a page that
        # is reloading itself (live.js) at that moment left the suite waiting for ever on one CI run.
        # The journey is over, so the handlers' outcome no longer matters.
        self.context.unroute_all(behavior="ignoreErrors")
        self.context.close()


@pytest.fixture
def external_requests() -> Iterator[list[str]]:
    seen: list[str] = []
    yield seen
    assert seen == [], f"pages tried to load from outside the server: {seen}"


@pytest.fixture
def open_session(browser, server, external_requests):
    sessions: list[Session] = []

    def factory(username: str, *, viewport: dict = DESKTOP) -> Session:
        session = Session(browser, server, viewport, external=external_requests).login(username)
        sessions.append(session)
        return session

    yield factory
    for session in sessions:
        session.close()


def goto(page, url: str):
    """Navigate, tolerating the page's own reload: a page showing a referral reloads itself when
    someone else changes it (static/js/live.js), and a reload landing while we navigate interrupts
    our navigation. That is what a user would see too (the page shows the new state either way), so
    the journey waits for whichever load won and goes on; the caller's expectations still decide."""
    try:
        return page.goto(url)
    except PlaywrightError as exc:
        if "interrupted by another navigation" not in str(exc):
            raise
        page.wait_for_load_state()
        # The reload may have won over a navigation elsewhere: then go where we meant to.
        return page.goto(url) if page.url != url else None


def confirm(page) -> None:
    """Answer the page's confirm step (the <dialog> of static/js/app.js, asked before an
    irreversible step) with 确认."""
    from playwright.sync_api import expect

    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("[data-confirm-ok]").click()
