"""The central store's review page: people of different sites who may be one person, decided by ward staff.

Same roles as the report pages. Viewing the list and every decision are audited (ids only). A
decision changes who counts as one person, so the reports' cached wards are dropped (views.forget_wards).
Decisions made through htmx get the pair's card back (central/_pair.html); plain form posts are
redirected to the page with a message.
"""

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from .. import auth
from ..db import get_db, write
from ..devices import display_time
from ..web import render, wants_fragment
from . import central_engine, review, store
from .views import REPORT_ROLES, forget_wards

bp = Blueprint("central_review", __name__, url_prefix="/central/review")
# Pairs shown on the page; decided pairs leave the list and the next ones appear.
SHOWN_PAIRS = 50
# Decisions listed under "Đã quyết định", newest first.
SHOWN_DECISIONS = 100
CARD = "central/_pair.html"


@bp.get("/")
@auth.require_role(*REPORT_ROLES)
def index():
    with central_engine(current_app).connect() as connection:
        waiting = review.pairs(connection)
        decided, decided_count = review.decisions(connection, SHOWN_DECISIONS)
    shown = waiting[:SHOWN_PAIRS]

    db = get_db()
    with write(db):
        auth.audit(db, "central_review_viewed",
                   detail={"pairs": [[pair.person.person_id, pair.other.person_id] for pair in shown]})
    return render("central/review.html", pairs=shown, pair_count=len(waiting), decided=decided,
                  decided_count=decided_count, staff_names=_staff_names(db), display_time=display_time)


@bp.post("/decide")
@auth.require_role(*REPORT_ROLES)
def decide():
    person_id, other_id = request.form.get("person_id", ""), request.form.get("other_id", "")
    decision = request.form.get("decision", "")
    if decision not in review.DECISIONS or not (person_id and other_id):
        abort(400)

    with store.write(central_engine(current_app)) as connection:
        pair = review.waiting_pair(connection, person_id, other_id)
        done = review.decide(connection, person_id, other_id, decision, g.staff["id"], store.now())
    if not done:
        return _answer(_("Cặp này không còn chờ xem xét: có thể vừa có người quyết định hoặc điểm khám vừa gửi "
                         "dữ liệu mới. Hãy tải lại trang."), "error", problem=True)

    forget_wards(current_app)
    _audit("central_review_decided", person_id, other_id, decision=decision)
    if decision == "same":
        message = _("Đã gộp hai hồ sơ thành một người. Độ bao phủ và các báo cáo tính người này một lần.")
    else:
        message = _("Đã ghi là hai người khác nhau. Cặp này không hiện lại, trừ khi điểm khám sửa họ tên hoặc ngày sinh.")
    return _answer(message, "info", pair=pair, decision=decision)


@bp.post("/undo")
@auth.require_role(*REPORT_ROLES)
def undo():
    person_id, other_id = request.form.get("person_id", ""), request.form.get("other_id", "")
    if not (person_id and other_id):
        abort(400)

    with store.write(central_engine(current_app)) as connection:
        done = review.undo(connection, person_id, other_id)
        pair = review.waiting_pair(connection, person_id, other_id) if done else None
    if not done:
        return _answer(_("Không tìm thấy quyết định này: có thể đã được hủy trước đó. Hãy tải lại trang."), "error",
                       problem=True)

    forget_wards(current_app)
    _audit("central_review_undone", person_id, other_id)
    return _answer(_("Đã hủy quyết định. Nếu hai hồ sơ vẫn cùng họ tên và ngày sinh, cặp này lại chờ xem xét."),
                   "info", pair=pair)


def _answer(message: str, category: str, problem: bool = False, **card):
    """Return the pair's card to htmx, else flash the message and go back to the page."""
    if wants_fragment():
        return render(CARD, problem=message if problem else None, **card)
    flash(message, category)
    return redirect(url_for(".index"), 303)


def _audit(action: str, person_id: str, other_id: str, **detail) -> None:
    db = get_db()
    with write(db):
        auth.audit(db, action, subject=person_id, detail={"person_id": person_id, "other_id": other_id, **detail})


def _staff_names(db) -> dict[str, str]:
    return dict(db.execute("SELECT id, display_name FROM staff").fetchall())
