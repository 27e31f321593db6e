"""Roles on every route of the central app: each persona and no session, on an empty SQLite record store."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import csrf_token
from test_auth import (
    ACCOUNTS,
    ADMIN,
    COORDINATION,
    OPEN,
    SIGNED_IN,
    app_routes,
    concrete,
    post_login,
)

from fieldapp import create_app
from fieldapp.auth import add_staff
from fieldapp.db import DATABASE_NAME, connect, write

# Each route lists the personas allowed and the status they get with placeholder ids and a form holding
# only the CSRF token (404: unknown id, 400: form rejected). Everyone else gets 403, and without a session
# every guarded route redirects to /login. The sites' API takes no session: it answers every caller alike,
# and a request without a site's signature gets 401 (400 from /api/enrol for a body that is not JSON).
CENTRAL_MATRIX = {
    ("GET", "/"): (SIGNED_IN, 302),
    ("GET", "/central/"): (COORDINATION, 200),
    ("GET", "/central/coverage"): (COORDINATION, 200),
    ("GET", "/central/coverage.csv"): (COORDINATION, 200),
    ("GET", "/central/not-examined.csv"): (COORDINATION, 200),
    ("GET", "/central/findings"): (COORDINATION, 200),
    # Without ?category= the CSV names no finding class.
    ("GET", "/central/findings.csv"): (COORDINATION, 404),
    ("GET", "/central/followup"): (COORDINATION, 200),
    ("GET", "/central/followup.xlsx"): (COORDINATION, 200),
    ("GET", "/central/report.xlsx"): (COORDINATION, 200),
    ("GET", "/central/review/"): (COORDINATION, 200),
    ("POST", "/central/review/decide"): (COORDINATION, 400),
    ("POST", "/central/review/undo"): (COORDINATION, 400),
    ("GET", "/admin/staff"): (ADMIN, 200),
    ("POST", "/admin/staff"): (ADMIN, 400),
    ("POST", "/admin/staff/<staff_id>/disable"): (ADMIN, 404),
    ("POST", "/admin/staff/<staff_id>/enable"): (ADMIN, 404),
    ("POST", "/admin/staff/<staff_id>/pin"): (ADMIN, 404),
    ("GET", "/admin/devices"): (ADMIN, 200),
    ("POST", "/admin/devices/pair"): (ADMIN, 400),
    ("POST", "/admin/devices/<device_id>/revoke"): (ADMIN, 404),
    ("POST", "/logout"): (SIGNED_IN, 302),
    # Open to everyone, signed in or not.
    ("POST", "/api/enrol"): (OPEN, 400),
    ("POST", "/api/status"): (OPEN, 401),
    ("POST", "/api/batches"): (OPEN, 401),
    ("POST", "/api/package"): (OPEN, 401),
    ("GET", "/login"): (OPEN, 200),
    ("POST", "/login"): (OPEN, 401),
    ("GET", "/pair/<token>"): (OPEN, 404),
    ("POST", "/lang"): (OPEN, 302),
    ("GET", "/static/<path:filename>"): (OPEN, 200),
    ("GET", "/sw.js"): (OPEN, 200),
    ("GET", "/manifest.webmanifest"): (OPEN, 200),
    ("GET", "/offline"): (OPEN, 200),
}


@pytest.fixture
def central_app(tmp_path: Path):
    """The central app with every persona's account and its record store in DATA_DIR/central.db."""
    folder = tmp_path / "central"
    folder.mkdir()
    app = create_app({"ROLE": "central", "DATA_DIR": str(folder), "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    db = connect(folder / DATABASE_NAME)
    with write(db):
        for username, (role, pin) in ACCOUNTS.items():
            add_staff(db, username, username.title(), role, pin)
    db.conn.close()
    yield app
    if "central_engine" in app.extensions:
        app.extensions["central_engine"].dispose()


def test_central_matrix_lists_every_route(central_app):
    routes = app_routes(central_app)

    assert routes - set(CENTRAL_MATRIX) == set(), "add the new route to CENTRAL_MATRIX with the roles it allows"
    assert set(CENTRAL_MATRIX) - routes == set()


@pytest.mark.parametrize("persona", [None, *ACCOUNTS])
def test_central_role_matrix(central_app, persona):
    client = central_app.test_client()
    if persona:
        assert post_login(client, persona, ACCOUNTS[persona][1]).status_code == 302
    token = csrf_token(client)
    # Sign-out last, so the other requests run in the session.
    routes = sorted(app_routes(central_app), key=lambda route: (route == ("POST", "/logout"), route))

    for method, rule in routes:
        allowed, status = CENTRAL_MATRIX[(method, rule)]
        response = client.open(concrete(rule), method=method, data={"csrf_token": token} if method == "POST" else None)
        response.close()
        to_login = response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
        if allowed != OPEN and persona is None:
            assert to_login, f"{method} {rule}"
        elif allowed != OPEN and persona not in allowed:
            assert response.status_code == 403, f"{method} {rule} as {persona}"
        else:
            assert response.status_code == status, f"{method} {rule} as {persona}"
