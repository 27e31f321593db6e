"""Station entry forms on phones: values checked as typed and on save, stored as observations, corrected with a reason.

The form of a station lists the rows the visit's plan needs there (fieldapp/entry_form.py). Saving
stores every row whose values pass, in one transaction, and re-renders the rest with their
messages. A value outside the plausible range is refused, an unusual one needs a confirmation tap,
and abnormal ones show their band once saved. A red flag in the visit's results (for example a
blood pressure of 180/120 or more) makes the visit an emergency in the queue, so the coordinator's screen
lists it at once. Every view and change of the values is audited.
"""

import datetime as dt
import json
import logging

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from . import auth, clinical, observations, queueing, results
from .birthdates import parse_iso
from .clinical.numbers import unit_label
from .db import get_db, write
from .entry_form import (
    ENTRY_STATIONS,
    REASON_LABELS,
    REASONS,
    Problem,
    Row,
    RowResult,
    apply_fix,
    check_row,
    fix_value,
    needs_third_reading,
    row_views,
    shown,
    station_rows,
    value_text,
)
from .errors import FieldappError
from .queueing.store import fetch_all, fetch_one
from .rounds import station_plans
from .station_views import OTHER_PREFIX, RED_FLAGS
from .stationplans import default_plan, needs_fasting
from .visits import get_visit

bp = Blueprint("entry", __name__, url_prefix="/entry")
log = logging.getLogger(__name__)
ENTRY_ROLES = ("station", "doctor")
# Children under this age show their age in months, as growth charts read it.
AGE_IN_MONTHS_BELOW = 60
LIVE_ITEMS = ("bmi", "bp_systolic_mean", "bp_diastolic_mean")
STATION_LABELS = {
    "measure": _l("Cân đo"), "blood_pressure": _l("Huyết áp, mạch"), "glucose": _l("Đường huyết"),
    "vision": _l("Thị lực"), "dental": _l("Răng hàm mặt"), "ent": _l("Tai mũi họng"), "exam": _l("Khám lâm sàng"),
    "lab": _l("Xét nghiệm"),
}


@bp.app_context_processor
def _entry_stations() -> dict:
    # The desk screen shows its "Nhập kết quả" button only at these station types.
    return {"entry_stations": ENTRY_STATIONS}


@bp.app_template_filter("entry_time")
def _entry_time(stamp: str | None) -> str:
    """Show a stored UTC time as HH:MM dd/mm/yyyy on the laptop's clock."""
    if not stamp:
        return "—"
    return dt.datetime.fromisoformat(stamp).astimezone().strftime("%H:%M %d/%m/%Y")


# Reading the visit.

def _context(db, visit_id: str, station: str) -> dict:
    """Return the visit, the person, the clinical subject and the rows of this station, or abort 404."""
    visit = get_visit(db, visit_id)
    if visit is None or station not in ENTRY_STATIONS:
        abort(404)
    person = fetch_one(db, "SELECT id, full_name, birth_date, sex FROM person WHERE id = ?", [visit["person_id"]])
    subject = results.subject_of(db, visit)
    plan = station_plans(db, visit["round_id"]).get(visit["plan_kind"]) if visit["round_id"] else None
    plan = plan or default_plan(visit["plan_kind"])
    rows = station_rows(plan, station, subject)
    stations = [code for code in ENTRY_STATIONS if code == station or station_rows(plan, code, subject)]
    return {"visit": visit, "person": person or {}, "subject": subject, "plan": plan, "station": station,
            "rows": rows, "stations": stations, "age": _age_text(person or {}, visit["day"], subject)}


def _age_text(person: dict, day: str, subject: clinical.Person) -> str:
    months = subject.age_months
    if months is not None and months < AGE_IN_MONTHS_BELOW:
        return _("%(months)s tháng tuổi", months=int(months))
    if not person.get("birth_date"):
        return _("chưa rõ tuổi")
    return _("%(years)s tuổi", years=parse_iso(person["birth_date"]).age_on(dt.date.fromisoformat(day)))


def _saved(db, visit: dict) -> dict:
    """Return the current values by (item, reading), their results, and the summaries the page shows."""
    current = {(row["item"], row["reading"]): row for row in observations.current(db, visit["id"])}
    found = results.visit_results(db, visit)
    by_key = {(result.item, result.reading): result for result in found}
    red_labels = []
    for result in results.red_flags(found):
        label = _red_flag_label(_triage_code(result))
        if label not in red_labels:
            red_labels.append(label)
    return {"current": current, "results": by_key, "derived": [r for r in found if r.derived],
            "red_labels": red_labels, "bp_mean": _bp_mean(by_key), "third_needed": _third_needed(current)}


