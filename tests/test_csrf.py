"""CSRF on every form post of the site and the central app, the central API that takes signatures instead,
and the session cookie on a real HTTPS server.

A post without a token, with a tampered one or with another session's token gets 400 and the error page
with the hint to reload, and changes nothing in the database. The routes come from the role matrices (test_auth.MATRIX and
test_central_auth.CENTRAL_MATRIX), which must list every route, so a new form post is walked here too.
The apps run as in production: TESTING does not turn Flask-WTF's check off.
"""

import datetime as dt
import http.client
import logging
import re
import shutil
import sqlite3
import ssl
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import SAMPLE, SAMPLE_DATE, csrf_token
from live_server import SiteServer
from test_auth import ACCOUNTS, MATRIX, OPEN, UNKNOWN
from test_central import enrolled_site, observations
from test_central_auth import CENTRAL_MATRIX

from fieldapp import advice, create_app, devices
from fieldapp.auth import add_staff
from fieldapp.central import central_engine
from fieldapp.central.store import CENTRAL_DATABASE_NAME
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.importer import import_files
from fieldapp.invitations import invite
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.sync import batches
from fieldapp.visits import Consent, Desk, check_in

REJECTED = "Yêu cầu không hợp lệ (có thể phiên làm việc đã hết hạn)."
RELOAD = "Tải lại trang rồi thử lại."
TODAY = dt.date.today()
# Each route is walked as the least privileged persona the matrix allows, not only as the site admin.
LEAST_PRIVILEGED_FIRST = ("reception", "nurse", "doc", "coord", "officer")
# The central store's API for sites takes JSON from the sync client, not forms from a browser, so it is
# exempt from CSRF. Its views do not use the staff session, because a site proves who it is in every request.
SIGNED = "the site signs the body with its Ed25519 key (X-Fieldapp-Site, X-Fieldapp-Signature)"
TOKEN_FREE = {
    ("POST", "/api/enrol"): "a new site has no key yet, so it sends the one-time enrolment code with its public key",
    ("POST", "/api/status"): SIGNED,
    ("POST", "/api/batches"): SIGNED,
    ("POST", "/api/package"): SIGNED,
}
SITE_POSTS = sorted(route for route in MATRIX if route[0] == "POST")
CENTRAL_POSTS = sorted(route for route in CENTRAL_MATRIX if route[0] == "POST" and route not in TOKEN_FREE)


