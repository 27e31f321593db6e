"""Printable PDFs of one visit: the result sheet (A4 or A5, the person's or the parents' version) and the referral note.

The nurse at the exit desk may print them as well as the doctor, so the station role is let in.
Reception is not, because the sheets show health data. Every view is audited with ids only.
"""

from flask import Blueprint, abort, make_response, request

from . import auth, sheets
from .db import get_db, write
from .visits import get_visit

bp = Blueprint("sheets", __name__)
SHEET_ROLES = ("doctor", "station")


def _visit(visit_id: str) -> dict:
    visit = get_visit(get_db(), visit_id)
    if visit is None:
        abort(404)
    return visit


def _pdf(data: bytes, download_name: str):
    response = make_response(data)
    response.mimetype = "application/pdf"
    # The name is fixed: a person's name never reaches a download folder or a browser's history.
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/doctor/visit/<visit_id>/sheet")
@auth.require_role(*SHEET_ROLES)
def sheet(visit_id: str):
    """Send the visit's result sheet; ?size=A4|A5 and ?audience=person|parents choose the version."""
    db = get_db()
    visit = _visit(visit_id)
    size = request.args.get("size", "A4").upper()
    audience = request.args.get("audience", "person")

    data = sheets.result_sheet(db, visit, size=size, audience=audience)

    with write(db):
        auth.audit(db, "result_sheet_viewed", subject=visit["id"],
                   detail={"person_id": visit["person_id"], "size": size, "audience": audience})
    return _pdf(data, "phieu-ket-qua.pdf")


@bp.get("/doctor/visit/<visit_id>/referral")
@auth.require_role(*SHEET_ROLES)
def referral(visit_id: str):
    """Send the visit's referral note, printed on A5."""
    db = get_db()
    visit = _visit(visit_id)

    data = sheets.referral_note(db, visit)

    with write(db):
        auth.audit(db, "referral_note_viewed", subject=visit["id"], detail={"person_id": visit["person_id"]})
    return _pdf(data, "giay-chuyen-kham.pdf")
