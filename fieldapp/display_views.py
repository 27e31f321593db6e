"""The waiting-room TV: current calls per desk, the next numbers per station, recent calls, and the queue ticket.

The TV is a browser signed in as a coordinator or site admin account (require_role lets site admins
through). The board shows only queue numbers and masked names unless full names are allowed; URLs carry
only site and visit ids, never names.
"""

import datetime as dt
import os
import unicodedata

from flask import Blueprint, abort, current_app, request, url_for

from . import auth
from .checkin import get_person, site_name
from .checkin_views import current_desk, open_sites, today
from .db import get_db
from .queueing.store import fetch_all, fetch_one
from .visits import first_station, get_visit, plan_for
from .web import render

bp = Blueprint("display", __name__, url_prefix="/display")

WAITING_SHOWN = 5   # next numbers shown per station
RECENT_SHOWN = 8    # recent calls shown under the desks
FULL_NAMES_SETTING = "DISPLAY_FULL_NAMES"


def mask_name(full_name: str) -> str:
    """Mask a Vietnamese name for a public screen: keep the family name, shorten the rest to initials.

    "Nguyễn Văn An" becomes "Nguyễn V. A.". A one-word name, which may be the given name alone,
    becomes its initial ("Lan" becomes "L."). Whitespace is collapsed and the text is NFC-normalised,
    so a decomposed "Đ" or "Ư" still gives a one-character initial.
    """
    words = unicodedata.normalize("NFC", full_name or "").split()
    if not words:
        return ""
    initials = [f"{word[0].upper()}." for word in words[1:]]
    if len(words) == 1:
        return f"{words[0][0].upper()}."
    return " ".join([words[0], *initials])


def full_names_allowed() -> bool:
    """Return True when the site allows full names on the TV: DISPLAY_FULL_NAMES in the app config or env."""
    # NOTE: the site has no settings table yet, so this is an app setting, the same for every site.
    configured = current_app.config.get(FULL_NAMES_SETTING)
    if configured is not None:
        return bool(configured)
    return os.environ.get(f"FIELDAPP_{FULL_NAMES_SETTING}", "") == "1"


def announcement(number: int, name: str, desk_number: int, station_label: str) -> str:
    """Return the Vietnamese sentence the TV speaks for a call. An empty name is left out of it."""
    station = station_label[:1].lower() + station_label[1:]
    parts = [f"Mời số {number}"]
    if name:
        parts.append(name)
    parts.append(f"đến bàn {desk_number}")
    parts.append(station)
    return ", ".join(parts)


def _display_site(db) -> tuple[dict | None, list[dict]]:
    """Return the site the board shows and the sites open today.

    The site is the ?site= id when it is open today, else the check-in desk chosen in this session,
    else the only site open today.
    """
    choices = open_sites(db, today())
    requested = request.args.get("site")
    if requested:
        return next((site for site in choices if site["id"] == requested), None), choices
    _, site, _ = current_desk(db)
    return site, choices


def _shown_name(full_name: str | None, full: bool) -> str:
    if not full_name:
        return ""
    return " ".join(full_name.split()) if full else mask_name(full_name)


