"""Shared fixtures: a real SQLite data folder per test, the app, and signed-in staff personas."""

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.auth import add_staff
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.importer import import_files
from fieldapp.invitations import invite
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.visits import Desk

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "ward-3000"
# The sample ward's lists were written on this date; age groups are counted on it.
SAMPLE_DATE = dt.date(2025, 10, 15)
# The police's population extract: a cross-check for the invitation lists, not a list itself.
POPULATION_FILE = "cong-an-dan-cu.csv"
STATION_SITE = SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)
PERSONAS = {
    "officer": ("site_admin", "2468"),
    "nurse": ("station", "1357"),
    "reception": ("reception", "1111"),
}


def sample_lists() -> list[Path]:
    """Return the sample ward's invitation lists: every file except the population extract."""
    return sorted(path for path in SAMPLE.iterdir() if path.is_file() and path.name != POPULATION_FILE)


def import_station_ward(db, days: int = 1, lists: list[Path] | None = None) -> Desk:
    """Import the sample ward's lists (or the given ones) and open a round from today at one station.

    Everyone imported is invited. Return today's desk at that station.
    """
    import_files(db, lists or sample_lists(), SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), days, [STATION_SITE])
        site_id = sites(db, round_id)[0]["id"]
        invite(db, round_id, site_id, "all")
    return Desk(round_id, site_id, dt.date.today().isoformat())


def add_accounts(data_dir: Path, accounts: dict[str, tuple[str, str]] = PERSONAS) -> None:
    """Add one staff account per username: (role, PIN), with the username as display name."""
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        for username, (role, pin) in accounts.items():
            add_staff(db, username, username.title(), role, pin)
    db.conn.close()


def site_app(data_dir: Path, ward_file: Path, accounts: dict[str, tuple[str, str]] = PERSONAS):
    """Return a test app on a copy of ward_file, with the given staff accounts."""
    shutil.copy(ward_file, data_dir / DATABASE_NAME)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    add_accounts(data_dir, accounts)
    return app


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    return folder


@pytest.fixture
def app(data_dir: Path):
    # No pause after failed sign-ins: the lockout tests make many on purpose.
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    with app.app_context():
        add_accounts(data_dir)
    return app


@pytest.fixture
def db(app, data_dir: Path):
    database = connect(data_dir / DATABASE_NAME)
    yield database
    database.conn.close()


def csrf_token(client, url: str = "/login") -> str:
    """Return the CSRF token embedded in a page's forms."""
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, persona: str) -> None:
    """Sign a test client in as one of PERSONAS."""
    _, pin = PERSONAS[persona]
    response = client.post("/login", data={"username": persona, "pin": pin, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def officer(app):
    client = app.test_client()
    sign_in(client, "officer")
    client.csrf = csrf_token(client, "/imports/")
    return client


@pytest.fixture
def client(app):
    return app.test_client()


class Clock:
    """A fake clock for auth.current_time, moved by hand."""

    def __init__(self):
        self.now = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    from fieldapp import auth

    fake = Clock()
    monkeypatch.setattr(auth, "current_time", fake)
    return fake
