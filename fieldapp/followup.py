"""The follow-up list: people whose exam found something the health station must act on, most severe first.

A visit is listed when a value has a red or abnormal flag, the triage at a desk recorded a red flag,
the doctor referred the person elsewhere, or the doctor wrote a diagnosis. The list gives the
reasons in Vietnamese and the telephone number to call (a parent's for a child), and is written to
Excel with Vietnamese column headers for the station's staff.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import openpyxl
import sqlite_utils
from flask_babel import force_locale
from openpyxl.styles import Alignment, Font

from . import conclusions, results
from .birthdates import parse_iso
from .errors import FieldappError
from .sheets.content import CHILD_PLANS, SEX_LABELS, diagnosis_text, lines_from, short_date
from .station_views import OTHER_PREFIX, RED_FLAGS

# Levels from the most severe; the list is sorted by them first.
LEVELS = ("red", "referral", "abnormal", "diagnosis")
LEVEL_LABELS = {"red": "Khẩn cấp", "referral": "Chuyển khám", "abnormal": "Bất thường", "diagnosis": "Có chẩn đoán"}
LISTED_FLAGS = ("red", "abnormal", "unusual")
COLUMNS = ["STT", "Mức độ", "Họ và tên", "Ngày sinh", "Giới", "Điện thoại", "Người liên hệ", "Địa chỉ",
           "Tổ dân phố / lớp", "Ngày khám", "Điểm khám", "Lý do cần theo dõi", "Nơi chuyển khám", "Hẹn khám lại",
           "Mã người"]
COLUMN_WIDTHS = [5, 13, 26, 11, 6, 13, 22, 30, 14, 11, 22, 60, 30, 12, 38]


@dataclass(frozen=True)
class Filter:
    """A choice of visits: one round or all, and an inclusive range of exam days (yyyy-mm-dd)."""

    round_id: str | None = None
    day_from: str | None = None
    day_to: str | None = None


@dataclass
class FollowUp:
    """One visit to follow up, with the person's contact details and the reasons."""

    visit_id: str
    person_id: str
    full_name: str
    birth_date: str | None
    sex: str | None
    phone: str
    contact: str
    address: str
    area: str
    day: str
    site_name: str
    level: str
    reasons: list[str] = field(default_factory=list)
    referral_place: str = ""
    next_exam_date: str | None = None
    serious_count: int = 0
    sort_key: str = ""

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


