"""Exam rounds: their days, sites, station plans and the rules that send people to a site."""

import datetime as dt
import json
from dataclasses import dataclass, field

import sqlite_utils

from .db import new_id, now
from .errors import FieldappError
from .stationplans import KINDS, default_plan

DEFAULT_SESSIONS = [["07:00", "11:00"], ["13:30", "16:30"]]
FILTER_KINDS = ("all", "group", "list", "tdp", "class")


@dataclass
class SiteSpec:
    """A site as the officer describes it: name, address and people per slot."""

    name: str
    address: str
    capacity: int
    kind: str = "station"
    sessions: list[list[str]] = field(default_factory=lambda: [list(s) for s in DEFAULT_SESSIONS])
    slot_minutes: int = 30
    dates: list[str] | None = None  # None: every day of the round


def parse_site(text: str) -> SiteSpec:
    """Read "NAME|ADDRESS|CAPACITY_PER_SLOT" as the command line takes it."""
    parts = [part.strip() for part in text.split("|")]
    if len(parts) != 3 or not parts[0] or not parts[2].isdigit() or int(parts[2]) < 1:
        raise FieldappError("site_invalid", value=text)
    return SiteSpec(parts[0], parts[1], int(parts[2]), kind=_guess_kind(parts[0]))


def _guess_kind(name: str) -> str:
    lowered = name.lower()
    if "trường" in lowered:
        return "school"
    if "công ty" in lowered or "xưởng" in lowered:
        return "workplace"
    if "trạm y tế" in lowered:
        return "station"
    return "community"


def round_dates(start: dt.date, days: int) -> list[str]:
    """Return the round's days as yyyy-mm-dd strings."""
    return [(start + dt.timedelta(days=offset)).isoformat() for offset in range(days)]


def create_round(db: sqlite_utils.Database, name: str, start: dt.date, days: int, sites: list[SiteSpec],
                 title: str | None = None, ward: str = "", station: str = "") -> str:
    """Create a round with its sites and default station plans; call inside a write transaction."""
    name = name.strip()
    if not name:
        raise FieldappError("round_name_missing")
    if db.execute("SELECT 1 FROM exam_round WHERE name = ?", [name]).fetchone():
        raise FieldappError("round_exists", value=name)
    if not 1 <= days <= 60:
        raise FieldappError("round_days_invalid", value=days)
    if not sites:
        raise FieldappError("round_no_site", value=name)

    round_id = new_id()
    db["exam_round"].insert({
        "id": round_id, "name": name, "start_date": start.isoformat(), "days": days,
        "title": title or f"GIẤY MỜI KHÁM SỨC KHỎE MIỄN PHÍ NĂM {start.year}",
        "ward": ward.strip() or "Phường", "station": station.strip() or "Trạm Y tế phường", "created_at": now(),
    })
    for spec in sites:
        add_site(db, round_id, spec, round_dates(start, days))
    for kind in KINDS:
        db["station_plan"].insert({"round_id": round_id, "kind": kind, "items": json.dumps(default_plan(kind))})
    return round_id


def add_site(db: sqlite_utils.Database, round_id: str, spec: SiteSpec, all_dates: list[str]) -> str:
    """Add a site to a round; call inside a write transaction."""
    site_id = new_id()
    db["site"].insert({
        "id": site_id, "round_id": round_id, "name": spec.name, "address": spec.address, "kind": spec.kind,
        "capacity": spec.capacity, "sessions": json.dumps(spec.sessions), "slot_minutes": spec.slot_minutes,
        "dates": json.dumps(spec.dates or all_dates),
    })
    return site_id


def find_round(db: sqlite_utils.Database, name: str) -> dict:
    """Return a round by name, or raise round_not_found."""
    cursor = db.execute("SELECT * FROM exam_round WHERE name = ?", [name.strip()])
    row = cursor.fetchone()
    if row is None:
        raise FieldappError("round_not_found", value=name)
    return dict(zip([c[0] for c in cursor.description], row))


def get_round(db: sqlite_utils.Database, round_id: str) -> dict | None:
    """Return a round by id, or None."""
    cursor = db.execute("SELECT * FROM exam_round WHERE id = ?", [round_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def sites(db: sqlite_utils.Database, round_id: str) -> list[dict]:
    """Return a round's sites in the order they were added, with sessions and dates decoded."""
    cursor = db.execute("SELECT * FROM site WHERE round_id = ? ORDER BY rowid", [round_id])
    names = [c[0] for c in cursor.description]
    found = []
    for row in cursor.fetchall():
        site = dict(zip(names, row))
        site["sessions"], site["dates"] = json.loads(site["sessions"]), json.loads(site["dates"])
        found.append(site)
    return found


def find_site(db: sqlite_utils.Database, round_id: str, name: str | None) -> dict:
    """Return a site by name, or the only site when no name is given; raise site_not_found otherwise."""
    all_sites = sites(db, round_id)
    if name is None and len(all_sites) == 1:
        return all_sites[0]
    for site in all_sites:
        if name and site["name"].lower() == name.strip().lower():
            return site
    raise FieldappError("site_not_found", value=name or "", field=", ".join(s["name"] for s in all_sites))


def add_rule(db: sqlite_utils.Database, round_id: str, site_id: str, kind: str, value: str = "",
             date: str | None = None) -> str:
    """Send the people a filter selects to a site (and day); call inside a write transaction."""
    if kind not in FILTER_KINDS:
        raise FieldappError("rule_invalid", value=kind)
    rule_id = new_id()
    db["round_rule"].insert({"id": rule_id, "round_id": round_id, "site_id": site_id, "filter_kind": kind,
                             "filter_value": value, "date": date})
    return rule_id


def station_plans(db: sqlite_utils.Database, round_id: str) -> dict[str, list[str]]:
    """Return the round's station plan of each kind of person."""
    rows = db.execute("SELECT kind, items FROM station_plan WHERE round_id = ?", [round_id]).fetchall()
    return {kind: json.loads(items) for kind, items in rows}
