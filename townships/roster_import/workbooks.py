"""The workbooks of a roster import: the error list (the original rows, each with its mistakes) and
the import template (header, example row, drop-downs, instructions)."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from lib.spreadsheets import Column as XColumn
from lib.spreadsheets import (
    SheetWriter,
    SpreadsheetFile,
    cell_text,
    guarded,
    inspect_file,
    is_blank,
    new_workbook,
)
from townships.categories import Category
from townships.models import Mediator, Region, RosterImport
from townships.roles import roster_scope
from townships.roster_import.columns import COLUMN_BY_KEY, HEADER_PROBLEMS, TEMPLATE_COLUMNS, find_header
from townships.roster_import.importer import limits
from townships.roster_import.rows import ROSTER_LANGUAGE


def error_workbook(record: RosterImport):
    """The original rows, each with what is wrong with it: fix in place and upload again.

    Every data row is kept (so the corrected file is the whole roster), with two added columns the
    importer ignores: the row number in the original file, and the errors.
    """
    by_row: dict[int, list[str]] = {}
    for error in record.errors:
        if error.get("row"):
            by_row.setdefault(error["row"], []).append(f"{error['column']}：{error['message']}")
    workbook = new_workbook()
    with record.file.open("rb") as handle:
        info = inspect_file(handle, record.file_name, record.file_size, limits())
        book = SpreadsheetFile(handle, info, record.file_size, limits())
        try:
            sheet, header = book.first_sheet_with(find_header, retry_codes=HEADER_PROBLEMS)
            titles = list(header.titles)
            width = len(titles)
            columns = [XColumn(_("原行号"), 8)] + [XColumn(t or "", 16) for t in titles] + [XColumn(_("错误说明"), 60)]
            writer = SheetWriter(workbook, _("错误清单"), columns)
            for number, values in guarded(sheet.rows(width=width)):
                if number <= header.row or is_blank(values):
                    continue
                texts = [cell_text(v) for v in values] + [""] * (width - len(values))
                writer.write([number, *texts, "；".join(by_row.get(number, []))])
        finally:
            book.close()
    if record.error_count > len(record.errors):
        notes = SheetWriter(workbook, _("说明"), [XColumn(_("说明"), 80)])
        notes.write(
            [_("共 %(n)d 处错误，此表只标出前 %(m)d 处。") % {"n": record.error_count, "m": len(record.errors)}]
        )
    return workbook


def template_workbook(user):
    """The import template: header, one example row, drop-downs, and a sheet of instructions.

    The township list holds the townships whose rosters this user manages (all 73 for the city).
    Written in Chinese whatever the user's language: it is the file the importer reads back.
    """
    with translation.override(ROSTER_LANGUAGE):
        return _template_workbook(user)


def _template_workbook(user):
    from townships.validators import make_id_number

    scope = roster_scope(user)
    townships = Region.objects.filter(level=Region.Level.TOWNSHIP).select_related("parent").order_by("code")
    if scope is not None:
        within = Q(pk__in=[])
        for code in scope:
            within |= Q(code__startswith=code)
        townships = townships.filter(within)
    townships = list(townships)
    counties = sorted({t.parent.name for t in townships if t.parent}, key=lambda n: n)
    example = townships[0] if townships else None

    widths = {
        "county": 12,
        "township": 14,
        "committee": 26,
        "name": 10,
        "sex": 6,
        "id_number": 22,
        "mobile": 15,
        "position": 9,
        "employment": 8,
        "specialities": 22,
        "note": 24,
    }
    workbook = new_workbook()
    roster = SheetWriter(
        workbook, _("花名册"), [XColumn(str(COLUMN_BY_KEY[k].label), widths[k]) for k in TEMPLATE_COLUMNS]
    )
    last = 2001
    options = [
        ("sex", [str(Mediator.Sex.MALE.label), str(Mediator.Sex.FEMALE.label)]),
        ("position", [str(label) for _v, label in Mediator.Position.choices]),
        ("employment", [str(label) for _v, label in Mediator.Employment.choices]),
        ("county", counties),
        ("township", [t.name for t in townships]),
    ]
    for index, (key, values) in enumerate(options):
        option_col = chr(ord("A") + index)
        roster.choose_from(
            TEMPLATE_COLUMNS.index(key),
            last,
            f"='{_('选项')}'!${option_col}$2:${option_col}${len(values) + 1}",
            title=str(_("请从列表中选择")),
            error=str(_("请从下拉列表中选择“%s”。") % COLUMN_BY_KEY[key].label),
        )
    if example is not None:
        roster.write(
            [
                example.parent.name if example.parent else "",
                example.name,
                f"{example.name}人民调解委员会",
                _("张三（示例，导入前请删除此行）"),
                _("男"),
                make_id_number(example.code, datetime.date(1970, 1, 1), 11, male=True),
                "13800000000",
                _("调解员"),
                _("兼职"),
                "、".join(str(Category(c).label) for c in ("neighbour", "marriage_family")),
                "",
            ]
        )
    # ID numbers and mobiles typed into a "General" cell become numbers and lose digits: pre-format
    # the rows people will fill as text.
    roster.blank_text_rows(501, (TEMPLATE_COLUMNS.index("id_number"), TEMPLATE_COLUMNS.index("mobile")))

    lists = SheetWriter(workbook, _("选项"), [XColumn(str(COLUMN_BY_KEY[k].label), 16) for k, _v in options])
    for i in range(max(len(v) for _k, v in options)):
        lists.write([values[i] if i < len(values) else None for _k, values in options])
    lists.hide()

    guide = SheetWriter(workbook, _("填写说明"), [XColumn(_("填写说明"), 100)])
    for line in instructions():
        guide.write([line])
    return workbook


def instructions() -> list[str]:
    categories = "、".join(str(label) for _v, label in Category.choices)
    return [
        _("1. 一行填写一名人民调解员；表头（第一行）请勿修改。可以在表头上方加标题行，系统会自动识别表头。"),
        _(
            "2. 县(市、区)和镇(街)必填：镇(街)可以写名称（带不带“镇”“街道”均可）或9位区划代码。"
            "同名镇(街)（如蓬江区白沙街道与台山市白沙镇）靠县(市、区)区分。"
        ),
        _(
            "3. 调委会名称可不填，不填即为该镇(街)人民调解委员会（系统中没有时自动建立）"
            "；村(居)或行业性专业性调委会须填写系统中登记的完整名称。"
        ),
        _("4. 身份证号码须为18位且校验位正确；请把该列设为“文本”格式，否则 Excel 会把号码变成科学计数法并丢失后几位。"),
        _("5. 性别可不填（按身份证号自动判断）；填写时须与身份证号一致。手机号码为11位。"),
        _("6. 职务：主任、副主任、委员、调解员；专兼职：专职、兼职。"),
        _("7. 擅长领域可填多个，用顿号分隔，可选：%s。") % categories,
        _(
            "8. 同一调委会内按身份证号识别同一人：已在册的人员会按表格更新，未在册的新增。"
            "选择“替换花名册”时，表中涉及的调委会里不在表中的人员将被标为“不在册”（不会删除）"
            "。"
        ),
        _("9. 导入前系统先预览检查；只要有一处错误，整个文件都不会导入，可下载错误清单逐行改正。"),
        _("10. 支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）；不接受含宏或加密的文件。"),
        _("11. 导入后24小时内，导入人或负责这些花名册的人员可在导入结果页撤销这次导入。"),
    ]
