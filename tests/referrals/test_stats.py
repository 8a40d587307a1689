"""The statistics: ``GET /api/stats/summary/``, its scope, its definitions, its cost, the workbook."""

from __future__ import annotations

import contextlib
import datetime
import re
import statistics
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation.workflow import AgreementInput, fail_referral, record_session, succeed_referral
from referrals import stats, workflow
from referrals.models import Referral
from referrals.stats import compute
from referrals.stats.sql import median_by_offset, median_by_sorting, middle_of
from tests import factories as f
from tests.conftest import TAICHENG, api
from tests.referrals.test_stats_support import (
    SUMMARY,
    fresh,
    listed,
    summary,
)
from townships.models import Organisation

pytestmark = pytest.mark.django_db


def at(moment: str):
    """Run workflow steps at a local wall-clock moment ("2026-09-29 10:00")."""
    return time_machine.travel(timezone.make_aware(datetime.datetime.fromisoformat(moment)), tick=False)


# --- With the demo data: the three users of the issue -------------------------------------------


# --- Scope -----------------------------------------------------------------------------------------


def test_a_county_supervisor_never_counts_another_countys_referrals(people, story):
    story.mediating()  # 环市街道, 蓬江区
    story.submitted(target=people.taicheng)  # 台城街道, 台山市: referred by 蓬江区's own office
    pengjiang = summary(people.supervisor)
    assert pengjiang["total"] == 1
    assert all(row["code"].startswith("440703") for row in pengjiang["by_township"] if row["total"])
    assert {r["code"] for r in pengjiang["by_county"]} == {"440703"}
    assert summary(people.city)["total"] == 2
    # The referring office sees both: they are its referrals.
    assert summary(people.officer)["total"] == 2


def test_a_supervisor_asking_for_a_region_outside_theirs_gets_403(people, story):
    story.submitted(target=people.taicheng)
    for region in ("440781", "4407"):
        response = api(fresh(people.supervisor)).get(SUMMARY, {"region": region})
        assert response.status_code == 403, region
        assert response.json()["code"] == "region_out_of_scope"
    assert summary(people.city, region="440781")["total"] == 1


def test_a_committee_asking_for_another_region_gets_empty_figures_not_theirs(people, story):
    story.mediating()
    assert summary(people.mediator)["total"] == 1
    data = summary(people.mediator, region=TAICHENG)
    assert data["total"] == 0
    assert all(row["total"] == 0 for row in data["by_township"])


def test_the_period_counts_referrals_received_in_it(people, story):
    with at("2026-03-10 10:00"):
        story.submitted()
    with at("2026-05-20 10:00"):
        story.submitted()
    assert summary(people.supervisor, **{"from": "2026-05-01", "to": "2026-05-31"})["total"] == 1
    months = summary(people.supervisor)["by_month"]
    assert [(m["month"], m["total"]) for m in months] == [("2026-03", 1), ("2026-04", 0), ("2026-05", 1)]


