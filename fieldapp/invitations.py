"""Invitations: who is invited to a round, their token, site, day and time slot; voiding and reissuing."""

import datetime as dt
import re
from collections import defaultdict

import sqlite_utils

from . import slots
from .db import new_id, now
from .errors import FieldappError
from .groups import parse_groups
from .rounds import add_rule, sites
from .text import fold
from .tokens import new_token

# Slot priority: people with merit (1), the elderly (2) and people with disabilities.
_PRIORITY_GROUPS = {1, 2}
_DISABLED = re.compile(r"\bnkt\b|khuyet tat")


def select_people(db: sqlite_utils.Database, kind: str, value: str = "") -> list[str]:
    """Return the ids of the people a filter selects: all, group N, list FILE, tdp N or class NAME."""
    if kind == "all":
        query, params = "SELECT id FROM person", []
    elif kind == "group":
        if not (value.strip().isdigit() and 1 <= int(value) <= 8):
            raise FieldappError("group_invalid", value=value)
        query, params = "SELECT id FROM person WHERE (';' || groups || ';') LIKE ?", [f"%;{int(value)};%"]
    elif kind == "list":
        query, params = "SELECT DISTINCT person_id FROM source_row WHERE lower(file_name) = lower(?)", [value]
    elif kind == "tdp":
        query, params = "SELECT id FROM person WHERE tdp = ?", [value.strip().lstrip("0")]
    elif kind == "class":
        query, params = "SELECT id FROM person WHERE lower(class_name) = lower(?)", [value.strip()]
    else:
        raise FieldappError("rule_invalid", value=kind)
    return [row[0] for row in db.execute(query + " ORDER BY 1", params).fetchall()]


def invite(db: sqlite_utils.Database, round_id: str, site_id: str, kind: str, value: str = "",
           date: str | None = None) -> int:
    """Invite the people a filter selects to a site, then plan slots; returns how many were newly invited.

    People who already hold an invitation in this round keep it. Call inside a write transaction.
    """
    add_rule(db, round_id, site_id, kind, value, date)
    already = {row[0] for row in db.execute(
        "SELECT person_id FROM invitation WHERE round_id = ? AND status = 'active'", [round_id]).fetchall()}
    people = [person for person in select_people(db, kind, value) if person not in already]
    db["invitation"].insert_all(
        {"id": new_id(), "round_id": round_id, "person_id": person, "token": new_token(), "site_id": site_id,
         "date": date, "slot_start": None, "slot_end": None, "status": "active", "replaced_by": None,
         "printed_at": None, "created_at": now()}
        for person in people
    )
    plan_slots(db, round_id)
    return len(people)


def _units_for(db: sqlite_utils.Database, invitations: list[dict]) -> list[slots.Unit]:
    """Build the units that share a slot: a class, else a household, else one person."""
    people = []
    for invitation in invitations:
        person = db.execute("SELECT groups, tdp, class_name, sort_key FROM person WHERE id = ?",
                            [invitation["person_id"]]).fetchone()
        groups, tdp, class_name, sort_key = person or ("", "", "", "")
        rows = db.execute("SELECT file_name, household, class_name, notes FROM source_row WHERE person_id = ?",
                          [invitation["person_id"]]).fetchall()
        household = next((f"{file}|{code}" for file, code, _, _ in rows if code), None)
        # A pupil listed in two classes goes with the class the roster settled on for them.
        class_key = next((f"{file}|{name}" for file, _, name, _ in rows if name and name == class_name), None)
        disabled = any(_DISABLED.search(fold(notes or "")) for _, _, _, notes in rows)
        people.append({
            "id": invitation["person_id"], "household": household, "class_key": class_key,
            # A class comes together with its teacher, so one pupil's priority does not move the class.
            "priority": not class_key and (bool(parse_groups(groups) & _PRIORITY_GROUPS) or disabled),
            "order": f"{class_name or ''}|{(tdp or '').zfill(3)}|{sort_key}",
        })
    return slots.make_units(people)


def _site_slots(site: dict, dates: list[str], used: dict) -> list[slots.Slot]:
    """Return a site's slots on the given days, less the places that pinned invitations take."""
    found = []
    for date in dates:
        for start, end in site["sessions"]:
            for slot in slots.build_slots(site["id"], [dt.date.fromisoformat(date)], start, end,
                                          site["slot_minutes"], site["capacity"]):
                room = slot.capacity - used.get((date, slot.start), 0)
                if room > 0:
                    found.append(slots.Slot(slot.site_id, slot.date, slot.start, slot.end, room))
    return found


