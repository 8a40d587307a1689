"""The roster importer: formats, header detection, every validation rule, upsert, replace, all-or-none."""

from __future__ import annotations

import datetime
import io

import pytest

from lib.spreadsheets import ImportRefused
from tests.fixtures.rosters import builders as b
from tests.fixtures.rosters.roster_data import EXPECTED
from townships.models import Mediator, Organisation
from townships.roster_import.importer import Report, RosterImporter
from townships.validators import make_id_number

pytestmark = pytest.mark.django_db

FIXTURES = ["roster_openpyxl.xlsx", "roster.xlsx", "roster.xls", "roster.ods", "roster_gbk.csv"]


def run(user, data: bytes, name: str = "花名册.xlsx", **options) -> Report:
    return RosterImporter(user=user, **options).run(io.BytesIO(data), name)


def apply(user, data: bytes, name: str = "花名册.xlsx", **options) -> Report:
    return run(user, data, name, dry_run=False, **options)


def roster_state() -> set[tuple]:
    """What the file put in the database, in the shape of ``roster_data.EXPECTED``."""
    return {
        (
            m.committee.region.code,
            m.name,
            m.sex,
            m.id_number,
            m.mobile,
            m.position,
            m.employment,
            tuple(m.specialities),
            m.note,
        )
        for m in Mediator.objects.select_related("committee__region").filter(id_number__in=[e[3] for e in EXPECTED])
    }


def errors_of(report: Report) -> list[tuple]:
    return [(e.row, e.column, e.message) for e in report.errors]


# --- Formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_the_same_roster_as_xlsx_xls_ods_and_gbk_csv_gives_the_same_roster(people, name):
    report = apply(people.supervisor, b.fixture(name), name)
    assert errors_of(report) == []
    assert (report.total_rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)
    assert report.header_row == 2  # below the merged title row
    assert roster_state() == EXPECTED


def test_files_made_by_libreoffice_are_read_with_their_own_formats(people):
    formats = {name: run(people.supervisor, b.fixture(name), name).file_format for name in FIXTURES}
    assert formats == {
        "roster_openpyxl.xlsx": "xlsx",
        "roster.xlsx": "xlsx",
        "roster.xls": "xls",
        "roster.ods": "ods",
        "roster_gbk.csv": "csv",
    }


def test_importing_the_same_roster_twice_changes_nothing_the_second_time(people):
    apply(people.supervisor, b.fixture("roster.xlsx"), "roster.xlsx")
    stamps = dict(Mediator.objects.values_list("id_number", "updated_at"))
    count = Mediator.objects.count()
    # The same roster again, this time as the xls a colleague saved.
    second = apply(people.supervisor, b.fixture("roster.xls"), "roster.xls")
    assert (second.created, second.updated, second.unchanged, second.deactivated) == (0, 0, 5, 0)
    assert Mediator.objects.count() == count
    assert dict(Mediator.objects.values_list("id_number", "updated_at")) == stamps


def test_a_file_named_xlsx_is_read_by_its_content_whatever_its_name(people):
    report = run(people.supervisor, b.fixture("roster.xls"), "花名册.xlsx")
    assert report.file_format == "xls"
    assert report.error_count == 0


# --- Encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),
        ("gbk", ",", "gb18030"),
        ("gb18030", ",", "gb18030"),
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text"
    ],
)
def test_csv_encodings_are_detected_from_the_bytes(people, encoding, delimiter, expected):
    rows = [b.person(1, 姓名="黄丽珍", male=False), b.person(2, 姓名="欧阳志强", 擅长领域="婚姻家庭、劳动争议")]
    report = apply(people.supervisor, b.csv_bytes(rows, encoding=encoding, delimiter=delimiter), "花名册.csv")
    assert report.encoding == expected
    assert errors_of(report) == []
    assert set(Mediator.objects.filter(name__in=["黄丽珍", "欧阳志强"]).values_list("name", flat=True)) == {
        "黄丽珍",
        "欧阳志强",
    }
    assert Mediator.objects.get(name="欧阳志强").specialities == ["marriage_family", "labour"]


