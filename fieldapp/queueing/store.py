"""Row access, times and errors shared by the queue modules."""

import datetime as dt

import sqlite_utils

OPEN_STATUSES = ("waiting", "called", "in_service")


class QueueError(ValueError):
    """A queue operation on a missing row or in a state that does not allow it.

    The message is English, for logs. `code`, when set, names the entry in fieldapp/errors.py's catalogue
    that tells staff in Vietnamese what happened, and `fields` fill in its {value} and {field}. Errors
    without a code are programming or setup mistakes (a missing row, a plan item no station serves).
    """

    def __init__(self, message: str, code: str | None = None, **fields: object):
        super().__init__(message)
        self.code = code
        self.fields = fields


def current_time(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else dt.datetime.now(dt.UTC)


def stamp(at: dt.datetime) -> str:
    return at.isoformat(timespec="seconds")


def fetch_one(db: sqlite_utils.Database, sql: str, params: list) -> dict | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def fetch_all(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def get_task(db: sqlite_utils.Database, task_id: str) -> dict:
    """Return a task by id, or raise QueueError."""
    task = fetch_one(db, "SELECT * FROM task WHERE id = ?", [task_id])
    if task is None:
        raise QueueError(f"task {task_id} not found")
    return task


def get_desk(db: sqlite_utils.Database, desk_id: str) -> dict:
    desk = fetch_one(db, "SELECT * FROM desk WHERE id = ?", [desk_id])
    if desk is None:
        raise QueueError(f"desk {desk_id} not found")
    return desk


def queue_number(db: sqlite_utils.Database, visit_id: str) -> int | None:
    """Return a visit's queue number, the only way staff name a person in queue errors."""
    row = db.execute("SELECT queue_number FROM visit WHERE id = ?", [visit_id]).fetchone()
    return row[0] if row else None
