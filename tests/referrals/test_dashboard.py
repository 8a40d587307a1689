"""The home page's dashboards: supervisor, committee and petition office views, and their fragments."""

from __future__ import annotations

import datetime
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation.workflow import fail_referral
from referrals import stats, workflow
from referrals.models import Referral
from tests import factories as f
from tests.conftest import HUANSHI, login
from tests.referrals.test_stats_support import (
    figure_links,
    fresh,
    href,
    listed,
    page,
    tiles_of,
)
from townships.models import Organisation, Role

pytestmark = pytest.mark.django_db


def fail_elsewhere(story, township: str) -> Referral:
    """A referral mediated without agreement by another township's committee (its own mediator)."""
    committee = f.committee(township)
    user = f.make_user(memberships=[(committee, Role.MEDIATOR)])
    lead = f.make_mediator(committee, user=user)
    referral = workflow.accept_referral(
        story.submitted(target=committee), by=user, mediators=[lead], rights_explained=True
    )
    return fail_referral(
        referral, by=user, reason="party_withdrew", routes_explained=["litigation"], no_session_note="当事人撤回。"
    )


def time_machine_at(moment: str):
    return time_machine.travel(timezone.make_aware(datetime.datetime.fromisoformat(moment)), tick=False)


# --- Supervisors --------------------------------------------------------------------------------


def test_a_committee_is_not_counted_late_for_the_petition_offices_review(people, story):
    """Issue 16 §4: whose clock runs decides whose row the late referral counts against."""
    with time_machine_at("2026-03-02 10:00"):
        waiting_for_review = story.failed()
        story.mediating()
    # Weeks later both clocks have run out: the review (the petition office's) and the mediation
    # (the committee's).
    with time_machine_at("2026-05-20 10:00"):
        waiting_for_review.refresh_from_db()
        assert waiting_for_review.deadline_kind == "review"
        cells = [
            c
            for c in figure_links(page(people.city))
            if c["row"] in (HUANSHI, "440703") and c["data-figure"].endswith("overdue")
        ]
        township = {c["data-figure"]: int(c["text"]) for c in cells if c["row"] == HUANSHI}
        county = {c["data-figure"]: int(c["text"]) for c in cells if c["row"] == "440703"}
        assert township["handler_overdue"] == 1  # its own mediation only
        assert "review_overdue" not in township
        assert county["handler_overdue"] == 1
        assert county["review_overdue"] == 1
        for cell in cells:
            assert listed(people.city, href(cell)) == int(cell["text"])
        tiles = tiles_of(page(people.city))
        assert int(tiles["overdue"]["data-value"]) == 2  # the headline counts every clock


def test_the_city_sees_a_county_table_and_a_row_for_what_sits_at_a_bureau(people, story):
    # Referred to 蓬江区司法局 itself: it sits at the county until the bureau routes it.
    story.submitted(target=people.bureau)
    story.submitted()
    text = page(people.city)
    assert "蓬江区本级" in text
    totals = [c for c in figure_links(text) if c["row"] == "440703" and c["data-figure"] == "total"]
    # The county table's row counts both; the township table's 本级 row only the bureau's one.
    assert sorted(int(c["text"]) for c in totals) == [1, 2]
    for cell in totals:
        assert listed(people.city, href(cell)) == int(cell["text"])


def test_the_township_table_sorts_by_success_rate_with_townships_without_outcomes_last(people, story):
    story.succeeded()  # 环市: 100%
    fail_elsewhere(story, "440703002")  # 白沙: 0%
    story.submitted(target=f.committee("440703101"))  # 棠下: nothing concluded
    text = page(people.supervisor, sort="-success_rate")
    order = re.findall(r'<tr data-region="(\d+)">', text.split('id="township-table"')[1])
    assert order[:2] == ["440703006", "440703002"]
    assert order.index("440703101") > 1
    text = page(people.supervisor, sort="success_rate")
    order = re.findall(r'<tr data-region="(\d+)">', text.split('id="township-table"')[1])
    assert order[:2] == ["440703002", "440703006"]