def test_a_csv_in_an_encoding_it_cannot_read_is_refused_with_a_message(people):
    data = "姓名,身份证号码,手机号码\n".encode() + b"\xff\xfe\xfd\xfc" * 10
    with pytest.raises(ImportRefused) as exc:
        run(people.supervisor, data, "花名册.csv")
    assert "编码" in exc.value.message


# --- Header ----------------------------------------------------------------------------------


def test_the_header_is_found_below_title_rows_and_blank_rows(people):
    data = b.xlsx_bytes([b.person(1)], titles=("环市街道人民调解员花名册", "填报单位：环市街道司法所", ""))
    report = apply(people.supervisor, data)
    assert report.header_row == 4
    assert errors_of(report) == []
    assert Mediator.objects.filter(name="测试员1").exists()


def test_column_name_variants_are_recognised(people):
    header = [
        "序号",
        "区县",
        "乡镇",
        "调委会",
        "姓名（必填）",
        "性别",
        "身份证号码（18位）",
        "联系电话",
        "职务",
        "专/兼职",
        "擅长",
        "备注",
    ]
    row = [
        "1",
        "蓬江区",
        "环市街道",
        "",
        "梁小燕",
        "女",
        b.id_number(3, male=False),
        "13712345678",
        "委员",
        "专职",
        "物业",
        "x",
    ]
    report = apply(people.supervisor, b.xlsx_bytes([row], header=header))
    assert errors_of(report) == []
    m = Mediator.objects.get(name="梁小燕")
    assert (m.mobile, m.position, m.employment, m.specialities, m.note) == (
        "13712345678",
        "member",
        "full_time",
        ["property_management"],
        "x",
    )


def test_full_width_spaces_and_blank_rows_are_ignored_and_unknown_columns_skipped(people):
    header = [*b.HEADER, "政治面貌", "学历"]
    rows = [
        [*b.person(1, 姓名="\u3000王芳\u3000", male=False).values(), "群众", "大专"],
        [None] * len(header),
        ["\u3000", "", None, "", "", "", "", "", "", "", "", "", ""],
        [*b.person(2).values(), "党员", "本科"],
    ]
    report = apply(people.supervisor, b.xlsx_bytes(rows, header=header))
    assert errors_of(report) == []
    assert report.total_rows == 2
    assert Mediator.objects.filter(name="王芳").exists()


def test_a_sheet_without_a_recognisable_header_is_refused(people):
    data = b.xlsx_bytes([["张三", "男"]], header=["甲", "乙", "丙"])
    with pytest.raises(ImportRefused) as exc:
        run(people.supervisor, data)
    assert exc.value.code == "no_header"
    assert "表头" in exc.value.message


def test_a_header_missing_a_required_column_is_refused_naming_it(people):
    header = ["县(市、区)", "镇(街)", "姓名", "身份证号码", "职务"]
    with pytest.raises(ImportRefused) as exc:
        run(people.supervisor, b.xlsx_bytes([], header=header))
    assert exc.value.code == "missing_columns"
    assert "手机号码" in exc.value.message


def test_a_file_without_township_columns_needs_a_committee_chosen_at_upload(people):
    header = ["姓名", "性别", "身份证号码", "手机号码"]
    row = ["钟敏", "女", b.id_number(5, male=False), "13600000005"]
    with pytest.raises(ImportRefused) as exc:
        run(people.supervisor, b.xlsx_bytes([row], header=header))
    assert "镇(街)" in exc.value.message
    report = apply(people.supervisor, b.xlsx_bytes([row], header=header), default_committee=people.huanshi)
    assert errors_of(report) == []
    assert Mediator.objects.get(name="钟敏").committee == people.huanshi


