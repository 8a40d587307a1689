"""``/api/roster-imports/`` and ``/api/roster-template/`` through HTTP, as each persona."""

from __future__ import annotations

import io

import openpyxl
import pytest

from notifications.models import Notification
from tests.conftest import api
from tests.fixtures.rosters import builders as b
from townships.models import Mediator, RosterImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def post(user, data: bytes, name: str = "花名册.xlsx", **fields):
    return api(user).post("/api/roster-imports/", {"file": b.upload(name, data), **fields}, format="multipart")


REPORT_KEYS = {"id", "dry_run", "applied", "total_rows", "created", "updated", "unchanged", "deactivated", "errors"}


def test_a_dry_run_answers_200_with_the_report_and_writes_nothing(people):
    response = post(people.supervisor, b.fixture("roster.xlsx"), "roster.xlsx", dry_run="true")
    assert response.status_code == 200
    body = response.json()
    assert body.keys() >= REPORT_KEYS
    assert (body["dry_run"], body["applied"], body["total_rows"], body["created"], body["errors"]) == (
        True,
        False,
        5,
        5,
        [],
    )
    assert not Mediator.objects.filter(name="李秀英").exists()
    record = RosterImport.objects.get(pk=body["id"])
    assert (record.created_by, record.file_name, len(record.file_sha256)) == (people.supervisor, "roster.xlsx", 64)


def test_dry_run_is_the_default(people):
    response = post(people.supervisor, b.xlsx_bytes([b.person(1)]))
    assert response.status_code == 200
    assert response.json()["dry_run"] is True


def test_applying_answers_201_and_records_the_batch(people):
    response = post(people.supervisor, b.fixture("roster.xls"), "roster.xls", dry_run="false")
    assert response.status_code == 201
    body = response.json()
    assert (body["applied"], body["created"]) == (True, 5)
    assert Mediator.objects.filter(name="李秀英", committee=people.huanshi).exists()
    record = RosterImport.objects.get(pk=body["id"])
    assert (record.status, record.created, record.applied) == ("succeeded", 5, True)
    assert not record.file  # the upload holds ID numbers: gone once its rows are in


def test_a_file_with_mistakes_answers_400_listing_them_and_writes_nothing(people):
    rows = [b.person(1), b.person(2, 手机号码="123"), b.person(3, 职务="组长")]
    response = post(people.supervisor, b.xlsx_bytes(rows), dry_run="false")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_rows"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "手机号码"), (4, "职务")]
    assert not Mediator.objects.filter(name="测试员1").exists()


def test_a_refused_file_answers_400_with_its_reason(people):
    response = post(people.supervisor, b.macro_xlsx(), dry_run="false")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "file_refused"
    assert "宏" in body["detail"]
    assert body["errors"][0]["message"] == body["detail"]


def test_an_oversized_upload_is_refused_without_being_stored(people, settings, tmp_path):
    settings.ROSTER_IMPORT = {"max_bytes": 100}
    response = post(people.supervisor, b.fixture("roster.xlsx"), dry_run="false")
    assert response.status_code == 400
    assert "文件过大" in response.json()["detail"]
    assert not list(tmp_path.rglob("*.xlsx"))


def test_rows_of_another_regions_roster_answer_403(people):
    rows = [b.person(1, **{"县(市、区)": "台山市", "镇(街)": "台城"})]
    response = post(people.supervisor, b.xlsx_bytes(rows), dry_run="false")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "您无权维护“台城街道人民调解委员会”的花名册。"
    # The city's supervisor keeps the whole city's rosters.
    assert post(people.city, b.xlsx_bytes(rows), dry_run="false").status_code == 201


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("officer", 403),
        ("reviewer", 403),
        ("mediator", 403),
        ("other_mediator", 403),
        ("outsider", 403),
        ("supervisor", 200),
        ("city", 200),
    ],
)
def test_only_roster_keepers_may_import(people, persona, expected):
    response = post(people.all()[persona], b.xlsx_bytes([b.person(1)]))
    assert response.status_code == expected


