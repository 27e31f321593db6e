"""Exam station screens: a desk's line and actions, the coordinator's overview, and triage."""

import datetime as dt
import json
import logging
import statistics
from collections import defaultdict

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import auth, queueing
from .checkin_views import open_sites, today
from .db import get_db, write
from .errors import FieldappError
from .queueing.store import fetch_all, fetch_one
from .visits import get_visit
from .web import render

bp = Blueprint("stations", __name__, url_prefix="/stations")
log = logging.getLogger(__name__)
DESK_ROLES = ("station", "doctor", "coordinator")
COORDINATOR_ROLES = ("coordinator",)
TRIAGE_ROLES = ("reception", "station", "doctor", "coordinator")
SITE_KEY = "stations_site_id"
# Triage red flags: any one of them makes the visit an emergency.
RED_FLAGS = {
    "chest_pain": _l("Đau ngực"),
    "dyspnoea": _l("Khó thở"),
    "confusion": _l("Lơ mơ, lú lẫn"),
    "bp_crisis": _l("Huyết áp ≥ 180/120 mmHg"),
    "spo2_very_low": _l("SpO2 rất thấp"),
    "other": _l("Khác"),
}
# Prefix of a stored "other" red flag with a note. The stored prefix is the same in every screen language.
OTHER_PREFIX = "other: "
# A station type is a bottleneck when its expected wait is at least this many minutes and at least
# BOTTLENECK_FACTOR times the median expected wait of the other station types.
BOTTLENECK_MIN_MINUTES = 10
BOTTLENECK_FACTOR = 2
# People shown per line on the coordinator screen, unless the coordinator opens the whole line.
LINE_SHOWN = 5
DESK_ACTIONS = ("recall", "absent", "start", "done", "send")
PERSON_COLUMNS = """task.id, task.visit_id, task.status, task.priority, task.enqueued_at, task.called_at, task.calls,
                    task.red_flags, task.desk_id, task.station_type_id, visit.queue_number, person.full_name,
                    person.birth_date"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _minutes_since(stamp: str | None, moment: dt.datetime) -> int:
    if not stamp:
        return 0
    return max(int((moment - dt.datetime.fromisoformat(stamp)).total_seconds() // 60), 0)


def _with_waits(rows: list[dict], moment: dt.datetime) -> list[dict]:
    """Add each person's wait in whole minutes since joining the line, and their red flags as a list."""
    for row in rows:
        row["wait_min"] = _minutes_since(row["enqueued_at"], moment)
        row["flags"] = _flag_labels(row["red_flags"])
    return rows


def _flag_labels(stored: str | None) -> list[str]:
    labels = []
    for flag in json.loads(stored) if stored else []:
        if flag.startswith(OTHER_PREFIX):
            labels.append(_("Khác: %(note)s", note=flag[len(OTHER_PREFIX):]))
        else:
            labels.append(str(RED_FLAGS.get(flag, flag)))
    return labels


def _site_choice(db) -> tuple[dict | None, list[dict]]:
    """Return the chosen site open today and all open ones.

    The ?site= argument chooses, then the session's last choice. The only open site is chosen by itself.
    """
    choices = open_sites(db, today())
    wanted = request.args.get("site") or session.get(SITE_KEY)
    chosen = next((site for site in choices if site["id"] == wanted), None)
    if chosen is None and len(choices) == 1:
        chosen = choices[0]
    if chosen is not None:
        session[SITE_KEY] = chosen["id"]
    return chosen, choices


def _get_desk(db, desk_id: str) -> dict:
    desk = fetch_one(db, """SELECT desk.*, station_type.code, station_type.label FROM desk
                            JOIN station_type ON station_type.id = desk.station_type_id WHERE desk.id = ?""", [desk_id])
    if desk is None:
        abort(404)
    return desk


def _line(db, station_type_id: str, moment: dt.datetime) -> list[dict]:
    """Return the people waiting at a station type in serving order."""
    rows = fetch_all(db, f"""SELECT {PERSON_COLUMNS} FROM task JOIN visit ON visit.id = task.visit_id
                             JOIN person ON person.id = visit.person_id
                             WHERE task.station_type_id = ? AND task.status = 'waiting' AND task.in_line = 1
                             ORDER BY task.queue_key, task.rowid""", [station_type_id])
    return _with_waits(rows, moment)


