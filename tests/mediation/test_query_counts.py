"""The record lists and the referral page cost the same number of queries however many records a case has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import SupervisionOrder
from mediation.workflow import add_attachment, add_followup, record_session
from tests.conftest import api, login
from tests.factories import today
from tests.files import pdf_upload

pytestmark = pytest.mark.django_db


def add_records(people, referral, n: int) -> None:
    for i in range(n):
        record_session(
            referral,
            by=people.mediator,
            held_on=today(),
            location=f"调解室{i}",
            participants="双方",
            record="记录",
            mediators=[people.lead, people.second],
        )
        add_attachment(referral, by=people.mediator, kind="evidence", upload=pdf_upload())
        SupervisionOrder.objects.create(
            referral=referral, note="督办", respond_by=today(), issued_by=people.supervisor, addressed_to=people.huanshi
        )


def count(fetch) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fetch()
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["sessions/", "supervisions/", "attachments/", "dossier/"])
def test_a_record_list_costs_the_same_for_one_record_or_many(people, story, path):
    referral = story.mediating()
    client = api(people.officer)
    add_records(people, referral, 1)
    one = count(lambda: client.get(f"/api/referrals/{referral.pk}/{path}"))
    add_records(people, referral, 3)
    assert count(lambda: client.get(f"/api/referrals/{referral.pk}/{path}")) == one


def test_the_referral_page_costs_the_same_for_one_record_or_many(people, story):
    referral = story.mediating()
    client = login(people.mediator)
    add_records(people, referral, 1)
    one = count(lambda: client.get(f"/referrals/{referral.pk}/"))
    add_records(people, referral, 3)
    assert count(lambda: client.get(f"/referrals/{referral.pk}/")) == one


def test_the_followup_list_costs_the_same_for_one_visit_or_many(people, story):
    referral = story.closed()
    client = api(people.officer)

    def visit():
        add_followup(referral, by=people.mediator, visited_on=today(), method="phone", satisfaction="satisfied")

    visit()
    one = count(lambda: client.get(f"/api/referrals/{referral.pk}/followups/"))
    for _ in range(3):
        visit()
    assert count(lambda: client.get(f"/api/referrals/{referral.pk}/followups/")) == one
