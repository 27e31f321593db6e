"""Observations: the values measured or found at a visit, kept as versions that are never changed.

A value is stored once per item and reading (blood pressure has readings 1, 2 and 3). A correction
is a new row, with a reason, whose `supersedes` names the row it replaces. The unique index on
`supersedes` makes two corrections of the same version impossible, so the versions of a value form
one chain and its last row is the current value. Derived values (BMI, averages, z-scores) and flags
are computed when read, in fieldapp/results.py, so they always follow the current values.

Callers validate values first (fieldapp/clinical); this module only stores and reads them.
"""

from dataclasses import dataclass

import sqlite_utils

from .clinical import catalogue
from .db import insert_row, new_id, now
from .errors import FieldappError

SOURCES = ("form", "import")


@dataclass(frozen=True)
class Author:
    """The staff member and device that entered a value; both None for a command run on the laptop."""

    staff_id: str | None = None
    device_id: str | None = None


NOBODY = Author()


def _label(item: str) -> str:
    """Return an item's Vietnamese label for messages, or its code when the catalogue has no such item."""
    known = catalogue().get(item)
    return known.label if known else item


def _rows(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _value_columns(value: float | str) -> dict:
    if isinstance(value, bool):
        raise TypeError("an observation value is a number or a text, not a bool")
    if isinstance(value, (int, float)):
        return {"value_num": float(value), "value_text": None}
    return {"value_num": None, "value_text": str(value)}


def value_of(row: dict) -> float | str | None:
    """Return an observation row's value: the number when it has one, else the text."""
    return row["value_num"] if row["value_num"] is not None else row["value_text"]


def record(db: sqlite_utils.Database, visit: dict, item: str, value: float | str, *, reading: int = 1,
           unit: str | None = None, confirmed: bool = False, source: str = "form", author: Author = NOBODY,
           measured_at: str | None = None, reason: str = "") -> str:
    """Store a value for a visit and return its id; call inside a write transaction.

    The same value sent again (a form replayed after a Wi-Fi drop) returns the stored id. A different
    value for an item and reading that already has one becomes a correction, which needs a reason:
    without one it raises observation_needs_reason, so no value is replaced silently.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown observation source {source!r}")
    existing = current_row(db, visit["id"], item, reading)
    if existing is not None:
        if value_of(existing) == (float(value) if isinstance(value, (int, float)) else value):
            return existing["id"]
        if not reason.strip():
            raise FieldappError("observation_needs_reason", value=_label(item))
        return correct(db, existing["id"], value, reason=reason, confirmed=confirmed, source=source, author=author,
                       measured_at=measured_at)

    stamp = now()
    observation_id = new_id()
    insert_row(db, "observation", {
        "id": observation_id, "visit_id": visit["id"], "person_id": visit["person_id"], "item": item,
        "reading": reading, **_value_columns(value), "unit": unit, "confirmed": 1 if confirmed else 0,
        "supersedes": None, "reason": None, "source": source, "staff_id": author.staff_id,
        "device_id": author.device_id, "measured_at": measured_at or stamp, "recorded_at": stamp,
    })
    return observation_id


def correct(db: sqlite_utils.Database, observation_id: str, value: float | str, *, reason: str,
            confirmed: bool = False, source: str = "form", author: Author = NOBODY,
            measured_at: str | None = None) -> str:
    """Store a new version of a value with the reason for the change; call inside a write transaction.

    Only the current version can be corrected: correcting an older one raises
    observation_not_current, because someone else has already changed the value.
    """
    old = get(db, observation_id)
    if not reason.strip():
        raise FieldappError("observation_needs_reason", value=_label(old["item"]) if old else observation_id)
    if old is None:
        raise FieldappError("observation_not_found", value=observation_id)
    if db.execute("SELECT 1 FROM observation WHERE supersedes = ?", [observation_id]).fetchone():
        raise FieldappError("observation_not_current", value=_label(old["item"]))

    stamp = now()
    new = {**old, "id": new_id(), **_value_columns(value), "confirmed": 1 if confirmed else 0,
           "supersedes": observation_id, "reason": reason.strip(), "source": source,
           "staff_id": author.staff_id, "device_id": author.device_id,
           "measured_at": measured_at or old["measured_at"], "recorded_at": stamp}
    insert_row(db, "observation", new)
    return new["id"]


def get(db: sqlite_utils.Database, observation_id: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM observation WHERE id = ?", [observation_id])
    return rows[0] if rows else None


CURRENT_SQL = """
    SELECT * FROM observation AS o
    WHERE o.visit_id = ? AND NOT EXISTS (SELECT 1 FROM observation AS later WHERE later.supersedes = o.id)
"""


def current_row(db: sqlite_utils.Database, visit_id: str, item: str, reading: int = 1) -> dict | None:
    """Return the current version of one item and reading at a visit, or None."""
    rows = _rows(db, CURRENT_SQL + " AND o.item = ? AND o.reading = ?", [visit_id, item, reading])
    return rows[0] if rows else None


def current(db: sqlite_utils.Database, visit_id: str) -> list[dict]:
    """Return the current version of every value at a visit, by item and reading."""
    return _rows(db, CURRENT_SQL + " ORDER BY o.item, o.reading", [visit_id])


def history(db: sqlite_utils.Database, visit_id: str, item: str, reading: int = 1) -> list[dict]:
    """Return every version of one item and reading at a visit, oldest first."""
    return _rows(db, "SELECT * FROM observation WHERE visit_id = ? AND item = ? AND reading = ? "
                     "ORDER BY recorded_at, id", [visit_id, item, reading])


def corrected_items(db: sqlite_utils.Database, visit_id: str) -> set[tuple[str, int]]:
    """Return the (item, reading) pairs at a visit that have more than one version."""
    cursor = db.execute("SELECT DISTINCT item, reading FROM observation WHERE visit_id = ? "
                        "AND supersedes IS NOT NULL", [visit_id])
    return {(item, reading) for item, reading in cursor.fetchall()}
