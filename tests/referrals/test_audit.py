"""The read audit: personal data seen, files downloaded, ledgers exported — logged, append-only."""

import pytest

from core.models import AccessLog
from referrals.models import TimelineEvent
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def test_opening_a_referral_with_full_personal_data_is_logged(people, story):
    referral = story.mediating()
    login(people.mediator).get(f"/referrals/{referral.pk}/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="WeChat")
    entry = AccessLog.objects.get()
    assert (entry.username, entry.action, entry.referral_number) == ("mediator", "view_personal_data", referral.number)
    assert entry.ip_address == "10.1.2.3" and entry.user_agent == "WeChat"
    assert entry.region_code == "440703006"


def test_masked_views_are_not_personal_data_access(people, story):
    referral = story.mediating()
    login(people.supervisor).get(f"/referrals/{referral.pk}/")
    api(people.city).get(f"/api/referrals/{referral.pk}/")
    assert not AccessLog.objects.exists()


def test_an_api_list_with_full_rows_is_logged_once_per_page(people, story):
    first, second = story.mediating(), story.submitted()
    api(people.officer).get("/api/referrals/")
    entry = AccessLog.objects.get()
    assert entry.action == "list_personal_data"
    assert set(entry.detail["referrals"]) == {first.pk, second.pk}
    assert entry.region_code == "440703006"


def test_supervisors_review_the_log_of_their_region_only(people, story):
    here = story.mediating()
    login(people.mediator).get(f"/referrals/{here.pk}/")
    there = story.submitted(target=people.taicheng)
    login(people.other_mediator).get(f"/referrals/{there.pk}/")
    county = login(people.supervisor).get("/referrals/audit/").content.decode()
    assert here.number in county and there.number not in county
    city = login(people.city).get("/referrals/audit/").content.decode()
    assert here.number in city and there.number in city
    assert login(people.mediator).get("/referrals/audit/").status_code == 403


def test_the_timeline_and_the_audit_log_cannot_be_rewritten(people, story):
    referral = story.mediating()
    login(people.mediator).get(f"/referrals/{referral.pk}/")
    entry = AccessLog.objects.get()
    event = TimelineEvent.objects.filter(referral=referral).first()
    for row in (entry, event):
        with pytest.raises(RuntimeError):
            row.save()
        with pytest.raises(RuntimeError):
            row.delete()
    for model in (AccessLog, TimelineEvent):
        with pytest.raises(RuntimeError):
            model.objects.all().delete()
        with pytest.raises(RuntimeError):
            model.objects.update(note="x") if model is TimelineEvent else model.objects.update(username="x")


def test_the_admin_offers_no_way_to_change_history(people, story):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", password="correct-horse-battery")
    story.mediating()
    client = login(admin)
    event = TimelineEvent.objects.first()
    assert client.get(f"/admin/referrals/timelineevent/{event.pk}/change/").status_code == 200  # view only
    assert client.post(f"/admin/referrals/timelineevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/referrals/timelineevent/add/").status_code == 403
