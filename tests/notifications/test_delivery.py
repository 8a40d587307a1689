"""Stored first, then pushed (docs/architecture.md#core-rules): the push is a bonus, never a condition."""

from __future__ import annotations

import contextlib

import pytest
from django.db import transaction

from notifications import service
from notifications.models import Notification
from referrals.models import State
from referrals.workflow import submit_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def layer_down(settings):
    # A Redis that is not there: every push fails (connection refused at once).
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }


def test_a_step_succeeds_and_its_notifications_are_kept_when_the_channel_layer_is_down(
    people, story, layer_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = story.submitted()
    assert referral.state == State.SUBMITTED
    assert Notification.objects.filter(recipient=people.mediator, referral_id=referral.pk).exists()
    assert "could not push" in caplog.text


def test_nothing_is_pushed_when_the_step_is_rolled_back(people, story, monkeypatch, django_capture_on_commit_callbacks):
    pushed: list = []
    monkeypatch.setattr(service, "_send_many", pushed.extend)
    draft = story.draft()
    with django_capture_on_commit_callbacks(execute=True), contextlib.suppress(RuntimeError), transaction.atomic():
        submit_referral(draft, by=people.officer)
        raise RuntimeError("something later in the same request fails")
    assert pushed == []
    assert not Notification.objects.filter(recipient=people.mediator).exists()
    with django_capture_on_commit_callbacks(execute=True):
        submit_referral(draft, by=people.officer)
    assert {group for group, _message in pushed} >= {f"user.{people.mediator.pk}", f"org.{people.huanshi.pk}"}
