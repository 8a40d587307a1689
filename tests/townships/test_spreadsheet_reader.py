"""Which reader reads an xlsx, and that both read it the same: python-calamine (fast, the whole
sheet in memory) for what spreadsheet programs write, openpyxl (streaming) for anything calamine
should not be handed. See ``lib/spreadsheets/``.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import time
import zipfile

import openpyxl
import pytest

from lib.spreadsheets import FileLimits, ImportRefused, SpreadsheetFile, cell_text, inspect_file
from tests.fixtures.rosters import builders as b
from tests.memory import PeakMemory
from townships.models import Mediator
from townships.roster_import.importer import RosterImporter

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def reader_of(data: bytes) -> str:
    return inspect_file(io.BytesIO(data), "花名册.xlsx", len(data), FileLimits()).reader


def rows_by(data: bytes, reader: str) -> list[tuple[int, list[str]]]:
    """Every row as (row number, cell texts without trailing blanks), read by ``reader``."""
    info = dataclasses.replace(inspect_file(io.BytesIO(data), "x.xlsx", len(data), FileLimits()), reader=reader)
    book = SpreadsheetFile(io.BytesIO(data), info, len(data), FileLimits())
    try:
        out = []
        for number, values in book.sheets[0].rows(width=20):
            texts = [cell_text(v) for v in values]
            while texts and not texts[-1]:
                texts.pop()
            if texts:
                out.append((number, texts))
        return out
    finally:
        book.close()


def rewritten(data: bytes, part: str, change) -> bytes:
    """The workbook with one part's bytes passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            zout.writestr(item.filename, change(content) if item.filename == part else content)
    return out.getvalue()


def apply(user, data: bytes):
    return RosterImporter(user=user, dry_run=False).run(io.BytesIO(data), "花名册.xlsx")


# --- The same rows whichever reader --------------------------------------------------------------


@pytest.mark.parametrize("name", ["roster.xlsx", "roster_openpyxl.xlsx"])
def test_both_readers_give_the_same_rows_with_the_row_numbers_excel_shows(name):
    data = b.fixture(name)
    assert reader_of(data) == "calamine"
    fast, streamed = rows_by(data, "calamine"), rows_by(data, "openpyxl")
    assert fast == streamed
    # The merged title on row 1, the header on row 2, a blank row kept out of the count.
    assert fast[0][0] == 1 and fast[1][0] == 2 and "姓名" in fast[1][1]
    numbers = [n for n, _ in fast]
    assert numbers != list(range(1, len(numbers) + 1))


def test_cells_typed_as_numbers_dates_and_text_read_alike():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "标题"  # nothing in rows 1-2 nor columns A-B: still Excel's row and column
    sheet["A5"] = 13800000000  # a mobile typed as a number
    sheet["B5"] = 7  # below: a number with more digits than a float holds exactly
    sheet["C5"] = 4.40703197001011e17  # an ID number as Excel stores it
    sheet["D5"] = openpyxl.utils.datetime.from_excel(45293)  # a date
    sheet["E5"] = "\u3000王芳\u3000"
    sheet["F5"] = True
    sheet["G5"] = 1.5
    sheet["D5"].number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)
    data = rewritten(buffer.getvalue(), SHEET, lambda x: x.replace(b"<v>7</v>", b"<v>440703197001011234</v>"))
    expected = [
        (3, ["", "", "标题"]),
        (5, ["13800000000", "440703197001011234", "440703197001011008", "2024-01-02", "王芳", "是", "1.5"]),
    ]
    # The 18-digit number sends the file to openpyxl, which keeps its digits.
    assert reader_of(data) == "openpyxl"
    assert rows_by(data, "openpyxl") == expected
    without_long_number = rewritten(data, SHEET, lambda x: x.replace(b"<v>440703197001011234</v>", b"<v>1</v>"))
    assert reader_of(without_long_number) == "calamine"
    expected[1][1][1] = "1"
    assert rows_by(without_long_number, "calamine") == rows_by(without_long_number, "openpyxl") == expected


def test_an_error_in_the_last_row_is_reported_on_the_row_excel_shows(people):
    rows = [b.person(1), [None] * len(b.HEADER), [None] * len(b.HEADER), b.person(2, 手机号码="12")]
    data = b.xlsx_bytes(rows, titles=("环市街道人民调解员花名册",))
    assert reader_of(data) == "calamine"
    report = apply(people.supervisor, data)
    assert [(e.row, e.column) for e in report.errors] == [(6, "手机号码")]


