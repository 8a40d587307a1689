"""``lib.sql.sums_by_each``: the same answer on PostgreSQL (one GROUPING SETS query) as elsewhere
(one query per grouping), for rows and for a condition nothing can meet."""

import pytest

from lib.sql import sums_by_each
from referrals.models import StatsCell

pytestmark = pytest.mark.django_db


def test_sums_of_a_condition_nothing_can_meet_are_empty_not_an_error():
    # ``origin_id__in=[]`` is what a person with no organisation's cells asks for.
    found = sums_by_each(StatsCell.objects.filter(origin_id__in=[]), ("area", "category"), ("total", "open"))
    assert found == {None: [{"total": None, "open": None}], "area": [], "category": []}
    assert sums_by_each(StatsCell.objects.filter(origin_id__in=[]), ("area",), ("total",), overall=False) == {
        "area": []
    }


def test_sums_by_each_dimension_and_over_all():
    import datetime

    month = datetime.date(2026, 1, 1)
    for area, category, total in (("440703001", "family", 2), ("440703001", "labour", 3), ("440704001", "family", 5)):
        StatsCell.objects.create(area=area, category=category, month=month, origin_id=1, draft=False, total=total)
    found = sums_by_each(StatsCell.objects.all(), ("area", "category"), ("total",))
    assert found[None] == [{"total": 10}]
    assert sorted((r["area"], r["total"]) for r in found["area"]) == [("440703001", 5), ("440704001", 5)]
    assert sorted((r["category"], r["total"]) for r in found["category"]) == [("family", 7), ("labour", 3)]
