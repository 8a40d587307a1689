"""``GET /api/exports/roster.xlsx``: the rosters a person may read, masked for all but their keepers."""

from __future__ import annotations

import datetime
import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone

from tests.conftest import api
from tests.factories import make_mediator

pytestmark = pytest.mark.django_db


def export(user, **params):
    response = api(user).get("/api/exports/roster.xlsx", params)
    assert response.status_code == 200, response.content[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return response, sheet


def rows(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_keeper_exports_the_region_with_full_data_in_the_import_templates_columns(people):
    response, sheet = export(people.supervisor, organisation=people.huanshi.pk)
    header = [c.value for c in sheet[1]]
    assert header[:11] == [
        "县(市、区)",
        "镇(街)",
        "调委会名称",
        "姓名",
        "性别",
        "身份证号码",
        "手机号码",
        "职务",
        "专兼职",
        "擅长领域",
        "备注",
    ]
    by_name = {r[3]: r for r in rows(sheet)}
    assert set(by_name) == {people.lead.name, people.second.name}
    lead = by_name[people.lead.name]
    assert lead[:9] == [
        "蓬江区",
        "环市街道",
        "环市街道人民调解委员会",
        "黄丽华",
        "女",
        people.lead.id_number,
        people.lead.mobile,
        "调解员",
        "兼职",
    ]
    assert lead[11] == "在册"
    assert isinstance(lead[12], datetime.datetime)  # a real date-time, not text
    assert sheet.freeze_panes == "A2"
    disposition = unquote(response["Content-Disposition"])
    assert f"人民调解员花名册_环市街道人民调解委员会_{timezone.localdate().isoformat()}.xlsx" in disposition


def test_a_committee_member_gets_their_roster_with_id_numbers_masked(people):
    _response, sheet = export(people.mediator)
    exported = rows(sheet)
    assert {r[3] for r in exported} == {people.lead.name, people.second.name}
    second = next(r for r in exported if r[3] == people.second.name)
    assert second[5] == people.second.id_number[:6] + "********" + people.second.id_number[-4:]
    assert second[6] == people.second.mobile


def test_another_committees_roster_is_not_found(people):
    assert api(people.mediator).get("/api/exports/roster.xlsx", {"organisation": people.taicheng.pk}).status_code == 404
    assert api(people.outsider).get("/api/exports/roster.xlsx", {"organisation": people.huanshi.pk}).status_code == 404
    assert api().get("/api/exports/roster.xlsx").status_code == 401


def test_a_region_export_covers_its_committees_only(people):
    make_mediator(people.taicheng, name="台城调解员")
    _response, sheet = export(people.city, region="440781")
    assert {r[3] for r in rows(sheet)} == {people.other_lead.name, "台城调解员"}


def test_inactive_entries_come_only_when_asked(people):
    make_mediator(people.huanshi, name="离任者", active=False)
    assert "离任者" not in {r[3] for r in rows(export(people.supervisor)[1])}
    everyone = rows(export(people.supervisor, active="all")[1])
    assert next(r for r in everyone if r[3] == "离任者")[11] == "不在册"


def test_typed_text_that_a_spreadsheet_would_run_is_exported_as_text(people):
    make_mediator(people.huanshi, name="=cmd|' /C calc'!A0", note="+1 报销", male=True)
    make_mediator(people.huanshi, name="正常", note="-2", male=True)
    _response, sheet = export(people.supervisor)
    cells = {c.value: c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for text in ("=cmd|' /C calc'!A0", "+1 报销", "-2"):
        assert cells[text].data_type == "s"
        assert cells[text].quotePrefix