def test_an_id_number_excel_stored_as_a_number_is_explained(people):
    data = b.xlsx_bytes([b.person(1, 身份证号码=4.40703197001011e17)])
    assert reader_of(data) == "calamine"
    report = apply(people.supervisor, data)
    assert report.error_count == 1 and "存成了数字" in report.errors[0].message


def test_an_id_number_a_program_wrote_as_a_whole_number_keeps_its_digits(people):
    row = b.person(1)
    # Written as digits, as some exporters do (Excel and openpyxl write a float and lose the last ones).
    data = rewritten(
        b.xlsx_bytes([b.person(1, 身份证号码=7)]),
        SHEET,
        lambda x: x.replace(b'<c r="F2" t="n"><v>7</v>', b'<c r="F2" t="n"><v>%s</v>' % row["身份证号码"].encode()),
    )
    assert reader_of(data) == "openpyxl"
    report = apply(people.supervisor, data)
    assert report.error_count == 0
    assert Mediator.objects.filter(id_number=row["身份证号码"]).exists()


def test_error_cells_are_read_as_their_text_as_before(people):
    data = rewritten(
        b.xlsx_bytes([b.person(1, 备注="x")]),
        SHEET,
        lambda x: re.sub(rb'<c r="K2" t="(?:s|inlineStr)">.*?</c>', b'<c r="K2" t="e"><v>#N/A</v></c>', x),
    )
    assert reader_of(data) == "openpyxl"
    apply(people.supervisor, data)
    assert Mediator.objects.get(name="测试员1").note == "#N/A"


# --- What calamine must not be handed ------------------------------------------------------------


def test_a_stray_cell_far_away_is_read_by_openpyxl_in_bounded_memory(people):
    # calamine would allocate the grid up to XFD1048576: some 500 GB, and abort the process.
    data = rewritten(
        b.xlsx_bytes([b.person(1)]),
        SHEET,
        lambda x: x.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'),
    )
    assert reader_of(data) == "openpyxl"
    with PeakMemory() as memory, pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, data)
    assert exc.value.code == "too_many_rows"
    assert memory.rise_mb < 64


def test_a_stray_cell_in_column_xfd_is_ignored_as_before(people):
    # A grid 16,384 columns wide and 5,000 rows deep: 2.6 GB in calamine.
    data = rewritten(
        b.xlsx_bytes([b.person(1), b.person(2)]),
        SHEET,
        lambda x: x.replace(b"</sheetData>", b'<row r="5000"><c r="XFD5000"><v>1</v></c></row></sheetData>'),
    )
    assert reader_of(data) == "openpyxl"
    report = apply(people.supervisor, data)
    assert (report.error_count, report.created) == (0, 2)


def shared_string_bomb(copies: int, megabytes: int = 1) -> bytes:
    """One long shared string used by ``copies`` cells: calamine copies it into every one."""
    rows = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (n, n) for n in range(1, copies + 1))
    data = rewritten(
        b.xlsx_bytes([]),
        SHEET,
        lambda x: re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", x, flags=re.S),
    )
    override = b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % SST_TYPE
    data = rewritten(data, "[Content_Types].xml", lambda x: x.replace(b"</Types>", override))
    relation = b'<Relationship Id="rIdS" Type="%s" Target="sharedStrings.xml"/></Relationships>' % SST_REL
    data = rewritten(data, "xl/_rels/workbook.xml.rels", lambda x: x.replace(b"</Relationships>", relation))
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        text = b"x" * (megabytes * 1024 * 1024)
        z.writestr("xl/sharedStrings.xml", b'<sst xmlns="%s"><si><t>%s</t></si></sst>' % (MAIN, text))
    return out.getvalue()


def test_a_long_shared_string_used_by_thousands_of_cells_is_read_by_openpyxl(people):
    data = shared_string_bomb(2000)  # 2 GB in calamine, 1 MB in openpyxl
    assert len(data) < 20_000
    assert reader_of(data) == "openpyxl"
    with PeakMemory() as memory, pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, data)
    assert exc.value.code == "no_header"
    assert memory.rise_mb < 64


