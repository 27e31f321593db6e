"""Idempotency keys: a form post sent again with the same key runs its view only once.

Pages send each POST with an `Idempotency-Key` header (htmx and the offline queue's replays) or an
`idempotency_key` form field (plain forms). The first request with a key claims it in the
`idempotency` table before its view runs, with status 0, and records the response's status and
Location when the view returns a 2xx or 3xx response. A later request with the same key from the same
staff member gets the recorded outcome without running the view again: a 303 to the recorded
location, or a short note. While the claim has status 0 the view is still running, and repeats get
409 with Retry-After.
"""

import datetime as dt
import logging
import re
from pathlib import Path

from flask import g, make_response, redirect, render_template, request, session
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from .db import DATABASE_NAME, connect, get_db, now, write

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"
# crypto.randomUUID() makes 36 characters; accept other clients' keys of the same kind up to 64.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
IN_PROGRESS = 0
RETRY_AFTER_SECONDS = 2
MAX_AGE = dt.timedelta(days=7)
# A claim this old belongs to a request whose server stopped before it sent a response.
STALE_CLAIM_AGE = dt.timedelta(minutes=10)


def request_key() -> str | None:
    """Return the POST's idempotency key from the header, else from the form; None when it has none."""
    key = request.headers.get(HEADER) or request.form.get(FIELD)
    if not key:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise BadRequest(f"invalid {HEADER}: expected 16 to 64 letters, digits, '-' or '_'")
    return key


def _age(created_at: str) -> dt.timedelta:
    return dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(created_at)


def claim(db, key: str, staff_id: str | None, method: str, path: str) -> tuple | None:
    """Insert an in-progress claim for key; return None when this request owns it, else the stored row.

    The row is (staff_id, method, path, status, location, created_at). Runs in its own BEGIN IMMEDIATE
    transaction, so of two requests with one key exactly one gets None.
    """
    with write(db):
        row = db.execute(
            "SELECT staff_id, method, path, status, location, created_at FROM idempotency WHERE key = ?", [key]
        ).fetchone()
        if row is not None and row[3] == IN_PROGRESS and _age(row[5]) > STALE_CLAIM_AGE:
            # NOTE: the view may have committed before the server stopped. Running it again is the lesser
            # harm than returning 409 for ever, and the views' own unique constraints still apply.
            log.warning("released stale idempotency claim %s for %s %s from %s", key, row[1], row[2], row[5])
            db.execute("DELETE FROM idempotency WHERE key = ?", [key])
            row = None
        if row is None:
            db.execute(
                "INSERT INTO idempotency (key, staff_id, method, path, status, location, created_at)"
                " VALUES (?, ?, ?, ?, ?, NULL, ?)",
                [key, staff_id, method, path, IN_PROGRESS, now()],
            )
    return row


def finish(db, key: str, status: int, location: str | None) -> None:
    """Record a successful response for a claimed key, or release the claim so the post can be retried."""
    with write(db):
        if 200 <= status < 400:
            db.execute("UPDATE idempotency SET status = ?, location = ? WHERE key = ?", [status, location, key])
        else:
            db.execute("DELETE FROM idempotency WHERE key = ? AND status = ?", [key, IN_PROGRESS])


def purge(db, max_age: dt.timedelta = MAX_AGE) -> int:
    """Delete keys created more than max_age ago; return how many were deleted."""
    cutoff = (dt.datetime.now(dt.timezone.utc) - max_age).isoformat(timespec="seconds")
    with write(db):
        deleted = db.execute("DELETE FROM idempotency WHERE created_at < ?", [cutoff]).rowcount
    return deleted


def _recorded_response(key: str, row: tuple):
    staff_id, method, path, status, location, _created_at = row
    if staff_id != session.get("staff_id") or method != request.method or path != request.path:
        log.info("rejected idempotency key %s reused for %s %s", key, request.method, request.path)
        raise BadRequest(f"{HEADER} {key} was already used for another request")

    if status == IN_PROGRESS:
        response = make_response(_("Thao tác này đang được xử lý. Chờ vài giây rồi thử lại."), 409)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.mimetype = "text/plain"
    elif location and 300 <= status < 400:
        response = redirect(location, 303)
    elif request.headers.get("HX-Request") == "true":
        # htmx keeps the page as it is on 204.
        response = make_response("", 204)
    else:
        message = _("Thao tác này đã được ghi nhận trước đó.")
        hint = _("Quay lại trang trước để xem kết quả.")
        response = make_response(render_template("problem.html", message=message, hint=hint), 200)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _before_request():
    if request.method != "POST":
        return None
    key = request_key()
    if key is None:
        return None

    row = claim(get_db(), key, session.get("staff_id"), request.method, request.path)
    if row is not None:
        return _recorded_response(key, row)
    g.idempotency_key = key
    return None


def _after_request(response):
    key = g.pop("idempotency_key", None)
    if key is not None:
        finish(get_db(), key, response.status_code, response.headers.get("Location"))
    return response


def _teardown_request(_error: BaseException | None = None) -> None:
    # after_request does not run when an exception propagates (TESTING or PROPAGATE_EXCEPTIONS).
    key = g.pop("idempotency_key", None)
    if key is not None:
        finish(get_db(), key, 500, None)


def init_app(app) -> None:
    """Register the hooks (after sign-in and CSRF checks) and delete keys older than seven days."""
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)

    db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
    try:
        deleted = purge(db)
    finally:
        db.conn.close()
    if deleted:
        log.info("deleted %d idempotency keys older than %d days", deleted, MAX_AGE.days)
