import datetime

import pytest

from townships.calendar import (
    Day,
    WorkCalendar,
    add_working_days,
    calendar_period_end,
    working_days_before,
    working_days_between,
)
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


def test_years_without_an_official_calendar_fall_back_to_monday_to_friday_and_are_provisional():
    result = add_working_days(d(2026, 12, 30), 3)
    # Thu Dec 31 (2026, confirmed), Fri Jan 1 2027, Mon Jan 4 2027 (weekday rule).
    assert result.date == d(2027, 1, 4)
    assert result.provisional
    end = calendar_period_end(d(2027, 3, 1), 30)
    assert end.date == d(2027, 3, 31)
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
