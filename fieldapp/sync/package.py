"""The round package: what a site laptop needs before a round, written at the ward health station and pulled at the site.

A package contains one round with its sites and station plans, the active invitations, the list rows of
the invited people with the officer's merge decisions between them (so the site's relink makes the
same people with the same ids), and the staff accounts with their PIN hashes. It holds personal data:
the file is readable by its owner only.
"""

import datetime as dt
import hashlib
import json
from pathlib import Path

import sqlite_utils

from .. import roster
from ..db import new_id, now
from ..errors import FieldappError
from ..rounds import find_round
from . import outbox

FORMAT = "fieldapp-package/1"
SOURCE_ROW_COLUMNS = (
    "id", "file_name", "sheet", "row_no", "signature", "full_name", "name_key", "birth_date", "sex", "cccd", "cmnd",
    "phone", "address", "tdp", "class_name", "parent_name", "parent_phone", "household", "relation", "bhyt", "notes",
    "groups", "legacy", "warnings", "raw", "person_id",
)
STAFF_COLUMNS = ("id", "username", "display_name", "role", "pin_hash")
PARTS = ("round", "sites", "station_plans", "invitations", "source_rows", "link_decisions", "staff")


def _rows(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def build(db: sqlite_utils.Database, round_name: str, site_names: tuple[str, ...] = ()) -> dict:
    """Return the package of a round, or of the invitations to some of its sites; raises round_not_found, site_not_found."""
    exam_round = find_round(db, round_name)
    sites = _rows(db, "SELECT * FROM site WHERE round_id = ? ORDER BY name", [exam_round["id"]])
    if site_names:
        known = {site["name"] for site in sites}
        for name in site_names:
            if name not in known:
                raise FieldappError("site_not_found", value=name, field=", ".join(sorted(known)))
        sites = [site for site in sites if site["name"] in site_names]

    site_ids = json.dumps([site["id"] for site in sites])
    invitations = _rows(db, "SELECT * FROM invitation WHERE round_id = ? AND status = 'active' AND site_id IN "
                            "(SELECT value FROM json_each(?)) ORDER BY id", [exam_round["id"], site_ids])
    people = json.dumps(sorted({invitation["person_id"] for invitation in invitations}))
    source_rows = _rows(db, f"SELECT {', '.join(SOURCE_ROW_COLUMNS)} FROM source_row "
                            "WHERE person_id IN (SELECT value FROM json_each(?)) ORDER BY id", [people])
    signatures = json.dumps(sorted({row["signature"] for row in source_rows}))
    decisions = _rows(db, "SELECT * FROM link_decision WHERE signature_a IN (SELECT value FROM json_each(?)) "
                          "AND signature_b IN (SELECT value FROM json_each(?))", [signatures, signatures])
    return {
        "format": FORMAT, "made_at": now(), "as_of": roster.roster_date(db).isoformat(),
        "round": exam_round, "sites": sites,
        "station_plans": _rows(db, "SELECT * FROM station_plan WHERE round_id = ? ORDER BY kind", [exam_round["id"]]),
        "invitations": invitations, "source_rows": source_rows, "link_decisions": decisions,
        "staff": _rows(db, f"SELECT {', '.join(STAFF_COLUMNS)} FROM staff WHERE active = 1 ORDER BY username", []),
    }


def summary(package: dict) -> dict:
    """Return a package's round name and its counts of sites, invitations, people and staff, for messages."""
    return {"round": package["round"]["name"], "sites": len(package["sites"]),
            "invitations": len(package["invitations"]),
            "people": len({row["person_id"] for row in package["source_rows"]}), "staff": len(package["staff"])}


def check(package: object) -> dict:
    """Return the package if it has every part, else raise sync_package_invalid naming what is wrong."""
    if not isinstance(package, dict) or package.get("format") != FORMAT:
        found = package.get("format") if isinstance(package, dict) else type(package).__name__
        raise FieldappError("sync_package_invalid", value=str(found))
    missing = [part for part in PARTS if part not in package]
    if missing:
        raise FieldappError("sync_package_invalid", value=", ".join(missing))
    try:
        dt.date.fromisoformat(package["as_of"])
    except (KeyError, TypeError, ValueError) as error:
        raise FieldappError("sync_package_invalid", value="as_of") from error
    return package


def apply(db: sqlite_utils.Database, package: dict) -> dict:
    """Store a pulled package and rebuild the roster; call inside a write transaction. Returns its summary.

    Nothing stored here goes to the outbox: the central store sent it. A person with a list row of
    this site whom the rebuilt roster changes (merged with a pulled person, say) is still sent.
    Raises sync_package_round_conflict when this site has another round of the same name.
    """
    check(package)
    exam_round = package["round"]
    if db.execute("SELECT 1 FROM exam_round WHERE name = ? AND id != ?",
                  [exam_round["name"], exam_round["id"]]).fetchone():
        raise FieldappError("sync_package_round_conflict", value=exam_round["name"])

    states_before = dict(db.execute("SELECT person_id, state FROM sync_person_state").fetchall())
    with outbox.paused(db):
        db["exam_round"].upsert(exam_round, pk="id")
        db["site"].upsert_all(package["sites"], pk="id")
        db["station_plan"].upsert_all(package["station_plans"], pk=("round_id", "kind"))
        _store_invitations(db, package["invitations"])
        file_id = _store_rows(db, package)
        _store_staff(db, package["staff"])
        roster.relink(db, roster.roster_date(db))
    _send_changed_people(db, states_before, file_id)
    return summary(package)


def _store_invitations(db: sqlite_utils.Database, invitations: list[dict]) -> None:
    # A slip reissued at the station replaces the one pulled before: only one invitation per person is active.
    db.conn.executemany(
        "UPDATE invitation SET status = 'void', replaced_by = ? WHERE round_id = ? AND person_id = ? "
        "AND status = 'active' AND id != ?",
        [(row["id"], row["round_id"], row["person_id"], row["id"]) for row in invitations],
    )
    db["invitation"].upsert_all(invitations, pk="id")


def _store_rows(db: sqlite_utils.Database, package: dict) -> str:
    """Replace the rows of this round's earlier package with the new ones, in one list named after the round; return its id."""
    name = f"Gói đợt khám: {package['round']['name']}"
    report = {"renamed_from": None, "same_as": None, "as_of": package["as_of"], "encoding": None, "list_group": None,
              "group_guessed": False, "skipped_sheets": [], "walk_in": False, "package": True,
              "sheets": [{"name": "", "header_row": 0, "headers": [], "mapping": {}, "rows": len(package["source_rows"]),
                          "sex_convention": "1_0"}],
              "converted": [], "problems": [], "warnings": {}}
    found = db.execute("SELECT id FROM source_file WHERE name = ?", [name]).fetchone()
    file_id = found[0] if found else new_id()
    db["source_file"].upsert({
        "id": file_id, "name": name, "kind": "list", "list_group": None, "encoding": None,
        # Never the digest of a real file, so importing a list never finds it "unchanged".
        "sha256": hashlib.sha256(f"package {file_id} {package['made_at']}".encode()).hexdigest(),
        "imported_at": now(), "report": json.dumps(report, ensure_ascii=False),
    }, pk="id")
    db.execute("DELETE FROM source_row WHERE file_id = ?", [file_id])
    # A row this laptop imported itself has the same id when its content is the same; the package's copy replaces it.
    columns = ("file_id", *SOURCE_ROW_COLUMNS)
    db.conn.executemany(
        f"INSERT OR REPLACE INTO source_row ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [(file_id, *(row[column] for column in SOURCE_ROW_COLUMNS)) for row in package["source_rows"]],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO link_decision (signature_a, signature_b, decision, decided_by, decided_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [(row["signature_a"], row["signature_b"], row["decision"], row["decided_by"], row["decided_at"])
         for row in package["link_decisions"]],
    )
    return file_id


