"""Who hears about each workflow step — and that nobody hears of a referral they cannot open."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mediation import workflow as mediation
from notifications.models import Notification
from referrals import workflow
from referrals.permissions import referrals_visible_to
from tests import factories
from tests.conftest import BAISHA_PJ
from tests.factories import committee, make_user
from townships.models import Role

pytestmark = pytest.mark.django_db
User = get_user_model()


def heard(step: Callable[[], object]) -> dict[str, set[str]]:
    """Run a step; return who got which kind of notification from it (kind → usernames)."""
    last = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    step()
    result: dict[str, set[str]] = defaultdict(set)
    for kind, username in Notification.objects.filter(id__gt=last).values_list("kind", "recipient__username"):
        result[kind].add(username)
    return dict(result)


@pytest.fixture(autouse=True)
def _nobody_hears_of_what_they_cannot_see(db):
    """After every test here: each notification's recipient can open its referral."""
    yield
    for n in Notification.objects.exclude(referral_id=None).select_related("recipient"):
        visible = referrals_visible_to(n.recipient).filter(pk=n.referral_id).exists()
        assert visible, f"{n.recipient.username} was told of referral {n.referral_id} ({n.kind}) but cannot see it"


def test_submitting_tells_the_receiving_committee(people, story):
    draft = story.draft()
    assert heard(lambda: workflow.submit_referral(draft, by=people.officer)) == {"referral_received": {"mediator"}}


def test_accepting_tells_the_petition_office(people, story):
    referral = story.submitted()
    assert heard(
        lambda: workflow.accept_referral(referral, by=people.mediator, mediators=[people.lead], rights_explained=True)
    ) == {"referral_accepted": {"officer", "reviewer"}}


def test_returning_tells_the_petition_office_and_a_second_return_the_supervisors(people, story):
    referral = story.submitted()
    assert heard(lambda: workflow.decline_referral(referral, by=people.mediator, reason="party_refused")) == {
        "referral_returned": {"officer", "reviewer"}
    }
    assert heard(lambda: workflow.redirect_referral(referral, by=people.officer, target=people.taicheng)) == {
        "referral_received": {"mediator2"}
    }
    # The referral now lies in 台山市: 蓬江区's bureau no longer supervises it, the city's does.
    assert heard(lambda: workflow.decline_referral(referral, by=people.other_mediator, reason="out_of_scope")) == {
        "referral_returned": {"officer", "reviewer"},
        "ping_pong": {"city"},
    }


def test_a_second_return_within_the_district_tells_both_supervising_bureaus(people, story):
    baisha = committee(BAISHA_PJ)
    make_user("baisha", memberships=[(baisha, Role.MEDIATOR)])
    referral = story.declined()
    workflow.redirect_referral(referral, by=people.officer, target=baisha)
    returned = heard(
        lambda: workflow.decline_referral(referral, by=User.objects.get(username="baisha"), reason="duplicate")
    )
    assert returned["ping_pong"] == {"supervisor", "city"}


def test_routing_through_the_justice_bureau_tells_the_new_committee_and_the_petition_office(people, story):
    draft = story.draft(target=people.bureau)
    assert heard(lambda: workflow.submit_referral(draft, by=people.officer)) == {"referral_received": {"supervisor"}}
    assert heard(lambda: workflow.dispatch_referral(draft, by=people.supervisor, target=people.huanshi)) == {
        "referral_received": {"mediator"},
        "referral_routed": {"officer", "reviewer"},
    }


def test_extending_pausing_and_resuming_mediation_tell_the_petition_office(people, story):
    referral = story.mediating()
    office = {"referral_updated": {"officer", "reviewer"}}
    assert (
        heard(
            lambda: workflow.extend_referral(
                referral,
                by=people.mediator,
                days=10,
                reason="等待鉴定",
                consents=factories.extension_consents(referral),
            )
        )
        == office
    )
    assert heard(lambda: workflow.suspend_referral(referral, by=people.mediator, reason="等待鉴定结果")) == office
    assert heard(lambda: workflow.resume_referral(referral, by=people.mediator)) == office


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_concluding_tells_the_petition_office(people, story, outcome):
    last = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    referral = story.at(outcome)
    kinds = set(Notification.objects.filter(id__gt=last, referral_id=referral.pk).values_list("kind", flat=True))
    assert "referral_concluded" in kinds
    concluded = set(
        Notification.objects.filter(id__gt=last, kind="referral_concluded").values_list(
            "recipient__username", flat=True
        )
    )
    assert concluded == {"officer", "reviewer"}


def test_closing_tells_the_office_and_the_committee_and_reopening_tells_the_committee(people, story):
    referral = story.closable()
    assert heard(lambda: workflow.close_referral(referral, by=people.reviewer, note="同意办结。")) == {
        "referral_closed": {"officer", "mediator"}
    }
    assert heard(lambda: workflow.reopen_referral(referral, by=people.reviewer, reason="当事人反映未履行。")) == {
        "referral_reopened": {"mediator"}
    }


def test_a_supervision_order_reaches_the_handler_and_its_answer_the_supervisor(people, story):
    referral = story.mediating()
    orders = []
    assert heard(
        lambda: orders.append(
            mediation.issue_supervision(
                referral, by=people.supervisor, note="请加快办理。", respond_by=timezone.localdate()
            )
        )
    ) == {"supervision_order": {"mediator"}}
    assert heard(lambda: mediation.respond_supervision(orders[0], by=people.mediator, response="已约谈双方。")) == {
        "supervision_response": {"supervisor"}
    }


def test_a_dissatisfied_follow_up_reaches_the_reviewers(people, story):
    referral = story.succeeded()
    assert heard(
        lambda: mediation.add_followup(
            referral,
            by=people.mediator,
            visited_on=datetime.date.today(),
            method="phone",
            satisfaction="dissatisfied",
            note="对方未按时付款。",
        )
    ) == {"followup_dissatisfied": {"reviewer"}}


def test_a_member_who_joins_another_committee_hears_nothing_of_this_one(people, story):
    # A mediator of a neighbouring township is a member of an organisation, just not this one.
    neighbour = make_user("neighbour", memberships=[(people.taicheng, Role.MEDIATOR)])
    referral = story.mediating()
    workflow.extend_referral(
        referral, by=people.mediator, days=5, reason="双方同意", consents=factories.extension_consents(referral)
    )
    assert not Notification.objects.filter(recipient__in=[neighbour, people.other_mediator, people.outsider]).exists()


def test_nobody_is_told_of_their_own_action(people, story):
    story.closed()
    actors_own = Notification.objects.filter(
        recipient=people.mediator, kind__in=["referral_accepted", "referral_concluded"]
    ) | Notification.objects.filter(recipient=people.officer, kind="referral_received")
    assert not actors_own.exists()
