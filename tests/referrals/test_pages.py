"""The referral pages, driven through forms as people use them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from referrals.models import Referral, State
from tests.conftest import login
from tests.factories import day

pytestmark = pytest.mark.django_db


def registration_form(people, **overrides) -> dict:
    data = {
        "origin": people.petition_office.pk,
        "received_on": day(),
        "petition_no": "XF-001",
        "category": "neighbour",
        "summary": "两户因排水沟堵塞发生争执。",
        "claims": "请求疏通排水沟。",
        "target": people.huanshi.pk,
        "scope_ground": "civil_between_citizens",
        "exclusions_absent": [
            "reserved_to_specialised_organ",
            "in_legal_proceedings",
            "administrative_dispute",
            "party_refuses",
            "other_unsuitable",
        ],
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "0",
        "parties-0-role": "petitioner",
        "parties-0-kind": "person",
        "parties-0-name": "王大明",
        "parties-0-id_number": "11010519491231002X",
        "parties-0-phone": "13800138000",
        "parties-0-consent_given_on": day(),
        "parties-0-consent_method": "written",
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李小红",
        "parties-1-phone": "13900139000",
        "parties-1-consent_given_on": day(),
        "parties-1-consent_method": "oral",
    }
    data.update(overrides)
    return data


def test_an_officer_registers_checks_and_submits_a_referral(people):
    client = login(people.officer)
    response = client.post("/referrals/new/", registration_form(people))
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/referrals/{referral.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "移交要件齐全" in page
    assert f'action="/referrals/{referral.pk}/actions/submit/"' in page
    assert client.post(f"/referrals/{referral.pk}/actions/submit/").status_code == 302
    assert Referral.objects.get().state == State.SUBMITTED
    assert "已移交" in client.get(f"/referrals/{referral.pk}/").content.decode()


def test_the_missing_elements_are_a_checklist_before_the_button_is_pressed(people):
    client = login(people.officer)
    client.post(
        "/referrals/new/",
        registration_form(people, **{"parties-1-consent_given_on": "", "parties-1-consent_method": "", "target": ""}),
    )
    referral = Referral.objects.get()
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "尚缺以下要件" in page
    assert "李小红同意调解的日期和方式" in page
    assert "接收单位" in page
    response = client.post(f"/referrals/{referral.pk}/actions/submit/")
    assert response.status_code == 400
    assert "李小红同意调解的日期和方式" in response.content.decode()
    assert Referral.objects.get().state == State.DRAFT


def test_an_officer_edits_a_draft(people, story):
    referral = story.draft()
    client = login(people.officer)
    form = client.get(f"/referrals/{referral.pk}/edit/")
    assert form.status_code == 200 and referral.summary in form.content.decode()
    response = client.post(f"/referrals/{referral.pk}/edit/", registration_form(people, summary="更正后的事实摘要"))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.summary == "更正后的事实摘要"
    assert [p.name for p in referral.parties.all()] == ["王大明", "李小红"]


def test_a_mediator_accepts_from_the_page_and_the_form_errors_are_shown(people, story):
    referral = story.submitted()
    client = login(people.mediator)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "受理" in page and "退回" in page and "审核办结" not in page
    refused = client.post(f"/referrals/{referral.pk}/actions/accept/", {})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "主调解员" in body and "权利义务" in body
    accepted = client.post(
        f"/referrals/{referral.pk}/actions/accept/",
        {"lead": people.lead.pk, "others": [people.second.pk], "rights_explained": "on"},
    )
    assert accepted.status_code == 302
    referral.refresh_from_db()
    assert referral.state == State.MEDIATING
    assert referral.lead_mediator == people.lead
    assert set(referral.mediators.all()) == {people.lead, people.second}


def test_a_stale_button_press_says_the_state_changed(people, story):
    referral = story.mediating()
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/decline/", {"reason": "party_refused"})
    assert response.status_code == 409
    assert "状态已变化" in response.content.decode()


def test_the_list_filters_and_pages(people, story):
    for _ in range(3):
        story.submitted()
    story.mediating()
    client = login(people.officer)
    page = client.get("/referrals/?state=mediating").content.decode()
    assert page.count('data-referral-id="') == 1
    fragment = client.get("/referrals/?fragment=1")
    assert b"<html" not in fragment.content and fragment.content.count(b'data-referral-id="') == 4
    bad = client.get("/referrals/?state=lost").content.decode()
    assert "未知状态" in bad


def test_the_timeline_shows_who_did_what(people, story):
    referral = story.mediating()
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    for words in ("登记", "移交", "受理", "陈晓敏", "黄丽华"):
        assert words in page


def test_the_coded_return_reason_shows_on_the_case_page_and_its_timeline(people, story):
    # The reason was only in the notification: the officer opening the case later could not see why
    # the committee sent it back.
    referral = story.declined()
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    assert "当事人拒绝调解" in page
    timeline = page[page.index('id="timeline"') :]
    assert "当事人拒绝调解" in timeline


def test_the_two_acceptances_are_named_apart_on_the_case_page(people, story):
    """Issue 16 §4: 「受理」 means one thing on one screen — the office's 信访受理 and the committee's 调解受理."""
    import re

    today = timezone.localdate()
    referral = story.submitted(
        received_on=today - datetime.timedelta(days=3), petition_accepted_on=today - datetime.timedelta(days=2)
    )
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    petition = re.search(r'data-accepted="petition">([^<]*)<', page).group(1)
    assert petition == referral.petition_accepted_on.isoformat()
    assert "尚未受理" in re.search(r'data-accepted="mediation">(.*?)</dd>', page).group(1)
    assert "受理依据" not in page and "调解范围依据" in page
    accepted = story.mediating()
    page = login(people.mediator).get(f"/referrals/{accepted.pk}/").content.decode()
    accepted.refresh_from_db()
    shown = re.search(r'data-accepted="mediation">([^<]*)<', page).group(1)
    assert shown.startswith(timezone.localtime(accepted.accepted_at).date().isoformat())
