"""The app shell for phones: a web app manifest with icons, and a service worker that keeps the
shell (styles, scripts, icons) but never a page."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_every_page_names_the_manifest_and_registers_the_worker(people):
    html = login(people.mediator).get("/").content.decode()
    assert re.search(r'<link rel="manifest" href="/static/manifest[^"]*\.webmanifest">', html)
    assert 'data-service-worker="/sw.js"' in html


def test_the_manifest_installs_the_app_with_its_icons():
    manifest = json.loads(Path(finders.find("manifest.webmanifest")).read_text(encoding="utf-8"))
    assert manifest["name"] == "访调对接" and manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        path = finders.find(icon["src"])
        assert path, icon["src"]
        data = Path(path).read_bytes()
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and f"{width}x{height}" == icon["sizes"]


def test_the_worker_keeps_the_shell_and_no_page(client):
    response = client.get("/sw.js")  # anonymous too: the browser checks it for updates
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", script).group(1))
    assert shell and all(url.startswith("/static/") for url in shell)
    assert any("css/app" in url for url in shell) and any("js/app" in url for url in shell)
    assert "没有网络连接" in script  # the notice for a page asked for offline
    assert "cache.put" not in script  # nothing but the shell is ever stored
    assert re.search(r'var CACHE = PREFIX \+ "[0-9a-f]{16}"', script)


def test_the_worker_answers_only_get(client):
    assert client.post("/sw.js").status_code == 405


def test_the_offline_notice_speaks_the_systems_language_whatever_the_browser_sends(client, settings):
    # Chromium fetches the worker with its own Accept-Language (en-US), not the page's: the notice
    # it keeps came out in English on a Chinese system.
    body = client.get("/sw.js", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "没有网络连接" in body and "No network connection" not in body
    # Someone who chose English keeps it.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "No network connection" in client.get("/sw.js").content.decode()
