"""Visits: one per person per exam day, with consent, a queue number and the person's station plan."""

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass

import sqlite_utils

from . import queueing
from .birthdates import parse_iso
from .db import new_id, now, write
from .errors import FieldappError
from .groups import parse_groups
from .rounds import station_plans
from .stationplans import kind_of, reference

# Decree 13/2023/ND-CP art. 20: a child is under 16; from 7 years old the child's own agreement is needed too.
CHILD_AGE = 16
ASSENT_AGE = 7
CONSENT_BY = ("self", "guardian")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desk:
    """The place of a check-in: the round, the site and the exam day (yyyy-mm-dd)."""

    round_id: str
    site_id: str
    day: str


@dataclass(frozen=True)
class Consent:
    """The consent to the exam and to processing health data: given by the person, or a guardian for a child."""

    by: str = "self"
    guardian_name: str = ""
    child_assent: bool = False


def age_on(birth_date: str | None, day: str) -> int | None:
    """Return a person's age on an exam day, or None when the birth date is unknown."""
    if not birth_date:
        return None
    return parse_iso(birth_date).age_on(dt.date.fromisoformat(day))


def check_consent(consent: Consent, age: int | None) -> Consent:
    """Return the consent to store, or raise a catalogue error when it is not enough for this age."""
    if consent.by not in CONSENT_BY:
        raise FieldappError("checkin_consent_missing")
    if age is not None and age < CHILD_AGE and consent.by != "guardian":
        raise FieldappError("checkin_guardian_missing", value=age)
    if consent.by == "guardian" and not consent.guardian_name.strip():
        raise FieldappError("checkin_guardian_missing", value=age if age is not None else "")
    if age is not None and ASSENT_AGE <= age < CHILD_AGE and not consent.child_assent:
        raise FieldappError("checkin_assent_missing", value=age)
    return Consent(consent.by, consent.guardian_name.strip(), consent.child_assent)


def find_visit(db: sqlite_utils.Database, person_id: str, day: str) -> dict | None:
    """Return a person's visit on a day, or None."""
    cursor = db.execute("SELECT * FROM visit WHERE person_id = ? AND day = ?", [person_id, day])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def get_visit(db: sqlite_utils.Database, visit_id: str) -> dict | None:
    cursor = db.execute("SELECT * FROM visit WHERE id = ?", [visit_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def plan_for(db: sqlite_utils.Database, round_id: str, person: dict, day: str) -> tuple[str, list[str]]:
    """Return the person's station plan kind on the exam day and the round's item codes for it."""
    birth = parse_iso(person["birth_date"]) if person.get("birth_date") else None
    kind = kind_of(birth, parse_groups(person.get("groups") or ""), dt.date.fromisoformat(day))
    return kind, station_plans(db, round_id).get(kind, [])


def record_visit(db: sqlite_utils.Database, desk: Desk, person: dict, consent: Consent, invitation_id: str | None = None,
                 staff_id: str | None = None, device_id: str | None = None) -> tuple[dict, bool]:
    """Check a person in and return (visit, created); call inside a BEGIN IMMEDIATE transaction.

    A person already checked in that day gets the existing visit back, so two phones scanning the
    same slip at once make one visit. The queue number is the site's next number that day, from 1.
    """
    existing = find_visit(db, person["id"], desk.day)
    if existing is not None:
        return existing, False

    kind, _ = plan_for(db, desk.round_id, person, desk.day)
    stamp = now()
    queue_number = db.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visit WHERE site_id = ? AND day = ?",
                              [desk.site_id, desk.day]).fetchone()[0]
    visit = {
        "id": new_id(), "round_id": desk.round_id, "site_id": desk.site_id, "person_id": person["id"],
        "invitation_id": invitation_id, "day": desk.day, "checked_in_at": stamp, "queue_number": queue_number,
        "plan_kind": kind, "consent_by": consent.by, "guardian_name": consent.guardian_name or None,
        "consent_at": stamp, "staff_id": staff_id, "device_id": device_id,
        "child_assent": 1 if consent.child_assent else 0,
    }
    db["visit"].insert(visit)
    return visit, True


def check_in(db: sqlite_utils.Database, desk: Desk, person: dict, consent: Consent, invitation_id: str | None = None,
             staff_id: str | None = None, device_id: str | None = None) -> tuple[dict, bool]:
    """Check a person in within its own write transaction; return (visit, created).

    BEGIN IMMEDIATE makes writers queue, so the read of the next queue number and the insert are atomic.
    The UNIQUE constraints on (person, day) and (site, day, queue number) back this up: a writer that
    still collides (another process that skipped BEGIN IMMEDIATE) gets the person's visit if one exists.
    """
    consent = check_consent(consent, age_on(person.get("birth_date"), desk.day))
    try:
        with write(db):
            visit, created = record_visit(db, desk, person, consent, invitation_id, staff_id, device_id)
    except sqlite3.IntegrityError:
        existing = find_visit(db, person["id"], desk.day)
        if existing is None:
            raise
        return existing, False
    if created:
        queue_visit(db, visit, person)
    return visit, created


def queue_visit(db: sqlite_utils.Database, visit: dict, person: dict) -> None:
    """Put a new visit in its first station line, creating the site's default stations when it has none.

    Call it after the check-in transaction has committed, because the queue functions open their own.
    A queue problem, such as a plan item that no station serves, is logged and leaves the visit checked
    in but in no line, so a misconfigured plan never blocks the door.
    """
    try:
        if db.execute("SELECT 1 FROM station_type WHERE site_id = ?", [visit["site_id"]]).fetchone() is None:
            queueing.create_default_stations(db, visit["site_id"])
        age = age_on(person.get("birth_date"), visit["day"])
        priority = queueing.priority_class(age, parse_groups(person.get("groups") or ""))
        queueing.enqueue_visit(db, visit["id"], priority)
    except queueing.QueueError as error:
        log.warning("visit %s checked in but not queued: %s", visit["id"], error)


def queue_unqueued(db: sqlite_utils.Database, day: str) -> int:
    """Put the day's visits that have no queue task in their first line; return how many were found.

    check_in commits the visit before queue_visit opens the queue's own transactions, so a crash or a
    power cut between the two leaves a checked-in person in no line. `fieldapp serve` runs this at start.
    """
    rows = db.execute("""SELECT visit.id, person.birth_date, person.groups FROM visit
                         JOIN person ON person.id = visit.person_id
                         WHERE visit.day = ? AND NOT EXISTS (SELECT 1 FROM task WHERE task.visit_id = visit.id)
                         ORDER BY visit.queue_number""", [day]).fetchall()
    for visit_id, birth_date, groups in rows:
        log.info("visit %s had no queue task after a restart; queueing it", visit_id)
        queue_visit(db, get_visit(db, visit_id), {"birth_date": birth_date, "groups": groups})
    return len(rows)


def first_station(items: list[str]) -> str:
    """Return the label of a plan's first item, where the person goes first."""
    if not items:
        return ""
    return reference()["items"].get(items[0], {}).get("label", items[0])


def plan_label(kind: str) -> str:
    return reference()["plans"].get(kind, {}).get("label", kind)
