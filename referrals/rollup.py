"""Keeping the statistics cells (``StatsCell``) in step with the referrals.

Each workflow step measures the referral's contribution to the cells before and after it changes
— with the very figure definitions of ``referrals/stats.py``, counted by the database over that
one referral — and adds the difference, in the step's own transaction. So the cells never
disagree with a live count (the tests compare them), and ``rebuild()`` can recreate them from
scratch (after a bulk load, or to repair).

The figures of the clock (overdue, due soon) are kept the same way in ``ClockCell``, as the changes
each referral's stored deadlines make on given days (``CLOCK``; what has passed folded by the
minute sweep, ``fold_clock``).

Later apps keep running totals of their own figures the same way: their ``Extension`` carries a
``Source`` (a cell model keyed like ``StatsCell`` and the query that counts one referral's, or every
referral's, contribution), and ``tracked()`` / ``rebuild()`` cover it too, without this module
importing them (``mediation/stats.py`` keeps agreements and follow-ups).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, F, IntegerField, Model, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Floor, Substr, TruncMonth
from django.utils import timezone

from lib.sql import Recompiled
from referrals.deadlines import start_of_day
from referrals.models import OPEN_STATES, CellKey, ClockCell, DurationCell, Referral, State, StatsCell

KEY = CellKey.KEY
SUMS = {"days_to_accept", "n_to_accept", "days_to_conclude", "n_to_conclude"}
COUNTERS = tuple(f.name for f in StatsCell._meta.concrete_fields if f.name not in (*KEY, "id"))

Vector = dict[str, float]
Cells = dict[tuple, Vector]


class Source:
    """Running totals kept per cell (``KEY``) in ``model``.

    ``queries(pk)`` are ``values()`` queries of the contribution of referral ``pk`` (of every
    referral when ``pk`` is None): rows with the ``KEY`` fields and the ``counters`` (each named
    with ``prefix`` before it); several rows may share a key (they are added up). A step asks
    them for one referral twice, so those are compiled once (``lib.sql.Recompiled``).
    """

    def __init__(
        self,
        name: str,
        model: type[Model],
        counters: tuple[str, ...],
        queries: Callable[[int | None], Iterable[QuerySet]],
        *,
        prefix: str = "",
        key: tuple[str, ...] = KEY,
    ) -> None:
        self.name, self.model, self.counters, self.queries, self.prefix = name, model, counters, queries, prefix
        self.key = key
        self._one: list[Recompiled] | None = None

    def rows(self, pk: int | None) -> Iterator[dict]:
        if pk is None:
            for query in self.queries(None):
                yield from query.iterator(chunk_size=5000)
        else:
            if self._one is None:  # not on import: the figures' definitions may not be loaded yet
                count = len(list(self.queries(None)))
                self._one = [Recompiled(lambda pk, i=i: list(self.queries(pk))[i]) for i in range(count)]
            for query in self._one:
                yield from query.rows(pk)

    def cells(self, pk: int | None) -> Cells:
        out: Cells = {}
        for row in self.rows(pk):
            vector = out.setdefault(tuple(row[k] for k in self.key), dict.fromkeys(self.counters, 0))
            for c in self.counters:
                vector[c] += row.get(self.prefix + c) or 0
        return out


def key_of(prefix: str = "") -> dict:
    """The cell of a referral (``prefix``: the path to it, e.g. ``"referral__"`` from its records)."""
    return {
        "area": Substr(f"{prefix}region_code", 1, 9),
        "category": F(f"{prefix}category"),
        "month": TruncMonth(f"{prefix}received_on"),
        "origin_id": F(f"{prefix}origin_id"),
        "receiver": Coalesce(f"{prefix}target_id", 0),
        "draft": Case(
            When(**{f"{prefix}state": State.DRAFT}, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
    }


def _aggregates() -> dict:
    from referrals import stats

    now = timezone.now()  # the stored figures do not depend on it (the clock's figures are live)
    # Named apart from the referral's fields of the same name (see ``stats.compute.ALIAS``).
    counts = {f"fig_{key}": Count("pk", filter=stats.FIGURES[key].where(now)) for key in COUNTERS if key not in SUMS}
    return {
        **counts,
        "fig_days_to_accept": Sum(stats.to_accept()),
        "fig_n_to_accept": Count(stats.to_accept()),
        "fig_days_to_conclude": Sum(stats.to_conclude()),
        "fig_n_to_conclude": Count(stats.to_conclude()),
    }


def contributions(qs: QuerySet[Referral]) -> QuerySet:
    """The cells of these referrals with their totals (one GROUP BY)."""
    key = key_of()
    return (
        qs.order_by()
        .annotate(area=key["area"], month=key["month"], receiver=key["receiver"], draft=key["draft"])
        .values(*KEY)
        .annotate(**_aggregates())
    )


def _referral_queries(pk: int | None) -> Iterable[QuerySet]:
    # A merged referral contributes nothing (``stats`` counts only referrals not merged).
    qs = Referral.objects.filter(merged_into__isnull=True)
    return [contributions(qs if pk is None else qs.filter(pk=pk))]


REFERRALS = Source("referrals", StatsCell, COUNTERS, _referral_queries, prefix="fig_")


class ClockSource(Source):
    """The clock's figures of referrals (``ClockCell``): per cell and day, how the figures at that
    day's first moment differ from the day before's, for the days a referral's stored instants
    (``clock_instants``) fall on or just before. Computed in Python from the few fields the figures
    read (``stats.figures.clock_values``, which a test holds equal to the figures' own conditions);
    a day already begun is kept as ``SINCE_EVER`` (``fold_clock``)."""

    FIELDS = ("state", "deadline_kind", "due_at", "due_soon_at", "petition_due_on")

    def __init__(self) -> None:
        from referrals.stats.figures import CLOCK_FIGURES

        # Its queries read the fields the figures need, not the contributions (worked out below).
        super().__init__("clock", ClockCell, CLOCK_FIGURES, self._fields, key=ClockCell.KEY)

    def _fields(self, pk: int | None) -> list[QuerySet]:
        referrals = Referral.objects.filter(_may_have_a_clock() if pk is None else Q(pk=pk))
        cell = key_of()
        return [
            referrals.filter(merged_into__isnull=True)
            .order_by()
            .annotate(area=cell["area"], month=cell["month"], receiver=cell["receiver"], draft=cell["draft"])
            .values(*KEY, *self.FIELDS)
        ]

    def cells(self, pk: int | None) -> Cells:
        from referrals.stats.figures import clock_values

        today = timezone.localdate()
        out: Cells = {}
        for row in self.rows(pk):  # a step's compiled once, like the other sources' (``lib.sql.Recompiled``)
            before = dict.fromkeys(self.counters, 0)
            for day in sorted({day_of(instant) for instant in clock_instants(row)}):
                now = clock_values(row, start_of_day(day))
                delta = {c: now[c] - before[c] for c in self.counters}
                before = now
                if any(delta.values()):
                    kept = ClockCell.SINCE_EVER if day <= today else day
                    vector = out.setdefault((*(row[k] for k in KEY), kept), dict.fromkeys(self.counters, 0))
                    for c in self.counters:
                        vector[c] += delta[c]
        return out


def _may_have_a_clock() -> Q:
    petition = Q(state__in=OPEN_STATES, petition_due_on__isnull=False)
    return Q(due_at__isnull=False) | Q(due_soon_at__isnull=False) | petition


def day_of(instant: datetime.datetime) -> datetime.date:
    """The first day whose first moment is at or after ``instant``: the day from which on a
    change at ``instant`` holds at every day's start."""
    local = timezone.localtime(instant)
    return local.date() if local == start_of_day(local.date()) else local.date() + datetime.timedelta(days=1)


def clock_instants(row: dict) -> list[datetime.datetime]:
    """The instants at which a referral's clock figures may change, as stored."""
    found = [row[f] for f in ("due_at", "due_soon_at") if row[f] is not None]
    if row["petition_due_on"] is not None:
        # Late from the day after the petition deadline's day.
        found.append(start_of_day(row["petition_due_on"] + datetime.timedelta(days=1)))
    return found


CLOCK = ClockSource()


# The stored durations, and the counter of each in ``DurationCell``.
DURATIONS = {"days_to_accept": "accepts", "days_to_conclude": "concludes"}


def duration_bucket(column: str) -> Cast:
    return Cast(Floor(F(column) * DurationCell.PER_DAY), IntegerField())


def _duration_queries(pk: int | None) -> list[QuerySet]:
    qs = Referral.objects.filter(merged_into__isnull=True)
    qs = qs if pk is None else qs.filter(pk=pk)
    return [
        qs.filter(**{f"{column}__isnull": False})
        .order_by()
        .annotate(area=key_of()["area"], receiver=key_of()["receiver"], bucket=duration_bucket(column))
        .values(*DurationCell.KEY)
        .annotate(**{counter: Count("pk")})
        for column, counter in DURATIONS.items()
    ]


DURATION_BUCKETS = Source("durations", DurationCell, tuple(DURATIONS.values()), _duration_queries, key=DurationCell.KEY)


def fold_clock(now: datetime.datetime | None = None) -> int:
    """Fold the clock's rows of every day begun by ``now`` into each cell's ``SINCE_EVER`` row
    (the minute sweep): a summary sums one row per cell. The number of rows folded.

    A step that adds to a row being folded waits for the fold's lock and then finds no row, so it
    writes a new one (``_add``), which the next fold takes; either way the sums are unchanged."""
    today = timezone.localdate(now or timezone.now())
    with transaction.atomic():
        passed = ClockCell.objects.filter(day__gt=ClockCell.SINCE_EVER, day__lte=today)
        rows = list(passed.select_for_update().values("id", *KEY, *CLOCK.counters))
        if not rows:
            return 0
        ClockCell.objects.filter(id__in=[r["id"] for r in rows]).delete()
        folded: Cells = {}
        for row in rows:
            vector = folded.setdefault((*(row[k] for k in KEY), ClockCell.SINCE_EVER), dict.fromkeys(CLOCK.counters, 0))
            for c in CLOCK.counters:
                vector[c] += row[c]
        for key, delta in folded.items():
            _add(key, delta, CLOCK)
        # Cells whose referrals are all finished count nothing; a summary need not read them.
        ClockCell.objects.filter(day=ClockCell.SINCE_EVER, **dict.fromkeys(CLOCK.counters, 0)).delete()
    return len(rows)


def sources() -> dict[str, Source]:
    """Every app's running totals, as registered (``referrals/registry.py``)."""
    from referrals.registry import registry

    return registry.rollup_sources


def _add(key: tuple, delta: Vector, source: Source) -> None:
    model = source.model
    where = dict(zip(source.key, key, strict=True))
    changes = {c: F(c) + d for c, d in delta.items() if d}
    if not changes:
        return
    if model.objects.filter(**where).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**where, **{c: delta.get(c, 0) for c in source.counters})
    except IntegrityError:  # another step created the cell meanwhile
        model.objects.filter(**where).update(**changes)


