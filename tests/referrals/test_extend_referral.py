"""延期 (extend): every party's consent to the extension, each with its day and method, recorded as the
consent to mediation is; a party missing is named and nothing is written (docs/domain.md, "Extend")."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from referrals import workflow
from referrals.errors import MissingElements
from referrals.models import Extension, ExtensionConsent, Party, Referral, TimelineEvent
from tests import factories as f
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def url(referral: Referral) -> str:
    return f"/api/referrals/{referral.pk}/actions/extend/"


def parties(referral: Referral) -> dict[str, Party]:
    return {p.name: p for p in referral.parties.all()}


def assert_nothing_written(referral: Referral) -> None:
    fresh = Referral.objects.get(pk=referral.pk)
    assert fresh.extension_days == 0 and fresh.due_on == referral.due_on
    assert not Extension.objects.filter(referral=referral).exists()
    assert not ExtensionConsent.objects.exists()
    assert not TimelineEvent.objects.filter(referral=referral, action="extend").exists()


def test_each_partys_consent_is_recorded_with_its_day_and_method(people, story):
    referral = story.mediating()
    p = parties(referral)
    today = timezone.localdate()
    consents = [
        {"party": p["王大明"].pk, "consented_on": today.isoformat(), "method": "written"},
        {"party": p["李小红"].pk, "consented_on": today.isoformat(), "method": "oral"},
    ]
    response = api(people.mediator).post(
        url(referral), {"days": 10, "reason": "等待鉴定", "consents": consents}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["extension_days"] == 10
    extension = Extension.objects.get(referral=referral)
    recorded = {(c.party.name, c.consented_on, c.method) for c in extension.consents.select_related("party")}
    assert recorded == {("王大明", today, "written"), ("李小红", today, "oral")}
    # The timeline says who consented, when and how.
    event = TimelineEvent.objects.get(referral=referral, action="extend")
    assert f"王大明 {today.isoformat()} 书面同意" in event.note and f"李小红 {today.isoformat()} 口头同意" in event.note
    assert [c["name"] for c in event.data["consents"]] == ["王大明", "李小红"]
    timeline = api(people.supervisor).get(f"/api/referrals/{referral.pk}/timeline/").json()
    assert "李小红" in next(e for e in timeline if e["action"] == "extend")["note"]


def test_a_party_missing_is_named_and_nothing_is_written(people, story):
    referral = story.mediating()
    p = parties(referral)
    only_one = [{"party": p["王大明"].pk, "consented_on": timezone.localdate().isoformat(), "method": "written"}]
    response = api(people.mediator).post(
        url(referral), {"days": 10, "reason": "继续协商", "consents": only_one}, format="json"
    )
    assert response.status_code == 400
    missing = response.json()["missing"]
    assert [m["code"] for m in missing] == [f"extension_consent:{p['李小红'].pk}"]
    assert "李小红" in missing[0]["message"] and "被申请人" in missing[0]["message"]
    assert_nothing_written(referral)


def test_the_workflow_refuses_alike(people, story):
    referral = story.mediating()
    with pytest.raises(MissingElements) as refused:
        workflow.extend_referral(referral, by=people.mediator, days=5, reason="x", consents=[])
    assert {m.code for m in refused.value.missing} == {f"extension_consent:{p.pk}" for p in referral.parties.all()}
    assert_nothing_written(referral)


def test_the_old_single_yes_is_refused_with_a_message_naming_the_new_field(people, story):
    referral = story.mediating()
    response = api(people.mediator).post(
        url(referral), {"days": 10, "reason": "继续协商", "parties_consented": True}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["errors"]["parties_consented"][0]
    assert "consents" in message and "consented_on" in message
    # Even with every consent given as well: the old field no longer means anything.
    both = {"days": 10, "reason": "x", "parties_consented": True, "consents": f.extension_consents_json(referral)}
    assert api(people.mediator).post(url(referral), both, format="json").status_code == 400
    assert_nothing_written(referral)


@pytest.mark.parametrize("problem", ["other_referral", "twice", "future", "before_the_round", "bad_method"])
def test_a_bad_consent_is_refused_and_nothing_is_written(people, story, problem):
    referral = story.mediating()
    consents = f.extension_consents_json(referral)
    if problem == "other_referral":
        consents[1]["party"] = story.mediating().parties.first().pk
    elif problem == "twice":
        consents.append(dict(consents[0]))
    elif problem == "future":
        consents[0]["consented_on"] = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    elif problem == "before_the_round":
        consents[0]["consented_on"] = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    else:
        consents[0]["method"] = "telepathy"
    response = api(people.mediator).post(url(referral), {"days": 5, "reason": "x", "consents": consents}, format="json")
    assert response.status_code == 400, problem
    assert any(key.startswith("consents") for key in response.json()["errors"]), response.json()
    assert_nothing_written(referral)


def test_the_page_form_has_one_row_per_party_and_names_the_one_missing(people, story):
    referral = story.mediating()
    p = parties(referral)
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    form = page[page.index('data-action="extend"') :]
    form = form[: form.index("</form>")]
    for party in p.values():
        assert f'name="consent_{party.pk}_0"' in form and f'name="consent_{party.pk}_1"' in form
        assert f"{party.name}（{party.get_role_display()}）同意延期" in form
    assert "parties_consented" not in form
    today = timezone.localdate().isoformat()
    half = {f"consent_{p['王大明'].pk}_0": today, f"consent_{p['王大明'].pk}_1": "written"}
    refused = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/extend/", {"days": 5, "reason": "继续协商", **half}
    )
    assert refused.status_code == 400
    assert "李小红（被申请人）同意延长调解期限的日期和方式" in refused.content.decode()
    assert_nothing_written(referral)
    # A day without its method is refused by the form itself.
    no_method = {**half, f"consent_{p['李小红'].pk}_0": today}
    assert (
        login(people.mediator)
        .post(f"/referrals/{referral.pk}/actions/extend/", {"days": 5, "reason": "x", **no_method})
        .status_code
        == 400
    )
    assert_nothing_written(referral)
    done = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/extend/",
        {"days": 5, "reason": "继续协商", **f.extension_consents_form(referral, method="oral")},
    )
    assert done.status_code == 302
    assert ExtensionConsent.objects.filter(extension__referral=referral, method="oral").count() == 2
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "王大明" in timeline and "口头同意(已记录)" in timeline


def test_consent_given_earlier_in_the_round_is_accepted(people, story):
    with time_machine.travel(datetime.datetime(2026, 9, 1, 10, tzinfo=datetime.UTC), tick=False):
        referral = story.mediating()
    with time_machine.travel(datetime.datetime(2026, 9, 10, 10, tzinfo=datetime.UTC), tick=False):
        extended = workflow.extend_referral(
            referral,
            by=people.mediator,
            days=5,
            reason="x",
            consents=f.extension_consents(referral, on=datetime.date(2026, 9, 3)),
        )
    assert extended.extension_days == 5


def test_the_schema_documents_the_consents(people):
    schema = api(people.officer).get("/api/schema/?format=json").json()["components"]["schemas"]
    action = schema["ReferralActionRequestRequest"]["properties"]
    assert "consents" in action and "parties_consented" in action
    consent = schema["ExtensionConsentRequest"]
    assert set(consent["properties"]) == {"party", "consented_on", "method"}
    assert set(consent["required"]) == {"party", "consented_on", "method"}