def plan_slots(db: sqlite_utils.Database, round_id: str) -> int:
    """Give every active invitation without a printed slip a day and slot; return how many found none.

    Printed slips keep their slot, since people already hold them. Call inside a write transaction.
    """
    unplaced = 0
    for site in sites(db, round_id):
        cursor = db.execute("SELECT * FROM invitation WHERE round_id = ? AND site_id = ? AND status = 'active'",
                            [round_id, site["id"]])
        names = [c[0] for c in cursor.description]
        invitations = [dict(zip(names, row)) for row in cursor.fetchall()]
        used: dict = defaultdict(int)
        for invitation in invitations:
            if invitation["printed_at"] and invitation["slot_start"]:
                used[(invitation["date"], invitation["slot_start"])] += 1

        # Invitations bound to one day go first, then the rest fill what is left.
        free = [i for i in invitations if not (i["printed_at"] and i["slot_start"])]
        by_day = defaultdict(list)
        for invitation in free:
            by_day[invitation["date"] if invitation["date"] in site["dates"] else None].append(invitation)
        for day in sorted(by_day, key=lambda d: (d is None, d or "")):
            chosen = by_day[day]
            result = slots.assign(_units_for(db, chosen), _site_slots(site, [day] if day else site["dates"], used))
            for invitation in chosen:
                slot = result.placed.get(invitation["person_id"])
                date, start, end = (slot.date.isoformat(), slot.start, slot.end) if slot else (invitation["date"], None, None)
                if slot:
                    used[(date, start)] += 1
                db.execute("UPDATE invitation SET date = ?, slot_start = ?, slot_end = ? WHERE id = ?",
                           [date, start, end, invitation["id"]])
            unplaced += len(result.unplaced)
    return unplaced


def reissue(db: sqlite_utils.Database, invitation_id: str) -> str:
    """Void an invitation (a lost slip) and issue a new token with the same slot; return the new id."""
    cursor = db.execute("SELECT * FROM invitation WHERE id = ? AND status = 'active'", [invitation_id])
    row = cursor.fetchone()
    if row is None:
        raise FieldappError("person_not_invited", value=invitation_id)
    old = dict(zip([c[0] for c in cursor.description], row))

    replacement = dict(old, id=new_id(), token=new_token(), printed_at=None, created_at=now(), replaced_by=None)
    db.execute("UPDATE invitation SET status = 'void', replaced_by = ? WHERE id = ?", [replacement["id"], old["id"]])
    db["invitation"].insert(replacement)
    return replacement["id"]


def find_by_token(db: sqlite_utils.Database, token: str) -> dict | None:
    """Return the invitation holding a token, active or void, or None."""
    cursor = db.execute("SELECT * FROM invitation WHERE token = ?", [token])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def export_rows(db: sqlite_utils.Database, round_id: str) -> list[list]:
    """Return person_id, token, short_code, site, date, slot_start for each active invitation."""
    from .tokens import short_code

    rows = db.execute(
        """SELECT i.person_id, i.token, s.name, i.date, i.slot_start FROM invitation i
           JOIN site s ON s.id = i.site_id JOIN person p ON p.id = i.person_id
           WHERE i.round_id = ? AND i.status = 'active' ORDER BY s.rowid, i.date, i.slot_start, p.sort_key""",
        [round_id],
    ).fetchall()
    return [[person, token, short_code(token), site, date, start] for person, token, site, date, start in rows]


def slot_load(db: sqlite_utils.Database, round_id: str) -> dict:
    """Return {(site_id, date, slot_start): people} over active invitations."""
    rows = db.execute(
        """SELECT site_id, date, slot_start, count(*) FROM invitation WHERE round_id = ? AND status = 'active'
           AND slot_start IS NOT NULL GROUP BY site_id, date, slot_start""", [round_id]).fetchall()
    return {(site, date, start): count for site, date, start, count in rows}


def move(db: sqlite_utils.Database, invitation_id: str, date: str, start: str) -> None:
    """Move one invitation to another slot of its site if the slot has room; call inside a write transaction."""
    cursor = db.execute("SELECT round_id, site_id FROM invitation WHERE id = ? AND status = 'active'", [invitation_id])
    row = cursor.fetchone()
    if row is None:
        raise FieldappError("person_not_invited", value=invitation_id)
    round_id, site_id = row
    site = next(s for s in sites(db, round_id) if s["id"] == site_id)
    if date not in site["dates"]:
        raise FieldappError("date_not_in_round", value=date)
    match = [slot for slot in _site_slots(site, [date], {}) if slot.start == start]
    if not match:
        raise FieldappError("slot_full", value=f"{date} {start}")
    occupied = slot_load(db, round_id).get((site_id, date, start), 0)
    if occupied >= site["capacity"]:
        raise FieldappError("slot_full", value=f"{date} {start}")
    db.execute("UPDATE invitation SET date = ?, slot_start = ?, slot_end = ? WHERE id = ?",
               [date, start, match[0].end, invitation_id])


def rules(db: sqlite_utils.Database, round_id: str) -> list[dict]:
    """Return the round's rules with their site names."""
    rows = db.execute(
        """SELECT r.filter_kind, r.filter_value, r.date, s.name FROM round_rule r JOIN site s ON s.id = r.site_id
           WHERE r.round_id = ? ORDER BY r.rowid""", [round_id]).fetchall()
    return [{"kind": k, "value": v, "date": d, "site": s} for k, v, d, s in rows]


def mark_printed(db: sqlite_utils.Database, tokens: list[str]) -> None:
    """Record that these slips were printed, which pins their slots; call inside a write transaction."""
    stamp = now()
    db.conn.executemany("UPDATE invitation SET printed_at = coalesce(printed_at, ?) WHERE token = ?",
                        [(stamp, token) for token in tokens])
