"""The site's SQLite file: connection settings, write transactions and named migrations."""

import contextlib
import datetime as dt
import logging
import sqlite3
from pathlib import Path

import sqlite_utils
from flask import current_app, g
from uuid6 import uuid7

from .migrations import MIGRATIONS

log = logging.getLogger(__name__)

DATABASE_NAME = "site.db"
# Waitress runs several threads; a writer waits this long for another's BEGIN IMMEDIATE to finish.
BUSY_TIMEOUT_MS = 10_000


def new_id() -> str:
    """Return a new UUIDv7 string: unique across sites and sorted by creation time."""
    return str(uuid7())


def now() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite_utils.Database:
    """Open the database with WAL, synchronous=FULL and a busy timeout, and apply pending migrations."""
    if not path.exists():
        # Health data: only the account running fieldapp may read the file (no effect on Windows ACLs).
        path.touch(mode=0o600)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL at every commit, so a power cut loses no acknowledged write.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(connection)
    migrate(db)
    return db


@contextlib.contextmanager
def write(db: sqlite_utils.Database):
    """Run a block in one transaction begun with BEGIN IMMEDIATE, so concurrent writers queue.

    A callable set as `db.before_first_write` runs inside the first such transaction of the connection
    (it is set again if that transaction rolls back): a request's idempotency key commits with its writes.
    """
    connection = db.conn
    connection.execute("BEGIN IMMEDIATE")
    hook = db.__dict__.pop("before_first_write", None)
    try:
        if hook is not None:
            hook(db)
        yield db
    except BaseException:
        connection.execute("ROLLBACK")
        if hook is not None:
            db.before_first_write = hook
        raise
    connection.execute("COMMIT")


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS migration (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM migration").fetchall()}
    applied = []
    for name, statements in MIGRATIONS:
        if name in done:
            continue
        with write(db):
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO migration (name, applied_at) VALUES (?, ?)", [name, now()])
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


def get_db() -> sqlite_utils.Database:
    """Return this request's database connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(Path(current_app.config["DATA_DIR"]) / DATABASE_NAME)
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    """Close this request's connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app) -> None:
    """Close the request's connection at teardown."""
    app.teardown_appcontext(close_db)
