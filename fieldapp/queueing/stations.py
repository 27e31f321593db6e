"""Station types and desks: defaults from the round's station plans, opening and expected waits."""

import json
from dataclasses import dataclass

import sqlite_utils

from ..db import new_id, write
from ..rounds import station_plans
from .store import QueueError, fetch_all, fetch_one, get_desk


@dataclass(frozen=True)
class StationDefault:
    """A default station type: its label, the plan items it serves and a first guess of service seconds."""

    label: str
    items: tuple[str, ...]
    service_s: float


# NOTE: the service seconds are estimates used until a desk has served people; done() replaces them.
STATION_DEFAULTS = {
    "measure": StationDefault("Cân đo", ("height", "weight", "bmi", "bmi_for_age", "waist"), 60),
    "blood_pressure": StationDefault("Đo huyết áp, mạch",
                                     ("blood_pressure", "blood_pressure_twice", "heart_rate"), 120),
    "glucose": StationDefault("Đường huyết", ("glucose",), 120),
    "vision": StationDefault("Thị lực", ("vision",), 90),
    "dental": StationDefault("Răng hàm mặt", ("dental",), 120),
    "ent": StationDefault("Tai mũi họng", ("ent", "hearing"), 120),
    "exam": StationDefault("Khám lâm sàng", ("internal_medicine", "surgery", "obstetrics_gynaecology",
                                             "dermatology", "spine"), 180),
    "doctor": StationDefault("Bác sĩ kết luận", ("doctor_conclusion",), 150),
    "lab": StationDefault("Xét nghiệm", ("blood_count", "urine"), 180),
}
# Order rules: measurements before everything, the doctor's conclusion after everything.
ORDINALS = {"measure": 0, "doctor": 2}
OTHER_ORDINAL = 1

# Station types and desks.

def add_station_type(db: sqlite_utils.Database, site_id: str, code: str, label: str, items: list[str]) -> str:
    """Add a station type to a site; call inside a write transaction."""
    station_type_id = new_id()
    db["station_type"].insert({"id": station_type_id, "site_id": site_id, "code": code, "label": label,
                               "items": json.dumps(list(items))})
    return station_type_id


def add_desk(db: sqlite_utils.Database, station_type_id: str, mean_service_s: float | None = None,
             open_: bool = True) -> str:
    """Add a desk to a station type, numbered after the site's last desk; call inside a write transaction."""
    station_type = fetch_one(db, "SELECT * FROM station_type WHERE id = ?", [station_type_id])
    if station_type is None:
        raise QueueError(f"station type {station_type_id} not found")
    if mean_service_s is None:
        default = STATION_DEFAULTS.get(station_type["code"])
        mean_service_s = default.service_s if default else 120.0
    number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM desk WHERE site_id = ?",
                        [station_type["site_id"]]).fetchone()[0]
    desk_id = new_id()
    db["desk"].insert({"id": desk_id, "site_id": station_type["site_id"], "station_type_id": station_type_id,
                       "number": number, "open": 1 if open_ else 0, "mean_service_s": float(mean_service_s),
                       "served": 0})
    return desk_id


def set_desk_open(db: sqlite_utils.Database, desk_id: str, is_open: bool) -> None:
    """Open or close a desk; a closed desk is left out of expected waits and cannot call."""
    with write(db):
        get_desk(db, desk_id)
        db.execute("UPDATE desk SET open = ? WHERE id = ?", [1 if is_open else 0, desk_id])


def station_code(item: str) -> str | None:
    """Return the code of the default station type that serves a plan item, or None."""
    for code, default in STATION_DEFAULTS.items():
        if item in default.items:
            return code
    return None


def create_default_stations(db: sqlite_utils.Database, site_id: str) -> dict[str, str]:
    """Create the station types the round's plans need at a site, with one open desk each.

    Returns {code: station type id}. Station types the site already has are kept, so a second
    call adds only what a changed plan needs. Raises QueueError for a plan item no station serves.
    """
    with write(db):
        site = fetch_one(db, "SELECT * FROM site WHERE id = ?", [site_id])
        if site is None:
            raise QueueError(f"site {site_id} not found")
        existing = {row["code"]: row["id"] for row in
                    fetch_all(db, "SELECT id, code FROM station_type WHERE site_id = ?", [site_id])}
        needed = []
        for kind, items in station_plans(db, site["round_id"]).items():
            for item in items:
                code = station_code(item)
                if code is None:
                    raise QueueError(f"plan item {item!r} of plan {kind!r} has no station type; "
                                     f"add one to STATION_DEFAULTS or call add_station_type")
                if code not in needed:
                    needed.append(code)
        for code in sorted(needed, key=list(STATION_DEFAULTS).index):
            if code in existing:
                continue
            default = STATION_DEFAULTS[code]
            existing[code] = add_station_type(db, site_id, code, default.label, list(default.items))
            add_desk(db, existing[code])
        return existing


def expected_wait_s(db: sqlite_utils.Database, station_type_id: str) -> float | None:
    """Estimate the wait at a station type: people in line × mean service seconds ÷ open desks.

    The mean is over the open desks' running means. Returns None when no desk is open.
    """
    waiting = db.execute("SELECT count(*) FROM task WHERE station_type_id = ? AND status = 'waiting' AND in_line = 1",
                         [station_type_id]).fetchone()[0]
    means = [row[0] for row in db.execute("SELECT mean_service_s FROM desk WHERE station_type_id = ? AND open = 1",
                                          [station_type_id]).fetchall()]
    return expected_wait(waiting, means)


def expected_wait(waiting: int, open_desk_means: list[float]) -> float | None:
    """Return people in line × the open desks' mean service seconds ÷ open desks; None with no open desk."""
    if not open_desk_means:
        return None
    return waiting * (sum(open_desk_means) / len(open_desk_means)) / len(open_desk_means)
