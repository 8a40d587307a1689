"""合并 / 撤销合并: a duplicate folded into another referral of its office keeps everything, answers with
a pointer to the survivor, takes no step, runs no clock and counts nowhere; unmerging restores it."""

from __future__ import annotations

import pytest

from referrals import rollup, stats
from referrals.models import Referral, StatsCell, TimelineEvent
from tests import factories as f
from tests.conftest import api, login

pytestmark = pytest.mark.django_db
REASON = "同一信访人就同一事项重复登记"


def merge(user, referral, into, reason: str = REASON):
    body = {"into": into.pk if hasattr(into, "pk") else into, "reason": reason}
    return api(user).post(f"/api/referrals/{referral.pk}/actions/merge/", body, format="json")


def unmerge(user, referral):
    return api(user).post(f"/api/referrals/{referral.pk}/actions/unmerge/", {}, format="json")


def totals(user) -> dict:
    figures = stats.Figures(stats.Scope(user=user)).headline
    return {k: figures[k] for k in ("total", "submitted", "open", "state_submitted")}


def cells() -> dict:
    return {
        tuple(getattr(c, k) for k in rollup.KEY): {n: round(getattr(c, n), 6) for n in rollup.COUNTERS}
        for c in StatsCell.objects.all()
        if any(getattr(c, n) for n in rollup.COUNTERS)  # a cell emptied by moves counts nothing
    }


def test_a_duplicate_is_folded_in_and_counts_nowhere_then_is_restored(people, story):
    survivor, duplicate = story.mediating(), story.submitted()
    before = totals(people.supervisor)
    response = merge(people.officer, duplicate, survivor)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["merged_into"]["id"] == survivor.pk and body["merged_into"]["number"] == survivor.number
    assert body["state"] == "submitted" and body["deadline"] is None  # kept as it was; no clock runs
    assert body["available_actions"] == ["unmerge"]
    after = totals(people.supervisor)
    assert after == {k: v - 1 for k, v in before.items()}
    # The running totals moved with it, exactly as a rebuild computes them.
    kept = cells()
    rollup.rebuild()
    assert cells() == kept
    # The list behind a number agrees with it.
    listed = api(people.supervisor).get("/api/referrals/", {"figure": "total", "page_size": 100}).json()["results"]
    assert duplicate.pk not in [r["id"] for r in listed] and survivor.pk in [r["id"] for r in listed]
    # The survivor lists it; both timelines say what happened, neither names the other referral.
    detail = api(people.officer).get(f"/api/referrals/{survivor.pk}/").json()
    assert detail["merged_from"] == [{"id": duplicate.pk, "number": duplicate.number}]
    merged = TimelineEvent.objects.get(referral=duplicate, action="merge")
    merged_in = TimelineEvent.objects.get(referral=survivor, action="merged_in")
    assert (merged.note, merged_in.note, merged_in.get_action_label()) == (REASON, REASON, "并入案件")
    for event in (merged, merged_in):
        assert survivor.number not in str(event.data) and duplicate.number not in str(event.data)

    # Every other step is refused, saying why.
    refused = api(people.mediator).post(f"/api/referrals/{duplicate.pk}/actions/accept/", {}, format="json")
    assert refused.status_code == 409 and "已并入其他案件" in refused.json()["detail"]

    assert unmerge(people.reviewer, duplicate).status_code == 200
    restored = Referral.objects.get(pk=duplicate.pk)
    assert restored.merged_into_id is None and restored.deadline_kind == "accept"
    assert totals(people.supervisor) == before
    kept = cells()
    rollup.rebuild()
    assert cells() == kept
    assert TimelineEvent.objects.filter(referral=survivor, action="merged_out").count() == 1


@pytest.mark.parametrize(("persona", "status"), [("mediator", 403), ("supervisor", 403), ("other_mediator", 404)])
def test_only_the_origin_office_merges(people, story, persona, status):
    survivor, duplicate = story.mediating(), story.submitted()
    assert merge(getattr(people, persona), duplicate, survivor).status_code == status
    assert Referral.objects.get(pk=duplicate.pk).merged_into_id is None


def test_what_may_not_be_merged_is_said_and_nothing_is_written(people, story):
    survivor, duplicate = story.mediating(), story.submitted()
    assert merge(people.officer, duplicate, duplicate).json()["errors"]["into"] == ["不能并入本案自身。"]
    assert "reason" in merge(people.officer, duplicate, survivor, reason=" ").json()["errors"]
    # Another office's referral reads exactly as an id that does not exist.
    office = f.org("台山市信访局")
    officer = f.make_user("ts_officer", memberships=[(office, "officer")])
    foreign = f.make_referral(officer, origin=office, target=people.taicheng)
    unknown = merge(people.officer, duplicate, 99999999).json()["errors"]["into"]
    assert merge(people.officer, duplicate, foreign).json()["errors"]["into"] == unknown
    assert Referral.objects.get(pk=duplicate.pk).merged_into_id is None
    # No chains: nothing merges into a merged referral, and a survivor is not merged away.
    third = story.submitted()
    assert merge(people.officer, duplicate, survivor).status_code == 200
    assert "into" in merge(people.officer, third, duplicate).json()["errors"]
    assert merge(people.officer, survivor, third).status_code == 409
    assert merge(people.officer, story.closed(), survivor).status_code == 409


def test_a_reader_who_may_not_open_the_survivor_is_not_told_which_it_is(people, story):
    survivor = story.mediating()  # at 环市
    duplicate = story.submitted(target=people.taicheng)
    assert merge(people.officer, duplicate, survivor).status_code == 200
    seen = api(people.other_mediator).get(f"/api/referrals/{duplicate.pk}/").json()
    assert seen["merged_into"]["id"] is None and seen["merged_into"]["number"] is None
    timeline = api(people.other_mediator).get(f"/api/referrals/{duplicate.pk}/timeline/").content.decode()
    assert survivor.number not in timeline
    page = login(people.other_mediator).get(f"/referrals/{duplicate.pk}/").content.decode()
    assert "本案已于" in page and survivor.number not in page


def test_the_page_merges_by_number_and_points_to_the_survivor(people, story):
    survivor, duplicate = story.mediating(), story.submitted()
    officer = login(people.officer)
    page = officer.get(f"/referrals/{duplicate.pk}/").content.decode()
    assert 'data-action="merge"' in page
    url = f"/referrals/{duplicate.pk}/actions/merge/"
    wrong = officer.post(url, {"into": "JM-2099-000001", "reason": REASON})
    assert wrong.status_code == 400 and "未找到可并入的本部门案件" in wrong.content.decode()
    assert officer.post(url, {"into": survivor.number, "reason": REASON}).status_code == 302
    page = officer.get(f"/referrals/{duplicate.pk}/").content.decode()
    assert "data-merged" in page and f'href="/referrals/{survivor.pk}/"' in page
    assert 'data-action="unmerge"' in page and 'data-action="withdraw"' not in page
    assert "data-merged-from" in officer.get(f"/referrals/{survivor.pk}/").content.decode()
    # The lists leave it out, as the statistics do; asked for, the merged ones are listed, flagged.
    assert f'data-referral-id="{duplicate.pk}"' not in officer.get("/referrals/").content.decode()
    merged_only = officer.get("/referrals/", {"merged": "true"}).content.decode()
    assert f'data-referral-id="{duplicate.pk}"' in merged_only and 'class="flag merged"' in merged_only
    assert f'data-referral-id="{survivor.pk}"' not in merged_only
