"""Round pages: create a round, invite people to sites, see the load per slot, print slips."""

import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_file, url_for

from . import auth, jobs
from .announcements import announcements, vietnamese_date
from .db import DATABASE_NAME, connect, get_db, write
from .distribution import bundles
from .errors import FieldappError
from .groups import GROUPS
from .invitations import invite, mark_printed, move, reissue, rules, slot_load
from .rounds import SiteSpec, create_round, find_site, get_round, sites, station_plans
from .slips import render_slips
from .slots import build_slots
from .stationplans import KINDS, reference
from .web import render

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
SITE_ROWS = 3


def _round_or_404(round_id: str) -> dict:
    found = get_round(get_db(), round_id)
    if found is None:
        abort(404)
    return found


@bp.get("/")
@auth.require_role("coordinator")
def index():
    rows = get_db().execute(
        """SELECT r.id, r.name, r.start_date, r.days,
                  (SELECT count(*) FROM invitation i WHERE i.round_id = r.id AND i.status = 'active')
           FROM exam_round r ORDER BY r.start_date DESC""").fetchall()
    listed = [{"id": r[0], "name": r[1], "start": r[2], "days": r[3], "invited": r[4]} for r in rows]
    return render("rounds/index.html", rounds=listed, site_rows=SITE_ROWS, form={}, problem=None)


@bp.post("/")
@auth.require_role("coordinator")
def create():
    form = request.form
    try:
        start = dt.date.fromisoformat(form.get("start", ""))
    except ValueError:
        return _create_problem(FieldappError("round_date_invalid", value=form.get("start", "")))
    specs = []
    for index in range(SITE_ROWS):
        name = form.get(f"site-name-{index}", "").strip()
        if not name:
            continue
        capacity = form.get(f"site-capacity-{index}", "")
        if not capacity.isdigit() or int(capacity) < 1:
            return _create_problem(FieldappError("site_invalid", value=f"{name}|{capacity}"))
        specs.append(SiteSpec(name, form.get(f"site-address-{index}", "").strip(), int(capacity)))

    db = get_db()
    try:
        with write(db):
            round_id = create_round(db, form.get("name", ""), start, form.get("days", 1, type=int) or 0, specs,
                                    form.get("title") or None, form.get("ward", ""), form.get("station", ""))
            auth.audit(db, "round_create", subject=round_id)
    except FieldappError as error:
        return _create_problem(error)
    return redirect(url_for("rounds.show", round_id=round_id))


def _create_problem(error: FieldappError):
    return render("rounds/index.html", status=error.status, rounds=[], site_rows=SITE_ROWS, form=request.form,
                  problem=error)


def _load_table(db, round_id: str) -> list[dict]:
    """Return per site the days, each with its slots: start, end, people, capacity."""
    load = slot_load(db, round_id)
    table = []
    for site in sites(db, round_id):
        days = []
        for date in site["dates"]:
            day_slots = []
            for session_start, session_end in site["sessions"]:
                for slot in build_slots(site["id"], [dt.date.fromisoformat(date)], session_start, session_end,
                                        site["slot_minutes"], site["capacity"]):
                    day_slots.append({"start": slot.start, "end": slot.end, "people": load.get((site["id"], date, slot.start), 0),
                                      "capacity": site["capacity"]})
            days.append({"date": date, "label": vietnamese_date(dt.date.fromisoformat(date)), "slots": day_slots,
                         "people": sum(slot["people"] for slot in day_slots)})
        table.append({"site": site, "days": days})
    return table


@bp.get("/<round_id>")
@auth.require_role("coordinator")
def show(round_id: str):
    found = _round_or_404(round_id)
    db = get_db()
    counts = dict(db.execute(
        "SELECT CASE WHEN slot_start IS NULL THEN 'unplaced' ELSE 'placed' END, count(*) FROM invitation "
        "WHERE round_id = ? AND status = 'active' GROUP BY 1", [round_id]).fetchall())
    return render("rounds/show.html", round=found, sites=sites(db, round_id), rules=rules(db, round_id),
                  load=_load_table(db, round_id), counts=counts, groups=GROUPS)


@bp.post("/<round_id>/invite")
@auth.require_role("coordinator")
def invite_people(round_id: str):
    found = _round_or_404(round_id)
    kind, value = request.form.get("kind", ""), request.form.get("value", "").strip()
    db = get_db()
    site = find_site(db, round_id, request.form.get("site") or None)
    if kind != "all" and not value:
        raise FieldappError("invite_nothing_selected")
    with write(db):
        invite(db, found["id"], site["id"], kind, value, request.form.get("date") or None)
        auth.audit(db, "round_invite", subject=round_id, detail={"kind": kind})
    return redirect(url_for("rounds.show", round_id=round_id))


