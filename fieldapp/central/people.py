"""People across sites: merging edits of one person field by field, and linking sites' people by ID number.

A person edited at two sites keeps, per field, the value recorded later; the other value goes to
person_history for review. People of different sites with the same CCCD (or, without one, the same old
CMND number) are one central person. People with the same name and birth date where an ID number is
missing are not merged: they are marked for review, and a ward officer's decision on such a pair
(review_decision) applies to every later link.
"""

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection

from ..text import fold
from .schema import person_history, person_link, review_decision

# Fields that follow the newest record without a history row: the id, and values derived from others.
QUIET_FIELDS = {"id", "updated_at", "sort_key", "search_key"}
# The key of field_times for kinds merged as a whole record rather than field by field.
WHOLE_RECORD = "*"
# PostgreSQL advisory lock taken while linking, so two sites' batches cannot both miss each other's
# person with the same ID number. Any constant works; this one is "fieldapp" in ASCII, truncated.
LINK_LOCK_KEY = 0x6669656C64617070
# Values per IN (...) list, below SQLite's bound-parameter limit.
IN_CHUNK = 900
# A chain of central_person_id links is short: it forms when a person's ID number changes after others
# linked to it. More hops than this means a loop, so the lookup raises RuntimeError.
MAX_LINK_HOPS = 10


@functools.lru_cache(maxsize=4096)
def instant(moment: str) -> dt.datetime:
    """Parse an ISO 8601 time; a time without an offset is taken as UTC.

    Cached because a batch repeats the same few times: its records are made seconds apart.
    """
    parsed = dt.datetime.fromisoformat(moment)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def is_newer(incoming: tuple[str, str], held: tuple[str, str], same_site: bool) -> bool:
    """True when a value (recorded_at, site_id) replaces the held one.

    Records of one site arrive in its sequence order, so a site's later record always replaces its own
    earlier value, whatever its clock says. Between sites the later time wins, and at equal times the
    greater site id, so the result does not depend on which batch arrives first.
    """
    if same_site:
        return True
    return (instant(incoming[0]), incoming[1]) > (instant(held[0]), held[1])


def whole_record_writer(held: dict) -> tuple[str, str]:
    """Return (recorded_at, site_id) of the last record taken whole into a held row."""
    times = json.loads(held["field_times"]) if held["field_times"] else {}
    writer = times.get(WHOLE_RECORD)
    return (writer[0], writer[1]) if writer else (held["recorded_at"], held["site_id"])


def merge(connection: Connection, held: dict, site_id: str, item: dict, received_at: str) -> tuple[dict, dict, str]:
    """Merge a person record into the held row field by field; return (payload, field_times, recorded_at).

    Each field keeps the newer value (see is_newer). When the two values came from different sites,
    the one not kept is written to person_history.
    NOTE: a site sends the person's whole row, so a field it did not change still carries its record's
    time and can replace another site's older edit of that field. The replaced value is in person_history.
    """
    payload = with_removed_flag(json.loads(held["payload"]))
    default_time = [held["recorded_at"], held["site_id"]]
    times = json.loads(held["field_times"]) if held["field_times"] else {}
    incoming = with_removed_flag(item["payload"])
    history = []
    # Only the fields the record carries: a removal carries none but "removed", and a site that does not
    # know a newer column leaves it as it is.
    for field in sorted(incoming):
        held_time, held_value, new_value = times.get(field, default_time), payload.get(field), incoming[field]
        same_site = held_time[1] == site_id
        newer = is_newer((item["recorded_at"], site_id), (held_time[0], held_time[1]), same_site)
        if newer:
            times[field] = [item["recorded_at"], site_id]
            payload[field] = new_value
        if held_value == new_value or same_site or field in QUIET_FIELDS:
            continue
        if newer:
            history.append(_history_row(item["id"], field, new_value, site_id, held_value, held_time, received_at))
        else:
            history.append(_history_row(item["id"], field, held_value, held_time[1], new_value,
                                        [item["recorded_at"], site_id], received_at))
    times = {field: times.get(field, default_time) for field in payload}
    if history:
        connection.execute(person_history.insert(), history)
    recorded_at = max((moment for moment, _site in times.values()), key=instant)
    return payload, times, recorded_at


def with_removed_flag(payload: dict) -> dict:
    """Return a person payload with "removed": False added unless it is a removal record.

    A site sends {"id": ..., "removed": true} when a person leaves its roster (a list taken out, two people
    merged after review) and the whole row again if the person comes back, so a row means "not removed".
    """
    return payload if "removed" in payload else {**payload, "removed": False}


