"""Safeguards of the request path: NUL bytes, caching of personal data, repeated creating POSTs."""

from __future__ import annotations

import re

import pytest

from referrals.models import Referral
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def draft_body(people, **changes) -> dict:
    body = {
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "邻里纠纷。",
        "claims": "请求调解。",
        "target": people.huanshi.pk,
        "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
        "parties": [
            {"role": "petitioner", "kind": "person", "name": "王一", "phone": "13800000001"},
            {"role": "respondent", "kind": "person", "name": "李二", "phone": "13800000002"},
        ],
    }
    body.update(changes)
    return body


# --- NUL bytes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/referrals/?search=a%00b",
        "/api/exports/referrals.xlsx?search=%00",
        "/api/mediators/?search=%00",
        "/api/organisations/?search=x%00",
        "/api/stats/summary/?region=44%00",
        "/referrals/?search=%00",
        "/rosters/?search=%00",
    ],
)
def test_a_nul_byte_in_a_query_parameter_is_a_clear_400(people, url):
    client = api(people.supervisor) if url.startswith("/api/") else login(people.supervisor)
    response = client.get(url)
    assert response.status_code == 400
    assert "空字符" in response.content.decode()


def test_a_nul_byte_in_a_json_body_is_a_400_and_creates_nothing(people):
    response = api(people.officer).post("/api/referrals/", draft_body(people, summary="邻里\u0000纠纷"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not Referral.objects.exists()


def test_a_lone_surrogate_in_a_json_body_is_a_400(people):
    raw = '{"summary": "\\ud800"}'
    response = api(people.officer).post("/api/referrals/", raw, content_type="application/json")
    assert response.status_code == 400


def test_a_nul_byte_in_a_page_form_is_a_400(people):
    response = login(people.officer).post("/referrals/new/", {"summary": "a\x00b"})
    assert response.status_code == 400
    assert "空字符" in response.content.decode()


def test_an_escaped_backslash_before_u0000_is_ordinary_text(people):
    body = draft_body(people, summary="路径 C:\\u0000 不是空字符")
    assert api(people.officer).post("/api/referrals/", body, format="json").status_code == 201


# --- Caching ---------------------------------------------------------------------------------------


def test_pages_and_api_answers_with_personal_data_are_never_cached(people, story):
    referral = story.submitted()
    for response in (
        login(people.officer).get(f"/referrals/{referral.pk}/"),
        api(people.officer).get(f"/api/referrals/{referral.pk}/"),
        api(people.officer).get("/api/referrals/"),
    ):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


# --- Idempotency ---------------------------------------------------------------------------------


def test_the_same_idempotency_key_creates_one_draft_and_answers_the_same_twice(people):
    client = api(people.officer)
    first = client.post("/api/referrals/", draft_body(people), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/referrals/", draft_body(people), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Referral.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_422(people):
    client = api(people.officer)
    client.post("/api/referrals/", draft_body(people), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post(
        "/api/referrals/", draft_body(people, summary="另一件事。"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1


def test_keys_are_per_user(people):
    from tests import factories as f

    colleague = f.make_user("officer2", memberships=[(people.petition_office, "officer")])
    api(people.officer).post("/api/referrals/", draft_body(people), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    api(colleague).post("/api/referrals/", draft_body(people), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert Referral.objects.count() == 2


def test_without_a_key_each_post_creates(people):
    client = api(people.officer)
    client.post("/api/referrals/", draft_body(people), format="json")
    client.post("/api/referrals/", draft_body(people), format="json")
    assert Referral.objects.count() == 2


def registration_form(people, page: str) -> dict:
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page).group(1)
    return {
        "form_token": token,
        "origin": people.petition_office.pk,
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "邻里纠纷。",
        "claims": "请求调解。",
        "target": people.huanshi.pk,
        "scope_ground": "civil_between_citizens",
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "20",
        "parties-0-role": "petitioner",
        "parties-0-kind": "person",
        "parties-0-name": "王一",
        "parties-0-phone": "13800000001",
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李二",
        "parties-1-phone": "13800000002",
    }


def test_a_double_clicked_registration_form_registers_one_referral(people):
    client = login(people.officer)
    data = registration_form(people, client.get("/referrals/new/").content.decode())
    first = client.post("/referrals/new/", data)
    second = client.post("/referrals/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Referral.objects.count() == 1
    # A freshly opened form has a new token and registers again.
    data = registration_form(people, client.get("/referrals/new/").content.decode())
    assert client.post("/referrals/new/", data).status_code == 302
    assert Referral.objects.count() == 2
