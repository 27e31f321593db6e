"""Purge personal data at a site once the central store has stored it and the retention period has passed.

A person qualifies when every visit is older than the retention period, no active invitation is
for a round that ends after the cutoff, and the central store has acknowledged every outbox record
about the person. The person keeps the id, sex, birth date, residential group, class and groups, so
the exam records stay under the id. Their list rows are merged into one whose name is a placeholder
and whose ID numbers, phones, address, household, insurance number, notes and raw cells are cleared.
The guardian's name on visits is cleared too, and the sent outbox records about the person are deleted.

NOTE: the population extract (population_row) and the import reports in source_file are not
purged: they are not tied to a person, so remove the extract with `roster remove` when done with it.
"""

import datetime as dt
import json
from dataclasses import dataclass

import sqlite_utils

from .. import roster
from ..db import now
from ..text import fold
from . import outbox

# Kinds whose payload names a person_id.
PERSON_KINDS = ("invitation", "visit", "observation", "conclusion")
# The placeholder keeps the id in the name, so relink never merges two purged people that share a birth date.
PLACEHOLDER = "Đã xóa {person_id}"


@dataclass(frozen=True)
class PurgeResult:
    """Counts of a purge: people cleared, visits whose guardian's name was cleared, outbox records deleted, and the cutoff day."""

    people: int
    visits: int
    outbox_records: int
    cutoff: str


def eligible(db: sqlite_utils.Database, cutoff: str) -> list[str]:
    """Return the ids of people whose personal data may be purged for a cutoff day (yyyy-mm-dd)."""
    candidates = [row[0] for row in db.execute(
        """SELECT p.id FROM person AS p
           WHERE p.id NOT IN (SELECT person_id FROM sync_purged)
             AND EXISTS (SELECT 1 FROM visit AS v WHERE v.person_id = p.id)
             AND NOT EXISTS (SELECT 1 FROM visit AS v WHERE v.person_id = p.id AND v.day >= :cutoff)
             AND NOT EXISTS (SELECT 1 FROM invitation AS i JOIN exam_round AS r ON r.id = i.round_id
                             WHERE i.person_id = p.id AND i.status = 'active'
                               AND date(r.start_date, '+' || (r.days - 1) || ' days') >= :cutoff)
           ORDER BY p.id""",
        {"cutoff": cutoff},
    ).fetchall()]
    unsent = {row[0] for row in db.execute(
        f"""SELECT record_id FROM outbox WHERE sent_at IS NULL AND kind = 'person'
            UNION SELECT json_extract(payload, '$.person_id') FROM outbox
            WHERE sent_at IS NULL AND kind IN ({', '.join('?' * len(PERSON_KINDS))})""",
        PERSON_KINDS,
    ).fetchall()}
    return [person_id for person_id in candidates if person_id not in unsent]


def purge(db: sqlite_utils.Database, retention_days: int, today: dt.date | None = None) -> PurgeResult:
    """Clear the personal data of people whose visits are older than retention_days; call inside a write transaction."""
    cutoff = ((today or dt.date.today()) - dt.timedelta(days=retention_days)).isoformat()
    people = eligible(db, cutoff)
    if not people:
        return PurgeResult(0, 0, 0, cutoff)

    listed = json.dumps(people)
    in_list = "(SELECT value FROM json_each(:people))"
    # First, so the person triggers skip these people from here on.
    db.conn.executemany("INSERT INTO sync_purged (person_id, purged_at) VALUES (?, ?)",
                        [(person_id, now()) for person_id in people])
    db.execute(f"DELETE FROM sync_person_state WHERE person_id IN {in_list}", {"people": listed})
    _clear_rows(db, people)
    with outbox.paused(db):
        visits = db.execute(f"UPDATE visit SET guardian_name = NULL WHERE guardian_name IS NOT NULL "
                            f"AND person_id IN {in_list}", {"people": listed}).rowcount
    kinds = ", ".join(f"'{kind}'" for kind in PERSON_KINDS)
    records = db.execute(
        f"""DELETE FROM outbox WHERE sent_at IS NOT NULL AND (
                (kind = 'person' AND record_id IN {in_list})
             OR (kind IN ({kinds}) AND json_extract(payload, '$.person_id') IN {in_list}))""",
        {"people": listed},
    ).rowcount
    roster.relink(db, roster.roster_date(db))
    return PurgeResult(len(people), visits, records, cutoff)


def _clear_rows(db: sqlite_utils.Database, people: list[str]) -> None:
    """Keep one list row per person, with a placeholder name and the personal columns cleared."""
    for person_id in people:
        rows = [row[0] for row in db.execute(
            "SELECT id FROM source_row WHERE person_id = ? ORDER BY id", [person_id]).fetchall()]
        if not rows:
            continue
        db.conn.executemany("DELETE FROM source_row WHERE id = ?", [(row_id,) for row_id in rows[1:]])
        name = PLACEHOLDER.format(person_id=person_id)
        db.execute(
            """UPDATE source_row SET full_name = ?, name_key = ?, signature = ?, cccd = NULL, cmnd = NULL,
                   phone = NULL, address = NULL, parent_name = NULL, parent_phone = NULL, household = NULL,
                   relation = NULL, bhyt = NULL, notes = NULL, legacy = NULL, warnings = '[]', raw = '[]'
               WHERE id = ?""",
            [name, fold(name), f"purged:{person_id}", rows[0]],
        )
