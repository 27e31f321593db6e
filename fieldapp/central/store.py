"""The central record store: the database engine, applying a site's batch, and reading records for reports.

The same code runs on SQLite (the default, a file in the data folder) and on PostgreSQL through psycopg 3.
A batch is applied in one transaction. Records up to the site's acknowledged_through are already held and
change nothing; newer ones are inserted with ON CONFLICT (kind, id) DO NOTHING, and a record whose id the
store already holds is an edit: merged field by field for a person, taken whole when newer for the other
changeable kinds, and ignored for append-only exam records.
"""

import contextlib
import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
from sqlalchemy import bindparam, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..sync.batches import BatchError, check_batch
from . import people
from .schema import batch as batch_table
from .schema import central_site, metadata, record

CENTRAL_DATABASE_NAME = "central.db"
# A writer waits this long for another writer's transaction on SQLite before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Records per INSERT statement: large enough to keep round trips few, small enough for SQLite's
# 32,766 bound-parameter limit (8 columns a row).
INSERT_CHUNK = 2000
# Observations and conclusions never change: a correction is a new record, so a second record with the
# same id is a copy. A visit does change (its consent is recorded after check-in), like the other kinds.
APPEND_ONLY_KINDS = {"observation", "conclusion"}
# Record ids are UUIDv7 strings; anything with spaces, quotes or control characters is rejected.
RECORD_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


class StoreError(Exception):
    """A request the store rejects: the error code and HTTP status of docs/sync.md, and extra response fields.

    detail is for the log only, never sent.
    """

    def __init__(self, code: str, status: int, detail: str = "", **extra: object):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.status = status
        self.detail = detail
        self.extra = extra


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def database_url(data_dir: str | os.PathLike, explicit: str | None = None) -> str:
    """Return the SQLAlchemy URL: the explicit one (postgresql:// means psycopg 3), else DATA_DIR/central.db."""
    if not explicit:
        return f"sqlite:///{Path(data_dir).resolve() / CENTRAL_DATABASE_NAME}"
    for prefix in ("postgresql://", "postgres://"):
        if explicit.startswith(prefix):
            return "postgresql+psycopg://" + explicit[len(prefix):]
    return explicit


def connect(url: str) -> Engine:
    """Return an engine for the store and create its tables if missing.

    SQLite gets WAL, synchronous=FULL, a busy timeout, and BEGIN IMMEDIATE for write transactions.
    """
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    # NOTE: create_all makes missing tables but never changes existing ones. A later change to
    # schema.py needs a migration (Alembic, or named steps as in fieldapp/migrations.py).
    metadata.create_all(engine)
    return engine


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:" and not Path(path).exists():
        # Health data: only the account running the central store may read the file.
        Path(path).touch(mode=0o600)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection, _record):
        # SQLAlchemy then emits BEGIN itself (below), instead of the sqlite3 module's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):
        # A write transaction takes the write lock at once, so two writers queue on the busy timeout
        # instead of one failing when it upgrades from reading to writing.
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextlib.contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in one write transaction, committed at the end or rolled back on an error."""
    with engine.connect() as connection:
        connection = connection.execution_options(write=True)
        with connection.begin():
            yield connection


def dialect_insert(connection: Connection, table):
    """Return the INSERT construct of the connection's dialect, which has on_conflict_do_nothing()."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


# Applying a batch.


