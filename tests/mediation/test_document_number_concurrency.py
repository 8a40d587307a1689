"""The agreement's document number under concurrency (mediation/documents.py ``next_number``).

Runs on PostgreSQL, where the counter row's lock is real (SQLite runs one write transaction at a
time). In a module of its own: its committed personas must not meet the module-scoped ones of the
other tests (tests/conftest.py ``_module_people``).
"""

from __future__ import annotations

import datetime

import pytest

from mediation.models import Agreement, DocumentCounter
from tests.conftest import Story, make_personas
from tests.referrals.test_concurrency import post, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_agreements_concluded_at_the_same_moment_never_share_a_number():
    """Six referrals of one committee concluded at the same moment, each request in its own
    connection and transaction: six different numbers, 1 to 6, and the counter at 6. Runs on
    PostgreSQL, where the counter row's lock is real (SQLite runs one write transaction at a time)."""
    people = make_personas()
    story = Story(people)
    referrals = [story.with_session() for _ in range(6)]
    today = datetime.date.today()
    body = {
        "agreement": {
            "form": "written",
            "terms": "被申请人赔偿500元。",
            "performance_method": "现金",
            "performance_due": (today + datetime.timedelta(days=5)).isoformat(),
            "signed_on": today.isoformat(),
        }
    }
    codes = race([post(people.mediator, f"/api/referrals/{r.pk}/actions/succeed/", body) for r in referrals])
    assert codes == [200] * 6
    numbers = sorted(Agreement.objects.filter(referral__in=referrals).values_list("number_seq", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert DocumentCounter.objects.get(committee=people.huanshi, year=today.year).last == 6
