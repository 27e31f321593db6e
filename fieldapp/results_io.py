"""Results typed later: import values from a CSV or Excel file, export every stored and derived value.

A results file has the columns person_id, item and value, and optionally unit, measured_at and
reading. Each row goes through the same parsing and checks as the phone form. Rows that fail are
left out and listed with their row number and reason. The rest are stored in one transaction, so a
crash leaves either the whole file's good rows or none. A value that the form would have asked to
confirm is stored and listed as a warning, because a lab sheet cannot be asked.
"""

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import clinical, observations, results
from .db import new_id, now, write
from .errors import FieldappError, FileProblem, render
from .spreadsheet import read_workbook
from .text import fold

REQUIRED = ("person_id", "item", "value")
OPTIONAL = ("unit", "measured_at", "reading")
EXPORT_COLUMNS = ("person_id", "item", "value", "unit", "flag", "class")

@dataclass
class RowProblem:
    row: int
    code: str
    message: str


@dataclass
class ImportReport:
    """The outcome of a results file: values stored, values already there, corrections, visits made, rows left out."""

    file_name: str
    stored: int = 0
    unchanged: int = 0
    corrected: int = 0
    visits_created: int = 0
    refused: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


def _header_index(rows: list[tuple[int, list[object]]], file_name: str) -> tuple[int, dict[str, int]]:
    """Return the position of the header row and each known column's index."""
    best: tuple[int, dict[str, int]] | None = None
    for position, (_, cells) in enumerate(rows[:20]):
        names = {fold(str(cell or "")).strip().replace(" ", "_"): index for index, cell in enumerate(cells)}
        found = {name: names[name] for name in REQUIRED + OPTIONAL if name in names}
        if best is None or len(found) > len(best[1]):
            best = (position, found)
    position, found = best or (0, {})
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise FileProblem("results_columns_missing", file=file_name, value=", ".join(missing))
    return position, found


def _cell(cells: list[object], index: int | None) -> str:
    if index is None or index >= len(cells) or cells[index] is None:
        return ""
    value = cells[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).strip()


def parse_measured_at(text: str) -> str | None:
    """Return an ISO timestamp from yyyy-mm-dd[ hh:mm] or dd/mm/yyyy[ hh:mm], or None when unreadable."""
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M",
                   "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, layout).isoformat(timespec="seconds")
        except ValueError:
            continue
    return None


def current_round(db: sqlite_utils.Database, day: str) -> dict:
    """Return the round whose dates include the day, else the round created last."""
    cursor = db.execute("SELECT r.* FROM exam_round AS r ORDER BY r.created_at DESC")
    names = [c[0] for c in cursor.description]
    rounds = [dict(zip(names, row)) for row in cursor.fetchall()]
    if not rounds:
        raise FieldappError("results_no_round")
    for round_ in rounds:
        site_dates = db.execute("SELECT dates FROM site WHERE round_id = ?", [round_["id"]]).fetchall()
        if any(day in json.loads(dates) for (dates,) in site_dates):
            return round_
    return rounds[0]


def visit_for(db: sqlite_utils.Database, person_id: str, day: str, report: ImportReport) -> dict:
    """Return the person's visit in the current round, creating one on the measurement day if there is none.

    A visit made here has no consent and no queue tasks: the values came from a lab or a paper
    form, and the person is not waiting at the site.
    """
    round_ = current_round(db, day)
    cursor = db.execute("SELECT * FROM visit WHERE person_id = ? AND round_id = ? ORDER BY day DESC",
                        [person_id, round_["id"]])
    row = cursor.fetchone()
    if row is not None:
        return dict(zip([c[0] for c in cursor.description], row))

    site_id = _site_of(db, round_["id"], person_id)
    queue_number = db.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visit WHERE site_id = ? AND day = ?",
                              [site_id, day]).fetchone()[0]
    person = db.execute("SELECT birth_date, groups FROM person WHERE id = ?", [person_id]).fetchone()
    from .visits import plan_for

    kind, _ = plan_for(db, round_["id"], {"birth_date": person[0], "groups": person[1]}, day)
    visit = {"id": new_id(), "round_id": round_["id"], "site_id": site_id, "person_id": person_id,
             "invitation_id": None, "day": day, "checked_in_at": now(), "queue_number": queue_number,
             "plan_kind": kind}
    db["visit"].insert(visit)
    report.visits_created += 1
    return visit


def _site_of(db: sqlite_utils.Database, round_id: str, person_id: str) -> str:
    """Return the site of the person's active invitation in the round, else the round's first site."""
    row = db.execute("SELECT site_id FROM invitation WHERE round_id = ? AND person_id = ? AND status = 'active' "
                     "AND site_id IS NOT NULL", [round_id, person_id]).fetchone()
    if row is not None:
        return row[0]
    return db.execute("SELECT id FROM site WHERE round_id = ? ORDER BY rowid LIMIT 1", [round_id]).fetchone()[0]


@dataclass
class _Row:
    number: int
    person_id: str
    item: str
    raw_value: str
    unit: str
    measured_at: str
    reading: str


def _rows_of(path: Path, display_name: str | None) -> tuple[str, list[_Row]]:
    workbook = read_workbook(path, display_name)
    rows = workbook.sheets[0].rows if workbook.sheets else []
    if not rows:
        raise FileProblem("file_empty", file=workbook.file_name)
    position, columns = _header_index(rows, workbook.file_name)
    parsed = []
    for number, cells in rows[position + 1:]:
        values = {name: _cell(cells, columns.get(name)) for name in REQUIRED + OPTIONAL}
        if not any(values.values()):
            continue
        parsed.append(_Row(number, values["person_id"], values["item"], values["value"], values["unit"],
                           values["measured_at"], values["reading"]))
    return workbook.file_name, parsed


