"""``lib.spreadsheets.write``: what a cell holds once the workbook is read back by another program."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
from django.utils import timezone
from django.utils.translation import gettext_lazy

from lib.spreadsheets import Column, SheetWriter, new_workbook


def written(rows: list[list], *, caption: str = "") -> openpyxl.worksheet.worksheet.Worksheet:
    workbook = new_workbook()
    writer = SheetWriter(workbook, "表", [Column("甲", 10), Column("乙", 20), Column("丙")], caption=caption)
    for row in rows:
        writer.write(row)
    # The file as xlsx_response streams it (the response itself is the API tests' business).
    with workbook.close() as handle:
        content = handle.read()
    return openpyxl.load_workbook(io.BytesIO(content)).active


def test_each_kind_of_value_lands_as_its_own_kind_of_cell():
    moment = timezone.make_aware(datetime.datetime(2026, 12, 8, 1, 30), datetime.UTC)
    sheet = written(
        [
            ["文字", 3, 2.5],
            [Decimal("1234.50"), True, None],
            [datetime.date(2026, 12, 8), moment, gettext_lazy("已超期")],
        ]
    )
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0] == ("文字", 3, 2.5)
    assert rows[1] == (1234.5, True, None)
    # Excel has no time zones: the local (Asia/Shanghai) wall-clock time, to the minute shown.
    assert rows[2] == (datetime.datetime(2026, 12, 8), datetime.datetime(2026, 12, 8, 9, 30), "已超期")
    assert sheet["A4"].number_format == "yyyy-mm-dd" and sheet["B4"].number_format == "yyyy-mm-dd hh:mm"


def test_typed_text_is_never_a_formula_a_link_or_a_number_and_control_characters_are_dropped():
    texts = ['=HYPERLINK("http://evil","x")', "-1+2", "@SUM(A1)", "http://example.com", "0012", "a\x0bb\x00c"]
    sheet = written([[t] for t in texts])
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_col=1)]
    assert [c.value for c in cells] == [*texts[:5], "abc"]
    assert all(c.data_type == "s" for c in cells)
    assert [bool(c.quotePrefix) for c in cells] == [True, True, True, False, False, False]
    assert not sheet._hyperlinks


def test_the_caption_comes_first_and_the_header_row_stays_in_view():
    sheet = written([["一", "二", "三"]], caption="台账（某某 导出）")
    assert [c.value for c in sheet[1]][:1] == ["台账（某某 导出）"]
    assert [c.value for c in sheet[2]] == ["甲", "乙", "丙"]
    assert sheet.freeze_panes == "A3"
    assert sheet["A2"].font.bold
    assert [int(sheet.column_dimensions[letter].width) for letter in "AB"] == [10, 20]
