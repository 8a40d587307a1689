"""Concluding with an agreement (调解成功): the elements of 人民调解法 Art. 29, all named at once."""

import datetime

import pytest

from mediation.models import Agreement
from notifications.models import Notification
from referrals.models import Referral, State
from referrals.notices import Notice as ReferralNotice
from tests.conftest import api
from tests.factories import day
from tests.mediation.conftest import act, codes, on

pytestmark = pytest.mark.django_db


def complete(**overrides) -> dict:
    agreement = {
        "form": "written",
        "terms": "李小红于十日内疏通排水沟，并赔偿王大明损失500元。",
        "amount": "500.00",
        "performance_method": "自行疏通；现金一次性支付",
        "performance_place": "环市街道调解室",
        "performance_due": day(10),
        "signed_on": day(),
    }
    agreement.update(overrides)
    return {"agreement": {k: v for k, v in agreement.items() if v is not None}}


def test_it_refuses_to_conclude_without_a_session_record(people, story):
    referral = story.mediating()
    response = act(people.mediator, referral.pk, "succeed", complete())
    assert response.status_code == 400
    assert response.json()["code"] == "missing_elements"
    assert codes(response) == ["session"]
    assert Referral.objects.get(pk=referral.pk).state == State.MEDIATING
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("left_out", "code"),
    [
        ("terms", "agreement_terms"),
        ("performance_method", "performance_method"),
        ("performance_due", "performance_due"),
        ("signed_on", "signed_on"),
    ],
)
def test_it_refuses_to_conclude_without_each_element_of_the_agreement(people, story, left_out, code):
    referral = story.with_session()
    response = act(people.mediator, referral.pk, "succeed", complete(**{left_out: None}))
    assert response.status_code == 400
    assert codes(response) == [code]
    assert Referral.objects.get(pk=referral.pk).state == State.MEDIATING


def test_it_names_every_missing_element_at_once_with_codes_and_chinese_messages(people, story):
    referral = story.mediating()
    response = act(people.mediator, referral.pk, "succeed", {"agreement": {"form": "written", "terms": "   "}})
    assert response.status_code == 400
    body = response.json()
    assert codes(response) == ["agreement_terms", "performance_method", "performance_due", "signed_on", "session"]
    assert all(m["message"] for m in body["missing"])
    assert "调解记录" in body["detail"] and "履行期限" in body["detail"]


def test_a_request_without_any_agreement_lists_the_agreement_elements_too(people, story):
    referral = story.with_session()
    response = act(people.mediator, referral.pk, "succeed", {})
    assert response.status_code == 400
    assert codes(response) == ["agreement_form", "agreement_terms", "performance_method", "performance_due"]


def test_an_oral_agreement_needs_no_signed_date_and_takes_effect_when_recorded(people, story):
    day = datetime.date(2026, 11, 10)
    with on(day - datetime.timedelta(days=3)):
        referral = story.with_session()
    with on(day, 16):
        response = act(people.mediator, referral.pk, "succeed", complete(form="oral", signed_on=None))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "succeeded"
    assert body["agreement"]["form"] == "oral"
    assert body["agreement"]["signed_on"] is None
    assert body["agreement"]["effective_on"] == "2026-11-10"
    assert body["outcome"]["result"] == "agreement"


def test_a_written_agreement_takes_effect_on_the_day_all_parties_signed(people, story):
    with on(datetime.date(2026, 11, 2)):
        referral = story.with_session()
    with on(datetime.date(2026, 11, 9)):
        response = act(people.mediator, referral.pk, "succeed", complete(signed_on="2026-11-05"))
    assert response.status_code == 200, response.json()
    agreement = Agreement.objects.get(referral=referral)
    assert agreement.effective_on == datetime.date(2026, 11, 5)
    assert agreement.amount == 500
    assert agreement.performance_place == "环市街道调解室"
    assert agreement.round == 1


# Each value is built as its test runs, so a date in it is that day's.
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("signed_on", lambda: day(1), "不能晚于今天"),
        ("signed_on", lambda: day(-30), "不能早于本轮调解开始日期"),
        ("amount", lambda: "-1.00", ""),
        ("form", lambda: "video", ""),
        ("performance_due", lambda: day(-1), "不能早于协议"),
    ],
)
def test_it_refuses_impossible_agreement_values(people, story, field, value, message):
    referral = story.with_session()
    response = act(people.mediator, referral.pk, "succeed", complete(**{field: value()}))
    assert response.status_code == 400
    assert message in " ".join(m for msgs in response.json()["errors"].values() for m in msgs)
    assert Referral.objects.get(pk=referral.pk).state == State.MEDIATING


def test_a_session_of_an_earlier_round_does_not_count_for_the_new_round(people, story):
    referral = story.closed()
    act(people.reviewer, referral.pk, "reopen", {"reason": "回访时申请人表示不满意"})
    response = act(people.mediator, referral.pk, "succeed", complete())
    assert response.status_code == 400
    assert codes(response) == ["session"]


def test_a_suspended_mediation_cannot_conclude_with_an_agreement(people, story):
    referral = story.with_session()
    act(people.mediator, referral.pk, "suspend", {"reason": "等待伤情鉴定"})
    response = act(people.mediator, referral.pk, "succeed", complete())
    assert response.status_code == 409
    assert response.json()["code"] == "not_available"


def test_the_petition_office_is_told_and_sees_the_agreement(people, story, django_capture_on_commit_callbacks):
    referral = story.with_session()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert act(people.mediator, referral.pk, "succeed", complete()).status_code == 200
    assert callbacks  # the push to open pages happens after commit
    told = set(
        Notification.objects.filter(kind=ReferralNotice.REFERRAL_CONCLUDED).values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"officer", "reviewer"}
    seen = api(people.officer).get(f"/api/referrals/{referral.pk}/").json()
    assert seen["agreement"]["terms"] == "李小红于十日内疏通排水沟，并赔偿王大明损失500元。"
    assert seen["agreement"]["amount"] == "500.00"
    reviewer = api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()
    assert reviewer["available_actions"] == ["extend_petition", "close", "request_correction", "reopen", "merge"]
    timeline = api(people.officer).get(f"/api/referrals/{referral.pk}/timeline/").json()
    assert timeline[-1]["action"] == "succeed" and timeline[-1]["to_state"] == "succeeded"


def test_the_missing_session_record_is_listed_before_the_agreement_form_is_filled_in(people, story):
    from tests.conftest import login

    referral = story.mediating()
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    succeed_form = page.split('data-action="succeed"', 1)[1].split("</details>", 1)[0]
    assert "至少一份调解记录" in succeed_form