# --- Validation rules: each names its row and column --------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "column", "fragment"),
    [
        ({"身份证号码": "440703197001020011"}, "身份证号码", "校验位"),
        ({"身份证号码": "44070319700102"}, "身份证号码", "18位"),
        ({"身份证号码": "440703197013020011"}, "身份证号码", "出生日期"),
        ({"身份证号码": 440703197001020000}, "身份证号码", "存成了数字"),
        ({"身份证号码": ""}, "身份证号码", "不能为空"),
        ({"性别": "女"}, "性别", "与身份证号不一致"),
        ({"性别": "未知"}, "性别", "“男”或“女”"),
        ({"手机号码": "1234567"}, "手机号码", "11位"),
        ({"手机号码": ""}, "手机号码", "不能为空"),
        ({"职务": "组长"}, "职务", "主任、副主任、委员、调解员"),
        ({"职务": ""}, "职务", "不能为空"),
        ({"专兼职": "临时"}, "专兼职", "“专职”或“兼职”"),
        ({"擅长领域": "邻里、天文"}, "擅长领域", "天文"),
        ({"姓名": ""}, "姓名", "姓名不能为空"),
        ({"姓名": "长" * 51}, "姓名", "50"),
        ({"备注": "备" * 201}, "备注", "200"),
        ({"县(市、区)": "东城区"}, "县(市、区)", "东城区"),
        ({"镇(街)": "不存在镇"}, "镇(街)", "没有名为“不存在镇”"),
        ({"县(市、区)": "", "镇(街)": "白沙"}, "县(市、区)", "同名"),
        ({"镇(街)": "白沙镇"}, "镇(街)", "蓬江区下没有名为“白沙镇”"),
        ({"镇(街)": "440781103"}, "镇(街)", "不属于蓬江区"),
        ({"调委会名称": "幸福村人民调解委员会"}, "调委会名称", "没有名为“幸福村人民调解委员会”的调委会"),
        ({"县(市、区)": "", "镇(街)": ""}, "镇(街)", "请填写"),
    ],
)
def test_each_rule_refuses_the_row_naming_row_and_column(people, overrides, column, fragment):
    rows = [b.person(1), b.person(2, **overrides)]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert report.error_count == 1
    (row, col, message), *_ = errors_of(report)
    assert (row, col) == (3, column)  # header on row 1, the faulty person on row 3
    assert fragment in message
    assert not Mediator.objects.filter(name__in=["测试员1", "测试员2"]).exists()


def test_sex_may_be_left_blank_and_is_taken_from_the_id_number(people):
    apply(people.supervisor, b.xlsx_bytes([b.person(1, 性别="", male=False)]))
    assert Mediator.objects.get(name="测试员1").sex == "F"


def test_townships_are_found_by_code_or_by_name_with_or_without_suffix(people):
    variants = ["环市街道", "环市", "环市街", "440703006", "006", "蓬江区环市街道", "环市街道办事处"]
    rows = [b.person(i, **{"镇(街)": v}) for i, v in enumerate(variants, start=1)]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert errors_of(report) == []
    assert set(Mediator.objects.filter(name__startswith="测试员").values_list("committee", flat=True)) == {
        people.huanshi.pk
    }


def test_the_two_baishas_are_told_apart_by_their_county(people):
    rows = [
        b.person(1, **{"县(市、区)": "蓬江区", "镇(街)": "白沙"}),
        b.person(2, **{"县(市、区)": "台山市", "镇(街)": "白沙"}),
        b.person(3, **{"县(市、区)": "", "镇(街)": "台山市白沙镇"}),
    ]
    report = apply(people.city, b.xlsx_bytes(rows))
    assert errors_of(report) == []
    regions = dict(Mediator.objects.filter(name__startswith="测试员").values_list("name", "committee__region__code"))
    assert regions == {"测试员1": "440703002", "测试员2": "440781103", "测试员3": "440781103"}


def test_a_village_committee_is_found_by_its_name_with_or_without_the_full_suffix(people):
    village = Organisation.objects.create(
        name="北郊社区人民调解委员会",
        kind=Organisation.Kind.MEDIATION_COMMITTEE,
        committee_type=Organisation.CommitteeType.VILLAGE,
        region=people.huanshi.region,
    )
    rows = [b.person(1, 调委会名称="北郊社区人民调解委员会"), b.person(2, 调委会名称="北郊社区调委会")]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert errors_of(report) == []
    assert set(Mediator.objects.filter(name__startswith="测试员").values_list("committee", flat=True)) == {village.pk}


def test_the_example_row_of_the_template_is_not_imported(people):
    report = apply(people.supervisor, b.xlsx_bytes([b.person(1, 姓名="张三（示例，导入前请删除此行）")]))
    assert "示例行" in errors_of(report)[0][2]


