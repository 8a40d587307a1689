from __future__ import annotations

import datetime
from io import StringIO

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command

from tests.townships.calendars import MAKEUP_2027, SPRING_FESTIVAL_2027, published_2027
from townships import calendar
from townships.calendar import (
    Day,
    WorkCalendar,
    add_working_days,
    calendar_period_end,
    load_year,
    working_days_before,
    working_days_between,
)
from townships.holidays import official_days, statutory_days, statutory_holidays
from townships.models import CalendarDay

pytestmark = pytest.mark.django_db
d = datetime.date


def test_working_days_skip_the_2026_national_day_holiday_and_count_the_make_up_saturday():
    # 2026-09-30 (Wed) + 3 working days: Oct 1–7 are holidays, Sat Oct 10 is a make-up working day.
    assert add_working_days(d(2026, 9, 30), 1).date == d(2026, 10, 8)
    assert add_working_days(d(2026, 9, 30), 3).date == d(2026, 10, 10)
    assert not add_working_days(d(2026, 9, 30), 3).provisional


def test_the_make_up_sunday_before_national_day_counts_as_a_working_day():
    # Sun 2026-09-20 is a working day (调休).
    assert add_working_days(d(2026, 9, 18), 1).date == d(2026, 9, 20)


def test_working_days_across_the_2026_spring_festival():
    # Holidays Feb 15–23; Sat Feb 14 and Sat Feb 28 are working days.
    assert add_working_days(d(2026, 2, 13), 1).date == d(2026, 2, 14)
    assert add_working_days(d(2026, 2, 14), 1).date == d(2026, 2, 24)
    assert add_working_days(d(2026, 2, 26), 2).date == d(2026, 2, 28)


def test_a_calendar_period_does_not_count_its_first_day_and_rolls_past_a_holiday():
    # 30 days from 2026-09-04 end on 2026-10-04 (a holiday): the period ends on Oct 8.
    assert calendar_period_end(d(2026, 9, 4), 30).date == d(2026, 10, 8)
    # 30 days from 2026-06-01 end on Wednesday 2026-07-01, a working day.
    assert calendar_period_end(d(2026, 6, 1), 30).date == d(2026, 7, 1)


def test_a_period_ending_on_a_make_up_working_weekend_day_does_not_roll():
    # 2026-10-10 is a Saturday but a working day.
    assert calendar_period_end(d(2026, 9, 30), 10).date == d(2026, 10, 10)


def test_years_without_an_official_calendar_follow_the_statutory_holidays_and_are_provisional():
    result = add_working_days(d(2026, 12, 30), 3)
    # Thu Dec 31 (2026, confirmed), Fri Jan 1 2027 is 元旦, then Mon Jan 4 and Tue Jan 5.
    assert result.date == d(2027, 1, 5)
    assert result.provisional
    end = calendar_period_end(d(2027, 3, 1), 30)
    assert end.date == d(2027, 3, 31)
    assert end.provisional


def test_a_period_ending_on_the_2027_spring_festival_rolls_past_it():
    # 30 days from 2027-01-06 end on Fri Feb 5 (除夕); Feb 6–8 are the Spring Festival too.
    end = calendar_period_end(d(2027, 1, 6), 30)
    assert end.date == d(2027, 2, 9)
    assert end.provisional


def test_an_administrator_can_enter_next_years_holidays():
    CalendarDay.objects.create(date=d(2027, 1, 1), is_workday=False, kind="holiday", name="元旦", confirmed=True)
    result = add_working_days(d(2026, 12, 31), 1)
    assert result.date == d(2027, 1, 4)


def test_a_fixed_calendar_needs_no_database():
    cal = WorkCalendar({d(2030, 1, 7): Day(is_workday=False, confirmed=True)})
    assert add_working_days(d(2030, 1, 4), 1, calendar=cal).date == d(2030, 1, 8)


def test_working_days_before_and_between_are_inverse_to_adding():
    due = add_working_days(d(2026, 9, 30), 3).date
    assert working_days_before(due, 3) == d(2026, 9, 30)
    assert working_days_between(d(2026, 9, 30), due) == 3


# --- The statutory rule (years chinesecalendar does not cover) ---------------------------------------


def test_the_statutory_rule_gives_the_2027_holidays():
    assert statutory_holidays(2027) == {
        d(2027, 1, 1): "元旦",
        d(2027, 2, 5): "春节",  # 除夕, the 29th of a short 12th month
        d(2027, 2, 6): "春节",
        d(2027, 2, 7): "春节",
        d(2027, 2, 8): "春节",
        d(2027, 4, 5): "清明节",
        d(2027, 5, 1): "劳动节",
        d(2027, 5, 2): "劳动节",
        d(2027, 6, 9): "端午节",
        d(2027, 9, 15): "中秋节",
        d(2027, 10, 1): "国庆节",
        d(2027, 10, 2): "国庆节",
        d(2027, 10, 3): "国庆节",
    }


def test_new_years_eve_is_the_last_day_of_the_twelfth_month_whether_it_has_29_or_30_days():
    assert d(2024, 2, 9) in statutory_holidays(2024)  # 腊月三十
    assert d(2025, 1, 28) in statutory_holidays(2025)  # 腊月廿九: no 年三十 that year
    assert d(2026, 2, 16) in statutory_holidays(2026)  # 腊月廿九 again


