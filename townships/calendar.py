"""Working days and calendar-day periods under the official calendar (docs/domain.md#workflow, docs/clocks.md).

Rules (民法典 Arts. 200–204): a period does not count its first day; a calendar-day period whose
last day is a rest day ends on the next working day; a working-day period counts working days
only. Where the calendar has no confirmed entry for a day (a year the State Council has not
published yet, or one an administrator has not confirmed), the statutory holidays and weekends of
``townships.holidays`` decide and the result is marked provisional — never an exception.
"""

from __future__ import annotations

import datetime
import functools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import transaction

from townships.holidays import Entry, days_of, official_days, statutory_days

if TYPE_CHECKING:
    from townships.models import CalendarDay

ONE_DAY = datetime.timedelta(days=1)
_VERSION_KEY = "calendar:version"
# How long a process trusts its loaded years before asking the shared cache whether an
# administrator changed the calendar elsewhere (a deadline computation looks at dozens of days).
VERSION_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class DueDate:
    date: datetime.date
    provisional: bool


@dataclass(frozen=True)
class Day:
    is_workday: bool
    confirmed: bool
    kind: str = ""  # CalendarDay.Kind
    name: str = ""  # the holiday's name, on holidays and the make-up working days that pay for them


@functools.lru_cache(maxsize=64)
def _unloaded_year(year: int) -> dict[datetime.date, Day]:
    """The days of a year without rows, as loading it would write them, but never confirmed (a
    missing row makes a deadline provisional): chinesecalendar's where it covers the year, else the
    statutory rule."""
    try:
        entries = official_days(year)
    except NotImplementedError:
        entries = statutory_days(year)
    return {e.date: Day(e.is_workday, False, e.kind, e.name) for e in entries}


class WorkCalendar:
    """Day lookups backed by ``CalendarDay`` rows, loaded one year at a time and kept in memory.

    Other processes learn of an edit through a version number in the shared cache.
    """

    def __init__(self, days: dict[datetime.date, Day] | None = None) -> None:
        # With explicit days the calendar is fixed (tests, property checks); otherwise it reads
        # the database lazily.
        self._fixed = days is not None
        self._days: dict[datetime.date, Day] = dict(days or {})
        self._years: set[int] = set()
        self._version: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def day(self, date: datetime.date) -> Day:
        if not self._fixed:
            self._ensure_year(date.year)
        found = self._days.get(date)
        if found is not None:
            return found
        return _unloaded_year(date.year)[date]

    def is_workday(self, date: datetime.date) -> bool:
        return self.day(date).is_workday

    def year(self, year: int) -> list[tuple[datetime.date, Day]]:
        """Every day of ``year`` in order (the calendar API)."""
        return [(date, self.day(date)) for date in days_of(year)]

    def _ensure_year(self, year: int) -> None:
        now = time.monotonic()
        if year in self._years and now - self._checked_at < VERSION_CHECK_SECONDS:
            return
        version = cache.get(_VERSION_KEY, 0)
        with self._lock:
            self._checked_at = now
            if version != self._version:
                self._days.clear()
                self._years.clear()
                self._version = version
            if year in self._years:
                return
            from townships.models import CalendarDay

            rows = CalendarDay.objects.filter(date__year=year).values_list(
                "date", "is_workday", "confirmed", "kind", "name"
            )
            self._days.update(_unloaded_year(year))
            for date, is_workday, confirmed, kind, name in rows:
                self._days[date] = Day(is_workday, confirmed, kind, name)
            self._years.add(year)


_default = WorkCalendar()


def default_calendar() -> WorkCalendar:
    return _default


def invalidate() -> None:
    """Tell every process that calendar rows changed (called when a ``CalendarDay`` is saved)."""
    _default._checked_at = 0.0  # this process looks again at once; others within seconds
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, timeout=None)


def days_changed(*years: int) -> None:
    """Announce ``CalendarDay`` rows written in bulk, which send no ``post_save``: every process drops
    its cached days once the change commits, and the apps that count days react to
    ``calendar_days_changed`` (referrals recomputes the stored deadlines of open referrals; townships
    does not import referrals)."""
    from townships.models import CalendarDay
    from townships.signals import calendar_days_changed

    transaction.on_commit(invalidate)  # registered first: the recomputation must read the new days
    calendar_days_changed.send(sender=CalendarDay, years=years)


