"""Desk actions: call the next person, call again, mark absent, start, finish, redirect and triage.

A called person who misses policy.max_calls calls has left: absent() marks the task and the visit's
other waiting tasks no_show, so none of their lines keeps a place for them. The coordinator
screen lists such visits as incomplete. bring_back() reopens what was left when the person returns.
"""

import datetime as dt
import json

import sqlite_utils

from ..db import write
from .policy import DEFAULT_POLICY, Policy
from .routing import Destination, destination, put_in_line, route_in_transaction
from .stations import expected_wait_s
from .store import (
    OPEN_STATUSES,
    QueueError,
    current_time,
    fetch_all,
    fetch_one,
    get_desk,
    get_task,
    queue_number,
    stamp,
)


def call_next(db: sqlite_utils.Database, desk_id: str, at: dt.datetime | None = None) -> dict | None:
    """Call the first person in serving order at the desk's station type; return the task or None.

    Atomic: the pick and the update share one BEGIN IMMEDIATE transaction, so two desks never
    call the same person. Raises QueueError (code station_desk_closed) when the coordinator has
    closed the desk, even if its phone still shows the desk screen.
    """
    at = current_time(at)
    with write(db):
        desk = get_desk(db, desk_id)
        if not desk["open"]:
            raise QueueError(f"desk {desk['number']} is closed; open it before calling",
                             code="station_desk_closed", value=desk["number"])
        task = fetch_one(db, "SELECT * FROM task WHERE station_type_id = ? AND status = 'waiting' AND in_line = 1 "
                        "ORDER BY queue_key, rowid LIMIT 1", [desk["station_type_id"]])
        if task is None:
            return None
        db.execute("UPDATE task SET status = 'called', desk_id = ?, called_at = ?, calls = calls + 1 WHERE id = ?",
                   [desk_id, stamp(at), task["id"]])
        return get_task(db, task["id"])


def _task_in(db: sqlite_utils.Database, task_id: str, statuses: tuple[str, ...]) -> dict:
    task = get_task(db, task_id)
    if task["status"] not in statuses:
        raise QueueError(f"task {task_id} is {task['status']}; expected {' or '.join(statuses)}",
                         code="station_task_changed", value=queue_number(db, task["visit_id"]))
    return task


def recall(db: sqlite_utils.Database, task_id: str, at: dt.datetime | None = None) -> dict:
    """Call a called person again (the display and speaker repeat it); counts as a call."""
    with write(db):
        _task_in(db, task_id, ("called",))
        db.execute("UPDATE task SET calls = calls + 1, called_at = ? WHERE id = ?", [stamp(current_time(at)), task_id])
        return get_task(db, task_id)


def absent(db: sqlite_utils.Database, task_id: str, policy: Policy = DEFAULT_POLICY) -> dict:
    """Record that a called person did not come: back in line with a penalty, or no_show after max_calls.

    The penalty moves the person's queue_key later by absent_penalty_min. After max_calls calls the
    person has left: this task and the visit's other waiting tasks become no_show, and bring_back()
    reopens them when the person returns. Returns this task.
    """
    with write(db):
        task = _task_in(db, task_id, ("called",))
        if task["calls"] >= policy.max_calls:
            db.execute("UPDATE task SET status = 'no_show', in_line = 0 WHERE id = ?", [task_id])
            db.execute("UPDATE task SET status = 'no_show', in_line = 0, desk_id = NULL "
                       "WHERE visit_id = ? AND status = 'waiting'", [task["visit_id"]])
        else:
            db.execute("UPDATE task SET status = 'waiting', desk_id = NULL, queue_key = queue_key + ? WHERE id = ?",
                       [policy.absent_penalty_min * 60, task_id])
        return get_task(db, task_id)


def start(db: sqlite_utils.Database, task_id: str, at: dt.datetime | None = None) -> dict:
    """Record that the called person sat down at the desk; service time counts from here."""
    with write(db):
        _task_in(db, task_id, ("called",))
        db.execute("UPDATE task SET status = 'in_service', started_at = ? WHERE id = ?",
                   [stamp(current_time(at)), task_id])
        return get_task(db, task_id)


def _update_mean(db: sqlite_utils.Database, desk_id: str, seconds: float, policy: Policy) -> None:
    desk = get_desk(db, desk_id)
    served = desk["served"] + 1
    # A cumulative mean for the first `window` people, then an exponential one with weight 1/window.
    mean = desk["mean_service_s"] + (seconds - desk["mean_service_s"]) / min(served, policy.running_mean_window)
    db.execute("UPDATE desk SET served = ?, mean_service_s = ? WHERE id = ?", [served, mean, desk_id])


