"""Linked referrals (``referrals/links.py``): two referrals about the same dispute or related ones,
each shown on the other to whoever may see both, never naming one to someone who may not open it."""

from __future__ import annotations

import pytest

from referrals.models import ReferralLink, TimelineEvent
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def link(user, a, b, kind="same_dispute"):
    return api(user).post(f"/api/referrals/{a.pk}/links/", {"other": b.pk, "kind": kind}, format="json")


def links_of(user, referral) -> list[dict]:
    response = api(user).get(f"/api/referrals/{referral.pk}/")
    assert response.status_code == 200
    return response.json()["links"]


def test_two_referrals_are_linked_and_each_shows_the_other(people, story):
    a, b = story.mediating(), story.submitted()
    response = link(people.officer, a, b)
    assert response.status_code == 201, response.json()
    assert [(x["id"], x["kind"], x["kind_label"]) for x in response.json()] == [(b.pk, "same_dispute", "同一纠纷")]
    assert [x["number"] for x in links_of(people.officer, b)] == [a.number]
    assert [x["id"] for x in links_of(people.mediator, a)] == [b.pk]  # the committee sees both
    [event] = TimelineEvent.objects.filter(referral=a, action="link_referral")
    assert event.get_action_label() == "关联案件" and event.note == "关联了一件同一纠纷案件"
    # The timeline names neither number nor id of the other end (its readers may not see it).
    assert b.number not in str(event.data) and "other" not in event.data
    # Lists do not pay for it.
    rows = api(people.officer).get("/api/referrals/").json()["results"]
    assert all(r["links"] is None for r in rows)


def test_a_link_never_names_a_referral_the_viewer_may_not_open(people, story):
    shared, draft = story.mediating(), story.draft()  # the draft is the office's own
    assert link(people.officer, shared, draft, "related").status_code == 201
    assert [x["id"] for x in links_of(people.officer, shared)] == [draft.pk]
    for persona in ("mediator", "supervisor", "city"):
        assert links_of(getattr(people, persona), shared) == [], persona
        page = login(getattr(people, persona)).get(f"/referrals/{shared.pk}/").content.decode()
        assert draft.number not in page, persona


def test_who_may_link_and_what_is_refused(people, story):
    a, b, draft = story.mediating(), story.submitted(), story.draft()
    assert link(people.supervisor, a, b).status_code == 403  # sees both, no part in either
    assert link(people.outsider, a, b).status_code == 404
    assert link(people.mediator, a, draft).status_code == 404  # the other end is not theirs to see
    assert link(people.other_mediator, a, b).status_code == 404
    assert api(None).post(f"/api/referrals/{a.pk}/links/", {"other": b.pk, "kind": "related"}).status_code == 401
    itself = link(people.officer, a, a)
    assert itself.status_code == 400 and "自身" in itself.json()["errors"]["other"][0]
    assert link(people.officer, a, b, "cousins").status_code == 400
    assert not ReferralLink.objects.exists() and not TimelineEvent.objects.filter(action="link_referral").exists()
    assert link(people.mediator, a, b).status_code == 201  # the handling committee may
    again = link(people.officer, b, a, "related")
    assert again.status_code == 400 and "已与" in again.json()["errors"]["other"][0]
    assert ReferralLink.objects.count() == 1


def test_a_link_is_undone(people, story):
    a, b = story.mediating(), story.submitted()
    assert link(people.officer, a, b).status_code == 201
    assert api(people.supervisor).delete(f"/api/referrals/{a.pk}/links/{b.pk}/").status_code == 403
    assert api(people.reviewer).delete(f"/api/referrals/{b.pk}/links/{a.pk}/").status_code == 204
    assert links_of(people.officer, a) == []
    undone = ReferralLink.objects.get()  # kept, as the record of what was linked
    assert undone.removed_by == people.reviewer and undone.removed_at is not None
    again = api(people.reviewer).delete(f"/api/referrals/{b.pk}/links/{a.pk}/")
    assert again.status_code == 400 and "未与" in again.json()["errors"]["other"][0]
    assert TimelineEvent.objects.filter(referral=b, action="unlink_referral").count() == 1
    # Linked again later: a new link beside the undone one.
    assert link(people.officer, a, b, "related").status_code == 201
    assert ReferralLink.objects.filter(removed_at__isnull=True).count() == 1


def test_the_page_links_by_number_and_unlinks(people, story):
    a, b = story.mediating(), story.submitted()
    url = f"/referrals/{a.pk}/"
    page = login(people.officer).get(url).content.decode()
    assert "data-links-panel" in page and 'data-record="link_referral"' in page
    assert "data-links-panel" not in login(people.supervisor).get(url).content.decode()  # nothing to show
    refused = login(people.officer).post(
        f"/referrals/{a.pk}/actions/link_referral/", {"other": "JM-1999-000001", "kind": "related"}
    )
    assert refused.status_code == 400 and "未找到您有权查看的案件" in refused.content.decode()
    done = login(people.officer).post(
        f"/referrals/{a.pk}/actions/link_referral/", {"other": b.number.lower(), "kind": "related"}
    )
    assert done.status_code == 302
    page = login(people.mediator).get(url).content.decode()
    assert f'data-link="{b.pk}"' in page and "相关纠纷" in page
    undone = login(people.officer).post(f"/referrals/{a.pk}/actions/unlink_referral/", {"other": b.pk})
    assert undone.status_code == 302 and not ReferralLink.objects.filter(removed_at__isnull=True).exists()