def test_duplicates_inside_the_file_are_refused_naming_the_first_row(people):
    rows = [b.person(1), b.person(2), b.person(1, 姓名="重复的人")]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert errors_of(report) == [(4, "身份证号码", "与第2行重复：同一调委会中同一身份证号只能出现一次。")]


def test_the_same_person_may_sit_on_two_committees(people):
    rows = [b.person(1), b.person(1, **{"镇(街)": "潮连街道"})]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert errors_of(report) == []
    assert Mediator.objects.filter(id_number=b.id_number(1)).count() == 2


def test_rows_for_rosters_the_user_does_not_manage_are_refused(people):
    rows = [b.person(1), b.person(2, **{"县(市、区)": "台山市", "镇(街)": "台城街道"})]
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert [(e.row, e.code) for e in report.errors] == [(3, "forbidden")]
    assert "台城街道人民调解委员会" in report.errors[0].message
    assert not Mediator.objects.filter(name__startswith="测试员").exists()


# --- All or none -----------------------------------------------------------------------------


def test_a_file_with_mistakes_is_refused_whole_with_every_mistake_listed_by_row_and_column(people):
    rows = [
        b.person(1),
        b.person(2, 手机号码="12345"),
        b.person(3),
        b.person(4, 性别="女", 职务="组长"),
        b.person(5, **{"身份证号码": "440703197001060011"}),
    ]
    before = Mediator.objects.count()
    report = apply(people.supervisor, b.xlsx_bytes(rows, titles=("环市街道人民调解员花名册",)))
    assert [(row, column) for row, column, _m in errors_of(report)] == [
        (4, "手机号码"),
        (6, "性别"),
        (6, "职务"),
        (7, "身份证号码"),
    ]
    assert [e.letter for e in report.errors] == ["G", "E", "H", "F"]
    assert Mediator.objects.count() == before


def test_an_error_in_the_last_row_undoes_batches_already_written(people, settings):
    settings.ROSTER_IMPORT = {"batch_size": 2}
    rows = [b.person(i) for i in range(1, 8)] + [b.person(8, 手机号码="x")]
    before = Mediator.objects.count()
    report = apply(people.supervisor, b.xlsx_bytes(rows))
    assert report.error_count == 1
    assert Mediator.objects.count() == before