def done(db: sqlite_utils.Database, task_id: str, at: dt.datetime | None = None,
         policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Finish a task, update the desk's running mean service time and send the person on.

    Returns the next destination, whose line the person is now in, or None when the visit is finished.
    """
    at = current_time(at)
    with write(db):
        task = _task_in(db, task_id, ("called", "in_service"))
        db.execute("UPDATE task SET status = 'done', in_line = 0, done_at = ? WHERE id = ?", [stamp(at), task_id])
        began = dt.datetime.fromisoformat(task["started_at"] or task["called_at"])
        _update_mean(db, task["desk_id"], max((at - began).total_seconds(), 0.0), policy)
        return route_in_transaction(db, task["visit_id"], at, policy)


def skip(db: sqlite_utils.Database, task_id: str, at: dt.datetime | None = None,
         policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Drop a task the person declines or cannot have; return their next destination or None."""
    at = current_time(at)
    with write(db):
        task = _task_in(db, task_id, OPEN_STATUSES)
        db.execute("UPDATE task SET status = 'skipped', in_line = 0 WHERE id = ?", [task_id])
        return route_in_transaction(db, task["visit_id"], at, policy)


def send_to(db: sqlite_utils.Database, task_id: str, station_type_id: str, at: dt.datetime | None = None,
            policy: Policy = DEFAULT_POLICY) -> Destination:
    """Send a person from a desk to another station type's line, keeping their class.

    The visit's own task at that station type is used when it has one. Otherwise this task moves
    there, for example when the station it was planned for has closed. The person joins the new
    line as if they had just arrived, and a task they leave stays waiting to be done later.
    """
    at = current_time(at)
    with write(db):
        task = _task_in(db, task_id, OPEN_STATUSES)
        target = fetch_one(db, "SELECT * FROM station_type WHERE id = ?", [station_type_id])
        if target is None:
            raise QueueError(f"station type {station_type_id} not found")
        own = fetch_one(db, "SELECT * FROM task WHERE visit_id = ? AND station_type_id = ?",
                   [task["visit_id"], station_type_id])
        if own is not None and own["status"] not in OPEN_STATUSES:
            raise QueueError(f"task at station type {target['code']} is already {own['status']}",
                             code="station_move_invalid", value=queue_number(db, task["visit_id"]),
                             field=target["label"])
        if own is None or own["id"] == task_id:
            db.execute("UPDATE task SET station_type_id = ? WHERE id = ?", [station_type_id, task_id])
            own = get_task(db, task_id)
        else:
            db.execute("UPDATE task SET status = 'waiting', desk_id = NULL, in_line = 0 WHERE id = ?", [task_id])
        put_in_line(db, own, at, policy)
        return destination(db, {**own, "code": target["code"], "label": target["label"]},
                            expected_wait_s(db, station_type_id))


def left_after_absence(db: sqlite_utils.Database, visit_id: str) -> bool:
    """Return True when a visit has a no_show task and no open one: the person left after missed calls."""
    statuses = {row[0] for row in db.execute("SELECT status FROM task WHERE visit_id = ?", [visit_id]).fetchall()}
    return "no_show" in statuses and not statuses & set(OPEN_STATUSES)


def bring_back(db: sqlite_utils.Database, visit_id: str, at: dt.datetime | None = None,
               policy: Policy = DEFAULT_POLICY) -> Destination | None:
    """Put a no-show who has returned back in line for every task they missed; return their line.

    The no_show tasks become waiting again with their call count reset, so the person gets
    max_calls fresh calls. They join their next line as if they had just arrived, keeping their
    priority class. Raises QueueError (code station_bring_back_invalid) when the visit has no
    no_show task or is still in a line.
    """
    at = current_time(at)
    with write(db):
        if not left_after_absence(db, visit_id):
            raise QueueError(f"visit {visit_id} has no no_show task or is still in a line",
                             code="station_bring_back_invalid", value=queue_number(db, visit_id))
        db.execute("UPDATE task SET status = 'waiting', calls = 0, in_line = 0, desk_id = NULL "
                   "WHERE visit_id = ? AND status = 'no_show'", [visit_id])
        return route_in_transaction(db, visit_id, at, policy)


def triage(db: sqlite_utils.Database, visit_id: str, red_flags: list[str], policy: Policy = DEFAULT_POLICY) -> int:
    """Raise a visit's open tasks to emergency when triage finds red flags; return how many changed.

    A task already in line moves to the front at once, because its queue_key loses the emergency head start.
    """
    if not red_flags:
        return 0
    with write(db):
        return triage_in_transaction(db, visit_id, red_flags, policy)


def triage_in_transaction(db: sqlite_utils.Database, visit_id: str, red_flags: list[str],
                          policy: Policy = DEFAULT_POLICY) -> int:
    """Do triage's work inside the caller's write transaction."""
    tasks = fetch_all(db, "SELECT * FROM task WHERE visit_id = ? AND status IN ('waiting', 'called', 'in_service')",
                      [visit_id])
    for task in tasks:
        shift = policy.head_start_s("emergency") - policy.head_start_s(task["priority"])
        db.execute("UPDATE task SET priority = 'emergency', red_flags = ?, "
                   "queue_key = CASE WHEN queue_key IS NULL THEN NULL ELSE queue_key - ? END WHERE id = ?",
                   [json.dumps(list(red_flags), ensure_ascii=False), shift, task["id"]])
    return len(tasks)