def test_a_long_shared_string_used_once_is_still_read_by_calamine():
    assert reader_of(shared_string_bomb(3)) == "calamine"


@pytest.mark.parametrize(
    ("part", "doctype"),
    [
        ("xl/workbook.xml", b'<!DOCTYPE workbook [<!ENTITY e "x">]>'),
        ("xl/styles.xml", b"<!DOCTYPE styleSheet>"),
        (SHEET, b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
    ],
)
def test_a_dtd_in_any_part_is_refused_before_any_parser_runs(people, part, doctype):
    data = rewritten(
        b.xlsx_bytes([b.person(1)]), part, lambda x: re.sub(rb"^(<\?xml[^>]*\?>)?", rb"\g<0>" + doctype, x)
    )
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(data), "花名册.xlsx", len(data), FileLimits())
    assert exc.value.code == "unsafe_content"


@pytest.mark.parametrize(
    "change",
    [
        lambda x: x.replace(b'<c r="A2"', b'<c r="A2" r="XFD9"', 1),  # calamine takes the last r
        lambda x: x.replace(b'<c r="A2"', b"<c", 1),  # placed after the previous cell
        lambda x: x.replace(b"<sheetData>", b"<sheetData><!-- <c r='A1'> -->", 1),
        lambda x: x.replace(b"<c ", b"<x:c ", 1),
    ],
    ids=["second reference", "no reference", "comment", "prefixed cell"],
)
def test_markup_the_scan_cannot_vouch_for_goes_to_openpyxl(change):
    data = rewritten(b.xlsx_bytes([b.person(1)]), SHEET, change)
    assert reader_of(data) == "openpyxl"


def test_a_panic_of_calamine_halfway_through_is_a_refusal(people, monkeypatch):
    import lib.spreadsheets.read as spreadsheets

    class PanicException(BaseException):  # pyo3_runtime.PanicException derives from BaseException
        pass

    def panic(self, *, width=None):
        raise PanicException("index out of bounds")
        yield

    monkeypatch.setattr(spreadsheets.CalamineSheet, "rows", panic)
    with pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, b.xlsx_bytes([b.person(1)]))
    assert exc.value.code == "corrupt_file"


# --- What calamine must not be handed: ods and xls, which have no streaming reader -----------------

T, E, R = b.ods_text_cell, b.ods_empty_cells, b.ods_row
SPACES = b'<text:s text:c="100000000"/>'


def import_as(user, data: bytes, name: str):
    return RosterImporter(user=user, dry_run=False).run(io.BytesIO(data), name)


@pytest.mark.parametrize(
    "table",
    [
        # Measured with python-calamine 0.9.1 under a 1 GB RLIMIT_AS: abort ("memory allocation failed").
        R(T("x", repeat=16384), repeat=2000),  # 32 million cells: 4 GB, 15 s
        R(T("x", repeat=1000), repeat=1048576),
        # Empty rows between two cells are written out: 1,048,571 rows of 16,383 columns.
        R(T("a")) + R(E(1), repeat=1048570) + R(E(16382), T("z")),
        # Empty cells followed by another empty cell are kept, row by row: 17 GB for a 1x1 sheet.
        R(T("a")) + R(E(16000), E(1)) * 20000,
        # One cell, 100 million spaces.
        R(b'<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell>' % SPACES),
        R(T("x" * 10000, repeat=1000), repeat=100),  # a long text copied into every cell: 2 GB
        # The same in the second sheet.
        R(T("a")) + b"</table:table><table:table table:name='2'>" + R(T("x", repeat=16384), repeat=2000),
    ],
    ids=["wide rows repeated", "rows repeated", "far cell", "empty runs", "spaces", "long text", "second sheet"],
)
def test_an_ods_calamine_would_blow_up_in_memory_is_refused_quickly(people, table):
    data = b.ods_bytes(table)
    assert len(data) < 20_000
    started = time.monotonic()
    with PeakMemory() as memory, pytest.raises(ImportRefused) as exc:
        import_as(people.supervisor, data, "花名册.ods")
    assert exc.value.code == "too_many_rows" and "异常庞大" in exc.value.message
    assert memory.rise_mb < 64
    assert time.monotonic() - started < 5