def apply_batch(connection: Connection, site: dict, batch: dict) -> dict:
    """Apply a site's batch in the caller's transaction; return the response body of POST /api/batches.

    Raises batches.BatchError for a malformed batch, StoreError("sequence_gap", expected_seq=N) when the
    batch starts after acknowledged_through + 1, and StoreError for a site that is unknown or revoked.
    """
    check_records(batch)
    check_batch(batch)
    if batch.get("site_id") != site["id"]:
        raise StoreError("batch_format", 400, detail="site_id")
    acknowledged = _lock_site(connection, site["id"])
    if batch["first_seq"] > acknowledged + 1:
        raise StoreError("sequence_gap", 409, expected_seq=acknowledged + 1)

    received_at = now()
    fresh = [item for item in batch["records"] if item["seq"] > acknowledged]
    statuses = {item["seq"]: "duplicate" for item in batch["records"] if item["seq"] <= acknowledged}
    if fresh:
        connection.execute(
            dialect_insert(connection, batch_table).on_conflict_do_nothing(),
            {"site_id": site["id"], "first_seq": fresh[0]["seq"], "last_seq": fresh[-1]["seq"],
             "hash": batch["hash"], "records": len(fresh), "received_at": received_at},
        )
        statuses.update(_apply_records(connection, site["id"], fresh, received_at))
        acknowledged = batch["last_seq"]
        connection.execute(update(central_site).where(central_site.c.id == site["id"])
                           .values(acknowledged_through=acknowledged))
    return {"acknowledged_through": acknowledged,
            "records": [{"seq": item["seq"], "status": statuses[item["seq"]]} for item in batch["records"]]}


def check_records(batch: dict) -> None:
    """Raise BatchError("batch_record") for a record whose seq, id or recorded_at the store cannot keep.

    batches.check_batch checks the rest; this runs first because it compares seq values, which must be integers.
    """
    items = batch.get("records") if isinstance(batch, dict) else None
    for item in items if isinstance(items, list) else []:
        seq = item.get("seq") if isinstance(item, dict) else None
        if type(seq) is not int or seq < 1:
            raise BatchError("batch_record", f"seq {seq!r}")
        if not isinstance(item.get("id"), str) or not RECORD_ID.fullmatch(item["id"]):
            raise BatchError("batch_record", f"id of seq {seq}")
        try:
            people.instant(item.get("recorded_at"))
        except (TypeError, ValueError) as error:
            raise BatchError("batch_record", f"recorded_at of seq {seq}") from error


def _lock_site(connection: Connection, site_id: str) -> int:
    """Return the site's acknowledged_through, locking its row until commit so its batches apply one at a time.

    Raises StoreError for a site that is unknown or revoked by now.
    """
    query = (select(central_site.c.acknowledged_through, central_site.c.revoked_at)
             .where(central_site.c.id == site_id).with_for_update())
    row = connection.execute(query).first()
    if row is None:
        raise StoreError("unknown_site", 401)
    if row.revoked_at:
        raise StoreError("site_revoked", 403)
    return row.acknowledged_through


def _apply_records(connection: Connection, site_id: str, items: list[dict], received_at: str) -> dict[int, str]:
    """Insert new records and merge edits of held ones, in sequence order; return {seq: status}."""
    first_of_key: dict[tuple[str, str], dict] = {}
    for item in items:
        first_of_key.setdefault((item["kind"], item["id"]), item)
    inserted = _insert_new(connection, site_id, list(first_of_key.values()), received_at)

    statuses: dict[int, str] = {}
    edits = []
    stored_people: dict[str, dict] = {}
    for item in items:
        key = (item["kind"], item["id"])
        if key in inserted and first_of_key[key] is item:
            statuses[item["seq"]] = "stored"
            if item["kind"] == "person":
                stored_people[item["id"]] = item["payload"]
        elif item["kind"] in APPEND_ONLY_KINDS:
            statuses[item["seq"]] = "duplicate"
        else:
            statuses[item["seq"]] = "merged"
            edits.append(item)
    merged_people = _merge_held(connection, site_id, edits, received_at) if edits else {}

    # people.link takes people in sequence order: the first seen of two with one ID number is the central person.
    held_people = {**stored_people, **merged_people}
    changed_people = {item["id"]: people.with_removed_flag(held_people[item["id"]])
                      for item in items if item["kind"] == "person"}
    if changed_people:
        people.link(connection, changed_people)
    return statuses


def encode_payload(payload: dict) -> str:
    """Return a payload as stored: compact JSON, not canonical (sorting the keys would double the time)."""
    return orjson.dumps(payload).decode("utf-8")


