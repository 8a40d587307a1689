"""The lawyers' roster imported from a spreadsheet (``referrals/lawyer_import.py``): the whole file or,
naming each mistake by row and column, nothing; lawyers already on the roster are left as they are;
only the office's officers and reviewers may import; the file is read by the guarded reader."""

from __future__ import annotations

import pytest

from referrals import lawyers
from referrals.models import Lawyer
from tests.conftest import api, login
from tests.fixtures.rosters import builders as b

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "类别", "执业机构", "执业证号", "手机号码"]


def sheet(rows: list[list], *, header: list[str] = HEADER, fmt: str = "xlsx"):
    data = b.xlsx_bytes(rows, header=header) if fmt == "xlsx" else b.csv_bytes(rows, header=header)
    return b.upload(f"律师名册.{fmt}", data)


def post(user, upload):
    return api(user).post("/api/lawyers/import/", {"file": upload}, format="multipart")


GOOD = [
    [1, "谭志远", "律师", "广东五邑律师事务所", "14407201010123456", "13902211234"],
    [2, "梁永康", "法律顾问", "江门市法律援助处", "", ""],
    [3, "区慧敏", "", "广东江门侨乡律师事务所", "", "138 0225 5678"],
]


def test_a_roster_is_imported_and_importing_it_again_adds_nobody(people):
    response = post(people.officer, sheet(GOOD))
    assert response.status_code == 201, response.json()
    assert response.json() == {"added": 3, "unchanged": 0}
    got = {
        (x.name, x.kind, x.firm, x.licence_no, x.mobile) for x in Lawyer.objects.filter(office=people.petition_office)
    }
    assert got == {
        ("谭志远", "lawyer", "广东五邑律师事务所", "14407201010123456", "13902211234"),
        ("梁永康", "adviser", "江门市法律援助处", "", ""),
        ("区慧敏", "lawyer", "广东江门侨乡律师事务所", "", "13802255678"),
    }
    again = post(people.reviewer, sheet(GOOD, fmt="csv"))
    assert again.json() == {"added": 0, "unchanged": 3}
    assert Lawyer.objects.count() == 3


def test_each_mistake_is_named_by_row_and_column_and_nothing_is_written(people):
    lawyers.add_lawyer(by=people.officer, office=people.petition_office, name="李明", kind="lawyer", firm="甲律所")
    rows = [
        *GOOD,
        [4, "=cmd", "律师", "某律所", "", ""],
        [5, "黄伟", "书记员", "某律所", "123", "12345"],
        [6, "谭志远", "律师", "广东五邑律师事务所", "", ""],
    ]
    response = post(people.officer, sheet(rows))
    assert response.status_code == 400
    said = response.json()["errors"]["file"]
    assert said[0] == "名册未导入，请改正后重新上传："
    text = "\n".join(said)
    for expected in ("第5行 姓名", "第6行 类别", "第6行 执业证号", "第6行 手机号码", "第7行：与第2行重复"):
        assert expected in text, (expected, text)
    assert Lawyer.objects.count() == 1


def test_a_file_without_the_header_or_not_a_spreadsheet_is_refused(people):
    no_header = post(people.officer, sheet([["谭志远", "某律所"]], header=["名字", "单位"]))
    assert no_header.status_code == 400 and "姓名" in no_header.json()["errors"]["file"][0]
    fake = post(people.officer, b.upload("名册.xlsx", b"MZ\x90\x00 not a workbook"))
    assert fake.status_code == 400 and fake.json()["errors"]["file"]
    empty = post(people.officer, sheet([]))
    assert empty.status_code == 400 and "没有律师" in "".join(empty.json()["errors"]["file"])
    assert not Lawyer.objects.exists()


def test_only_the_offices_officers_and_reviewers_import(people):
    for user in (people.mediator, people.supervisor, people.city, people.outsider):
        assert post(user, sheet(GOOD)).status_code == 403
    assert not Lawyer.objects.exists()


def test_the_page_imports_and_shows_the_mistakes_at_the_file(people):
    client = login(people.officer)
    page = client.get("/referrals/lawyers/")
    assert b'data-record="import_lawyers"' in page.content
    bad = client.post("/referrals/lawyers/import/", {"file": sheet([[1, "谭志远", "律师", "", "", ""]])})
    assert bad.status_code == 400 and "第2行 执业机构" in bad.content.decode()
    ok = client.post("/referrals/lawyers/import/", {"file": sheet(GOOD)}, follow=True)
    assert "新增3人" in ok.content.decode()
    assert login(people.mediator).post("/referrals/lawyers/import/", {"file": sheet(GOOD)}).status_code == 403
