"""Check-in at the door: scan a slip or citizen card, type a code, search, register walk-ins, check in a class."""

import datetime as dt
import time

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for

from . import auth, idempotency
from .checkin import Outcome, active_invitation, get_person, look_up, person_outcome, site_name
from .db import get_db, write
from .errors import FieldappError, hint, render as render_message
from .groups import GROUPS
from .rounds import sites
from .roster import search_people
from .visits import (ASSENT_AGE, CHILD_AGE, Consent, Desk, age_on, check_consent, check_in,
                     first_station, get_visit, plan_for, plan_label, queue_visit, record_visit)
from .walkins import WalkInForm, clean_form, is_walk_in, register
from .web import render

bp = Blueprint("checkin", __name__, url_prefix="/checkin")
SEARCH_LIMIT = 20
DESK_KEY = "checkin_site_id"


@bp.before_request
def _start_timer():
    g.checkin_started = time.perf_counter()


@bp.after_request
def _server_timing(response):
    # The bench reads this to tell time spent in the app from time on the network.
    started = g.get("checkin_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def today() -> str:
    return dt.date.today().isoformat()


def open_sites(db, day: str) -> list[dict]:
    """Return the sites of every round that are open on a day, with their round's name."""
    found = []
    for round_id, round_name in db.execute("SELECT id, name FROM exam_round ORDER BY start_date DESC").fetchall():
        for site in sites(db, round_id):
            if day in site["dates"]:
                found.append(dict(site, round_name=round_name))
    return found


def current_desk(db) -> tuple[Desk | None, dict | None, list[dict]]:
    """Return this session's desk, its site and the sites open today; the only open site is chosen by itself."""
    day = today()
    choices = open_sites(db, day)
    chosen = next((site for site in choices if site["id"] == session.get(DESK_KEY)), None)
    if chosen is None and len(choices) == 1:
        chosen = choices[0]
    if chosen is None:
        return None, None, choices
    return Desk(chosen["round_id"], chosen["id"], day), chosen, choices


def _desk_or_problem(db) -> tuple[Desk, dict]:
    desk, site, _ = current_desk(db)
    if desk is None:
        raise FieldappError("checkin_no_desk")
    return desk, site


def _page(fragment: str, status: int = 200, **context):
    """Render the scan page with a result, or only the result for htmx."""
    db = get_db()
    desk, site, choices = current_desk(db)
    context.setdefault("outcome", None)
    context.setdefault("query", "")
    outcome = context["outcome"]
    if outcome is not None and outcome.code:
        context["message"], context["hint"] = render_message(outcome.code, **outcome.fields), hint(outcome.code)
    return render("checkin/index.html", fragment, status=status, desk=desk, site=site, choices=choices,
                  result_template=fragment, groups=GROUPS, **context)


def _person_context(db, outcome: Outcome, desk: Desk) -> dict:
    """Return what the confirmation card shows: age, plan, first station, walk-in mark."""
    person = outcome.person
    kind, items = plan_for(db, desk.round_id, person, desk.day)
    age = age_on(person["birth_date"], desk.day)
    return {"age": age, "plan_kind": kind, "plan_label": plan_label(kind), "first_station": first_station(items),
            "child": age is not None and age < CHILD_AGE, "assent": age is not None and ASSENT_AGE <= age < CHILD_AGE,
            "walk_in": is_walk_in(db, person["id"])}


def _visit_context(db, visit: dict) -> dict:
    person = get_person(db, visit["person_id"]) or {"full_name": "", "birth_date": None, "groups": ""}
    items = plan_for(db, visit["round_id"], person, visit["day"])[1] if visit["round_id"] else []
    return {"visit": visit, "person": person, "plan_label": plan_label(visit["plan_kind"]),
            "first_station": first_station(items), "site_name": site_name(db, visit["site_id"]),
            "checked_in_time": dt.datetime.fromisoformat(visit["checked_in_at"]).astimezone().strftime("%H:%M")}


def _outcome_page(db, outcome: Outcome, desk: Desk, status: int = 200, problem: FieldappError | None = None,
                  form=None):
    if outcome.result == "visit":
        return _page("checkin/_visit.html", outcome=outcome, **_visit_context(db, outcome.visit))
    if outcome.result == "person":
        return _page("checkin/_confirm.html", status=status, outcome=outcome, problem=problem, form=form or {},
                     **_person_context(db, outcome, desk))
    if outcome.result == "walkin":
        return _page("checkin/_walkin.html", outcome=outcome, walkin=WalkInForm.from_card(outcome.card), problem=None)
    return _page("checkin/_notice.html", outcome=outcome)


@bp.get("/")
@auth.require_role("reception", "coordinator")
def index():
    return _page("checkin/_empty.html")


@bp.post("/desk")
@auth.require_role("reception", "coordinator")
def choose_desk():
    db = get_db()
    site_id = request.form.get("site_id", "")
    if site_id not in {site["id"] for site in open_sites(db, today())}:
        raise FieldappError("checkin_no_desk")
    session[DESK_KEY] = site_id
    return redirect(url_for("checkin.index"))


@bp.post("/scan")
@idempotency.read_only
@auth.require_role("reception", "coordinator")
def scan():
    db = get_db()
    desk, _ = _desk_or_problem(db)
    outcome = look_up(db, request.form.get("code", ""), desk)
    current_app.logger.info("check-in scan: %s %s", outcome.result, outcome.code or "")
    return _outcome_page(db, outcome, desk)


@bp.post("/search")
@idempotency.read_only
@auth.require_role("reception", "coordinator")
def search():
    db = get_db()
    query = request.form.get("q", "").strip()
    total, people = search_people(db, query, limit=SEARCH_LIMIT) if query else (0, [])
    return _page("checkin/_search.html", query=query, total=total, people=people)


@bp.get("/person/<person_id>")
@auth.require_role("reception", "coordinator")
def person(person_id: str):
    db = get_db()
    desk, _ = _desk_or_problem(db)
    found = get_person(db, person_id)
    if found is None:
        abort(404)
    return _outcome_page(db, person_outcome(db, found, desk), desk)


def _consent_from(form) -> Consent:
    by = form.get("consent_by", "")
    if not form.get("consent"):
        by = ""
    return Consent(by, form.get("guardian_name", "").strip(), bool(form.get("child_assent")))


@bp.post("/visit")
@auth.require_role("reception", "coordinator")
def create_visit():
    db = get_db()
    desk, _ = _desk_or_problem(db)
    found = get_person(db, request.form.get("person_id", ""))
    if found is None:
        abort(404)
    outcome = person_outcome(db, found, desk)
    if outcome.result == "visit":
        return _outcome_page(db, outcome, desk)
    if outcome.needs_confirmation and not request.form.get("confirm_site"):
        return _outcome_page(db, outcome, desk, status=422, form=request.form)

    invitation = outcome.invitation or active_invitation(db, desk.round_id, found["id"])
    try:
        visit, created = check_in(db, desk, found, _consent_from(request.form),
                                  invitation["id"] if invitation else None, g.staff["id"], g.get("device_id"))
    except FieldappError as problem:
        return _outcome_page(db, outcome, desk, status=problem.status, problem=problem, form=request.form)
    if created:
        _audit_visit(db, visit, {"other_site": bool(outcome.needs_confirmation)})
    return _page("checkin/_visit.html", **_visit_context(db, visit))


def _audit_visit(db, visit: dict, detail: dict) -> None:
    with write(db):
        auth.audit(db, "check_in", subject=visit["id"], detail=detail)


@bp.get("/visit/<visit_id>")
@auth.require_role("reception", "coordinator")
def show_visit(visit_id: str):
    db = get_db()
    visit = get_visit(db, visit_id)
    if visit is None:
        abort(404)
    return _page("checkin/_visit.html", **_visit_context(db, visit))


@bp.get("/walkin")
@auth.require_role("reception", "coordinator")
def walkin_form():
    return _page("checkin/_walkin.html", walkin=WalkInForm(), problem=None)


@bp.post("/walkin")
@auth.require_role("reception", "coordinator")
def walkin():
    db = get_db()
    desk, _ = _desk_or_problem(db)
    entered = WalkInForm.from_form(request.form)
    consent = _consent_from(request.form)
    try:
        record = clean_form(entered, dt.date.fromisoformat(desk.day))
        age = record.birth.age_on(dt.date.fromisoformat(desk.day)) if record.birth else None
        consent = check_consent(consent, age)
        with write(db):
            person_id = register(db, record)
            found = get_person(db, person_id)
            visit, created = record_visit(db, desk, found, consent, None, g.staff["id"], g.get("device_id"))
            auth.audit(db, "walk_in", subject=person_id, detail={"visit": visit["id"], "created": created})
    except FieldappError as problem:
        return _page("checkin/_walkin.html", status=problem.status, walkin=entered, problem=problem, form=request.form)
    if created:
        queue_visit(db, visit, found)
    return _page("checkin/_visit.html", **_visit_context(db, visit))


def _classes(db, desk: Desk) -> list[tuple[str, int]]:
    """Return the classes of the pupils invited to this site in this round, with their sizes."""
    return db.execute(
        """SELECT p.class_name, count(*) FROM person p JOIN invitation i ON i.person_id = p.id
           WHERE i.round_id = ? AND i.site_id = ? AND i.status = 'active' AND p.class_name != ''
           GROUP BY p.class_name ORDER BY p.class_name""", [desk.round_id, desk.site_id]).fetchall()


def _pupils(db, desk: Desk, class_name: str) -> list[dict]:
    cursor = db.execute(
        """SELECT p.id, p.full_name, p.birth_date, p.sex, p.parent_name, p.groups, v.queue_number
           FROM person p LEFT JOIN visit v ON v.person_id = p.id AND v.day = ?
           WHERE p.class_name = ? AND EXISTS (SELECT 1 FROM invitation i WHERE i.person_id = p.id
                 AND i.round_id = ? AND i.status = 'active')
           ORDER BY p.sort_key""", [desk.day, class_name, desk.round_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _school_page(db, desk: Desk, class_name: str, status: int = 200, **context):
    return render("checkin/school.html", status=status, desk=desk, classes=_classes(db, desk), class_name=class_name,
                  pupils=_pupils(db, desk, class_name) if class_name else [], **context)


@bp.get("/school")
@auth.require_role("reception", "coordinator")
def school():
    db = get_db()
    desk, _ = _desk_or_problem(db)
    return _school_page(db, desk, request.args.get("class", ""), problem=None, checked_in=[])


@bp.post("/school")
@auth.require_role("reception", "coordinator")
def school_check_in():
    db = get_db()
    desk, _ = _desk_or_problem(db)
    class_name = request.form.get("class", "")
    chosen = request.form.getlist("person_id")
    teacher = request.form.get("teacher", "").strip()
    try:
        if not chosen:
            raise FieldappError("school_none_selected")
        if not teacher or not request.form.get("consent"):
            raise FieldappError("school_consent_missing")
    except FieldappError as problem:
        return _school_page(db, desk, class_name, status=problem.status, problem=problem, checked_in=[])

    pupils = {pupil["id"]: pupil for pupil in _pupils(db, desk, class_name)}
    checked_in = []
    with write(db):
        for person_id in chosen:
            pupil = get_person(db, person_id) if person_id in pupils else None
            if pupil is None:
                continue
            age = age_on(pupil["birth_date"], desk.day)
            # Parents agree through the school's consent slips; the teacher vouches for the pupils present.
            consent = Consent("guardian", pupil["parent_name"] or teacher, age is None or age >= ASSENT_AGE)
            invitation = active_invitation(db, desk.round_id, person_id)
            visit, created = record_visit(db, desk, pupil, consent, invitation["id"] if invitation else None,
                                          g.staff["id"], g.get("device_id"))
            checked_in.append((pupil, visit, created))
        auth.audit(db, "school_check_in", detail={"pupils": len(checked_in),
                                                  "created": sum(created for _, _, created in checked_in)})
    # The queue opens its own transactions, so pupils join their first line after the check-ins commit.
    for pupil, visit, created in checked_in:
        if created:
            queue_visit(db, visit, pupil)
    return _school_page(db, desk, class_name, problem=None, checked_in=checked_in)