def _insert_new(connection: Connection, site_id: str, items: list[dict], received_at: str) -> set[tuple[str, str]]:
    """Insert the records whose (kind, id) the store does not hold; return the keys inserted."""
    if connection.dialect.name == "postgresql":
        return _insert_new_postgresql(connection, site_id, items, received_at)
    rows = [{"kind": item["kind"], "id": item["id"], "site_id": site_id, "seq": item["seq"],
             "recorded_at": item["recorded_at"], "payload": encode_payload(item["payload"]),
             "field_times": None, "received_at": received_at} for item in items]
    statement = (dialect_insert(connection, record).on_conflict_do_nothing(index_elements=["kind", "id"])
                 .returning(record.c.kind, record.c.id))
    inserted: set[tuple[str, str]] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        result = connection.execute(statement, rows[start:start + INSERT_CHUNK])
        inserted.update((kind, record_id) for kind, record_id in result.all())
    return inserted


RECORD_COLUMNS = ("kind", "id", "site_id", "seq", "recorded_at", "payload", "field_times", "received_at")


def _insert_new_postgresql(connection: Connection, site_id: str, items: list[dict],
                           received_at: str) -> set[tuple[str, str]]:
    """Insert records on PostgreSQL with COPY; return the keys inserted.

    Observations and conclusions are new unless a batch is replayed, and the sequence check has caught
    replays already, so they are copied straight into the table. Should one be held after all, that COPY
    is undone and they go the other kinds' way: COPY into a temporary table, then one INSERT ... SELECT
    ... ON CONFLICT DO NOTHING. With 60,000-record site days on PostgreSQL 15, the straight COPY took a
    third of the time of the other way, which took a tenth of the time of SQLAlchemy's multi-row
    INSERT ... VALUES, whose long statements psycopg parses in Python.
    """
    exam_items = [item for item in items if item["kind"] in APPEND_ONLY_KINDS]
    other_items = [item for item in items if item["kind"] not in APPEND_ONLY_KINDS]
    row_end = f"\t\\N\t{received_at}\n".encode()
    cursor = connection.connection.driver_connection.cursor()
    try:
        inserted: set[tuple[str, str]] = set()
        if exam_items and _copy_straight(cursor, _copy_text(site_id, exam_items, row_end)):
            inserted.update((item["kind"], item["id"]) for item in exam_items)
        else:
            other_items = items
        if other_items:
            inserted.update(_copy_through_temporary_table(cursor, _copy_text(site_id, other_items, row_end)))
    finally:
        cursor.close()
    return inserted


def _copy_straight(cursor, text: bytes) -> bool:
    """COPY rows into the record table; return False, with nothing written, if one of them is held already."""
    import psycopg

    cursor.execute("SAVEPOINT straight_copy")
    try:
        with cursor.copy(f"COPY record ({', '.join(RECORD_COLUMNS)}) FROM STDIN") as copy:
            copy.write(text)
    except psycopg.errors.UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT straight_copy")
        return False
    cursor.execute("RELEASE SAVEPOINT straight_copy")
    return True


def _copy_through_temporary_table(cursor, text: bytes) -> set[tuple[str, str]]:
    """COPY rows into a temporary table, then insert those not held; return the keys inserted."""
    columns = ", ".join(RECORD_COLUMNS)
    # A temporary table lasts as long as the database session, which the pool keeps open. It is created
    # again if missing, because a rolled-back transaction also undoes its creation.
    cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS incoming_record (LIKE record)")
    with cursor.copy(f"COPY incoming_record ({columns}) FROM STDIN") as copy:
        copy.write(text)
    cursor.execute(f"INSERT INTO record ({columns}) SELECT {columns} FROM incoming_record "
                   "ON CONFLICT (kind, id) DO NOTHING RETURNING kind, id")
    inserted = {(kind, record_id) for kind, record_id in cursor.fetchall()}
    cursor.execute("TRUNCATE incoming_record")
    return inserted


