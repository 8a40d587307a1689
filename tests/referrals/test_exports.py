"""The referral ledger (台账): ``GET /api/exports/referrals.xlsx?<the list filters>``."""

from __future__ import annotations

import datetime
import io
import itertools
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone

from referrals.models import Party, Referral, State
from tests.conftest import api
from tests.memory import PeakMemory
from townships.validators import make_id_number

pytestmark = pytest.mark.django_db

HEADER_ROW = 2  # a caption row (who exported, when) comes first


def ledger(user, **params):
    response = api(user).get("/api/exports/referrals.xlsx", params)
    assert response.status_code == 200, response.content[:300]
    content = b"".join(response.streaming_content)
    return response, openpyxl.load_workbook(io.BytesIO(content)).active


def records(sheet) -> list[dict]:
    header = [c.value for c in sheet[HEADER_ROW]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]


def test_the_ledger_lists_what_the_list_shows_for_each_person(people, story):
    huanshi = story.submitted()
    taicheng = story.submitted(target=people.taicheng)
    draft = story.draft()
    expected = {
        "officer": {huanshi.number, taicheng.number, draft.number},
        "mediator": {huanshi.number},
        "other_mediator": {taicheng.number},
        "supervisor": {huanshi.number},  # 蓬江区 only; drafts stay with the petition office
        "city": {huanshi.number, taicheng.number},
        "outsider": set(),
    }
    for persona, numbers in expected.items():
        _response, sheet = ledger(people.all()[persona])
        assert {r["编号"] for r in records(sheet)} == numbers, persona


def test_the_ledger_uses_the_list_filters(people, story):
    mediating = story.mediating()
    story.submitted(category="labour")
    _response, sheet = ledger(people.officer, state="mediating")
    assert [r["编号"] for r in records(sheet)] == [mediating.number]
    _response, sheet = ledger(people.officer, category="labour", state="submitted")
    assert [r["纠纷类别"] for r in records(sheet)] == ["劳动争议"]


def test_an_unknown_filter_value_answers_400(people):
    response = api(people.officer).get("/api/exports/referrals.xlsx", {"state": "lost"})
    assert response.status_code == 400
    assert "lost" in response.json()["errors"]["state"][0]


def test_anonymous_callers_answer_401():
    assert api().get("/api/exports/referrals.xlsx").status_code == 401


@pytest.mark.parametrize(
    ("persona", "full"), [("officer", True), ("mediator", True), ("supervisor", False), ("city", False)]
)
def test_personal_data_is_masked_exactly_as_the_api_masks_it_for_that_person(people, story, persona, full):
    referral = story.submitted()
    user = people.all()[persona]
    parties = api(user).get(f"/api/referrals/{referral.pk}/").json()["parties"]
    petitioner = next(p for p in parties if p["role"] == "petitioner")
    respondent = next(p for p in parties if p["role"] == "respondent")
    row = records(ledger(user)[1])[0]
    assert (row["申请人"], row["申请人证件号码"], row["申请人电话"], row["申请人住址"]) == (
        petitioner["name"],
        petitioner["id_number"],
        petitioner["phone"],
        petitioner["address"],
    )
    assert (row["被申请人证件号码"], row["被申请人电话"]) == (respondent["id_number"], respondent["phone"])
    real = referral.parties.get(role="petitioner").id_number
    assert (row["申请人证件号码"] == real) is full


def test_dates_are_real_dates_the_header_is_frozen_and_the_file_named_in_chinese(people, story):
    referral = story.mediating()
    response, sheet = ledger(people.officer)
    row = records(sheet)[0]
    assert row["信访登记日期"] == datetime.datetime.combine(referral.received_on, datetime.time())
    assert isinstance(row["调解受理时间"], datetime.datetime)
    assert sheet.cell(row=HEADER_ROW + 1, column=3).number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    # 事实摘要: 40 characters as Excel shows it (the file stores the cell padding on top, 40.71).
    assert int(sheet.column_dimensions["N"].width) == 40
    assert row["主调解员"] == people.lead.name
    assert row["属地"] == "蓬江区环市街道"
    disposition = unquote(response["Content-Disposition"])
    assert f"访调对接台账_{timezone.localdate().isoformat()}.xlsx" in disposition
    assert response["Cache-Control"] == "private, no-store"


