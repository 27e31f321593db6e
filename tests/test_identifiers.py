"""Tests for citizen ID numbers (12-digit CCCD, 9-digit CMND) and Vietnamese phone numbers."""

import pytest

from fieldapp.birthdates import BirthDate
from fieldapp.identifiers import check_cccd, clean_id_number, clean_phone

# 031 Hải Phòng, 0 male born in the 1900s, 58 for 1958, then six random digits.
HAI_PHONG_MAN_1958 = "031058012345"


@pytest.mark.parametrize(
    "value",
    [
        31058012345,
        31058012345.0,
        "31058012345",
        " 31058012345 ",
    ],
)
def test_lost_zero_restored(value):
    ids = clean_id_number(value)

    assert ids.cccd == HAI_PHONG_MAN_1958
    assert ids.notes == ["cccd_zero_restored"]
    assert ids.invalid is None


@pytest.mark.parametrize(
    "value",
    [
        "031058012345",
        "031 058 012 345",
        "031.058.012.345",
        "'031058012345",
    ],
)
def test_twelve_digits_kept(value):
    ids = clean_id_number(value)

    assert ids.cccd == HAI_PHONG_MAN_1958
    assert ids.notes == []
    assert ids.invalid is None


@pytest.mark.parametrize("value", [1058012345, 1058012345.0, "1058012345"])
def test_hanoi_number_cell_restored(value):
    ids = clean_id_number(value)

    assert ids.cccd == "001058012345"


@pytest.mark.parametrize("value", ["123456789", 123456789, "123 456 789"])
def test_nine_digits_are_cmnd(value):
    ids = clean_id_number(value)

    assert ids.cmnd == "123456789"
    assert ids.cccd is None
    assert ids.invalid is None


@pytest.mark.parametrize(
    "value",
    ["12345", "12345678", "1234567890123", "abc", "không có", 1234567],
)
def test_invalid_length_flagged(value):
    ids = clean_id_number(value)

    assert ids.invalid == str(value).strip()
    assert ids.cccd is None
    assert ids.cmnd is None


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_id_cell_ignored(value):
    ids = clean_id_number(value)

    assert ids.cccd is None
    assert ids.cmnd is None
    assert ids.invalid is None


@pytest.mark.parametrize(
    ("cccd", "birth", "sex", "warnings"),
    [
        ("031058012345", BirthDate(1958, 3, 5), "M", []),
        ("001158012345", BirthDate(1958), "F", []),
        ("079205012345", BirthDate(2005, 1, 2), "M", []),
        ("079315012345", BirthDate(2015), "F", []),
        ("031058012345", None, None, []),
        # The first three digits must be a province code, and 003 and 999 are not.
        ("003058012345", BirthDate(1958), "M", ["cccd_province_unknown"]),
        ("999058012345", BirthDate(1958), "M", ["cccd_province_unknown"]),
        # Fourth digit 0/1 means born in the 1900s and 2/3 in the 2000s. Digits 6 to 9 encode no century.
        ("031258012345", BirthDate(1958), "M", ["cccd_birth_year_mismatch"]),
        ("031005012345", BirthDate(2005), "M", ["cccd_birth_year_mismatch"]),
        ("031059012345", BirthDate(1958), "M", ["cccd_birth_year_mismatch"]),
        ("031658012345", BirthDate(1958), None, ["cccd_century_invalid"]),
        ("031958012345", None, None, ["cccd_century_invalid"]),
        # Even fourth digit is male, odd is female.
        ("031058012345", BirthDate(1958), "F", ["cccd_sex_mismatch"]),
        ("031158012345", BirthDate(1958), "M", ["cccd_sex_mismatch"]),
        ("031205012345", BirthDate(2005), "F", ["cccd_sex_mismatch"]),
        (
            "999158012345",
            BirthDate(1960),
            "M",
            ["cccd_province_unknown", "cccd_birth_year_mismatch", "cccd_sex_mismatch"],
        ),
    ],
)
def test_check_cccd_warnings(cccd, birth, sex, warnings):
    result = check_cccd(cccd, birth, sex)

    assert result == warnings


@pytest.mark.parametrize(
    ("value", "phone"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091 234 5678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("(+84) 912-345-678", "0912345678"),
        ("84912345678", "0912345678"),
        (912345678, "0912345678"),
        (912345678.0, "0912345678"),
        ("912345678", "0912345678"),
        ("0321234567", "0321234567"),
        ("0521234567", "0521234567"),
        ("0701234567", "0701234567"),
        ("0861234567", "0861234567"),
        (845123456, "0845123456"),
        # Landlines start with 02 and have 11 digits.
        ("024 3512 3456", "02435123456"),
        ("+84 24 3512 3456", "02435123456"),
    ],
)
def test_phone_written_forms_cleaned(value, phone):
    result, usable = clean_phone(value)

    assert result == phone
    assert usable


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "091234567",
        "09123456789",
        "0612345678",
        "0412345678",
        "0112345678",
        # 11-digit mobile numbers starting 01 were renumbered to 10 digits in 2018.
        "01212345678",
        "abc",
        "không có",
    ],
)
def test_invalid_phone_flagged(value):
    result, usable = clean_phone(value)

    assert result is None
    assert not usable


@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_phone_cell_usable(value):
    result, usable = clean_phone(value)

    assert result is None
    assert usable
