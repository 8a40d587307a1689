"""The roster importer fed truncated, random and hostile files (hypothesis).

Whatever the bytes and the name, ``RosterImporter(...).run(...)`` (an apply, not a dry run) ends in
one of three ways: ``ImportRefused`` with a message for the user, a report listing row errors, or a
clean report. Never another exception; nothing written unless the report is clean; bounded time and
memory. tests/townships/test_import_roster.py has one example of each hostile kind; here they are
generated.

Size: ``FUZZ_EXAMPLES`` examples per property (40 in ``make test``, 2,000 under ``make fuzz``);
the heavy structures (bombs, entity expansions) a tenth of that.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import time
import zipfile

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lib.spreadsheets import ImportRefused
from tests.fixtures.rosters import builders as b
from tests.memory import PeakMemory
from townships.models import Mediator, Organisation
from townships.roster_import.importer import Report, RosterImporter

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
heavy = settings(fuzz, max_examples=max(4, EXAMPLES // 10))

NAMES = st.sampled_from(["花名册.xlsx", "花名册.xls", "花名册.csv", "花名册.ods", "花名册.txt", "花名册", "名单.XLSX"])
REFUSAL_CODES = {
    "file_too_large",
    "empty_file",
    "macro_enabled",
    "encrypted",
    "zip_bomb",
    "corrupt_file",
    "not_a_spreadsheet",
    "unsupported_type",
    "unknown_encoding",
    "unsafe_content",
    "no_header",
    "missing_columns",
    "too_many_rows",
}
SECONDS = 10
MEGABYTES = 64


def roster_state() -> tuple:
    return (
        tuple(Mediator.objects.order_by("pk").values_list("pk", "active", "mobile", "updated_at")),
        Organisation.objects.count(),
    )


def outcome(user, data: bytes, name: str) -> ImportRefused | Report:
    """Apply the file; assert the outcome is one of the three allowed, timely, and writes only when clean."""
    before = roster_state()
    started = time.monotonic()
    try:
        result: ImportRefused | Report = RosterImporter(user=user, dry_run=False).run(io.BytesIO(data), name)
    except ImportRefused as refusal:
        result = refusal
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"{name}: {elapsed:.1f} s"
    if isinstance(result, ImportRefused):
        assert result.code in REFUSAL_CODES, result.code
        assert result.message.strip() and "Traceback" not in result.message
    if isinstance(result, ImportRefused) or result.error_count or not result.total_rows:
        assert roster_state() == before, f"{name}: written although {result!r}"
    else:
        assert result.created + result.updated + result.unchanged == result.total_rows
    return result


def xlsx_with(parts: dict[str, bytes], source: bytes | None = None) -> bytes:
    """A real roster workbook with some of its parts replaced (or added)."""
    source = source or b.xlsx_bytes([b.person(1), b.person(2)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, parts.pop(item.filename, None) or zin.read(item.filename))
        for name, data in parts.items():
            zout.writestr(name, data)
    return out.getvalue()


# --- Random and truncated bytes ------------------------------------------------------------------


@fuzz
@given(data=st.binary(max_size=4096), name=NAMES)
def test_random_bytes_under_any_name_are_refused_or_reported_never_a_crash(people, data, name):
    outcome(people.supervisor, data, name)


@fuzz
@given(
    fixture=st.sampled_from(["roster.xlsx", "roster.xls", "roster.ods", "roster_gbk.csv", "roster_openpyxl.xlsx"]),
    cut=st.floats(min_value=0.0, max_value=0.999),
)
def test_a_truncated_roster_is_refused_or_reported(people, fixture, cut):
    data = b.fixture(fixture)
    outcome(people.supervisor, data[: int(len(data) * cut)], fixture)


@fuzz
@given(
    fixture=st.sampled_from(["roster.xlsx", "roster.xls", "roster.ods"]),
    flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(1, 255)), min_size=1, max_size=8),
)
def test_a_roster_with_corrupted_bytes_is_refused_or_reported(people, fixture, flips):
    data = bytearray(b.fixture(fixture))
    for where, xor in flips:
        data[int(len(data) * where)] ^= xor
    outcome(people.supervisor, bytes(data), fixture)


# --- Hostile structures --------------------------------------------------------------------------


def laughs(depth: int, width: int, *, external: bool = False) -> bytes:
    """A DOCTYPE declaring ``e<depth>``, which expands to width ** depth copies of "ha" (and ``xxe``)."""
    entities = ['<!ENTITY e0 "ha">'] + [f'<!ENTITY e{n} "{f"&e{n - 1};" * width}">' for n in range(1, depth + 1)]
    if external:
        entities.append('<!ENTITY xxe SYSTEM "file:///etc/passwd">')
    return f'<?xml version="1.0"?><!DOCTYPE x [{"".join(entities)}]>'.encode()


def poisoned(part: str, depth: int, width: int, *, external: bool) -> bytes:
    """A real roster whose ``part`` declares the entities, and uses one in place of a name if it holds one."""
    source = b.xlsx_bytes([b.person(1), b.person(2)])
    with zipfile.ZipFile(io.BytesIO(source)) as z:
        xml = re.sub(rb"^<\?xml[^>]*\?>", b"", z.read(part))
    reference = b"&xxe;" if external else f"&e{depth};".encode()
    return xlsx_with(
        {part: laughs(depth, width, external=external) + xml.replace("测试员1".encode(), reference, 1)}, source
    )


# Every part openpyxl reads when it opens a workbook for its rows.
PARTS = [
    "xl/worksheets/sheet1.xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "[Content_Types].xml",
    "docProps/core.xml",
]


@heavy
@given(part=st.sampled_from(PARTS), depth=st.integers(2, 9), width=st.integers(2, 10), external=st.booleans())
def test_entity_expansion_and_external_entities_inside_an_xlsx_are_refused_in_bounded_memory(
    people, part, depth, width, external
):
    with PeakMemory() as memory:
        result = outcome(people.supervisor, poisoned(part, depth, width, external=external), "花名册.xlsx")
    assert isinstance(result, ImportRefused), f"{part}: {result}"
    assert "root:" not in result.message
    assert memory.rise_mb < MEGABYTES, f"{memory.rise_mb:.0f} MB"


@heavy
@given(unpacked_mb=st.integers(24, 400), entries=st.integers(1, 3))
def test_zip_bombs_of_any_size_are_refused_before_they_are_unpacked(people, unpacked_mb, entries):
    buffer = io.BytesIO()
    chunk = b"<row/>" * (1024 * 1024 // 6)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        for n in range(entries):
            with z.open(f"xl/worksheets/sheet{n + 1}.xml", "w") as member:
                for _ in range(-(-unpacked_mb // entries)):
                    member.write(chunk)
    with PeakMemory() as memory:
        result = outcome(people.supervisor, buffer.getvalue(), "花名册.xlsx")
    assert isinstance(result, ImportRefused) and result.code == "zip_bomb", result
    assert memory.rise_mb < MEGABYTES, f"{memory.rise_mb:.0f} MB"


@heavy
@given(parts=st.integers(2_001, 3_000))
def test_a_workbook_of_thousands_of_parts_is_refused(people, parts):
    data = xlsx_with({f"xl/media/image{n}.png": b"x" for n in range(parts)})
    result = outcome(people.supervisor, data, "花名册.xlsx")
    assert isinstance(result, ImportRefused) and result.code == "zip_bomb", result


@heavy
@given(size_kb=st.integers(64, 4096), column=st.sampled_from(["姓名", "身份证号码", "手机号码", "备注", "镇(街)"]))
def test_a_huge_cell_is_a_row_error_or_a_refusal_in_bounded_memory(people, size_kb, column):
    row = b.person(1, **{column: "调" * (size_kb * 1024 // 3)})
    data = b.xlsx_bytes([row])
    with PeakMemory() as memory:
        result = outcome(people.supervisor, data, "花名册.xlsx")
    if isinstance(result, Report) and column != "备注":
        assert result.error_count >= 1
    assert memory.rise_mb < MEGABYTES, f"{memory.rise_mb:.0f} MB"


FORMULAS = st.sampled_from(
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","点我")',
        "=cmd|' /C calc'!A0",
        "+SUM(A1:A9)",
        "-2+3",
        "@SUM(1)",
        '=WEBSERVICE("http://evil.example")',
        "\t=1",
    ]
)


def exported_cells(user) -> dict[str, object]:
    """The roster export as the keeper downloads it: text cells by their text."""
    import openpyxl

    from tests.conftest import api

    content = b"".join(api(user).get("/api/exports/roster.xlsx?active=all").streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}


# A formula's result as Excel saves it beside the formula, itself looking like a formula.
CACHED = "=SUM(9)缓存"


def with_cached_result(data: bytes, reference: str) -> bytes:
    """The workbook with the formula in ``reference`` given a saved (cached) text result."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cell = re.compile(rb'<c r="%s"([^>]*)>(<f>.*?</f>)<v\s*/>(?:</v>)?' % reference.encode())
                content, found = cell.subn(
                    rb'<c r="%s" t="str"\1>\2<v>%s</v>' % (reference.encode(), CACHED.encode()), content
                )
                assert found == 1, content
            zout.writestr(item.filename, content)
    return out.getvalue()