def _copy_text(site_id: str, items: list[dict], row_end: bytes) -> bytes:
    """Return the records as COPY's text format, in RECORD_COLUMNS order, each line ending with row_end.

    check_records allows no control characters or backslashes in ids and times, and compact JSON escapes
    tabs and line breaks inside strings, so only the payload's backslashes need escaping. Built as bytes
    because psycopg would otherwise encode every line again.
    """
    return b"".join(
        f"{item['kind']}\t{item['id']}\t{site_id}\t{item['seq']}\t{item['recorded_at']}\t".encode()
        + orjson.dumps(item["payload"]).replace(b"\\", b"\\\\") + row_end
        for item in items
    )


def _merge_held(connection: Connection, site_id: str, edits: list[dict], received_at: str) -> dict[str, dict]:
    """Merge records, in sequence order, into the held rows of the same kind and id; return {person id: payload now held}.

    The held rows are read in one query and written back in one statement, not two round trips a record:
    a site day's invitations each come back once with their time slot.
    """
    held = _held_rows(connection, {(item["kind"], item["id"]) for item in edits})
    changed: dict[tuple[str, str], dict] = {}
    person_payloads: dict[str, dict] = {}
    for item in edits:
        key = (item["kind"], item["id"])
        row = held[key]
        if item["kind"] == "person":
            payload, field_times, recorded_at = people.merge(connection, row, site_id, item, received_at)
            person_payloads[item["id"]] = payload
        else:
            writer = people.whole_record_writer(row)
            if not people.is_newer((item["recorded_at"], site_id), writer, same_site=site_id == writer[1]):
                continue
            payload, recorded_at = item["payload"], item["recorded_at"]
            field_times = {people.WHOLE_RECORD: [item["recorded_at"], site_id]}
        row = {**row, "payload": encode_payload(payload), "field_times": json.dumps(field_times),
               "recorded_at": recorded_at}
        held[key] = changed[key] = row
    if changed:
        _update_rows(connection, changed)
    return person_payloads


HELD_COLUMNS = ("site_id", "recorded_at", "payload", "field_times")


def _held_rows(connection: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Return the held rows of these keys, locked until commit, in key order so two batches lock alike."""
    found = {}
    by_kind: dict[str, list[str]] = {}
    for kind, record_id in sorted(keys):
        by_kind.setdefault(kind, []).append(record_id)
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), people.IN_CHUNK):
            query = (select(record.c.id, record.c.site_id, record.c.recorded_at, record.c.payload, record.c.field_times)
                     .where(record.c.kind == kind, record.c.id.in_(ids[start:start + people.IN_CHUNK]))
                     .order_by(record.c.id).with_for_update())
            for row in connection.execute(query).mappings():
                found[(kind, row["id"])] = {column: row[column] for column in HELD_COLUMNS}
    return found


def _update_rows(connection: Connection, rows: dict[tuple[str, str], dict]) -> None:
    statement = (update(record).where(record.c.kind == bindparam("key_kind"), record.c.id == bindparam("key_id"))
                 .values(payload=bindparam("payload"), field_times=bindparam("field_times"),
                         recorded_at=bindparam("recorded_at")))
    connection.execute(statement, [{"key_kind": kind, "key_id": record_id, "payload": row["payload"],
                                    "field_times": row["field_times"], "recorded_at": row["recorded_at"]}
                                   for (kind, record_id), row in rows.items()])


# Reading records for reports.


def records(connection: Connection, kind: str, year: int | None = None) -> Iterator[dict]:
    """Yield the payload of every held record of a kind, with "_site_id" added, in id order.

    year keeps the records whose recorded_at (the site's local time) falls in that year.
    """
    query = select(record.c.site_id, record.c.payload).where(record.c.kind == kind).order_by(record.c.id)
    if year is not None:
        query = query.where(record.c.recorded_at >= f"{year:04d}", record.c.recorded_at < f"{year + 1:04d}")
    result = connection.execution_options(stream_results=True, yield_per=5000).execute(query)
    for site_id, payload in result:
        item = json.loads(payload)
        item["_site_id"] = site_id
        yield item


def central_person_of(connection: Connection, person_id: str) -> str:
    """Return the central person a site's person belongs to: itself unless linked by ID number."""
    return people.central_person_of(connection, person_id)
