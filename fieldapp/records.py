"""Turn one spreadsheet row into a clean roster record, or a reason why the row is left out."""

import datetime as dt
import re
from dataclasses import dataclass, field

from .birthdates import BirthDate, BirthDateError, parse_birth_date
from .groups import groups_from_notes
from .identifiers import century_of, check_cccd, clean_id_number, clean_phone, sex_of
from .legacy import fix_legacy
from .text import clean, fold, proper_case

_MALE = {"nam", "m", "male", "trai"}
_FEMALE = {"nu", "f", "female", "gai"}
# Sex written as digits: "1_0" (1 Nam, 0 Nữ, common in Excel lists) or "1_2" (claims XML, 130/QĐ-BYT).
SEX_CODES = {"1_0": {"1": "M", "0": "F"}, "1_2": {"1": "M", "2": "F"}}
_MARK = {"x", "v", "1", "✓", "✔", "*"}
# Names that stand in for a newborn with no name yet: "Con bà Nguyễn Thị A", "Bé trai".
_PLACEHOLDER = re.compile(r"^(con (ba|chi|co|ong|anh|cua)|be (trai|gai)|chua (dat|co) ten|so sinh)\b")
# Footer lines under a list: signatures, dates and totals, never people.
_FOOTER = re.compile(
    r"^(tong cong|tong so|tong\s*:|cong\s*:|nguoi lap|lap bieu|xac nhan|to truong|hieu truong|truong tram|"
    r"ky ten|ky,? ghi ro|giam doc|can bo|tm\.?\s|t/m\s|ngay \d|[.\-_ ]{3,}$)"
)
# "Hải Phòng, ngày 15 tháng 10 năm 2025" above the signatures.
_DATE_LINE = re.compile(r"\bngay\s+\d{1,2}\s+thang\s+\d{1,2}")
FOOTER = "footer"
_TDP_IN_TEXT = re.compile(r"\b(?:to dan pho|tdp|to)\s*(?:so\s*)?0*(\d{1,3})\b")
_CLASS_IN_TEXT = re.compile(r"\blop\s+([0-9]{1,2}\s*[a-z0-9]{0,3}|(?:be|nho|lon|choi|mam|chồi)\s+[a-z0-9]{1,2})\b")


@dataclass
class Context:
    """The list a row comes from: its group, title and sheet, and the import date."""

    file_name: str
    sheet: str
    on: dt.date
    list_group: int | None = None
    title: str = ""
    sex_convention: str = "1_0"


@dataclass
class Record:
    """A cleaned source row: the fields used for matching and storage, and the warnings it raised."""

    row: int
    full_name: str
    birth: BirthDate | None = None
    sex: str | None = None
    cccd: str | None = None
    cmnd: str | None = None
    phone: str | None = None
    address: str = ""
    tdp: str = ""
    class_name: str = ""
    parent_name: str = ""
    parent_phone: str | None = None
    household: str = ""
    relation: str = ""
    bhyt: str = ""
    notes: str = ""
    groups: set[int] = field(default_factory=set)  # from the list and its notes, not from age
    legacy: str | None = None
    placeholder_name: bool = False
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RowProblem:
    """A row that is left out, with the catalogue code and the offending value."""

    row: int
    code: str
    value: str = ""


def _text(value: object, record: Record) -> str:
    text = clean(value)
    fixed, encoding = fix_legacy(text)
    if encoding:
        record.legacy = encoding
    return fixed


def is_blank(values: list[object]) -> bool:
    """True for a row with no visible content."""
    return all(clean(value) == "" for value in values)


def sex_from_text(text: str, convention: str) -> str | None:
    """Return "M" or "F" from a folded sex cell, reading digits by the list's convention."""
    if text in _MALE:
        return "M"
    if text in _FEMALE:
        return "F"
    return SEX_CODES[convention].get(text)


def is_footer(values: list[object]) -> bool:
    """True for a totals, date or signature line under a list."""
    texts = [fold(clean(value)) for value in values if isinstance(value, str) and clean(value)]
    return any(_FOOTER.match(text) or _DATE_LINE.search(text) for text in texts)


def build_record(number: int, values: list[object], mapping: dict[int, str], context: Context) -> Record | RowProblem | str | None:
    """Clean one row; return None for a row with nothing mapped and FOOTER for totals and signatures."""
    cells: dict[str, list[object]] = {}
    for index, name in mapping.items():
        if index < len(values) and clean(values[index]) != "":
            cells.setdefault(name, []).append(values[index])
    if not cells:
        return None

    if is_footer(values) and not cells.keys() & {"cccd", "phone"}:
        return FOOTER

    record = Record(row=number, full_name="")
    name = _name(cells, record)
    if not name:
        if set(cells) <= {"notes", "household"}:
            return None
        return RowProblem(number, "row_no_name")
    record.full_name = name

    ids = clean_id_number(cells.get("cccd", [None])[0])
    record.cccd, record.cmnd = ids.cccd, ids.cmnd
    for code in ids.notes:
        record.warnings.append((code, ids.cccd or ""))
    if ids.invalid:
        record.warnings.append(("cccd_invalid", ids.invalid))

    problem = _birth_and_sex(cells, record, context)
    if problem:
        return problem

    _contacts(cells, record, context)
    _groups(record, context)
    return record