def test_a_dtd_in_an_ods_is_refused_before_any_parser_runs():
    data = b.ods_bytes(R(T("a")), prolog=b'<!DOCTYPE x [<!ENTITY e "x">]>')
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(data), "花名册.ods", len(data), FileLimits())
    assert exc.value.code == "unsafe_content"


def test_the_libreoffice_ods_with_its_trailing_empty_cells_and_rows_still_imports(people):
    data = b.fixture("roster.ods")
    # LibreOffice squares every sheet off to XFD1048576 with repeated empty cells and rows.
    assert b'number-rows-repeated="1048567"' in zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    assert inspect_file(io.BytesIO(data), "花名册.ods", len(data), FileLimits()).format == "ods"
    report = RosterImporter(user=people.supervisor, dry_run=True).run(io.BytesIO(data), "花名册.ods")
    assert report.total_rows > 0


def test_a_large_ods_roster_in_libreoffice_style_is_not_refused(people):
    rows = [b.person(n) for n in range(1, 3001)]
    data = b.ods_roster(rows)
    report = import_as(people.supervisor, data, "花名册.ods")
    assert (report.error_count, report.created) == (0, 3000)
    # The 50,000-row limit: still estimated under the 128 MB calamine may hold.
    big = b.ods_roster([b.person(n) for n in range(1, 50_001)])
    assert inspect_file(io.BytesIO(big), "花名册.ods", len(big), FileLimits()).format == "ods"


def xls_with_cell_moved(row: int, column: int) -> bytes:
    """roster.xls with its last LABELSST cell record moved to (row, column): a 16-bit row and column."""
    data = bytearray(b.fixture("roster.xls"))
    at = data.rfind(b"\xfd\x00\x0a\x00")
    struct.pack_into("<HH", data, at + 4, row, column)
    return bytes(data)


@pytest.mark.parametrize(("row", "column"), [(65535, 255), (65535, 16383), (5000, 5000)])
def test_an_xls_with_a_far_cell_is_refused_quickly(people, row, column):
    # calamine: 1 GB, an abort on a 34 GB allocation, 1.5 GB.
    data = xls_with_cell_moved(row, column)
    with PeakMemory() as memory, pytest.raises(ImportRefused) as exc:
        import_as(people.supervisor, data, "花名册.xls")
    assert exc.value.code == "too_many_rows"
    assert memory.rise_mb < 64


def test_an_xls_with_formatted_empty_cells_far_away_still_imports(people):
    # MULBLANK (formatted empty cells) to column 200, and a DIMENSIONS record claiming the whole sheet:
    # calamine ignores both, and so does the scan.
    data = bytearray(b.fixture("roster.xls"))
    mulblank = data.find(b"\xbe\x00\x1c\x00")
    struct.pack_into("<H", data, mulblank + 4 + 0x1C - 2, 200)
    dimensions = data.find(b"\x00\x02\x0e\x00")
    struct.pack_into("<IIHH", data, dimensions + 4, 0, 65536, 0, 256)
    assert inspect_file(io.BytesIO(bytes(data)), "花名册.xls", len(data), FileLimits()).format == "xls"
    near = xls_with_cell_moved(300, 11)  # a cell a few hundred rows down is read as before
    assert inspect_file(io.BytesIO(near), "花名册.xls", len(near), FileLimits()).format == "xls"


# --- The OLE container of an xls (olefile), held to what the file can hold -------------------------


def ole_header_field(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<I", out, offset, value)
    return bytes(out)


def test_an_encrypted_workbook_is_refused_as_encrypted():
    data = b.encrypted_xlsx()
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(data), "花名册.xlsx", len(data), FileLimits())
    assert exc.value.code == "encrypted" and "密码" in exc.value.message


def test_an_xls_header_counting_more_fat_sectors_than_the_file_holds_is_refused_as_corrupt():
    # 300 DIFAT sectors, all the same one pointing at itself: olefile alone follows them for minutes.
    data = b.fixture("roster.xls")
    sector = len(data) // 512 - 2
    data = ole_header_field(data, 0x2C, 109 + 127 * 300)  # FAT sectors
    data = ole_header_field(data, 0x48, 300)  # DIFAT sectors
    data = ole_header_field(data, 0x44, sector)  # the first DIFAT sector
    data = data[: 512 + sector * 512] + struct.pack("<128I", *([0] * 127 + [sector])) + data[512 + sector * 512 + 512 :]
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(data), "花名册.xls", len(data), FileLimits())
    assert exc.value.code == "corrupt_file"