def test_anonymous_calls_answer_401(people):
    assert post(None, b.xlsx_bytes([b.person(1)])).status_code == 401
    assert api().get("/api/roster-template/").status_code == 401
    assert api().get("/api/roster-imports/1/").status_code == 401


def test_a_committee_chosen_at_upload_must_be_one_the_user_keeps(people):
    header = ["姓名", "身份证号码", "手机号码"]
    data = b.xlsx_bytes([["钟敏", b.id_number(5, male=False), "13600000005"]], header=header)
    assert post(people.supervisor, data, committee=people.taicheng.pk).status_code == 403
    response = post(people.supervisor, data, committee=people.huanshi.pk, dry_run="false")
    assert response.status_code == 201
    assert Mediator.objects.get(name="钟敏").committee == people.huanshi


# --- The batch afterwards --------------------------------------------------------------------


def test_a_batch_is_visible_to_its_uploader_only(people):
    body = post(people.supervisor, b.xlsx_bytes([b.person(1)])).json()
    assert api(people.supervisor).get(f"/api/roster-imports/{body['id']}/").json()["created"] == 1
    assert api(people.city).get(f"/api/roster-imports/{body['id']}/").status_code == 404


def test_a_clean_preview_is_applied_once_from_the_stored_file(people):
    preview = post(people.supervisor, b.fixture("roster.ods"), "roster.ods").json()
    client = api(people.supervisor)
    response = client.post(f"/api/roster-imports/{preview['id']}/apply/")
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["applied"]) == (5, True)
    assert RosterImport.objects.get(pk=response.json()["id"]).preview_id == preview["id"]
    again = client.post(f"/api/roster-imports/{preview['id']}/apply/")
    assert again.status_code == 409
    assert Mediator.objects.filter(name="李秀英").count() == 1


def test_a_preview_with_mistakes_cannot_be_applied(people):
    preview = post(people.supervisor, b.xlsx_bytes([b.person(1, 手机号码="1")])).json()
    assert api(people.supervisor).post(f"/api/roster-imports/{preview['id']}/apply/").status_code == 409
    assert api(people.city).post(f"/api/roster-imports/{preview['id']}/apply/").status_code == 404


def test_the_error_workbook_has_the_original_rows_and_an_error_column(people):
    rows = [b.person(1), b.person(2, 手机号码="123", 备注="@SUM(A1:A9)"), b.person(3)]
    preview = post(people.supervisor, b.xlsx_bytes(rows, titles=("环市街道人民调解员花名册",))).json()
    response = api(people.supervisor).get(f"/api/roster-imports/{preview['id']}/errors.xlsx")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "原行号"
    assert values[0][-1] == "错误说明"
    assert [v[0] for v in values[1:]] == [3, 4, 5]
    assert values[2][4] == "测试员2"
    assert values[2][-1] == "手机号码：手机号码应为以1开头的11位数字。"
    assert values[1][-1] is None
    note = sheet.cell(row=3, column=len(b.HEADER) + 1)
    # Typed text that a spreadsheet could run goes back as text.
    assert (note.value, note.data_type, note.quotePrefix) == ("@SUM(A1:A9)", "s", True)


def test_a_large_file_runs_as_a_task_with_progress_pushed_and_a_notification_at_the_end(people, settings, monkeypatch):
    settings.ROSTER_IMPORT = {"inline_max_bytes": 0, "progress_every": 2}
    pushed = []
    monkeypatch.setattr("config.roster_imports.push_import_progress", lambda *args: pushed.append(args))
    rows = [b.person(i) for i in range(1, 6)]
    response = post(people.supervisor, b.xlsx_bytes(rows), dry_run="false")
    assert response.status_code == 201  # the embedded (immediate) backend ran it during the request
    import_id = response.json()["id"]
    assert pushed[-1] == (people.supervisor.pk, import_id, 5, 5)
    assert [p[2] for p in pushed] == [2, 4, 5]
    notification = Notification.objects.get(recipient=people.supervisor, kind="import_finished")
    assert notification.title == "花名册已导入：花名册.xlsx"
    assert "新增 5 人" in notification.body
    assert notification.url == f"/rosters/imports/{import_id}/"


