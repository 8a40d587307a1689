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

from accounts.models import ApiToken
from accounts.tokens import digest
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


PROXY = "10.0.0.5"


def through_proxy(client: Client, username: str, password: str, client_address: str):
    """A login as the production proxy passes it on: from the proxy, naming the client."""
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


def test_a_stranger_behind_the_proxy_cannot_lock_the_victim_out(people, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    attacker, victim = Client(), Client()
    for _ in range(5):
        through_proxy(attacker, "officer", "wrong-password", "203.0.113.9")
    # The attacker's address is throttled...
    assert through_proxy(attacker, "officer", "correct-horse-battery", "203.0.113.9").status_code == 429
    # ...the victim, from their own desk, logs in.
    assert through_proxy(victim, "officer", "correct-horse-battery", "198.51.100.7").status_code == 302


def test_an_address_the_client_writes_itself_is_not_believed(people, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    attacker = Client()
    # Each attempt claims another address in front of the one the proxy appends: still one address.
    for n in range(5):
        through_proxy(attacker, "officer", "wrong-password", f"192.0.2.{n}, 203.0.113.9")
    assert through_proxy(attacker, "officer", "correct-horse-battery", "192.0.2.99, 203.0.113.9").status_code == 429
    # And without a trusted proxy in front, X-Forwarded-For is ignored altogether.
    settings.TRUSTED_PROXIES = []
    spoofed = Client()
    for n in range(5):
        spoofed.post(
            "/login/",
            {"username": "reviewer", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}",
        )
    locked = spoofed.post(
        "/login/", {"username": "reviewer", "password": "correct-horse-battery"}, REMOTE_ADDR="10.9.9.9"
    )
    assert locked.status_code == 429
    assert attempt(spoofed, "reviewer", "correct-horse-battery").status_code == 302  # from 10.0.0.7


def test_the_read_audit_records_the_proxys_client_address_and_the_rest_as_claimed(people, story, settings):
    from core.models import AccessLog

    settings.TRUSTED_PROXIES = [PROXY]
    referral = story.submitted()
    client = login(people.officer)
    client.get(
        f"/referrals/{referral.pk}/",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        HTTP_X_REAL_IP="7.7.7.7",
        HTTP_USER_AGENT="Mozilla/5.0 (Claimed)",
    )
    entry = AccessLog.objects.get(action=AccessLog.Action.VIEW_PERSONAL_DATA)
    assert entry.ip_address == "203.0.113.9"
    assert entry.forwarded_for == "6.6.6.6, 203.0.113.9"
    assert entry.user_agent == "Mozilla/5.0 (Claimed)"


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
    ApiToken.objects.filter(key_hash=digest(key)).delete()  # the admin's delete action
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


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "Zx9!qL#2vB@7nM$4pR^8tY&6wE*3uI(1oP)" + "s" * 20,
    "ALLOWED_HOSTS": "fangdiao.example.gov.cn",
}


def test_production_refuses_a_long_secret_key_of_few_different_characters():
    result = _run_manage("check", **{**PRODUCTION, "SECRET_KEY": "ab" * 30})
    assert result.returncode != 0
    assert "too few different characters" in result.stderr


def test_in_production_the_api_schema_and_docs_need_a_login():
    probe = (
        "from django.test import Client; c = Client(HTTP_HOST='fangdiao.example.gov.cn');"
        "print(c.get('/api/schema/', secure=True).status_code, c.get('/api/docs/', secure=True).status_code)"
    )
    result = _run_manage("shell", "--no-imports", "-c", probe, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["401", "401"]


def test_the_language_can_be_switched_before_logging_in():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.cookies["django_language"].value == "en"


def test_a_sqlite_database_url_gets_the_same_locking_as_the_default_file(tmp_path):
    """Found from outside: with DATABASE_URL=sqlite://… the IMMEDIATE transactions, the lock timeout and
    WAL were dropped, and ten concurrent steps answered eight 500s ("database is locked")."""
    code = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS'];"
        "print(o.get('transaction_mode'), o.get('timeout'), 'WAL' in o.get('init_command', ''))"
    )
    result = _run_manage("shell", "-c", code, DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["IMMEDIATE", "20", "True"]