def _bp_mean(by_key: dict) -> dict | None:
    """Return the mean pressure with its band; fieldapp/results.py classifies the two means together."""
    systolic, diastolic = by_key.get(("bp_systolic_mean", 0)), by_key.get(("bp_diastolic_mean", 0))
    if systolic is None or diastolic is None:
        return None
    return {"systolic": systolic.value, "diastolic": diastolic.value, "flag": systolic.flag,
            "label": systolic.class_label}


def _third_needed(current: dict) -> bool:
    pairs = []
    for reading in (1, 2):
        systolic, diastolic = current.get(("bp_systolic", reading)), current.get(("bp_diastolic", reading))
        if systolic is None or diastolic is None:
            return False
        pairs.append((systolic["value_num"], diastolic["value_num"]))
    return needs_third_reading(*pairs) and ("bp_systolic", 3) not in current


def _desk_task(db, visit_id: str, station: str) -> dict | None:
    """Return the visit's task called to or in service at a desk of this station type, or None."""
    return fetch_one(db, """SELECT task.id, task.desk_id FROM task
                            JOIN station_type ON station_type.id = task.station_type_id
                            WHERE task.visit_id = ? AND station_type.code = ? AND task.desk_id IS NOT NULL
                              AND task.status IN ('called', 'in_service')""", [visit_id, station])


def _page(db, context: dict, status: int = 200, checked: dict | None = None, edit: Row | None = None,
          problem: FieldappError | None = None):
    saved = _saved(db, context["visit"])
    emergency = db.execute("SELECT 1 FROM task WHERE visit_id = ? AND priority = 'emergency'",
                           [context["visit"]["id"]]).fetchone() is not None
    rows = [edit] if edit is not None else context["rows"]
    views = row_views(rows, saved["current"], saved["results"], checked or {}, edit,
                      request.form.get("glucose.item"), needs_fasting(context["plan"]))
    # The third blood pressure reading waits hidden until the first two differ by more than 10 mmHg.
    needs_save = any(not view.stored and not (view.row.third and not saved["third_needed"]) for view in views)
    # BMI and the blood pressure means have their own live lines; the z-scores are listed under the form.
    station_derived = [item.code for item in clinical.items_for_plan(context["plan"], context["subject"], derived=True)
                       if item.station == context["station"] and item.code not in LIVE_ITEMS]
    return render_template("entry/form.html", **context, **saved, row_views=views, edit=edit, checked=checked or {},
                           emergency=emergency, task=_desk_task(db, context["visit"]["id"], context["station"]),
                           reason_labels=REASON_LABELS, value_text=value_text, fix_value=fix_value, shown=shown,
                           unit_label=unit_label, catalogue=clinical.catalogue(),
                           station_labels=STATION_LABELS, live=_live_boxes(context, saved),
                           station_derived=station_derived, needs_save=needs_save, problem=problem), status


def _live_boxes(context: dict, saved: dict) -> dict:
    """Return which live summaries the station shows: the blood pressure mean and the BMI."""
    codes = {each.item.code for row in context["rows"] for each in row.fields}
    bmi = saved["results"].get(("bmi", 0))
    return {"bp": "bp_systolic" in codes,
            "bmi": "weight_kg" in codes and bool({"height_cm", "length_cm"} & codes),
            "bmi_value": bmi, "bmi_item": clinical.get("bmi")}


def _edit_row(context: dict, key: str | None) -> Row | None:
    if not key:
        return None
    row = next((row for row in context["rows"] if row.key == key), None)
    if row is None:
        abort(404)
    return row


def _audit(db, action: str, visit_id: str, detail: dict) -> None:
    with write(db):
        auth.audit(db, action, subject=visit_id, detail=detail)


# Pages.

@bp.get("/visit/<visit_id>/<station_code>")
@auth.require_role(*ENTRY_ROLES)
def form(visit_id: str, station_code: str):
    db = get_db()
    context = _context(db, visit_id, station_code)
    edit = _edit_row(context, request.args.get("edit"))
    _audit(db, "observations_viewed", visit_id, {"station": station_code})
    return _page(db, context, edit=edit)


