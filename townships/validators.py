"""Validators and masks for personal data (docs/domain.md#personal-data).

One module for forms, serializers and the roster importer, so that a number accepted on one path
is accepted on every path. Each validator normalises first (full-width digits, spaces, a lower-case
x), then raises ``ValidationError`` with a Chinese message and a stable code.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_SHAPE = re.compile(r"^1[3-9]\d{9}$")
# Full-width digits, letters and spaces, as typed by Chinese input methods.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def to_halfwidth(value: str) -> str:
    return value.translate(_FULLWIDTH)


def clean_text(value: object) -> str:
    """Trim ordinary and full-width spaces (and non-breaking ones) from a typed or imported value."""
    if value is None:
        return ""
    return str(value).replace("\u3000", " ").replace("\xa0", " ").strip()


# Characters that must never be all a name is made of, nor sit hidden inside one: controls (Cc),
# format characters (Cf: zero-width spaces and joiners, bidi overrides that reverse what a reader
# sees), line and paragraph separators, private-use and unassigned code points.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"})
# What a spreadsheet takes for a formula when a name is exported and opened.
FORMULA_START = ("=", "+", "-", "@")


def normalise_name(value: object) -> str:
    """A person's or organisation's name as it is stored: NFKC (full-width letters and digits become
    ordinary ones, compatibility forms their plain form), invisible characters removed, runs of
    spaces made one."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    text = "".join(" " if ch.isspace() else ch for ch in text if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return " ".join(text.split())


def validate_name(value: object, *, max_length: int = 100) -> str:
    """``normalise_name``, refusing what is then empty, too long, or would be read as a formula."""
    name = normalise_name(value)
    if not name:
        raise ValidationError(_("姓名或名称不能为空（不可见字符不算）。"), code="blank_name")
    if len(name) > max_length:
        raise ValidationError(_("姓名或名称不能超过%d个字。") % max_length, code="long_name")
    if name.startswith(FORMULA_START):
        raise ValidationError(_("姓名或名称不能以 =、+、-、@ 开头。"), code="formula_name")
    return name


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s+", "", to_halfwidth(clean_text(value))).upper()


def normalise_mobile(value: str) -> str:
    digits = re.sub(r"[\s\-]+", "", to_halfwidth(clean_text(value)))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str:
    """Check a resident ID number (GB 11643) and return it normalised."""
    number = normalise_id_number(value)
    if not _ID_SHAPE.match(number):
        raise ValidationError(_("身份证号应为18位，前17位为数字，最后一位为数字或X。"), code="id_format")
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_birth_date") from None
    if born.year < 1900 or born > datetime.date.today():
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_birth_date")
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对号码。"), code="id_checksum")
    return number


def sex_from_id_number(number: str) -> str:
    """``"M"`` or ``"F"`` from the 17th digit (odd is male), for a number already validated."""
    return "M" if int(number[16]) % 2 else "F"


def validate_mobile(value: str) -> str:
    """Check a mainland mobile number (11 digits starting with 1) and return it normalised."""
    number = normalise_mobile(value)
    if not _MOBILE_SHAPE.match(number):
        raise ValidationError(_("手机号码应为以1开头的11位数字。"), code="mobile_format")
    return number


def validate_phone(value: str) -> str:
    """A party's phone: a mobile, or a landline such as 0750-3123456 (area code + 7–8 digits)."""
    number = normalise_mobile(value)
    if _MOBILE_SHAPE.match(number):
        return number
    landline = re.sub(r"[\s]+", "", to_halfwidth(clean_text(value)))
    if re.match(r"^0\d{2,3}-?\d{7,8}$", landline):
        return landline
    raise ValidationError(_("电话号码应为11位手机号或带区号的固定电话。"), code="phone_format")


def mask_id_number(value: str) -> str:
    """440703********1234: region kept for routing questions, birth date and serial hidden."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    return value[:3] + "*" * max(len(value) - 5, 1) + value[-2:]


def mask_address(value: str) -> str:
    """Keep the first few characters (county/town level), hide the street and house number."""
    if not value:
        return ""
    keep = min(6, max(len(value) // 3, 1))
    return value[:keep] + "****"


def make_id_number(region: str, born: datetime.date, serial: int, *, male: bool) -> str:
    """A valid ID number with the given parts; used by demo data and tests, never for real people."""
    seq = serial % 1000
    if (seq % 2 == 1) != male:
        seq = (seq + 1) % 1000 if seq < 999 else seq - 1
    first17 = f"{region[:6]}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


# Referral-to-mediation began in the 2010s (the 2020 report describes its trial); a date before 2000 is
# a typing slip. The floor also keeps dates clear of 1901 and earlier, where Asia/Shanghai has a local
# mean time offset (+08:05:43) that no RFC 3339 timestamp can carry.
EARLIEST_DATE = datetime.date(2000, 1, 1)


def validate_plausible_date(value: datetime.date | None) -> None:
    """A date a person typed for something that has happened: not after today, not before 2000."""
    from django.utils import timezone

    if value is None:
        return
    if value > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天。"), code="future")
    if value < EARLIEST_DATE:
        raise ValidationError(
            _("日期不能早于%(earliest)s，请检查是否输入有误。"), code="too_early", params={"earliest": "2000-01-01"}
        )
