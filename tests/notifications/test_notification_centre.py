"""The notification centre page (/notifications/), the header bell, and the email opt-in."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from notifications.models import EmailPreference, Notification
from notifications.service import notify
from referrals.notices import Notice as ReferralNotice
from tests.conftest import login

pytestmark = pytest.mark.django_db


def give(user, title: str, *, read: bool = False, url: str = "/referrals/1/") -> Notification:
    n = Notification.objects.create(
        recipient=user, kind=ReferralNotice.REFERRAL_ACCEPTED, title=title, body="说明", url=url
    )
    if read:
        n.read_at = n.created_at
        n.save(update_fields=["read_at"])
    return n


def test_the_bell_on_every_page_leads_to_the_centre(people):
    page = login(people.officer).get("/referrals/")
    assert 'href="/notifications/"' in page.content.decode()
    assert 'id="notification-count"' in page.content.decode()


def test_the_centre_lists_my_notifications_and_nobody_elses(people):
    give(people.officer, "案件已受理甲")
    give(people.officer, "案件已办结乙", read=True)
    give(people.mediator, "别人的通知")
    page = login(people.officer).get("/notifications/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "案件已受理甲" in html
    assert "案件已办结乙" in html
    assert "别人的通知" not in html
    assert "未读（1）" in html
    assert 'src="/static/js/live.js"' in html


def test_the_unread_filter_shows_only_unread_ones(people):
    give(people.officer, "还没看的")
    give(people.officer, "看过的", read=True)
    html = login(people.officer).get("/notifications/?unread=1").content.decode()
    assert "还没看的" in html
    assert "看过的" not in html


def test_marking_one_read_returns_to_the_list_and_updates_the_count(people):
    n = give(people.officer, "待读")
    client = login(people.officer)
    response = client.post(f"/notifications/{n.pk}/read/", {"next": "/notifications/?unread=1"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/?unread=1"
    n.refresh_from_db()
    assert n.read_at is not None
    assert "未读（0）" in client.get("/notifications/").content.decode()


def test_a_next_address_of_another_site_is_ignored(people):
    n = give(people.officer, "待读")
    response = login(people.officer).post(f"/notifications/{n.pk}/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"


def test_marking_all_read_leaves_other_peoples_unread(people):
    give(people.officer, "一")
    give(people.officer, "二")
    theirs = give(people.mediator, "别人的")
    response = login(people.officer).post("/notifications/read-all/", follow=True)
    assert "已将2条通知标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=people.officer, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_someone_elses_notification_is_not_found(people):
    theirs = give(people.mediator, "别人的")
    client = login(people.officer)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(people):
    n = give(people.officer, "待读")
    assert login(people.officer).get(f"/notifications/{n.pk}/read/").status_code == 405


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(people):
    n = give(people.officer, "去看看", url="/referrals/7/")
    response = login(people.officer).get(f"/notifications/{n.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/referrals/7/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_notification_never_sends_anyone_off_site(people):
    n = give(people.officer, "外链", url="https://evil.example/phish")
    response = login(people.officer).get(f"/notifications/{n.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_the_centre_needs_a_login(db):
    response = Client().get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_live_fragment_is_the_list_alone(people):
    give(people.officer, "片段里的")
    html = login(people.officer).get("/notifications/?fragment=1").content.decode()
    assert "片段里的" in html
    assert "<html" not in html


def test_older_notifications_are_on_the_next_page(people):
    rows = [give(people.officer, f"第{i:02d}条") for i in range(30)]
    client = login(people.officer)
    first = client.get("/notifications/")
    assert "第29条" in first.content.decode()
    assert "第04条" not in first.content.decode()
    older = client.get(f"/notifications/?before={rows[5].pk}").content.decode()
    assert "第04条" in older
    assert "第05条" not in older


def test_the_centre_costs_the_same_queries_for_one_or_many_notifications(people, django_assert_max_num_queries):
    client = login(people.officer)
    give(people.officer, "一")
    client.get("/notifications/")  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get("/notifications/")
    for i in range(20):
        give(people.officer, f"更多{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/notifications/")


# --- Email opt-in ----------------------------------------------------------------------------


def test_opting_in_sends_later_notifications_by_email_too(people, django_capture_on_commit_callbacks):
    people.officer.email = "officer@example.org"
    people.officer.save()
    client = login(people.officer)
    response = client.post("/notifications/email/", {"enabled": "on"}, follow=True)
    assert "已开启邮件提醒" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [people.officer, people.reviewer],
            kind=ReferralNotice.REFERRAL_ACCEPTED,
            title="案件已受理",
            url="/referrals/1/",
        )
    assert [m.to for m in mail.outbox] == [["officer@example.org"]]
    assert mail.outbox[0].subject == "案件已受理"


def test_opting_out_stops_the_emails(people, django_capture_on_commit_callbacks):
    people.officer.email = "officer@example.org"
    people.officer.save()
    EmailPreference.objects.create(user=people.officer, enabled=True)
    login(people.officer).post("/notifications/email/", {})
    with django_capture_on_commit_callbacks(execute=True):
        notify([people.officer], kind=ReferralNotice.REFERRAL_ACCEPTED, title="案件已受理")
    assert mail.outbox == []
    assert "checked" not in login(people.officer).get("/notifications/").content.decode().split('id="email"')[1]


def test_opting_in_without_an_email_address_says_so(people):
    response = login(people.officer).post("/notifications/email/", {"enabled": "on"}, follow=True)
    assert "没有登记邮箱地址" in response.content.decode()


def test_a_page_can_render_the_unread_count_before_any_socket_connects(people, settings, rf):
    # For the header badge (wired in settings.TEMPLATES and base.html by whoever owns them).
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                    "notifications.context_processors.unread_notifications",
                ],
            },
        }
    ]
    from django.template import engines

    give(people.officer, "一")
    give(people.officer, "二")
    give(people.officer, "三", read=True)
    request = rf.get("/")
    request.user = people.officer
    badge = engines["django"].from_string(
        '<span data-count="{{ unread_notifications }}">{{ unread_notifications }}</span>'
    )
    assert badge.render(request=request) == '<span data-count="2">2</span>'
