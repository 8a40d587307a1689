"""Sending through Tencent Cloud SMS with its official SDK (``SMS_BACKEND=tencent``) against a fake
platform that checks the request's signature: each message as its registered template with its
parameters in order, refusals that are final given up, everything else retried and sent once."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from messaging import outbox, sender, tencent
from messaging.models import Message
from tests.messaging.tencent_platform import SECRET_ID, SECRET_KEY, FakeTencentPlatform

pytestmark = pytest.mark.django_db
LATER = datetime.timedelta(hours=3)
TEMPLATES = {
    "referral_made": {"id": "2040001", "params": ["number", "committee", "url"]},
    "accepted": {"id": "2040002", "params": ["number", "committee", "mediators", "url"]},
    "agreement_reached": {"id": "2040003", "params": ["number", "committee", "url"]},
    "mediation_terminated": {"id": "2040004", "params": ["number", "committee", "url"]},
    "party_link": {"id": "2040005", "params": ["number", "url"]},
    "access_code": {"id": "2040006", "params": ["code", "number", "minutes"]},
}


@pytest.fixture
def platform(settings):
    server = FakeTencentPlatform().start()
    settings.SMS_BACKEND = "tencent"
    settings.SMS_TENCENT_SECRET_ID = SECRET_ID
    settings.SMS_TENCENT_SECRET_KEY = SECRET_KEY
    settings.SMS_TENCENT_SDK_APP_ID = "1400000001"
    settings.SMS_TENCENT_SIGN_NAME = "江门市信访局"
    settings.SMS_TENCENT_REGION = "ap-guangzhou"
    settings.SMS_TENCENT_ENDPOINT = server.endpoint
    settings.SMS_TENCENT_TEMPLATES = TEMPLATES
    settings.SMS_HTTP_TIMEOUT = 1
    yield server
    server.stop()


def test_each_message_goes_as_its_registered_template_with_its_parameters(
    people, story, platform, daytime, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = story.submitted()
    rows = list(Message.objects.filter(referral=referral).order_by("pk"))
    assert [m.status for m in rows] == ["sent", "sent"]
    assert sorted(s["phone"] for s in platform.sent) == sorted(f"+86{m.to}" for m in rows)
    first = next(s for s in platform.sent if s["phone"] == f"+86{rows[0].to}")
    assert first["SmsSdkAppId"] == "1400000001" and first["SignName"] == "江门市信访局"
    assert first["TemplateId"] == "2040001"
    url = rows[0].params["url"]
    assert first["TemplateParamSet"] == [referral.number, referral.target.name, url]
    assert "/p/" in url and url in rows[0].text  # the text staff see says what the phone got
    assert first["SessionContext"] == f"fangdiao-{rows[0].pk}"
    assert rows[0].provider_message_id.startswith("2640:")
    assert sender.send_due(timezone.now() + LATER) == 0
    assert len(platform.sent) == 2


def test_a_wrong_secret_key_is_refused_by_the_platform_and_the_messages_wait(
    people, story, platform, daytime, settings
):
    settings.SMS_TENCENT_SECRET_KEY = "not-the-key"
    story.submitted()
    assert sender.send_due() == 0
    assert platform.sent == []
    failed = list(Message.objects.all())
    assert {m.status for m in failed} == {"failed"}  # an operator's mistake is corrected, not given up
    assert all(m.last_error.startswith("AuthFailure.SignatureFailure") for m in failed)
    settings.SMS_TENCENT_SECRET_KEY = SECRET_KEY
    assert sender.send_due(timezone.now() + LATER) == 2


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("FailedOperation.PhoneNumberInBlacklist", "gave_up"),  # the number replied 退订 on the platform
        ("InvalidParameterValue.IncorrectPhoneNumber", "gave_up"),
        ("error:LimitExceeded.AppDailyLimit", "failed"),
        ("error:InternalError.Timeout", "failed"),
        ("503", "failed"),
    ],
)
def test_final_refusals_are_given_up_and_the_rest_retried(people, story, platform, daytime, answer, status):
    platform.answer = answer
    story.submitted()
    sender.send_due()
    messages = list(Message.objects.all())
    assert {m.status for m in messages} == {status}
    assert all(m.attempts == 1 and m.last_error for m in messages)


@pytest.mark.parametrize("how", ["stopped", "slow"])
def test_platform_down_then_back_sends_each_message_once(people, story, platform, daytime, how):
    if how == "stopped":
        platform.stop()
    else:
        platform.answer = "slow"
    story.submitted()
    assert sender.send_due() == 0
    assert {m.status for m in Message.objects.all()} == {"failed"}
    if how == "stopped":
        platform.start()
    platform.answer = "Ok"
    assert sender.send_due(timezone.now() + LATER) == 2
    assert sender.send_due(timezone.now() + 2 * LATER) == 0
    assert len(platform.sent) == 2
    assert {m.status for m in Message.objects.all()} == {"sent"}


def test_the_code_goes_as_a_parameter_and_is_not_kept_once_sent(people, story, platform, daytime):
    referral = story.submitted()
    Message.objects.all().delete()
    party = referral.parties.first()
    message = outbox.direct(party, Message.Template.ACCESS_CODE, party.phone, code="482913")
    assert sender.send_due() == 1
    assert platform.sent[0]["TemplateId"] == "2040006"
    assert platform.sent[0]["TemplateParamSet"] == ["482913", referral.number, "5"]
    message.refresh_from_db()
    assert "482913" not in message.text and "482913" not in str(message.params)


def test_a_message_without_its_parameters_is_given_up_not_sent_half_filled(people, story, platform, daytime):
    story.submitted()
    Message.objects.update(params={})  # written before the values were kept
    sender.send_due()
    assert platform.sent == []
    assert {m.status for m in Message.objects.all()} == {"gave_up"}
    assert "number" in Message.objects.first().last_error


def test_the_start_up_check_names_what_the_template_mapping_lacks(settings, platform):
    assert tencent.check() == []
    settings.SMS_TENCENT_TEMPLATES = {k: v for k, v in TEMPLATES.items() if k != "accepted"} | {
        "party_link": {"id": "2040005", "params": ["number", "name"]},
        "birthday": {"id": "1", "params": []},
    }
    problems = [e.msg for e in tencent.check()]
    assert any("'accepted'" in p for p in problems)
    assert any("'party_link'" in p and "name" in p for p in problems)
    assert any("'birthday'" in p for p in problems)
    with pytest.raises(SystemCheckError):
        call_command("check")
    settings.SMS_BACKEND = "console"
    assert tencent.check() == []  # only the backend in use is checked
