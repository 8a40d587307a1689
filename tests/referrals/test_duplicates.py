"""A repeated petitioner or pair of parties is shown to the officer before submitting (a warning, not a block)."""

import pytest

from referrals import workflow
from referrals.models import Party
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db


def same_people(first) -> list[workflow.PartyInput]:
    return [
        workflow.PartyInput(
            role=p.role,
            kind=p.kind,
            name=p.name,
            id_number=p.id_number,
            phone=p.phone,
            consent_given_on=p.consent_given_on,
            consent_method=p.consent_method,
        )
        for p in first.parties.all()
    ]


def test_the_same_petitioner_is_flagged_as_a_repeat_and_warned_about(people, story):
    first = story.submitted()
    second = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(first)
    )
    assert second.repeat_of == first
    assert workflow.possible_duplicates(second) == [first]
    page = login(people.officer).get(f"/referrals/{second.pk}/").content.decode()
    assert "可能重复" in page and first.number in page
    # Only a warning: the officer may still submit.
    assert workflow.submit_referral(second, by=people.officer).state == "submitted"


def test_the_same_pair_of_names_without_ids_is_also_a_repeat(people, story):
    first = story.submitted()
    names = [
        workflow.PartyInput(
            role=p.role,
            kind=p.kind,
            name=p.name,
            phone=f"1390000{i:04d}",
            consent_given_on=p.consent_given_on,
            consent_method=p.consent_method,
        )
        for i, p in enumerate(first.parties.all())
    ]
    second = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi, parties=names)
    assert second.repeat_of == first


def test_different_people_are_not_repeats_and_closed_cases_do_not_count(people, story):
    closed = story.closed()
    again = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(closed)
    )
    assert again.repeat_of is None
    stranger = story.draft()
    assert stranger.repeat_of is None
    assert Party.objects.filter(referral=stranger).count() == 2
