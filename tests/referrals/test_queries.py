"""List and detail pages cost a fixed number of queries, whatever the number of rows."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import permissions
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def fresh(user):
    """A new user object per request, as the server has: grants are cached on the object."""
    return get_user_model().objects.get(pk=user.pk)


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["officer", "mediator", "supervisor", "city"])
def test_the_api_list_costs_the_same_for_3_or_12_referrals(people, story, persona):
    user = getattr(people, persona)
    for _ in range(3):
        story.mediating()
    client = api(fresh(user))
    small = count_queries(lambda: client.get("/api/referrals/"))
    for _ in range(9):
        story.closed()
    client = api(fresh(user))
    large = count_queries(lambda: client.get("/api/referrals/"))
    assert small == large
    # session/auth (force_authenticate: none), grants (2), the count (1), page of referrals (1) and
    # its prefetches: parties, mediators, agreements, terminations, 复查复核 requests (5; the last so that
    # a closed row can say whether 重新调解 is held back without a query of its own); for an office's or
    # a committee's people, the referrals they see beyond their own and whether anything is referred
    # to them (2, ``permissions.reader_view``: the list then reads their organisation's index).
    assert large <= (12 if permissions.reader_view(user) is not None else 10)


def test_the_page_list_costs_the_same_for_3_or_12_referrals(people, story):
    for _ in range(3):
        story.submitted()
    small = count_queries(lambda: login(people.officer).get("/referrals/"))
    for _ in range(9):
        story.mediating()
    large = count_queries(lambda: login(people.officer).get("/referrals/"))
    assert small == large


def test_the_detail_does_not_grow_with_parties_or_history(people, story):
    few = story.mediating()
    many = story.closed()
    first, second = api(fresh(people.officer)), api(fresh(people.officer))
    assert count_queries(lambda: first.get(f"/api/referrals/{few.pk}/")) == count_queries(
        lambda: second.get(f"/api/referrals/{many.pk}/")
    )
