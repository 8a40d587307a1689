"""Authentication hardening, security headers and production settings (issue 10)."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


def test_five_wrong_passwords_lock_the_username_from_that_address(people):
    client = Client()
    for _ in range(4):
        response = attempt(client, "officer", "wrong-password")
        assert response.status_code == 200
        assert "请输入一个正确的" in response.content.decode() or "正确" in response.content.decode()
    locked = attempt(client, "officer", "wrong-password")
    assert locked.status_code == 429
    assert "账号已暂时锁定" in locked.content.decode()
    # Even the right password is refused while locked...
    assert attempt(client, "officer", "correct-horse-battery").status_code == 429
    # ...and accepted again once the lock has cooled off.
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=16)):
        assert attempt(client, "officer", "correct-horse-battery").status_code == 302


def test_the_token_endpoint_is_throttled_too(people):
    client = api()
    for _ in range(5):
        client.post("/api/auth/token/", {"username": "officer", "password": "nope"}, format="json")
    response = client.post(
        "/api/auth/token/", {"username": "officer", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "锁定" in response.json()["detail"]


def test_an_api_token_works_until_an_administrator_revokes_it(people):
    response = api().post(
        "/api/auth/token/", {"username": "officer", "password": "correct-horse-battery"}, format="json"
    )
    key = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/referrals/").status_code == 200
    Token.objects.filter(key=key).delete()
    assert client.get("/api/referrals/").status_code == 401


def test_an_idle_session_expires(people, settings):
    client = login(people.officer)
    assert client.get("/referrals/").status_code == 200
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later):
        response = client.get("/referrals/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_pages_carry_a_content_security_policy_without_inline_scripts(people, story):
    referral = story.mediating()
    for path in ("/", "/referrals/", f"/referrals/{referral.pk}/", "/referrals/new/"):
        response = login(people.officer).get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy
        html = response.content.decode()
        inline = [s for s in re.findall(r"<script\b[^>]*>", html) if "src=" not in s]
        assert inline == [], f"inline script on {path}"
        assert response["X-Frame-Options"] == "DENY"


def test_the_login_page_needs_no_login_and_everything_else_does():
    client = Client()
    assert client.get("/login/").status_code == 200
    for path in ("/", "/referrals/", "/admin/"):
        assert client.get(path).status_code == 302


def _run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], env=clean, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deployment_check():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "Zx9!qL#2vB@7nM$4pR^8tY&6wE*3uI(1oP)" + "s" * 20,
        ALLOWED_HOSTS="fangdiao.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_language_can_be_switched_before_logging_in():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.cookies["django_language"].value == "en"