def test_a_dry_run_reports_what_would_change_and_writes_nothing(people):
    report = run(people.supervisor, b.fixture("roster.xlsx"), "roster.xlsx", dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert not Mediator.objects.filter(id_number__in=[e[3] for e in EXPECTED]).exists()


# --- Upsert and replace ----------------------------------------------------------------------


def test_a_changed_row_updates_only_that_person(people):
    apply(people.supervisor, b.xlsx_bytes([b.person(1), b.person(2)]))
    report = apply(people.supervisor, b.xlsx_bytes([b.person(1, 手机号码="13500000001", 职务="主任"), b.person(2)]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    m = Mediator.objects.get(name="测试员1")
    assert (m.mobile, m.position) == ("13500000001", "chair")


def test_columns_the_file_does_not_have_leave_those_fields_as_they_are(people):
    apply(people.supervisor, b.xlsx_bytes([b.person(1, 备注="调解能手", 擅长领域="医疗", 专兼职="专职")]))
    header = ["县(市、区)", "镇(街)", "姓名", "身份证号码", "手机号码"]
    row = ["蓬江区", "环市", "测试员1", b.id_number(1), "13600000009"]
    report = apply(people.supervisor, b.xlsx_bytes([row], header=header))
    assert report.updated == 1
    m = Mediator.objects.get(name="测试员1")
    assert (m.mobile, m.note, m.specialities, m.employment) == ("13600000009", "调解能手", ["medical"], "full_time")


def test_replace_deactivates_the_absent_of_covered_committees_and_deletes_nobody(people):
    chaolian = Organisation.objects.get(region__code="440703005", kind=Organisation.Kind.MEDIATION_COMMITTEE)
    apply(people.supervisor, b.xlsx_bytes([b.person(1), b.person(2), b.person(3, **{"镇(街)": "潮连"})]))
    total = Mediator.objects.count()
    preview = run(people.supervisor, b.xlsx_bytes([b.person(1)]), replace=True)
    # 环市 had 测试员2 and the two personas' mediators; 潮连 is not in the file and is left alone.
    assert preview.deactivated == 3
    assert Mediator.objects.filter(committee=people.huanshi, active=True).count() == 4  # dry run: nothing yet
    report = apply(people.supervisor, b.xlsx_bytes([b.person(1)]), replace=True)
    assert report.deactivated == 3
    assert Mediator.objects.count() == total
    assert list(Mediator.objects.filter(committee=people.huanshi, active=True).values_list("name", flat=True)) == [
        "测试员1"
    ]
    assert Mediator.objects.get(name="测试员3", committee=chaolian).active


def test_a_person_listed_again_is_back_on_the_roster(people):
    people.second.active = False
    people.second.save()
    row = b.person(
        1,
        姓名=people.second.name,
        身份证号码=people.second.id_number,
        手机号码=people.second.mobile,
        性别="男",
        擅长领域="",
    )
    report = apply(people.supervisor, b.xlsx_bytes([row]))
    assert report.updated == 1
    people.second.refresh_from_db()
    assert people.second.active


def test_a_missing_township_committee_is_created_and_a_dry_run_only_announces_it(people):
    committee = Organisation.objects.get(region__code="440703103", kind=Organisation.Kind.MEDIATION_COMMITTEE)
    committee.delete()
    data = b.xlsx_bytes([b.person(1, **{"镇(街)": "杜阮"}), b.person(2, **{"镇(街)": "杜阮镇"})])
    preview = run(people.supervisor, data)
    assert preview.committee_list() == [
        {"id": None, "name": "杜阮镇人民调解委员会", "region_code": "440703103", "created": True, "rows": 2}
    ]
    assert not Organisation.objects.filter(region__code="440703103", kind="mediation_committee").exists()
    apply(people.supervisor, data)
    created = Organisation.objects.get(region__code="440703103", kind="mediation_committee")
    assert (created.name, created.committee_type, created.parent.name) == (
        "杜阮镇人民调解委员会",
        "township",
        "杜阮镇司法所",
    )
    assert created.mediators.count() == 2


# --- Files refused whole ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "code", "fragment"),
    [
        ("炸弹.xlsx", b.zip_bomb_xlsx(40), "zip_bomb", "压缩炸弹"),
        ("宏.xlsm", b.xlsx_bytes([b.person(1)]), "macro_enabled", "宏"),
        ("宏.xlsx", b.macro_xlsx(), "macro_enabled", "宏"),
        ("宏2.xlsx", b.macro_xlsx(content_type=True), "macro_enabled", "宏"),
        ("加密.xlsx", b.encrypted_xlsx(), "encrypted", "密码"),
        ("乱码.xlsx", bytes(range(256)) * 40, "not_a_spreadsheet", "不是有效的"),
        ("乱码.csv", bytes(range(256)) * 40, "not_a_spreadsheet", "二进制"),
        ("网页.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "not_a_spreadsheet", "网页"),
        ("空.xlsx", b"", "empty_file", "空"),
        ("坏.xlsx", b"PK\x03\x04" + b"\x00" * 100, "corrupt_file", "损坏"),
        ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported_type", "不支持"),
    ],
)
def test_hostile_or_broken_files_are_refused_with_a_message_and_nothing_written(people, name, data, code, fragment):
    mediators, committees = Mediator.objects.count(), Organisation.objects.count()
    with pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, data, name)
    assert exc.value.code == code
    assert fragment in exc.value.message
    assert (Mediator.objects.count(), Organisation.objects.count()) == (mediators, committees)


def test_an_oversized_file_is_refused_before_it_is_read(people, settings):
    settings.ROSTER_IMPORT = {"max_bytes": 1000}
    with pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, b.fixture("roster.xlsx"), "roster.xlsx")
    assert exc.value.code == "file_too_large"
    assert "MB" in exc.value.message


def test_too_many_rows_are_refused_and_nothing_is_written(people, settings):
    settings.ROSTER_IMPORT = {"max_rows": 3, "batch_size": 1}
    before = Mediator.objects.count()
    with pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, b.xlsx_bytes([b.person(i) for i in range(1, 6)]))
    assert exc.value.code == "too_many_rows"
    assert "3" in exc.value.message
    assert Mediator.objects.count() == before