def test_what_is_late_is_red_and_listed_under_needs_attention(people, story):
    with time_machine_at("2026-01-05 10:00"):
        late = story.submitted()
    text = page(people.supervisor)
    assert re.search(r'<a class="tile bad"[^>]*data-figure="overdue" data-value="1"', text)
    assert late.number in text.split("需要关注")[1]


def test_the_period_picker_narrows_every_figure_and_a_bad_date_is_shown_not_a_crash(people, story):
    with time_machine_at("2026-03-10 10:00"):
        story.submitted()
    with time_machine_at("2026-05-20 10:00"):
        story.submitted()
    tiles = tiles_of(page(people.supervisor, **{"from": "2026-05-01", "to": "2026-05-31"}))
    assert tiles["total"]["data-value"] == "1"
    assert "from=2026-05-01" in href(tiles["total"])
    response = login(fresh(people.supervisor)).get("/", {"from": "2026-02-31"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "日期格式应为 YYYY-MM-DD" in text
    assert tiles_of(text)["total"]["data-value"] == "2"


def test_the_charts_are_inline_svg_with_links_and_no_external_assets(people, story):
    story.submitted()
    text = page(people.supervisor)
    assert text.count("<svg") >= 3  # bell, trend, categories
    this_month = timezone.localdate().replace(day=1).isoformat()
    assert f"from={this_month}" in text
    assert "category=neighbour" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<script>" not in text


def test_every_number_has_its_definition_as_a_tooltip(people, story):
    story.submitted()
    for link in figure_links(page(people.supervisor)):
        if "tile" in link.get("class", ""):
            assert link.get("title"), link["data-figure"]
            assert link["title"] == str(stats.FIGURES[link["data-figure"]].definition)


# --- Committees and petition offices -----------------------------------------------------------------


def test_sessions_held_this_week_are_listed_for_the_committee(people, story):
    referral = story.with_session()
    text = page(people.mediator)
    assert tiles_of(text)["sessions_this_week"]["data-value"] == "1"
    assert referral.number in text.split("本周调解")[1]


def test_someone_without_an_organisation_is_told_so(people):
    text = page(people.outsider)
    assert "尚未加入任何信访部门" in text
    assert "data-figure" not in text


# --- Live fragments -----------------------------------------------------------------------------


def test_each_live_part_of_the_page_can_be_fetched_alone(people, story):
    story.mediating()
    for user in (people.supervisor, people.mediator, people.officer):
        text = page(user)
        urls = [html.unescape(u) for u in re.findall(r'data-live-refresh data-fragment-url="([^"]+)"', text)]
        assert urls, user
        client = login(fresh(user))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            assert "<html" not in body and "<body" not in body


def test_a_fragment_follows_a_change(people, story):
    url = "/?fragment=tiles"
    before = tiles_of(page(people.supervisor, fragment="tiles"))["total"]["data-value"]
    story.submitted()
    after = tiles_of(login(fresh(people.supervisor)).get(url).content.decode())["total"]["data-value"]
    assert (int(before), int(after)) == (0, 1)


def test_fragments_of_other_roles_or_organisations_are_404(people, story):
    story.submitted()
    assert login(fresh(people.mediator)).get("/", {"fragment": "tiles"}).status_code == 404
    taicheng = people.taicheng.pk
    assert login(fresh(people.mediator)).get("/", {"fragment": "handler", "org": taicheng}).status_code == 404
    assert login(fresh(people.officer)).get("/", {"fragment": "nonsense"}).status_code == 404


# --- Cost ---------------------------------------------------------------------------------------------


def _queries(user, path: str = "/") -> int:
    client = login(fresh(user))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_costs_the_same_whatever_the_number_of_townships_or_referrals(people, story):
    story.closed()
    story.mediating()
    county, city = _queries(people.supervisor, "/?fragment=regions"), _queries(people.city, "/?fragment=regions")
    assert county == city
    page_before = _queries(people.city)
    for code in ("440703002", "440781001", "440705101", "440785001"):
        story.submitted(target=Organisation.objects.get(region__code=code, kind="mediation_committee"))
    story.declined()
    assert _queries(people.city) == page_before
    assert _queries(people.city, "/?fragment=regions") == city