def _name(cells: dict[str, list[object]], record: Record) -> str:
    if "full_name" in cells:
        raw = _text(cells["full_name"][0], record)
    else:
        parts = [cells.get(key, [""])[0] for key in ("family_name", "family_middle", "middle_name", "given_name")]
        raw = " ".join(_text(part, record) for part in parts if clean(part))
    if not any(ch.isalpha() for ch in raw):
        return ""

    if _PLACEHOLDER.match(fold(raw)):
        record.placeholder_name = True
        record.warnings.append(("name_placeholder", raw))
        return raw[:1].upper() + raw[1:]
    return proper_case(raw)


def _birth_and_sex(cells: dict[str, list[object]], record: Record, context: Context) -> RowProblem | None:
    raw_birth = cells.get("birth_date", [None])[0]
    sex = None
    for mark, value in (("male_mark", "M"), ("female_mark", "F")):
        for cell in cells.get(mark, []):
            text = fold(clean(cell))
            if text in _MARK:
                sex = value
            elif raw_birth is None:
                # "Năm sinh" split into Nam and Nữ columns: the year written under the person's sex.
                raw_birth, sex = cell, value
    if "sex" in cells:
        coded = sex_from_text(fold(_text(cells["sex"][0], record)), context.sex_convention)
        if coded:
            sex = coded
        else:
            record.warnings.append(("sex_unknown", clean(cells["sex"][0])))

    century = century_of(record.cccd) if record.cccd else None
    if century is None and context.list_group == 2:
        century = 1900
    try:
        record.birth = parse_birth_date(raw_birth, context.on, century_hint=century)
    except BirthDateError:
        return RowProblem(record.row, "row_birth_date_invalid", clean(raw_birth))

    if record.birth is None:
        record.warnings.append(("birth_missing", ""))
    elif record.birth.two_digit_year:
        record.warnings.append(("birth_two_digit_year", f"{clean(raw_birth)} → {record.birth.display()}"))
    if record.birth is not None and record.birth.is_first_of_january:
        record.warnings.append(("birth_first_of_january", record.birth.display()))

    if sex is None and record.cccd and sex_of(record.cccd):
        sex = sex_of(record.cccd)
        record.warnings.append(("sex_from_cccd", ""))
    record.sex = sex

    if record.cccd:
        for code in check_cccd(record.cccd, record.birth, record.sex):
            record.warnings.append((code, record.cccd))
    return None


def _contacts(cells: dict[str, list[object]], record: Record, context: Context) -> None:
    phones = [*cells.get("phone", [])]
    for index, cell in enumerate(phones):
        phone, usable = clean_phone(cell)
        if not usable:
            record.warnings.append(("phone_invalid", clean(cell)))
        elif index == 0:
            record.phone = phone
        elif record.parent_phone is None:
            record.parent_phone = phone
    if "parent_phone" in cells:
        phone, usable = clean_phone(cells["parent_phone"][0])
        if not usable:
            record.warnings.append(("phone_invalid", clean(cells["parent_phone"][0])))
        record.parent_phone = phone

    record.address = _text(cells.get("address", [""])[0], record)
    record.parent_name = proper_case(_text(cells.get("parent_name", [""])[0], record))
    record.household = clean(cells.get("household", [""])[0])
    record.relation = _text(cells.get("relation", [""])[0], record)
    record.bhyt = clean(cells.get("bhyt", [""])[0]).upper()
    record.notes = "; ".join(_text(cell, record) for cell in cells.get("notes", []))

    tdp = clean(cells.get("tdp", [""])[0])
    if not tdp:
        for source in (record.address, context.title, context.file_name):
            if match := _TDP_IN_TEXT.search(re.sub(r"[^a-z0-9]+", " ", fold(source))):
                tdp = match.group(1)
                break
    record.tdp = tdp.lstrip("0") if tdp.isdigit() else tdp

    class_name = clean(cells.get("class_name", [""])[0])
    if not class_name and context.list_group == 7:
        match = _CLASS_IN_TEXT.search(fold(context.title))
        class_name = context.sheet if context.sheet and context.sheet.lower() not in ("sheet1", "danh sach") else ""
        if not class_name and match:
            class_name = match.group(1).upper()
    record.class_name = class_name


def _groups(record: Record, context: Context) -> None:
    # Age groups are added per person, from the best birth date among all of its rows.
    groups = groups_from_notes(record.notes)
    if context.list_group:
        groups.add(context.list_group)
    record.groups = groups
