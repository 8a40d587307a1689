"""Undoing an applied roster import within 24 hours: on the page (with a confirmation) and through
``POST /api/roster-imports/{id}/undo/``."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Story, api, login
from tests.fixtures.rosters import builders as b
from townships.models import Mediator, RosterImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def post(user, data: bytes, **fields):
    return api(user).post("/api/roster-imports/", {"file": b.upload("花名册.xlsx", data), **fields}, format="multipart")


def apply(user, rows: list, **fields) -> RosterImport:
    response = post(user, b.xlsx_bytes(rows), dry_run="false", **fields)
    assert response.status_code == 201, response.json()
    return RosterImport.objects.get(pk=response.json()["id"])


def undo(user, record: RosterImport):
    return api(user).post(f"/api/roster-imports/{record.pk}/undo/")


def second_row(people, **overrides) -> dict:
    second = people.second
    values = {"姓名": second.name, "身份证号码": second.id_number, "手机号码": second.mobile, "性别": "男"}
    return b.person(2, **{"擅长领域": "", **values, **overrides})


def roster_state() -> set[tuple]:
    return set(Mediator.objects.values_list("pk", "name", "mobile", "position", "active", "updated_at"))


def test_undo_puts_every_entry_back_as_it_was_before_the_import(people):
    before = roster_state()
    record = apply(
        people.supervisor,
        [b.person(1, 姓名="新来的"), second_row(people, 手机号码="13512345678", 职务="主任")],
        replace="true",
    )
    assert (record.created, record.updated, record.deactivated) == (1, 1, 1)
    assert roster_state() != before
    response = undo(people.supervisor, record)
    assert response.status_code == 200, response.json()
    assert response.json()["undone_at"] and response.json()["undoable_until"] is None
    # The new person is gone; 梁明 has his mobile, position and time stamp back; 黄丽华 is on the roster again.
    assert roster_state() == before


def test_the_page_offers_undo_with_a_confirmation_and_says_when_it_was_undone(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    client = login(people.supervisor)
    url = reverse("townships:import_detail", args=[record.pk])
    html = client.get(url).content.decode()
    undo_url = reverse("townships:import_undo", args=[record.pk])
    assert f'action="{undo_url}"' in html and "确定撤销这次导入吗" in html
    response = client.post(undo_url)
    assert response["Location"] == url
    html = client.get(url).content.decode()
    assert "已撤销导入" in html and "已撤销" in html and f'action="{undo_url}"' not in html
    assert not Mediator.objects.filter(name="新来的").exists()


def test_an_import_cannot_be_undone_after_24_hours(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    with time_machine.travel(record.finished_at + datetime.timedelta(hours=24, minutes=1)):
        response = undo(people.supervisor, record)
        assert response.status_code == 409
        assert "超过24小时" in response.json()["detail"]
        client = login(people.supervisor)
        page = client.get(reverse("townships:import_detail", args=[record.pk])).content.decode()
        assert reverse("townships:import_undo", args=[record.pk]) not in page
        message = client.post(reverse("townships:import_undo", args=[record.pk]), follow=True).content.decode()
        assert "超过24小时" in message
    assert Mediator.objects.filter(name="新来的").exists()


def test_an_import_is_undone_once(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    assert undo(people.supervisor, record).status_code == 200
    again = undo(people.supervisor, record)
    assert again.status_code == 409 and "已经撤销" in again.json()["detail"]


def test_a_later_import_of_the_same_people_must_be_undone_first(people):
    first = apply(people.supervisor, [second_row(people, 手机号码="13500000001")])
    second = apply(people.supervisor, [second_row(people, 手机号码="13500000002")])
    response = undo(people.supervisor, first)
    assert response.status_code == 409
    assert "之后的导入“花名册.xlsx”" in response.json()["detail"] and "请先撤销那次导入" in response.json()["detail"]
    assert Mediator.objects.get(pk=people.second.pk).mobile == "13500000002"
    assert undo(people.supervisor, second).status_code == 200
    assert undo(people.supervisor, first).status_code == 200
    assert Mediator.objects.get(pk=people.second.pk).mobile == people.second.mobile


def test_a_later_import_that_creates_nobody_of_ours_does_not_block_undo(people):
    first = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    apply(people.supervisor, [b.person(3, 姓名="另一位")])
    assert undo(people.supervisor, first).status_code == 200
    assert Mediator.objects.filter(name="另一位").exists()


def test_an_entry_changed_by_hand_since_blocks_undo(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    entry = Mediator.objects.get(name="新来的")
    entry.note = "已核实"
    entry.save()
    response = undo(people.supervisor, record)
    assert response.status_code == 409 and "新来的" in response.json()["detail"]
    assert Mediator.objects.filter(name="新来的").exists()


def test_an_entry_deleted_since_blocks_undo(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的"), b.person(3, 姓名="又一位")])
    Mediator.objects.filter(name="又一位").delete()
    response = undo(people.supervisor, record)
    assert response.status_code == 409 and "已被删除" in response.json()["detail"]
    assert Mediator.objects.filter(name="新来的").exists()


def test_a_created_entry_a_referral_names_is_taken_off_the_roster_instead_of_deleted(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的"), b.person(3, 姓名="无案件")])
    named = Mediator.objects.get(name="新来的")
    referral = Story(people).mediating()
    # Taken on as a second mediator after the import (the link alone changes nothing in the entry).
    referral.mediators.add(named)
    response = undo(people.supervisor, record)
    assert response.status_code == 200, response.json()
    named.refresh_from_db()
    assert not named.active
    assert "新来的" in set(referral.mediators.values_list("name", flat=True))
    assert not Mediator.objects.filter(name="无案件").exists()


def test_a_keeper_of_the_same_region_may_undo_a_colleagues_import(people):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    assert api(people.city).get(f"/api/roster-imports/{record.pk}/").status_code == 200
    assert undo(people.city, record).status_code == 200
    assert RosterImport.objects.get(pk=record.pk).undone_by == people.city


@pytest.mark.parametrize("persona", ["mediator", "officer", "other_mediator", "outsider"])
def test_people_who_keep_no_roster_cannot_undo(people, persona):
    record = apply(people.supervisor, [b.person(1, 姓名="新来的")])
    user = people.all()[persona]
    assert undo(user, record).status_code == 404
    assert login(user).post(reverse("townships:import_undo", args=[record.pk])).status_code == 403
    assert Mediator.objects.filter(name="新来的").exists()


def test_a_preview_is_not_something_to_undo(people):
    preview = post(people.supervisor, b.xlsx_bytes([b.person(1)])).json()
    response = api(people.supervisor).post(f"/api/roster-imports/{preview['id']}/undo/")
    assert response.status_code == 409 and "已写入花名册" in response.json()["detail"]


def test_the_report_says_until_when_an_import_may_be_undone(people):
    record = apply(people.supervisor, [b.person(1)])
    body = api(people.supervisor).get(f"/api/roster-imports/{record.pk}/").json()
    until = datetime.datetime.fromisoformat(body["undoable_until"])
    assert until == record.finished_at + datetime.timedelta(hours=24)
    assert until > timezone.now()
