"""The doctor's conclusion of a visit: findings per booklet section, diagnoses, health class, advice, referral.

Like observations, a conclusion is never changed: a correction is a new row whose `supersedes`
names the one it replaces, with a reason, and the last row of the chain is the current conclusion.
"""

import json
from dataclasses import dataclass, field

import sqlite_utils

from .db import new_id, now
from .errors import FieldappError
from .observations import NOBODY, Author

# Sections of the periodic exam booklet (Circular 32/2023/TT-BYT, appendix XXIV form 03), clinical part.
SECTIONS = ("internal_medicine", "surgery", "obstetrics_gynaecology", "eye", "ent", "dental", "dermatology", "other")
HEALTH_CLASSES = ("I", "II", "III", "IV", "V")


@dataclass
class Conclusion:
    """What the doctor writes at the end of a visit; every field may be empty until the doctor fills it."""

    findings: dict[str, str] = field(default_factory=dict)
    diagnoses: list[dict] = field(default_factory=list)     # [{"code": "I10", "label": "Tăng huyết áp vô căn"}]
    health_class: str | None = None
    summary: str = ""
    advice: str = ""
    referral_place: str = ""
    referral_reason: str = ""
    next_exam_date: str | None = None                       # yyyy-mm-dd

    def columns(self) -> dict:
        if self.health_class is not None and self.health_class not in HEALTH_CLASSES:
            raise ValueError(f"unknown health class {self.health_class!r}")
        findings = {section: text.strip() for section, text in self.findings.items() if text and text.strip()}
        unknown = set(findings) - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown booklet sections {sorted(unknown)}")
        return {
            "findings": json.dumps(findings, ensure_ascii=False),
            "diagnoses": json.dumps(self.diagnoses, ensure_ascii=False),
            "health_class": self.health_class,
            "summary": self.summary.strip() or None,
            "advice": self.advice.strip() or None,
            "referral_place": self.referral_place.strip() or None,
            "referral_reason": self.referral_reason.strip() or None,
            "next_exam_date": self.next_exam_date or None,
        }


def _rows(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _loaded(row: dict) -> dict:
    return {**row, "findings": json.loads(row["findings"]), "diagnoses": json.loads(row["diagnoses"])}


def current(db: sqlite_utils.Database, visit_id: str) -> dict | None:
    """Return the current conclusion of a visit with findings and diagnoses decoded, or None."""
    rows = _rows(db, "SELECT * FROM conclusion AS c WHERE c.visit_id = ? AND NOT EXISTS "
                     "(SELECT 1 FROM conclusion AS later WHERE later.supersedes = c.id)", [visit_id])
    return _loaded(rows[0]) if rows else None


def history(db: sqlite_utils.Database, visit_id: str) -> list[dict]:
    """Return every version of a visit's conclusion, oldest first."""
    rows = _rows(db, "SELECT * FROM conclusion WHERE visit_id = ? ORDER BY recorded_at, id", [visit_id])
    return [_loaded(row) for row in rows]


def save(db: sqlite_utils.Database, visit: dict, conclusion: Conclusion, *, author: Author = NOBODY,
         reason: str = "", replaces: str | None = None) -> str:
    """Store a visit's conclusion and return its id; call inside a write transaction.

    The first conclusion needs no reason. A later one is a correction of the current one: `replaces`
    must name the current conclusion (the version the doctor's page showed), and a reason is
    required, so two doctors saving at once cannot overwrite each other unseen.
    """
    existing = current(db, visit["id"])
    if existing is not None:
        if replaces != existing["id"]:
            raise FieldappError("conclusion_not_current")
        if not reason.strip():
            raise FieldappError("conclusion_needs_reason")

    conclusion_id = new_id()
    db["conclusion"].insert({
        "id": conclusion_id, "visit_id": visit["id"], "person_id": visit["person_id"],
        "supersedes": existing["id"] if existing else None, "reason": reason.strip() or None,
        **conclusion.columns(), "staff_id": author.staff_id, "device_id": author.device_id,
        "recorded_at": now(),
    })
    return conclusion_id
