"""Helpers for the statistics and dashboard tests: the demo data, list counts, and an oracle.

The oracle recomputes every figure in Python from the model objects, by the rules themselves
(the current round's agreement or termination, the working-day calendar, the latest follow-up),
independently of the SQL in ``referrals/stats.py``. No tests here.
"""

from __future__ import annotations

import datetime
import io
import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q, QuerySet
from django.utils import timezone

from referrals import stats
from referrals.models import Handling, Referral, State
from tests.conftest import api, login
from townships.calendar import add_working_days, calendar_period_end
from townships.models import Organisation, Region

User = get_user_model()


def seed_demo(settings_fixture) -> None:
    settings_fixture.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def fresh(user):
    """A new user object, as each request has (grants are cached on the object)."""
    return User.objects.get(pk=user.pk)


def demo_user(username: str):
    return User.objects.get(username=username)


def listed(user, href: str) -> int:
    """How many referrals the referral list shows for a page link (read through the list API)."""
    params = dict(parse_qsl(urlsplit(href).query))
    assert urlsplit(href).path == "/referrals/", href
    client = api(fresh(user))
    response = client.get("/api/referrals/", {**params, "page_size": 100})
    assert response.status_code == 200, (href, response.content)
    total = len(response.json()["results"])
    while response.json()["next"]:
        response = client.get(response.json()["next"])
        total += len(response.json()["results"])
    return total


# --- Reading the summary and the pages ---------------------------------------------------------


SUMMARY = "/api/stats/summary/"


# Figures the oracle recomputes (all but the list-only helpers and "this week").
CHECKED = (
    "total",
    "submitted",
    "accepted",
    "returned",
    "ping_pong",
    "concluded",
    "succeeded",
    "failed",
    "closed",
    "open",
    "overdue",
    "due_soon",
    "closed_on_time",
    "success_rate",
    "accepted_on_time",
    "timely_acceptance_rate",
    "concluded_on_time",
    "on_time_conclusion_rate",
    "closed_on_time_rate",
    "answered",
    "answered_on_time",
    "accept_overdue",
    "acceptance_due",
    "mediate_overdue",
    "conclusion_due",
    "review_overdue",
    "closing_due",
    "petition_on_time",
    "petition_overdue",
    "petition_due",
    "petition_on_time_rate",
    "avg_days_to_accept",
    "median_days_to_accept",
    "avg_days_to_conclude",
    "median_days_to_conclude",
    "agreements",
    "agreements_written",
    "agreements_oral",
    "amount_involved",
    "agreements_performed",
    "judicially_confirmed",
    "followups_visited",
    "satisfied",
    "dissatisfied",
    "satisfaction_rate",
    "supervision_overdue",
)


def summary(user, **params) -> dict:
    response = api(fresh(user)).get(SUMMARY, params)
    assert response.status_code == 200, response.content
    return response.json()


def assert_matches(data: dict, truth: dict) -> None:
    for key in CHECKED:
        assert data["figures"][key] == truth[key], key
    for key in ("total", "overdue", "due_soon", "concluded", "succeeded", "success_rate", "avg_days_to_conclude"):
        assert data[key] == truth[key], key
    assert data["by_state"] == {k.removeprefix("state_"): v for k, v in truth.items() if k.startswith("state_")}


def assert_links_match(user, data: dict, scope_params: dict[str, str]) -> None:
    """Every count with a list link lists exactly as many referrals as it says."""
    scope = stats.Scope(
        fresh(user), region=Region.objects.get(code=scope_params["region"]) if "region" in scope_params else None
    )
    for key, value in data["figures"].items():
        figure = stats.FIGURES.get(key)
        if figure is None or figure.unit != stats.COUNT or not figure.list_params():
            continue
        if figure.where is None:
            continue  # a count computed against the calendar (accepted_on_time...) links to its base list
        assert listed(user, stats.list_url(scope, key)) == value, key