def test_outcomes_from_the_mediation_app_appear(people, story):
    story.succeeded()
    story.failed()
    outcomes = {r["调解结果"] for r in records(ledger(people.officer)[1])}
    assert outcomes == {"达成协议", "终止调解：双方分歧较大，难以达成协议"}


def test_typed_text_that_a_spreadsheet_would_run_is_written_as_text(people, story):
    from referrals import intake
    from tests.factories import referral_input

    data = referral_input(people.huanshi, summary='=HYPERLINK("http://evil","点我")', claims="@SUM(1+1)*cmd")
    data.parties[0].name = "+王大明"
    intake.create_referral(by=people.officer, origin=people.petition_office, data=data)
    _response, sheet = ledger(people.officer)
    cells = {c.value: c for row in sheet.iter_rows(min_row=HEADER_ROW + 1) for c in row if isinstance(c.value, str)}
    for text in ('=HYPERLINK("http://evil","点我")', "@SUM(1+1)*cmd", "+王大明"):
        assert cells[text].data_type == "s", text
        assert cells[text].quotePrefix, text


# --- A long ledger in flat memory ------------------------------------------------------------

LEDGER_SIZE = 50_000


def bulk_referrals(people, n: int) -> None:
    """``n`` submitted referrals with two parties each, written straight to the tables."""
    region = people.huanshi.region
    now = timezone.now()
    today = timezone.localdate()
    counter = itertools.count(1)
    for start in range(0, n, 5000):
        batch = [
            Referral(
                number=f"JM-BULK-{start + i:06d}",
                received_on=today,
                category="neighbour",
                summary="邻里之间因排水沟堵塞引发纠纷，双方多次争吵，社区调解未果。" * 2,
                claims="请求对方疏通排水沟并赔偿损失500元。",
                origin=people.petition_office,
                target=people.huanshi,
                region=region,
                region_code=region.code,
                created_by=people.officer,
                state=State.SUBMITTED,
                submitted_at=now,
            )
            for i in range(min(5000, n - start))
        ]
        Referral.objects.bulk_create(batch)
        first = Referral.objects.get(number=batch[0].number).pk
        parties = []
        for pk in range(first, first + len(batch)):
            for role, male in ((Party.Role.PETITIONER, True), (Party.Role.RESPONDENT, False)):
                serial = next(counter)
                parties.append(
                    Party(
                        referral_id=pk,
                        role=role,
                        name="王大明" if male else "李小红",
                        id_number=make_id_number("440703", datetime.date(1980, 1, 1), serial % 997, male=male),
                        phone=f"138{serial:08d}",
                        address="江门市蓬江区环市街道建设路1号",
                    )
                )
        Party.objects.bulk_create(parties, batch_size=5000)


@pytest.mark.slow  # 2 minutes of inserting: `make fuzz` runs it, and `make bench` measures the export at scale
def test_a_ledger_of_50000_referrals_is_written_in_bounded_memory(people):
    bulk_referrals(people, LEDGER_SIZE)
    assert Referral.objects.count() == LEDGER_SIZE
    client = api(people.supervisor)  # masked: every party goes through the masking
    with PeakMemory() as memory:
        response = client.get("/api/exports/referrals.xlsx")
    assert response.status_code == 200
    # Holding all 50,000 referrals with their parties would take hundreds of megabytes; the export
    # reads chunks of 2,000 rows and streams each row into a file on disk.
    print(f"ledger of {LEDGER_SIZE}: resident memory rose {memory.rise_mb:.1f} MB")
    assert memory.rise_mb < 80, f"rose {memory.rise_mb:.1f} MB"
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet = workbook.active
    count = sum(1 for _ in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    workbook.close()
    assert count == LEDGER_SIZE


def test_the_ledger_reads_a_fixed_number_of_queries_however_many_referrals(people, story):
    """The referrals and what hangs off them (parties, outcomes, leaders, 复查/复核, 类案) are read by
    one query each per chunk of referrals — never one per referral."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def export_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            ledger(people.officer)
        return len(captured)

    story.succeeded()
    story.failed()
    few = export_queries()
    for _ in range(3):
        story.succeeded()
        story.failed()
        story.mediating()
    assert export_queries() == few
    assert len(records(ledger(people.officer)[1])) == 11
