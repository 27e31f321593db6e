"""The site's outbox: a record of every change, read in sequence order for batches and marked sent once acknowledged.

The triggers of migration 0008_outbox append the records, so code that writes a synced table needs
no sync call. This module reads them, keeps the sync settings in sync_state, and appends the records
that triggers cannot make: people that a relink no longer makes, and changes found after a paused write.
"""

import contextlib
import json
from dataclasses import dataclass

import sqlite_utils

from ..db import now

# sync_state keys.
SITE_ID = "site_id"
SITE_NAME = "site_name"
CENTRAL_URL = "central_url"
ENROLLED_AT = "enrolled_at"
ACKNOWLEDGED = "acknowledged_through"
PAUSED = "paused"


@dataclass(frozen=True)
class Counts:
    """How far the outbox is: records held, the last sequence number given, and how many are not yet acknowledged."""

    total: int
    unsent: int
    last_seq: int
    acknowledged_through: int


def state(db: sqlite_utils.Database) -> dict[str, str]:
    """Return the sync settings stored in sync_state."""
    return dict(db.execute("SELECT key, value FROM sync_state").fetchall())


def set_state(db: sqlite_utils.Database, **values: object) -> None:
    """Store sync settings; call inside a write transaction."""
    db.conn.executemany("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
                        [(key, str(value)) for key, value in values.items()])


@contextlib.contextmanager
def paused(db: sqlite_utils.Database):
    """Run a block whose writes append nothing to the outbox; use inside a write transaction.

    Person states are still remembered, so the rows written here are not sent later either.
    """
    db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, '1')", [PAUSED])
    try:
        yield db
    finally:
        db.execute("DELETE FROM sync_state WHERE key = ?", [PAUSED])


def append(db: sqlite_utils.Database, kind: str, record_id: str, payload: dict, recorded_at: str | None = None) -> int:
    """Append one record and return its sequence number; call inside a write transaction."""
    cursor = db.execute(
        "INSERT INTO outbox (kind, record_id, recorded_at, payload) VALUES (?, ?, ?, ?)",
        [kind, record_id, recorded_at or now(), json.dumps(payload, ensure_ascii=False)],
    )
    return cursor.lastrowid


def record_removals(db: sqlite_utils.Database) -> int:
    """Append a removal record for each person sent before whom the roster no longer has; return how many.

    Relink deletes every person and inserts the ones it makes, so a trigger cannot tell a removed
    person (a list taken out with `roster remove`, two people merged after review) from one
    re-inserted a moment later. The record is {"id": ..., "removed": true}. Call inside a write transaction.
    """
    gone = [row[0] for row in db.execute(
        "SELECT person_id FROM sync_person_state WHERE person_id NOT IN (SELECT id FROM person) ORDER BY person_id"
    ).fetchall()]
    for person_id in gone:
        append(db, "person", person_id, {"id": person_id, "removed": True})
    db.conn.executemany("DELETE FROM sync_person_state WHERE person_id = ?", [(person_id,) for person_id in gone])
    return len(gone)


def pending(db: sqlite_utils.Database, after_seq: int, limit: int) -> list[dict]:
    """Return up to limit records after a sequence number, in order, as batches.make_batch takes them."""
    rows = db.execute(
        "SELECT seq, kind, record_id, recorded_at, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
        [after_seq, limit],
    ).fetchall()
    return [{"seq": seq, "kind": kind, "id": record_id, "recorded_at": recorded_at, "payload": json.loads(payload)}
            for seq, kind, record_id, recorded_at, payload in rows]


def last_seq(db: sqlite_utils.Database) -> int:
    """Return the highest sequence number ever given, also when purge has deleted that record."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return row[0] if row else 0


def mark_sent(db: sqlite_utils.Database, through_seq: int) -> None:
    """Record that the central store has stored every record up to through_seq, and no later one.

    Records after through_seq that were marked sent become unsent again, so a central store restored
    from an older backup gets them on the next push. Call inside a write transaction.
    """
    db.execute("UPDATE outbox SET sent_at = ? WHERE seq <= ? AND sent_at IS NULL", [now(), through_seq])
    db.execute("UPDATE outbox SET sent_at = NULL WHERE seq > ? AND sent_at IS NOT NULL", [through_seq])
    set_state(db, **{ACKNOWLEDGED: through_seq})


def acknowledged_through(db: sqlite_utils.Database) -> int:
    """Return the last sequence number the central store acknowledged, as this site last heard it."""
    return int(state(db).get(ACKNOWLEDGED, 0))


def counts(db: sqlite_utils.Database) -> Counts:
    """Return how many records the outbox contains and how many of them are not yet acknowledged."""
    total, unsent = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL) FROM outbox").fetchone()
    return Counts(total, unsent, last_seq(db), acknowledged_through(db))
