"""Each visit's tasks, the order rules between them and where the person goes next."""

import datetime as dt
import json
from dataclasses import dataclass

import sqlite_utils

from ..db import insert_row, new_id, write
from ..rounds import station_plans
from .policy import CLASSES, DEFAULT_POLICY, Policy
from .stations import ORDINALS, OTHER_ORDINAL, expected_wait_s
from .store import OPEN_STATUSES, QueueError, current_time, fetch_all, fetch_one, get_task, stamp


@dataclass(frozen=True)
class Destination:
    """A person's next line: the task, its station type and the expected wait in seconds."""

    task_id: str
    station_type_id: str
    code: str
    label: str
    expected_wait_s: float | None = None   # None when the station type has no open desk
    desks: tuple[int, ...] = ()              # numbers of the open desks


def _plan_station_types(db: sqlite_utils.Database, visit: dict) -> list[dict]:
    """Return the site's station types that a visit's plan needs, in plan order."""
    items = station_plans(db, visit["round_id"]).get(visit["plan_kind"], [])
    station_types = fetch_all(db, "SELECT * FROM station_type WHERE site_id = ?", [visit["site_id"]])
    ordered = []
    for item in items:
        match = next((s for s in station_types if item in json.loads(s["items"])), None)
        if match is None:
            raise QueueError(f"no station type at site {visit['site_id']} serves plan item {item!r}; "
                             f"run create_default_stations or add_station_type")
        if match not in ordered:
            ordered.append(match)
    return ordered


def enqueue_visit(db: sqlite_utils.Database, visit_id: str, priority: str = "normal",
                  at: dt.datetime | None = None, policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Create a visit's tasks from its plan kind and put the person in their first line.

    Calling it again for the same visit creates nothing and returns the current destination.
    """
    with write(db):
        return enqueue_in_transaction(db, visit_id, priority, current_time(at), policy)


def enqueue_in_transaction(db: sqlite_utils.Database, visit_id: str, priority: str, at: dt.datetime,
                           policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Do enqueue_visit's work inside the caller's write transaction."""
    if priority not in CLASSES:
        raise QueueError(f"priority {priority!r} is invalid; expected one of {', '.join(CLASSES)}")
    visit = fetch_one(db, "SELECT * FROM visit WHERE id = ?", [visit_id])
    if visit is None:
        raise QueueError(f"visit {visit_id} not found")
    if db.execute("SELECT 1 FROM task WHERE visit_id = ?", [visit_id]).fetchone() is None:
        for station_type in _plan_station_types(db, visit):
            insert_row(db, "task", {
                "id": new_id(), "visit_id": visit_id, "station_type_id": station_type["id"],
                "status": "waiting", "in_line": 0, "priority": priority,
                "ordinal": ORDINALS.get(station_type["code"], OTHER_ORDINAL), "calls": 0,
            })
    return route_in_transaction(db, visit_id, at, policy)



def _candidates(db: sqlite_utils.Database, visit_id: str) -> list[dict]:
    """Return the visit's unblocked waiting tasks in plan order: those of the lowest open ordinal."""
    tasks = fetch_all(db, """SELECT task.*, station_type.code, station_type.label FROM task
                         JOIN station_type ON station_type.id = task.station_type_id
                         WHERE visit_id = ? ORDER BY task.rowid""", [visit_id])
    open_tasks = [t for t in tasks if t["status"] in OPEN_STATUSES]
    if not open_tasks:
        return []
    lowest = min(t["ordinal"] for t in open_tasks)
    return [t for t in open_tasks if t["status"] == "waiting" and t["ordinal"] == lowest]


def _choose(db: sqlite_utils.Database, candidates: list[dict], policy: Policy) -> tuple[dict, float | None] | None:
    if not candidates:
        return None
    waits = [expected_wait_s(db, t["station_type_id"]) for t in candidates]
    if policy.routing == "plan_order":
        return candidates[0], waits[0]
    # Stations with no open desk come last; ties keep plan order.
    best = min(range(len(candidates)), key=lambda i: (waits[i] is None, waits[i] or 0.0, i))
    return candidates[best], waits[best]


def destination(db: sqlite_utils.Database, task: dict, wait: float | None) -> Destination:
    desks = tuple(row[0] for row in db.execute("SELECT number FROM desk WHERE station_type_id = ? AND open = 1 "
                                          "ORDER BY number", [task["station_type_id"]]).fetchall())
    return Destination(task["id"], task["station_type_id"], task["code"], task["label"], wait, desks)


def next_destination(db: sqlite_utils.Database, visit_id: str, policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Return where the person should go next without moving them, or None when nothing is left to do.

    Among the unblocked waiting tasks it picks the station type with the shortest expected wait
    (or the first in plan order under routing="plan_order"). A person already in a line is
    returned that line, since they keep their place.
    """
    current = fetch_one(db, """SELECT task.*, station_type.code, station_type.label FROM task
                          JOIN station_type ON station_type.id = task.station_type_id
                          WHERE visit_id = ? AND in_line = 1 AND status IN ('waiting', 'called', 'in_service')""",
                   [visit_id])
    if current is not None:
        return destination(db, current, expected_wait_s(db, current["station_type_id"]))
    choice = _choose(db, _candidates(db, visit_id), policy)
    return destination(db, *choice) if choice else None


def put_in_line(db: sqlite_utils.Database, task: dict, at: dt.datetime, policy: Policy) -> None:
    key = at.timestamp() - policy.head_start_s(task["priority"])
    db.execute("UPDATE task SET in_line = 0 WHERE visit_id = ? AND id != ?", [task["visit_id"], task["id"]])
    db.execute("UPDATE task SET in_line = 1, status = 'waiting', desk_id = NULL, queue_key = ?, enqueued_at = ? "
               "WHERE id = ?", [key, stamp(at), task["id"]])


def route_in_transaction(db: sqlite_utils.Database, visit_id: str, at: dt.datetime,
                         policy: Policy) -> Destination | None:
    """Put the person in the line next_destination picks; call inside a write transaction."""
    current = next_destination(db, visit_id, policy)
    if current is None:
        return None
    task = get_task(db, current.task_id)
    if not task["in_line"]:
        put_in_line(db, task, at, policy)
    return current


def route(db: sqlite_utils.Database, visit_id: str, at: dt.datetime | None = None,
          policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Put the person in their next line, if they are in none, and return it or None when nothing is waiting."""
    with write(db):
        return route_in_transaction(db, visit_id, current_time(at), policy)