def test_mid_autumn_falling_on_national_day_is_one_rest_day_with_both_names():
    holidays = statutory_holidays(2028)
    assert holidays[d(2028, 10, 3)] == "中秋节、国庆节"
    assert len(holidays) == 12


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_holiday_is_a_rest_day_of_the_same_name_in_the_published_calendars_under_the_2024_rule(year):
    published = {e.date: e for e in official_days(year)}
    for date, name in statutory_holidays(year).items():
        assert not chinese_calendar.is_workday(date), date
        assert published[date].name == name


def test_weekends_outside_the_holidays_are_rest_days_and_nothing_is_a_make_up_working_day_by_rule():
    days = {e.date: e for e in statutory_days(2027)}
    assert len(days) == 365
    assert (days[d(2027, 1, 2)].is_workday, days[d(2027, 1, 2)].kind) == (False, "weekend")
    assert (days[d(2027, 1, 4)].is_workday, days[d(2027, 1, 4)].kind) == (True, "workday")
    assert not any(e.kind == "makeup_workday" for e in days.values())


# --- Loading years, and the takeover by a published calendar ------------------------------------------


def rows(year: int) -> dict[datetime.date, CalendarDay]:
    return {row.date: row for row in CalendarDay.objects.filter(date__year=year)}


def test_loading_a_year_without_a_published_calendar_stores_the_statutory_holidays_unconfirmed():
    load = load_year(2027)
    assert (load.official, load.created, load.unconfirmed, load.provisional) == (False, 365, 365, True)
    stored = rows(2027)
    assert {r.source for r in stored.values()} == {CalendarDay.Source.STATUTORY_RULE}
    assert not any(r.confirmed for r in stored.values())
    new_year = stored[d(2027, 1, 1)]
    assert (new_year.is_workday, new_year.kind, new_year.name) == (False, "holiday", "元旦")
    assert [r.date for r in stored.values() if r.kind == "holiday" and r.name == "春节"] == [
        d(2027, 2, 5),
        d(2027, 2, 6),
        d(2027, 2, 7),
        d(2027, 2, 8),
    ]


def test_loading_a_year_again_changes_nothing():
    load_year(2027)
    again = load_year(2027)
    assert (again.created, again.replaced, again.kept) == (0, 0, 0)
    assert (load_year(2026).created, load_year(2026).replaced) == (0, 0)


def test_a_published_calendar_takes_over_a_year_computed_by_rule():
    load_year(2027)
    load = load_year(2027, official=published_2027())
    assert (load.official, load.created, load.unconfirmed, load.provisional) == (True, 0, 0, False)
    # Feb 9–12 were working days by rule, Jan 30 and Feb 21 weekend days: six rows changed their
    # verdict; every other row changed its source and was confirmed.
    assert load.replaced == 365
    stored = rows(2027)
    assert {r.source for r in stored.values()} == {CalendarDay.Source.CHINESECALENDAR}
    assert all(not stored[day].is_workday and stored[day].name == "春节" for day in SPRING_FESTIVAL_2027)
    assert all(stored[day].is_workday and stored[day].kind == "makeup_workday" for day in MAKEUP_2027)
    assert add_working_days(d(2027, 2, 4), 1) == calendar.DueDate(d(2027, 2, 15), provisional=False)


def test_years_loaded_monday_to_friday_before_the_rule_are_replaced_by_it():
    CalendarDay.objects.bulk_create(
        CalendarDay(
            date=e.date,
            is_workday=e.date.weekday() < 5,
            kind="workday" if e.date.weekday() < 5 else "weekend",
            source=CalendarDay.Source.WEEKDAY_RULE,
        )
        for e in statutory_days(2027)
    )
    load = load_year(2027)
    assert load.replaced == 365
    assert not rows(2027)[d(2027, 10, 1)].is_workday
    assert {r.source for r in rows(2027).values()} == {CalendarDay.Source.STATUTORY_RULE}


def test_a_calendar_that_leaves_out_days_is_refused():
    with pytest.raises(ValueError, match="every day"):
        load_year(2027, official=published_2027()[:-1])
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_load_reference_data_warns_in_chinese_that_next_year_is_provisional():
    out = StringIO()
    with time_machine.travel(datetime.datetime(2026, 12, 5, 10, tzinfo=datetime.UTC), tick=False):
        call_command("load_reference_data", stdout=out)
    text = out.getvalue()
    assert "2027 年：国务院的放假安排尚未收录" in text
    assert "全国年节及纪念日放假办法" in text and "暂定" in text and "365 天未确认" in text
    assert "2026 年" not in text
    assert rows(2027)[d(2027, 2, 5)].name == "春节"


def test_load_reference_data_takes_over_a_year_once_chinesecalendar_publishes_it(monkeypatch):
    with time_machine.travel(datetime.datetime(2026, 12, 5, 10, tzinfo=datetime.UTC), tick=False):
        call_command("load_reference_data", stdout=StringIO())
        # A newer chinesecalendar: the same function answers 2027 instead of raising.
        monkeypatch.setattr(
            calendar, "official_days", lambda year: published_2027() if year == 2027 else official_days(year)
        )
        out = StringIO()
        try:
            call_command("load_reference_data", stdout=out)
        finally:
            calendar._unloaded_year.cache_clear()  # nothing of the stand-in may outlive the test
    assert "2027 年：已按 chinesecalendar 公布的放假安排更新 365 天" in out.getvalue()
    assert "暂定" not in out.getvalue()
    assert all(r.confirmed for r in rows(2027).values())
