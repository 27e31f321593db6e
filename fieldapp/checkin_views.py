"""Check-in at the door: scan a slip or citizen card, type a code, search, register walk-ins."""

from flask import Blueprint

bp = Blueprint("checkin", __name__, url_prefix="/checkin")
