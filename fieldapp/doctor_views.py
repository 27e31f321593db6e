"""The doctor's pages: today's list, a visit's results and conclusion, ICD-10 search and advice templates."""

import datetime as dt
import logging
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from . import (
    advice,
    auth,
    conclusions,
    icd10,
    observations,
    queueing,
    results,
    sheets,
    suggestions,
)
from .birthdates import parse_iso
from .checkin_views import today
from .db import get_db, write
from .doctor_page import (
    HEALTH_CLASS_LABELS,
    SECTION_LABELS,
    SEVERITY,
    read_form,
    result_rows,
)
from .errors import FieldappError
from .groups import GROUPS, parse_groups
from .queueing.store import fetch_all, fetch_one
from .stationplans import reference as plan_reference
from .visits import age_on, get_visit
from .web import render

bp = Blueprint("doctor", __name__, url_prefix="/doctor")
log = logging.getLogger(__name__)
ROLES = ("doctor",)
# Other modules' pages this one links to when they exist: the result sheet, the referral note and a value's history.
SHEET_RULE = "/doctor/visit/<visit_id>/sheet"
REFERRAL_RULE = "/doctor/visit/<visit_id>/referral"
HISTORY_RULE = "/entry/visit/<visit_id>/history/<item>"
# The form field beside which each problem raised by conclusions.save is shown.
SAVE_PROBLEM_FIELDS = {"conclusion_needs_reason": "reason", "conclusion_not_current": "form"}
# app.extensions key of today's list's flag counts per visit (_day_flag_counts).
FLAG_CACHE = "fieldapp_doctor_flag_counts"
# The list shows the visits concluded last; a day of 1,000 made a page of 440 KB that took 70 ms to build.
DONE_SHOWN = 20


def _code_list() -> icd10.CodeList:
    return icd10.load(Path(current_app.config["DATA_DIR"]))


def _routed_path(rule: str, **values) -> str | None:
    """Return the URL of another module's page when the app has that route, else None."""
    for candidate in current_app.url_map.iter_rules():
        if candidate.rule == rule:
            return url_for(candidate.endpoint, **values)
    return None


def _audit(action: str, subject: str | None, detail: dict | None = None) -> None:
    db = get_db()
    with write(db):
        auth.audit(db, action, subject=subject, detail=detail)


def _seed_templates(db) -> None:
    if advice.needs_seed(db):
        with write(db):
            advice.seed(db)


# Today's list.

def _flag_counts(found: list) -> dict[str, int]:
    """Count the findings per flag: one per band, so two readings and their mean in one band count once."""
    return {flag: len({result.class_code or result.item for result in found if result.flag == flag})
            for flag in SEVERITY}


def _today_rows(db, day: str) -> list[dict]:
    return fetch_all(db, """
        SELECT task.id AS task_id, task.status, task.in_line, task.priority, task.desk_id, task.done_at,
               desk.number AS desk_number,
               visit.id, visit.person_id, visit.day, visit.queue_number, visit.plan_kind, visit.site_id,
               person.full_name, person.birth_date, person.sex,
               EXISTS (SELECT 1 FROM conclusion WHERE conclusion.visit_id = visit.id) AS concluded
        FROM task JOIN station_type ON station_type.id = task.station_type_id
        JOIN visit ON visit.id = task.visit_id JOIN person ON person.id = visit.person_id
        LEFT JOIN desk ON desk.id = task.desk_id
        WHERE station_type.code = 'doctor' AND visit.day = ? AND task.status NOT IN ('skipped', 'no_show')""", [day])


def _add_flags(db, day: str, rows: list[dict]) -> None:
    """Set each row's flag counts and age, judging only the visits whose values changed since the last view."""
    counts = _day_flag_counts(day)
    for row in rows:
        # Observations are append-only (a correction is a new row), so their count and last rowid change
        # with every write to the visit. The flags also depend on the person's sex and birth date.
        key = (_observation_marks(db, row["id"]), row["birth_date"], row["sex"])
        cached = counts.get(row["id"])
        if cached is None or cached[0] != key:
            cached = counts[row["id"]] = (key, _flag_counts(results.visit_results(db, row)))
        row["flags"] = cached[1]
        row["age"] = age_on(row["birth_date"], day)


