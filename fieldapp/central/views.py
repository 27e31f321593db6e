"""Pages of the central store for ward staff: coverage with the not-yet-examined list, findings with charts, follow-up.

Pages are for the ward's site admins and coordinators. Lists with names are audited (ids only). The
year's data is read from the record store once and kept until a batch arrives or a review decision
links people differently (ward_for, forget_wards).
"""

import datetime as dt
import io

from flask import Blueprint, abort, current_app, request, send_file
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import auth
from ..db import get_db, write
from ..followup import write_xlsx
from ..groups import GROUPS
from ..web import render
from . import central_engine, charts, excel, reports, review, tables
from .schema import batch, review_decision
from .ward import Ward, load

bp = Blueprint("central", __name__, url_prefix="/central")
REPORT_ROLES = ("coordinator",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
# Rows of the not-yet-examined list shown on the page; the CSV download has all of them.
SHOWN_ROWS = 300
EXTENSION = "central_reports"


def ward_for(year: int) -> Ward:
    """Return the year's ward, read again only after the store applied a batch or forget_wards dropped it."""
    state = current_app.extensions.setdefault(EXTENSION, {})
    with central_engine(current_app).connect() as connection:
        # Batches and review decisions change a ward. Both are read from the store, so a report served by
        # another worker process (central serve --workers) reflects a change made in this one.
        stamp = connection.execute(select(func.count(), func.max(batch.c.received_at))).one()
        decided = connection.execute(select(func.count(), func.max(review_decision.c.decided_at))).one()
        key = (year, tuple(stamp), tuple(decided))
        cached = state.get("wards", {})
        if key not in cached:
            # Only the latest read per year is kept, because a ward contains every person of the store.
            cached = {k: v for k, v in cached.items() if k[0] != year}
            cached[key] = load(connection, year)
            state["wards"] = cached
    return cached[key]


def forget_wards(app) -> None:
    """Drop the wards kept by ward_for in this process, after a review decision.

    ward_for would read the ward again anyway, because the decision changes its stamp; dropping it
    frees the memory at once.
    """
    app.extensions.get(EXTENSION, {}).pop("wards", None)


def _year() -> int:
    text = request.args.get("year", "").strip()
    if not text:
        return dt.date.today().year
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        abort(404)
    return int(text)


def _by(allowed: tuple[str, ...] = tuple(reports.DIMENSIONS)) -> str:
    by = request.args.get("by") or "group"
    if by not in allowed:
        abort(404)
    return by


def _filter() -> reports.Filter:
    """Read ?group=1-8, ?tdp=, ?school=, ?class= from the query string; empty means any."""
    group = request.args.get("group", "").strip()
    if group and not (group.isdigit() and int(group) in GROUPS):
        abort(404)
    return reports.Filter(group=int(group) if group else None, tdp=request.args.get("tdp") or None,
                          school=request.args.get("school") or None, class_name=request.args.get("class") or None)


def _query(year: int, by: str, chosen: reports.Filter) -> dict:
    """Return the page's query as URL arguments, for links that keep the filter."""
    return {"year": year, "by": by, "group": chosen.group or "", "tdp": chosen.tdp or "",
            "school": chosen.school or "", "class": chosen.class_name or ""}


def _choices(ward: Ward) -> dict:
    """Return the filter's options: the residential groups, schools and classes in the store."""
    tdps = sorted({person.tdp for person in ward.people if person.tdp}, key=lambda tdp: reports.natural_key(tdp))
    schools = sorted({person.school for person in ward.people if person.school})
    classes = sorted({person.class_name for person in ward.people if person.class_name}, key=reports.natural_key)
    return {"groups": GROUPS, "tdps": [(tdp, reports.area_label(tdp)) for tdp in tdps], "schools": schools,
            "classes": classes, "dimensions": reports.DIMENSIONS, "area_label": reports.area_label}


def _audit(action: str, year: int, chosen: reports.Filter, **detail) -> None:
    db = get_db()
    with write(db):
        auth.audit(db, action, detail={"year": year, "group": chosen.group, "tdp": chosen.tdp,
                                       "school": chosen.school, "class": chosen.class_name, **detail})


def _download(data: bytes, mimetype: str, name: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@auth.require_role(*REPORT_ROLES)
def index():
    with central_engine(current_app).connect() as connection:
        review_waiting = review.waiting_count(connection)
    return render("central/index.html", review_waiting=review_waiting)


@bp.get("/coverage")
@auth.require_role(*REPORT_ROLES)
def coverage():
    year, by, chosen = _year(), _by(), _filter()
    ward = ward_for(year)

    rows, total = reports.coverage(ward, by, chosen)
    waiting = reports.not_examined(ward, chosen)
    labels = {"examined": _("Đã khám"), "invited": _("Đã mời, chưa khám"), "not_invited": _("Chưa mời, chưa khám")}
    chart = charts.coverage_chart(rows, total, _("Độ bao phủ theo %(dimension)s", dimension=reports.DIMENSIONS[by]),
                                  labels)

    _audit("central_coverage_viewed", year, chosen, people=len(waiting[:SHOWN_ROWS]))
    return render("central/coverage.html", year=year, by=by, chosen=chosen, rows=rows, total=total, chart=chart,
                  waiting=waiting[:SHOWN_ROWS], waiting_count=len(waiting), query=_query(year, by, chosen),
                  **_choices(ward))


@bp.get("/coverage.csv")
@auth.require_role(*REPORT_ROLES)
def coverage_csv():
    year, by, chosen = _year(), _by(), _filter()

    rows, total = reports.coverage(ward_for(year), by, chosen)

    data = tables.csv_bytes(tables.coverage_columns(by), tables.coverage_rows(rows, total))
    return _download(data, CSV, f"bao-phu-{year}-{by}.csv")


@bp.get("/not-examined.csv")
@auth.require_role(*REPORT_ROLES)
def not_examined_csv():
    year, chosen = _year(), _filter()

    people = reports.not_examined(ward_for(year), chosen)

    _audit("central_not_examined_exported", year, chosen, people=len(people))
    data = tables.csv_bytes(tables.NOT_EXAMINED_COLUMNS, tables.not_examined_rows(people),
                            tables.list_title(year, chosen))
    return _download(data, CSV, f"chua-kham-{year}.csv")


@bp.get("/findings")
@auth.require_role(*REPORT_ROLES)
def findings():
    year, by, chosen = _year(), _by(tables.FINDING_DIMENSIONS), _filter()
    ward = ward_for(year)

    found = reports.findings(ward, by, chosen)
    pictures = {table.category.code: charts.findings_chart(table, str(table.category.label))
                for table in found if table.total.measured}

    return render("central/findings.html", year=year, by=by, chosen=chosen, tables=found, pictures=pictures,
                  query=_query(year, by, chosen), finding_dimensions=tables.FINDING_DIMENSIONS, **_choices(ward))


@bp.get("/findings.csv")
@auth.require_role(*REPORT_ROLES)
def findings_csv():
    year, by, chosen = _year(), _by(tables.FINDING_DIMENSIONS), _filter()
    code = request.args.get("category", "")
    table = next((table for table in reports.findings(ward_for(year), by, chosen) if table.category.code == code), None)
    if table is None:
        abort(404)

    data = tables.csv_bytes(tables.finding_columns(table, by), tables.finding_rows(table))
    return _download(data, CSV, f"ket-qua-{code}-{year}-{by}.csv")


@bp.get("/followup")
@auth.require_role(*REPORT_ROLES)
def followup():
    year, chosen = _year(), _filter()
    ward = ward_for(year)

    entries = reports.follow_up(ward, chosen)

    _audit("central_followup_viewed", year, chosen, visits=[entry.visit_id for entry in entries])
    return render("central/followup.html", year=year, chosen=chosen, entries=entries,
                  query=_query(year, "group", chosen), **_choices(ward))


@bp.get("/followup.xlsx")
@auth.require_role(*REPORT_ROLES)
def followup_xlsx():
    year, chosen = _year(), _filter()

    entries = reports.follow_up(ward_for(year), chosen)
    buffer = io.BytesIO()
    write_xlsx(entries, buffer)

    _audit("central_followup_exported", year, chosen, visits=[entry.visit_id for entry in entries])
    return _download(buffer.getvalue(), XLSX, f"can-theo-doi-{year}.xlsx")


@bp.get("/report.xlsx")
@auth.require_role(*REPORT_ROLES)
def report_xlsx():
    year = _year()

    ward = ward_for(year)
    buffer = io.BytesIO()
    excel.write_report(ward, buffer)

    _audit("central_report_exported", year, reports.Filter())
    return _download(buffer.getvalue(), XLSX, f"bao-cao-kham-suc-khoe-{year}.xlsx")
