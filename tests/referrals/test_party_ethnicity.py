"""A party's 民族 (issue 16 §5): recorded at registration, shown with the full personal data only,
printed on the documents beside sex and birth date; and the agreement's 文号 in the API."""

from __future__ import annotations

import re

import pytest

from referrals.models import Party, Referral
from tests.conftest import api, login
from tests.referrals.test_api_path import act, new_referral_body

pytestmark = pytest.mark.django_db


def with_ethnicity(body: dict, *values: str) -> dict:
    for party, value in zip(body["parties"], values, strict=False):
        party["ethnicity"] = value
    return body


def test_the_office_records_a_partys_ethnicity_and_only_full_readers_see_it(people, story):
    body = with_ethnicity(new_referral_body(people.huanshi.pk), "壮族")
    created = api(people.officer).post("/api/referrals/", body, format="json")
    assert created.status_code == 201, created.json()
    referral = Referral.objects.get(pk=created.json()["id"])
    full = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()
    assert [p["ethnicity"] for p in full["parties"]] == ["壮族", ""]
    assert referral.parties.get(position=0).ethnicity == "壮族"
    # Once referred, the county supervisor reads the parties masked: no 民族 either.
    act(people.officer, referral.pk, "submit")
    masked = api(people.supervisor).get(f"/api/referrals/{referral.pk}/").json()
    assert [p["ethnicity"] for p in masked["parties"]] == ["", ""]


@pytest.mark.parametrize(
    ("party", "message"),
    [
        ({"kind": "organisation", "name": "某某物业公司", "ethnicity": "汉族"}, "单位、组织类当事人不填写民族"),
        ({"ethnicity": "汉"}, "不是合法选项"),
    ],
    ids=["organisation", "not-a-standard-name"],
)
def test_a_wrong_ethnicity_is_refused_by_name_and_nothing_is_written(people, party, message):
    body = new_referral_body(people.huanshi.pk)
    body["parties"][1] = {**body["parties"][1], "id_number": "", **party}
    response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()), response.json()
    assert not Referral.objects.exists()


def test_the_registration_form_takes_the_ethnicity_and_refuses_it_for_an_organisation(people):
    client = login(people.officer)
    page = client.get("/referrals/new/").content.decode()
    assert 'name="parties-0-ethnicity"' in page and '<option value="傈僳族">' in page
    form = {
        "received_on": "2026-11-20",
        "category": "neighbour",
        "summary": "两户因排水沟堵塞发生争执。",
        "claims": "请求疏通。",
        "origin": people.petition_office.pk,
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "20",
        "parties-0-role": "petitioner",
        "parties-0-kind": "organisation",
        "parties-0-name": "某某物业公司",
        "parties-0-ethnicity": "汉族",
    }
    refused = client.post("/referrals/new/", form)
    assert refused.status_code == 200
    assert "单位、组织类当事人不填写民族" in refused.content.decode()
    assert not Referral.objects.exists()
    form |= {"parties-0-kind": "person", "parties-0-name": "韦小宝", "parties-0-ethnicity": "瑶族"}
    saved = client.post("/referrals/new/", form)
    assert saved.status_code == 302, re.findall(r'class="errorlist[^>]*>(.*?)</ul>', saved.content.decode())
    assert Party.objects.get().ethnicity == "瑶族"


def test_the_documents_print_the_ethnicity_between_sex_and_birth_date_for_full_readers(people, story):
    referral = story.succeeded(form="written")
    referral.parties.filter(position=0).update(ethnicity="壮族")
    client = login(people.mediator)
    agreement = client.get(f"/referrals/{referral.pk}/print/agreement/").content.decode()
    assert "王大明，男，壮族，1980年5月17日出生" in agreement
    register = client.get(f"/referrals/{referral.pk}/print/register/").content.decode()
    assert "王大明；性别：男；民族：壮族；出生日期：1980年5月17日" in register
    assert "壮族" not in login(people.supervisor).get(f"/referrals/{referral.pk}/print/agreement/").content.decode()


def test_the_agreements_document_number_is_in_the_api(people, story):
    referral = story.succeeded(form="written")
    number = referral.agreements.get().number
    assert number.startswith("环调〔")
    assert api(people.officer).get(f"/api/referrals/{referral.pk}/").json()["agreement"]["number"] == number
    progress = api(people.mediator).post(
        f"/api/referrals/{referral.pk}/agreement/progress/", {"performance": "performed"}, format="json"
    )
    assert progress.status_code == 200, progress.json()
    assert progress.json()["number"] == number
