"""Roster pages: the list of people with search and groups, and one person with the rows behind them."""

import json

from flask import Blueprint, abort, request

from . import auth
from .db import get_db, write
from .errors import render as render_message
from .exports import PEOPLE_COLUMNS, people_rows
from .groups import GROUPS, parse_groups
from .roster import search_people
from .web import render, send_xlsx

bp = Blueprint("roster", __name__, url_prefix="/roster")
PAGE_SIZE = 100


# Searches are POSTed: a name or ID number typed into the box must not end up in a URL,
# where browser history on a shared phone and server logs would keep it.
@bp.route("/", methods=["GET", "POST"])
def index():
    query = request.form.get("q", "").strip()[:100]
    group = request.values.get("group", type=int)
    page = min(max(request.values.get("page", 1, type=int), 1), 100_000)
    db = get_db()

    total, people = search_people(db, query, group if group in GROUPS else None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    counts = {number: 0 for number in GROUPS}
    for (groups,) in db.execute("SELECT groups FROM person").fetchall():
        for number in parse_groups(groups):
            counts[number] += 1
    everyone = db.execute("SELECT count(*) FROM person").fetchone()[0]
    reviews = db.execute("SELECT count(*) FROM review_pair").fetchone()[0]

    return render(
        "roster/index.html",
        "roster/_table.html",
        people=people,
        total=total,
        everyone=everyone,
        reviews=reviews,
        query=query,
        group=group,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        counts=counts,
        groups=GROUPS,
    )


@bp.get("/<person_id>")
def person(person_id: str):
    db = get_db()
    cursor = db.execute("SELECT * FROM person WHERE id = ?", [person_id])
    row = cursor.fetchone()
    if row is None:
        abort(404)
    found = dict(zip([column[0] for column in cursor.description], row))

    rows = db.execute(
        "SELECT file_name, sheet, row_no, full_name, birth_date, cccd, phone, legacy, warnings FROM source_row "
        "WHERE person_id = ? ORDER BY file_name, sheet, row_no",
        [person_id],
    ).fetchall()
    sources = [
        {
            "file": r[0], "sheet": r[1], "row": r[2], "full_name": r[3], "birth_date": r[4], "cccd": r[5],
            "phone": r[6], "legacy": r[7],
            "warnings": [render_message(code, value=value) for code, value in json.loads(r[8])],
        }
        for r in rows
    ]
    with write(db):
        auth.audit(db, "view_person", subject=person_id)
    return render("roster/person.html", person=found, sources=sources, groups=GROUPS, person_groups=parse_groups(found["groups"]))


@bp.get("/export.xlsx")
@auth.require_role("coordinator")
def export():
    db = get_db()
    with write(db):
        auth.audit(db, "export_people")
    return send_xlsx(PEOPLE_COLUMNS, people_rows(db), "danh-sach-nguoi.xlsx")
