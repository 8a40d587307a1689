"""升级调解 (``escalate``): a dispute a township committee could not resolve goes up the ladder — to the
county's (or the city's) joint committee — as a new round with its own clock, the township's record kept;
the tier shows on the referral, the list, the ledger and the statistics."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from mediation.workflow import AgreementInput, record_session, succeed_referral
from notifications.models import Notification
from referrals import stats, workflow
from referrals.errors import InvalidInput, NotAvailable
from referrals.models import Handling, Referral, TimelineEvent
from referrals.notices import Notice
from tests import factories as f
from tests.conftest import api, login
from tests.referrals.test_stats_support import listed, tiles_of
from townships.models import Organisation, Region, Role

pytestmark = pytest.mark.django_db
REASON = "镇街调委会两次调解未果，升级由区联合调委会统筹调解。"


def joint(code: str, name: str) -> Organisation:
    return Organisation.objects.create(
        region=Region.objects.get(code=code),
        name=name,
        kind=Organisation.Kind.MEDIATION_COMMITTEE,
        committee_type=Organisation.CommitteeType.JOINT,
    )


@pytest.fixture
def ladder(people):
    """蓬江区's and 台山市's joint committees, the city's, and a mediator of 蓬江区's with its roster."""
    people.county = joint("440703", "蓬江区联合人民调解委员会")
    people.other_county = joint("440781", "台山市联合人民调解委员会")
    people.city_committee = joint("4407", "江门市联合人民调解委员会")
    people.county_mediator = f.make_user("county-mediator", memberships=[(people.county, Role.MEDIATOR)])
    people.county_lead = f.make_mediator(people.county, name="冯志坚", male=True, user=people.county_mediator)
    people.county_second = f.make_mediator(people.county, name="罗淑仪")
    return people


def escalate(user, referral, target, reason: str = REASON):
    body = {"target": target.pk if hasattr(target, "pk") else target, "reason": reason}
    return api(user).post(f"/api/referrals/{referral.pk}/actions/escalate/", body, format="json")


def session(referral, by, mediators=None):
    return record_session(
        referral,
        by=by,
        held_on=timezone.localdate(),
        location="区矛盾纠纷调处中心",
        participants="双方当事人",
        record="重新听取双方陈述。",
        mediators=mediators,
    )


def days_later(days: int):
    moment = timezone.now() + datetime.timedelta(days=days)
    return time_machine.travel(moment, tick=False)


def test_a_failed_mediation_goes_up_to_the_county_as_a_new_round(ladder, story):
    p = ladder
    referral = story.failed()
    round_before = referral.round
    response = escalate(p.supervisor, referral, p.county)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["tier"], body["escalated_from"]) == ("mediating", "county", "township")
    assert body["target"]["id"] == p.county.pk and body["round"] == round_before + 1
    assert body["mediators"] == [] and body["outcome"] is None
    # Its own mediation clock, from today.
    assert body["deadline"]["kind"] == "mediate"
    r = Referral.objects.get(pk=referral.pk)
    assert r.mediation_started_at.date() == timezone.now().date() and r.concluded_at is None
    event = TimelineEvent.objects.get(referral=r, action="escalate")
    assert (event.from_state, event.to_state, event.note) == ("failed", "mediating", REASON)
    assert event.data["from_name"] == p.huanshi.name and event.data["target_name"] == p.county.name
    assert event.get_action_label() == "升级调解"
    # The township's record is kept: its turn and its sessions stay, and it still sees the referral.
    assert list(r.handlings.order_by("id").values_list("organisation__name", "result")) == [
        (p.huanshi.name, Handling.Result.ACCEPTED),
        (p.county.name, Handling.Result.ESCALATED),
    ]
    assert r.sessions.filter(round=round_before).exists()
    assert api(p.mediator).get(f"/api/referrals/{r.pk}/").status_code == 200
    # The new committee and the office are told; the bureau that acted is not.
    told = Notification.objects.filter(kind=Notice.REFERRAL_ESCALATED).values_list("recipient__username", flat=True)
    assert set(told) == {"county-mediator", "officer", "reviewer"}


def test_the_new_committee_mediates_and_names_its_mediators_at_its_first_session(ladder, story):
    p = ladder
    referral = story.failed()
    assert escalate(p.supervisor, referral, p.county).status_code == 200
    r = Referral.objects.get(pk=referral.pk)
    # The township's mediator has handed it on: no longer theirs to record.
    assert api(p.mediator).post(f"/api/referrals/{r.pk}/sessions/", {}, format="json").status_code in (403, 404)
    with pytest.raises(InvalidInput) as caught:
        session(r, p.county_mediator)
    assert "mediators" in caught.value.errors
    assert not r.sessions.filter(round=r.round).exists()  # nothing half-written
    session(r, p.county_mediator, [p.county_lead, p.county_second])
    r.refresh_from_db()
    assert r.lead_mediator == p.county_lead
    assert set(r.mediators.all()) == {p.county_lead, p.county_second}
    succeed_referral(
        r,
        by=p.county_mediator,
        agreement=AgreementInput(
            form="oral",
            terms="双方同意按村规划重新划定界址。",
            performance_method="即时履行",
            performance_due=timezone.localdate(),
        ),
    )
    r.refresh_from_db()
    assert (r.state, r.tier) == ("succeeded", "county")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("mediator", 403), ("officer", 403), ("reviewer", 403), ("other_mediator", 404), ("outsider", 404)],
)
def test_only_the_justice_bureau_may_escalate(ladder, story, persona, status):
    referral = story.failed()
    assert escalate(getattr(ladder, persona), referral, ladder.county).status_code == status
    assert Referral.objects.get(pk=referral.pk).state == "failed"


def test_the_target_must_be_a_higher_tier_above_the_place_in_the_users_area(ladder, story):
    p = ladder
    referral = story.failed()
    for target in (p.other_county, p.city_committee, p.taicheng, p.huanshi, p.bureau):
        response = escalate(p.supervisor, referral, target)
        assert response.status_code == 400, target.name
        assert "target" in response.json()["errors"], response.json()
    assert escalate(p.supervisor, referral, 999999).status_code == 400
    empty = escalate(p.supervisor, referral, p.county, reason="")
    assert empty.status_code == 400 and "reason" in empty.json()["errors"]
    assert Referral.objects.get(pk=referral.pk).state == "failed"
    assert not TimelineEvent.objects.filter(referral=referral, action="escalate").exists()
    # The city's bureau reaches the city's committee, and from the county the city's only.
    assert escalate(p.city, referral, p.city_committee).status_code == 200
    r = Referral.objects.get(pk=referral.pk)
    assert (r.tier, r.escalated_from) == ("city", "township")
    assert escalate(p.city, r, p.county).status_code == 409  # nowhere higher to go


def test_a_mediation_may_be_escalated_only_when_it_failed_or_stalled(ladder, story, settings):
    p = ladder
    in_time = story.mediating()
    assert escalate(p.supervisor, in_time, p.county).status_code == 409
    assert escalate(p.supervisor, story.succeeded(), p.county).status_code == 409
    assert escalate(p.supervisor, story.submitted(), p.county).status_code == 409
    due = Referral.objects.get(pk=in_time.pk).due_on
    overdue_days = settings.FANGDIAO["ESCALATE_AFTER_OVERDUE_DAYS"]
    just_short = datetime.datetime.combine(due + datetime.timedelta(days=overdue_days - 1), datetime.time(12))
    with time_machine.travel(timezone.make_aware(just_short), tick=False):
        assert escalate(p.supervisor, in_time, p.county).status_code == 409
    with time_machine.travel(timezone.make_aware(just_short + datetime.timedelta(days=1)), tick=False):
        assert "escalate" in api(p.supervisor).get(f"/api/referrals/{in_time.pk}/").json()["available_actions"]
        assert escalate(p.supervisor, in_time, p.county).status_code == 200


def test_the_number_of_failed_rounds_is_a_setting(ladder, story, settings):
    settings.FANGDIAO = {**settings.FANGDIAO, "ESCALATE_AFTER_FAILED_ROUNDS": 2}
    p = ladder
    referral = story.failed()
    assert escalate(p.supervisor, referral, p.county).status_code == 409
    assert "escalate" not in api(p.supervisor).get(f"/api/referrals/{referral.pk}/").json()["available_actions"]
    assert workflow.failed_rounds_at_tier(referral) == 1
    with pytest.raises(NotAvailable):
        workflow.escalate_referral(referral, by=p.supervisor, target=p.county, reason=REASON)


def test_the_page_offers_it_to_the_bureau_and_escalates(ladder, story):
    p = ladder
    referral = story.failed()
    page = login(p.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-action="escalate"' in page and "确认将本案升级至更高层级调解" in page
    # Only the higher tiers above the place, in the bureau's own area, are offered.
    assert p.county.name in page and p.other_county.name not in page and p.city_committee.name not in page
    assert 'data-action="escalate"' not in login(p.reviewer).get(f"/referrals/{referral.pk}/").content.decode()
    assert login(p.mediator).post(f"/referrals/{referral.pk}/actions/escalate/", {"reason": REASON}).status_code == 403
    empty = login(p.supervisor).post(f"/referrals/{referral.pk}/actions/escalate/", {"target": p.county.pk})
    assert empty.status_code == 400 and "升级原因" in empty.content.decode()
    done = login(p.supervisor).post(
        f"/referrals/{referral.pk}/actions/escalate/", {"target": p.county.pk, "reason": REASON}
    )
    assert done.status_code == 302
    detail = login(p.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    assert "升级至县(区)级调解" in detail and "data-escalation" in detail


def test_lists_filter_by_tier_and_escalation(ladder, story):
    p = ladder
    escalated = story.failed()
    escalate(p.supervisor, escalated, p.county)
    story.mediating()
    client = api(p.supervisor)
    assert [r["id"] for r in client.get("/api/referrals/", {"escalated": "true"}).json()["results"]] == [escalated.pk]
    assert [r["id"] for r in client.get("/api/referrals/", {"tier": "county"}).json()["results"]] == [escalated.pk]
    assert escalated.pk not in [r["id"] for r in client.get("/api/referrals/", {"tier": "township"}).json()["results"]]
    bad = client.get("/api/referrals/", {"tier": "village"})
    assert bad.status_code == 400 and "tier" in bad.json()["errors"]
    page = login(p.supervisor).get("/referrals/", {"tier": "county"}).content.decode()
    assert "调解层级：县(区)级" in page and 'class="flag escalated"' in page


def test_the_statistics_count_each_tier_by_hand(ladder, story):
    """Four referrals at 蓬江区's townships: one agreed (镇街), one terminated (镇街), one terminated and
    escalated to the county, which then agreed, one escalated while stalled and still mediating.

    By hand: 镇街 concluded = agreed + terminated + the two escalated from it = 4, agreed 1 → 1/4;
    县级 concluded = the escalated one that agreed = 1, agreed 1 → 1/1; escalated 2."""
    p = ladder
    story.succeeded()
    story.failed()
    up_and_agreed = story.failed()
    with days_later(-60):
        stalled = story.mediating()
    for referral in (up_and_agreed, stalled):
        assert escalate(p.supervisor, referral, p.county).status_code == 200
    r = Referral.objects.get(pk=up_and_agreed.pk)
    session(r, p.county_mediator, [p.county_lead])
    succeed_referral(
        r,
        by=p.county_mediator,
        agreement=AgreementInput(
            form="oral", terms="双方和解。", performance_method="即时履行", performance_due=timezone.localdate()
        ),
    )
    expected = {
        "escalated": 2,
        "township_concluded": 4,
        "township_succeeded": 1,
        "township_success_rate": 0.25,
        "county_concluded": 1,
        "county_succeeded": 1,
        "county_success_rate": 1.0,
        "city_concluded": 0,
        "city_success_rate": None,
    }
    figures = api(p.supervisor).get("/api/stats/summary/", {"region": "440703"}).json()["figures"]
    assert {k: figures[k] for k in expected} == expected
    # The running totals agree with a live count (naming every state is a filter they do not keep).
    from_cells = stats.Scope(user=p.supervisor)
    counted = stats.Scope(user=p.supervisor, state="draft,submitted,mediating,declined,succeeded,failed,closed")
    assert from_cells.uses_rollup() and not counted.uses_rollup()
    assert {k: stats.Figures(from_cells).headline[k] for k in expected} == expected
    assert {k: stats.Figures(counted).headline[k] for k in expected} == expected
    # Each tile opens exactly its referrals.
    page = login(p.supervisor).get("/").content.decode()
    tiles = tiles_of(page)
    assert tiles["escalated"]["data-value"] == "2"
    assert listed(p.supervisor, tiles["escalated"]["href"]) == 2
    assert listed(p.supervisor, tiles["county_success_rate"]["href"]) == 1
    assert listed(p.supervisor, tiles["township_success_rate"]["href"]) == 1
