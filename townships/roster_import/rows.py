"""One roster row checked field by field: what each cell may hold, and what is stored from it.

Every field has one check (``RowChecker.FIELDS``, in the order the mistakes are listed); each
returns the value to store or raises ``Invalid`` with the message for that cell. The shared
validators (``townships/validators.py``) do the ID numbers, mobiles and names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.spreadsheets import cell_text, rounded_by_excel
from townships.categories import Category
from townships.models import Mediator
from townships.roster_import.places import CommitteeRef
from townships.validators import (
    FORMULA_START,
    normalise_name,
    sex_from_id_number,
    to_halfwidth,
    validate_id_number,
    validate_mobile,
)

# Roster files are written in Chinese whatever language the uploader reads the site in: the
# values a cell may hold are the Chinese labels (the messages about them are in the user's language).
ROSTER_LANGUAGE = "zh-hans"
SEX_VALUES = {"男": "M", "男性": "M", "M": "M", "女": "F", "女性": "F", "F": "F"}
with translation.override(ROSTER_LANGUAGE):
    POSITION_VALUES = {str(label): value for value, label in Mediator.Position.choices} | {"人民调解员": "mediator"}
    EMPLOYMENT_VALUES = {str(label): value for value, label in Mediator.Employment.choices} | {
        "专": "full_time",
        "兼": "part_time",
    }
_SPECIALITY_SYNONYMS = {
    "婚姻": "marriage_family",
    "家庭": "marriage_family",
    "婚姻家庭纠纷": "marriage_family",
    "邻里关系": "neighbour",
    "房屋": "housing_homestead",
    "宅基地": "housing_homestead",
    "劳动": "labour",
    "劳资": "labour",
    "劳资纠纷": "labour",
    "欠薪": "labour",
    "医患": "medical",
    "医患纠纷": "medical",
    "交通事故": "traffic",
    "交通": "traffic",
    "物业管理": "property_management",
    "征地": "land_requisition",
    "拆迁": "land_requisition",
    "土地": "forest_land",
    "山林": "forest_land",
    "环境": "pollution",
    "消费者": "consumer",
    "损害": "damages",
    "人身损害": "damages",
    "经营": "business",
}
_SPLIT_LIST = re.compile(r"[、,，;；/／\s]+")
_POSITION_PREFIX = re.compile(r"^(人民调解委员会|调解委员会|调委会)")


def speciality_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    with translation.override(ROSTER_LANGUAGE):
        for value, label in Category.choices:
            table[value] = value
            table[str(label)] = value
            table[f"{label}纠纷"] = value
    return table | _SPECIALITY_SYNONYMS


# The message for an ID number a spreadsheet kept as a number (it keeps 15 digits of 18).
ROUNDED_ID_NUMBER = gettext_lazy("身份证号被Excel存成了数字，后几位已丢失，请将该列设为文本后重新填写")


@dataclass
class RowError:
    row: int | None
    column: str
    message: str
    letter: str = ""
    code: str = "invalid"  # "forbidden": a roster the user may not manage

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "message": self.message,
            "code": self.code,
        }


@dataclass
class Candidate:
    """One valid row waiting for its batch: the committee, the ID number and the new values."""

    row: int
    committee: CommitteeRef
    id_number: str
    values: dict[str, object]


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        self.message = str(message)
        super().__init__(self.message)


def _required(raw: object, validate: Callable[[str], str], empty: str) -> str:
    """A cell that must be filled, checked by its shared validator, whose first message is the cell's."""
    text = cell_text(raw)
    if not text:
        raise Invalid(empty)
    try:
        return validate(text)
    except ValidationError as exc:
        raise Invalid(exc.messages[0]) from None


