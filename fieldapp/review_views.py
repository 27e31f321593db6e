"""Review pairs: rows the rules could not decide, merged or kept apart by the officer."""

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from . import auth
from .db import get_db, write
from .roster import decide, roster_date, undo_decision
from .text import sort_key_text
from .web import render

bp = Blueprint("review", __name__, url_prefix="/review")

REASONS = {
    "same_id_other_name": _l("Cùng số CCCD nhưng họ tên khác nhau"),
    "same_birth_similar_name": _l("Cùng ngày sinh, họ tên gần giống (có thể là anh chị em sinh đôi)"),
    "same_name_birth_unclear": _l("Cùng họ tên, ngày sinh chưa rõ (chỉ có năm, 01/01 hoặc đảo ngày tháng)"),
    "same_name_birth_differs": _l("Cùng họ tên và nơi ở, ngày sinh khác nhau"),
}
_ROW_FIELDS = "id, file_name, sheet, row_no, full_name, birth_date, sex, cccd, phone, tdp, class_name, parent_name, address"


def _pairs(db) -> list[dict]:
    rows = db.execute(f"SELECT {_ROW_FIELDS} FROM source_row WHERE id IN (SELECT row_a FROM review_pair UNION SELECT row_b FROM review_pair)")
    names = [column[0] for column in rows.description]
    by_id = {values[0]: dict(zip(names, values)) for values in rows.fetchall()}
    pairs = []
    for row_a, row_b, reason in db.execute("SELECT row_a, row_b, reason FROM review_pair ORDER BY rowid").fetchall():
        pairs.append({"a": by_id[row_a], "b": by_id[row_b], "reason": reason})
    return sorted(pairs, key=lambda pair: (sort_key_text(pair["a"]["full_name"]), pair["a"]["birth_date"] or ""))


@bp.get("/")
@auth.require_role("coordinator")
def index():
    db = get_db()
    return render("review/index.html", "review/_list.html", pairs=_pairs(db), reasons=REASONS, decisions=_decisions(db))


def _decisions(db) -> list[dict]:
    rows = db.execute("SELECT signature_a, signature_b, decision, decided_at FROM link_decision ORDER BY decided_at DESC").fetchall()
    names = {}
    for signature, name in db.execute("SELECT signature, full_name FROM source_row").fetchall():
        names.setdefault(signature, name)
    return [{"a": a, "b": b, "decision": d, "at": at, "name_a": names.get(a, "?"), "name_b": names.get(b, "?")}
            for a, b, d, at in rows]


@bp.post("/undo")
@auth.require_role("coordinator")
def undo():
    db = get_db()
    with write(db):
        undo_decision(db, request.form.get("signature_a", ""), request.form.get("signature_b", ""), roster_date(db))
        auth.audit(db, "review_undo")
    return redirect(url_for("review.index"))


@bp.post("/decide")
@auth.require_role("coordinator")
def decide_pair():
    row_a, row_b = request.form.get("row_a", ""), request.form.get("row_b", "")
    decision = request.form.get("decision")
    if decision not in ("same", "different"):
        abort(400)
    db = get_db()
    known = db.execute("SELECT count(*) FROM review_pair WHERE row_a = ? AND row_b = ?", [row_a, row_b]).fetchone()[0]
    if not known:
        abort(404)

    with write(db):
        decide(db, row_a, row_b, decision, g.staff["id"], roster_date(db))
        auth.audit(db, "review_decision", detail={"decision": decision})
    if request.headers.get("HX-Request") == "true":
        return render("review/index.html", "review/_list.html", pairs=_pairs(db), reasons=REASONS,
                      decisions=_decisions(db))
    return redirect(url_for("review.index"))
