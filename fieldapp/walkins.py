"""Walk-ins: people registered at the door, stored as rows of the list "Đăng ký tại chỗ".

A walk-in becomes a source row like any imported list row, so every relink keeps them on the
roster, merges them with a list row of the same person, and the list's name marks them as walk-ins.
"""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

import sqlite_utils

from . import roster
from .cccd_qr import CitizenCard
from .db import new_id, now
from .errors import FieldappError
from .groups import format_groups
from .importer import signature_of
from .records import Context, Record, RowProblem, build_record
from .text import fold

FILE_NAME = "Đăng ký tại chỗ"
SHEET = ""
_MAPPING = {0: "full_name", 1: "sex", 2: "birth_date", 3: "cccd", 4: "phone", 5: "address"}


@dataclass
class WalkInForm:
    """The walk-in form as typed: every field is text, group is "" or "1"-"8"."""

    full_name: str = ""
    sex: str = ""
    birth: str = ""
    cccd: str = ""
    phone: str = ""
    address: str = ""
    group: str = ""

    @classmethod
    def from_card(cls, card: CitizenCard) -> "WalkInForm":
        """Prefill the form from a citizen card's QR code."""
        return cls(full_name=card.full_name, sex="Nam" if card.sex == "M" else "Nữ", birth=card.birth.display(),
                   cccd=card.cccd, address=card.address)

    @classmethod
    def from_form(cls, form) -> "WalkInForm":
        return cls(**{name: (form.get(name) or "").strip() for name in asdict(cls())})


def clean_form(form: WalkInForm, on: dt.date) -> Record:
    """Clean the form like an imported list row; raise a catalogue error for what must be fixed."""
    if not any(ch.isalpha() for ch in form.full_name):
        raise FieldappError("walkin_name_missing")
    if not form.birth:
        raise FieldappError("walkin_birth_invalid", value="")
    if form.group and not (form.group.isdigit() and 1 <= int(form.group) <= 8):
        raise FieldappError("group_invalid", value=form.group)

    values = [form.full_name, form.sex, form.birth, form.cccd, form.phone, form.address]
    context = Context(FILE_NAME, SHEET, on, int(form.group) if form.group else None)
    built = build_record(1, values, _MAPPING, context)
    if isinstance(built, RowProblem):
        raise FieldappError("walkin_birth_invalid" if built.code == "row_birth_date_invalid" else "walkin_name_missing",
                            value=built.value)
    codes = {code for code, _ in built.warnings}
    if "cccd_invalid" in codes:
        raise FieldappError("walkin_cccd_invalid", value=form.cccd)
    if "phone_invalid" in codes:
        raise FieldappError("walkin_phone_invalid", value=form.phone)
    if built.sex is None:
        raise FieldappError("walkin_sex_missing")
    return built


def _walk_in_file(db: sqlite_utils.Database) -> str:
    """Return the id of the walk-in list, creating it on first use; call inside a write transaction."""
    row = db.execute("SELECT id FROM source_file WHERE name = ?", [FILE_NAME]).fetchone()
    if row:
        return row[0]
    file_id = new_id()
    report = {"renamed_from": None, "same_as": None, "as_of": roster.roster_date(db).isoformat(), "encoding": None,
              "list_group": None, "group_guessed": False, "skipped_sheets": [], "walk_in": True,
              "sheets": [{"name": SHEET, "header_row": 0, "headers": [], "mapping": {}, "rows": 0,
                          "sex_convention": "1_0"}],
              "converted": [], "problems": [], "warnings": {}}
    db["source_file"].insert({
        "id": file_id, "name": FILE_NAME, "kind": "list", "list_group": None, "encoding": None,
        # Never the digest of a real file, so importing a list never finds it "unchanged".
        "sha256": hashlib.sha256(f"walk-in {file_id}".encode()).hexdigest(),
        "imported_at": now(), "report": json.dumps(report, ensure_ascii=False),
    })
    return file_id


def _count_rows(db: sqlite_utils.Database, file_id: str) -> None:
    rows = db.execute("SELECT count(*) FROM source_row WHERE file_id = ?", [file_id]).fetchone()[0]
    report = json.loads(db.execute("SELECT report FROM source_file WHERE id = ?", [file_id]).fetchone()[0])
    report["sheets"][0]["rows"] = rows
    db.execute("UPDATE source_file SET report = ? WHERE id = ?", [json.dumps(report, ensure_ascii=False), file_id])


def register(db: sqlite_utils.Database, record: Record) -> str:
    """Store a walk-in as a row of the walk-in list, relink the roster and return the person's id.

    Call inside a write transaction. A walk-in whose row matches a listed person (same CCCD, or the
    same name and full birth date) joins that person.
    """
    file_id = _walk_in_file(db)
    row_no = db.execute("SELECT coalesce(max(row_no), 0) + 1 FROM source_row WHERE file_id = ?", [file_id]).fetchone()[0]
    record.row = row_no
    row_id = new_id()
    raw = [record.full_name, record.sex, record.birth.iso() if record.birth else "", record.cccd or record.cmnd or "",
           record.phone or "", record.address]
    db["source_row"].insert({
        "id": row_id, "file_id": file_id, "file_name": FILE_NAME, "sheet": SHEET, "row_no": row_no,
        "signature": signature_of(record), "full_name": record.full_name, "name_key": fold(record.full_name),
        "birth_date": record.birth.iso() if record.birth else None, "sex": record.sex, "cccd": record.cccd,
        "cmnd": record.cmnd, "phone": record.phone, "address": record.address, "tdp": record.tdp,
        "class_name": record.class_name, "parent_name": record.parent_name, "parent_phone": record.parent_phone,
        "household": record.household, "relation": record.relation, "bhyt": record.bhyt, "notes": record.notes,
        "groups": format_groups(record.groups), "legacy": record.legacy,
        "warnings": json.dumps(record.warnings, ensure_ascii=False), "raw": json.dumps(raw, ensure_ascii=False),
        "person_id": None,
    })
    _count_rows(db, file_id)
    roster.relink(db, roster.roster_date(db))
    return db.execute("SELECT person_id FROM source_row WHERE id = ?", [row_id]).fetchone()[0]


def is_walk_in(db: sqlite_utils.Database, person_id: str) -> bool:
    """True if a person has a row in the walk-in list."""
    return db.execute("SELECT 1 FROM source_row WHERE person_id = ? AND file_name = ?",
                      [person_id, FILE_NAME]).fetchone() is not None
