"""API tokens (accounts app): hashed at rest, a sliding lifetime, revoked with the password, one per client.

The contract of docs/api.md stays: ``POST /api/auth/token/ {username, password}`` → 200
``{"token"}``, 400 on bad credentials. Beyond it: ``GET /api/auth/tokens/`` lists the caller's own
tokens, ``DELETE /api/auth/tokens/{id}/`` revokes one, and a page lets a person do both.
"""

from __future__ import annotations

import datetime
import importlib

import pytest
import time_machine
from django.apps import apps
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token as LegacyToken
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import issue_token
from tests.conftest import api, login
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def obtain(username: str, password: str = PASSWORD, **extra):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password, **extra}, format="json")


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    status = with_token(key).get("/api/organisations/").status_code
    assert status in (200, 401), status
    return status == 200


def days_later(days: float, start: datetime.datetime | None = None):
    return time_machine.travel((start or timezone.now()) + datetime.timedelta(days=days), tick=False)


# --- Obtaining a token -------------------------------------------------------------------------


def test_the_token_endpoint_keeps_its_contract_and_the_key_is_not_stored(people):
    response = obtain("officer")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    key = response.json()["token"]
    assert works(key)
    stored = ApiToken.objects.get(user=people.officer)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert key.startswith(stored.prefix)


@pytest.mark.parametrize(
    "body",
    [{"username": "officer", "password": "wrong-password"}, {"username": "nobody", "password": PASSWORD}, {}],
    ids=["wrong password", "unknown user", "nothing"],
)
def test_bad_credentials_answer_400_and_issue_nothing(people, body):
    response = APIClient().post("/api/auth/token/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_credentials", "invalid")
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(people):
    people.officer.is_active = False
    people.officer.save()
    assert obtain("officer").status_code == 400


def test_each_client_gets_its_own_token_and_may_name_it(people):
    laptop = obtain("mediator", name="办公室电脑").json()["token"]
    phone = obtain("mediator", name="手机").json()["token"]
    assert laptop != phone
    assert works(laptop) and works(phone)
    names = ApiToken.objects.filter(user=people.mediator).values_list("name", flat=True)
    assert sorted(names) == ["办公室电脑", "手机"]


# --- Lifetime -----------------------------------------------------------------------------------


def test_a_token_unused_for_api_token_days_stops_working(people, settings):
    settings.API_TOKEN_DAYS = 30
    key = obtain("officer").json()["token"]
    with days_later(29):
        assert works(key)
    with days_later(29 + 31):
        assert not works(key)


def test_each_use_extends_the_lifetime(people, settings):
    settings.API_TOKEN_DAYS = 30
    start = timezone.now()
    key = obtain("officer").json()["token"]
    for day in (20, 40, 60, 80):  # never 30 days apart: it keeps working long past 30 days
        with days_later(day, start):
            assert works(key)
    with days_later(80 + 31, start):
        assert not works(key)


def test_last_use_is_written_at_most_about_once_a_minute(people):
    start = timezone.now()
    key = obtain("officer").json()["token"]
    with days_later(1, start):
        assert works(key)
    first = ApiToken.objects.get().last_used_at
    with time_machine.travel(first + datetime.timedelta(seconds=20), tick=False):
        assert works(key)
    assert ApiToken.objects.get().last_used_at == first  # no write for this request
    later = first + datetime.timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        assert works(key)
    token = ApiToken.objects.get()
    assert token.last_used_at == later
    assert token.expires_at > later + datetime.timedelta(days=1)


# --- Revocation ---------------------------------------------------------------------------------


def test_changing_the_password_revokes_every_token_of_that_user_only(people):
    mine = [obtain("officer").json()["token"] for _ in range(2)]
    colleagues = obtain("reviewer").json()["token"]
    people.officer.set_password("another-long-passphrase")
    people.officer.save()
    assert not any(works(key) for key in mine)
    assert works(colleagues)
    assert works(obtain("officer", "another-long-passphrase").json()["token"])


def test_saving_a_user_without_changing_the_password_keeps_the_tokens(people):
    key = obtain("officer").json()["token"]
    people.officer.first_name = "陈晓明"
    people.officer.save()
    Client().post("/login/", {"username": "officer", "password": PASSWORD})  # writes last_login
    assert works(key)


def test_changing_the_password_in_the_admin_revokes_the_tokens(people):
    admin = make_user("root", is_staff=True, is_superuser=True)
    key = obtain("officer").json()["token"]
    response = login(admin).post(
        f"/admin/auth/user/{people.officer.pk}/password/",
        {"password1": "another-long-passphrase", "password2": "another-long-passphrase"},
    )
    assert response.status_code == 302, response.content[:500]
    assert not works(key)