def import_results(db: sqlite_utils.Database, path: Path, display_name: str | None = None,
                   today: dt.date | None = None) -> ImportReport:
    """Store the values of a results file and return what happened to each row."""
    file_name, rows = _rows_of(path, display_name)
    report = ImportReport(file_name)
    today = today or dt.date.today()
    readings_seen: dict[tuple[str, str], int] = {}

    with write(db):
        for row in rows:
            problem = _store_row(db, row, report, today, readings_seen)
            if problem is not None:
                report.refused.append(problem)
    return report


def _problem(row: _Row, code: str, value: object) -> RowProblem:
    return RowProblem(row.number, code, render(code, row=row.number, value=value))


def _store_row(db: sqlite_utils.Database, row: _Row, report: ImportReport, today: dt.date,
               readings_seen: dict) -> RowProblem | None:
    """Check one row and store its value; return the reason when the row is left out."""
    person = db.execute("SELECT id FROM person WHERE id = ?", [row.person_id]).fetchone()
    if person is None:
        return _problem(row, "results_person_unknown", row.person_id or "(trống)")
    item = clinical.catalogue().get(row.item.strip())
    if item is None:
        return _problem(row, "results_item_unknown", row.item)
    if item.derived:
        return _problem(row, "results_item_derived", row.item)

    measured_at = parse_measured_at(row.measured_at) if row.measured_at else today.isoformat() + "T00:00:00"
    if measured_at is None:
        return _problem(row, "results_date_invalid", row.measured_at)

    # A stated unit goes through the form's own reading, which converts mg/dL, °F, metres and grams.
    parsed = clinical.parse(item.code, f"{row.raw_value} {row.unit}".strip())
    if parsed.error and row.unit and not clinical.parse(item.code, row.raw_value).error:
        return _problem(row, "results_unit_wrong", row.unit)
    if parsed.error:
        return _problem(row, "results_value_refused", parsed.error)
    # "120/80" in a blood-pressure row gives both readings; they are stored together or not at all.
    values = {item.code: parsed.value, **parsed.others}

    visit = visit_for(db, row.person_id, measured_at[:10], report)
    subject = results.subject_of(db, visit)
    verdicts = _verdicts(values, subject)
    refused = [verdict for verdict in verdicts.values() if verdict.level == "refuse"]
    if refused:
        return _problem(row, "results_value_refused", _with_hints(refused[0]))
    for verdict in verdicts.values():
        if verdict.level == "confirm":
            report.warnings.append(_problem(row, "results_value_refused", _with_hints(verdict)))

    reading = _reading(row, item, readings_seen)
    if reading is None:
        return _problem(row, "results_value_refused", row.reading)
    for code, value in values.items():
        _store_value(db, visit, code, value, reading, verdicts[code].level == "confirm", measured_at,
                     f"{report.file_name}, dòng {row.number}", report)
    return None


def _verdicts(values: dict, subject) -> dict:
    """Check each value; a systolic and diastolic pair is checked together, which catches cmHg ("12/8")."""
    verdicts = {code: clinical.check(code, value, subject) for code, value in values.items()}
    if "bp_systolic" in values and "bp_diastolic" in values:
        pair = clinical.check_blood_pressure(values["bp_systolic"], values["bp_diastolic"], subject)
        if pair.level != "accept":
            verdicts["bp_systolic"] = pair
    return verdicts


def _with_hints(verdict) -> str:
    """Return the verdict's message followed by its unit-slip hints, which a file cannot offer as buttons."""
    return " ".join([str(verdict.message)] + [str(hint.message) for hint in verdict.hints])


def _store_value(db: sqlite_utils.Database, visit: dict, code: str, value, reading: int, confirmed: bool,
                 measured_at: str, reason: str, report: ImportReport) -> None:
    before = observations.current_row(db, visit["id"], code, reading)
    stored_id = observations.record(db, visit, code, value, reading=reading, unit=clinical.get(code).unit,
                                    confirmed=confirmed, source="import", measured_at=measured_at, reason=reason)
    if before is None:
        report.stored += 1
    elif before["id"] == stored_id:
        report.unchanged += 1
    else:
        report.corrected += 1


def _reading(row: _Row, item, readings_seen: dict) -> int | None:
    """Return the reading number: the reading column, or the next one for a repeated item in the file."""
    if row.reading:
        return int(row.reading) if row.reading.isdigit() and 1 <= int(row.reading) <= item.readings else None
    key = (row.person_id, item.code)
    readings_seen[key] = min(readings_seen.get(key, 0) + 1, item.readings)
    return readings_seen[key]


def export_results(db: sqlite_utils.Database, out: Path, round_id: str | None = None) -> int:
    """Write person_id, item, value, unit, flag and class for every current and derived value; return rows."""
    sql = "SELECT * FROM visit WHERE id IN (SELECT DISTINCT visit_id FROM observation)"
    params: list = []
    if round_id is not None:
        sql += " AND round_id = ?"
        params.append(round_id)
    cursor = db.execute(sql + " ORDER BY day, queue_number", params)
    names = [c[0] for c in cursor.description]
    visits = [dict(zip(names, row)) for row in cursor.fetchall()]

    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for visit in visits:
            for result in sorted(results.visit_results(db, visit), key=lambda r: (r.item, r.reading)):
                writer.writerow([visit["person_id"], result.item, _plain(result.value), result.unit or "",
                                 result.flag or "", result.class_code or ""])
                count += 1
    return count


def _plain(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value