def board_context(db, site_id: str, day: str, full: bool) -> dict:
    """Collect the board's rows for a site and day: desks with their current call, lines, recent calls."""
    desks = fetch_all(db, """
        SELECT d.id, d.number, d.open, s.label AS station_label
        FROM desk d JOIN station_type s ON s.id = d.station_type_id
        WHERE d.site_id = ? ORDER BY d.number""", [site_id])
    calls = fetch_all(db, """
        SELECT t.id, t.desk_id, t.status, t.calls, t.called_at, v.queue_number, p.full_name
        FROM task t JOIN visit v ON v.id = t.visit_id LEFT JOIN person p ON p.id = v.person_id
        WHERE v.site_id = ? AND v.day = ? AND t.status IN ('called', 'in_service') AND t.desk_id IS NOT NULL
        ORDER BY t.called_at DESC, t.rowid DESC""", [site_id, day])
    current = {}
    for call in calls:
        current.setdefault(call["desk_id"], call)

    rows = []
    for desk in desks:
        call = current.get(desk["id"])
        if call is None and not desk["open"]:
            continue
        row = dict(desk, call=None)
        if call is not None:
            name = _shown_name(call["full_name"], full)
            spoken = announcement(call["queue_number"], name if full else "", desk["number"], desk["station_label"])
            row["call"] = dict(call, name=name, key=f"{call['id']}:{call['calls']}", spoken=spoken)
        rows.append(row)

    stations = fetch_all(db, "SELECT id, label FROM station_type WHERE site_id = ? ORDER BY rowid", [site_id])
    lines = []
    for station in stations:
        waiting = fetch_all(db, """
            SELECT v.queue_number FROM task t JOIN visit v ON v.id = t.visit_id
            WHERE t.station_type_id = ? AND v.day = ? AND t.status = 'waiting' AND t.in_line = 1
            ORDER BY t.queue_key, t.rowid LIMIT ?""", [station["id"], day, WAITING_SHOWN + 1])
        count = db.execute("""
            SELECT count(*) FROM task t JOIN visit v ON v.id = t.visit_id
            WHERE t.station_type_id = ? AND v.day = ? AND t.status = 'waiting' AND t.in_line = 1""",
                           [station["id"], day]).fetchone()[0]
        if count:
            lines.append({"label": station["label"], "numbers": [row["queue_number"] for row in waiting[:WAITING_SHOWN]],
                          "count": count})

    recent = fetch_all(db, """
        SELECT v.queue_number, d.number AS desk_number, s.label AS station_label, t.called_at
        FROM task t JOIN visit v ON v.id = t.visit_id JOIN desk d ON d.id = t.desk_id
        JOIN station_type s ON s.id = t.station_type_id
        WHERE v.site_id = ? AND v.day = ? AND t.called_at IS NOT NULL
        ORDER BY t.called_at DESC, t.rowid DESC LIMIT ?""", [site_id, day, RECENT_SHOWN])
    for call in recent:
        call["time"] = dt.datetime.fromisoformat(call["called_at"]).astimezone().strftime("%H:%M")
    return {"desks": rows, "lines": lines, "recent": recent}


def _board(template: str, fragment: str | None = None):
    db = get_db()
    site, choices = _display_site(db)
    context = {"site": site, "choices": choices, "desks": [], "lines": [], "recent": []}
    if site is not None:
        context.update(board_context(db, site["id"], today(), full_names_allowed()))
        context["board_url"] = url_for("display.board", site=site["id"])
    response = render(template, fragment, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@auth.require_role("coordinator")
def index():
    return _board("display/index.html")


@bp.get("/board")
@auth.require_role("coordinator")
def board():
    return _board("display/_board.html")


@bp.get("/ticket/<visit_id>")
@auth.require_role("reception", "coordinator")
def ticket(visit_id: str):
    """Show a visit's queue ticket, 80 mm wide when printed. display.js opens the print dialog on load."""
    db = get_db()
    visit = get_visit(db, visit_id)
    if visit is None:
        abort(404)
    person = get_person(db, visit["person_id"]) or {"full_name": "", "birth_date": None, "groups": ""}
    station = fetch_one(db, """
        SELECT s.label, group_concat(d.number, ', ') AS desks
        FROM task t JOIN station_type s ON s.id = t.station_type_id
        LEFT JOIN desk d ON d.station_type_id = s.id AND d.open = 1
        WHERE t.visit_id = ? AND t.in_line = 1 GROUP BY t.id""", [visit_id])
    if station is None:
        items = plan_for(db, visit["round_id"], person, visit["day"])[1] if visit["round_id"] else []
        station = {"label": first_station(items), "desks": None}
    checked_in = dt.datetime.fromisoformat(visit["checked_in_at"]).astimezone()
    response = render("display/ticket.html", visit=visit, name=" ".join((person["full_name"] or "").split()),
                      station=station, site_name=site_name(db, visit["site_id"]),
                      checked_in=checked_in.strftime("%d/%m/%Y %H:%M"))
    response.headers["Cache-Control"] = "no-store"
    return response
