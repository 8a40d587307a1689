import datetime

import pytest
from django.core.exceptions import ValidationError

from townships.validators import (
    id_check_digit,
    make_id_number,
    mask_id_number,
    mask_phone,
    sex_from_id_number,
    validate_id_number,
    validate_mobile,
    validate_phone,
)

# 11010519491231002X is the published GB 11643 example.
VALID = ["11010519491231002X", make_id_number("440703", datetime.date(1980, 5, 17), 123, male=True)]


@pytest.mark.parametrize("number", VALID)
def test_it_accepts_valid_id_numbers(number):
    assert validate_id_number(number) == number


def test_it_normalises_full_width_digits_spaces_and_a_lower_case_x():
    assert validate_id_number("１１０１０５１９４９１２３１００２x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_format"),
        ("1101051949123100XX", "id_format"),
        ("110105194913310023", "id_birth_date"),
        ("110105209912310020", "id_birth_date"),
    ],
)
def test_it_refuses_invalid_id_numbers_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number)
    assert exc.value.code == code
    assert "身份证" in exc.value.messages[0]


def test_the_check_digit_follows_gb_11643():
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44070319800517123") in "0123456789X"


def test_sex_comes_from_the_seventeenth_digit():
    assert sex_from_id_number("11010519491231002X") == "F"
    assert sex_from_id_number(make_id_number("440703", datetime.date(1970, 1, 1), 5, male=True)) == "M"


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "１３８００１３８０００"])
def test_it_accepts_mainland_mobiles_in_common_spellings(raw):
    assert validate_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc", "0750-3123456"])
def test_it_refuses_what_is_not_a_mobile(raw):
    with pytest.raises(ValidationError):
        validate_mobile(raw)


def test_a_party_phone_may_be_a_landline_with_area_code():
    assert validate_phone("0750-3123456") == "0750-3123456"
    with pytest.raises(ValidationError):
        validate_phone("3123456")


def test_masks_hide_the_middle():
    assert mask_id_number("440703198005171234") == "440703********1234"
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("王大明", "王大明"),
        ("王\u200b大明", "王大明"),  # a zero-width space inside
        ("\u202e明大王", "明大王"),  # a bidi override that would reverse what a reader sees
        ("  李  小红 ", "李 小红"),
        ("ＡＢＣ有限公司", "ABC有限公司"),  # full-width letters
    ],
)
def test_names_are_stored_normalised_without_invisible_characters(raw, stored):
    from townships.validators import validate_name

    assert validate_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("\u200b\u200c\u200d", "blank_name"),
        ("\u202e\u2066", "blank_name"),
        ("=HYPERLINK(1)", "formula_name"),
        ("@SUM", "formula_name"),
    ],
)
def test_names_that_are_invisible_or_formulas_are_refused(raw, code):
    from townships.validators import validate_name

    with pytest.raises(ValidationError) as caught:
        validate_name(raw)
    assert caught.value.code == code
