"""An organisation's own figures and queues (``Scope(origin=…)`` / ``Scope(target=…)``) read the
organisation's referrals directly instead of through the visibility union
(``permissions.visible_of_own_organisation``): the set must be exactly the visible one, for every
person and organisation — drafts of other offices, merged referrals and referrals shared in other
ways included."""

from __future__ import annotations

import re

import pytest

from referrals import merging, permissions, workflow
from referrals.stats import Scope
from tests import factories as f
from townships.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db


def test_an_organisations_scope_is_exactly_what_its_people_may_see_of_it(people, story):
    other_office = f.org("台山市信访局")
    other_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(other_office, Role.OFFICER)])
    # Another office's draft and submitted referral to 环市: the committee sees only the second.
    f.make_referral(other_officer, origin=other_office, target=people.huanshi)
    workflow.submit_referral(
        f.make_referral(other_officer, origin=other_office, target=people.huanshi), by=other_officer
    )
    story.draft()
    story.submitted(target=people.taicheng)
    story.mediating()
    duplicate, survivor = story.mediating(), story.submitted()
    merging.merge_referral(duplicate, by=people.officer, into=survivor, reason="重复登记")
    story.closed()

    organisations = list(Organisation.objects.all())
    checked = 0
    for name, user in people.all().items():
        own = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        visible = permissions.referrals_visible_to(user).filter(merged_into__isnull=True)
        for org in organisations:
            for side in ("origin", "target"):
                scope = Scope(user, **{side: org.pk})
                expected = set(visible.filter(**{f"{side}_id": org.pk}).values_list("pk", flat=True))
                assert set(scope.referrals().values_list("pk", flat=True)) == expected, (name, org.name, side)
                shortcut = permissions.visible_of_own_organisation(user, **{side: org.pk})
                # The shortcut is taken for one's own organisations only, and never for anyone else's.
                assert (shortcut is not None) == (org.pk in _viewers(user)), (name, org.name)
                assert shortcut is None or org.pk in own
                checked += shortcut is not None
    assert checked >= 4  # the office's officer and reviewer, each committee's mediator: both sides


def _viewers(user) -> frozenset[int]:
    return permissions.grants_of(user).orgs("view_org_referrals")


def test_all_that_an_organisations_people_see_is_read_from_indexes_and_is_exactly_the_visible_set(people, story):
    """``Scope(user)`` and the list (``permissions.reader_view``) name the few referrals seen through a
    past handling, an appeal or a share (a supervisor: all seen outside their regions), and are
    otherwise the organisations' or the regions' own: the set must be the visible one, for every
    person."""
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from referrals.appeals import record_reply, register_appeal

    other_office = f.org("台山市信访局")
    other_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(other_office, Role.OFFICER)])
    f.make_referral(other_officer, origin=other_office, target=people.huanshi)  # a draft of another office
    # 环市 returned it and the office referred it to 台城: 环市 keeps reading it through its handling.
    redirected = workflow.redirect_referral(story.declined(), by=people.officer, target=people.taicheng)
    # Another office's referral shared with 环市's mediator, and one kept on appeal by the city office.
    shared = workflow.submit_referral(
        f.make_referral(other_officer, origin=other_office, target=people.taicheng), by=other_officer
    )
    assign_perm("referrals.view_referral", people.mediator, shared)
    assign_perm("referrals.view_referral", people.supervisor, shared)  # outside the supervisor's county
    appealed = story.closed()
    record_reply(appealed, by=people.reviewer, delivered_on=timezone.localdate())
    city_office = Organisation.objects.get(name="江门市信访局")
    keeper = f.make_user("city-officer", memberships=[(city_office, Role.OFFICER)])
    register_appeal(appealed, by=keeper, requested_on=timezone.localdate(), grounds="不服答复意见。")
    story.mediating()

    seen = {**people.all(), "other_officer": other_officer, "keeper": keeper}
    named = {}
    for name, user in seen.items():
        visible = permissions.referrals_visible_to(user)
        listed = permissions.referrals_visible_in_bulk(user)
        assert set(listed.values_list("pk", flat=True)) == set(visible.values_list("pk", flat=True)), name
        if not Scope(user).area():  # a supervisor's figures are their regions' (docs/statistics.md)
            counted = set(Scope(user).referrals().values_list("pk", flat=True))
            assert counted == set(visible.filter(merged_into__isnull=True).values_list("pk", flat=True)), name
        view = permissions.reader_view(user)
        if view is not None:
            named[name] = set(view.others)
    assert named["mediator"] == {redirected.pk, shared.pk}
    assert named["keeper"] == {appealed.pk}
    assert named["officer"] == set() and permissions.reader_view(people.officer).registered_only
    assert named["supervisor"] == {shared.pk}  # all a supervisor sees outside their regions


