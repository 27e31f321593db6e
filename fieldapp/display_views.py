"""The waiting-room TV: current calls per desk, the next numbers per station, recent calls, and the queue ticket.

The TV is a browser signed in with a display account, which opens the board and nothing else, or with a
coordinator or site admin account (require_role lets site admins through). The board shows only queue
numbers and masked names unless the site's display_full_names is on, which a coordinator or site admin
switches on the coordinator screen. URLs carry only site, visit and task ids, never names. Where the
browser has no Vietnamese voice, display.js plays the call's voice clip from /display/voice/<task_id>.wav,
which never contains a name (fieldapp/voice.py).
"""

import datetime as dt
import logging
import time
import unicodedata
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from . import auth, voice
from .checkin import get_person, site_name
from .checkin_views import current_desk, open_sites, today
from .db import get_db, write
from .queueing.store import fetch_all, fetch_one
from .visits import first_station, get_visit, plan_for
from .web import render

bp = Blueprint("display", __name__, url_prefix="/display")
log = logging.getLogger(__name__)

WAITING_SHOWN = 5   # next numbers shown per station
RECENT_SHOWN = 7    # recent calls shown in one row at the bottom
# Every TV of a site polls the same board each second. Sharing one render for half a second keeps
# eight TVs from rendering eight times a second, and delays a call on screen by half a second at most.
SHARED_BOARD_SECONDS = 0.5
SHARED_BOARDS = "fieldapp_shared_boards"


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


def voice_folder() -> Path:
    return voice.voice_folder(current_app.config["DATA_DIR"])


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


def board_context(db, site_id: str, day: str, full: bool, clips: bool = False) -> dict:
    """Collect the board's rows for a site and day: desks with their current call, lines, recent calls.

    full shows and speaks full names instead of masked ones. clips adds each call's voice clip URL.
    """
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
            # called_at is in the key because a no-show brought back starts counting calls from 1 again.
            key = f"{call['id']}:{call['calls']}:{call['called_at']}"
            clip = url_for("display.voice_clip", task_id=call["id"]) if clips else None
            row["call"] = dict(call, name=name, key=key, spoken=spoken, clip=clip)
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
    return {"desks": rows, "lines": lines, "recent": recent}


def _board(template: str, fragment: str | None = None, shared: bool = False):
    """Render the board page or fragment; with shared, reuse a render younger than SHARED_BOARD_SECONDS."""
    db = get_db()
    site, choices = _display_site(db)
    context = {"site": site, "choices": choices, "desks": [], "lines": [], "recent": []}
    clips = voice.clips_ready(voice_folder())
    day = today()
    full = bool(site["display_full_names"]) if site is not None else False
    key = None
    if site is not None and shared:
        key = (template, site["id"], day, full, clips, str(get_locale()))
        cached = _shared_boards().get(key)
        if cached is not None and time.monotonic() - cached[0] < SHARED_BOARD_SECONDS:
            response = make_response(cached[1])
            response.headers["Vary"] = "HX-Request"
            return _no_store(response)

    if site is not None:
        context.update(board_context(db, site["id"], day, full, clips))
        context["board_url"] = url_for("display.board", site=site["id"])
    response = render(template, fragment, **context)
    if key is not None:
        _shared_boards()[key] = (time.monotonic(), response.get_data())
    return _no_store(response)


def _shared_boards() -> dict:
    return current_app.extensions.setdefault(SHARED_BOARDS, {})


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@auth.require_role("coordinator", "display")
def index():
    return _board("display/index.html")


@bp.get("/board")
@auth.require_role("coordinator", "display")
def board():
    # Only the TVs' htmx polls share a render: a page opened by hand always shows the queue as it is.
    return _board("display/_board.html", shared=request.headers.get("HX-Request") == "true")


@bp.get("/voice/<task_id>.wav")
@auth.require_role("coordinator", "display")
def voice_clip(task_id: str):
    """Send the voice clip that announces a called task: number, desk and station, never the name."""
    db = get_db()
    call = fetch_one(db, """
        SELECT v.queue_number, d.number AS desk_number, s.label AS station_label
        FROM task t JOIN visit v ON v.id = t.visit_id JOIN desk d ON d.id = t.desk_id
        JOIN station_type s ON s.id = t.station_type_id WHERE t.id = ?""", [task_id])
    if call is None:
        abort(404)
    audio = voice.announcement_wav(voice_folder(), call["queue_number"], call["desk_number"], call["station_label"])
    if audio is None:
        abort(404)
    response = Response(audio, mimetype="audio/wav")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/site/<site_id>/names")
@auth.require_role("coordinator")
def set_full_names(site_id: str):
    """Switch the waiting-room TV of a site between masked and full names, and audit who did it."""
    db = get_db()
    if db.execute("SELECT 1 FROM site WHERE id = ?", [site_id]).fetchone() is None:
        abort(404)
    full = request.form.get("full") == "1"
    with write(db):
        db.execute("UPDATE site SET display_full_names = ? WHERE id = ?", [1 if full else 0, site_id])
        auth.audit(db, "display_full_names_on" if full else "display_full_names_off", subject=site_id)
    log.info("site %s display full names %s", site_id, "on" if full else "off")
    if full:
        flash(_("Màn hình phòng chờ đã chuyển sang hiện và đọc họ tên đầy đủ."), "info")
    else:
        flash(_("Màn hình phòng chờ đã chuyển sang chỉ hiện tên viết tắt."), "info")
    return redirect(url_for("stations.coordinator", site=site_id))


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