def add_working_days(start: datetime.date, n: int, *, calendar: WorkCalendar | None = None) -> DueDate:
    """The n-th working day after ``start`` (``start`` itself is not counted)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    cal = calendar or _default
    provisional = False
    current = start
    counted = 0
    while counted < n:
        current += ONE_DAY
        day = cal.day(current)
        provisional = provisional or not day.confirmed
        if day.is_workday:
            counted += 1
    return DueDate(current, provisional)


def calendar_period_end(start: datetime.date, days: int, *, calendar: WorkCalendar | None = None) -> DueDate:
    """Last day of a period of ``days`` calendar days from ``start``, rolled past rest days."""
    if days < 1:
        raise ValueError("days must be at least 1")
    cal = calendar or _default
    current = start + datetime.timedelta(days=days)
    day = cal.day(current)
    provisional = not day.confirmed
    while not day.is_workday:
        current += ONE_DAY
        day = cal.day(current)
        provisional = provisional or not day.confirmed
    return DueDate(current, provisional)


def working_days_before(end: datetime.date, n: int, *, calendar: WorkCalendar | None = None) -> datetime.date:
    """The working day n working days before ``end`` (``end`` itself not counted); n=0 → ``end``."""
    cal = calendar or _default
    current = end
    counted = 0
    while counted < n:
        current -= ONE_DAY
        if cal.is_workday(current):
            counted += 1
    return current


def working_days_between(start: datetime.date, end: datetime.date, *, calendar: WorkCalendar | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
    cal = calendar or _default
    count = 0
    current = start
    while current < end:
        current += ONE_DAY
        if cal.is_workday(current):
            count += 1
    return count


# --- Loading years ---------------------------------------------------------------------------

# Which source may overwrite which. A load replaces a row only from a source at least as good as the
# row's own, so a year computed by rule is taken over when chinesecalendar publishes it, and an
# administrator's row (entered, edited or confirmed in the admin) is never touched by a load.
_RANK = {"weekday_rule": 0, "statutory_rule": 1, "chinesecalendar": 2, "admin": 3}
_FIELDS = ["is_workday", "kind", "name", "source", "confirmed"]


@dataclass(frozen=True)
class YearLoad:
    year: int
    official: bool  # from a published calendar (else the statutory rule)
    created: int
    replaced: int  # rows of a lesser source rewritten
    kept: int  # administrator's rows that differ from the source and were left as they are
    unconfirmed: int  # the year's rows still unconfirmed after the load

    @property
    def provisional(self) -> bool:
        return self.unconfirmed > 0


def load_year(
    year: int, *, official: Iterable[Entry] | None = None, model: type[CalendarDay] | None = None
) -> YearLoad:
    """Fill or refresh a year's ``CalendarDay`` rows.

    The published calendar — ``official`` when given, else chinesecalendar's when the installed
    package covers the year — is stored confirmed; without one, the statutory rule is stored
    unconfirmed (``source="statutory_rule"``). Rows of a lesser source are replaced (``_RANK``),
    administrator's rows kept. When anything changed, ``days_changed`` announces it, so stored
    deadlines follow; not from a migration (``model``: its historical model), which runs before the
    tables of the apps that listen may exist.
    """
    from townships.models import CalendarDay as current_model

    CalendarDay = model or current_model
    Source = current_model.Source
    if official is None:
        try:
            official = official_days(year)
        except NotImplementedError:
            official = None
    if official is not None:
        entries, source, confirmed = list(official), Source.CHINESECALENDAR, True
        if [e.date for e in entries] != days_of(year):
            raise ValueError(f"the official calendar of {year} must give every day of the year, in order")
    else:
        entries, source, confirmed = statutory_days(year), Source.STATUTORY_RULE, False

    created: list[current_model] = []
    replaced: list[current_model] = []
    kept = 0
    with transaction.atomic():
        # Locked: an administrator saving one of these days waits, and is not overwritten unseen.
        existing = {r.date: r for r in CalendarDay.objects.select_for_update().filter(date__year=year)}
        for e in entries:
            wanted = {"source": source, "confirmed": confirmed}
            wanted.update(is_workday=e.is_workday, kind=e.kind, name=e.name)
            row = existing.get(e.date)
            if row is None:
                created.append(CalendarDay(date=e.date, **wanted))
            elif all(getattr(row, f) == v for f, v in wanted.items()):
                continue
            elif _RANK.get(row.source, 0) <= _RANK[source]:
                for f, v in wanted.items():
                    setattr(row, f, v)
                replaced.append(row)
            elif row.source == Source.ADMIN and (row.is_workday, row.kind, row.name) != (e.is_workday, e.kind, e.name):
                kept += 1
        CalendarDay.objects.bulk_create(created, batch_size=500)
        CalendarDay.objects.bulk_update(replaced, _FIELDS, batch_size=500)
        unconfirmed = CalendarDay.objects.filter(date__year=year, confirmed=False).count()
        if created or replaced:
            if model is None:
                days_changed(year)
            else:
                transaction.on_commit(invalidate)
    return YearLoad(year, confirmed, len(created), len(replaced), kept, unconfirmed)