def _day_flag_counts(day: str) -> dict:
    """Return this app's cache of flag counts for the day's visits, dropping the cache of any other day.

    Judging every value of a visit takes about 0.2 ms, so the list took about 230 ms of CPU on a day of
    1,000 visits (bench/day_load.py). With the cache, only the visits changed since the last view are judged.
    """
    cache = current_app.extensions.get(FLAG_CACHE)
    if cache is None or cache["day"] != day:
        cache = current_app.extensions[FLAG_CACHE] = {"day": day, "visits": {}}
    return cache["visits"]


def _observation_marks(db, visit_id: str) -> tuple[int, int]:
    return tuple(db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM observation WHERE visit_id = ?",
                            [visit_id]).fetchone())


def _severity_order(row: dict) -> tuple:
    return (-row["flags"]["red"], row["priority"] != "emergency", -row["flags"]["abnormal"], -row["flags"]["unusual"],
            row["queue_number"])


@bp.get("/")
@auth.require_role(*ROLES)
def index():
    db = get_db()
    day = today()
    rows = _today_rows(db, day)
    done = sorted((row for row in rows if row["status"] == "done"), key=lambda row: row["done_at"] or "", reverse=True)
    show_all = request.args.get("done") == "all"
    shown_done = done if show_all else done[:DONE_SHOWN]
    open_rows = [row for row in rows if row["status"] != "done"]
    _add_flags(db, day, open_rows + shown_done)
    open_rows.sort(key=_severity_order)
    groups = {
        "serving": [row for row in open_rows if row["status"] in ("called", "in_service")],
        "waiting": [row for row in open_rows if row["status"] == "waiting" and row["in_line"]],
        "elsewhere": [row for row in open_rows if row["status"] == "waiting" and not row["in_line"]],
        "done": shown_done,
    }
    counts = {key: len(group) for key, group in groups.items()} | {"done": len(done)}
    _audit("doctor_list_viewed", None, {"visits": len(rows)})
    return render("doctor/index.html", groups=groups, counts=counts, total=len(rows),
                  hidden_done=len(done) - len(shown_done), done_shown=DONE_SHOWN, show_all=show_all)


# The visit page.

def _visit_or_404(db, visit_id: str) -> dict:
    visit = get_visit(db, visit_id)
    if visit is None:
        abort(404)
    return visit


def _doctor_task(db, visit_id: str) -> dict | None:
    return fetch_one(db, """SELECT task.*, desk.number AS desk_number FROM task
                            JOIN station_type ON station_type.id = task.station_type_id
                            LEFT JOIN desk ON desk.id = task.desk_id
                            WHERE task.visit_id = ? AND station_type.code = 'doctor'""", [visit_id])


def _person(db, visit: dict) -> dict:
    person = fetch_one(db, "SELECT id, full_name, sex, birth_date, groups FROM person WHERE id = ?",
                       [visit["person_id"]]) or {}
    day = dt.date.fromisoformat(visit["day"])
    person["age_text"] = _age_text(person.get("birth_date"), day)
    person["groups"] = [(number, GROUPS[number]) for number in sorted(parse_groups(person.get("groups")))
                        if number in GROUPS]
    person["plan_label"] = plan_reference()["plans"].get(visit["plan_kind"], {}).get("label", visit["plan_kind"])
    person["day"] = day
    return person


def _age_text(birth_date: str | None, day: dt.date) -> str:
    """Return the age in years, or in completed months under 5 years when the birth day is known."""
    if not birth_date:
        return _("không rõ tuổi")
    birth = parse_iso(birth_date)
    years = birth.age_on(day)
    if years < 5 and birth.precision == "day":
        months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
        return _("%(months)s tháng tuổi", months=months)
    return _("%(years)s tuổi", years=years)


def _finding_observations(db, visit_id: str) -> dict[str, str]:
    """Return the stations' free-text findings by booklet section, to prefill a first conclusion."""
    found = {}
    for row in observations.current(db, visit_id):
        section = row["item"].removeprefix("finding_")
        if row["item"].startswith("finding_") and section in conclusions.SECTIONS and row["value_text"]:
            found[section] = row["value_text"]
    return found


