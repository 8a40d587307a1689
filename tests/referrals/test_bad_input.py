"""Bad input gets a clear 400 and leaves nothing half-written."""

from __future__ import annotations

import pytest

from referrals.models import Party, Referral, TimelineEvent
from tests.conftest import api, login
from tests.factories import day
from tests.referrals.test_api_path import new_referral_body

pytestmark = pytest.mark.django_db


def nothing_written() -> None:
    assert Referral.objects.count() == 0
    assert Party.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


# Each change is built as its test runs, so a date in it is that day's.
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda: {"category": "feud"}, "category", "不是合法选项"),
        (lambda: {"received_on": day(1)}, "received_on", "不能晚于今天"),
        (lambda: {"received_on": "2026-13-45"}, "received_on", "日期"),
        (lambda: {"summary": "纠" * 2001}, "summary", "2000"),
        (lambda: {"scope": {"ground": "anything_goes"}}, "scope.ground", "不是合法选项"),
        (
            lambda: {"parties": [{"role": "petitioner", "name": "王", "id_number": "110105194912310021"}]},
            "parties.0.id_number",
            "校验位",
        ),
        (lambda: {"parties": [{"role": "petitioner", "name": "王", "phone": "12345"}]}, "parties.0.phone", "电话"),
        (lambda: {"parties": [{"role": "judge", "name": "王"}]}, "parties.0.role", "不是合法选项"),
        (
            lambda: {
                "parties": [{"role": "petitioner", "name": "王", "consent": {"given_on": day(1), "method": "oral"}}]
            },
            "parties.0.consent.given_on",
            "不能晚于今天",
        ),
    ],
)
def test_invalid_fields_are_refused_with_a_message_naming_them(people, change, field, words):
    response = api(people.officer).post(
        "/api/referrals/", new_referral_body(people.huanshi.pk, **change()), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert any(words in m for m in body["errors"][field]), body
    nothing_written()


def test_a_target_that_cannot_take_referrals_is_refused(people):
    office = people.petition_office  # a petition office does not mediate
    response = api(people.officer).post("/api/referrals/", new_referral_body(office.pk), format="json")
    assert response.status_code == 400
    assert "不能接收移交案件" in response.json()["errors"]["target"][0]
    nothing_written()


def test_a_target_in_another_city_is_refused(people):
    from townships.models import Organisation, Region

    province = Region.objects.get(code="44")
    foshan = Region.objects.create(code="4406", name="佛山市", level="city", parent=province)
    elsewhere = Organisation.objects.create(
        name="佛山某调委会", kind="mediation_committee", committee_type="township", region=foshan
    )
    response = api(people.officer).post("/api/referrals/", new_referral_body(elsewhere.pk), format="json")
    assert response.status_code == 400
    assert "本市" in response.json()["errors"]["target"][0]
    nothing_written()


def test_malformed_json_is_a_400_not_a_crash(people):
    response = api(people.officer).post("/api/referrals/", '{"received_on": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    nothing_written()


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("decline", {"reason": "bored"}, "reason"),
        ("decline", {"reason": "other", "note": ""}, "note"),
        ("dispatch", {"target": 999999}, "target"),
        ("accept", {"mediators": [999999], "rights_explained": True}, "mediators"),
        ("accept", {"mediators": "lead", "rights_explained": True}, "mediators"),
    ],
)
def test_unknown_codes_and_ids_in_actions_are_refused(people, story, action, body, field):
    if action == "dispatch":
        from referrals import workflow

        referral = workflow.submit_referral(story.draft(target=people.bureau), by=people.officer)
        user = people.supervisor
    else:
        referral = story.submitted()
        user = people.mediator
    events = TimelineEvent.objects.filter(referral=referral).count()
    response = api(user).post(f"/api/referrals/{referral.pk}/actions/{action}/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    referral.refresh_from_db()
    assert referral.state == "submitted"
    assert TimelineEvent.objects.filter(referral=referral).count() == events


def test_list_filters_with_unknown_values_are_refused_not_ignored(people):
    response = api(people.officer).get("/api/referrals/?state=lost&category=feud&region=abc")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"state", "category", "region"}


def test_the_page_form_shows_errors_next_to_the_fields_and_writes_nothing(people):
    client = login(people.officer)
    response = client.post(
        "/referrals/new/",
        {
            "origin": people.petition_office.pk,
            "received_on": day(1),
            "category": "neighbour",
            "parties-TOTAL_FORMS": "1",
            "parties-INITIAL_FORMS": "0",
            "parties-0-role": "petitioner",
            "parties-0-kind": "person",
            "parties-0-name": "王大明",
            "parties-0-id_number": "110105194912310021",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "日期不能晚于今天" in html
    assert "身份证号校验位不正确" in html
    assert 'class="field has-error"' in html
    nothing_written()


def test_a_party_name_of_invisible_characters_only_is_refused_on_the_api_and_the_page(people):
    from tests.conftest import api, login

    body = {
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "邻里纠纷。",
        "claims": "请求调解。",
        "parties": [
            {"role": "petitioner", "kind": "person", "name": "\u200b\u202e", "phone": "13800000001"},
            {"role": "respondent", "kind": "person", "name": "李\u200b二", "phone": "13800000002"},
        ],
    }
    response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 400
    assert "parties.0.name" in response.json()["errors"]
    form = {
        "origin": people.petition_office.pk,
        "received_on": "2026-11-20",
        "category": "neighbour",
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "20",
        "parties-0-role": "petitioner",
        "parties-0-kind": "person",
        "parties-0-name": "\u200b\u200b",
    }
    page = login(people.officer).post("/referrals/new/", form)
    assert page.status_code == 200 and "不可见字符不算" in page.content.decode()


def test_a_party_name_is_stored_without_hidden_characters(people):
    from referrals.models import Party
    from tests.conftest import api

    body = {
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "邻里纠纷。",
        "claims": "请求调解。",
        "parties": [
            {"role": "petitioner", "kind": "person", "name": "王\u200b一", "phone": "13800000001"},
            {"role": "respondent", "kind": "person", "name": "=李二", "phone": "13800000002"},
        ],
    }
    assert api(people.officer).post("/api/referrals/", body, format="json").status_code == 400
    body["parties"][1]["name"] = "李二"
    assert api(people.officer).post("/api/referrals/", body, format="json").status_code == 201
    assert set(Party.objects.values_list("name", flat=True)) == {"王一", "李二"}
