"""Row access, times and errors shared by the queue modules."""

import datetime as dt

import sqlite_utils

OPEN_STATUSES = ("waiting", "called", "in_service")


class QueueError(ValueError):
    """A queue operation on a missing row or in a state that does not allow it."""



def current_time(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else dt.datetime.now(dt.timezone.utc)


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