def page(user, path: str = "/", **params) -> str:
    response = login(fresh(user)).get(path, params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def href(link: dict[str, str]) -> str:
    return link["href"]  # the parser has already turned &amp; back into &


# --- Who sees what, stated directly ----------------------------------------------------------


# The oracle counts what the statistics count: referrals not merged into another (docs/statistics.md).
COUNTED = Referral.objects.filter(merged_into__isnull=True)


def in_region(code: str) -> QuerySet[Referral]:
    """What a supervisor of ``code`` sees: every referral past draft in the region."""
    return COUNTED.exclude(state=State.DRAFT).filter(region_code__startswith=code)


def of_committee(org: Organisation) -> QuerySet[Referral]:
    """What a committee's mediator sees: referred to it now or before (past draft)."""
    return COUNTED.exclude(state=State.DRAFT).filter(Q(target=org) | Q(handlings__organisation=org)).distinct()


# --- The oracle ------------------------------------------------------------------------------


def _days(end: datetime.datetime, start: datetime.datetime) -> float:
    return (end - start).total_seconds() / 86400


def _local(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _rate(top: int, bottom: int) -> float | None:
    return round(top / bottom, 4) if bottom else None


def _accept_due(turn: Handling) -> datetime.date:
    """The last day of a receiver's turn to accept or return."""
    return add_working_days(_local(turn.started_at), settings.FANGDIAO["ACCEPT_WORKING_DAYS"]).date


def _mediation_due(r: Referral) -> datetime.date:
    """The last day of the current mediation round: 30 days, plus extensions and finished pauses."""
    paused = sum(s.paused_days for s in r.suspensions.all() if s.started_at >= r.mediation_started_at)
    days = settings.FANGDIAO["MEDIATE_DAYS"] + r.extension_days + paused
    return calendar_period_end(_local(r.mediation_started_at), days).date


def expected(referrals: QuerySet[Referral], now: datetime.datetime | None = None) -> dict[str, Any]:
    """Every figure of these referrals, computed one referral at a time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rs = list(
        referrals.prefetch_related(
            "agreements", "terminations", "handlings", "suspensions", "followups", "supervisions"
        )
    )
    f: dict[str, Any] = Counter()
    f["total"] = len(rs)
    to_accept, to_conclude, amounts = [], [], Decimal(0)
    for s in State.values:
        f[f"state_{s}"] = sum(r.state == s for r in rs)
    for r in rs:
        agreement = next((a for a in r.agreements.all() if a.round == r.round), None) if r.concluded_at else None
        termination = next((t for t in r.terminations.all() if t.round == r.round), None) if r.concluded_at else None
        f["submitted"] += r.state != State.DRAFT
        f["accepted"] += r.accepted_at is not None
        f["returned"] += r.returns_count > 0
        f["ping_pong"] += r.ping_pong
        f["concluded"] += r.concluded_at is not None
        f["succeeded"] += agreement is not None
        f["failed"] += termination is not None
        f["closed"] += r.state == State.CLOSED
        f["open"] += r.state != State.CLOSED
        f["overdue"] += r.due_at is not None and r.due_at <= now
        f["due_soon"] += r.due_soon_at is not None and r.due_soon_at <= now < r.due_at
        # Timeliness: on time ÷ (answered + still open past the deadline), each deadline recomputed
        # here from the history and the calendar.
        f["petition_on_time"] += r.state == State.CLOSED and _local(r.closed_at) <= r.petition_due_on
        f["petition_overdue"] += r.state != State.CLOSED and today > r.petition_due_on
        turns = list(r.handlings.all())
        returns = [h for h in turns if h.result == Handling.Result.DECLINED]
        if r.accepted_at:
            to_accept.append(_days(r.accepted_at, r.submitted_at))
            turn = next(h for h in turns if h.result == Handling.Result.ACCEPTED)
            f["accepted_on_time"] += _local(turn.ended_at) <= _accept_due(turn)
            f["answered"] += 1
            f["answered_on_time"] += _local(turn.ended_at) <= _accept_due(turn)
        elif returns and r.state in (State.DECLINED, State.CLOSED):
            f["answered"] += 1
            f["answered_on_time"] += _local(returns[-1].ended_at) <= _accept_due(returns[-1])
        if r.state == State.SUBMITTED:
            pending = next(h for h in turns if h.result == Handling.Result.PENDING)
            f["accept_overdue"] += today > _accept_due(pending)
        if r.state == State.MEDIATING and r.suspended_since is None:
            f["mediate_overdue"] += today > _mediation_due(r)
        if r.concluded_at:
            to_conclude.append(_days(r.concluded_at, r.accepted_at))
            f["concluded_on_time"] += _local(r.concluded_at) <= _mediation_due(r)
        review_from = r.concluded_at or (returns[-1].ended_at if returns else None)
        if review_from is not None:
            review_due = add_working_days(_local(review_from), settings.FANGDIAO["REVIEW_WORKING_DAYS"]).date
            f["closed_on_time"] += r.state == State.CLOSED and _local(r.closed_at) <= review_due
            f["review_overdue"] += r.state in (State.SUCCEEDED, State.FAILED, State.DECLINED) and today > review_due
        if agreement:
            f["agreements"] += 1
            f["agreements_written"] += agreement.form == "written"
            f["agreements_oral"] += agreement.form == "oral"
            f["agreements_performed"] += agreement.performance == "performed"
            f["judicially_confirmed"] += agreement.confirmation_result == "confirmed"
            amounts += agreement.amount or 0
        visits = sorted(r.followups.all(), key=lambda v: (v.visited_on, v.pk))
        if visits:
            f["followups_visited"] += 1
            f["satisfied"] += visits[-1].satisfaction in ("satisfied", "basically_satisfied")
            f["dissatisfied"] += visits[-1].satisfaction == "dissatisfied"
        f["supervision_overdue"] += any(o.responded_at is None and o.respond_by < today for o in r.supervisions.all())
    f["amount_involved"] = f"{amounts:.2f}"
    f["success_rate"] = _rate(f["succeeded"], f["concluded"])
    f["acceptance_due"] = f["answered"] + f["accept_overdue"]
    f["conclusion_due"] = f["concluded"] + f["mediate_overdue"]
    f["closing_due"] = f["closed"] + f["review_overdue"]
    f["petition_due"] = f["closed"] + f["petition_overdue"]
    f["timely_acceptance_rate"] = _rate(f["answered_on_time"], f["acceptance_due"])
    f["on_time_conclusion_rate"] = _rate(f["concluded_on_time"], f["conclusion_due"])
    f["closed_on_time_rate"] = _rate(f["closed_on_time"], f["closing_due"])
    f["petition_on_time_rate"] = _rate(f["petition_on_time"], f["petition_due"])
    f["satisfaction_rate"] = _rate(f["satisfied"], f["followups_visited"])
    f["avg_days_to_accept"] = round(statistics.mean(to_accept), 1) if to_accept else None
    f["median_days_to_accept"] = round(statistics.median(to_accept), 1) if to_accept else None
    f["avg_days_to_conclude"] = round(statistics.mean(to_conclude), 1) if to_conclude else None
    f["median_days_to_conclude"] = round(statistics.median(to_conclude), 1) if to_conclude else None
    return dict(f)


def expected_rows(referrals: QuerySet[Referral], key, now: datetime.datetime | None = None) -> dict[str, dict]:
    """Row counts (total, open, overdue, concluded, succeeded) grouped by ``key(referral)``."""
    now = now or timezone.now()
    rows: dict[str, dict] = defaultdict(Counter)
    for r in referrals.prefetch_related("agreements"):
        row = rows[key(r)]
        row["total"] += 1
        row["open"] += r.state != State.CLOSED
        row["overdue"] += r.due_at is not None and r.due_at <= now
        row["concluded"] += r.concluded_at is not None
        row["succeeded"] += r.concluded_at is not None and any(a.round == r.round for a in r.agreements.all())
    return {k: dict(v) for k, v in rows.items()}


# --- Reading pages ---------------------------------------------------------------------------


class FigureLinks(HTMLParser):
    """Every ``<a data-figure=...>`` of a page: its figure key, value, link and table row."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self._row = ""
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = attrs.get("data-region", "")
        if tag == "a" and "data-figure" in attrs:
            self._open = {**attrs, "row": self._row, "text": ""}
            self.links.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None
        if tag == "tr":
            self._row = ""


def figure_links(html: str) -> list[dict[str, str]]:
    parser = FigureLinks()
    parser.feed(html)
    return parser.links


def tiles_of(html: str) -> dict[str, dict[str, str]]:
    """The page's tiles by figure key (the first tile of each key)."""
    out: dict[str, dict[str, str]] = {}
    for link in figure_links(html):
        if {"tile", "tile-main"} & set(link.get("class", "").split()):
            out.setdefault(link["data-figure"], link)
    return out
