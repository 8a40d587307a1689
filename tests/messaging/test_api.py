"""``/api/referrals/{id}/messages/`` and ``.../resend/``: who sees the messages, masked numbers, resending."""

from __future__ import annotations

import pytest
from django.utils import timezone

from messaging.models import Message
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def test_those_who_see_the_referral_see_its_messages_with_masked_numbers(people, story, daytime):
    referral = story.mediating()
    url = f"/api/referrals/{referral.pk}/messages/"
    response = api(people.mediator).get(url)
    assert response.status_code == 200
    body = response.json()
    assert [m["template"] for m in body] == ["accepted", "accepted", "referral_made", "referral_made"]
    first = body[0]
    assert set(first) == {
        "id",
        "party",
        "channel",
        "to",
        "template",
        "text",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "delivered_at",
    }
    stored = Message.objects.get(pk=first["id"]).to
    assert first["to"] == stored[:3] + "****" + stored[-4:]
    assert first["channel"] == "sms" and first["status"] == "queued" and first["sent_at"] is None
    for persona in ("officer", "reviewer", "supervisor", "city"):
        assert api(getattr(people, persona)).get(url).status_code == 200, persona
    for persona in ("other_mediator", "outsider"):
        assert api(getattr(people, persona)).get(url).status_code == 404, persona
    assert api().get(url).status_code == 401


def gave_up(referral) -> Message:
    message = Message.objects.filter(referral=referral).first()
    Message.objects.filter(pk=message.pk).update(status="gave_up", attempts=4, last_error="HTTP 503")
    return message


def test_the_office_or_the_handler_may_queue_a_failed_message_again(
    people, story, gateway, daytime, django_capture_on_commit_callbacks
):
    referral = story.submitted()
    message = gave_up(referral)
    url = f"/api/referrals/{referral.pk}/messages/{message.pk}/resend/"
    assert api(people.supervisor).post(url).status_code == 403
    assert api(people.other_mediator).post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api(people.mediator).post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "queued" and response.json()["attempts"] == 0
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1  # sent right after commit
    assert gateway.texts_to(message.to) == [message.text]
    # Sent: nothing to send again.
    assert api(people.officer).post(url).status_code == 409


def test_resend_of_a_message_of_another_referral_is_not_found(people, story, daytime):
    one, other = story.submitted(), story.submitted()
    message = gave_up(other)
    assert api(people.officer).post(f"/api/referrals/{one.pk}/messages/{message.pk}/resend/").status_code == 404
    assert Message.objects.get(pk=message.pk).status == "gave_up"


def test_a_queued_message_is_not_resent(people, story, daytime):
    referral = story.submitted()
    message = Message.objects.filter(referral=referral).first()
    response = api(people.reviewer).post(f"/api/referrals/{referral.pk}/messages/{message.pk}/resend/")
    assert response.status_code == 409
    assert Message.objects.get(pk=message.pk).next_attempt_at <= timezone.now()


def test_the_referral_page_offers_resend_on_a_failed_text_only_and_it_goes_out_again(
    people, story, daytime, gateway, django_capture_on_commit_callbacks
):
    referral = story.submitted()
    message = gave_up(referral)
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    resend = f"/referrals/{referral.pk}/messages/{message.pk}/resend/"
    assert page.count("/resend/") == 1 and resend in page  # the other, queued text has no button
    # The supervisor sees the panel but may not send.
    assert "/resend/" not in login(people.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert login(people.supervisor).post(resend).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        answer = login(people.officer).post(resend, follow=True)
    assert "已重新排队发送" in answer.content.decode()
    message.refresh_from_db()
    assert message.status == "sent" and gateway.texts_to(message.to) == [message.text]
    again = login(people.officer).post(resend, follow=True).content.decode()
    assert "只有发送失败、已放弃或未送达的短信可以重新发送" in again