@bp.post("/visit/<visit_id>/<station_code>/check")
@auth.require_role(*ENTRY_ROLES)
def check(visit_id: str, station_code: str):
    """Return the messages of one row as typed so far, for the page to show beside it; nothing is stored."""
    db = get_db()
    context = _context(db, visit_id, station_code)
    row = next((row for row in context["rows"] if row.key == request.form.get("group")), None)
    if row is None:
        abort(404)
    result = check_row(row, _form_lists(), context["subject"])
    return render_template("entry/_messages.html", row=row, result=result, fix_value=fix_value)


@bp.post("/visit/<visit_id>/<station_code>")
@auth.require_role(*ENTRY_ROLES)
def save(visit_id: str, station_code: str):
    """Store every row that passes its checks; re-render the page with the others' messages."""
    db = get_db()
    context = _context(db, visit_id, station_code)
    edit = _edit_row(context, request.form.get("edit"))
    rows = [edit] if edit is not None else context["rows"]
    submitted = _form_lists()
    fix = request.form.get("fix")
    if fix:
        submitted = apply_fix(submitted, fix, {name for row in rows for name in (*row.field_names, row.key)})

    checked = {row.key: check_row(row, submitted, context["subject"]) for row in rows}
    try:
        stored = _store_and_alert(db, context["visit"], station_code, list(checked.values()), edit is not None,
                                  _reason(), submitted)
    except EmergencyNotRaised as problem:
        return _page(db, context, problem.status, checked=checked, edit=edit, problem=problem)

    pending = [result for result in checked.values() if any(p.level != "note" for p in result.problems)]
    if pending:
        refused = any(p.level == "refuse" for result in pending for p in result.problems)
        log.info("entry at visit %s, station %s: %d values stored, rows %s not stored", visit_id, station_code,
                 len(stored), [result.row.key for result in pending])
        return _page(db, context, 422 if refused else 200, checked=checked, edit=edit)
    _flash_saved(stored, edit is not None, [p.message for r in checked.values() for p in r.problems])
    if _third_needed({(row["item"], row["reading"]): row for row in observations.current(db, visit_id)}):
        flash(_("Hai lần đo huyết áp chênh nhau hơn 10 mmHg: đo lần thứ 3."), "info")
    return redirect(url_for(".form", visit_id=visit_id, station_code=station_code), 303)


def _form_lists() -> dict[str, list[str]]:
    return {name: request.form.getlist(name) for name in request.form}


def _reason() -> str:
    chosen = request.form.get("reason", "")
    if chosen in REASONS:
        return REASONS[chosen]
    return " ".join(request.form.get("reason_text", "").split())


def _flash_saved(stored: list[str], corrected: bool, notes: list) -> None:
    if corrected and stored:
        flash(_("Đã sửa kết quả. Giá trị cũ vẫn được giữ trong lịch sử."), "info")
    elif stored:
        flash(ngettext("Đã lưu %(num)s kết quả.", "Đã lưu %(num)s kết quả.", len(stored)), "info")
    for note in notes:
        flash(str(note), "info")


# Storing.

class EmergencyNotRaised(FieldappError):
    """Values with a red flag that were not stored because the visit could not be made an emergency."""

    status = 500


def _store_and_alert(db, visit: dict, station: str, checked: list[RowResult], editing: bool, reason: str,
                     submitted: dict) -> list[str]:
    """Store the rows that passed, audit them and raise a red flag to the queue, all in one transaction.

    A crash or a queue error stores either the values with their emergency or neither, so a red-flag value
    is never stored while the person waits in line as a normal visit. Returns the stored observation ids.
    Raises EmergencyNotRaised, with nothing stored, when the queue rejects the emergency.
    """
    try:
        with write(db):
            stored = _store(db, visit, checked, editing, reason, submitted)
            if stored:
                auth.audit(db, "observations_corrected" if editing else "observations_recorded", subject=visit["id"],
                           detail={"station": station, "observations": stored})
                _alert_if_red(db, visit)
    except queueing.QueueError as error:
        log.error("entry at visit %s, station %s not stored: raising the visit to emergency failed: %s",
                  visit["id"], station, error)
        raise EmergencyNotRaised("entry_emergency_failed", value=visit["queue_number"]) from error
    return stored


