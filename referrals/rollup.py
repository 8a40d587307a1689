"""Keeping the statistics cells (``StatsCell``) in step with the referrals.

Each workflow step measures the referral's contribution to the cells before and after it changes
— with the very figure definitions of ``referrals/stats.py``, counted by the database over that
one referral — and adds the difference, in the step's own transaction. So the cells never
disagree with a live count (the tests compare them), and ``rebuild()`` can recreate them from
scratch (after a bulk load, or to repair).

Later apps keep running totals of their own figures the same way: their ``Extension`` carries a
``Source`` (a cell model keyed like ``StatsCell`` and the query that counts one referral's, or every
referral's, contribution), and ``tracked()`` / ``rebuild()`` cover it too, without this module
importing them (``mediation/stats.py`` keeps agreements and follow-ups).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, F, Model, QuerySet, Sum, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from lib.sql import Recompiled
from referrals.models import CellKey, Referral, State, StatsCell

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
    ) -> None:
        self.name, self.model, self.counters, self.queries, self.prefix = name, model, counters, queries, prefix
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
            vector = out.setdefault(tuple(row[k] for k in KEY), dict.fromkeys(self.counters, 0))
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
        .annotate(area=key["area"], month=key["month"], draft=key["draft"])
        .values(*KEY)
        .annotate(**_aggregates())
    )


def _referral_queries(pk: int | None) -> Iterable[QuerySet]:
    # A merged referral contributes nothing (``stats`` counts only referrals not merged).
    qs = Referral.objects.filter(merged_into__isnull=True)
    return [contributions(qs if pk is None else qs.filter(pk=pk))]


REFERRALS = Source("referrals", StatsCell, COUNTERS, _referral_queries, prefix="fig_")


def sources() -> dict[str, Source]:
    """Every app's running totals, as registered (``referrals/registry.py``)."""
    from referrals.registry import registry

    return registry.rollup_sources


def _add(key: tuple, delta: Vector, source: Source) -> None:
    model = source.model
    where = dict(zip(KEY, key, strict=True))
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
                rows.append(source.model(**dict(zip(KEY, key, strict=True)), **vector))
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