def test_an_xls_whose_mini_stream_claims_gigabytes_is_refused_as_corrupt():
    # The root entry's size (the mini stream, where a small Workbook stream lives): read round its
    # chain until it is that long, were it believed.
    data = bytearray(b.fixture("roster.xls"))
    root = 512 + struct.unpack_from("<I", data, 0x30)[0] * 512  # the first directory entry
    assert data[root : root + 20] == "Root Entry".encode("utf-16-le")
    struct.pack_into("<I", data, root + 120, 0x7FFF0000)
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(bytes(data)), "花名册.xls", len(data), FileLimits())
    assert exc.value.code == "corrupt_file"


def test_an_xls_with_an_excel_4_macro_sheet_is_refused():
    data = bytearray(b.fixture("roster.xls"))
    # The first BOUNDSHEET record (0x0085): its sheet type byte made 1, a macro sheet.
    boundsheet = data.find(b"\x85\x00\x0e\x00")
    data[boundsheet + 4 + 5] = 0x01
    with pytest.raises(ImportRefused) as exc:
        inspect_file(io.BytesIO(bytes(data)), "花名册.xls", len(data), FileLimits())
    assert exc.value.code == "macro_enabled" and "宏" in exc.value.message


def test_the_libreoffice_xls_still_imports_through_olefile(people):
    report = import_as(people.supervisor, b.fixture("roster.xls"), "花名册.xls")
    assert (report.error_count, report.created) == (0, 5)


@pytest.mark.parametrize(
    ("first_row", "last_row", "last_column"),
    [(9, 8, 12), (0, 0xFFFFFFFF, 256), (0, 65536, 0xFFFF)],
    ids=["rows backwards", "four billion rows", "65,535 columns"],
)
def test_an_xls_declaring_an_impossible_extent_is_refused_before_calamine_reserves_it(
    people, first_row, last_row, last_column
):
    # calamine reserves 40 bytes a declared cell up front: 2 TB, 44 TB, 171 GB, and an abort (found by
    # fuzzing roster.xls). A DIMENSIONS record claiming a whole BIFF8 sheet is still read (see above).
    data = bytearray(b.fixture("roster.xls"))
    dimensions = data.find(b"\x00\x02\x0e\x00")
    struct.pack_into("<IIHH", data, dimensions + 4, first_row, last_row, 0, last_column)
    with pytest.raises(ImportRefused) as exc:
        import_as(people.supervisor, bytes(data), "花名册.xls")
    assert exc.value.code == "too_many_rows"


def test_an_xls_whose_workbook_is_not_a_stream_is_refused_as_corrupt(people):
    data = bytearray(b.fixture("roster.xls"))
    directory = 512 + struct.unpack_from("<I", data, 0x30)[0] * 512
    workbook = data.find("Workbook".encode("utf-16-le"), directory)
    data[workbook + 66] = 1  # a storage, not a stream: olefile would not tell its size (TypeError)
    with pytest.raises(ImportRefused) as exc:
        import_as(people.supervisor, bytes(data), "花名册.xls")
    assert exc.value.code == "corrupt_file"


@pytest.mark.parametrize("chain", ["directory", "mini stream"])
def test_an_xls_whose_sector_chain_loops_is_refused_before_calamine_follows_it(people, chain):
    # calamine follows a chain until it ends: round a loop it grew until the process ran out of memory.
    data = bytearray(b.fixture("roster.xls"))
    fat = 512 + struct.unpack_from("<I", data, 0x4C)[0] * 512  # the first FAT sector
    directory = struct.unpack_from("<I", data, 0x30)[0]
    # The directory's first sector, or the mini stream's (the root entry's start).
    first = directory if chain == "directory" else struct.unpack_from("<I", data, 512 + directory * 512 + 116)[0]
    last = first
    while (following := struct.unpack_from("<I", data, fat + 4 * last)[0]) != 0xFFFFFFFE:
        last = following
    struct.pack_into("<I", data, fat + 4 * last, first)
    with pytest.raises(ImportRefused) as exc:
        import_as(people.supervisor, bytes(data), "花名册.xls")
    assert exc.value.code == "corrupt_file"