def _history_row(person_id: str, field: str, kept: object, kept_site: str, other: object,
                 other_time: list[str], received_at: str) -> dict:
    return {"person_id": person_id, "field": field, "kept_value": _as_text(kept), "other_value": _as_text(other),
            "kept_site": kept_site, "other_site": other_time[1], "recorded_at": other_time[0],
            "received_at": received_at}


def _as_text(value: object) -> str | None:
    return None if value is None else str(value)


# Links between sites' people.


def _id_number(value: object) -> str | None:
    number = str(value).strip() if value is not None else ""
    return number or None


def name_key(payload: dict) -> str | None:
    """Return "folded name|birth date", or None when either is missing."""
    name, born = fold(payload.get("full_name") or ""), (payload.get("birth_date") or "").strip()
    return f"{name}|{born}" if name and born else None


def link(connection: Connection, changed: dict[str, dict]) -> None:
    """Link each changed person (id -> payload now held) to its central person, in the given order.

    A removed person loses its link, and the people linked to it move to the first of them. Review
    decisions about the changed people are applied (see _resolve).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LINK_LOCK_KEY})
    removed = [person_id for person_id, payload in changed.items() if payload.get("removed")]
    if removed:
        _unlink(connection, removed)
    entries = {person_id: (_id_number(payload.get("cccd")), _id_number(payload.get("cmnd")), name_key(payload))
               for person_id, payload in changed.items() if not payload.get("removed")}
    if not entries:
        return
    # A name and birth date matter only where one of the two people lacks an ID number (_resolve). So for
    # names that only people with an ID number bring, namesakes with an ID number are not read, because a
    # common name with 1 January of a year (a birth year alone) can have thousands.
    names_without_id = {name for cccd, cmnd, name in entries.values() if name and not (cccd or cmnd)}
    names_with_id = {name for _cccd, _cmnd, name in entries.values() if name} - names_without_id
    known = {
        "cccd": _links_where(connection, "cccd", {cccd for cccd, _cmnd, _name in entries.values() if cccd}),
        "cmnd": _links_where(connection, "cmnd", {cmnd for _cccd, cmnd, _name in entries.values() if cmnd}),
        "name_key": _links_where(connection, "name_key", names_without_id),
    }
    for name, rows in _links_where(connection, "name_key", names_with_id, without_id_only=True).items():
        known["name_key"][name].extend(rows)
    decided = _decisions_about(connection, set(entries))
    merged_into = {row["person_id"]: row["other_id"] for row in decided.values() if row["decision"] == "same"}
    known["person_id"] = _links_where(connection, "person_id", set(merged_into.values()))

    rows = []
    for person_id, (cccd, cmnd, name) in entries.items():
        row = _resolve(person_id, cccd, cmnd, name, known, decided, merged_into)
        for column in ("cccd", "cmnd", "name_key", "person_id"):
            bucket = known[column][row[column]] if row[column] else []
            bucket[:] = [other for other in bucket if other["person_id"] != person_id] + [row]
        rows.append(row)
    statement = _upsert_links(connection)
    connection.execute(statement, rows)


def _unlink(connection: Connection, person_ids: list[str]) -> None:
    connection.execute(delete(person_link).where(person_link.c.person_id.in_(person_ids)))
    for person_id in person_ids:
        members = connection.execute(select(person_link.c.person_id).where(person_link.c.central_person_id == person_id)
                                     .order_by(person_link.c.person_id)).scalars().all()
        if not members:
            continue
        connection.execute(update(person_link).where(person_link.c.central_person_id == person_id)
                           .values(central_person_id=members[0]))
        connection.execute(update(person_link).where(person_link.c.person_id == members[0]).values(reason="own"))


def _resolve(person_id: str, cccd: str | None, cmnd: str | None, name: str | None, known: dict,
             decided: dict[frozenset[str], dict], merged_into: dict[str, str]) -> dict:
    """Return a person's person_link row: linked by ID number, else merged by review, else own or for review.

    A "same" decision applies until it is undone, even after a change of name or birth date, unless the
    two people now have different ID numbers of one kind. A "different" decision applies while the
    person's name and birth date are those decided on.
    """
    row = {"person_id": person_id, "central_person_id": person_id, "reason": "own", "cccd": cccd, "cmnd": cmnd,
           "name_key": name, "review_with": None}
    for column, value in (("cccd", cccd), ("cmnd", cmnd)):
        # Links that point at this person already make it a central person, not a member of another.
        others = [other for other in known[column].get(value, [])
                  if person_id not in (other["person_id"], other["central_person_id"])] if value else []
        if others:
            row.update(central_person_id=others[0]["central_person_id"], reason="id_number")
            return row
    target = _merge_target(person_id, cccd, cmnd, known, merged_into)
    if target is not None:
        row.update(central_person_id=target["central_person_id"], reason="reviewed_same",
                   review_with=target["person_id"])
        return row
    if name:
        for other in known["name_key"].get(name, []):
            undecided = not (cccd or cmnd) or not (other["cccd"] or other["cmnd"])
            if other["person_id"] == person_id or other["central_person_id"] == person_id or not undecided:
                continue
            decision = (decided.get(frozenset((person_id, other["person_id"])))
                        or decided.get(frozenset((person_id, other["central_person_id"]))))
            if decision is not None and decision["decision"] == "same":
                # The other person was merged into this one, whose own central person is someone else.
                continue
            if decision is not None and decision["name_key"] == name:
                row.update(reason="reviewed_different", review_with=other["central_person_id"])
                continue
            row.update(reason="review", review_with=other["central_person_id"])
            break
    return row


def _merge_target(person_id: str, cccd: str | None, cmnd: str | None, known: dict,
                  merged_into: dict[str, str]) -> dict | None:
    """Return the link row of the person an officer merged this one into, or None when that merge no longer applies."""
    target_id = merged_into.get(person_id)
    found = known["person_id"].get(target_id, []) if target_id else []
    if not found:
        # The other person was removed from its site's roster.
        return None
    target = found[0]
    conflict = any(mine and theirs and mine != theirs
                   for mine, theirs in ((cccd, target["cccd"]), (cmnd, target["cmnd"])))
    if conflict or target["central_person_id"] == person_id:
        return None
    return target


def _decisions_about(connection: Connection, person_ids: set[str]) -> dict[frozenset[str], dict]:
    """Return the review decisions naming any of these people, by their pair of person ids."""
    found = {}
    ordered = sorted(person_ids)
    for column in (review_decision.c.person_id, review_decision.c.other_id):
        for start in range(0, len(ordered), IN_CHUNK):
            query = select(review_decision).where(column.in_(ordered[start:start + IN_CHUNK]))
            for row in connection.execute(query).mappings():
                found[frozenset((row["person_id"], row["other_id"]))] = dict(row)
    return found


def _links_where(connection: Connection, column: str, values: set[str],
                 without_id_only: bool = False) -> dict[str, list[dict]]:
    """Return the person_link rows whose column is one of values, grouped by that value, oldest link first.

    without_id_only keeps the rows of people with neither CCCD nor CMND.
    """
    found: dict[str, list[dict]] = defaultdict(list)
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        query = (select(person_link).where(person_link.c[column].in_(ordered[start:start + IN_CHUNK]))
                 .order_by(person_link.c.person_id))
        if without_id_only:
            query = query.where(person_link.c.cccd.is_(None), person_link.c.cmnd.is_(None))
        for row in connection.execute(query).mappings():
            found[row[column]].append(dict(row))
    # A central person (its own link) comes first, so a new match joins it rather than one of its members.
    for rows in found.values():
        rows.sort(key=lambda row: row["central_person_id"] != row["person_id"])
    return found


def _upsert_links(connection: Connection):
    from .store import dialect_insert

    statement = dialect_insert(connection, person_link)
    columns = ("central_person_id", "reason", "cccd", "cmnd", "name_key", "review_with")
    return statement.on_conflict_do_update(index_elements=["person_id"],
                                           set_={column: statement.excluded[column] for column in columns})


# Reading links.


def central_people(connection: Connection) -> dict[str, str]:
    """Return {person_id: central_person_id} for every linked person, following chains to their end."""
    direct = dict(connection.execute(select(person_link.c.person_id, person_link.c.central_person_id)).all())
    return {person_id: _follow(direct, person_id) for person_id in direct}


def central_person_of(connection: Connection, person_id: str) -> str:
    """Return the central person a site's person belongs to: itself unless linked by ID number or by review."""
    current = person_id
    for _hop in range(MAX_LINK_HOPS):
        target = connection.execute(select(person_link.c.central_person_id)
                                    .where(person_link.c.person_id == current)).scalar_one_or_none()
        if target is None or target == current:
            return current
        current = target
    raise RuntimeError(f"person_link has a loop through {person_id}")


def _follow(direct: dict[str, str], person_id: str) -> str:
    current = person_id
    for _hop in range(MAX_LINK_HOPS):
        target = direct.get(current, current)
        if target == current:
            return current
        current = target
    raise RuntimeError(f"person_link has a loop through {person_id}")


def review_candidates(connection: Connection) -> Iterable[dict]:
    """Return the people left apart with the same name and birth date as another, for a person to decide."""
    query = (select(person_link.c.person_id, person_link.c.review_with)
             .where(person_link.c.reason == "review").order_by(person_link.c.person_id))
    return [dict(row) for row in connection.execute(query).mappings()]