def apply(before: Cells, after: Cells, source: Source) -> None:
    for key in before.keys() | after.keys():
        old, new = before.get(key, {}), after.get(key, {})
        _add(key, {c: new.get(c, 0) - old.get(c, 0) for c in source.counters}, source)


def _sources(names: Iterable[str] | None) -> list[Source]:
    found = sources()
    return list(found.values()) if names is None else [found[n] for n in names]


@contextmanager
def tracked(pk: int | None, sources: Iterable[str] | None = None) -> Iterator[None]:
    """Wrap a change of one referral (``pk`` None: it does not exist yet, see ``record_new``).

    Every registered source is measured unless ``sources`` names some (a later app's record
    step, which changes only its own totals).
    """
    chosen = _sources(sources)
    before = {s.name: s.cells(pk) for s in chosen} if pk else {}
    yield
    if pk:
        for s in chosen:
            apply(before[s.name], s.cells(pk), s)


def record_new(pk: int) -> None:
    for s in sources().values():
        apply({}, s.cells(pk), s)


def rebuild(*, batch: int = 5000, sources: Iterable[str] | None = None) -> int:
    """Recreate every cell (of the named sources, else all) from scratch; returns the number of cells."""
    created = 0
    with transaction.atomic():
        for source in _sources(sources):
            source.model.objects.all().delete()
            rows = []
            for key, vector in source.cells(None).items():
                if any(vector.values()):
                    rows.append(source.model(**dict(zip(source.key, key, strict=True)), **vector))
                if len(rows) >= batch:
                    created += len(source.model.objects.bulk_create(rows))
                    rows = []
            created += len(source.model.objects.bulk_create(rows))
    return created


def fill_empty(app_label: str, using: str = "default") -> None:
    """After migrating ``app_label``: its sources' cells, if their table is new or empty (new
    columns, a restored dump), are computed once, so summaries are right from the first request."""
    from django.db import connections

    tables = connections[using].introspection.table_names()
    for source in sources().values():
        model = source.model
        if model._meta.app_label != app_label or model._meta.db_table not in tables:
            continue  # another app's, or migrated to a point before the cells existed
        if not model.objects.using(using).exists():
            rebuild(sources=[source.name])