@bp.post("/<round_id>/slips")
@auth.require_role("coordinator")
def print_slips(round_id: str):
    _round_or_404(round_id)
    layout = "a5-2" if request.form.get("layout") == "a5-2" else "a4-8"
    db = get_db()
    chosen = bundles(db, round_id)
    total = sum(len(bundle.slips) for bundle in chosen)
    if not total:
        raise FieldappError("slips_none")
    app = current_app._get_current_object()

    def work(path, progress):
        render_slips(chosen, path, layout=layout, progress=progress)
        # The job runs in its own thread, so it needs its own connection.
        own = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
        with write(own):
            mark_printed(own, [slip.token for bundle in chosen for slip in bundle.slips])
        own.conn.close()

    job_id = jobs.start(app, "slips", total, work)
    with write(db):
        auth.audit(db, "slips_print", subject=round_id, detail={"slips": total})
    return redirect(url_for("rounds.job", job_id=job_id))


@bp.get("/jobs/<job_id>")
@auth.require_role("coordinator")
def job(job_id: str):
    found = jobs.get(get_db(), job_id)
    if found is None:
        abort(404)
    return render("rounds/job.html", "rounds/_job.html", job=found)


@bp.get("/jobs/<job_id>/file")
@auth.require_role("coordinator")
def job_file(job_id: str):
    found = jobs.get(get_db(), job_id)
    if found is None or found["status"] != "done":
        abort(404)
    path = jobs.output_dir(current_app) / found["result"]
    return send_file(path, as_attachment=True, download_name="giay-moi.pdf")


def _single_slip(db, round_id: str, person_id: str):
    chosen = bundles(db, round_id, person_id)
    if not chosen:
        invited = db.execute("SELECT 1 FROM invitation WHERE round_id = ? AND person_id = ? AND status = 'active'",
                             [round_id, person_id]).fetchone()
        raise FieldappError("person_no_slot" if invited else "person_not_invited")
    buffer = io.BytesIO()
    render_slips(chosen, buffer, layout="a5-2")
    with write(db):
        mark_printed(db, [slip.token for bundle in chosen for slip in bundle.slips])
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name="giay-moi-1-nguoi.pdf")


@bp.post("/<round_id>/reprint")
@auth.require_role("coordinator")
def reprint(round_id: str):
    _round_or_404(round_id)
    db = get_db()
    person_id = request.form.get("person_id", "")
    if request.form.get("reissue"):
        row = db.execute("SELECT id FROM invitation WHERE round_id = ? AND person_id = ? AND status = 'active'",
                         [round_id, person_id]).fetchone()
        if row is None:
            raise FieldappError("person_not_invited", value=person_id)
        with write(db):
            reissue(db, row[0])
            auth.audit(db, "slip_reissue", subject=person_id)
    return _single_slip(db, round_id, person_id)


@bp.post("/<round_id>/move")
@auth.require_role("coordinator")
def move_person(round_id: str):
    _round_or_404(round_id)
    db = get_db()
    with write(db):
        move(db, request.form.get("invitation_id", ""), request.form.get("date", ""), request.form.get("start", ""))
    return redirect(url_for("rounds.people", round_id=round_id))


@bp.get("/<round_id>/people")
@auth.require_role("coordinator")
def people(round_id: str):
    found = _round_or_404(round_id)
    db = get_db()
    rows = db.execute(
        """SELECT i.id, i.person_id, p.full_name, p.birth_date, s.name, i.date, i.slot_start, i.slot_end, i.printed_at
           FROM invitation i JOIN person p ON p.id = i.person_id LEFT JOIN site s ON s.id = i.site_id
           WHERE i.round_id = ? AND i.status = 'active' ORDER BY p.sort_key LIMIT 500""", [round_id]).fetchall()
    listed = [dict(zip(["id", "person_id", "full_name", "birth_date", "site", "date", "start", "end", "printed"], r))
              for r in rows]
    by_day = defaultdict(list)
    for day in _load_table(db, round_id):
        for d in day["days"]:
            by_day[day["site"]["name"]].append(d)
    return render("rounds/people.html", round=found, people=listed, by_day=by_day)


@bp.get("/<round_id>/announcements")
@auth.require_role("coordinator")
def announcement_list(round_id: str):
    found = _round_or_404(round_id)
    return render("rounds/announcements.html", round=found, items=announcements(get_db(), round_id))


@bp.get("/<round_id>/poster")
@auth.require_role("coordinator")
def poster(round_id: str):
    found = _round_or_404(round_id)
    area = request.args.get("area", "")
    item = next((a for a in announcements(get_db(), round_id) if a.area == area), None)
    if item is None:
        abort(404)
    return render("rounds/poster.html", round=found, item=item)


@bp.route("/<round_id>/plans", methods=["GET", "POST"])
@auth.require_role("coordinator")
def plans(round_id: str):
    found = _round_or_404(round_id)
    db = get_db()
    catalogue = reference()
    if request.method == "POST":
        with write(db):
            for kind in KINDS:
                chosen = [item for item in catalogue["items"] if request.form.get(f"{kind}-{item}")]
                db.execute("UPDATE station_plan SET items = ? WHERE round_id = ? AND kind = ?",
                           [json.dumps(chosen), round_id, kind])
            auth.audit(db, "station_plans_edit", subject=round_id)
        return redirect(url_for("rounds.plans", round_id=round_id))
    return render("rounds/plans.html", round=found, plans=station_plans(db, round_id), kinds=KINDS,
                  catalogue=catalogue)
