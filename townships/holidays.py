"""Which days of a year are rest days: as published, or by the statutory rule (docs/domain.md#workflow).

Two sources, best first:

- ``official_days``: the State Council's published arrangement as packaged by ``chinesecalendar``
  (holidays, bridging rest days and make-up working days). The package covers a year only once it
  has been published and released; for any other year it raises ``NotImplementedError``.
- ``statutory_days``: the holidays that 全国年节及纪念日放假办法 (as amended in 2024) fixes for every
  year — 元旦, 春节 (除夕 to 初三), 清明, 劳动节 (1–2 May), 端午, 中秋, 国庆 (1–3 October) — on top of
  Saturdays and Sundays. Lunar dates and the 清明 solar term come from ``tyme4py`` (docs/clocks.md
  says why that library); no lunar arithmetic here. Make-up working days, bridging and the
  weekday in lieu of a holiday that falls on a weekend (Art. 6) are placed only by the State
  Council's notice, so a year computed this way is provisional.

Both return one ``Entry`` per day of the year. Nothing here touches the database: ``calendar.py``
stores the entries as ``CalendarDay`` rows and decides which source wins.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

ONE_DAY = datetime.timedelta(days=1)

# The holidays' names as the State Council's notices write them, in the order of the 放假办法. They
# are stored data (like region names), not interface text, so they are not translated here.
NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"
ORDER = (NEW_YEAR, SPRING_FESTIVAL, QINGMING, LABOUR_DAY, DRAGON_BOAT, MID_AUTUMN, NATIONAL_DAY)

# chinesecalendar names its holidays in English; the same day under the same name whichever source
# it came from lets an official year replace a computed one row for row.
_OFFICIAL_NAMES = {
    "new_years_day": NEW_YEAR,
    "spring_festival": SPRING_FESTIVAL,
    "tomb_sweeping_day": QINGMING,
    "labour_day": LABOUR_DAY,
    "dragon_boat_festival": DRAGON_BOAT,
    "mid_autumn_festival": MID_AUTUMN,
    "national_day": NATIONAL_DAY,
}

WORKDAY = "workday"
WEEKEND = "weekend"
HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"


@dataclass(frozen=True)
class Entry:
    """One day as a source sees it; ``kind`` takes the values of ``CalendarDay.Kind``."""

    date: datetime.date
    is_workday: bool
    kind: str
    name: str = ""


def days_of(year: int) -> list[datetime.date]:
    first = datetime.date(year, 1, 1)
    return [first + ONE_DAY * i for i in range((datetime.date(year + 1, 1, 1) - first).days)]


def official_days(year: int) -> list[Entry]:
    """The published calendar of ``year`` from ``chinesecalendar``.

    Raises ``NotImplementedError`` for a year the installed package does not cover.
    """
    import chinese_calendar

    entries = []
    for date in days_of(year):
        is_workday = chinese_calendar.is_workday(date)
        _on_holiday, english = chinese_calendar.get_holiday_detail(date)
        name = chinese_name(english) if english else ""
        weekend = date.weekday() >= 5
        if is_workday:
            # A make-up working day carries the holiday it pays for; an ordinary one no name.
            entries.append(Entry(date, True, MAKEUP_WORKDAY, name) if weekend else Entry(date, True, WORKDAY))
        else:
            entries.append(Entry(date, False, HOLIDAY, name) if name else Entry(date, False, WEEKEND))
    return entries


def chinese_name(english: str) -> str:
    """The Chinese name of a chinesecalendar holiday (``"Spring Festival"`` → ``"春节"``)."""
    from chinese_calendar import Holiday

    holiday = Holiday(english)
    own: str = holiday.chinese  # chinesecalendar has no type hints
    return _OFFICIAL_NAMES.get(holiday.name, own)


def statutory_holidays(year: int) -> dict[datetime.date, str]:
    """The statutory holidays of ``year`` by the 2024 rule: date → name (two names where they meet,
    as 中秋 and 国庆 do some years)."""
    from tyme4py.festival import LunarFestival
    from tyme4py.lunar import LunarDay
    from tyme4py.solar import SolarDay, SolarTerm

    def solar(day: SolarDay) -> datetime.date:
        return datetime.date(day.get_year(), day.get_month(), day.get_day())

    def lunar(lunar_year: int, month: int, day: int) -> datetime.date:
        return solar(LunarDay.from_ymd(lunar_year, month, day).get_solar_day())

    # 除夕 closes the previous lunar year: the 30th of its 12th month, or the 29th when that month is
    # short (2025, 2026, 2027) — the library's festival knows which.
    eve = LunarFestival.from_index(year - 1, LunarFestival.NAMES.index("除夕")).get_day()
    days = [
        (datetime.date(year, 1, 1), NEW_YEAR),
        (solar(eve.get_solar_day()), SPRING_FESTIVAL),
        (lunar(year, 1, 1), SPRING_FESTIVAL),
        (lunar(year, 1, 2), SPRING_FESTIVAL),
        (lunar(year, 1, 3), SPRING_FESTIVAL),
        (solar(SolarTerm.from_name(year, "清明").get_julian_day().get_solar_day()), QINGMING),
        (datetime.date(year, 5, 1), LABOUR_DAY),
        (datetime.date(year, 5, 2), LABOUR_DAY),
        (lunar(year, 5, 5), DRAGON_BOAT),  # month 5, not a leap 5th month
        (lunar(year, 8, 15), MID_AUTUMN),
        (datetime.date(year, 10, 1), NATIONAL_DAY),
        (datetime.date(year, 10, 2), NATIONAL_DAY),
        (datetime.date(year, 10, 3), NATIONAL_DAY),
    ]
    names: dict[datetime.date, list[str]] = {}
    for date, name in days:
        if name not in names.setdefault(date, []):
            names[date].append(name)
    return {date: "、".join(sorted(found, key=ORDER.index)) for date, found in sorted(names.items())}


def statutory_days(year: int) -> list[Entry]:
    """Every day of ``year``: the statutory holidays and weekends are rest days, the rest working days."""
    holidays = statutory_holidays(year)
    entries = []
    for date in days_of(year):
        if date in holidays:
            entries.append(Entry(date, False, HOLIDAY, holidays[date]))
        elif date.weekday() >= 5:
            entries.append(Entry(date, False, WEEKEND))
        else:
            entries.append(Entry(date, True, WORKDAY))
    return entries