def _rows(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _visits(db: sqlite_utils.Database, chosen: Filter) -> list[dict]:
    where, params = ["1 = 1"], []
    if chosen.round_id:
        where.append("v.round_id = ?")
        params.append(chosen.round_id)
    if chosen.day_from:
        where.append("v.day >= ?")
        params.append(chosen.day_from)
    if chosen.day_to:
        where.append("v.day <= ?")
        params.append(chosen.day_to)
    return _rows(db, f"""SELECT v.*, p.full_name, p.birth_date, p.sex, p.phone, p.address, p.tdp, p.class_name,
                                p.parent_name, p.parent_phone, p.sort_key, s.name AS site_name
                         FROM visit AS v JOIN person AS p ON p.id = v.person_id
                         LEFT JOIN site AS s ON s.id = v.site_id
                         WHERE {' AND '.join(where)} ORDER BY v.day, v.queue_number""", params)


def _triage_flags(db: sqlite_utils.Database, visit_id: str) -> list[str]:
    """Return the labels of the red flags recorded at triage for a visit, each once."""
    labels: list[str] = []
    for (stored,) in db.execute("SELECT red_flags FROM task WHERE visit_id = ? AND red_flags IS NOT NULL",
                                [visit_id]).fetchall():
        for flag in json.loads(stored):
            label = f"Khác: {flag[len(OTHER_PREFIX):]}" if flag.startswith(OTHER_PREFIX) else str(RED_FLAGS.get(flag, flag))
            if label not in labels:
                labels.append(label)
    return labels


def _entry(db: sqlite_utils.Database, visit: dict) -> FollowUp | None:
    """Return the follow-up entry of one visit, or None when nothing needs following up."""
    lines = lines_from(results.visit_results(db, visit))
    conclusion = conclusions.current(db, visit["id"]) or {}
    triage = _triage_flags(db, visit["id"])
    flagged = {flag: [line for line in lines if line.flag == flag] for flag in LISTED_FLAGS}
    diagnoses = conclusion.get("diagnoses") or []
    referral = conclusion.get("referral_place") or ""

    if flagged["red"] or triage:
        level = "red"
    elif referral:
        level = "referral"
    elif flagged["abnormal"]:
        level = "abnormal"
    elif diagnoses:
        level = "diagnosis"
    else:
        return None

    reasons = [f"Khẩn cấp khi khám: {label}" for label in triage]
    reasons += [f"{line.label}: {line.value}" + (f" ({line.band})" if line.band else "")
                for flag in LISTED_FLAGS for line in flagged[flag]]
    if referral:
        reason = conclusion.get("referral_reason")
        reasons.append(f"Chuyển khám: {referral}" + (f" ({reason})" if reason else ""))
    reasons += [f"Chẩn đoán: {diagnosis_text(diagnosis)}" for diagnosis in diagnoses]
    return _follow_up(visit, level, reasons, referral, conclusion.get("next_exam_date"),
                      len(flagged["red"]) + len(triage) + len(flagged["abnormal"]))


def _follow_up(visit: dict, level: str, reasons: list[str], referral: str, next_exam: str | None,
               serious: int) -> FollowUp:
    child = visit["plan_kind"] in CHILD_PLANS
    # The station calls a child's parent. An adult is called on their own number, else on the listed relative's.
    phones = [visit["parent_phone"], visit["phone"]] if child else [visit["phone"], visit["parent_phone"]]
    phone = next((number for number in phones if number), "")
    contact = ""
    if phone and phone == visit["parent_phone"]:
        contact = visit["parent_name"] or ""
    return FollowUp(
        visit_id=visit["id"], person_id=visit["person_id"], full_name=visit["full_name"],
        birth_date=visit["birth_date"], sex=visit["sex"], phone=phone, contact=contact,
        address=visit["address"] or "", area=visit["class_name"] or visit["tdp"] or "", day=visit["day"],
        site_name=visit["site_name"] or "", level=level, reasons=reasons, referral_place=referral,
        next_exam_date=next_exam, serious_count=serious, sort_key=visit["sort_key"] or "",
    )


def follow_up_list(db: sqlite_utils.Database, chosen: Filter = Filter()) -> list[FollowUp]:
    """Return the visits to follow up: by level (red, referral, abnormal, diagnosis), then most findings first."""
    entries = []
    with force_locale("vi"):
        for visit in _visits(db, chosen):
            entry = _entry(db, visit)
            if entry is not None:
                entries.append(entry)
    return sorted(entries, key=lambda e: (LEVELS.index(e.level), -e.serious_count, e.day, e.sort_key))


def parse_day(text: str | None) -> str | None:
    """Return a yyyy-mm-dd day as given, None for an empty one; raise day_invalid otherwise."""
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError as error:
        raise FieldappError("day_invalid", value=text.strip()) from error


# Excel.


def table_rows(entries: list[FollowUp]) -> list[list]:
    """Return the list as rows of COLUMNS; reasons are one cell, a line each."""
    rows = []
    for number, entry in enumerate(entries, start=1):
        birth = parse_iso(entry.birth_date).display() if entry.birth_date else ""
        rows.append([
            number, entry.level_label, entry.full_name, birth, SEX_LABELS.get(entry.sex or "", ""),
            entry.phone, entry.contact, entry.address, entry.area, short_date(entry.day), entry.site_name,
            "\n".join(entry.reasons), entry.referral_place, short_date(entry.next_exam_date), entry.person_id,
        ])
    return rows


def write_xlsx(entries: list[FollowUp], out: str | Path | BinaryIO) -> None:
    """Write the list to an Excel workbook: a bold header row that stays in view, wrapped reasons."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Cần theo dõi"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in table_rows(entries):
        # Telephone numbers and ids stay text, so Excel keeps a leading zero.
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    book.save(out)