class RowChecker:
    """The checks of one row's cells. ``typed``: the file's reader tells numbers from text (every
    format but CSV), which is how an ID number Excel turned into a number is recognised."""

    # (field, checked even when the file has no such column). A column the file does not have
    # leaves that field of an existing entry as it is; sex is then taken from the ID number.
    FIELDS: tuple[tuple[str, bool], ...] = (
        ("name", True),
        ("id_number", True),
        ("sex", True),
        ("mobile", True),
        ("position", False),
        ("employment", False),
        ("specialities", False),
        ("note", False),
    )

    def __init__(self, *, typed: bool = True) -> None:
        self.typed = typed
        self.speciality_codes = speciality_lookup()

    def check(self, cell: Callable[[str], object], present: Container[str]) -> tuple[dict, list[tuple[str, str]]]:
        """The values to store, and (field, message) of each mistake. A field whose check failed is
        not stored; later checks see what was stored (sex is checked against a valid ID number)."""
        values: dict[str, object] = {}
        problems: list[tuple[str, str]] = []
        for key, always in self.FIELDS:
            if not always and key not in present:
                continue
            check = getattr(self, f"_{key}")
            try:
                values[key] = check(cell(key) if key in present else None, values)
            except Invalid as exc:
                problems.append((key, exc.message))
        return values, problems

    @staticmethod
    def _name(raw: object, values: dict) -> str:
        name = normalise_name(cell_text(raw))
        if not name:
            raise Invalid(_("姓名不能为空。"))
        if len(name) > 50:
            raise Invalid(_("姓名不能超过50个字。"))
        if name.startswith(FORMULA_START):
            raise Invalid(_("姓名不能以 =、+、-、@ 开头。"))
        if "示例" in name:
            raise Invalid(_("这是导入模板中的示例行，请删除后再导入。"))
        return name

    def _id_number(self, raw: object, values: dict) -> str:
        # Told by the cell's type, not its digits: a rounded number may still pass the check digit.
        if rounded_by_excel(raw, typed=self.typed):
            raise Invalid(ROUNDED_ID_NUMBER)
        try:
            return _required(raw, validate_id_number, _("身份证号不能为空。"))
        except Invalid:
            # A number the check refuses is one Excel cut short: say that rather than the check's words.
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                raise Invalid(ROUNDED_ID_NUMBER) from None
            raise

    @staticmethod
    def _sex(raw: object, values: dict) -> str | None:
        id_number = values.get("id_number")
        text = cell_text(raw).upper()
        if not text:
            # Not given: the ID number says it (GB 11643, the 17th digit).
            return sex_from_id_number(id_number) if id_number else None
        sex = SEX_VALUES.get(text)
        if sex is None:
            raise Invalid(_("性别应填“男”或“女”。"))
        if id_number and sex != sex_from_id_number(id_number):
            expected = _("男") if sex_from_id_number(id_number) == "M" else _("女")
            raise Invalid(
                _("性别“%(sex)s”与身份证号不一致（按身份证号应为%(expected)s）。") % {"sex": text, "expected": expected}
            )
        return sex

    @staticmethod
    def _mobile(raw: object, values: dict) -> str:
        return _required(raw, validate_mobile, _("手机号码不能为空。"))

    @staticmethod
    def _position(raw: object, values: dict) -> str:
        text = _POSITION_PREFIX.sub("", cell_text(raw).replace(" ", ""))
        position = POSITION_VALUES.get(text)
        if position is not None:
            return position
        labels = "、".join(str(label) for _v, label in Mediator.Position.choices)
        if text:
            raise Invalid(_("职务“%(value)s”不在可选范围内，应为：%(labels)s。") % {"value": text, "labels": labels})
        raise Invalid(_("职务不能为空，应为：%s。") % labels)

    @staticmethod
    def _employment(raw: object, values: dict) -> str:
        text = cell_text(raw).replace(" ", "")
        employment = EMPLOYMENT_VALUES.get(text)
        if employment is not None:
            return employment
        if not text:
            raise Invalid(_("专兼职不能为空，应为“专职”或“兼职”。"))
        raise Invalid(_("专兼职应为“专职”或“兼职”，不能是“%s”。") % text)

    def _specialities(self, raw: object, values: dict) -> list[str]:
        codes: list[str] = []
        unknown: list[str] = []
        for part in _SPLIT_LIST.split(to_halfwidth(cell_text(raw))):
            code = self.speciality_codes.get(part) if part else ""
            if code is None:
                unknown.append(part)
            elif code and code not in codes:
                codes.append(code)
        if unknown:
            labels = "、".join(str(label) for _v, label in Category.choices)
            raise Invalid(
                _("擅长领域“%(unknown)s”不在纠纷类别中，可填：%(labels)s（多个用顿号分隔）。")
                % {"unknown": "、".join(unknown), "labels": labels}
            )
        return codes

    @staticmethod
    def _note(raw: object, values: dict) -> str:
        note = cell_text(raw)
        if len(note) > 200:
            raise Invalid(_("备注不能超过200个字。"))
        return note
