"""Working days and calendar-day periods under the official calendar (DOMAIN.md §4).

Rules (民法典 Arts. 200–204): a period does not count its first day; a calendar-day period whose
last day is a rest day ends on the next working day; a working-day period counts working days
only. Where the calendar has no confirmed entry for a day (a year the State Council has not
published yet, or one an administrator has not confirmed), Monday–Friday is assumed and the
result is marked provisional — never an exception.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache

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
        return Day(is_workday=date.weekday() < 5, confirmed=False)

    def is_workday(self, date: datetime.date) -> bool:
        return self.day(date).is_workday

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

            rows = CalendarDay.objects.filter(date__year=year).values_list("date", "is_workday", "confirmed")
            for date, is_workday, confirmed in rows:
                self._days[date] = Day(is_workday, confirmed)
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


def official_days(year: int) -> Iterable[tuple[datetime.date, bool, str, str]]:
    """(date, is_workday, kind, holiday name) for a year from ``chinesecalendar``.

    Raises ``NotImplementedError`` for a year the package does not cover.
    """
    import chinese_calendar

    current = datetime.date(year, 1, 1)
    while current.year == year:
        is_workday = chinese_calendar.is_workday(current)
        is_holiday, name = chinese_calendar.get_holiday_detail(current)
        weekend = current.weekday() >= 5
        if is_workday:
            kind = "makeup_workday" if weekend else "workday"
        elif name and (is_holiday or not weekend):
            kind = "holiday"
        else:
            kind = "weekend"
        yield current, is_workday, kind, (name or "") if not is_workday or weekend else ""
        current += ONE_DAY


def weekday_rule_days(year: int) -> Iterable[tuple[datetime.date, bool, str, str]]:
    current = datetime.date(year, 1, 1)
    while current.year == year:
        weekend = current.weekday() >= 5
        yield current, not weekend, "weekend" if weekend else "workday", ""
        current += ONE_DAY


def load_year(year: int, *, model=None) -> tuple[int, bool]:
    """Fill a year's ``CalendarDay`` rows; returns (rows created, confirmed).

    Uses ``chinesecalendar`` where it covers the year (confirmed), otherwise the Monday–Friday
    rule (unconfirmed, for an administrator to correct). Rows that exist — including an
    administrator's edits — are left as they are. ``model`` lets a migration pass its historical
    model.
    """
    from townships.models import CalendarDay as current_model

    CalendarDay = model or current_model

    try:
        days = list(official_days(year))
        source, confirmed = current_model.Source.CHINESECALENDAR, True
    except NotImplementedError:
        days = list(weekday_rule_days(year))
        source, confirmed = current_model.Source.WEEKDAY_RULE, False
    rows = [
        CalendarDay(date=d, is_workday=w, kind=k, name=n, source=source, confirmed=confirmed) for d, w, k, n in days
    ]
    existing = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
    created = CalendarDay.objects.bulk_create([r for r in rows if r.date not in existing], batch_size=500)
    if created:
        invalidate()
    return len(created), confirmed