def _serving(db, desk_id: str, moment: dt.datetime) -> list[dict]:
    """Return the people called to a desk or in service there, first called first."""
    rows = fetch_all(db, f"""SELECT {PERSON_COLUMNS} FROM task JOIN visit ON visit.id = task.visit_id
                             JOIN person ON person.id = visit.person_id
                             WHERE task.desk_id = ? AND task.status IN ('called', 'in_service')
                             ORDER BY task.called_at, task.rowid""", [desk_id])
    return _with_waits(rows, moment)


def _station_types(db, site_id: str) -> list[dict]:
    return fetch_all(db, "SELECT * FROM station_type WHERE site_id = ? ORDER BY rowid", [site_id])


def _destination_text(number: int, destination: queueing.Destination | None) -> str:
    if destination is None:
        return _("Số %(number)s: Đã khám xong.", number=number)
    if destination.desks:
        desks = ", ".join(str(desk) for desk in destination.desks)
        return _("Số %(number)s: tiếp theo đến %(station)s, bàn %(desks)s.", number=number,
                 station=destination.label, desks=desks)
    return _("Số %(number)s: tiếp theo đến %(station)s (chưa có bàn mở).", number=number, station=destination.label)


def _flash_problem(problem: FieldappError) -> None:
    flash(f"{problem.message} {problem.hint}", "error")


def _queue_problem(error: queueing.QueueError, fallback: str, **fields) -> FieldappError:
    """Translate a queue error into its catalogue entry, or into fallback when the queue gave no code."""
    if error.code:
        return FieldappError(error.code, **error.fields)
    return FieldappError(fallback, **fields)


# Station screens.

@bp.get("/")
@auth.require_role(*DESK_ROLES)
def index():
    db = get_db()
    site, choices = _site_choice(db)
    desks = []
    if site is not None:
        desks = fetch_all(db, """SELECT desk.id, desk.number, desk.open, station_type.label FROM desk
                                 JOIN station_type ON station_type.id = desk.station_type_id
                                 WHERE desk.site_id = ? ORDER BY desk.number""", [site["id"]])
    return render("stations/index.html", site=site, choices=choices, desks=desks)


def _desk_context(db, desk_id: str) -> dict:
    moment = _now()
    desk = _get_desk(db, desk_id)
    return {"desk": desk, "line": _line(db, desk["station_type_id"], moment), "serving": _serving(db, desk_id, moment),
            "station_types": [s for s in _station_types(db, desk["site_id"]) if s["id"] != desk["station_type_id"]]}


@bp.get("/desk/<desk_id>")
@auth.require_role(*DESK_ROLES)
def desk(desk_id: str):
    return render("stations/desk.html", "stations/_line.html", **_desk_context(get_db(), desk_id))


@bp.post("/desk/<desk_id>/call")
@auth.require_role(*DESK_ROLES)
def call(desk_id: str):
    db = get_db()
    found = _get_desk(db, desk_id)
    try:
        task = queueing.call_next(db, desk_id)
    except queueing.QueueError as error:
        log.info("call rejected at desk %s: %s", desk_id, error)
        _flash_problem(_queue_problem(error, "station_desk_closed", value=found["number"]))
        return redirect(url_for(".desk", desk_id=desk_id))
    if task is None:
        flash(_("Không còn ai chờ ở %(station)s.", station=found["label"]), "info")
    else:
        _audit("station_call", task["id"], {"desk": desk_id})
    return redirect(url_for(".desk", desk_id=desk_id))


@bp.post("/desk/<desk_id>/task")
@auth.require_role(*DESK_ROLES)
def act(desk_id: str):
    """Apply one action to a person called to this desk: recall, absent, start, done or send."""
    db = get_db()
    _get_desk(db, desk_id)
    action = request.form.get("action", "")
    if action not in DESK_ACTIONS:
        abort(400)
    task = fetch_one(db, f"""SELECT {PERSON_COLUMNS} FROM task JOIN visit ON visit.id = task.visit_id
                             JOIN person ON person.id = visit.person_id WHERE task.id = ?""",
                     [request.form.get("task_id", "")])
    if task is None:
        abort(404)
    number = task["queue_number"]
    if task["desk_id"] != desk_id or task["status"] not in ("called", "in_service"):
        log.info("%s rejected at desk %s: task %s is %s at desk %s", action, desk_id, task["id"], task["status"],
                 task["desk_id"])
        _flash_problem(FieldappError("station_task_changed", value=number))
        return redirect(url_for(".desk", desk_id=desk_id))
    try:
        _apply(db, action, task)
    except queueing.QueueError as error:
        log.info("%s rejected at desk %s for task %s: %s", action, desk_id, task["id"], error)
        _flash_problem(_queue_problem(error, "station_task_changed", value=number))
    return redirect(url_for(".desk", desk_id=desk_id))


