"""GET /api/calendar/?year= — the working-day calendar as deadlines count it (docs/api.md.1)."""

from __future__ import annotations

import datetime

import chinese_calendar
import pytest

from tests.conftest import api
from townships.calendar import load_year

pytestmark = pytest.mark.django_db
d = datetime.date

REST_DAYS_2027 = {
    d(2027, 1, 1): "元旦",
    d(2027, 2, 5): "春节",
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


def calendar_of(user, year) -> dict:
    response = api(user).get("/api/calendar/", {"year": year})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("loaded", [False, True], ids=["not loaded", "loaded by load_reference_data"])
def test_2027_marks_the_statutory_holidays_as_rest_days_and_the_year_provisional(people, loaded):
    if loaded:
        load_year(2027)
    body = calendar_of(people.mediator, 2027)
    assert (body["year"], body["confirmed"]) == (2027, False)
    assert len(body["days"]) == 365
    assert body["days"][0] == {
        "date": "2027-01-01",
        "working": False,
        "kind": "holiday",
        "name": "元旦",
        "confirmed": False,
    }
    days = {d.fromisoformat(day["date"]): day for day in body["days"]}
    for date, name in REST_DAYS_2027.items():
        assert (days[date]["working"], days[date]["kind"], days[date]["name"]) == (False, "holiday", name), date
    assert days[d(2027, 1, 2)]["kind"] == "weekend"
    assert days[d(2027, 1, 4)] == {
        "date": "2027-01-04",
        "working": True,
        "kind": "workday",
        "name": "",
        "confirmed": False,
    }
    assert not any(day["confirmed"] for day in body["days"])


def test_2026_matches_chinesecalendar_on_every_day_make_up_working_days_included(people):
    body = calendar_of(people.officer, 2026)
    assert body["confirmed"] is True
    assert len(body["days"]) == 365
    makeup = []
    for day in body["days"]:
        date = d.fromisoformat(day["date"])
        _on_holiday, holiday = chinese_calendar.get_holiday_detail(date)
        assert day["working"] == chinese_calendar.is_workday(date), date
        assert day["confirmed"], date
        if day["working"]:
            assert day["kind"] == ("makeup_workday" if date.weekday() >= 5 else "workday"), date
        else:
            assert day["kind"] == ("holiday" if holiday else "weekend"), date
        assert bool(day["name"]) == bool(holiday and (not day["working"] or date.weekday() >= 5)), date
        if day["kind"] == "makeup_workday":
            makeup.append(date)
    # 2026's make-up working days: Sun Jan 4, Sat Feb 14, Sat Feb 28, Sat May 9, Sun Sep 20, Sat Oct 10.
    assert makeup == [d(2026, 1, 4), d(2026, 2, 14), d(2026, 2, 28), d(2026, 5, 9), d(2026, 9, 20), d(2026, 10, 10)]


def test_a_leap_year_has_366_days(people):
    assert len(calendar_of(people.city, 2028)["days"]) == 366


def test_anonymous_callers_get_401(people):
    response = api().get("/api/calendar/", {"year": 2027})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("year", ["1999", "2101", "abc", "2027x", ""])
def test_a_year_that_is_not_a_number_in_2000_to_2100_is_refused_with_the_error_body(people, year):
    response = api(people.outsider).get("/api/calendar/", {"year": year})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body) == {"detail", "code", "errors"}
    assert list(body["errors"]) == ["year"]


def test_a_missing_year_is_refused(people):
    response = api(people.outsider).get("/api/calendar/")
    assert response.status_code == 400
    assert "year" in response.json()["errors"]
