"""The ward plan's eight groups of people, and the rules that put a person in them."""

import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from .birthdates import BirthDate
from .text import fold

# The eight groups of a ward's yearly exam plan (Politburo Resolution 72-NQ/TW and the
# Ministry of Health's guidance on free periodic exams). A person can be in several.
GROUPS = {
    1: _l("Người có công với cách mạng"),
    2: _l("Người cao tuổi (từ 60 tuổi)"),
    3: _l("Bảo trợ xã hội, người khuyết tật, hộ nghèo, cận nghèo"),
    4: _l("Người lao động, công chức, học nghề"),
    5: _l("Công an, quân đội"),
    6: _l("Sinh viên"),
    7: _l("Học sinh, trẻ mầm non"),
    8: _l("Người khác (trẻ dưới 2 tuổi, lao động tự do...)"),
}

ELDERLY_AGE = 60  # Law on the Elderly 2009, art. 2: citizens aged 60 and over.
UNDER_TWO_MONTHS = 24

# Words in a notes column that put a person in a group, matched on folded text.
_NOTE_RULES = [
    (re.compile(r"nguoi co cong|thuong binh|benh binh|liet si|lao thanh cach mang|me viet nam anh hung"
                r"|anh hung luc luong|chat doc (hoa hoc|da cam)|co cong"), 1),
    (re.compile(r"\bho ngheo\b|\bcan ngheo\b|\bngheo\b"), 3),
    (re.compile(r"\bnkt\b|khuyet tat|bao tro|mo coi|don than|tro cap xa hoi|\bbtxh\b"), 3),
    (re.compile(r"cao tuoi|\bnct\b"), 2),
]

# Words in a file's name, sheet names or title rows that tell which group a list is for.
_LIST_RULES = [
    (re.compile(r"co cong|liet si|thuong binh"), 1),
    (re.compile(r"cao tuoi|\bnct\b"), 2),
    (re.compile(r"ngheo|bao tro|khuyet tat|\bnkt\b|\bbtxh\b"), 3),
    (re.compile(r"cong ty|cong nhan|lao dong|cbcnv|nhan vien|xi nghiep|doanh nghiep|cong chuc"), 4),
    # Not "công an" alone: police send population extracts ("dữ liệu dân cư công an") too.
    (re.compile(r"can bo chien si|chien si|si quan|quan nhan|quan doi|bo doi"), 5),
    (re.compile(r"sinh vien|dai hoc|cao dang"), 6),
    (re.compile(r"truong|hoc sinh|mam non|tieu hoc|thcs|lop \d|nha tre"), 7),
    (re.compile(r"duoi 2 tuoi|duoi 24 thang|tre em duoi|tre duoi"), 8),
]


def groups_from_notes(notes: str) -> set[int]:
    """Return the groups that notes such as "Vợ liệt sĩ" or "Hộ cận nghèo" name."""
    text = fold(notes)
    return {group for pattern, group in _NOTE_RULES if pattern.search(text)}


def guess_list_group(*texts: str) -> int | None:
    """Return the group a list is for, from its file name, sheet names and title; None if unclear."""
    text = re.sub(r"[^a-z0-9]+", " ", fold(" ".join(texts)))
    for pattern, group in _LIST_RULES:
        if pattern.search(text):
            return group
    return None


def groups_by_age(birth: BirthDate | None, on: dt.date) -> set[int]:
    """Return group 2 for people aged 60 and over and group 8 for children under 2 on the given date."""
    if birth is None:
        return set()

    groups = set()
    if birth.age_on(on) >= ELDERLY_AGE:
        groups.add(2)
    months = (on.year - birth.year) * 12 + (on.month - (birth.month or 1)) - (on.day < (birth.day or 1))
    if birth.precision != "year" and months < UNDER_TWO_MONTHS:
        groups.add(8)
    return groups


def format_groups(groups: set[int] | list[int]) -> str:
    """Return groups as numbers joined by ";" in ascending order."""
    return ";".join(str(group) for group in sorted(set(groups)))


def parse_groups(text: str | None) -> set[int]:
    """Read groups written by format_groups."""
    return {int(part) for part in (text or "").split(";") if part}
