"""`fieldapp check`: a health check of a site installation, for the evening before an exam day.

Each check returns one Result line: the data folder, the drive's free space, the database's integrity and
migrations, the HTTPS certificates, the records not yet sent, and the clock. Nothing needs the network.
"""

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_babel import gettext as _

from .. import auth
from ..db import DATABASE_NAME
from . import certificates, clock, database, sending, storage
from .result import ERROR, OK, WARNING, Result, worst

__all__ = ["ERROR", "OK", "WARNING", "Result", "as_json", "as_lines", "exit_code", "message_context", "run_checks"]


def _database_checks(folder: Path) -> tuple[list[Result], dt.datetime | None]:
    """Return the lines for the database, its migrations and the unsent records, and its newest record time."""
    path = folder / DATABASE_NAME
    if not path.is_file():
        return [database.missing(path)], None

    try:
        connection = database.open_read_only(path)
    except sqlite3.DatabaseError as error:
        return [database.damaged(path, [str(error)])], None
    try:
        integrity = database.check_integrity(path, connection)
        if integrity.status != OK:
            return [integrity], None
        results = [integrity, database.check_migrations(connection)]
        # A database from before the outbox's migration has nothing to send yet.
        if sending.TABLES <= database.table_names(connection):
            results.append(sending.check_sync(connection, folder))
        return results, database.newest_record_time(connection)
    except sqlite3.DatabaseError as error:
        return [database.damaged(path, [str(error)])], None
    finally:
        connection.close()


def run_checks(data_dir: str | Path, now: dt.datetime | None = None, addresses: list[str] | None = None) -> list[Result]:
    """Check a site's data folder and return one Result per line of the report, writing nothing but a probe file.

    now defaults to the laptop's clock (auth.current_time) and addresses to its current IPv4 addresses.
    Call inside an app context, which chooses the messages' language.
    """
    from ..network import local_addresses

    folder = Path(data_dir).expanduser().resolve()
    now = now or auth.current_time()
    results = [storage.check_folder(folder), storage.check_disk(folder)]
    if not folder.is_dir():
        return [*results, clock.check_clock(now, None, [])]

    database_results, newest = _database_checks(folder)
    tls = certificates.check_certificates(folder, local_addresses() if addresses is None else addresses, now)
    return [*results, *database_results, *tls.results, clock.check_clock(now, newest, tls.not_before)]


def exit_code(results: list[Result]) -> int:
    """Return the command's exit status: 1 when any check found an error, else 0 (warnings included)."""
    return 1 if worst(results) == ERROR else 0


def as_lines(results: list[Result]) -> list[str]:
    """Return one line per result: status, title, what was found and, unless OK, what to do."""
    labels = {OK: _("OK"), WARNING: _("CẢNH BÁO"), ERROR: _("LỖI")}
    width = max(len(label) for label in labels.values())
    lines = []
    for result in results:
        line = f"{labels[result.status]:<{width}}  {result.title}: {result.message}"
        lines.append(f"{line} {result.hint}" if result.hint else line)
    return lines


def as_json(results: list[Result], data_dir: str | Path) -> str:
    """Return the report as a JSON object: the folder, the overall status and each check with its details."""
    report = {
        "data_dir": str(Path(data_dir).expanduser().resolve()),
        "status": worst(results),
        "checks": [{"check": result.check, "status": result.status, "title": result.title, "message": result.message,
                    "hint": result.hint, "details": result.details} for result in results],
    }
    return json.dumps(report, ensure_ascii=False, indent=2)


@contextlib.contextmanager
def message_context():
    """Run a block inside a bare app that only translates messages (FIELDAPP_LANG), touching no data folder.

    create_app would create the data folder and its secret key, which a check of a missing folder must not do.
    """
    from ..app import select_locale

    app = Flask("fieldapp")
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    Babel(app, locale_selector=select_locale)
    with app.app_context():
        yield
