"""ID numbers Excel turned into numbers (it keeps 15 digits of 18) are refused with one message,
told by the cell's type as each reader reports it, even when the digits left pass the check digit."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import pytest

from lib.spreadsheets import inspect_file
from tests.fixtures.rosters import builders as b
from townships.models import Mediator
from townships.roster_import.importer import Limits, RosterImporter
from townships.validators import id_check_digit, validate_id_number

pytestmark = pytest.mark.django_db

MESSAGE = "身份证号被Excel存成了数字，后几位已丢失，请将该列设为文本后重新填写"
SHEET = "xl/worksheets/sheet1.xml"


def valid_id_ending_in_000() -> str:
    """A real-looking ID number whose last three characters are 0: it passes GB 11643 as it is."""
    for day in range(400):
        born = datetime.date(1975, 1, 1) + datetime.timedelta(days=day)
        for serial in range(100, 1000, 100):
            first17 = f"440703{born:%Y%m%d}{serial:03d}"
            if id_check_digit(first17) == "0":
                return validate_id_number(first17 + "0")
    raise AssertionError("none found")


ENDING_IN_000 = valid_id_ending_in_000()


def errors(user, data: bytes, name: str) -> list[tuple[int | None, str, str]]:
    report = RosterImporter(user=user, dry_run=False).run(io.BytesIO(data), name)
    return [(e.row, e.column, e.message) for e in report.errors]


def with_cell_value(data: bytes, reference: str, value: bytes) -> bytes:
    """The workbook with the cell at ``reference`` made a number cell holding ``value`` as written."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == SHEET:
                cell = reference.encode()
                number = b'<c r="%s" t="n"><v>%s</v></c>' % (cell, value)
                content, found = re.subn(rb'<c r="%s"[^>]*>.*?</c>' % cell, number, content)
                assert found == 1
            zout.writestr(item.filename, content)
    return out.getvalue()


def test_a_number_excel_wrote_in_scientific_notation_is_refused_by_the_fast_reader(people):
    data = with_cell_value(b.xlsx_bytes([b.person(1)]), "F2", b"4.40703197501010E+17")
    assert inspect_file(io.BytesIO(data), "花名册.xlsx", len(data), Limits()).reader == "calamine"
    assert errors(people.supervisor, data, "花名册.xlsx") == [(2, "身份证号码", MESSAGE)]


def test_a_number_whose_last_digits_are_zeros_is_refused_even_when_they_pass_the_check_digit(people):
    data = with_cell_value(b.xlsx_bytes([b.person(1)]), "F2", ENDING_IN_000.encode())
    # 16 digits or more go to openpyxl, which reads them as a whole number without losing any.
    assert inspect_file(io.BytesIO(data), "花名册.xlsx", len(data), Limits()).reader == "openpyxl"
    assert errors(people.supervisor, data, "花名册.xlsx") == [(2, "身份证号码", MESSAGE)]
    assert not Mediator.objects.filter(id_number=ENDING_IN_000).exists()


def test_the_same_digits_typed_as_text_are_a_valid_id_number(people):
    data = b.xlsx_bytes([b.person(1, 身份证号码=ENDING_IN_000, 性别="女")])
    assert errors(people.supervisor, data, "花名册.xlsx") == []
    assert Mediator.objects.filter(id_number=ENDING_IN_000).exists()


def test_a_number_cell_of_an_xls_is_refused(people):
    data = b.xls_with_number(2, 6, float(ENDING_IN_000))
    assert errors(people.supervisor, data, "花名册.xls") == [(3, "身份证号码", MESSAGE)]


def test_a_number_cell_of_an_ods_is_refused(people):
    data = b.ods_roster([b.person(1, 身份证号码=float(ENDING_IN_000))], trailing=False)
    assert errors(people.supervisor, data, "花名册.ods") == [(2, "身份证号码", MESSAGE)]


@pytest.mark.parametrize("written", ["4.40703E+17", "4.4070319750101E+17", ENDING_IN_000])
def test_in_a_csv_what_excel_writes_for_such_a_number_is_refused(people, written):
    data = b.csv_bytes([b.person(1, 身份证号码=written)])
    assert errors(people.supervisor, data, "花名册.csv") == [(2, "身份证号码", MESSAGE)]


def test_a_csv_with_the_whole_id_number_imports(people):
    data = b.csv_bytes([b.person(1)])
    assert errors(people.supervisor, data, "花名册.csv") == []
