"""The preview of a roster import, person by person: who will be created, what changes for whom
(field: old → new), who leaves the roster; on the page, in the API report and in its schema."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import api, login
from tests.fixtures.rosters import builders as b
from townships.models import Mediator, RosterImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def post(user, data: bytes, **fields):
    return api(user).post("/api/roster-imports/", {"file": b.upload("花名册.xlsx", data), **fields}, format="multipart")


def second_row(people, **overrides) -> dict:
    """梁明 of 环市 (on the roster already), as a row of the file."""
    second = people.second
    values = {"姓名": second.name, "身份证号码": second.id_number, "手机号码": second.mobile, "性别": "男"}
    return b.person(2, **{"擅长领域": "", **values, **overrides})


def a_roster_that_changes_everything(people) -> bytes:
    """One new person, 梁明 with a new mobile and position, and (in replace mode) 黄丽华 left out."""
    return b.xlsx_bytes([b.person(1, 姓名="新来的"), second_row(people, 手机号码="13512345678", 职务="主任")])


def test_the_preview_page_says_nothing_is_imported_yet_and_lists_each_person(people):
    client = login(people.supervisor)
    response = client.post(
        reverse("townships:import"),
        {"file": b.upload("花名册.xlsx", a_roster_that_changes_everything(people)), "replace": "on"},
    )
    html = client.get(response["Location"]).content.decode()
    assert "预览（尚未导入）" in html
    assert "将新增（1）" in html and "新来的" in html
    assert "将更新（1）" in html
    assert f"手机号码：{people.second.mobile} → 13512345678" in html
    assert "职务：调解员 → 主任" in html
    assert "将标为不在册（1）" in html and people.lead.name in html
    assert not Mediator.objects.filter(name="新来的").exists()


def test_once_applied_the_preview_no_longer_says_it_is_not_imported_and_the_result_lists_what_was_done(people):
    client = login(people.supervisor)
    client.post(
        reverse("townships:import"),
        {"file": b.upload("花名册.xlsx", a_roster_that_changes_everything(people)), "replace": "on"},
    )
    preview = RosterImport.objects.get()
    result = client.post(reverse("townships:import_apply", args=[preview.pk]))
    html = client.get(result["Location"]).content.decode()
    assert "已新增（1）" in html and "已更新（1）" in html and "已标为不在册（1）" in html
    assert "职务：调解员 → 主任" in html
    again = client.get(reverse("townships:import_detail", args=[preview.pk])).content.decode()
    assert "尚未导入" not in again and "这份预览已确认导入" in again


def test_the_api_report_lists_each_person_with_each_change(people):
    body = post(people.supervisor, a_roster_that_changes_everything(people), dry_run="true", replace="true").json()
    created, updated, deactivated = (body["people"][k] for k in ("created", "updated", "deactivated"))
    assert [(p["row"], p["name"], p["committee"]) for p in created] == [(2, "新来的", "环市街道人民调解委员会")]
    assert created[0]["id_number"] == b.id_number(1)[:6] + "********" + b.id_number(1)[-4:]
    assert [(p["row"], p["name"]) for p in updated] == [(3, people.second.name)]
    assert updated[0]["changes"] == [
        {"field": "mobile", "label": "手机号码", "old": people.second.mobile, "new": "13512345678"},
        {"field": "position", "label": "职务", "old": "调解员", "new": "主任"},
    ]
    assert [(p["row"], p["name"]) for p in deactivated] == [(None, people.lead.name)]


def test_a_person_listed_again_shows_coming_back_on_the_roster(people):
    people.second.active = False
    people.second.save()
    body = post(people.supervisor, b.xlsx_bytes([second_row(people)])).json()
    (change,) = body["people"]["updated"][0]["changes"]
    assert change == {"field": "active", "label": "在册", "old": "不在册", "new": "在册"}


def test_long_lists_are_cut_and_the_page_says_how_many_more(people, settings):
    settings.ROSTER_IMPORT = {"max_listed_people": 2}
    client = login(people.supervisor)
    rows = [b.person(i) for i in range(1, 6)]
    response = client.post(reverse("townships:import"), {"file": b.upload("花名册.xlsx", b.xlsx_bytes(rows))})
    record = RosterImport.objects.get()
    assert (record.created, len(record.people["created"])) == (5, 2)
    html = client.get(response["Location"]).content.decode()
    assert "将新增（5）" in html and "另有 3 人未列出" in html


def test_a_file_with_mistakes_lists_nobody(people):
    body = post(people.supervisor, b.xlsx_bytes([b.person(1), b.person(2, 手机号码="1")])).json()
    assert body["people"] == {"created": [], "updated": [], "deactivated": []}


def test_the_api_schema_documents_the_lists_and_the_undo(people):
    schema = api(people.supervisor).get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    report = components["RosterImportReport"]["properties"]
    assert {"people", "undoable_until", "undone_at"} <= report.keys()
    people_schema = components[report["people"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert people_schema.keys() == {"created", "updated", "deactivated"}
    changed = components[people_schema["updated"]["items"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"row", "name", "id_number", "committee", "changes"} <= changed.keys()
    assert "/api/roster-imports/{id}/undo/" in schema["paths"]
    assert {"200", "409"} <= schema["paths"]["/api/roster-imports/{id}/undo/"]["post"]["responses"].keys()
