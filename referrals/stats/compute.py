"""Computing every figure of a scope in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.sql import DaysBetween, sums_by_each
from referrals.deadlines import start_of_day
from referrals.models import ClockCell, DurationCell, Referral, State, StatsCell, Tier
from referrals.stats.figures import CLOCK_FIGURES, FIGURES, ROW_FIGURES, ROW_RATES, Figure, sources
from referrals.stats.scope import Scope, months
from referrals.stats.sql import (
    Median,
    has_percentile,
    indexed_durations,
    median_by_offset,
    median_by_sorting,
    median_in_buckets,
)
from townships import regions
from townships.categories import Category
from townships.models import Region

# --- Computing ---------------------------------------------------------------------------------


# The breakdowns' dimensions: a cell's township or "本级" region, category and month received.
DIMENSIONS = ("area", "category", "month")


# Counts that follow from others by their definition, so the database need not count them again
# (a "failed" count would evaluate the outcome subquery a second time for every closed referral).
DERIVED: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "failed": lambda v: v["concluded"] - v["succeeded"],
}


# Counts are named ``fig_<key>`` in SQL: several figures share their name with a field of the
# referral (``closed_on_time``...), and a later count's filter on that field would otherwise read
# the earlier count instead (an aggregate inside an aggregate).
ALIAS = "fig_"


def plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of ``_counts`` with the figures under their own keys."""
    return {k.removeprefix(ALIAS): v for k, v in row.items()}


def _counts(keys: Iterable[str], now: datetime.datetime) -> dict[str, Aggregate]:
    keys = list(keys)
    needed = set(keys) | ({"concluded", "succeeded"} if "failed" in keys else set())
    for key in keys:
        needed |= set(FIGURES[key].parts or ())
    return {
        ALIAS + key: Count("pk", filter=FIGURES[key].where(now))
        for key in needed
        if key not in DERIVED and not FIGURES[key].parts
    }


def _derive(values: dict[str, Any]) -> dict[str, Any]:
    for key, rule in DERIVED.items():
        if key not in values and all(k in values for k in ("concluded", "succeeded")):
            values[key] = rule(values)
    for figure in FIGURES.summed():
        parts = figure.parts or ()
        if all(values.get(p) is not None for p in parts):
            values[figure.key] = sum(values[p] for p in parts)
    return values


def clock_moved(start: datetime.datetime, end: datetime.datetime) -> Q:
    """The referrals with a deadline instant in (start, end]: whose clock's figures may differ."""
    return Q(due_at__gt=start, due_at__lte=end) | Q(due_soon_at__gt=start, due_soon_at__lte=end)


def counts(scope: Scope, keys: Iterable[str], now: datetime.datetime | None = None) -> dict[str, int]:
    """Several count figures of a scope in one aggregate query."""
    return _derive(plain(scope.referrals().aggregate(**_counts(keys, now or timezone.now()))))


