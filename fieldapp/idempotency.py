"""Idempotency keys: a form post sent again with the same key runs its view only once.

Pages send each POST with an `Idempotency-Key` header (htmx and the offline queue's replays) or an
`idempotency_key` form field (plain forms). The key is stored in the `idempotency` table in the same
transaction as the view's first write, so a crash keeps both or neither: a post whose response was lost
to a crash is run again, and a post that was stored is replayed. A view that writes nothing to the
database (it only changes the session) has its key stored when it returns. A later request with the
same key from the same staff member gets the recorded outcome without running the view again: a 303 to
the recorded location, or a short note. While the first request is still running, repeats get 409 with
Retry-After. That claim is kept in memory, because the site is served by one process and a claim must
not outlive a crash.

Views that only read (a scan or a name search) are marked `read_only`: a repeat is harmless, so their
keys are neither claimed nor stored.
"""

import datetime as dt
import functools
import logging
import re
import threading
from pathlib import Path

from flask import current_app, g, make_response, redirect, render_template, request, session
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from .db import DATABASE_NAME, connect, get_db, now, write

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"
# crypto.randomUUID() makes 36 characters; accept other clients' keys of the same kind up to 64.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Earlier versions stored a claim with status 0 before the view ran; such a row outlives its server.
IN_PROGRESS = 0
# The status stored with the view's first write, because most posts return 200 without a Location.
PROVISIONAL_STATUS = 200
RETRY_AFTER_SECONDS = 2
MAX_AGE = dt.timedelta(days=7)

_running: set[str] = set()
_running_lock = threading.Lock()


def read_only(view):
    """Mark a POST view that changes nothing, so its idempotency key is not stored."""
    view.idempotency_read_only = True
    return view


def request_key() -> str | None:
    """Return the POST's idempotency key from the header, else from the form; None when it has none."""
    key = request.headers.get(HEADER) or request.form.get(FIELD)
    if not key:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise BadRequest(f"invalid {HEADER}: expected 16 to 64 letters, digits, '-' or '_'")
    return key


def recorded(db, key: str) -> tuple | None:
    """Return the stored (staff_id, method, path, status, location, created_at) of a key, or None."""
    return db.execute(
        "SELECT staff_id, method, path, status, location, created_at FROM idempotency WHERE key = ?", [key]
    ).fetchone()


def store(db, key: str, staff_id: str | None, method: str, path: str,
          status: int = PROVISIONAL_STATUS, location: str | None = None) -> None:
    """Insert a key's row inside the caller's write transaction."""
    db.execute(
        "INSERT INTO idempotency (key, staff_id, method, path, status, location, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [key, staff_id, method, path, status, location, now()],
    )


def finish(db, key: str, stored: bool, status: int, location: str | None) -> None:
    """Record a view's outcome for its key, or release a stored key after a failure so the post can be retried."""
    owner = (session.get("staff_id"), request.method, request.path)
    if 200 <= status < 400:
        if not stored:
            with write(db):
                store(db, key, *owner, status=status, location=location)
        elif (status, location) != (PROVISIONAL_STATUS, None):
            with write(db):
                db.execute("UPDATE idempotency SET status = ?, location = ? WHERE key = ?", [status, location, key])
    elif stored:
        with write(db):
            db.execute("DELETE FROM idempotency WHERE key = ?", [key])


def purge(db, max_age: dt.timedelta = MAX_AGE) -> int:
    """Delete keys created more than max_age ago and claims left by an earlier version; return how many."""
    cutoff = (dt.datetime.now(dt.timezone.utc) - max_age).isoformat(timespec="seconds")
    with write(db):
        deleted = db.execute("DELETE FROM idempotency WHERE created_at < ? OR status = ?",
                             [cutoff, IN_PROGRESS]).rowcount
    return deleted


def _recorded_response(key: str, row: tuple):
    staff_id, method, path, status, location, _created_at = row
    if staff_id != session.get("staff_id") or method != request.method or path != request.path:
        log.info("rejected idempotency key %s reused for %s %s", key, request.method, request.path)
        raise BadRequest(f"{HEADER} {key} was already used for another request")

    if location and 300 <= status < 400:
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


def _still_running():
    response = make_response(_("Thao tác này đang được xử lý. Chờ vài giây rồi thử lại."), 409)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.mimetype = "text/plain"
    return response


def _before_request():
    if request.method != "POST":
        return None
    key = request_key()
    view = current_app.view_functions.get(request.endpoint)
    if key is None or getattr(view, "idempotency_read_only", False):
        return None

    db = get_db()
    row = recorded(db, key)
    if row is not None:
        return _recorded_response(key, row)
    with _running_lock:
        if key in _running:
            return _still_running()
        _running.add(key)
    g.idempotency_key = key
    # db.write runs this at the start of the view's first transaction, so the key commits with the view's writes.
    db.before_first_write = functools.partial(
        store, key=key, staff_id=session.get("staff_id"), method=request.method, path=request.path)
    return None


def _finish(status: int, location: str | None) -> None:
    key = g.pop("idempotency_key", None)
    if key is None:
        return
    try:
        db = get_db()
        db.__dict__.pop("before_first_write", None)
        finish(db, key, recorded(db, key) is not None, status, location)
    finally:
        with _running_lock:
            _running.discard(key)


def _after_request(response):
    _finish(response.status_code, response.headers.get("Location"))
    return response


def _teardown_request(_error: BaseException | None = None) -> None:
    # after_request does not run when an exception propagates (TESTING or PROPAGATE_EXCEPTIONS).
    _finish(500, None)


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
        log.info("deleted %d idempotency keys older than %d days or left in progress", deleted, MAX_AGE.days)
