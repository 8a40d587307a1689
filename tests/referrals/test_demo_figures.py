"""Every figure of the statistics and the home page's dashboards, over the demo data (seeded once for
the module: ~100 referrals through every state, escalations, merges, appeals), against an oracle
that recounts each from the referrals themselves (``test_stats_support``)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from referrals import stats
from referrals.models import Referral, State
from tests import factories as f
from tests.conftest import HUANSHI, PENGJIANG_PETITION, api, kept_for, suite_settings
from tests.referrals.test_stats_support import (
    assert_links_match,
    assert_matches,
    demo_user,
    expected,
    expected_rows,
    figure_links,
    fresh,
    href,
    in_region,
    listed,
    of_committee,
    page,
    summary,
    tiles_of,
)
from townships.models import Organisation, Region

# Seeded once per module and worker (``make test`` runs two pytest-xdist workers, which may share
# these tests out: ``--dist loadgroup`` would keep them together, but it does not group on pytest 9.2,
# pytest-xdist issue #1386).
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _demo_data(django_db_setup, django_db_blocker):
    # Seeded inside a transaction kept for the module (as ``people`` is): each test's own changes
    # are undone after it, the seed after the last. The demo accounts need DEBUG on.
    with kept_for(django_db_blocker):
        with override_settings(DEBUG=True, **suite_settings()):
            call_command("seed_demo", stdout=io.StringIO())
        yield


# --- The statistics summary -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "truth"),
    [
        ("supervisor", lambda: in_region("440703")),
        ("city", lambda: in_region("4407")),
        ("mediator", lambda: of_committee(f.committee(HUANSHI))),
    ],
    ids=["county supervisor", "city supervisor", "committee"],
)
def test_the_summary_matches_direct_counts_of_the_demo_data(username, truth):
    user = demo_user(username)
    data = summary(user)
    assert_matches(data, expected(truth()))
    assert data["total"] > 0 and data["overdue"] > 0 and data["succeeded"] > 0
    assert_links_match(user, data, {})


def test_the_townships_categories_and_months_match_direct_counts():
    data = summary(demo_user("city"))
    referrals = in_region("4407")
    by_township = expected_rows(referrals, lambda r: r.region_code[:9])
    rows = {row["code"]: row for row in data["by_township"]}
    # Every township of the city is listed, those without referrals with zeros.
    assert set(Region.objects.filter(level="township", code__startswith="4407").values_list("code", flat=True)) <= set(
        rows
    )
    for code, row in rows.items():
        truth = by_township.get(code, {})
        for key in ("total", "open", "overdue", "concluded", "succeeded"):
            assert row[key] == truth.get(key, 0), (code, key)
    by_county = expected_rows(referrals, lambda r: r.region_code[:6])
    assert {r["code"]: r["total"] for r in data["by_county"]} == {
        code: by_county.get(code, {}).get("total", 0) for code in {r["code"] for r in data["by_county"]}
    }
    assert sum(r["total"] for r in data["by_county"]) == data["total"]
    by_category = expected_rows(referrals, lambda r: r.category)
    assert data["by_category"] == {code: by_category.get(code, {}).get("total", 0) for code in data["by_category"]}
    by_month = expected_rows(referrals, lambda r: r.received_on.strftime("%Y-%m"))
    assert {r["month"]: r["total"] for r in data["by_month"] if r["total"]} == {
        m: row["total"] for m, row in by_month.items()
    }


def test_a_townships_numbers_link_to_exactly_its_referrals():
    user = demo_user("supervisor")
    data = summary(user)
    scope = stats.Scope(fresh(user))
    busiest = max(data["by_township"], key=lambda r: r["total"])
    for key in ("total", "open", "overdue", "concluded", "succeeded"):
        href = stats.list_url(scope, *stats.region_link_keys(busiest), key, region=busiest["code"])
        assert listed(user, href) == busiest[key], key


def test_the_statistics_workbook_opens_and_matches_the_summary():
    user = demo_user("supervisor")
    data = summary(user)
    response = api(fresh(user)).get("/api/exports/statistics.xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert book.sheetnames == ["概况", "按月", "按区县", "按镇街", "按类别"]
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert overview["受理案件"] == data["total"]
    assert overview["已超期"] == data["overdue"]
    assert overview["调解成功"] == data["succeeded"]
    assert overview["调解成功率"] == round(data["success_rate"] * 100, 2)
    assert overview["协议涉及金额"] == float(data["figures"]["amount_involved"])
    townships = {row[0]: row for row in book["按镇街"].iter_rows(min_row=3, values_only=True)}
    for row in data["by_township"]:
        # code, county, name, then 受理, 在办, 已受理, 调解结束, 调解成功, 调解终止, 已办结, 已超期, 成功率
        sheet_row = townships[row["code"]]
        assert sheet_row[3:11] == (
            row["total"],
            row["open"],
            row["accepted"],
            row["concluded"],
            row["succeeded"],
            row["failed"],
            row["closed"],
            row["overdue"],
        )
    months = list(book["按月"].iter_rows(min_row=3, values_only=True))
    assert sum(m[1] for m in months) == data["total"]
    assert sum(c[1] for c in book["按类别"].iter_rows(min_row=3, values_only=True)) == data["total"]


@pytest.mark.parametrize("username", ["supervisor", "city"])
def test_with_the_demo_data_every_rate_with_late_cases_is_below_100_percent(username):
    # The demo city has cases overdue for acceptance, in mediation, in review and on the petition clock:
    # a rate that still said 100 % would hide exactly what it exists to show.
    figures = summary(demo_user(username))["figures"]
    rates = {
        "timely_acceptance_rate": ("answered_on_time", "acceptance_due"),
        "on_time_conclusion_rate": ("concluded_on_time", "conclusion_due"),
        "closed_on_time_rate": ("closed_on_time", "closing_due"),
        "petition_on_time_rate": ("petition_on_time", "petition_due"),
    }
    late_somewhere = False
    for rate, (on_time, due) in rates.items():
        assert 0 <= figures[on_time] <= figures[due], rate
        if figures[due]:
            assert figures[rate] == round(figures[on_time] / figures[due], 4), rate
        if figures[on_time] < figures[due]:  # late cases: answered late, or still overdue
            late_somewhere = True
            assert figures[rate] < 1, rate
    assert late_somewhere, "the demo data should hold late cases"


@pytest.mark.parametrize(
    ("username", "truth"),
    [("supervisor", lambda: in_region("440703")), ("city", lambda: in_region("4407"))],
    ids=["county supervisor", "city supervisor"],
)
def test_a_supervisors_tiles_match_direct_counts_and_open_the_referrals_behind_them(username, truth):
    user = demo_user(username)
    tiles = tiles_of(page(user))
    facts = expected(truth())
    for key in ("total", "open", "overdue", "due_soon", "ping_pong", "agreements", "supervision_overdue"):
        assert int(tiles[key]["data-value"]) == facts[key], key
    assert int(tiles["state_submitted"]["data-value"]) == facts["state_submitted"]
    assert float(tiles["success_rate"]["data-value"]) == facts["success_rate"]
    assert float(tiles["satisfaction_rate"]["data-value"]) == facts["satisfaction_rate"]
    # One click from a number to the referrals behind it.
    for key in ("total", "open", "state_submitted", "state_mediating", "overdue", "due_soon", "ping_pong"):
        assert listed(user, href(tiles[key])) == int(tiles[key]["data-value"]), key
    assert listed(user, href(tiles["success_rate"])) == facts["succeeded"]
    assert listed(user, href(tiles["agreements"])) == facts["agreements"]


def test_the_township_table_matches_direct_counts_cell_by_cell():
    user = demo_user("supervisor")
    cells = [link for link in figure_links(page(user)) if link["row"]]
    townships = {"440703002", "440703005", "440703006", "440703101", "440703102", "440703103"}
    # And the district's own row (本级): the dispute escalated to its joint committee.
    assert {c["row"] for c in cells} == {*townships, "440703"}
    for cell in cells:
        if cell["data-figure"] == "success_rate":
            continue
        assert listed(user, href(cell)) == int(cell["text"]), (cell["row"], cell["data-figure"])
    overdue = {c["row"]: int(c["text"]) for c in cells if c["data-figure"] == "handler_overdue"}
    assert overdue
    truth = {}
    for r in in_region("440703").filter(due_at__lte=timezone.now(), deadline_kind__in=("accept", "mediate")):
        truth[r.region_code] = truth.get(r.region_code, 0) + 1
    assert overdue == {code: truth.get(code, 0) for code in overdue}


def test_a_committees_queue_matches_its_referral_lists():
    user = demo_user("mediator")
    huanshi = Organisation.objects.get(region__code=HUANSHI, kind="mediation_committee")
    text = page(user)
    tiles = tiles_of(text)
    mine = of_committee(huanshi).filter(target=huanshi)
    assert int(tiles["state_submitted"]["data-value"]) == mine.filter(state=State.SUBMITTED).count()
    assert int(tiles["state_mediating"]["data-value"]) == mine.filter(state=State.MEDIATING).count()
    queue = mine.filter(state__in=(State.SUBMITTED, State.MEDIATING))
    assert int(tiles["overdue"]["data-value"]) == queue.filter(due_at__lte=timezone.now()).count()
    now = timezone.now()
    assert int(tiles["due_soon"]["data-value"]) == queue.filter(due_soon_at__lte=now, due_at__gt=now).count()
    for key in ("state_submitted", "state_mediating", "overdue", "due_soon", "sessions_this_week"):
        assert listed(user, href(tiles[key])) == int(tiles[key]["data-value"]), key
    # The queue lists the most urgent first.
    first = re.search(r'class="number" href="/referrals/(\d+)/"', text.split("我的待办")[1]).group(1)
    earliest = queue.exclude(due_at=None).order_by("due_at", "-id").first()
    assert int(first) == earliest.pk
    # A committee has no supervisor view.
    assert "访调对接态势" not in text


def test_a_petition_office_sees_its_referrals_by_state_and_what_waits_for_it():
    user = demo_user("officer")
    office = f.org(PENGJIANG_PETITION)
    tiles = tiles_of(page(user))
    for state in State.values:
        truth = Referral.objects.filter(origin=office, state=state, merged_into__isnull=True).count()
        assert int(tiles[f"state_{state}"]["data-value"]) == truth, state
        assert listed(user, href(tiles[f"state_{state}"])) == truth, state
    waiting = Referral.objects.filter(
        origin=office, state__in=("draft", "declined", "succeeded", "failed"), merged_into__isnull=True
    )
    assert int(tiles["overdue"]["data-value"]) == waiting.filter(due_at__lte=timezone.now()).count()
    assert listed(user, href(tiles["overdue"])) == int(tiles["overdue"]["data-value"])