def _ratio(values: Mapping[str, Any], figure: Figure) -> float | None:
    numerator, denominator = figure.ratio
    top, bottom = values.get(numerator), values.get(denominator)
    if top is None or not bottom:
        return None
    return round(top / bottom, 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# The counts a report opens with, in the order it reads them: the headline counts them, and the
# statistics workbook's overview lists them first (``referrals/stats_api.py``).
LEADING_COUNTS = (
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
)

HEADLINE_COUNTS = (
    *LEADING_COUNTS,
    "closed_on_time",
    "petition_on_time",
    "accepted_on_time",
    "answered",
    "answered_on_time",
    "concluded_on_time",
    "escalated",
    *(f"{t}_{k}" for t in Tier.values for k in ("concluded", "succeeded")),
    *CLOCK_FIGURES,
    *(f"state_{s}" for s in State.values),
)


# Walk the durations' index to a median when the scope holds at least this share (1/3) of all
# durations. At 10⁶: sorting a county's (1/12) 20–27 ms a median, the city's 290–420 ms; walking
# to the city's middle 60–90 ms.
WALK_SHARE = 3


# The durations as the referral defines its stored columns (one rule), computed from the timestamps
# where a query reads those rather than the columns (the running totals, an organisation's medians).
def to_accept() -> DaysBetween:
    return Referral._meta.get_field("days_to_accept").expression


def to_conclude() -> DaysBetween:
    return Referral._meta.get_field("days_to_conclude").expression


class Figures:
    """Every figure of one scope at one moment; each query runs once, when first needed.

    The counts come from one GROUP BY (township, category, month received) over the scope — the
    *cells* — and the headline and every breakdown are sums of those cells, so a summary reads the
    scoped referrals once, however many breakdowns it shows. The rest: the medians (one query on
    PostgreSQL, two elsewhere), the two timeliness counts (one each), each registered source's
    figures (mediation: four) and the regions of the township table (one). A scope the running
    totals answer (``Scope.uses_rollup``) sums ``StatsCell`` in SQL by each breakdown's dimension
    instead (a few small queries), and the clock's figures from theirs (``ClockCell``); mediation's
    agreement and follow-up figures then come from its own running totals too (``cells=``).
    """

    def __init__(self, scope: Scope, now: datetime.datetime | None = None) -> None:
        self.scope = scope
        self.now = now or timezone.now()

    @cached_property
    def referrals(self) -> QuerySet[Referral]:
        return self.scope.referrals()

    @cached_property
    def cells(self) -> list[dict[str, Any]]:
        """The counts per (township, category, month received), from one GROUP BY over the scope's
        referrals (a scope the running totals answer sums them per dimension instead, ``_sums``)."""
        return [
            plain(row)
            for row in self.referrals.annotate(area=Substr("region_code", 1, 9), month=TruncMonth("received_on"))
            .values("area", "category", "month")
            .annotate(
                **_counts(HEADLINE_COUNTS, self.now),
                _days_to_accept=Sum(to_accept()),
                _n_to_accept=Count(to_accept()),
                _days_to_conclude=Sum(to_conclude()),
                _n_to_conclude=Count(to_conclude()),
            )
            .order_by()
        ]

    @cached_property
    def rollup(self) -> bool:
        """Whether the running totals answer this scope (``Scope.uses_rollup``)."""
        return self.scope.uses_rollup()

    @cached_property
    def moved_today(self) -> list[dict[str, Any]]:
        """The clock's figures that moved between today's first moment and now, per cell: counted
        live over the referrals with a deadline instant in between (with whole-day deadlines, none;
        the running totals ``ClockCell`` hold the figures at today's first moment)."""
        start = start_of_day(timezone.localdate(self.now))
        then = {ALIAS + "then_" + k.removeprefix(ALIAS): v for k, v in _counts(CLOCK_FIGURES, start).items()}
        rows = (
            self.referrals.filter(clock_moved(start, self.now))
            .annotate(area=Substr("region_code", 1, 9), month=TruncMonth("received_on"))
            .values("area", "category", "month")
            .annotate(**_counts(CLOCK_FIGURES, self.now), **then)
            .order_by()
        )
        return [{**row, **{k: row[ALIAS + k] - row[ALIAS + "then_" + k] for k in CLOCK_FIGURES}} for row in rows]

    @cached_property
    def _from_rollup(self) -> dict[str | None, dict[Any, dict[str, Any]]]:
        """The running totals of the scope summed by each breakdown's dimension and over all (None)
        in SQL, a few dozen rows whatever the number of cells (``lib.sql.sums_by_each``): the
        counts (``StatsCell``), and the clock's figures (``ClockCell``, up to today) with what moved
        since today began (``moved_today``). {dimension: {group: {figure: sum}}}."""
        from referrals import rollup

        names = {
            "days_to_accept": "_days_to_accept",
            "n_to_accept": "_n_to_accept",
            "days_to_conclude": "_days_to_conclude",
            "n_to_conclude": "_n_to_conclude",
        }
        cells = StatsCell.objects.filter(self.scope.cells())
        # The headline shows every counter; a breakdown's rows only ROW_FIGURES: apart, the two
        # queries sum a third as much as one grouping that sums every counter by everything.
        row_counters = [c for c in rollup.COUNTERS if c in ROW_FIGURES]
        found = {
            None: [cells.aggregate(**{c: Sum(c) for c in rollup.COUNTERS})],
            **sums_by_each(cells, DIMENSIONS, row_counters, overall=False),
        }
        groups: dict[str | None, dict[Any, dict[str, Any]]] = {}
        for dimension, rows in found.items():
            counters = rollup.COUNTERS if dimension is None else row_counters
            groups[dimension] = {
                row.get(dimension): {
                    **dict.fromkeys(CLOCK_FIGURES, 0),
                    **{names.get(c, c): row[c] or 0 for c in counters},
                }
                for row in rows
            }
        clock = ClockCell.objects.filter(self.scope.cells(), day__lte=timezone.localdate(self.now))
        for dimension, rows in sums_by_each(clock, DIMENSIONS, CLOCK_FIGURES).items():
            for row in [*rows, *self.moved_today]:
                group = groups[dimension].get(row[dimension] if dimension else None)
                if group is not None:  # always there: a referral with a deadline is in its cell
                    for key in CLOCK_FIGURES:
                        group[key] += row[key] or 0
        return groups

    def _sums(self, dimension: str | None) -> dict[Any, dict[str, Any]]:
        """The cells summed by ``dimension`` ("area", "category", "month"; None: all of them):
        {group: {figure: sum}}."""
        if self.rollup:
            return self._from_rollup[dimension]
        measures = [k for k in (self.cells[0] if self.cells else {}) if k not in ("area", "category", "month")]
        groups: dict[Any, dict[str, Any]] = {}
        for cell in self.cells:
            key = cell[dimension] if dimension else None
            group = groups.get(key)
            if group is None:
                groups[key] = {m: cell[m] or 0 for m in measures}
            else:
                for m in measures:
                    group[m] += cell[m] or 0
        return groups

    @cached_property
    def headline(self) -> dict[str, Any]:
        """Every single-number figure of the scope."""
        values: dict[str, Any] = dict.fromkeys(plain(_counts(HEADLINE_COUNTS, self.now)), 0)
        values |= {"_days_to_accept": 0, "_n_to_accept": 0, "_days_to_conclude": 0, "_n_to_conclude": 0}
        values |= self._sums(None).get(None, {})
        _derive(values)
        for name in ("accept", "conclude"):
            n = values[f"_n_to_{name}"]
            values[f"avg_days_to_{name}"] = _round(values[f"_days_to_{name}"] / n) if n else None
        values |= self.medians(values["_n_to_accept"], values["_n_to_conclude"])
        cells = self.scope.cells() if self.rollup else None
        for source in sources():
            values.update(source.compute(self.referrals, self.now, area=self.scope.area(), cells=cells))
        for figure in FIGURES.values():
            if figure.ratio:
                values[figure.key] = _ratio(values, figure)
        return {k: v for k, v in values.items() if not k.startswith("_")}

    def medians(self, n_to_accept: int, n_to_conclude: int) -> dict[str, float | None]:
        """The median days to accept and to conclude: ``percentile_cont(0.5)``, reached one of three ways.

        - An organisation's own scope (a committee, a petition office: not an area) sorts both
          durations in one pass over its referrals.
        - A supervisor's area either sorts each duration read from its (area, duration) index, in
          proportion to the area (a county's: 20–27 ms a median at 10⁶), or walks the duration's
          own index to the middle of the area's ones (``median_by_offset``), about half of the
          index whatever the area (60–90 ms; the city's sorted: 0.3–0.4 s). It walks when the area
          holds at least 1/``WALK_SHARE`` of all durations, by PostgreSQL's estimate of the index.
        - SQLite, without a percentile function, always walks.
        - But a scope the running totals answer, over all months and categories, first sums its
          durations per quarter-day (``DurationCell``) to find the quarter-day the middle falls in,
          and reads only that quarter's values from the index (``_medians_from_buckets``).
        The queries are the same for every scope of a kind, whatever the data.
        """
        qs = self.referrals
        scope = self.scope
        if self.rollup and not (scope.date_from or scope.date_to or scope.category):
            return self._medians_from_buckets()
        if has_percentile(qs) and not (self.rollup and self.scope.area()):
            found = qs.aggregate(accept=Median(to_accept()), conclude=Median(to_conclude()))
        else:
            # Decided by the acceptance durations, the larger set (every concluded one was accepted).
            walk = not has_percentile(qs) or 0 < indexed_durations(qs.db) <= n_to_accept * WALK_SHARE
            counts = {"accept": n_to_accept, "conclude": n_to_conclude}
            found = {
                k: median_by_offset(qs, f"days_to_{k}", n) if walk else median_by_sorting(qs, f"days_to_{k}")
                for k, n in counts.items()
            }
        return {"median_days_to_accept": _round(found["accept"]), "median_days_to_conclude": _round(found["conclude"])}

    def _medians_from_buckets(self) -> dict[str, float | None]:
        from referrals import rollup

        counters = list(rollup.DURATIONS.values())
        buckets = list(
            DurationCell.objects.filter(self.scope.whose_cells())
            .values("bucket")
            .annotate(**{c: Sum(c) for c in counters})
            .order_by("bucket")
        )
        found = {}
        for column, counter in rollup.DURATIONS.items():
            counts = [(row["bucket"], row[counter]) for row in buckets if row[counter]]
            found[column] = median_in_buckets(self.referrals, column, counts, DurationCell.PER_DAY)
        return {
            "median_days_to_accept": _round(found["days_to_accept"]),
            "median_days_to_conclude": _round(found["days_to_conclude"]),
        }

    @cached_property
    def by_region(self) -> list[dict[str, Any]]:
        """One row per township (villages count in theirs) and per county or city "本级", in code
        order; every township of the area is listed, one without referrals with zeros."""
        counts = {area: _row(values) for area, values in self._sums("area").items()}
        wanted = Q(code__in=list(counts))
        for code in self.scope.area():
            wanted |= regions.within([code], field="code") & Q(level=Region.Level.TOWNSHIP)
        out = []
        for region in Region.objects.filter(wanted).select_related("parent").order_by("code"):
            values = counts.get(region.code) or _row({})
            if region.level == Region.Level.TOWNSHIP:
                county = region.parent
                row = {"code": region.code, "name": region.name, "county_code": county.code, "county_name": county.name}
            else:
                here = _("%s本级") % region.name
                county_name = region.name if region.level == Region.Level.COUNTY else here
                row = {"code": region.code, "name": here, "county_code": region.code, "county_name": county_name}
            out.append({**row, "level": region.level, **values})
        return out

    @cached_property
    def by_county(self) -> list[dict[str, Any]]:
        return by_county(self.by_region)

    @cached_property
    def by_category(self) -> list[dict[str, Any]]:
        """One row per dispute category, in the standard order, zeros included."""
        counts = self._sums("category")
        return [{"code": c.value, "name": str(c.label), **_row(counts.get(c.value, {}))} for c in Category]

    @cached_property
    def by_month(self) -> list[dict[str, Any]]:
        """One row per month received, from the first month with referrals to the last."""
        counts = self._sums("month")
        if not counts:
            return []
        return [{"month": m.strftime("%Y-%m"), **_row(counts.get(m, {}))} for m in months(min(counts), max(counts))]


def headline(scope: Scope, now: datetime.datetime | None = None) -> dict[str, Any]:
    return Figures(scope, now).headline


def by_region(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_region


def by_category(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_category


def by_month(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_month


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    row = _derive({key: values[key] for key in ROW_FIGURES if key in values})
    row = {key: row.get(key, 0) for key in ROW_FIGURES}
    for key in ROW_RATES:
        row[key] = _ratio(row, FIGURES[key])
    return row


def region_link_keys(row: Mapping[str, Any], *, county_table: bool = False) -> tuple[str, ...]:
    """Figure keys that, with ``region=<code>``, show exactly a breakdown row's referrals: a township
    (or a county of the county table) is everything under its code, a "本级" row only what sits at it."""
    level = row["level"]
    if level == Region.Level.TOWNSHIP or (county_table and level == Region.Level.COUNTY):
        return ()
    return (f"level_{level}",)


def by_county(region_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """County totals summed from the township rows (no query)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in region_rows:
        level = Region.Level.COUNTY if row["level"] == Region.Level.TOWNSHIP else row["level"]
        county = totals.setdefault(
            row["county_code"], {"code": row["county_code"], "name": row["county_name"], "level": level, **_row({})}
        )
        for key in ROW_FIGURES:
            county[key] += row[key]
    for county in totals.values():
        county.update({key: _ratio(county, FIGURES[key]) for key in ROW_RATES})
    return sorted(totals.values(), key=lambda r: r["code"])


def summary(scope: Scope, now: datetime.datetime | None = None) -> dict[str, Any]:
    """``GET /api/stats/summary/``: docs/api.md's keys first, then every other figure."""
    figures = Figures(scope, now)
    values = figures.headline
    return {
        "total": values["total"],
        "by_state": {s: values[f"state_{s}"] for s in State.values},
        "by_category": {row["code"]: row["total"] for row in figures.by_category},
        "by_township": figures.by_region,
        "overdue": values["overdue"],
        "due_soon": values["due_soon"],
        "concluded": values["concluded"],
        "succeeded": values["succeeded"],
        "success_rate": values["success_rate"],
        "avg_days_to_conclude": values["avg_days_to_conclude"],
        "figures": {k: _json(v) for k, v in values.items() if not k.startswith("state_")},
        "by_county": figures.by_county,
        "categories": figures.by_category,
        "by_month": figures.by_month,
        "scope": {
            "region": scope.region.code if scope.region else None,
            "region_name": scope.region.name if scope.region else None,
            "area": list(scope.area()),
            "from": scope.date_from.isoformat() if scope.date_from else None,
            "to": scope.date_to.isoformat() if scope.date_to else None,
            "target": scope.target,
            "origin": scope.origin,
            "category": scope.category,
            "generated_at": figures.now.isoformat(),
        },
    }


def _json(value):
    return f"{value:.2f}" if isinstance(value, Decimal) else value
