"""The roster: people built from their source rows, officer decisions, and search."""

import datetime as dt
import json
import re
from collections import Counter

import sqlite_utils

from .birthdates import BirthDate, parse_iso
from .db import new_id, now
from .errors import FieldappError
from .groups import format_groups, groups_by_age, parse_groups
from .linkage import LinkRow, link
from .text import fold, modern_tones, sort_key_text

_ROW_COLUMNS = (
    "id, file_name, sheet, row_no, signature, full_name, birth_date, sex, cccd, cmnd, phone, parent_phone, "
    "parent_name, tdp, class_name, household, address, groups, legacy, person_id"
)


def _load_rows(db: sqlite_utils.Database) -> list[dict]:
    cursor = db.execute(f"SELECT {_ROW_COLUMNS} FROM source_row")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def _households(rows: list[dict]) -> dict[tuple[str, str], tuple[frozenset, frozenset]]:
    """Return each household's member names (folded) and phones, keyed by (file, household)."""
    names, phones = {}, {}
    for row in rows:
        if row["household"]:
            key = (row["file_name"], row["household"])
            names.setdefault(key, set()).add(fold(row["full_name"]))
            phones.setdefault(key, set()).update(p for p in (row["phone"], row["parent_phone"]) if p)
    return {key: (frozenset(names[key]), frozenset(phones[key])) for key in names}


def _link_row(row: dict, households: dict) -> LinkRow:
    kin, kin_phones = households.get((row["file_name"], row["household"]), (frozenset(), frozenset()))
    return LinkRow(
        id=row["id"],
        sheet_key=f"{row['file_name']}|{row['sheet']}",
        signature=row["signature"],
        name=row["full_name"],
        birth=parse_iso(row["birth_date"]) if row["birth_date"] else None,
        sex=row["sex"],
        cccd=row["cccd"],
        cmnd=row["cmnd"],
        phones=frozenset(p for p in (row["phone"], row["parent_phone"]) if p),
        parent=fold(row["parent_name"] or ""),
        tdp=row["tdp"] or "",
        household=row["household"] or "",
        school=row["file_name"] if row["class_name"] else "",
        kin=kin - {fold(row["full_name"])},
        kin_phones=kin_phones,
    )


def decisions(db: sqlite_utils.Database) -> dict[tuple[str, str], str]:
    """Return the officer's merge decisions keyed by sorted row-signature pairs."""
    rows = db.execute("SELECT signature_a, signature_b, decision FROM link_decision").fetchall()
    return {(a, b): decision for a, b, decision in rows}


def relink(db: sqlite_utils.Database, on: dt.date) -> int:
    """Rebuild people from all list rows, keeping each person's id where its rows stay together.

    Call inside a write transaction. Returns the number of people.
    """
    # NOTE: every call relinks the whole roster: about 3 s for 20,000 list rows on a 2-core laptop,
    # which a review click on a city-sized roster would feel.
    rows = _load_rows(db)
    by_id = {row["id"]: row for row in rows}
    households = _households(rows)
    result = link([_link_row(row, households) for row in rows], decisions(db))

    claimed: set[str] = set()
    people, assignments = [], []
    # Biggest clusters choose first, so a split keeps the id with the larger part.
    for cluster in sorted(result.clusters, key=len, reverse=True):
        members = [by_id[row_id] for row_id in cluster]
        previous = Counter(row["person_id"] for row in members if row["person_id"])
        person_id = next((pid for pid, _ in previous.most_common() if pid not in claimed), None) or new_id()
        claimed.add(person_id)
        people.append(_person_from_rows(person_id, members, on))
        assignments.extend((person_id, row["id"]) for row in members)

    db.execute("DELETE FROM person")
    db["person"].insert_all(people, batch_size=500)
    db.conn.executemany("UPDATE source_row SET person_id = ? WHERE id = ?", assignments)
    db.execute("DELETE FROM review_pair")
    db["review_pair"].insert_all(
        ({"row_a": a, "row_b": b, "reason": reason} for a, b, reason in result.review), batch_size=500
    )
    return len(people)


def _most_common(values, key=None):
    counted = Counter(value for value in values if value)
    if not counted:
        return None
    return max(counted, key=lambda value: (counted[value], key(value) if key else 0))


def _birth_rank(birth: BirthDate) -> int:
    """Rank a birth date's exactness: a full date beats a year or month, which beats 01/01 (usually a year)."""
    if birth.is_first_of_january:
        return 0
    return 2 if birth.precision == "day" else 1


def _best_birth(rows: list[dict]) -> BirthDate | None:
    """Return the most frequent of the most exact birth dates, the earliest on a tie, so import order never matters."""
    births = [parse_iso(row["birth_date"]) for row in rows if row["birth_date"]]
    if not births:
        return None
    best_rank = max(_birth_rank(birth) for birth in births)
    candidates = Counter(birth.iso() for birth in births if _birth_rank(birth) == best_rank)
    chosen = min(candidates, key=lambda iso: (-candidates[iso], iso))
    return parse_iso(chosen)