@fuzz
@given(
    column=st.sampled_from(["姓名", "备注", "擅长领域", "职务", "手机号码"]),
    formula=FORMULAS,
    typed=st.booleans(),
    cached=st.booleans(),
)
@example(column="姓名", formula="=1+1", typed=False, cached=True)
@example(column="备注", formula="=1+1", typed=False, cached=True)
@example(column="备注", formula="=1+1", typed=False, cached=False)
def test_formulas_are_never_evaluated_and_come_back_out_as_text(people, column, formula, typed, cached):
    """Nothing in a file is computed here. A formula cell is imported as the result Excel saved with it
    (what the keeper saw), or empty without one; text that looks like a formula as its text; else the
    row is refused. The roster export writes what was imported as text, so that Excel does not run it
    either."""
    import openpyxl

    row = b.person(1)
    Mediator.objects.filter(id_number=row["身份证号码"]).delete()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(b.HEADER)
    sheet.append(list(row.values()))
    cell = sheet.cell(row=2, column=b.HEADER.index(column) + 1)
    cell.value = formula
    if typed:
        cell.data_type = "s"  # typed text that merely looks like a formula
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    is_formula = cell.data_type == "f"
    if is_formula and cached:
        data = with_cached_result(data, cell.coordinate)
    result = outcome(people.supervisor, data, "花名册.xlsx")
    if not isinstance(result, Report) or not result.created:
        return
    mediator = Mediator.objects.get(id_number=row["身份证号码"], committee=people.huanshi)
    # Trimmed of surrounding blanks; never the formula's text, never a value computed from it.
    expected = (CACHED if cached else "") if is_formula else formula.strip()
    if column == "姓名":
        assert mediator.name == expected
    elif column == "备注":
        assert mediator.note == expected
    else:
        assert (mediator.name, mediator.note) == (row["姓名"], "")
    if expected and expected in (mediator.name, mediator.note):
        exported = exported_cells(people.supervisor)[expected]
        assert exported.data_type == "s" and exported.quotePrefix


ENCODINGS = st.sampled_from(
    ["utf-16-le", "utf-16-be", "utf-32", "shift_jis", "big5", "euc-kr", "latin-1", "cp1252", "koi8-r", "utf-7"]
)


@fuzz
@given(encoding=ENCODINGS, delimiter=st.sampled_from([",", "\t", ";", "|"]), rows=st.integers(1, 5))
def test_a_csv_in_an_unexpected_encoding_is_refused_or_reported(people, encoding, delimiter, rows):
    text = b.csv_bytes([b.person(i) for i in range(1, rows + 1)], delimiter=delimiter).decode("utf-8")
    data = text.encode(encoding, errors="replace")
    assume(not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)))
    result = outcome(people.supervisor, data, "花名册.csv")
    # None of these encodings can carry the Chinese header as GB18030 or UTF-8 would read it.
    assert isinstance(result, ImportRefused) or result.error_count or not result.total_rows


@fuzz
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig", "utf-16"]))
def test_any_text_as_a_csv_is_refused_or_reported(people, text, encoding):
    outcome(people.supervisor, text.encode(encoding, errors="replace"), "花名册.csv")
