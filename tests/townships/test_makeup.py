"""A committee's make-up (人民调解法 Art. 9: 3–9 members, one chair, women members): warned, never refused."""

import pytest

from tests import factories as f
from tests.conftest import login
from townships.makeup import makeup_warnings
from townships.models import Mediator, Organisation

pytestmark = pytest.mark.django_db

CHAIR, MEMBER, MEDIATOR = Mediator.Position.CHAIR, Mediator.Position.MEMBER, Mediator.Position.MEDIATOR


def only(committee):
    return Organisation.objects.filter(pk=committee.pk)


def staff(committee, *positions, male=False):
    Mediator.objects.filter(committee=committee).update(active=False)
    return [f.make_mediator(committee, position=p, male=male) for p in positions]


def test_a_committee_of_a_chair_and_two_members_with_a_woman_is_in_order(people):
    staff(people.huanshi, CHAIR, MEMBER, MEMBER)
    assert makeup_warnings(only(people.huanshi)) == []


def test_too_few_members_no_chair_and_no_woman_are_each_named(people):
    staff(people.huanshi, MEMBER, MEMBER, MEDIATOR, MEDIATOR, MEDIATOR, male=True)
    (warning,) = makeup_warnings(only(people.huanshi))
    assert warning.committee == people.huanshi.name
    assert warning.problems == (
        "委员（含主任、副主任）2 人，应为 3 至 9 人",
        "主任 0 人，应设主任一人",
        "委员中没有妇女成员",
    )


def test_ten_members_or_two_chairs_are_too_many_and_inactive_entries_do_not_count(people):
    staff(people.huanshi, CHAIR, CHAIR, *[MEMBER] * 8)
    f.make_mediator(people.huanshi, position=CHAIR, active=False)
    (warning,) = makeup_warnings(only(people.huanshi))
    assert warning.problems == ("委员（含主任、副主任）10 人，应为 3 至 9 人", "主任 2 人，应设主任一人")


def test_the_roster_page_shows_the_warnings_of_the_committees_it_lists(people):
    staff(people.huanshi, MEMBER, MEMBER)
    text = login(people.supervisor).get("/rosters/", {"committee": people.huanshi.pk}).content.decode()
    assert 'id="committee-makeup"' in text
    assert f'data-committee="{people.huanshi.pk}"' in text
    assert "主任 0 人，应设主任一人" in text
    staff(people.huanshi, CHAIR, MEMBER, MEMBER)
    text = login(people.supervisor).get("/rosters/", {"committee": people.huanshi.pk}).content.decode()
    assert 'id="committee-makeup"' not in text