def test_a_task_that_finds_mistakes_says_so_in_its_notification(people, settings):
    settings.ROSTER_IMPORT = {"inline_max_bytes": 0}
    post(people.supervisor, b.xlsx_bytes([b.person(1, 性别="女")]), dry_run="false")
    notification = Notification.objects.get(recipient=people.supervisor, kind="import_finished")
    assert notification.title == "花名册未导入：花名册.xlsx"
    assert "1 处错误" in notification.body


# --- The template ----------------------------------------------------------------------------


def template(user) -> openpyxl.Workbook:
    response = api(user).get("/api/roster-template/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_template_has_the_header_an_example_dropdowns_and_instructions(people):
    workbook = template(people.supervisor)
    assert workbook.sheetnames == ["花名册", "选项", "填写说明"]
    sheet = workbook["花名册"]
    header = [c.value for c in sheet[1]]
    assert header == [
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
    assert "示例" in sheet["D2"].value
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert set(lists) == {"A2", "B2", "E2", "H2", "I2"}  # county, township, sex, position, full/part-time
    options = workbook["选项"]
    assert options.sheet_state == "hidden"
    column = {"E2": "A", "H2": "B", "I2": "C", "A2": "D", "B2": "E"}
    values = {
        cell: [
            r[0]
            for r in options.iter_rows(min_col=ord(col) - 64, max_col=ord(col) - 64, min_row=2, values_only=True)
            if r[0]
        ]
        for cell, col in column.items()
    }
    assert values["E2"] == ["男", "女"]
    assert values["H2"] == ["主任", "副主任", "委员", "调解员"]
    assert values["I2"] == ["专职", "兼职"]
    assert values["A2"] == ["蓬江区"]
    assert values["B2"] == ["白沙街道", "潮连街道", "环市街道", "棠下镇", "荷塘镇", "杜阮镇"]
    assert sheet["F3"].number_format == "@"  # ID numbers typed later stay text
    assert "身份证号码" in " ".join(r[0] for r in workbook["填写说明"].iter_rows(values_only=True) if r[0])


def test_the_city_template_lists_all_73_townships(people):
    options = template(people.city)["选项"]
    townships = [r[0] for r in options.iter_rows(min_col=5, max_col=5, min_row=2, values_only=True) if r[0]]
    assert len(townships) == 73
    assert townships.count("白沙街道") == 1 and townships.count("白沙镇") == 1


def test_a_filled_in_template_imports_once_the_example_row_is_replaced(people):
    workbook = template(people.supervisor)
    sheet = workbook["花名册"]
    for column, value in zip("ABCDEFGHIJK", b.person(9).values(), strict=True):
        sheet[f"{column}2"] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post(people.supervisor, buffer.getvalue(), "模板.xlsx", dry_run="false")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1


def test_only_roster_keepers_get_the_template(people):
    assert api(people.mediator).get("/api/roster-template/").status_code == 403


def test_with_a_worker_queue_the_upload_answers_202_and_the_batch_reports_when_done(people, settings):
    settings.ROSTER_IMPORT = {"inline_max_bytes": 0}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = post(people.supervisor, b.xlsx_bytes([b.person(1)]), dry_run="false")
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["applied"]) == ("queued", False)
    assert not Mediator.objects.filter(name="测试员1").exists()
    # The worker picks it up later; the report then says what happened.
    from config.roster_imports import run_roster_import

    run_roster_import.call(body["id"])
    report = api(people.supervisor).get(f"/api/roster-imports/{body['id']}/").json()
    assert (report["status"], report["applied"], report["created"]) == ("succeeded", True, 1)