def _initial_form(db, visit: dict, current: dict | None, found: list) -> dict:
    """Return the form's values: the current conclusion, or the stations' findings and suggestions."""
    if current is not None:
        return {**current, "findings": current["findings"], "reason": "", "replaces": current["id"]}
    day = dt.date.fromisoformat(visit["day"])
    return {"findings": _finding_observations(db, visit["id"]), "diagnoses": [], "health_class": None,
            "summary": "", "advice": "", "referral_place": "", "referral_reason": "",
            "next_exam_date": suggestions.next_exam(found, day).date.isoformat(), "reason": "", "replaces": ""}


def _render_visit(db, visit: dict, form: dict | None = None, problems: dict | None = None, status: int = 200):
    _seed_templates(db)
    found = results.visit_results(db, visit)
    current = conclusions.current(db, visit["id"])
    form = form if form is not None else _initial_form(db, visit, current, found)
    code_list = _code_list()
    chosen = {diagnosis["code"] for diagnosis in form["diagnoses"]}
    context = {
        "visit": visit, "person": _person(db, visit), "task": _doctor_task(db, visit["id"]),
        "rows": result_rows(found, lambda item: _routed_path(HISTORY_RULE, visit_id=visit["id"], item=item)),
        "counts": _flag_counts(found), "current": current, "form": form, "problems": problems or {},
        "suggested": suggestions.diagnoses(found, code_list, chosen),
        "next_exam": suggestions.next_exam(found, dt.date.fromisoformat(visit["day"])),
        "templates": advice.templates(db), "versions": _versions(db, visit["id"]),
        "sections": SECTION_LABELS, "health_classes": HEALTH_CLASS_LABELS, "code_list": code_list,
        "sheet_url": _routed_path(SHEET_RULE, visit_id=visit["id"]),
        "referral_url": _routed_path(REFERRAL_RULE, visit_id=visit["id"]),
    }
    _audit("doctor_visit_viewed", visit["id"])
    return render("doctor/visit.html", status=status, **context)


@bp.get("/visit/<visit_id>")
@auth.require_role(*ROLES)
def visit(visit_id: str):
    db = get_db()
    return _render_visit(db, _visit_or_404(db, visit_id))


@bp.post("/visit/<visit_id>")
@auth.require_role(*ROLES)
def save(visit_id: str):
    """Save the conclusion, or insert an advice template's text into the form without saving."""
    db = get_db()
    found_visit = _visit_or_404(db, visit_id)
    current = conclusions.current(db, visit_id)
    form, problems = read_form(request.form, _code_list(), current, dt.date.fromisoformat(found_visit["day"]))

    template_id = request.form.get("insert_template")
    if template_id:
        template = advice.get(db, template_id)
        if template is None:
            abort(404)
        form["advice"] = "\n".join(text for text in (form["advice"].strip(), template["body"]) if text)
        return _render_visit(db, found_visit, form, {})
    if problems:
        return _render_visit(db, found_visit, form, problems, status=400)

    author = observations.Author(g.staff["id"], g.device_id)
    try:
        with write(db):
            conclusion_id = conclusions.save(db, found_visit, form["conclusion"], author=author,
                                             reason=form["reason"], replaces=form["replaces"] or None)
            auth.audit(db, "conclusion_corrected" if current else "conclusion_saved", subject=visit_id,
                       detail={"conclusion_id": conclusion_id, "replaces": form["replaces"] or None})
    except FieldappError as problem:
        log.info("conclusion of visit %s rejected: %s", visit_id, problem.code)
        status = 409 if problem.code == "conclusion_not_current" else 400
        return _render_visit(db, found_visit, form, {SAVE_PROBLEM_FIELDS.get(problem.code, "form"): problem}, status)
    sheets.draw_ahead(db, found_visit)
    flash(_("Đã lưu kết luận."), "info")
    return redirect(url_for(".visit", visit_id=visit_id))


