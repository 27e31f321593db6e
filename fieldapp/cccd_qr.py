"""The QR code on a Vietnamese citizen card (CCCD, chip cards issued since 2021).

It holds one line of fields separated by "|":
`ID|old ID|full name|ddmmyyyy birth|sex|address|ddmmyyyy issue date`, for example
`001099012345|123456789|Nguyễn Văn An|05031958|Nam|12 Lê Lợi, Phường An Lạc, Hà Nội|15082021`.
The old 9-digit ID (CMND) is empty for people who never had one.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .birthdates import BirthDate
from .text import clean, fold, proper_case

_CCCD = re.compile(r"^\d{12}$")
_CMND = re.compile(r"^\d{9}$")
_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_SEX = {"nam": "M", "nu": "F"}
MIN_FIELDS = 6  # the issue date is missing on some cards


@dataclass(frozen=True)
class CitizenCard:
    """The fields read from a citizen card's QR code."""

    cccd: str
    cmnd: str | None
    full_name: str
    birth: BirthDate
    sex: str  # "M" or "F"
    address: str
    issued: dt.date | None


def _date(text: str) -> dt.date | None:
    match = _DATE.match(text)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_card(text: str) -> CitizenCard | None:
    """Return the card's fields, or None when the text is not a citizen card's QR code."""
    fields = [clean(part) for part in unicodedata.normalize("NFC", text or "").strip().split("|")]
    if len(fields) < MIN_FIELDS:
        return None
    cccd, cmnd, name, birth_text, sex_text, address = fields[:MIN_FIELDS]
    birth = _date(birth_text)
    sex = _SEX.get(fold(sex_text))
    if not _CCCD.match(cccd) or (cmnd and not _CMND.match(cmnd)) or not any(ch.isalpha() for ch in name):
        return None
    if birth is None or sex is None:
        return None
    issued = _date(fields[MIN_FIELDS]) if len(fields) > MIN_FIELDS else None
    return CitizenCard(
        cccd=cccd,
        cmnd=cmnd or None,
        full_name=proper_case(name),
        birth=BirthDate(birth.year, birth.month, birth.day),
        sex=sex,
        address=address,
        issued=issued,
    )