def _person_from_rows(person_id: str, rows: list[dict], on: dt.date) -> dict:
    # Prefer a real name over a newborn's stand-in, the fullest form, then the most frequent spelling.
    names = [row["full_name"] for row in rows if not row["full_name"].lower().startswith("con ")] or [
        row["full_name"] for row in rows
    ]
    full_name = _most_common(names, key=lambda name: len(name.split()))
    birth = _best_birth(rows)

    groups = set()
    for row in rows:
        groups |= parse_groups(row["groups"])
    groups |= groups_by_age(birth, on)

    return {
        "id": person_id,
        "full_name": full_name,
        "sort_key": sort_key_text(full_name),
        "search_key": fold(modern_tones(full_name)),
        "sex": _most_common(row["sex"] for row in rows),
        "birth_date": birth.iso() if birth else None,
        "cccd": _most_common(row["cccd"] for row in rows),
        "cmnd": _most_common(row["cmnd"] for row in rows),
        "phone": _most_common(row["phone"] or row["parent_phone"] for row in rows),
        "address": _most_common(row["address"] for row in rows),
        "tdp": _most_common(row["tdp"] for row in rows),
        "class_name": _most_common(row["class_name"] for row in rows),
        "parent_name": _most_common(row["parent_name"] for row in rows),
        "parent_phone": _most_common(row["parent_phone"] for row in rows),
        "groups": format_groups(groups),
        "updated_at": now(),
    }


def decide(db: sqlite_utils.Database, row_a: str, row_b: str, decision: str, staff_id: str | None, on: dt.date) -> None:
    """Record an officer's decision on a review pair and relink; call inside a write transaction."""
    signatures = [
        db.execute("SELECT signature FROM source_row WHERE id = ?", [row_id]).fetchone()[0] for row_id in (row_a, row_b)
    ]
    first, second = sorted(signatures)
    db.execute(
        "INSERT OR REPLACE INTO link_decision (signature_a, signature_b, decision, decided_by, decided_at) VALUES (?, ?, ?, ?, ?)",
        [first, second, decision, staff_id, now()],
    )
    relink(db, on)


def roster_date(db: sqlite_utils.Database) -> dt.date:
    """Return the as-of date of the latest import, used for age groups when relinking later."""
    row = db.execute("SELECT report FROM source_file WHERE kind = 'list' ORDER BY imported_at DESC LIMIT 1").fetchone()
    if row:
        return dt.date.fromisoformat(json.loads(row[0])["as_of"])
    return dt.date.today()


def search_people(db: sqlite_utils.Database, query: str = "", group: int | None = None, limit: int = 200, offset: int = 0):
    """Return people in Vietnamese list order whose folded name, ID or phone contains the query."""
    clauses, params = [], []
    for word in fold(modern_tones(query)).split():
        if date := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", word):
            day, month, year = (int(part) for part in date.groups())
            clauses.append("birth_date = ?")
            params.append(f"{year:04d}-{month:02d}-{day:02d}")
        elif word.isdigit():
            clauses.append("(cccd LIKE ? OR phone LIKE ? OR birth_date LIKE ?)")
            params += [f"%{word}", f"%{word}", f"{word}%"]
        else:
            clauses.append("(' ' || search_key || ' ') LIKE ?")
            params.append(f"% {word}%")
    if group:
        clauses.append("(';' || groups || ';') LIKE ?")
        params.append(f"%;{group};%")
    where = " AND ".join(clauses) or "1"
    total = db.execute(f"SELECT count(*) FROM person WHERE {where}", params).fetchone()[0]
    rows = db.execute(
        f"SELECT id, full_name, sex, birth_date, cccd, phone, tdp, class_name, groups FROM person WHERE {where} "
        "ORDER BY sort_key, birth_date LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    names = [column[0] for column in rows.description]
    return total, [dict(zip(names, values)) for values in rows.fetchall()]


def remove_file(db: sqlite_utils.Database, name: str, on: dt.date) -> int:
    """Delete an imported file and its rows, then relink; return the rows removed. Call inside a write transaction."""
    row = db.execute("SELECT id, kind FROM source_file WHERE name = ?", [name]).fetchone()
    if row is None:
        raise FieldappError("file_not_imported", file=name)
    file_id, kind = row
    removed = db.execute("SELECT count(*) FROM source_row WHERE file_id = ?", [file_id]).fetchone()[0]
    removed += db.execute("SELECT count(*) FROM population_row WHERE file_id = ?", [file_id]).fetchone()[0]
    db.execute("DELETE FROM source_row WHERE file_id = ?", [file_id])
    db.execute("DELETE FROM population_row WHERE file_id = ?", [file_id])
    db.execute("DELETE FROM source_file WHERE id = ?", [file_id])
    if kind == "list":
        relink(db, on)
    return removed


def undo_decision(db: sqlite_utils.Database, signature_a: str, signature_b: str, on: dt.date) -> None:
    """Forget an officer's merge decision and relink; call inside a write transaction."""
    db.execute("DELETE FROM link_decision WHERE signature_a = ? AND signature_b = ?", [signature_a, signature_b])
    relink(db, on)
