"""Staff accounts and paired devices, managed by the site admin."""

from flask import Blueprint

bp = Blueprint("devices", __name__, url_prefix="/admin")
