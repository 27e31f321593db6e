"""A demo ward for trying fieldapp: synthetic lists imported the normal way, and a demo account."""

import datetime as dt
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .auth import add_staff
from .db import write
from .importer import import_files

DEMO_USER = "demo"
DEMO_RESIDENTS = 600
DEMO_ROUND = "Đợt khám thử"
DEMO_SITE = "Điểm khám thử"
# People already checked in on the demo's exam day, so the station screens and display have a queue.
DEMO_CHECKED_IN = 15
_LOGIN_FILE = "demo-login.txt"


@dataclass
class DemoLogin:
    """How to sign in to the demo, and how many people it holds."""

    username: str
    pin: str
    people: int


def ensure_demo(db: sqlite_utils.Database, folder: Path) -> DemoLogin:
    """Create the demo ward on an empty data folder; on a folder that has one, return its sign-in."""
    login_file = folder / _LOGIN_FILE
    people = db.execute("SELECT count(*) FROM person").fetchone()[0]
    if login_file.exists():
        username, pin = login_file.read_text(encoding="utf-8").split()[:2]
        return DemoLogin(username, pin, people)

    if people == 0:
        from .synthetic import generate

        lists = folder / "demo-lists"
        shutil.rmtree(lists, ignore_errors=True)
        generate(DEMO_RESIDENTS, 1, lists)
        today = dt.date.today()
        import_files(db, sorted((lists / "lists").iterdir()), today)
        import_files(db, [lists / "population.csv"], today, kind="population")
        # The truth files record what the generator did, which a real ward would never have.
        shutil.rmtree(lists / "truth", ignore_errors=True)
        _open_exam_day(db, today)

    pin = f"{secrets.randbelow(10**6):06d}"
    with write(db):
        if db.execute("SELECT 1 FROM staff WHERE username = ?", [DEMO_USER]).fetchone() is None:
            add_staff(db, DEMO_USER, "Demo", "site_admin", pin)
        else:
            db.execute("UPDATE staff SET pin_hash = ? WHERE username = ?", [_hash(pin), DEMO_USER])
    # NOTE: the demo PIN is kept in plain text so that every `serve --demo` can print it; real accounts never are.
    login_file.write_text(f"{DEMO_USER} {pin}\n", encoding="utf-8")
    login_file.chmod(0o600)
    people = db.execute("SELECT count(*) FROM person").fetchone()[0]
    return DemoLogin(DEMO_USER, pin, people)


def _open_exam_day(db: sqlite_utils.Database, today: dt.date) -> None:
    """Plan a round today with everyone invited and a few adults already checked in, so every screen has people."""
    from .checkin import get_person
    from .invitations import invite
    from .rounds import SiteSpec, create_round, sites
    from .visits import Consent, Desk, check_in

    with write(db):
        round_id = create_round(db, DEMO_ROUND, today, 1, [SiteSpec(DEMO_SITE, "Nhà văn hóa tổ dân phố 1", 40)],
                                ward="Phường mẫu", station="Trạm Y tế phường mẫu")
        site_id = sites(db, round_id)[0]["id"]
        invite(db, round_id, site_id, "all")

    desk = Desk(round_id, site_id, today.isoformat())
    adults = db.execute("SELECT id FROM person WHERE birth_date BETWEEN ? AND ? ORDER BY sort_key LIMIT ?",
                        [str(today.year - 70), str(today.year - 20), DEMO_CHECKED_IN]).fetchall()
    for (person_id,) in adults:
        check_in(db, desk, get_person(db, person_id), Consent())


def _hash(pin: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(pin)
