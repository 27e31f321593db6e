"""Paired phones: one-time pairing tokens, device rows and the device cookie that proves a phone was paired.

Callers pass the current time in, so tests can move a fake clock (auth.current_time) past expiry.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from .db import new_id
from .errors import FieldappError

# Long enough to walk over and scan the QR with a phone; short enough that a photo of the screen is soon useless.
PAIRING_LIFETIME = dt.timedelta(minutes=5)
# A device's last_seen is written at most this often, so browsing does not turn every page view into a write.
LAST_SEEN_INTERVAL = dt.timedelta(minutes=1)
DEVICE_COOKIE = "fieldapp_device"
# Browsers cap cookie lifetimes at 400 days (Chrome 104 and later); the admin revokes a lost phone instead.
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
DEVICE_NAME_MAX = 80


class PairingProblem(FieldappError):
    """A pairing link that is unknown, already used or expired."""

    status = 410


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest of a random token or device secret.

    Both carry at least 192 random bits, so a fast hash is enough: no one can guess them offline.
    """
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def timestamp(moment: dt.datetime) -> str:
    """Return a UTC time as stored in the database (ISO 8601, seconds)."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def parse_timestamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def display_time(value: str | None) -> str:
    """Return a stored time as dd/mm/yyyy HH:MM on the laptop's clock, or a dash."""
    return parse_timestamp(value).astimezone().strftime("%d/%m/%Y %H:%M") if value else "—"


def clean_device_name(name: str) -> str:
    """Return the trimmed device name, or raise device_name_missing."""
    cleaned = " ".join(name.split())[:DEVICE_NAME_MAX]
    if not cleaned:
        raise FieldappError("device_name_missing")
    return cleaned


def create_pairing_token(db, device_name: str, staff_id: str, now: dt.datetime) -> str:
    """Store a new single-use pairing token (hashed) and return the token; call inside a write transaction."""
    token = secrets.token_urlsafe(24)
    db["pairing_token"].insert(
        {
            "token_hash": hash_secret(token),
            "device_name": clean_device_name(device_name),
            "created_by": staff_id,
            "created_at": timestamp(now),
            "expires_at": timestamp(now + PAIRING_LIFETIME),
            "used_at": None,
        }
    )
    return token


def redeem_pairing_token(db, token: str, now: dt.datetime) -> tuple[str, str, str]:
    """Mark a pairing token used and create its device; call inside a write transaction.

    Returns (device id, device secret, device name). Raises PairingProblem when the token is unknown,
    used or expired, and writes nothing then.
    """
    row = db.execute(
        "SELECT token_hash, device_name, created_by, expires_at, used_at FROM pairing_token WHERE token_hash = ?",
        [hash_secret(token)],
    ).fetchone()
    if row is None:
        problem = PairingProblem("pairing_token_unknown")
        problem.status = 404
        raise problem
    token_hash, device_name, created_by, expires_at, used_at = row
    if used_at is not None:
        raise PairingProblem("pairing_token_used")
    if now >= parse_timestamp(expires_at):
        raise PairingProblem("pairing_token_expired")

    db.execute("UPDATE pairing_token SET used_at = ? WHERE token_hash = ?", [timestamp(now), token_hash])
    device_id = new_id()
    secret = secrets.token_urlsafe(32)
    db["device"].insert(
        {
            "id": device_id,
            "name": device_name,
            "secret_hash": hash_secret(secret),
            "paired_at": timestamp(now),
            "paired_by": created_by,
            "last_seen": timestamp(now),
            "revoked_at": None,
        }
    )
    return device_id, secret, device_name


def cookie_value(device_id: str, secret: str) -> str:
    return f"{device_id}.{secret}"


def device_from_cookie(db, value: str | None) -> dict | None:
    """Return the paired, unrevoked device a cookie value proves, or None."""
    if not value or "." not in value:
        return None
    device_id, secret = value.split(".", 1)
    row = db.execute("SELECT id, name, secret_hash, last_seen, revoked_at FROM device WHERE id = ?", [device_id]).fetchone()
    if row is None or row[4] is not None:
        return None
    if not hmac.compare_digest(row[2], hash_secret(secret)):
        return None
    return {"id": row[0], "name": row[1], "last_seen": row[3]}


def last_seen_due(device: dict, now: dt.datetime) -> bool:
    """True when the device's last_seen is older than LAST_SEEN_INTERVAL (or was never set)."""
    return device["last_seen"] is None or now - parse_timestamp(device["last_seen"]) >= LAST_SEEN_INTERVAL


def touch(db, device_id: str, now: dt.datetime) -> None:
    """Record that a device was seen now; call inside a write transaction."""
    db.execute("UPDATE device SET last_seen = ? WHERE id = ?", [timestamp(now), device_id])


def revoke(db, device_id: str, now: dt.datetime) -> bool:
    """Revoke a device so its cookie stops working; call inside a write transaction. False if unknown."""
    cursor = db.execute("UPDATE device SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", [timestamp(now), device_id])
    return cursor.rowcount == 1


def list_devices(db) -> list[dict]:
    """Return every device, newest first, with the display name of the admin who paired it."""
    rows = db.execute(
        """SELECT d.id, d.name, d.paired_at, d.last_seen, d.revoked_at, s.display_name
           FROM device d LEFT JOIN staff s ON s.id = d.paired_by ORDER BY d.paired_at DESC, d.id DESC"""
    ).fetchall()
    keys = ["id", "name", "paired_at", "last_seen", "revoked_at", "paired_by"]
    return [dict(zip(keys, row)) for row in rows]