def _store_staff(db: sqlite_utils.Database, staff: list[dict]) -> None:
    """Add the package's accounts, or update the name, role and PIN of an account with the same username."""
    for account in staff:
        found = db.execute("SELECT id FROM staff WHERE username = ?", [account["username"]]).fetchone()
        if found:
            db.execute("UPDATE staff SET display_name = ?, role = ?, pin_hash = ?, active = 1 WHERE id = ?",
                       [account["display_name"], account["role"], account["pin_hash"], found[0]])
        else:
            db["staff"].insert({**{column: account[column] for column in STAFF_COLUMNS}, "created_at": now()})


def _send_changed_people(db: sqlite_utils.Database, states_before: dict[str, str], package_file: str) -> None:
    """Append a record for each person with a row of this site whom the paused relink made or changed."""
    local = {row[0] for row in db.execute(
        "SELECT DISTINCT person_id FROM source_row WHERE file_id != ? AND person_id IS NOT NULL", [package_file])}
    changed = [person_id for person_id, state in db.execute("SELECT person_id, state FROM sync_person_state")
               if person_id in local and states_before.get(person_id) != state]
    for person in _rows(db, "SELECT * FROM person WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                        [json.dumps(changed)]):
        outbox.append(db, "person", person["id"], person, person["updated_at"])


def write_file(package: dict, out: Path) -> None:
    """Write a package as canonical JSON to a file readable by its owner only."""
    from .batches import canonical
    from .client import write_private

    write_private(Path(out), canonical(package))


def read_file(path: Path) -> dict:
    """Return the package in a file, or raise file_not_found or sync_package_invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise FieldappError("file_not_found", file=str(path)) from error
    try:
        return check(json.loads(text))
    except json.JSONDecodeError as error:
        raise FieldappError("sync_package_invalid", value=f"JSON: {error.msg}") from error