def _store(db, visit: dict, checked: list[RowResult], editing: bool, reason: str, submitted: dict) -> list[str]:
    """Store the rows that passed, and add a problem to each row that cannot be stored. Call it inside write(db).

    A value that already has a current version changes only in an edit: a correction, with a reason,
    of the version the page showed. The same value sent again stores nothing.
    """
    author = observations.Author(g.staff["id"], g.device_id)
    stored = []
    current = {(row["item"], row["reading"]): row for row in observations.current(db, visit["id"])}
    for result in checked:
        if not result.storable:
            continue
        changes = _changes(result, current, editing, reason, submitted)
        if changes is None:
            continue
        for each, value, existing in changes:
            unit = each.item.unit
            if existing is None:
                stored.append(observations.record(db, visit, each.item.code, value, reading=each.reading,
                                                  unit=unit, confirmed=result.confirmed, author=author))
            else:
                stored.append(observations.correct(db, existing["id"], value, reason=reason,
                                                   confirmed=result.confirmed, author=author))
    return stored


def _changes(result: RowResult, current: dict, editing: bool, reason: str, submitted: dict) -> list | None:
    """Return (field, value, version to correct or None) for each value of a row to store, or None with a problem."""
    changes = []
    for each, value in result.values.items():
        existing = current.get((each.item.code, each.reading))
        if existing is not None and observations.value_of(existing) == value:
            continue
        if existing is not None:
            shown = (submitted.get(f"replaces.{each.name}") or [""])[0]
            if not editing or shown != existing["id"]:
                problem = FieldappError("observation_not_current", value=each.item.label)
                result.problems.append(Problem("refuse", f"{problem.message} {problem.hint}"))
                return None
            if not reason:
                problem = FieldappError("observation_needs_reason", value=each.item.label)
                result.problems.append(Problem("reason", f"{problem.message} {problem.hint}"))
                return None
        changes.append((each, value, existing))
    return changes


# Emergencies.

def _alert_if_red(db, visit: dict) -> None:
    """Make the visit an emergency when its results have a red flag, keeping flags set by triage.

    Runs inside the caller's write transaction, with the values that raised the flag.
    """
    red = results.red_flags(results.visit_results(db, visit))
    if not red:
        return
    codes = []
    for result in red:
        code = _triage_code(result)
        if code not in codes:
            codes.append(code)

    tasks = fetch_all(db, "SELECT priority, red_flags FROM task WHERE visit_id = ? "
                          "AND status IN ('waiting', 'called', 'in_service')", [visit["id"]])
    known = {flag for task in tasks for flag in json.loads(task["red_flags"] or "[]")}
    if tasks and set(codes) <= known and all(task["priority"] == "emergency" for task in tasks):
        return
    flags = sorted(known) + [code for code in codes if code not in known]
    changed = queueing.triage_in_transaction(db, visit["id"], flags)
    if changed == 0 and db.execute("SELECT 1 FROM task WHERE visit_id = ?", [visit["id"]]).fetchone() is None:
        queueing.enqueue_in_transaction(db, visit["id"], "emergency", dt.datetime.now(dt.UTC))
        changed = queueing.triage_in_transaction(db, visit["id"], flags)
    log.info("visit %s raised to emergency by entered values: %s tasks", visit["id"], changed)
    auth.audit(db, "triage", subject=visit["id"], detail={"red_flags": codes, "source": "entry"})


def _triage_code(result: results.Result) -> str:
    """Return the triage red flag of a red result: a code the coordinator's screen names, or "other: <label>"."""
    code = "bp_crisis" if result.item.startswith("bp_") else result.class_code
    return code if code in RED_FLAGS else f"{OTHER_PREFIX}{result.class_label or clinical.get(result.item).label}"


def _red_flag_label(code: str) -> str:
    return str(RED_FLAGS[code]) if code in RED_FLAGS else code[len(OTHER_PREFIX):]


# History.

@bp.get("/visit/<visit_id>/history/<item>")
@auth.require_role(*ENTRY_ROLES)
def history(visit_id: str, item: str):
    db = get_db()
    visit = get_visit(db, visit_id)
    if visit is None or item not in clinical.catalogue():
        abort(404)
    found = clinical.get(item)
    versions = {reading: observations.history(db, visit_id, item, reading) for reading in range(1, found.readings + 1)}
    versions = {reading: rows for reading, rows in versions.items() if rows}
    names = {row["id"]: row["display_name"] for row in fetch_all(db, "SELECT id, display_name FROM staff", [])}
    person = fetch_one(db, "SELECT full_name FROM person WHERE id = ?", [visit["person_id"]]) or {}
    _audit(db, "observation_history_viewed", visit_id, {"item": item})
    return render_template("entry/history.html", visit=visit, person=person, item=found, versions=versions,
                           names=names, shown=shown, station=found.station)