def _apply(db, action: str, task: dict) -> None:
    number = task["queue_number"]
    if action == "recall":
        queueing.recall(db, task["id"])
    elif action == "absent":
        changed = queueing.absent(db, task["id"])
        if changed["status"] == "no_show":
            flash(_("Số %(number)s vắng mặt sau %(calls)s lần gọi: đã đưa ra khỏi mọi hàng chờ. Nếu người này "
                    "quay lại, người điều phối bấm Đưa trở lại hàng chờ.", number=number, calls=changed["calls"]),
                  "info")
        else:
            flash(_("Số %(number)s vắng mặt: đã xếp lại vào hàng chờ, lùi vài phút.", number=number), "info")
    elif action == "start":
        queueing.start(db, task["id"])
    elif action == "done":
        flash(_destination_text(number, queueing.done(db, task["id"])), "info")
    elif not _send(db, task, request.form.get("station_type_id", "")):
        return
    _audit(f"station_{action}", task["id"], {"desk": task["desk_id"]})


def _send(db, task: dict, station_type_id: str) -> bool:
    """Send a person to another station type of the same site, flash where they go and return whether it worked."""
    target = fetch_one(db, "SELECT * FROM station_type WHERE id = ?", [station_type_id])
    current = fetch_one(db, "SELECT site_id FROM station_type WHERE id = ?", [task["station_type_id"]])
    if target is None or target["site_id"] != current["site_id"]:
        abort(400)
    try:
        destination = queueing.send_to(db, task["id"], station_type_id)
    except queueing.QueueError as error:
        log.info("move of task %s to station type %s rejected: %s", task["id"], station_type_id, error)
        _flash_problem(_queue_problem(error, "station_move_invalid", value=task["queue_number"], field=target["label"]))
        return False
    flash(_destination_text(task["queue_number"], destination), "info")
    return True


def _audit(action: str, subject: str, detail: dict) -> None:
    db = get_db()
    with write(db):
        auth.audit(db, action, subject=subject, detail=detail)


# Coordinator screen.

