"""Kept connections: with REUSE_CONNECTIONS, as `fieldapp serve` sets it, a request thread keeps its SQLite connection."""

import threading

import pytest
from conftest import sign_in
from flask import g

from fieldapp.db import REUSE_CONNECTIONS, get_db, write


@pytest.fixture
def served(app):
    """The app as `fieldapp serve` configures it, with test views that report their connection."""
    app.config[REUSE_CONNECTIONS] = True
    seen = []

    @app.get("/connection")
    def connection():
        seen.append(get_db())
        return str(get_db().execute("SELECT count(*) FROM staff").fetchone()[0])

    @app.get("/connection/stuck")
    def stuck():
        # A view that leaves its transaction open, as a bug would.
        get_db().conn.execute("BEGIN IMMEDIATE")
        seen.append(g.db)
        return "left open"

    app.seen = seen
    return app


def signed_in(app):
    client = app.test_client()
    sign_in(client, "officer")
    return client


def test_thread_keeps_its_connection(served):
    client = signed_in(served)

    client.get("/connection")
    client.get("/connection")

    assert served.seen[0] is served.seen[1]


def test_threads_get_own_connections(served):
    client = signed_in(served)
    other = threading.Thread(target=lambda: signed_in(served).get("/connection"))

    client.get("/connection")
    other.start()
    other.join(timeout=30)

    assert len(served.seen) == 2
    assert served.seen[0] is not served.seen[1]


def test_open_transaction_rolled_back(served, db):
    client = signed_in(served)

    client.get("/connection/stuck")
    after = client.get("/connection")

    assert served.seen[0] is served.seen[1]
    assert not served.seen[1].conn.in_transaction
    assert after.status_code == 200
    with write(db):
        db.execute("UPDATE staff SET display_name = display_name")


def test_other_writes_seen(served, db):
    client = signed_in(served)
    before = int(client.get("/connection").get_data(as_text=True))

    with write(db):
        db.execute("INSERT INTO staff (id, username, display_name, role, pin_hash, created_at)"
                   " VALUES ('x', 'extra', 'Extra', 'station', 'x', '2026-01-01T00:00:00+00:00')")
    after = int(client.get("/connection").get_data(as_text=True))

    assert after == before + 1


def test_request_connection_closed_without_setting(app):
    seen = []

    @app.get("/connection")
    def connection():
        seen.append(get_db())
        return ""

    client = signed_in(app)
    client.get("/connection")
    client.get("/connection")

    assert len(seen) == 2
    assert seen[0] is not seen[1]
