"""The follow-up page and its Excel export, filtered by round and exam days. Every view is audited."""

import io

from flask import Blueprint, abort, g, request, send_file

from . import auth
from .db import get_db, write
from .followup import Filter, follow_up_list, parse_day, write_xlsx
from .sheet_views import SHEET_ROLES
from .web import render

bp = Blueprint("followup", __name__, url_prefix="/followup")
FOLLOWUP_ROLES = ("doctor", "coordinator")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rounds(db) -> list[dict]:
    rows = db.execute("SELECT id, name FROM exam_round ORDER BY start_date DESC, name").fetchall()
    return [{"id": row[0], "name": row[1]} for row in rows]


def _filter(rounds: list[dict]) -> Filter:
    """Read the filter from the query string: ?round= (empty: every round; absent: the latest), ?from=, ?to=."""
    if "round" in request.args:
        round_id = request.args["round"] or None
    else:
        round_id = rounds[0]["id"] if rounds else None
    if round_id and round_id not in {item["id"] for item in rounds}:
        abort(404)
    return Filter(round_id, parse_day(request.args.get("from")), parse_day(request.args.get("to")))


def _audit(action: str, chosen: Filter, entries: list) -> None:
    db = get_db()
    with write(db):
        auth.audit(db, action, subject=chosen.round_id,
                   detail={"day_from": chosen.day_from, "day_to": chosen.day_to,
                           "visits": [entry.visit_id for entry in entries]})


@bp.get("/")
@auth.require_role(*FOLLOWUP_ROLES)
def index():
    db = get_db()
    rounds = _rounds(db)
    chosen = _filter(rounds)

    entries = follow_up_list(db, chosen)

    _audit("followup_viewed", chosen, entries)
    sheets_allowed = g.staff["role"] in (*SHEET_ROLES, "site_admin")
    return render("followup/index.html", entries=entries, rounds=rounds, chosen=chosen, sheets_allowed=sheets_allowed)


@bp.get("/export.xlsx")
@auth.require_role(*FOLLOWUP_ROLES)
def export():
    db = get_db()
    chosen = _filter(_rounds(db))

    entries = follow_up_list(db, chosen)
    buffer = io.BytesIO()
    write_xlsx(entries, buffer)

    _audit("followup_exported", chosen, entries)
    buffer.seek(0)
    response = send_file(buffer, mimetype=XLSX, as_attachment=True, download_name="can-theo-doi.xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response