def _overview(db, site: dict | None) -> dict:
    """Return the coordinator's figures: emergencies, and per station type its line, waits, desks and load."""
    if site is None:
        return {"emergencies": [], "stations": [], "absent": []}
    moment = _now()
    hour_ago = (moment - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    station_types = _station_types(db, site["id"])
    # One query per kind of figure for all the site's stations: the page is polled every 2 s, and each
    # query of a request under load also waits for the interpreter again.
    ids = [station_type["id"] for station_type in station_types]
    marks = ", ".join("?" * len(ids))
    lines = defaultdict(list)
    for row in fetch_all(db, f"""SELECT {PERSON_COLUMNS} FROM task JOIN visit ON visit.id = task.visit_id
                                 JOIN person ON person.id = visit.person_id
                                 WHERE task.station_type_id IN ({marks}) AND task.status = 'waiting'
                                   AND task.in_line = 1
                                 ORDER BY task.queue_key, task.rowid""", ids):
        lines[row["station_type_id"]].append(row)
    served = dict(db.execute(f"""SELECT station_type_id, count(*) FROM task
                                 WHERE station_type_id IN ({marks}) AND status = 'done' AND done_at >= ?
                                 GROUP BY station_type_id""", [*ids, hour_ago]).fetchall())
    desks = defaultdict(list)
    for desk in fetch_all(db, f"""SELECT id, number, open, station_type_id, mean_service_s FROM desk
                                  WHERE station_type_id IN ({marks}) ORDER BY number""", ids):
        desks[desk["station_type_id"]].append(desk)

    stations = []
    for station_type in station_types:
        line = _with_waits(lines[station_type["id"]], moment)
        waits = [row["wait_min"] for row in line]
        own_desks = desks[station_type["id"]]
        expected = queueing.expected_wait(len(line), [desk["mean_service_s"] for desk in own_desks if desk["open"]])
        stations.append({**station_type, "line": line, "median_min": int(statistics.median(waits)) if waits else 0,
                         "max_min": max(waits, default=0), "served_hour": served.get(station_type["id"], 0),
                         "desks": own_desks, "expected_min": None if expected is None else round(expected / 60)})
    _mark_bottlenecks(stations)
    emergencies = fetch_all(db, f"""SELECT {PERSON_COLUMNS}, station_type.label, desk.number AS desk_number
                                    FROM task JOIN visit ON visit.id = task.visit_id
                                    JOIN person ON person.id = visit.person_id
                                    JOIN station_type ON station_type.id = task.station_type_id
                                    LEFT JOIN desk ON desk.id = task.desk_id
                                    WHERE visit.site_id = ? AND task.priority = 'emergency'
                                      AND (task.status IN ('called', 'in_service')
                                           OR (task.status = 'waiting' AND task.in_line = 1))
                                    ORDER BY task.queue_key, task.rowid""", [site["id"]])
    return {"emergencies": _with_waits(emergencies, moment), "stations": stations,
            "absent": _absent_visits(db, site["id"])}


def _absent_visits(db, site_id: str) -> list[dict]:
    """Return today's visits at a site whose person left after missed calls, with the stations they have left."""
    rows = fetch_all(db, """SELECT visit.id, visit.queue_number, person.full_name, max(task.called_at) AS called_at,
                                   group_concat(station_type.label, ' · ') AS stations
                            FROM visit JOIN person ON person.id = visit.person_id
                            JOIN task ON task.visit_id = visit.id AND task.status = 'no_show'
                            JOIN station_type ON station_type.id = task.station_type_id
                            WHERE visit.site_id = ? AND visit.day = ? AND NOT EXISTS (
                                SELECT 1 FROM task other WHERE other.visit_id = visit.id
                                AND other.status IN ('waiting', 'called', 'in_service'))
                            GROUP BY visit.id ORDER BY visit.queue_number""", [site_id, today()])
    for row in rows:
        called = dt.datetime.fromisoformat(row["called_at"]) if row["called_at"] else None
        row["time"] = called.astimezone().strftime("%H:%M") if called else ""
    return rows


def _mark_bottlenecks(stations: list[dict]) -> None:
    for station in stations:
        others = [s["expected_min"] for s in stations if s is not station and s["expected_min"] is not None]
        expected = station["expected_min"]
        baseline = statistics.median(others) if others else 0
        station["bottleneck"] = (expected is not None and expected >= BOTTLENECK_MIN_MINUTES
                                 and expected >= BOTTLENECK_FACTOR * baseline)


@bp.get("/coordinator")
@auth.require_role(*COORDINATOR_ROLES)
def coordinator():
    db = get_db()
    site, choices = _site_choice(db)
    return render("stations/coordinator.html", "stations/_overview.html", site=site, choices=choices,
                  expanded=request.args.get("open"), line_shown=LINE_SHOWN, **_overview(db, site))


@bp.post("/coordinator/desk/<desk_id>")
@auth.require_role(*COORDINATOR_ROLES)
def set_open(desk_id: str):
    db = get_db()
    _get_desk(db, desk_id)
    is_open = request.form.get("open") == "1"
    queueing.set_desk_open(db, desk_id, is_open)
    _audit("desk_opened" if is_open else "desk_closed", desk_id, {})
    return redirect(url_for(".coordinator"))


@bp.post("/coordinator/visit/<visit_id>/back")
@auth.require_role(*COORDINATOR_ROLES)
def bring_back(visit_id: str):
    """Put a person who left after missed calls back in line for every station they have left."""
    db = get_db()
    visit = get_visit(db, visit_id)
    if visit is None:
        abort(404)
    try:
        destination = queueing.bring_back(db, visit_id)
    except queueing.QueueError as error:
        log.info("bring back of visit %s rejected: %s", visit_id, error)
        _flash_problem(_queue_problem(error, "station_bring_back_invalid", value=visit["queue_number"]))
        return redirect(url_for(".coordinator"))
    _audit("station_bring_back", visit_id, {})
    flash(_destination_text(visit["queue_number"], destination), "info")
    return redirect(url_for(".coordinator"))


@bp.get("/coordinator/task/<task_id>/move")
@auth.require_role(*COORDINATOR_ROLES)
def move_form(task_id: str):
    db = get_db()
    task = _waiting_task(db, task_id)
    return render("stations/move.html", task=task,
                  station_types=[s for s in _station_types(db, task["site_id"]) if s["id"] != task["station_type_id"]])


@bp.post("/coordinator/task/<task_id>/move")
@auth.require_role(*COORDINATOR_ROLES)
def move(task_id: str):
    db = get_db()
    task = _waiting_task(db, task_id)
    if _send(db, task, request.form.get("station_type_id", "")):
        _audit("station_move", task_id, {"station_type": request.form.get("station_type_id", "")})
    return redirect(url_for(".coordinator"))


def _waiting_task(db, task_id: str) -> dict:
    task = fetch_one(db, f"""SELECT {PERSON_COLUMNS}, visit.site_id, station_type.label FROM task
                             JOIN visit ON visit.id = task.visit_id JOIN person ON person.id = visit.person_id
                             JOIN station_type ON station_type.id = task.station_type_id WHERE task.id = ?""", [task_id])
    if task is None:
        abort(404)
    return task


# Triage.

@bp.app_context_processor
def _triage_flags() -> dict:
    # Every template gets the flags, so the check-in result can include stations/_triage.html.
    return {"triage_red_flags": RED_FLAGS}


@bp.get("/visit/<visit_id>/triage")
@auth.require_role(*TRIAGE_ROLES)
def triage_form(visit_id: str):
    db = get_db()
    return render("stations/triage.html", **_triage_context(db, visit_id), problem=None, chosen=[])


def _triage_context(db, visit_id: str) -> dict:
    visit = get_visit(db, visit_id)
    if visit is None:
        abort(404)
    person = fetch_one(db, "SELECT full_name, birth_date FROM person WHERE id = ?", [visit["person_id"]]) or {}
    return {"visit": visit, "person": person}


@bp.post("/visit/<visit_id>/triage")
@auth.require_role(*TRIAGE_ROLES)
def triage(visit_id: str):
    """Record red flags for a visit and make its open tasks emergencies, queueing it first when it is in no line."""
    db = get_db()
    context = _triage_context(db, visit_id)
    visit = context["visit"]
    chosen = [flag for flag in request.form.getlist("flag") if flag in RED_FLAGS]
    flags = [flag for flag in chosen if flag != "other"]
    note = request.form.get("other", "").strip()
    if "other" in chosen or note:
        flags.append(f"{OTHER_PREFIX}{note}" if note else "other")
    try:
        if not flags:
            raise FieldappError("triage_no_flags")
        if queueing.left_after_absence(db, visit_id):
            # A no-show triaged at the door has come back: reopen what they missed before raising it.
            queueing.bring_back(db, visit_id)
        changed = queueing.triage(db, visit_id, flags)
        if changed == 0 and db.execute("SELECT 1 FROM task WHERE visit_id = ?", [visit_id]).fetchone() is None:
            queueing.enqueue_visit(db, visit_id, "emergency")
            changed = queueing.triage(db, visit_id, flags)
        if changed == 0:
            raise FieldappError("triage_visit_finished", value=visit["queue_number"])
        # A guard: no queue action leaves open tasks outside every line, but if one did, the person joins one now.
        queueing.route(db, visit_id)
    except (FieldappError, queueing.QueueError) as error:
        log.info("triage of visit %s rejected: %s", visit_id, error)
        problem = error if isinstance(error, FieldappError) else FieldappError("triage_visit_finished",
                                                                                value=visit["queue_number"])
        return render("stations/triage.html", status=problem.status, problem=problem, chosen=chosen, **context)
    _audit("triage", visit_id, {"red_flags": [flag for flag in chosen]})
    flash(_("Số %(number)s đã được chuyển thành cấp cứu và xếp đầu hàng.", number=visit["queue_number"]), "error")
    if g.staff["role"] in ("coordinator", "site_admin"):
        return redirect(url_for(".coordinator"))
    return redirect(url_for(".triage_form", visit_id=visit_id))
