"""Check-in lookups: what a scanned or typed text is, and whom it leads to at this desk.

A text is one of: our invitation token (from the slip's QR code or Code128 barcode, or its
short code typed by hand in groups of four), a citizen card's QR code, or something that is
not ours (a product barcode, a URL, a phone number). Only the first two ever lead to a person.
"""

import re
from dataclasses import dataclass, field

import sqlite_utils

from .cccd_qr import CitizenCard, parse_card
from .invitations import find_by_token
from .tokens import LENGTH, PREFIX, TokenError, parse_token
from .visits import Desk, find_visit

_SEPARATORS = re.compile(r"[\s\-_.]+")
# A typed code this close to a token's length, starting with its prefix, is a slip code with a digit
# left out or doubled, not a foreign number.
_LENGTH_SLACK = 3
PERSON_COLUMNS = "id, full_name, sex, birth_date, cccd, cmnd, phone, address, tdp, class_name, parent_name, groups"


@dataclass(frozen=True)
class Scan:
    """The classification of a scanned or typed text: kind is token, card, mistyped, foreign or empty."""

    kind: str
    text: str
    token: str | None = None
    card: CitizenCard | None = None
    typed: bool = False  # the code had separators, so a person typed the short code
    digits: int = 0  # for a mistyped code: how many digits it has


def classify(text: str) -> Scan:
    """Return what a text from the camera, a USB scanner or the keyboard is; never touches the database."""
    raw = (text or "").strip()
    compact = _SEPARATORS.sub("", raw)
    if not compact:
        return Scan("empty", raw)

    card = parse_card(raw) if "|" in raw else None
    if card is not None:
        return Scan("card", raw, card=card)

    typed = compact != raw
    try:
        token = parse_token(raw)
    except TokenError as error:
        if error.reason == "check_failed":
            return Scan("mistyped", raw, typed=typed, digits=len(compact))
        near = compact.isascii() and compact.isdigit() and compact.startswith(PREFIX)
        if near and abs(len(compact) - LENGTH) <= _LENGTH_SLACK:
            return Scan("mistyped", raw, typed=typed, digits=len(compact))
        return Scan("foreign", raw)
    return Scan("token", raw, token=token, typed=typed)


@dataclass
class Outcome:
    """The result shown at the desk for one scan.

    result is person (confirm identity and check in), visit (already checked in today: open it),
    walkin (a citizen card not on the roster: register them), refused or ignored.
    code is an errors.CATALOGUE code for refusals, notices and warnings.
    """

    result: str
    code: str | None = None
    fields: dict = field(default_factory=dict)
    person: dict | None = None
    invitation: dict | None = None
    visit: dict | None = None
    card: CitizenCard | None = None
    needs_confirmation: bool = False  # invited to another site: check in here only after confirming


def get_person(db: sqlite_utils.Database, person_id: str) -> dict | None:
    """Return a person's roster details, or None."""
    cursor = db.execute(f"SELECT {PERSON_COLUMNS} FROM person WHERE id = ?", [person_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def find_by_card(db: sqlite_utils.Database, card: CitizenCard) -> dict | None:
    """Return the person with the card's CCCD number, or with its old CMND number, or None."""
    row = db.execute("SELECT id FROM person WHERE cccd = ? ORDER BY id LIMIT 1", [card.cccd]).fetchone()
    if row is None and card.cmnd:
        row = db.execute("SELECT id FROM person WHERE cmnd = ? ORDER BY id LIMIT 1", [card.cmnd]).fetchone()
    return get_person(db, row[0]) if row else None


def active_invitation(db: sqlite_utils.Database, round_id: str, person_id: str) -> dict | None:
    """Return a person's active invitation in a round, or None."""
    cursor = db.execute("SELECT * FROM invitation WHERE round_id = ? AND person_id = ? AND status = 'active'",
                        [round_id, person_id])
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def site_name(db: sqlite_utils.Database, site_id: str | None) -> str:
    row = db.execute("SELECT name FROM site WHERE id = ?", [site_id]).fetchone() if site_id else None
    return row[0] if row else ""


def look_up(db: sqlite_utils.Database, text: str, desk: Desk) -> Outcome:
    """Return whom a scanned or typed text leads to at this desk, or why it is refused."""
    scan = classify(text)
    if scan.kind == "empty":
        return Outcome("ignored")
    if scan.kind == "foreign":
        return Outcome("ignored", "checkin_not_ours")
    if scan.kind == "mistyped" and scan.digits != LENGTH:
        return Outcome("refused", "checkin_code_length", {"value": scan.text, "field": scan.digits})
    if scan.kind == "mistyped":
        return Outcome("refused", "checkin_code_mistyped", {"value": scan.text})
    if scan.kind == "card":
        person = find_by_card(db, scan.card)
        if person is None:
            return Outcome("walkin", "checkin_card_not_on_roster", {"value": scan.card.full_name}, card=scan.card)
        return person_outcome(db, person, desk)
    return _token_outcome(db, scan.token, desk)


def _token_outcome(db: sqlite_utils.Database, token: str, desk: Desk) -> Outcome:
    invitation = find_by_token(db, token)
    person = get_person(db, invitation["person_id"]) if invitation else None
    if invitation is None or person is None:
        return Outcome("refused", "checkin_token_unknown", {"value": token})
    if invitation["status"] == "void":
        return Outcome("refused", "checkin_token_void", {"value": person["full_name"]}, person=person,
                       invitation=invitation)
    if invitation["round_id"] != desk.round_id:
        other = db.execute("SELECT name FROM exam_round WHERE id = ?", [invitation["round_id"]]).fetchone()
        return Outcome("refused", "checkin_token_other_round", {"value": other[0] if other else ""}, person=person,
                       invitation=invitation)
    return person_outcome(db, person, desk, invitation)


def person_outcome(db: sqlite_utils.Database, person: dict, desk: Desk, invitation: dict | None = None) -> Outcome:
    """Return the outcome for a person found by token, card or search: their visit today, else the check-in form."""
    visit = find_visit(db, person["id"], desk.day)
    if visit is not None:
        return Outcome("visit", "checkin_already", {"value": visit["queue_number"]}, person=person, visit=visit)

    invitation = invitation or active_invitation(db, desk.round_id, person["id"])
    if invitation is not None and invitation["site_id"] != desk.site_id:
        return Outcome("person", "checkin_other_site", {"value": site_name(db, invitation["site_id"])},
                       person=person, invitation=invitation, needs_confirmation=True)
    if invitation is None:
        return Outcome("person", "checkin_not_invited", {}, person=person)
    return Outcome("person", person=person, invitation=invitation)