def test_a_sheet_stretched_by_a_far_away_cell_is_refused_quickly(people, settings):
    import openpyxl

    settings.ROSTER_IMPORT = {"max_rows": 10}
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(b.HEADER)
    sheet.append(list(b.person(1).values()))
    sheet.cell(row=500_000, column=1, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportRefused) as exc:
        apply(people.supervisor, buffer.getvalue())
    assert exc.value.code == "too_many_rows"


# --- A large roster in flat memory -----------------------------------------------------------


def big_roster_xlsx(path, rows: int) -> None:
    """A roster of ``rows`` people over the six townships of 蓬江区, as openpyxl's write-only mode writes it."""
    import openpyxl

    townships = ["白沙街道", "潮连街道", "环市街道", "棠下镇", "荷塘镇", "杜阮镇"]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["蓬江区人民调解员花名册"])
    sheet.append(["序号", *b.HEADER])
    for i in range(rows):
        male = i % 2 == 0
        id_number = make_id_number("440703", datetime.date(1950, 1, 1) + datetime.timedelta(days=i), i, male=male)
        row = b.person(1, male=male, 姓名=f"调解员{i}", 身份证号码=id_number, 手机号码=f"139{i:08d}")
        row["镇(街)"] = townships[i % 6]
        sheet.append([i + 1, *row.values()])
    workbook.save(path)


def test_a_20000_row_roster_is_checked_without_holding_the_file_in_memory(people, tmp_path):
    from tests.memory import PeakMemory

    path = tmp_path / "蓬江区花名册.xlsx"
    big_roster_xlsx(path, 20_000)
    with PeakMemory() as memory, open(path, "rb") as handle:
        report = RosterImporter(user=people.supervisor, dry_run=True).run(handle, path.name)
    assert (report.total_rows, report.created, report.error_count) == (20_000, 20_000, 0)
    # Reading the sheet into memory (openpyxl's normal mode) takes over 100 MB; the rows' cell
    # values alone would be about 20 MB. What is kept is a key per row for the duplicate check.
    print(f"20,000-row dry run: resident memory rose {memory.rise_mb:.1f} MB")
    assert memory.rise_mb < 40, f"rose {memory.rise_mb:.1f} MB"


def test_a_roster_reads_the_same_when_the_uploader_uses_the_site_in_english(people):
    from django.utils import translation

    rows = [b.person(1, 擅长领域="邻里、婚姻家庭", 职务="主任", 专兼职="专职")]
    with translation.override("en"):
        report = RosterImporter(user=people.supervisor, dry_run=True).run(io.BytesIO(b.xlsx_bytes(rows)), "r.xlsx")
    assert report.error_count == 0, report.errors
    assert report.created == 1


def test_the_template_offers_the_chinese_values_the_importer_reads_in_any_language(people):
    import openpyxl
    from django.utils import translation

    from lib.spreadsheets import xlsx_response
    from townships.roster_import.workbooks import template_workbook

    with translation.override("en"):
        response = xlsx_response(template_workbook(people.supervisor), "t.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = {c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value}
    assert {"男", "兼职", "主任"} <= values
    assert "Male" not in values


def test_mediator_names_are_stored_without_hidden_characters_and_never_as_formulas(people):
    rows = [
        b.person(1, 姓名="黄\u200b丽\u202e华"),
        b.person(2, 姓名="@张三"),
        b.person(3, 姓名="\u200b\u200b"),
    ]
    report = run(people.supervisor, b.xlsx_bytes(rows))
    messages = {row: message for row, column, message in errors_of(report)}
    assert "不能以 =、+、-、@ 开头" in messages[3]
    assert "不能为空" in messages[4]
    report = apply(people.supervisor, b.xlsx_bytes(rows[:1]))
    assert errors_of(report) == []
    assert Mediator.objects.get(id_number=b.id_number(1)).name == "黄丽华"
