"""Staff accounts, sign-in with a PIN on a paired device, and the checks that guard every page.

Every page but sign-in, pairing and static files needs a session. A session holds the staff id and the
device id it was opened on. A request from another machine must carry the cookie of a paired, unrevoked
device, but a request from the laptop itself (loopback) needs no device, so the officer can always sign in
there, even before any phone is paired.
"""

import collections
import datetime as dt
import functools
import ipaddress
import json
import re
import threading
import time

from flask import (Blueprint, abort, current_app, flash, g, has_request_context, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from . import devices
from .db import get_db, insert_row, new_id, now, write
from .errors import FieldappError

bp = Blueprint("auth", __name__)

ROLES = ("reception", "station", "doctor", "coordinator", "site_admin", "display")
ROLE_LABELS = {
    "reception": _l("Đón tiếp"),
    "station": _l("Bàn khám"),
    "doctor": _l("Bác sĩ"),
    "coordinator": _l("Điều phối"),
    "site_admin": _l("Quản trị điểm khám"),
    "display": _l("Màn hình phòng chờ (TV)"),
}
# A TV signed in with the display role can open the waiting-room board and nothing else: no roster and no
# health data, even when someone at the TV types another address.
DISPLAY_ROLE = "display"
DISPLAY_ENDPOINTS = {"display.index", "display.board", "display.voice_clip", "auth.logout", "index",
                     "service_worker", "manifest", "offline"}
_OPEN_ENDPOINTS = {"auth.login", "auth.pair", "static", "set_language"}

# A 4-digit PIN has 10,000 values. Locking for 15 minutes after 5 wrong PINs in a row allows at most
# 480 guesses a day per account, while a staff member who mistypes twice is not locked out.
# The messages account_locked and sign_in_failed in errors.py name these numbers: change them together.
MAX_FAILED_PINS = 5
LOCK_PERIOD = dt.timedelta(minutes=15)

# The account lock does not stop one device trying a common PIN against every username, so each device
# (or address) gets its own limit: after SOURCE_SLOW_AFTER failures within SOURCE_WINDOW each further failure
# waits app.config["SIGN_IN_FAILURE_DELAY"] seconds, and after SOURCE_MAX_FAILURES the device may not try
# again until its oldest failure leaves the window. The laptop itself is only slowed, never refused, so the
# officer can always sign in there.
SOURCE_WINDOW = dt.timedelta(minutes=10)
SOURCE_SLOW_AFTER = 3
SOURCE_MAX_FAILURES = 10
DEFAULT_FAILURE_DELAY_SECONDS = 2.0

PIN_PATTERN = re.compile(r"[0-9]{4,12}")
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
DISPLAY_NAME_MAX = 100


def current_time() -> dt.datetime:
    """Return the current UTC time; every lock, expiry and last-seen check reads the clock here."""
    return dt.datetime.now(dt.timezone.utc)


def local_clock_time(moment: dt.datetime) -> str:
    """Return a time as HH:MM on the laptop's clock, for messages."""
    return moment.astimezone().strftime("%H:%M")


# Staff accounts.


def add_staff(db, username: str, display_name: str, role: str, pin: str) -> str:
    """Create a staff account without checking its fields; call inside a write transaction. Returns its id."""
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


def check_pin(pin: str) -> None:
    """Raise pin_invalid unless the PIN has 4 to 12 digits."""
    if not PIN_PATTERN.fullmatch(pin):
        raise FieldappError("pin_invalid")


def create_staff(db, username: str, display_name: str, role: str, pin: str) -> str:
    """Check a new account's fields and create it; call inside a write transaction. Returns its id."""
    username = username.strip().lower()
    display_name = " ".join(display_name.split())
    if not display_name or len(display_name) > DISPLAY_NAME_MAX:
        raise FieldappError("staff_name_missing")
    if not USERNAME_PATTERN.fullmatch(username):
        raise FieldappError("username_invalid", value=username)
    if role not in ROLES:
        raise FieldappError("role_invalid", value=role)
    check_pin(pin)
    if db.execute("SELECT 1 FROM staff WHERE username = ?", [username]).fetchone():
        raise FieldappError("username_exists", value=username)
    return add_staff(db, username, display_name, role, pin)


def reset_pin(db, staff_id: str, pin: str) -> None:
    """Set a new PIN and unlock the account; call inside a write transaction."""
    check_pin(pin)
    db.execute(
        "UPDATE staff SET pin_hash = ?, failed_pins = 0, locked_until = NULL WHERE id = ?",
        [generate_password_hash(pin), staff_id],
    )


def set_active(db, staff_id: str, active: bool) -> None:
    """Enable or disable an account; a disabled account's sessions end on their next request."""
    db.execute("UPDATE staff SET active = ? WHERE id = ?", [int(active), staff_id])


def find_staff(db, staff_id: str | None = None, username: str | None = None) -> dict | None:
    """Return one account by id or by username, or None."""
    column, value = ("id", staff_id) if staff_id is not None else ("username", (username or "").strip().lower())
    cursor = db.execute(
        f"SELECT id, username, display_name, role, active, failed_pins, locked_until FROM staff WHERE {column} = ?",
        [value],
    )
    row = cursor.fetchone()
    return dict(zip([column[0] for column in cursor.description], row)) if row else None


def list_staff(db) -> list[dict]:
    """Return every account in username order, with locked_until as a datetime while the lock lasts."""
    cursor = db.execute("SELECT id, username, display_name, role, active, locked_until FROM staff ORDER BY username")
    names = [column[0] for column in cursor.description]
    moment = current_time()
    accounts = []
    for row in cursor.fetchall():
        account = dict(zip(names, row))
        until = dt.datetime.fromisoformat(account["locked_until"]) if account["locked_until"] else None
        account["locked_until"] = until if until and until > moment else None
        accounts.append(account)
    return accounts


def audit(db, action: str, subject: str | None = None, detail: dict | None = None) -> None:
    """Append an audit event for the signed-in staff member (none in a command); ids only, never names."""
    insert_row(db, "audit_event", {
        "id": new_id(),
        "at": now(),
        "staff_id": session.get("staff_id") if has_request_context() else None,
        "action": action,
        "subject": subject,
        "detail": json.dumps(detail or {}, ensure_ascii=False),
    })


# Devices and addresses.


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; False for anything unparsable."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def from_laptop() -> bool:
    """True when this request comes from the laptop that runs the site.

    NOTE: this trusts request.remote_addr. Behind a reverse proxy on the laptop every request would look
    local, so this rule must then read the proxy's forwarded address instead.
    """
    return is_loopback(request.remote_addr)


def cookie_device(db) -> dict | None:
    """Return the paired, unrevoked device whose cookie this request carries, or None."""
    return devices.device_from_cookie(db, request.cookies.get(devices.DEVICE_COOKIE))


class _FailureLog:
    """Recent failed sign-ins per device or address, kept in memory, so a restart clears them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._failures: dict[str, collections.deque] = {}

    def _recent(self, source: str, moment: dt.datetime) -> collections.deque:
        failures = self._failures.setdefault(source, collections.deque())
        while failures and moment - failures[0] >= SOURCE_WINDOW:
            failures.popleft()
        return failures

    def add(self, source: str, moment: dt.datetime) -> int:
        """Record a failure and return how many the source has in the window."""
        with self._lock:
            failures = self._recent(source, moment)
            failures.append(moment)
            return len(failures)

    def blocked_until(self, source: str, moment: dt.datetime) -> dt.datetime | None:
        """Return when the source may try again, or None if it may now."""
        with self._lock:
            failures = self._recent(source, moment)
            return failures[0] + SOURCE_WINDOW if len(failures) >= SOURCE_MAX_FAILURES else None

    def clear(self, source: str) -> None:
        with self._lock:
            self._failures.pop(source, None)


def _failure_log() -> _FailureLog:
    return current_app.extensions.setdefault("fieldapp_sign_in_failures", _FailureLog())


@functools.cache
def _unused_hash() -> str:
    # Checked against when the username is unknown, so a wrong username takes as long as a wrong PIN.
    return generate_password_hash("unused-pin")


# Pages.


def _login_page(problem: FieldappError | None = None, status: int = 200, username: str = "", needs_pairing: bool = False):
    return render_template("auth/login.html", problem=problem, username=username, needs_pairing=needs_pairing), status


def _clear_session() -> None:
    """Empty the session except its language. This drops the CSRF token, so forms opened before are rejected."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _start_session(staff_id: str, device_id: str | None) -> None:
    _clear_session()
    session["staff_id"] = staff_id
    session["device_id"] = device_id


def pin_matches(db, username: str, pin: str) -> bool:
    """Check a PIN against its hash, outside any transaction: the hash takes tens of milliseconds."""
    row = db.execute("SELECT pin_hash, active FROM staff WHERE username = ?", [username]).fetchone()
    if row is None or not row[1]:
        # Hash anyway, so an unknown username takes as long as a known one.
        check_password_hash(_unused_hash(), pin)
        return False
    return check_password_hash(row[0], pin)


def _check_pin(db, username: str, matched: bool, moment: dt.datetime) -> tuple[str, str | None, dt.datetime | None]:
    """Apply a PIN check's result to the account's failure count; call inside a write transaction.

    Returns (outcome, staff id, locked until) where outcome is ok, wrong, locked or unknown.
    """
    row = db.execute("SELECT id, pin_hash, active, failed_pins, locked_until FROM staff WHERE username = ?", [username]).fetchone()
    if row is None or not row[2]:
        audit(db, "sign_in_failed", subject=row[0] if row else None,
              detail={"username_known": row is not None, "reason": "disabled" if row else "unknown_user"})
        return "unknown", None, None
    staff_id, pin_hash, _active, failed_pins, locked_until = row

    locked = dt.datetime.fromisoformat(locked_until) if locked_until else None
    if locked and moment < locked:
        audit(db, "sign_in_refused", subject=staff_id, detail={"reason": "locked"})
        return "locked", staff_id, locked

    if matched:
        db.execute("UPDATE staff SET failed_pins = 0, locked_until = NULL WHERE id = ?", [staff_id])
        return "ok", staff_id, None

    failed_pins += 1
    audit(db, "sign_in_failed", subject=staff_id, detail={"username_known": True, "failed_pins": failed_pins})
    if failed_pins < MAX_FAILED_PINS:
        db.execute("UPDATE staff SET failed_pins = ?, locked_until = NULL WHERE id = ?", [failed_pins, staff_id])
        return "wrong", staff_id, None
    # The count starts again, so after the lock the account gets MAX_FAILED_PINS new tries.
    until = moment + LOCK_PERIOD
    db.execute("UPDATE staff SET failed_pins = 0, locked_until = ? WHERE id = ?", [devices.timestamp(until), staff_id])
    audit(db, "account_locked", subject=staff_id, detail={"until": devices.timestamp(until)})
    return "locked_now", staff_id, until


@bp.route("/login", methods=["GET", "POST"])
def login():
    db = get_db()
    device = cookie_device(db)
    needs_pairing = device is None and not from_laptop()
    if request.method == "GET":
        return _login_page(FieldappError("device_not_paired") if needs_pairing else None, needs_pairing=needs_pairing)

    # An unpaired phone is refused before its PIN is checked, so it cannot guess PINs at all.
    if needs_pairing:
        with write(db):
            audit(db, "sign_in_refused", detail={"reason": "device_not_paired"})
        return _login_page(FieldappError("device_not_paired"), 403, needs_pairing=True)

    moment = current_time()
    source = f"device:{device['id']}" if device else f"address:{request.remote_addr}"
    failures = _failure_log()
    retry_at = None if from_laptop() else failures.blocked_until(source, moment)
    username = request.form.get("username", "").strip().lower()
    if retry_at:
        with write(db):
            audit(db, "sign_in_refused", detail={"reason": "throttled", "device_id": device and device["id"]})
        return _login_page(FieldappError("sign_in_throttled", value=local_clock_time(retry_at)), 429, username)

    # The slow hash runs before the write transaction, so sign-ins from many phones do not queue on it.
    matched = pin_matches(db, username, request.form.get("pin", ""))
    with write(db):
        outcome, staff_id, locked_until = _check_pin(db, username, matched, moment)
        if outcome == "ok":
            _start_session(staff_id, device and device["id"])
            audit(db, "sign_in", subject=staff_id, detail={"device_id": device and device["id"]})
            if device:
                devices.touch(db, device["id"], moment)

    if outcome == "ok":
        failures.clear(source)
        return redirect(url_for(home_endpoint(find_staff(get_db(), staff_id=staff_id)["role"])))
    if outcome == "locked":
        return _login_page(FieldappError("account_locked", value=local_clock_time(locked_until)), 423, username)

    recent = failures.add(source, moment)
    if recent >= SOURCE_SLOW_AFTER:
        time.sleep(current_app.config.get("SIGN_IN_FAILURE_DELAY", DEFAULT_FAILURE_DELAY_SECONDS))
    if outcome == "locked_now":
        return _login_page(FieldappError("account_locked", value=local_clock_time(locked_until)), 423, username)
    return _login_page(FieldappError("sign_in_failed"), 401, username)


@bp.post("/logout")
def logout():
    db = get_db()
    with write(db):
        audit(db, "sign_out", subject=session.get("staff_id"))
    # The CSRF token goes too, so a form left open before sign-out is rejected on a shared phone.
    _clear_session()
    return redirect(url_for("auth.login"))


@bp.get("/pair/<token>")
def pair(token: str):
    """Pair the phone that opened a pairing QR: mark the token used, store the device, set its cookie."""
    db = get_db()
    moment = current_time()
    try:
        with write(db):
            device_id, secret, name = devices.redeem_pairing_token(db, token, moment)
            audit(db, "device_paired", subject=device_id)
    except devices.PairingProblem as problem:
        with write(db):
            audit(db, "pairing_refused", detail={"reason": problem.code})
        raise

    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("Đã ghép điện thoại \"%(name)s\". Đăng nhập để bắt đầu làm việc.", name=name), "info")
    response = redirect(url_for("auth.login"))
    response.set_cookie(
        devices.DEVICE_COOKIE,
        devices.cookie_value(device_id, secret),
        max_age=devices.DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


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


def _end_session(db, reason: str):
    if session.get("staff_id"):
        with write(db):
            audit(db, "session_ended", subject=session.get("staff_id"), detail={"reason": reason})
    session.pop("staff_id", None)
    session.pop("device_id", None)
    return redirect(url_for("auth.login"))


def _require_sign_in():
    """Check the session's account and device on every request but the open pages."""
    if request.endpoint in _OPEN_ENDPOINTS or request.endpoint is None:
        return None
    staff_id = session.get("staff_id")
    if not staff_id:
        return redirect(url_for("auth.login"))

    db = get_db()
    account = find_staff(db, staff_id=staff_id)
    if account is None or not account["active"]:
        return _end_session(db, "account_disabled")

    # A session opened on a device lasts only while that device's cookie is valid.
    # A session opened without a device (at the laptop) is valid only at the laptop.
    session_device = session.get("device_id")
    device = cookie_device(db) if session_device else None
    if session_device and (device is None or device["id"] != session_device):
        return _end_session(db, "device_revoked")
    if not session_device and not from_laptop():
        return _end_session(db, "device_missing")

    g.staff = {"id": account["id"], "display_name": account["display_name"], "role": account["role"]}
    g.device_id = session_device
    if account["role"] == DISPLAY_ROLE and request.endpoint not in DISPLAY_ENDPOINTS:
        abort(403)
    moment = current_time()
    if device and devices.last_seen_due(device, moment):
        with write(db):
            devices.touch(db, device["id"], moment)
    return None


def home_endpoint(role: str) -> str:
    """Return the endpoint a role starts on: the board for a TV, the app's home page for staff."""
    if role == DISPLAY_ROLE and "display.index" in current_app.view_functions:
        return "display.index"
    return current_app.config.get("HOME_ENDPOINT", "roster.index")


def init_app(app) -> None:
    """Register the sign-in and pairing pages and the check that guards every other page."""
    app.config.setdefault("SIGN_IN_FAILURE_DELAY", DEFAULT_FAILURE_DELAY_SECONDS)
    app.register_blueprint(bp)
    app.before_request(_require_sign_in)
