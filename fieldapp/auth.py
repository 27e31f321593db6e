"""Staff accounts and sign-in with a PIN; every page but sign-in and static files needs a session."""

import functools
import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db, new_id, now, write

bp = Blueprint("auth", __name__)

ROLES = ("reception", "station", "doctor", "coordinator", "site_admin")
_OPEN_ENDPOINTS = {"auth.login", "static", "set_language"}


def add_staff(db, username: str, display_name: str, role: str, pin: str) -> str:
    """Create a staff account; call inside a write transaction. Returns its id."""
    staff_id = new_id()
    db["staff"].insert(
        {
            "id": staff_id,
            "username": username.strip().lower(),
            "display_name": display_name.strip(),
            "role": role,
            "pin_hash": generate_password_hash(pin),
            "created_at": now(),
        }
    )
    return staff_id


def audit(db, action: str, subject: str | None = None, detail: dict | None = None) -> None:
    """Append an audit event for the signed-in staff member; ids only, never names."""
    db["audit_event"].insert(
        {
            "id": new_id(),
            "at": now(),
            "staff_id": session.get("staff_id"),
            "action": action,
            "subject": subject,
            "detail": json.dumps(detail or {}, ensure_ascii=False),
        }
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html")

    username = request.form.get("username", "").strip().lower()
    pin = request.form.get("pin", "")
    db = get_db()
    staff = db.execute("SELECT id, pin_hash FROM staff WHERE username = ?", [username]).fetchone()
    with write(db):
        if staff is None or not check_password_hash(staff[1], pin):
            audit(db, "sign_in_failed", detail={"username_known": staff is not None})
            flash(_("Tên đăng nhập hoặc mã PIN không đúng. Kiểm tra lại rồi thử lần nữa."), "error")
            return render_template("auth/login.html", username=username), 401
        session.clear()
        session["staff_id"] = staff[0]
        audit(db, "sign_in", subject=staff[0])
    return redirect(url_for("roster.index"))


@bp.post("/logout")
def logout():
    session.pop("staff_id", None)
    return redirect(url_for("auth.login"))


def require_role(*roles: str):
    """Let only staff with one of these roles (or a site admin) use a view; others get 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.staff["role"] not in (*roles, "site_admin"):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _require_sign_in():
    if request.endpoint in _OPEN_ENDPOINTS or request.endpoint is None:
        return None
    staff_id = session.get("staff_id")
    row = get_db().execute("SELECT id, display_name, role FROM staff WHERE id = ?", [staff_id]).fetchone() if staff_id else None
    if row is None:
        session.pop("staff_id", None)
        return redirect(url_for("auth.login"))
    g.staff = {"id": row[0], "display_name": row[1], "role": row[2]}
    return None


def init_app(app) -> None:
    """Register the sign-in pages and the check that guards every other page."""
    app.register_blueprint(bp)
    app.before_request(_require_sign_in)