def post_routes(app) -> set[tuple[str, str]]:
    return {("POST", rule.rule) for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def snapshot(*paths: Path) -> dict[str, list]:
    """Return every row of every table of SQLite files, sorted, to compare before and after a request."""
    tables = {}
    for path in paths:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                tables[f"{path.name}:{name}"] = sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        finally:
            connection.close()
    return tables


def fill(rule: str, ids: dict[str, str]) -> str:
    """Return the rule with real ids in its placeholders, or UNKNOWN where the walk has none."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda match: ids.get(match.group(1), UNKNOWN), rule)


def tampered(token: str) -> str:
    # The first character is part of the signed payload. Changing the last one may only flip base64 padding bits.
    return ("B" if token[0] != "B" else "C") + token[1:]


def csrf_reasons(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "flask_wtf.csrf"]


class Sessions:
    """Signed-in test clients of one app, kept per persona, each with the token of a page in .csrf.

    number distinguishes sessions of the same persona, for the test of another session's token.
    """

    def __init__(self, app, prepare=None):
        self.app = app
        self.prepare = prepare
        self.clients = {}

    def __call__(self, persona: str | None, number: int = 1):
        if (persona, number) in self.clients:
            return self.clients[(persona, number)]
        client = self.app.test_client()
        if persona:
            _, pin = ACCOUNTS[persona]
            response = client.post("/login", data={"username": persona, "pin": pin, "csrf_token": csrf_token(client)})
            assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_token(client)
        if self.prepare:
            self.prepare(client, persona)
        self.clients[(persona, number)] = client
        return client


# A site on an exam day: staff, a paired phone, a round today, one person checked in and waiting.


@pytest.fixture(scope="module")
def day_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("csrf-day") / DATABASE_NAME
    db = connect(path)
    import_files(db, [SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx"], SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", TODAY, 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
        site_id = sites(db, round_id)[0]["id"]
        invite(db, round_id, site_id, "all")
        staff = {username: add_staff(db, username, username.title(), role, pin)
                 for username, (role, pin) in ACCOUNTS.items()}
        advice.seed(db)
        moment = dt.datetime.now(dt.UTC)
        pairing = devices.create_pairing_token(db, "Điện thoại lễ tân", staff["officer"], moment)
        devices.redeem_pairing_token(db, pairing, moment)
    person_id = db.execute("SELECT id FROM person ORDER BY sort_key LIMIT 1").fetchone()[0]
    check_in(db, Desk(round_id, site_id, TODAY.isoformat()), get_person(db, person_id), Consent())
    db.conn.close()
    return path


def day_ids(path: Path) -> dict[str, str]:
    """Return the ids that fill the routes' placeholders, plus a person invited but not yet checked in."""
    db = connect(path)

    def one(sql: str) -> str:
        return db.execute(sql).fetchone()[0]

    try:
        visit_id = one("SELECT id FROM visit")
        task_id, desk_id = db.execute(
            """SELECT task.id, desk.id FROM task JOIN desk ON desk.station_type_id = task.station_type_id
               WHERE task.visit_id = ? AND task.in_line = 1 ORDER BY desk.number LIMIT 1""", [visit_id]).fetchone()
        return {
            "file_id": one("SELECT id FROM source_file"),
            "round_id": one("SELECT id FROM exam_round"),
            "site_id": one("SELECT id FROM site"),
            "visit_id": visit_id,
            "task_id": task_id,
            "desk_id": desk_id,
            # The station where blood pressure and pulse are taken.
            "station_code": "blood_pressure",
            "template_id": one("SELECT id FROM advice_template ORDER BY title LIMIT 1"),
            "staff_id": one("SELECT id FROM staff WHERE username = 'nurse'"),
            "device_id": one("SELECT id FROM device"),
            "waiting_person": one("SELECT id FROM person WHERE id NOT IN (SELECT person_id FROM visit) "
                                  "ORDER BY sort_key LIMIT 1"),
        }
    finally:
        db.conn.close()


def open_day(day_file: Path, folder: Path) -> SimpleNamespace:
    folder.mkdir(exist_ok=True)
    shutil.copy(day_file, folder / DATABASE_NAME)
    app = create_app({"DATA_DIR": str(folder), "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    ids = day_ids(folder / DATABASE_NAME)

    def choose_desk(client, persona):
        # Reception works at the site it chose for this phone.
        if persona == "reception":
            response = client.post("/checkin/desk", data={"site_id": ids["site_id"], "csrf_token": client.csrf})
            assert response.status_code == 302

    return SimpleNamespace(app=app, ids=ids, databases=[folder / DATABASE_NAME], session=Sessions(app, choose_desk))


@pytest.fixture(scope="module")
def walk_site(day_file, tmp_path_factory):
    """The exam day for the route walk: every post is rejected, so the tests can share it."""
    return open_day(day_file, tmp_path_factory.mktemp("csrf-walk") / "site")


@pytest.fixture
def day(day_file, tmp_path):
    return open_day(day_file, tmp_path / "site")


# Every post route, with three kinds of bad token in the form and one in the htmx header.


def rejected_posts(own: str, other: str) -> list[tuple[str, dict, dict, str]]:
    """Return (case, form, headers, Flask-WTF's logged reason) for each post that must be rejected."""
    htmx = {"HX-Request": "true", "X-CSRFToken": other}
    return [
        ("no token", {}, {}, "The CSRF token is missing."),
        ("tampered token", {"csrf_token": tampered(own)}, {}, "The CSRF token is invalid."),
        ("another session's token", {"csrf_token": other}, {}, "The CSRF tokens do not match."),
        ("another session's token in the htmx header", {}, htmx, "The CSRF tokens do not match."),
    ]


def assert_every_bad_token_rejected(place, matrix: dict, route: tuple[str, str], caplog) -> None:
    _, rule = route
    allowed, _ = matrix[route]
    persona = None if allowed == OPEN else next(name for name in LEAST_PRIVILEGED_FIRST if name in allowed)
    client = place.session(persona)
    other = place.session(persona, number=2)
    caplog.set_level(logging.INFO, logger="flask_wtf.csrf")
    before = snapshot(*place.databases)

    for case, form, headers, reason in rejected_posts(client.csrf, other.csrf):
        caplog.clear()
        response = client.post(fill(rule, place.ids), data=form, headers=headers)
        page = response.get_data(as_text=True)

        assert response.status_code == 400, f"{rule} as {persona} with {case}"
        assert REJECTED in page, f"{rule} with {case}"
        assert RELOAD in page, f"{rule} with {case}"
        assert csrf_reasons(caplog) == [reason], f"{rule} with {case}"
        if headers:
            assert "<html" not in page, f"{rule}: htmx gets the fragment, not a page"

    assert snapshot(*place.databases) == before, f"{rule} changed the database"


def test_csrf_on_as_in_production(walk_site, central):
    for app in (walk_site.app, central.app):
        assert app.config["TESTING"] is True
        assert app.config["WTF_CSRF_ENABLED"] is True
        assert app.config["WTF_CSRF_CHECK_DEFAULT"] is True


def test_site_post_routes_all_walked(walk_site):
    assert post_routes(walk_site.app) == set(SITE_POSTS), "add the new route to test_auth.MATRIX"


@pytest.mark.parametrize("route", SITE_POSTS, ids=lambda route: route[1])
def test_site_post_without_valid_token_rejected(walk_site, route, caplog):
    assert_every_bad_token_rejected(walk_site, MATRIX, route, caplog)


# The central app: its form posts are walked the same way, and the sites' API is checked for signatures instead.


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """The central app with every persona, a paired phone, and a site enrolled in its SQLite record store."""
    folder = tmp_path_factory.mktemp("csrf-central") / "central"
    folder.mkdir()
    app = create_app({"ROLE": "central", "DATA_DIR": str(folder), "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    db = connect(folder / DATABASE_NAME)
    with write(db):
        staff = {username: add_staff(db, username, username.title(), role, pin)
                 for username, (role, pin) in ACCOUNTS.items()}
        moment = dt.datetime.now(dt.UTC)
        pairing = devices.create_pairing_token(db, "Máy tính phường", staff["officer"], moment)
        device_id, _, _ = devices.redeem_pairing_token(db, pairing, moment)
    db.conn.close()
    engine = central_engine(app)
    site = enrolled_site(engine)
    yield SimpleNamespace(app=app, ids={"staff_id": staff["nurse"], "device_id": device_id}, site=site,
                          databases=[folder / DATABASE_NAME, folder / CENTRAL_DATABASE_NAME], session=Sessions(app))
    engine.dispose()


def test_central_post_routes_all_walked(central):
    routes = post_routes(central.app)

    assert routes == set(CENTRAL_POSTS) | set(TOKEN_FREE), "add the new route to test_central_auth.CENTRAL_MATRIX"
    assert {route for route in routes if route[1].startswith("/api/")} == set(TOKEN_FREE)


@pytest.mark.parametrize("route", CENTRAL_POSTS, ids=lambda route: route[1])
def test_central_post_without_valid_token_rejected(central, route, caplog):
    assert_every_bad_token_rejected(central, CENTRAL_MATRIX, route, caplog)


def api_post(client, path: str, value: object, site_id: str | None = None, key=None):
    body = batches.canonical(value)
    headers = {"X-Fieldapp-Site": site_id} if site_id else {}
    if key is not None:
        headers["X-Fieldapp-Signature"] = batches.sign(key, body)
    return client.post(path, data=body, headers=headers, content_type="application/json")


API_BODIES = {
    "/api/status": lambda site: {"site_id": site.id, "at": "2026-10-15T17:00:00+07:00"},
    "/api/batches": lambda site: batches.make_batch(site.id, observations(1, 2)),
    "/api/package": lambda site: {"site_id": site.id},
}


@pytest.mark.parametrize("signing, status, error", [
    ("no site and no signature", 401, "unknown_site"),
    ("no signature", 401, "signature"),
    ("another key's signature", 401, "signature"),
])
@pytest.mark.parametrize("path", API_BODIES)
def test_api_rejects_request_without_valid_signature(central, path, signing, status, error):
    # Sent from a signed-in staff session: the API ignores the session cookie, so a forged post gains nothing.
    client = central.session("officer")
    site_id = None if signing == "no site and no signature" else central.site.id
    key = batches.new_private_key() if signing == "another key's signature" else None
    before = snapshot(*central.databases)

    response = api_post(client, path, API_BODIES[path](central.site), site_id, key)

    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert snapshot(*central.databases) == before


def test_api_enrol_rejects_wrong_code(central):
    key = batches.new_private_key()
    before = snapshot(*central.databases)

    response = api_post(central.app.test_client(), "/api/enrol",
                        {"code": "0000-0000-0000-0000", "public_key": batches.public_key_text(key)})

    assert (response.status_code, response.get_json()) == (403, {"error": "enrol_code_invalid"})
    assert snapshot(*central.databases) == before


def test_api_signed_request_needs_no_token(central):
    response = api_post(central.app.test_client(), "/api/status", API_BODIES["/api/status"](central.site),
                        central.site.id, central.site.key)

    assert (response.status_code, response.get_json()) == (200, {"acknowledged_through": 0})


# Real forms with real ids: rejected without a token, and the same post with its token does what it should.

STAFF_FORM = {"display_name": "Nguyễn Thị Lan", "username": "lan.nt", "role": "doctor", "pin": "482913"}
# case: (persona, path, form, the table the accepted post adds one row to). The {names} are keys of day_ids().
FORMS = {
    "sign-in": (None, "/login", {"username": "nurse", "pin": "1357"}, "audit_event"),
    "staff account": ("officer", "/admin/staff", STAFF_FORM, "staff"),
    "check-in": ("reception", "/checkin/visit", {"person_id": "{waiting_person}", "consent": "1", "consent_by": "self"},
                 "visit"),
    "readings": ("nurse", "/entry/visit/{visit_id}/{station_code}", {"pulse.1": "72"}, "observation"),
    "conclusion": ("doc", "/doctor/visit/{visit_id}",
                   {"health_class": "II", "summary": "Sức khỏe bình thường.", "advice": "Khám lại sau 1 năm."},
                   "conclusion"),
    "sign-out": ("officer", "/logout", {}, "audit_event"),
}
IDEMPOTENCY_KEY = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


def rows(day, table: str) -> int:
    return len(snapshot(*day.databases)[f"{DATABASE_NAME}:{table}"])


@pytest.mark.parametrize("case", FORMS)
def test_form_post_without_token_changes_nothing(day, case):
    persona, path, form, table = FORMS[case]
    client = day.session(persona)
    url = path.format(**day.ids)
    data = {name: value.format(**day.ids) for name, value in form.items()}
    before = snapshot(*day.databases)

    rejected = client.post(url, data=data)
    unchanged = snapshot(*day.databases)
    accepted = client.post(url, data={**data, "csrf_token": client.csrf})

    assert rejected.status_code == 400
    assert REJECTED in rejected.get_data(as_text=True)
    assert unchanged == before
    assert accepted.status_code in (200, 302, 303), accepted.get_data(as_text=True)
    assert rows(day, table) == len(before[f"{DATABASE_NAME}:{table}"]) + 1


@pytest.mark.parametrize("case", FORMS)
def test_htmx_post_with_wrong_header_changes_nothing(day, case):
    persona, path, form, table = FORMS[case]
    client = day.session(persona)
    url = path.format(**day.ids)
    data = {name: value.format(**day.ids) for name, value in form.items()}
    # The offline queue sends the same idempotency key again after a rejection, so a rejection must not spend it.
    htmx = {"HX-Request": "true", "Idempotency-Key": IDEMPOTENCY_KEY}
    before = snapshot(*day.databases)

    rejected = client.post(url, data=data, headers={**htmx, "X-CSRFToken": tampered(client.csrf)})
    unchanged = snapshot(*day.databases)
    accepted = client.post(url, data=data, headers={**htmx, "X-CSRFToken": client.csrf})

    assert rejected.status_code == 400
    assert REJECTED in rejected.get_data(as_text=True)
    assert "<html" not in rejected.get_data(as_text=True)
    assert unchanged == before
    assert accepted.status_code in (200, 302, 303), accepted.get_data(as_text=True)
    assert "Idempotent-Replayed" not in accepted.headers
    assert rows(day, table) == len(before[f"{DATABASE_NAME}:{table}"]) + 1


# Tokens belong to one signed-in session.


def test_old_page_token_rejected_after_sign_out(day, caplog):
    client = day.session("officer")
    old = csrf_token(client, "/admin/staff")
    assert client.post("/logout", data={"csrf_token": old}).status_code == 302
    caplog.set_level(logging.INFO, logger="flask_wtf.csrf")
    before = snapshot(*day.databases)

    new_account = client.post("/admin/staff", data={**STAFF_FORM, "csrf_token": old})
    sign_in = client.post("/login", data={"username": "officer", "pin": "2468", "csrf_token": old})

    assert new_account.status_code == 400
    assert sign_in.status_code == 400
    assert REJECTED in sign_in.get_data(as_text=True)
    # The first rejection's page starts a new token in the session, which the old one does not match either.
    assert csrf_reasons(caplog) == ["The CSRF session token is missing.", "The CSRF tokens do not match."]
    assert snapshot(*day.databases) == before
    assert client.get("/admin/staff").status_code == 302


def test_token_from_before_sign_in_rejected(day, caplog):
    client = day.app.test_client()
    login_token = csrf_token(client)
    assert client.post("/login", data={"username": "officer", "pin": "2468", "csrf_token": login_token}).status_code == 302
    client.get("/roster/")
    caplog.set_level(logging.INFO, logger="flask_wtf.csrf")
    before = snapshot(*day.databases)

    response = client.post("/admin/staff", data={**STAFF_FORM, "csrf_token": login_token})

    assert response.status_code == 400
    assert csrf_reasons(caplog) == ["The CSRF tokens do not match."]
    assert snapshot(*day.databases) == before


# The session and device cookies on the real HTTPS server.


@pytest.fixture(scope="module")
def https_site(tmp_path_factory):
    """`fieldapp serve` over HTTPS with the officer's account and an unused pairing token."""
    folder = tmp_path_factory.mktemp("csrf-https")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        role, pin = ACCOUNTS["officer"]
        officer_id = add_staff(db, "officer", "Officer", role, pin)
        pairing = devices.create_pairing_token(db, "Điện thoại lễ tân", officer_id, dt.datetime.now(dt.UTC))
    db.conn.close()
    with SiteServer(data_dir, folder / "server.log", https=True) as server:
        yield SimpleNamespace(server=server, pairing=pairing)


def https_request(server: SiteServer, method: str, path: str, form: dict | None = None, cookie: str | None = None):
    """Send one request trusting the site's CA; return (status, {cookie name: (value, attributes)}, text)."""
    context = ssl.create_default_context(cafile=str(server.ca))
    connection = http.client.HTTPSConnection("127.0.0.1", server.https_port, context=context, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = "&".join(f"{name}={value}" for name, value in form.items())
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            pair, *attributes = [part.strip() for part in header.split(";")]
            name, value = pair.split("=", 1)
            cookies[name] = (value, {attribute.lower() for attribute in attributes})
        return response.status, cookies, response.read().decode()
    finally:
        connection.close()


def test_session_cookie_secure_httponly_lax(https_site):
    server = https_site.server
    status, cookies, page = https_request(server, "GET", "/login")
    value, first = cookies["session"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    status, cookies, _ = https_request(server, "POST", "/login", {"username": "officer", "pin": "2468", "csrf_token": token},
                                       cookie=f"session={value}")

    _, signed_in = cookies["session"]
    assert status == 302, server.output()
    for attributes in (first, signed_in):
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes


def test_device_cookie_secure_httponly_lax(https_site):
    status, cookies, _ = https_request(https_site.server, "GET", f"/pair/{https_site.pairing}")

    _, attributes = cookies[devices.DEVICE_COOKIE]
    assert status == 302
    assert {"secure", "httponly", "samesite=lax"} <= attributes


def test_https_post_without_token_rejected(https_site):
    server = https_site.server
    _, cookies, _ = https_request(server, "GET", "/login")

    status, _, page = https_request(server, "POST", "/login", {"username": "officer", "pin": "2468"},
                                    cookie=f"session={cookies['session'][0]}")

    assert status == 400
    assert REJECTED in page
