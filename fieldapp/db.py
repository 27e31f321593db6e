"""The site's SQLite file: connection settings, write transactions and named migrations."""

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from pathlib import Path

import sqlite_utils
from flask import current_app, g
from uuid6 import uuid7

from .migrations import MIGRATIONS

log = logging.getLogger(__name__)

DATABASE_NAME = "site.db"
# Waitress runs several threads; a writer waits this long for another's BEGIN IMMEDIATE to finish.
BUSY_TIMEOUT_MS = 10_000
# App setting: keep one connection per request thread instead of one per request.
REUSE_CONNECTIONS = "REUSE_CONNECTIONS"

_threads = threading.local()


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


def insert_row(db: sqlite_utils.Database, table: str, row: dict) -> None:
    """Insert one row given as column -> value, with a plain INSERT.

    sqlite_utils' Table.insert reads the table's columns before every insert. On the hot paths of an
    exam day (values, tasks, audit events) that doubled the cost of each row.
    """
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


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
    """Return this request's database connection, opening it on first use.

    With REUSE_CONNECTIONS (set by `fieldapp serve`), each request thread keeps its connection for the
    next request. Opening and closing one per request took about a fifth of the server's time under load,
    because closing the last connection also checkpoints the WAL.
    """
    if "db" not in g:
        path = Path(current_app.config["DATA_DIR"]) / DATABASE_NAME
        g.db = _thread_connection(path) if current_app.config.get(REUSE_CONNECTIONS) else connect(path)
    return g.db


def _thread_connection(path: Path) -> sqlite_utils.Database:
    cached = getattr(_threads, "connection", None)
    if cached is not None and cached[0] == path:
        return cached[1]
    if cached is not None:
        cached[1].conn.close()
    db = connect(path)
    _threads.connection = (path, db)
    return db


def close_db(_error: BaseException | None = None) -> None:
    """Close this request's connection, or leave the thread's reused one ready for its next request."""
    db = g.pop("db", None)
    if db is None:
        return
    db.__dict__.pop("before_first_write", None)
    cached = getattr(_threads, "connection", None)
    if cached is None or cached[1] is not db:
        db.conn.close()
    elif db.conn.in_transaction:
        # A request that ended inside a transaction (a bug) must not hand it to the next request.
        log.error("request ended inside a transaction; rolled back")
        db.conn.execute("ROLLBACK")


def init_app(app) -> None:
    """Close the request's connection at teardown."""
    app.teardown_appcontext(close_db)