@bp.post("/visit/<visit_id>/finish")
@auth.require_role(*ROLES)
def finish(visit_id: str):
    """Mark the doctor's task done once a conclusion is saved, and open the result sheet."""
    db = get_db()
    found_visit = _visit_or_404(db, visit_id)
    current = conclusions.current(db, visit_id)
    task = _doctor_task(db, visit_id)
    problem = None
    if current is None:
        problem = FieldappError("doctor_conclusion_missing")
    elif found_visit["plan_kind"] == "worker" and not current["health_class"]:
        problem = FieldappError("doctor_health_class_missing")
    elif task is not None and task["status"] == "waiting":
        problem = FieldappError("doctor_task_not_called", value=found_visit["queue_number"])
    if problem is not None:
        flash(f"{problem.message} {problem.hint}", "error")
        return redirect(url_for(".visit", visit_id=visit_id))

    if task is not None and task["status"] in ("called", "in_service"):
        try:
            queueing.done(db, task["id"])
        except queueing.QueueError as error:
            # Someone else finished or moved the task a moment ago; the conclusion is saved either way.
            log.info("doctor task %s of visit %s not finished: %s", task["id"], visit_id, error)
        _audit("doctor_finished", visit_id, {"task_id": task["id"]})
    flash(_("Số %(number)s: đã hoàn tất khám.", number=found_visit["queue_number"]), "info")
    return redirect(_routed_path(SHEET_RULE, visit_id=visit_id) or url_for(".visit", visit_id=visit_id))


def _versions(db, visit_id: str) -> list[dict]:
    names = dict(db.execute("SELECT id, display_name FROM staff").fetchall())
    versions = []
    for row in reversed(conclusions.history(db, visit_id)):
        recorded = dt.datetime.fromisoformat(row["recorded_at"]).astimezone()
        versions.append({**row, "when": recorded.strftime("%H:%M %d/%m/%Y"), "by": names.get(row["staff_id"], "—")})
    return versions


# ICD-10 search.

@bp.get("/icd10")
@auth.require_role(*ROLES)
def icd10_search():
    # The query is a disease name or code, never personal data, so it may travel in the URL.
    query = request.args.get("q", "")[:100]
    code_list = _code_list()
    found, count = icd10.search(code_list, query)
    return render("doctor/icd10.html", "doctor/_icd10_results.html", query=query, found=found, count=count,
                  code_list=code_list)


# Advice templates.

def _template_or_404(db, template_id: str) -> dict:
    template = advice.get(db, template_id)
    if template is None:
        abort(404)
    return template


@bp.get("/advice-templates")
@auth.require_role(*ROLES)
def templates():
    db = get_db()
    _seed_templates(db)
    return render("doctor/templates.html", templates=advice.templates(db, include_inactive=True), problem=None,
                  form={})


@bp.post("/advice-templates")
@auth.require_role(*ROLES)
def add_template():
    db = get_db()
    form = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
    try:
        with write(db):
            template_id = advice.add(db, form["title"], form["body"])
            auth.audit(db, "advice_template_added", subject=template_id)
    except FieldappError as problem:
        return render("doctor/templates.html", status=400, templates=advice.templates(db, include_inactive=True),
                      problem=problem, form=form)
    flash(_("Đã thêm mẫu lời khuyên."), "info")
    return redirect(url_for(".templates"))


@bp.get("/advice-templates/<template_id>")
@auth.require_role(*ROLES)
def edit_template(template_id: str):
    template = _template_or_404(get_db(), template_id)
    return render("doctor/template.html", template=template, form=template, problem=None)


@bp.post("/advice-templates/<template_id>")
@auth.require_role(*ROLES)
def update_template(template_id: str):
    db = get_db()
    template = _template_or_404(db, template_id)
    form = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
    try:
        with write(db):
            advice.update(db, template_id, form["title"], form["body"])
            auth.audit(db, "advice_template_updated", subject=template_id)
    except FieldappError as problem:
        return render("doctor/template.html", status=400, template=template, form=form, problem=problem)
    flash(_("Đã lưu mẫu lời khuyên."), "info")
    return redirect(url_for(".templates"))


@bp.post("/advice-templates/<template_id>/active")
@auth.require_role(*ROLES)
def set_template_active(template_id: str):
    db = get_db()
    _template_or_404(db, template_id)
    active = request.form.get("active") == "1"
    with write(db):
        advice.set_active(db, template_id, active)
        auth.audit(db, "advice_template_shown" if active else "advice_template_hidden", subject=template_id)
    return redirect(url_for(".templates"))
