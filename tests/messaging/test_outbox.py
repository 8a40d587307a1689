"""Which steps write which messages, to whom, inside the step's transaction (docs/sms.md)."""

from __future__ import annotations

import pytest

from messaging.models import Message, OptOut
from referrals import steps, workflow
from referrals.models import Party
from tests import factories as f

pytestmark = pytest.mark.django_db


def messages(referral, template=None):
    qs = Message.objects.filter(referral=referral)
    return qs.filter(template=template) if template else qs


def test_submitting_to_a_committee_queues_one_message_per_party_naming_the_case_and_the_committee(
    people, story, daytime
):
    referral = story.submitted()
    rows = list(messages(referral).order_by("to"))
    numbers = sorted(Party.objects.filter(referral=referral).values_list("phone", flat=True))
    assert [m.to for m in rows] == numbers
    assert {m.template for m in rows} == {"referral_made"}
    assert {m.status for m in rows} == {"queued"}
    text = rows[0].text
    assert referral.number in text and people.huanshi.name in text
    # Nothing about the parties or the dispute.
    for party in Party.objects.filter(referral=referral):
        assert party.name not in text and party.phone not in text
    assert "排水沟" not in text


def test_accept_names_the_mediators_and_conclusions_say_how_it_ended(people, story, daytime):
    accepted = story.mediating()
    text = messages(accepted, "accepted").first().text
    assert people.lead.name in text and people.second.name in text
    assert text.index(people.lead.name) < text.index(people.second.name)  # the lead first

    succeeded = story.succeeded()
    assert messages(succeeded, "agreement_reached").count() == 2
    assert "达成调解协议" in messages(succeeded, "agreement_reached").first().text

    failed = story.failed()
    assert messages(failed, "mediation_terminated").count() == 2
    assert "终止调解" in messages(failed, "mediation_terminated").first().text


def test_a_referral_sent_to_a_bureau_is_announced_when_dispatched_to_a_committee(people, story, daytime):
    referral = workflow.submit_referral(story.draft(target=people.bureau), by=people.officer)
    assert not messages(referral).exists()
    workflow.dispatch_referral(referral, by=people.supervisor, target=people.huanshi)
    assert messages(referral, "referral_made").count() == 2
    assert people.huanshi.name in messages(referral).first().text


def test_steps_that_tell_the_parties_nothing_write_nothing(people, story, daytime):
    referral = story.declined()
    assert list(messages(referral).values_list("template", flat=True)) == ["referral_made"] * 2


def test_a_rolled_back_step_leaves_no_message_and_sends_nothing(
    people, story, gateway, daytime, monkeypatch, django_capture_on_commit_callbacks
):
    draft = story.draft()

    def broken(referral):
        raise RuntimeError("the database went away after the hooks")

    # The deadline is recomputed after the after-step hooks ran, inside the same transaction.
    monkeypatch.setattr(steps, "apply_deadline", broken)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        workflow.submit_referral(draft, by=people.officer)
    assert not messages(draft).exists()
    assert callbacks == []
    assert gateway.requests == 0


def test_only_parties_with_a_mobile_and_consent_get_one(people, story, daytime):
    draft = story.draft(
        parties=[
            f.person(Party.Role.PETITIONER, "王大明", serial=901),
            f.person(Party.Role.RESPONDENT, "李小红", serial=902, male=False, phone="0750-3123456"),
        ]
    )
    workflow.submit_referral(draft, by=people.officer)
    assert list(messages(draft).values_list("party__name", flat=True)) == ["王大明"]

    # Consent withdrawn on the record, and a number removed: no message for either afterwards.
    referral = story.submitted()
    first, second = Party.objects.filter(referral=referral).order_by("position", "pk")
    Party.objects.filter(pk=first.pk).update(consent_given_on=None, consent_method="")
    Party.objects.filter(pk=second.pk).update(phone="")
    workflow.accept_referral(referral, by=people.mediator, mediators=[people.lead], rights_explained=True)
    assert not messages(referral, "accepted").exists()


def test_an_opted_out_number_gets_nothing(people, story, daytime):
    draft = story.draft()
    opted = Party.objects.filter(referral=draft).order_by("position").first()
    OptOut.objects.create(number=opted.phone)
    workflow.submit_referral(draft, by=people.officer)
    assert opted.phone not in messages(draft).values_list("to", flat=True)
    assert messages(draft).count() == 1


def test_a_number_shared_by_two_parties_gets_one_message_per_step(people, story, daytime):
    draft = story.draft(
        parties=[
            f.person(Party.Role.PETITIONER, "王大明", serial=911, phone="13912345678"),
            f.person(Party.Role.RESPONDENT, "李小红", serial=912, male=False, phone="13912345678"),
        ]
    )
    workflow.submit_referral(draft, by=people.officer)
    assert messages(draft).count() == 1


def test_the_message_is_chinese_whatever_language_the_mediator_reads(people, story, daytime):
    from django.utils import translation

    referral = story.submitted()
    with translation.override("en"):
        workflow.accept_referral(referral, by=people.mediator, mediators=[people.lead], rights_explained=True)
    assert messages(referral, "accepted").first().text.startswith("您的纠纷")
