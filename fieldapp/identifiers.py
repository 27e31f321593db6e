"""Citizen ID numbers (CCCD, old CMND) and Vietnamese phone numbers as spreadsheets mangle them."""

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .birthdates import BirthDate

_NOT_DIGIT = re.compile(r"\D")
# Mobile prefixes after the 2018 renumbering: 03, 05, 07, 08, 09 and eight more digits.
_MOBILE = re.compile(r"^0[35789]\d{8}$")
# Landlines: 02 + area code, 11 digits in all.
_LANDLINE = re.compile(r"^02\d{9}$")
_SEVERAL = re.compile(r"\s*(?:[/,;]|\s-\s|\bhoặc\b)\s*")


@dataclass
class IdNumber:
    """A cleaned ID cell: a 12-digit CCCD, a 9-digit CMND, or nothing usable, with notes for the report."""

    cccd: str | None = None
    cmnd: str | None = None
    notes: list[str] = field(default_factory=list)
    invalid: str | None = None


@cache
def province_codes() -> dict[str, str]:
    """Return the CCCD province codes with their province names."""
    with resources.files("fieldapp.data").joinpath("provinces.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row["province"] for row in csv.DictReader(handle)}


def _digits(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _NOT_DIGIT.sub("", str(value))


def clean_id_number(value: object) -> IdNumber:
    """Clean an ID cell: restore a lost leading zero, tell a CCCD from an old 9-digit CMND."""
    if value is None or str(value).strip() == "":
        return IdNumber()

    digits = _digits(value)
    if len(digits) == 11:
        return IdNumber(cccd="0" + digits, notes=["cccd_zero_restored"])
    # Hà Nội to Bắc Kạn (001-009) lose two zeros when the number is stored as a number.
    if len(digits) == 10 and f"00{digits[0]}" in province_codes() and digits[1] in "012345":
        return IdNumber(cccd="00" + digits, notes=["cccd_zero_restored"])
    if len(digits) == 12:
        return IdNumber(cccd=digits)
    if len(digits) == 9:
        return IdNumber(cmnd=digits)
    as_written = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    return IdNumber(invalid=as_written)


def century_of(cccd: str) -> int | None:
    """Return the birth century (1900, 2000, 2100) that a CCCD's fourth digit encodes."""
    digit = int(cccd[3])
    return 1900 + 100 * (digit // 2) if digit <= 5 else None


def sex_of(cccd: str) -> str | None:
    """Return "M" or "F" from a CCCD's fourth digit (even for men, odd for women)."""
    digit = int(cccd[3])
    if digit > 5:
        return None
    return "M" if digit % 2 == 0 else "F"


def check_cccd(cccd: str, birth: BirthDate | None, sex: str | None) -> list[str]:
    """Return warning codes where a CCCD disagrees with its province list, birth year or sex."""
    warnings = []
    if cccd[:3] not in province_codes():
        warnings.append("cccd_province_unknown")

    century = century_of(cccd)
    if century is None:
        warnings.append("cccd_century_invalid")
    elif birth is not None and century + int(cccd[4:6]) != birth.year:
        warnings.append("cccd_birth_year_mismatch")

    if sex is not None and sex_of(cccd) not in (None, sex):
        warnings.append("cccd_sex_mismatch")
    return warnings


def clean_phone(value: object) -> tuple[str | None, bool]:
    """Return (phone as 10 or 11 digits starting with 0, whether the value was usable).

    Accepts dots, spaces, +84 or 84 in place of the 0, and numbers that lost the leading 0.
    """
    if value is None or str(value).strip() == "":
        return None, True

    # "0912 345 678 / 0987 654 321": keep the first number of a cell that lists several.
    parts = _SEVERAL.split(str(value)) if isinstance(value, str) else [value]
    if len(parts) > 1:
        for part in parts:
            phone, usable = clean_phone(part)
            if phone:
                return phone, usable
    digits = _digits(value)
    if digits.startswith("84") and len(digits) in (11, 12):
        # "+84 0912 345 678": some people keep the 0 after the country code.
        digits = digits[2:] if digits[2] == "0" else "0" + digits[2:]
    elif len(digits) in (9, 10) and not digits.startswith("0"):
        digits = "0" + digits

    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits, True
    return None, False
