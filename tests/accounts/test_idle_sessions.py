"""The idle timeout counts what the person does, not what an open page does by itself.

A page left open receives pushes and fetches fragments after each (static/js/live.js); those
fetches are marked, and only unmarked requests restart the session's idle clock
(``accounts.middleware.IdleSessionMiddleware``, instead of ``SESSION_SAVE_EVERY_REQUEST``).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tokens import issue_token
from tests.conftest import api, login

pytestmark = pytest.mark.django_db

LIVE = {"HTTP_X_LIVE_REFRESH": "1"}


def at(start: datetime.datetime, seconds: float):
    return time_machine.travel(start + datetime.timedelta(seconds=seconds), tick=False)


def test_refreshes_of_an_open_page_do_not_keep_the_session_alive(people, story, settings):
    age = settings.SESSION_COOKIE_AGE
    referral = story.submitted()
    start = timezone.now()
    client = login(people.officer)
    for moment in (0.5, 0.9):  # pushes keep coming; the person is away
        with at(start, age * moment):
            assert client.get("/referrals/?fragment=1", **LIVE).status_code == 200
            assert client.get(f"/api/referrals/{referral.pk}/", **LIVE).status_code == 200
    with at(start, age + 60):
        response = client.get("/referrals/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_what_the_person_does_restarts_the_idle_clock(people, settings):
    age = settings.SESSION_COOKIE_AGE
    start = timezone.now()
    client = login(people.officer)
    for moment in (0.6, 1.2, 1.8):  # never a whole idle period apart
        with at(start, age * moment):
            assert client.get("/referrals/").status_code == 200
    with at(start, age * 1.8 + age + 60):
        assert client.get("/referrals/").status_code == 302


def test_api_token_and_anonymous_requests_save_no_session(people):
    _token, key = issue_token(people.officer)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    before = Session.objects.count()
    response = client.get("/api/organisations/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    from django.test import Client

    anonymous = Client().get("/login/")
    assert "sessionid" not in anonymous.cookies
    assert Session.objects.count() == before