def test_deactivating_a_user_revokes_their_tokens(people):
    key = obtain("officer").json()["token"]
    people.officer.is_active = False
    people.officer.save()
    people.officer.is_active = True
    people.officer.save()
    assert not works(key)


def test_an_administrator_revokes_a_token_in_the_admin(people):
    admin = make_user("root", is_staff=True, is_superuser=True)
    key = obtain("officer").json()["token"]
    token = ApiToken.objects.get(user=people.officer)
    response = login(admin).post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not works(key)


# --- A user's own tokens through the API --------------------------------------------------------


def test_a_user_lists_their_own_tokens_without_their_keys(people):
    key = obtain("mediator", name="手机").json()["token"]
    obtain("officer")
    response = with_token(key).get("/api/auth/tokens/")
    assert response.status_code == 200
    (listed,) = response.json()["results"]
    token = ApiToken.objects.get(user=people.mediator)
    assert set(listed) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at"}
    assert listed["id"] == str(token.pk)
    assert listed["name"] == "手机"
    assert key.startswith(listed["prefix"]) and len(listed["prefix"]) < len(key) // 4
    assert listed["last_used_at"] is not None  # this very call
    assert key not in response.content.decode()


def test_a_user_revokes_their_own_token_and_nobody_elses(people):
    phone = obtain("mediator", name="手机").json()["token"]
    laptop = obtain("mediator", name="电脑").json()["token"]
    officers = obtain("officer").json()["token"]
    phone_id = ApiToken.objects.get(user=people.mediator, name="手机").pk
    officers_id = ApiToken.objects.get(user=people.officer).pk

    assert with_token(laptop).delete(f"/api/auth/tokens/{officers_id}/").status_code == 404
    assert works(officers)
    response = with_token(laptop).delete(f"/api/auth/tokens/{phone_id}/")
    assert response.status_code == 204
    assert not works(phone)
    assert works(laptop)
    assert with_token(laptop).delete(f"/api/auth/tokens/{phone_id}/").status_code == 404


def test_a_session_user_manages_tokens_through_the_api_too(people):
    issue_token(people.officer, name="脚本")
    response = api(people.officer).get("/api/auth/tokens/")
    assert [t["name"] for t in response.json()["results"]] == ["脚本"]


@pytest.mark.parametrize(("method", "path"), [("get", "/api/auth/tokens/"), ("delete", "/api/auth/tokens/{id}/")])
def test_anonymous_callers_get_401(people, method, path):
    token, _key = issue_token(people.officer)
    response = getattr(APIClient(), method)(path.format(id=token.pk))
    assert response.status_code == 401
    assert ApiToken.objects.filter(pk=token.pk).exists()


# --- The page -------------------------------------------------------------------------------------


def test_the_token_page_is_linked_from_the_user_menu_and_lists_own_tokens(people):
    issue_token(people.mediator, name="手机")
    issue_token(people.officer, name="别人的脚本")
    client = login(people.mediator)
    home = client.get("/").content.decode()
    assert 'href="/account/tokens/"' in home
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "API 令牌" in html
    assert "手机" in html and "别人的脚本" not in html


def test_a_token_is_revoked_from_the_page(people):
    token, key = issue_token(people.mediator, name="手机")
    others, others_key = issue_token(people.officer)
    client = login(people.mediator)
    assert client.post(f"/account/tokens/{others.pk}/revoke/").status_code == 404
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    assert not works(key)
    assert works(others_key)
    assert "已撤销" in client.get("/account/tokens/").content.decode()


# --- Tokens of rest_framework.authtoken ---------------------------------------------------------


def test_existing_rest_framework_tokens_are_migrated_and_keep_working(people, settings):
    settings.API_TOKEN_DAYS = 30
    # As they were before the migration: rows of rest_framework.authtoken, with their keys in clear.
    legacy = LegacyToken.objects.bulk_create([LegacyToken(user=people.officer, key=LegacyToken.generate_key())])[0]
    migration = importlib.import_module("accounts.migrations.0002_adopt_authtoken_tokens")
    migration.adopt_authtoken_tokens(apps, None)
    assert not LegacyToken.objects.exists()  # no key is kept in clear
    assert works(legacy.key)
    token = ApiToken.objects.get(user=people.officer)
    assert token.expires_at > timezone.now() + datetime.timedelta(days=29)


def test_a_token_made_the_old_way_is_adopted_at_once(people):
    # `manage.py drf_create_token` and older scripts still create rest_framework.authtoken rows.
    key = LegacyToken.objects.create(user=people.officer).key
    assert not LegacyToken.objects.exists()
    assert works(key)
    assert ApiToken.objects.filter(user=people.officer).count() == 1


def test_a_key_can_only_be_used_with_the_token_keyword(people):
    _token, key = issue_token(people.officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/organisations/").status_code == 401