def test_an_anonymous_caller_gets_401(db):
    assert api().get(SUMMARY).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"region": "44070a"}, "region"),
        ({"region": "440799"}, "region"),
        ({"category": "gossip"}, "category"),
        ({"target": "huanshi"}, "target"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(people, params, field):
    response = api(people.supervisor).get(SUMMARY, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["detail"]
    assert field in body["errors"]


# --- Definitions ------------------------------------------------------------------------------------


def test_a_reopened_case_that_then_failed_counts_as_failed_not_succeeded(people, story):
    referral = story.closed()
    assert summary(people.supervisor)["succeeded"] == 1
    referral = workflow.reopen_referral(referral, by=people.reviewer, reason="回访不满意，当事人要求重新调解。")
    data = summary(people.supervisor)
    assert (data["concluded"], data["succeeded"], data["figures"]["agreements"]) == (0, 0, 0)
    referral = fail_referral(
        referral,
        by=people.mediator,
        reason="views_too_far_apart",
        routes_explained=["litigation"],
        no_session_note="当事人拒绝到场。",
    )
    workflow.close_referral(referral, by=people.reviewer, note="同意办结。")
    data = summary(people.supervisor)
    assert (data["concluded"], data["succeeded"], data["figures"]["failed"]) == (1, 0, 1)
    assert data["figures"]["agreements"] == 0
    scope = stats.Scope(fresh(people.supervisor))
    assert listed(people.supervisor, stats.list_url(scope, "succeeded")) == 0
    assert listed(people.supervisor, stats.list_url(scope, "failed")) == 1


def _accept(referral: Referral, people) -> Referral:
    return workflow.accept_referral(
        referral, by=people.mediator, mediators=[people.lead, people.second], rights_explained=True
    )


def test_timely_acceptance_counts_working_days_of_the_official_calendar(people, story):
    # Submitted Tue 2026-09-29. Working days after it: Sep 30, then the National Day holiday
    # (Oct 1–7), Oct 8, Oct 9: the third working day is Fri Oct 9. Sat Oct 10 is a make-up
    # working day, but a day too late.
    with at("2026-09-29 10:00"):
        on_time, late = story.submitted(), story.submitted()
    with at("2026-10-09 17:00"):
        _accept(on_time, people)
    with at("2026-10-10 09:00"):
        _accept(late, people)
    figures = summary(people.supervisor)["figures"]
    assert (figures["accepted"], figures["accepted_on_time"], figures["timely_acceptance_rate"]) == (2, 1, 0.5)


def _conclude(referral: Referral, people, moment: str) -> Referral:
    with at(moment):
        record_session(
            referral,
            by=people.mediator,
            held_on=timezone.localdate(),
            location="村委会调解室",
            participants="双方当事人",
            record="听取双方陈述。",
        )
        agreement = AgreementInput(
            form="oral",
            terms="被申请人赔偿500元。",
            performance_method="现金支付",
            performance_due=timezone.localdate() + datetime.timedelta(days=10),
            signed_on=None,
        )
        return succeed_referral(referral, by=people.mediator, agreement=agreement)


def test_on_time_conclusion_rolls_past_holidays_and_adds_extensions(people, story):
    # Accepted Tue 2026-09-01: 30 days end on Oct 1, a holiday, so the clock runs to Thu Oct 8.
    with at("2026-09-01 10:00"):
        a, b, c = (_accept(story.submitted(), people) for _ in range(3))
    with at("2026-09-05 10:00"):
        workflow.extend_referral(
            c, by=people.mediator, days=15, reason="双方同意继续协商", consents=f.extension_consents(c)
        )
    _conclude(a, people, "2026-10-08 16:00")  # on the rolled last day: on time
    _conclude(b, people, "2026-10-09 16:00")  # a day later: late
    _conclude(c, people, "2026-10-09 16:00")  # late without its 15 extra days, on time with them
    figures = summary(people.supervisor)["figures"]
    assert (figures["concluded"], figures["concluded_on_time"]) == (3, 2)
    assert figures["on_time_conclusion_rate"] == round(2 / 3, 4)


def test_the_median_is_the_middle_of_the_durations(people, story):
    # Acceptance after 1, 2 and 9 days: the average is pulled up by the slow one, the median is not.
    referrals = []
    with at("2026-06-01 10:00"):
        referrals = [story.submitted() for _ in range(3)]
    for referral, day in zip(referrals, ("2026-06-02", "2026-06-03", "2026-06-10"), strict=True):
        with at(f"{day} 10:00"):
            _accept(referral, people)
    figures = summary(people.supervisor)["figures"]
    assert figures["median_days_to_accept"] == 2.0
    assert figures["avg_days_to_accept"] == 4.0


@pytest.mark.parametrize("days", [(1, 2, 9), (1, 2, 3, 9), (5,), ()])
def test_walking_to_the_median_gives_the_sorted_median(people, story, days, monkeypatch):
    # The summary reaches a median by sorting the scope's durations or by walking the stored
    # durations' index to the middle (a city): both must give percentile_cont's value, the middle one
    # or the mean of the middle two, also for an even count, one duration and none.
    with at("2026-06-01 10:00"):
        referrals = [story.submitted() for _ in days]
    for referral, n in zip(referrals, days, strict=True):
        with at(f"2026-06-{1 + n:02d} 16:30"):
            _accept(referral, people)
    qs = stats.Scope(fresh(people.city)).referrals()
    durations = sorted(qs.exclude(days_to_accept=None).values_list("days_to_accept", flat=True))
    assert len(durations) == len(days)
    expected = statistics.median(durations) if durations else None
    assert median_by_offset(qs, "days_to_accept", len(durations)) == pytest.approx(expected)
    if connection.vendor == "postgresql":
        assert median_by_sorting(qs, "days_to_accept") == pytest.approx(expected)
    for strategy in (0, 10**9):  # always sort (PostgreSQL) / always walk
        monkeypatch.setattr(compute, "WALK_SHARE", strategy)
        with _analysed():
            figures = compute.Figures(stats.Scope(fresh(people.city))).headline
        assert figures["median_days_to_accept"] == (None if expected is None else round(expected, 1))


@pytest.mark.postgres
def test_the_walk_to_a_median_reads_the_index_in_order(people, story):
    # The walk must be served by the duration's index in order, with the supervisor's scope checked
    # in it: with sorting forbidden, a plan without the index would still have to sort.
    with at("2026-06-01 10:00"):
        _accept(story.submitted(), people)
    qs = stats.Scope(fresh(people.city)).referrals()
    for column in ("days_to_accept", "days_to_conclude"):
        sql, params = middle_of(qs, column, 1).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"referral_{column}" in plan and "Sort" not in plan, plan


def test_the_median_indexes_carry_every_column_a_supervisors_median_reads(people, story):
    # Either way to a supervisor's median must read an index alone (index-only scan at 10⁶): every
    # column its query mentions must be in the index. A filter added to the scope on another column
    # would silently send a city's median back to the table.
    with at("2026-06-01 10:00"):
        _accept(story.submitted(), people)
    indexes = {index.name: index for index in Referral._meta.indexes}
    for user in (people.supervisor, people.city):
        qs = stats.Scope(fresh(user)).referrals()
        for column in ("days_to_accept", "days_to_conclude"):
            for index_name in (f"referral_{column}", f"referral_area_{column}"):
                index = indexes[index_name]
                held = {Referral._meta.get_field(name).column for name in (*index.fields, *index.include)}
                sql = str(middle_of(qs, column, 1).query)
                read = set(re.findall(r'"referrals_referral"\."(\w+)"', sql))
                assert read and read <= held, (index_name, read - held)


@contextlib.contextmanager
def _analysed():
    # PostgreSQL decides to walk from its estimate of the index's size, which ANALYZE sets.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE referrals_referral")
    yield


def test_an_unknown_figure_in_the_list_filter_is_a_400(people):
    response = api(people.supervisor).get("/api/referrals/", {"figure": "succeeded,happiness"})
    assert response.status_code == 400
    assert "figure" in response.json()["errors"]


def test_every_figure_is_documented_in_docs_statistics_md():
    text = (Path(__file__).resolve().parents[2] / "docs" / "statistics.md").read_text(encoding="utf-8")
    begin, end = text.index(stats.DOCS_BEGIN), text.index(stats.DOCS_END) + len(stats.DOCS_END)
    assert text[begin:end] == stats.figures_markdown(), "regenerate the table: see docs/statistics.md"


# --- Cost ---------------------------------------------------------------------------------------------


def _queries(user, **params) -> int:
    client = api(fresh(user))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(SUMMARY, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_summary_costs_the_same_for_6_townships_or_73_and_for_more_referrals(people, story):
    story.mediating()
    county = _queries(people.supervisor)  # 蓬江区: 6 townships
    city = _queries(people.city)  # 江门市: 73 townships
    assert county == city
    # More referrals, spread over more townships and states, cost nothing more.
    for code in ("440703002", "440781001", "440705101", "440785001"):
        target = Organisation.objects.get(region__code=code, kind="mediation_committee")
        story.submitted(target=target)
    story.closed()
    story.declined()
    assert _queries(people.city) == city
    assert _queries(people.supervisor) == county
    # Grants (2); the running totals over all and by each breakdown (1 + 3 on SQLite, 1 + one
    # GROUPING SETS query on PostgreSQL), the clock's likewise (4 or 1) and what it moved today
    # (1); the duration buckets and the two medians read from them (3); mediation's figures (4);
    # townships (1).
    assert city <= (14 if connection.vendor == "postgresql" else 19)


# --- The workbook -----------------------------------------------------------------------------------


def test_the_workbook_refuses_a_bad_date_like_the_summary(people):
    response = api(people.supervisor).get("/api/exports/statistics.xlsx", {"from": "2026/01/01"})
    assert response.status_code == 400
    assert "from" in response.json()["errors"]