@pytest.mark.parametrize("persona", ["officer", "mediator"])
def test_an_offices_or_a_committees_summary_from_the_running_totals_equals_the_live_count(people, story, persona):
    from referrals import stats
    from referrals.models import State

    for state in ("draft", "submitted", "mediating", "declined", "succeeded", "failed", "closed"):
        story.at(state)
    user = getattr(people, persona)
    scope = Scope(user=user)
    assert scope.uses_rollup()
    # Naming every state selects the same referrals but is a filter the totals do not keep.
    every_state = Scope(user=user, state=",".join(s for s, _ in State.choices))
    assert not every_state.uses_rollup()
    from_cells, counted = stats.Figures(scope), stats.Figures(every_state)
    assert from_cells.headline["total"] == (7 if persona == "officer" else 6)  # a committee sees no draft
    assert from_cells.headline == counted.headline
    for breakdown in ("by_region", "by_category", "by_month"):
        assert getattr(from_cells, breakdown) == getattr(counted, breakdown), breakdown


def test_a_committee_that_sees_more_than_it_was_referred_is_counted_live(people, story):
    story.mediating()
    assert Scope(user=people.mediator).uses_rollup()
    # Returned and sent to another committee: still seen through the past handling.
    workflow.redirect_referral(story.declined(), by=people.officer, target=people.taicheng)
    assert not Scope(user=people.mediator).uses_rollup()


@pytest.mark.parametrize("persona", ["officer", "mediator", "supervisor", "city"])
def test_a_filtered_list_reads_the_organisations_or_the_regions_index_not_the_union(people, story, persona):
    """The list's count for an office, a committee or a supervisor is plain conditions on the
    organisation's or the region's referrals: no ``IN (… UNION ALL …)`` that looks each one up by
    id, no OR of subqueries that keeps the region index out (at 10⁶: 1.2–1.6 s for an office, 0.57 s
    for a county, against 0.02–0.18 s)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import api

    story.mediating()
    with CaptureQueriesContext(connection) as ctx:
        response = api(getattr(people, persona)).get("/api/referrals/", {"state": "mediating"})
    assert response.status_code == 200 and response.json()["count"] == 1
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(reads) == 1
    # The one subquery left is the merged referrals' (``filter_referrals``), from their own index.
    assert "UNION" not in reads[0] and reads[0].count("IN (SELECT") == 1, reads[0]


def test_a_committees_mediating_and_overdue_list_is_counted_from_its_own_queue_index(people, story):
    """At 10⁶ the planner otherwise ANDed the state's and the clock's indexes, a tenth of the city's
    referrals each, to find a committee's few (the count 83 ms, the page 210–280 ms)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from referrals.models import Referral
    from tests.conftest import api

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    mine = story.mediating()
    elsewhere = story.submitted(target=people.taicheng)
    Referral.objects.filter(pk=elsewhere.pk).update(state="mediating", due_at=timezone.now())
    Referral.objects.filter(pk=mine.pk).update(due_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        response = api(people.mediator).get("/api/referrals/", {"state": "mediating", "overdue": "true"})
    assert response.status_code == 200 and response.json()["count"] == 1
    (count,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    columns = [
        f.column
        for f in Referral._meta.concrete_fields
        if f.column not in ("id", "number") and not getattr(f, "generated", False)
    ]
    copied = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        # A city's proportions, which the planner reads from the table's statistics: thousands of
        # referrals mediating past their deadline elsewhere, the committee's many closed, and its
        # one. In a temporary copy with the same indexes, gone with the test: ANALYZE writes a
        # table's size past a rollback, and later tests must not be planned for rows that are gone.
        cursor.execute("CREATE TEMPORARY TABLE queue_copy (LIKE referrals_referral INCLUDING ALL) ON COMMIT DROP")
        cursor.execute(
            f'INSERT INTO queue_copy ("id", "number", {copied}) '  # noqa: S608 - names from the model
            f'SELECT "id", "number", {copied} FROM referrals_referral'
        )
        for pk, prefix, ids in ((elsewhere.pk, "X", 10**6), (mine.pk, "Y", 2 * 10**6)):
            cursor.execute(
                f'INSERT INTO queue_copy ("id", "number", {copied}) '  # noqa: S608 - names from the model
                f"SELECT %s + g, %s || g || number, {copied} FROM referrals_referral, generate_series(1, 3000) AS g "
                "WHERE id = %s",
                [ids, prefix, pk],
            )
        cursor.execute("UPDATE queue_copy SET state = 'closed', due_at = NULL WHERE number LIKE 'Y%%'")
        cursor.execute("ANALYZE queue_copy")
        # Read through bitmaps, as at 10⁶: which indexes build them is the question.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + count.replace('"referrals_referral"', "queue_copy"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # One index answers the committee, the state and the clock together.
    assert re.search(
        r"Index Cond: \(\(target_id = \d+\) AND \(\(state\)::text = 'mediating'::text\) AND \(due_at <=", plan
    ), plan
