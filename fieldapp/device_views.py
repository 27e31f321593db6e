"""Staff accounts and paired devices, managed by the site admin."""

import ipaddress
import re

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from markupsafe import Markup

from . import auth, devices
from .db import get_db, write
from .errors import FieldappError
from .network import local_addresses
from .web import render

bp = Blueprint("devices", __name__, url_prefix="/admin")
# Fits a 360 px phone screen with the page's padding; the QR's own quiet zone is inside the image.
QR_SIZE_PX = 260
# `fieldapp serve` records where it listens in these two settings, and tests set them the same way. SERVE_HOST is
# the --host address. JOIN_HTTP_PORT is set only when the plain-HTTP join app runs beside the HTTPS site.
SERVE_HOST = "SERVE_HOST"
JOIN_HTTP_PORT = "JOIN_HTTP_PORT"
# --host values that listen on every network interface.
ALL_INTERFACES = {"", "0.0.0.0", "::"}


# Staff accounts.


def _staff_page(problem: FieldappError | None = None, form=None, status: int = 200):
    return render("devices/staff.html", status=status, accounts=auth.list_staff(get_db()), roles=auth.ROLE_LABELS,
                  problem=problem, form=form or {}, clock=auth.local_clock_time)


def _staff_or_404(db, staff_id: str) -> dict:
    account = auth.find_staff(db, staff_id=staff_id)
    if account is None:
        abort(404)
    return account


@bp.get("/staff")
@auth.require_role("site_admin")
def staff():
    return _staff_page()


@bp.post("/staff")
@auth.require_role("site_admin")
def create_staff():
    form = request.form
    db = get_db()
    try:
        with write(db):
            staff_id = auth.create_staff(db, form.get("username", ""), form.get("display_name", ""),
                                         form.get("role", ""), form.get("pin", ""))
            auth.audit(db, "staff_created", subject=staff_id, detail={"role": form.get("role")})
    except FieldappError as problem:
        return _staff_page(problem, {key: form.get(key, "") for key in ("username", "display_name", "role")},
                           problem.status)
    return redirect(url_for("devices.staff"))


@bp.post("/staff/<staff_id>/disable")
@auth.require_role("site_admin")
def disable_staff(staff_id: str):
    db = get_db()
    _staff_or_404(db, staff_id)
    if staff_id == g.staff["id"]:
        return _staff_page(FieldappError("staff_disable_self"), status=400)
    with write(db):
        auth.set_active(db, staff_id, False)
        auth.audit(db, "staff_disabled", subject=staff_id)
    return redirect(url_for("devices.staff"))


@bp.post("/staff/<staff_id>/enable")
@auth.require_role("site_admin")
def enable_staff(staff_id: str):
    db = get_db()
    _staff_or_404(db, staff_id)
    with write(db):
        auth.set_active(db, staff_id, True)
        auth.audit(db, "staff_enabled", subject=staff_id)
    return redirect(url_for("devices.staff"))


@bp.post("/staff/<staff_id>/pin")
@auth.require_role("site_admin")
def reset_pin(staff_id: str):
    db = get_db()
    _staff_or_404(db, staff_id)
    try:
        with write(db):
            auth.reset_pin(db, staff_id, request.form.get("pin", ""))
            auth.audit(db, "staff_pin_reset", subject=staff_id)
    except FieldappError as problem:
        return _staff_page(problem, status=problem.status)
    return redirect(url_for("devices.staff"))


# Devices.


def _is_loopback_host(host: str) -> bool:
    return host.strip("[]").lower() == "localhost" or auth.is_loopback(host.strip("[]"))


def _url_host(address: str) -> str:
    """Return an address as a URL writes it: IPv6 in brackets."""
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address


def _request_host_and_port() -> tuple[str, str]:
    """Split the request's Host header into the host and the port with its colon ("" when absent)."""
    match = re.fullmatch(r"(\[[^\]]+\]|[^:]+)(:\d+)?", request.host)
    if match is None:
        return request.host, ""
    return match.group(1), match.group(2) or ""


def loopback_only(host: str) -> bool:
    """True when the site listens on a loopback address only and the browser reached it there: no phone can."""
    return _is_loopback_host(current_app.config.get(SERVE_HOST) or "") and _is_loopback_host(host)


def phone_host(host: str) -> str:
    """Return the host a phone on the site's Wi-Fi uses in place of the request's host.

    When the site listens on one address, that address is the only one that works. When it listens on
    every interface, a loopback host, which the admin's browser on the laptop usually shows, is replaced
    by the laptop's first private address. When it listens on loopback only, no address reaches it from
    a phone, so the host is kept: the link still works on the laptop, and the pages show a warning.
    """
    bound = current_app.config.get(SERVE_HOST) or ""
    if bound not in ALL_INTERFACES and not _is_loopback_host(bound):
        return _url_host(bound)
    if _is_loopback_host(host) and not _is_loopback_host(bound):
        return _url_host(local_addresses()[0])
    return host


def pairing_url(token: str) -> str:
    """Return the address a phone opens to pair, with the host phone_host() picks and the request's port."""
    host, port = _request_host_and_port()
    return f"{request.scheme}://{phone_host(host)}{port}{url_for('auth.pair', token=token)}"


@bp.context_processor
def _phone_access() -> dict:
    # Every devices page shows where to print the join sheet, and warns when phones cannot reach the site.
    host, _port = _request_host_and_port()
    join_port = current_app.config.get(JOIN_HTTP_PORT)
    join_sheet_url = f"http://{phone_host(host)}:{join_port}/join-sheet" if join_port else None
    return {"loopback_only": loopback_only(host), "serve_host": current_app.config.get(SERVE_HOST),
            "join_sheet_url": join_sheet_url}


def qr_svg(text: str) -> Markup:
    """Return an inline SVG QR code of a text, QR_SIZE_PX wide."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'width="[^"]+" height="[^"]+"', f'width="{QR_SIZE_PX}" height="{QR_SIZE_PX}" role="img"', svg, count=1)
    # The SVG comes from qrcode, not from user input, so it is safe to insert as markup.
    return Markup(svg)


def _devices_page(problem: FieldappError | None = None, status: int = 200):
    return render("devices/index.html", status=status, devices=devices.list_devices(get_db()), problem=problem,
                  display_time=devices.display_time)


@bp.get("/devices")
@auth.require_role("site_admin")
def index():
    return _devices_page()


@bp.post("/devices/pair")
@auth.require_role("site_admin")
def pair():
    db = get_db()
    moment = auth.current_time()
    try:
        with write(db):
            token = devices.create_pairing_token(db, request.form.get("name", ""), g.staff["id"], moment)
            auth.audit(db, "pairing_started")
    except FieldappError as problem:
        return _devices_page(problem, problem.status)
    url = pairing_url(token)
    response = render("devices/pair.html", url=url, token=token, qr=qr_svg(url),
                      name=devices.clean_device_name(request.form.get("name", "")),
                      expires=auth.local_clock_time(moment + devices.PAIRING_LIFETIME),
                      minutes=int(devices.PAIRING_LIFETIME.total_seconds() // 60))
    # The page shows a live token: browsers must not keep it in their cache or history.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/devices/<device_id>/revoke")
@auth.require_role("site_admin")
def revoke(device_id: str):
    db = get_db()
    with write(db):
        if not devices.revoke(db, device_id, auth.current_time()):
            abort(404)
        auth.audit(db, "device_revoked", subject=device_id)
    return redirect(url_for("devices.index"))
