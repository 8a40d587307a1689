"""``/api/notifications/`` (docs/api.md): each persona sees and marks only their own."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue_token
from notifications.models import Notification
from referrals.notices import Notice as ReferralNotice
from tests.conftest import api

pytestmark = pytest.mark.django_db
PERSONAS = ["officer", "reviewer", "mediator", "other_mediator", "supervisor", "city", "outsider"]


def give(user, n: int = 1, *, read: bool = False, referral_id: int | None = None) -> list[Notification]:
    rows = [
        Notification.objects.create(
            recipient=user,
            kind=ReferralNotice.REFERRAL_RECEIVED,
            title=f"通知 {user.username} {i}",
            referral_id=referral_id,
        )
        for i in range(n)
    ]
    if read:
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(read_at=rows[0].created_at)
    return rows


@pytest.fixture
def everyone_has_mail(people):
    """Two unread and one read notification for every persona."""
    return {name: give(user, 2) + give(user, 1, read=True) for name, user in people.all().items()}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_lists_their_own_notifications_only(people, everyone_has_mail, persona):
    user = getattr(people, persona)
    response = api(user).get("/api/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert {n["id"] for n in body["results"]} == {n.pk for n in everyone_has_mail[persona]}
    assert body["next"] is None
    assert body["unread"] == 2


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_may_mark_their_own_notification_read_but_nobody_elses(people, everyone_has_mail, persona):
    user = getattr(people, persona)
    mine = everyone_has_mail[persona][0]
    someone_else = "outsider" if persona != "outsider" else "officer"
    theirs = everyone_has_mail[someone_else][0]

    ok = api(user).post(f"/api/notifications/{mine.pk}/read/")
    assert ok.status_code == 200
    assert ok.json()["id"] == mine.pk
    assert ok.json()["read_at"] is not None

    refused = api(user).post(f"/api/notifications/{theirs.pk}/read/")
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert set(refused.json()) == {"detail", "code"}
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_all_marks_every_one_of_mine_and_nothing_of_anyone_else(people, everyone_has_mail, persona):
    user = getattr(people, persona)
    response = api(user).post("/api/notifications/read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 0}
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.exclude(recipient=user).filter(read_at__isnull=True).count() == 2 * (len(PERSONAS) - 1)


def test_the_unread_filter_leaves_out_what_was_read(people):
    unread = give(people.mediator, 2)
    give(people.mediator, 3, read=True)
    for flag in ("true", "1", "True"):
        body = api(people.mediator).get(f"/api/notifications/?unread={flag}").json()
        assert [n["id"] for n in body["results"]] == [n.pk for n in reversed(unread)]
    assert len(api(people.mediator).get("/api/notifications/?unread=false").json()["results"]) == 5


def test_a_nonsense_unread_filter_is_a_400_naming_the_field(people):
    response = api(people.mediator).get("/api/notifications/?unread=maybe")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "unread" in response.json()["errors"]


def test_the_list_is_paginated_newest_first(people):
    rows = give(people.officer, 30)
    first = api(people.officer).get("/api/notifications/").json()
    assert [n["id"] for n in first["results"]] == [r.pk for r in reversed(rows)][:25]
    assert first["next"]
    second = api(people.officer).get(first["next"]).json()
    assert [n["id"] for n in second["results"]] == [r.pk for r in reversed(rows)][25:]
    assert second["next"] is None


def test_a_notification_is_described_in_full(people):
    row = give(people.officer, referral_id=42)[0]
    row.body, row.url = "正文", "/referrals/42/"
    row.save()
    [item] = api(people.officer).get("/api/notifications/").json()["results"]
    assert item == {
        "id": row.pk,
        "kind": "referral_received",
        "kind_label": "收到移交案件",
        "title": row.title,
        "body": "正文",
        "url": "/referrals/42/",
        "referral": 42,
        "created_at": item["created_at"],
        "read_at": None,
    }


def test_marking_a_read_notification_again_changes_nothing(people):
    row = give(people.officer, read=True)[0]
    before = Notification.objects.get(pk=row.pk).read_at
    assert api(people.officer).post(f"/api/notifications/{row.pk}/read/").status_code == 200
    assert Notification.objects.get(pk=row.pk).read_at == before


def test_a_notification_that_does_not_exist_is_a_404(people):
    assert api(people.officer).post("/api/notifications/999999/read/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/notifications/"), ("post", "/api/notifications/1/read/"), ("post", "/api/notifications/read-all/")],
)
def test_anonymous_callers_get_401(db, method, path):
    response = getattr(APIClient(), method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_api_token_is_enough(people):
    give(people.mediator, 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + issue_token(people.mediator)[1])
    assert client.get("/api/notifications/?unread=true").json()["unread"] == 1


def test_a_session_client_needs_the_csrf_token_to_mark_read(people):
    from django.test import Client

    row = give(people.officer)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.officer)
    response = client.post(f"/api/notifications/{row.pk}/read/")
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.read_at is None


def test_the_list_costs_the_same_queries_whatever_the_page_size(people, django_assert_num_queries):
    give(people.officer, 30)
    client = api(people.officer)
    # 1 the page of notifications; 1 the unread count.
    with django_assert_num_queries(2):
        client.get("/api/notifications/?page_size=5")
    with django_assert_num_queries(2):
        client.get("/api/notifications/?page_size=30")
