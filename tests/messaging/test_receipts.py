"""The SMS platform's callbacks (docs/sms.md): delivery receipts move a sent text to 已送达 or 未送达
(then staff may send it again); a reply of TD opts the number out. Only with the platform's token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from messaging.models import Message, OptOut
from tests.conftest import api

pytestmark = pytest.mark.django_db

TOKEN = "platform-callback-secret"


@pytest.fixture(autouse=True)
def _callback_token(settings):
    settings.SMS_CALLBACK_TOKEN = TOKEN


def platform(token: str = TOKEN) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sent(referral, provider_id: str) -> Message:
    message = Message.objects.filter(referral=referral).order_by("pk").first()
    Message.objects.filter(pk=message.pk).update(status="sent", provider_message_id=provider_id, attempts=1)
    return message


def test_receipts_mark_each_text_delivered_or_not_and_the_undelivered_one_may_be_sent_again(people, story, daytime):
    referral = story.submitted()
    first, second = Message.objects.filter(referral=referral).order_by("pk")[:2]
    Message.objects.filter(pk=first.pk).update(status="sent", provider_message_id="P-1")
    Message.objects.filter(pk=second.pk).update(status="sent", provider_message_id="P-2")
    answer = platform().post(
        "/api/sms/receipts/",
        [
            {"message_id": "P-1", "status": "delivered", "at": "2026-12-07T10:00:05+08:00"},
            {"message_id": "P-2", "status": "undelivered", "error": "UNDELIV 用户关机"},
            {"message_id": "not-ours", "status": "delivered"},
        ],
        format="json",
    )
    assert answer.status_code == 200
    assert answer.json() == {"delivered": 1, "undelivered": 1, "unknown": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "delivered" and first.delivered_at.isoformat() == "2026-12-07T02:00:05+00:00"
    assert second.status == "undelivered" and second.last_error == "UNDELIV 用户关机"
    # Staff see it and may send the undelivered one again; the delivered one not.
    listed = {m["id"]: m for m in api(people.officer).get(f"/api/referrals/{referral.pk}/messages/").json()}
    assert listed[first.pk]["status"] == "delivered" and listed[first.pk]["delivered_at"]
    url = f"/api/referrals/{referral.pk}/messages/{{}}/resend/"
    assert api(people.officer).post(url.format(first.pk)).status_code == 409
    assert api(people.officer).post(url.format(second.pk)).json()["status"] == "queued"


def test_a_late_receipt_does_not_undo_a_resend_under_way(people, story, daytime):
    referral = story.submitted()
    message = sent(referral, "P-9")
    Message.objects.filter(pk=message.pk).update(status="queued")  # sent again meanwhile
    answer = platform().post("/api/sms/receipts/", [{"message_id": "P-9", "status": "undelivered"}], format="json")
    assert answer.json() == {"delivered": 0, "undelivered": 0, "unknown": 1}
    assert Message.objects.get(pk=message.pk).status == "queued"


def test_a_bad_list_changes_nothing_and_names_the_fault(people, story, daytime):
    referral = story.submitted()
    message = sent(referral, "P-3")
    answer = platform().post(
        "/api/sms/receipts/",
        [{"message_id": "P-3", "status": "delivered"}, {"message_id": "P-4", "status": "lost"}],
        format="json",
    )
    assert answer.status_code == 400
    assert "status" in str(answer.json())
    assert Message.objects.get(pk=message.pk).status == "sent"


@pytest.mark.parametrize("url", ["/api/sms/receipts/", "/api/sms/replies/"])
def test_only_the_platforms_token_opens_the_callbacks_and_without_one_set_they_do_not_exist(people, url, settings):
    assert platform("wrong").post(url, [], format="json").status_code in (401, 403)
    assert APIClient().post(url, [], format="json").status_code in (401, 403)
    # A staff member's own login is not the platform's.
    assert api(people.officer).post(url, [], format="json").status_code in (401, 403)
    assert platform().post(url, [], format="json").status_code == 200
    settings.SMS_CALLBACK_TOKEN = ""
    assert platform().post(url, [], format="json").status_code == 404


def test_a_reply_of_td_opts_the_number_out_and_no_more_texts_go_to_it(people, story, daytime):
    answer = platform().post(
        "/api/sms/replies/",
        [
            {"number": "+86 139 1111 5201", "text": " td "},
            {"number": "13911115201", "text": "退订"},  # the same number again
            {"number": "13722225202", "text": "好的，谢谢"},
            {"number": "0750-3123456", "text": "TD"},  # not a mobile
        ],
        format="json",
    )
    assert answer.json() == {"opted_out": 1}
    assert list(OptOut.objects.values_list("number", flat=True)) == ["13911115201"]
    assert "退订" in OptOut.objects.get().note
