"""The administrator's path through the working-day calendar: edit a day, confirm days, and keep both
when the loader later brings a published calendar."""

from __future__ import annotations

import datetime

import pytest

from tests.townships.calendars import published_2027
from townships.calendar import add_working_days, load_year
from townships.models import CalendarDay

pytestmark = pytest.mark.django_db
d = datetime.date
CHANGELIST = "/admin/townships/calendarday/"


def edit_day(client, day: datetime.date, **fields) -> None:
    response = client.post(f"{CHANGELIST}{day.isoformat()}/change/", {"date": day.isoformat(), **fields})
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_day_edited_in_the_admin_becomes_the_administrators(admin_client):
    load_year(2027)
    # The State Council's notice, entered by hand: Monday 3 May is a rest day (labour day bridged).
    edit_day(admin_client, d(2027, 5, 3), kind="holiday", name="劳动节", confirmed="on")
    day = CalendarDay.objects.get(date=d(2027, 5, 3))
    assert (day.is_workday, day.kind, day.name, day.source, day.confirmed) == (
        False,
        "holiday",
        "劳动节",
        "admin",
        True,
    )
    assert add_working_days(d(2027, 4, 30), 1).date == d(2027, 5, 4)


def test_the_administrators_edits_survive_the_takeover_by_a_published_calendar(admin_client):
    load_year(2027)
    edit_day(admin_client, d(2027, 5, 3), kind="holiday", name="劳动节", confirmed="on")
    load = load_year(2027, official=published_2027())
    # The published calendar (as made up for the test) keeps Monday 3 May a working day; the
    # administrator's entry stands, and the loader says so.
    assert (load.replaced, load.kept) == (364, 1)
    kept = CalendarDay.objects.get(date=d(2027, 5, 3))
    assert (kept.is_workday, kept.source) == (False, "admin")
    assert CalendarDay.objects.filter(date__year=2027, source="chinesecalendar").count() == 364


def test_confirming_days_in_the_admin_makes_them_the_administrators_and_a_later_load_keeps_them(admin_client):
    load_year(2027)
    chosen = [d(2027, 1, 1), d(2027, 1, 4)]
    response = admin_client.post(
        CHANGELIST, {"action": "confirm_days", "_selected_action": [day.isoformat() for day in chosen]}
    )
    assert response.status_code == 302
    confirmed = CalendarDay.objects.filter(confirmed=True, date__year=2027)
    assert sorted(confirmed.values_list("date", "source")) == [(day, "admin") for day in chosen]
    load = load_year(2027)
    assert (load.replaced, load.unconfirmed) == (0, 363)
