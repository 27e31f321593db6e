"""Sites known to the central store: one-time enrolment codes, the site's public key, revocation, round packages."""

import base64
import binascii
import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..errors import FieldappError
from ..text import clean
from .schema import central_site, package
from .store import StoreError, dialect_insert, now

# An enrolment code is valid for 7 days and once, as the sync contract (docs/sync.md) states.
CODE_VALID_FOR = dt.timedelta(days=7)
# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is not misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 16 characters of 5 bits: 80 bits, too many to guess in the 7 days a code is valid.
CODE_LENGTH = 16
CODE_GROUP = 4
NAME_MAX = 100
ED25519_KEY_BYTES = 32


def new_code() -> str:
    """Return a new enrolment code, e.g. "7K3M-Q9TX-2HD4-WB8R"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def code_hash(code: str) -> str:
    """Return the SHA-256 of a code as typed: case, dashes and spaces ignored, I and L read as 1, O as 0."""
    typed = "".join(str(code).split()).replace("-", "").upper()
    normal = typed.translate(str.maketrans({"I": "1", "L": "1", "O": "0"}))
    return hashlib.sha256(normal.encode("ascii", "replace")).hexdigest()


def _later(moment: str, delta: dt.timedelta) -> str:
    return (dt.datetime.fromisoformat(moment) + delta).isoformat(timespec="seconds")


def local_time(moment: str) -> str:
    """Return a stored UTC time as dd/mm/yyyy HH:MM on this machine's clock, for messages."""
    return dt.datetime.fromisoformat(moment).astimezone().strftime("%d/%m/%Y %H:%M")


def site_by_name(connection: Connection, name: str) -> dict | None:
    row = connection.execute(select(central_site).where(central_site.c.name == clean(name))).mappings().first()
    return dict(row) if row else None


def site_by_id(connection: Connection, site_id: str) -> dict | None:
    row = connection.execute(select(central_site).where(central_site.c.id == site_id)).mappings().first()
    return dict(row) if row else None


def add_site(connection: Connection, name: str, new_code_for_existing: bool = False) -> tuple[dict, str]:
    """Create a site with a one-time enrolment code, or give an existing site a new code; return (site, code).

    A new code for an existing site keeps its id and sequence, so the same laptop can enrol again after a
    revocation or a lost key. A new laptop starts its sequence at 1 and must be added as a new site.
    """
    from ..db import new_id

    name = clean(name)
    if not name or len(name) > NAME_MAX:
        raise FieldappError("central_site_name_invalid", value=name)
    site = site_by_name(connection, name)
    if site and not new_code_for_existing:
        raise FieldappError("central_site_exists", value=name)
    if not site and new_code_for_existing:
        raise FieldappError("central_site_not_found", value=name)

    code, moment = new_code(), now()
    values = {"code_hash": code_hash(code), "code_expires_at": _later(moment, CODE_VALID_FOR), "code_used_at": None}
    if site:
        connection.execute(update(central_site).where(central_site.c.id == site["id"]).values(**values))
    else:
        site = {"id": new_id(), "name": name, "created_at": moment, "acknowledged_through": 0}
        connection.execute(central_site.insert().values(**site, **values))
    return {**site, **values}, code


def enrol(connection: Connection, code: str, public_key: str) -> dict:
    """Spend a valid enrolment code on a site's public key; return the site.

    Raises StoreError("enrol_code_invalid", 403) for a wrong, used or expired code, and
    StoreError("enrol_key_invalid", 400) unless public_key is base64 of a 32-byte Ed25519 key.
    """
    try:
        raw = base64.b64decode(public_key or "", validate=True)
    except (binascii.Error, ValueError, TypeError) as error:
        raise StoreError("enrol_key_invalid", 400) from error
    if len(raw) != ED25519_KEY_BYTES:
        raise StoreError("enrol_key_invalid", 400)

    query = select(central_site).where(central_site.c.code_hash == code_hash(code or "")).with_for_update()
    site = connection.execute(query).mappings().first()
    moment = now()
    if site is None or site["code_used_at"] or site["code_expires_at"] <= moment:
        raise StoreError("enrol_code_invalid", 403)
    connection.execute(update(central_site).where(central_site.c.id == site["id"]).values(
        public_key=public_key, enrolled_at=moment, revoked_at=None, code_used_at=moment))
    return {**site, "public_key": public_key, "enrolled_at": moment, "revoked_at": None}


def revoke(connection: Connection, name: str) -> dict:
    """Revoke a site's key and any unused enrolment code; every later request from it is rejected."""
    site = site_by_name(connection, name)
    if site is None:
        raise FieldappError("central_site_not_found", value=clean(name))
    moment = now()
    connection.execute(update(central_site).where(central_site.c.id == site["id"]).values(
        revoked_at=moment, code_hash=None))
    return {**site, "revoked_at": moment}


def list_sites(connection: Connection) -> list[dict]:
    """Return every site in name order, each with its state (see site_state)."""
    rows = connection.execute(select(central_site).order_by(central_site.c.name)).mappings().all()
    moment = now()
    return [{**row, "state": site_state(row, moment)} for row in rows]


def site_state(site, moment: str) -> str:
    """Return "revoked", "enrolled", "waiting" (a valid code not yet used) or "code_expired"."""
    if site["revoked_at"]:
        return "revoked"
    if site["public_key"]:
        return "enrolled"
    if site["code_expires_at"] and site["code_expires_at"] > moment and not site["code_used_at"]:
        return "waiting"
    return "code_expired"


# Round packages.


def put_package(connection: Connection, site_id: str, body: str) -> None:
    """Keep a round package for a site, replacing the one put before."""
    values = {"site_id": site_id, "body": body, "put_at": now()}
    statement = dialect_insert(connection, package).values(**values)
    connection.execute(statement.on_conflict_do_update(index_elements=["site_id"],
                                                       set_={"body": body, "put_at": values["put_at"]}))


def package_for(connection: Connection, site_id: str) -> str | None:
    return connection.execute(select(package.c.body).where(package.c.site_id == site_id)).scalar_one_or_none()
