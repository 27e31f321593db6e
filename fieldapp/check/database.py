"""The site database: integrity, schema migrations, what it holds, and the newest time it recorded.

The database is opened read-only, so the check never applies migrations or writes a row. SQLite still
creates the -wal and -shm files beside a WAL database when they are missing, as any reader does.
"""

import datetime as dt
import sqlite3
from pathlib import Path

from flask_babel import format_number
from flask_babel import gettext as _

from ..migrations import MIGRATIONS
from .result import ERROR, OK, WARNING, Result, format_size

# integrity_check rather than quick_check: it also checks that every index matches its table and that UNIQUE
# constraints hold, which a damaged index breaks silently (two invitations with one token, say). On a
# 24 MB site database it took 0.05 s against quick_check's 0.03 s, so the fuller check costs nothing noticeable.
INTEGRITY_PRAGMA = "integrity_check"
# integrity_check lists up to 100 problems; the first few show what is damaged.
PROBLEMS_SHOWN = 3
# Columns that store when the laptop wrote a row, all UTC ISO 8601 from db.now(). Times that people enter,
# such as a lab result's measured_at, are left out.
RECORD_TIMES = (
    ("migration", "applied_at"),
    ("audit_event", "at"),
    ("outbox", "recorded_at"),
    ("source_file", "imported_at"),
    ("visit", "checked_in_at"),
    ("observation", "recorded_at"),
    ("conclusion", "recorded_at"),
    ("staff", "created_at"),
)
COUNTED_TABLES = ("person", "exam_round", "visit")


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open the database read-only; raise sqlite3.DatabaseError when it cannot be opened."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    # Opening is lazy: reading the schema is what fails on a file that is not a database.
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return connection


def table_names(connection: sqlite3.Connection) -> set[str]:
    """Return the names of the database's tables."""
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def damaged(path: Path, problems: list[str]) -> Result:
    """Return the error line for a database that SQLite reports as damaged or cannot read."""
    # integrity_check puts line breaks inside a problem; the report keeps one line per check.
    listed = "; ".join(" ".join(problem.split()) for problem in problems[:PROBLEMS_SHOWN])
    return Result("database", ERROR, _("Cơ sở dữ liệu"),
                  _("tệp %(file)s bị hỏng hoặc không đọc được (%(problems)s).", file=path, problems=listed),
                  _("Dừng fieldapp serve, chép cả thư mục dữ liệu sang nơi khác để giữ bản hỏng, rồi khôi phục thư mục "
                    "dữ liệu từ bản sao lưu gần nhất. Bản ghi đã gửi bằng fieldapp sync push vẫn còn ở kho dữ liệu "
                    "trung tâm."),
                  {"path": str(path), "pragma": INTEGRITY_PRAGMA, "problems": problems})


def missing(path: Path) -> Result:
    """Return the error line for a data folder without a database."""
    return Result("database", ERROR, _("Cơ sở dữ liệu"), _("chưa có tệp %(file)s.", file=path),
                  _("Nếu đây là máy mới, nhập danh sách (fieldapp import) hoặc chạy fieldapp serve để tạo cơ sở dữ "
                    "liệu; nếu không, kiểm tra --data-dir trỏ đúng thư mục dữ liệu."),
                  {"path": str(path), "exists": False})


def check_integrity(path: Path, connection: sqlite3.Connection) -> Result:
    """Run PRAGMA integrity_check and, when it passes, report the counts of people, rounds and visits and the WAL size.

    Raises sqlite3.DatabaseError when SQLite cannot read the file far enough to check it.
    """
    problems = [row[0] for row in connection.execute(f"PRAGMA {INTEGRITY_PRAGMA}").fetchall()]
    if problems != ["ok"]:
        return damaged(path, problems)

    tables = table_names(connection)
    counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if table in tables else 0
              for table in COUNTED_TABLES}
    wal = path.with_name(path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.is_file() else 0
    message = _("%(file)s không có lỗi (PRAGMA %(pragma)s); %(people)s người, %(rounds)s đợt khám, %(visits)s lượt "
                "khám; tệp WAL %(wal)s.", file=path.name, pragma=INTEGRITY_PRAGMA,
                people=format_number(counts["person"]), rounds=format_number(counts["exam_round"]),
                visits=format_number(counts["visit"]), wal=format_size(wal_bytes))
    return Result("database", OK, _("Cơ sở dữ liệu"), message,
                  details={"path": str(path), "pragma": INTEGRITY_PRAGMA, "problems": [], "wal_bytes": wal_bytes,
                           "people": counts["person"], "rounds": counts["exam_round"], "visits": counts["visit"]})


def check_migrations(connection: sqlite3.Connection) -> Result:
    """Compare the migrations recorded in the database with those of this fieldapp version."""
    title = _("Cập nhật cấu trúc dữ liệu")
    expected = [name for name, _statements in MIGRATIONS]
    applied = set()
    if "migration" in table_names(connection):
        applied = {row[0] for row in connection.execute("SELECT name FROM migration")}
    pending = [name for name in expected if name not in applied]
    unknown = sorted(applied - set(expected))
    details = {"expected": len(expected), "applied": len(applied), "pending": pending, "unknown": unknown}

    if unknown:
        return Result("migrations", ERROR, title,
                      _("cơ sở dữ liệu có bước cập nhật %(names)s mà phiên bản fieldapp này không biết.",
                        names=", ".join(unknown)),
                      _("Dữ liệu đã được một phiên bản fieldapp mới hơn dùng: cài lại phiên bản đó trên máy này."),
                      details)
    if pending:
        return Result("migrations", WARNING, title,
                      _("còn %(n)s bước cập nhật chưa chạy: %(names)s.", n=len(pending), names=", ".join(pending)),
                      _("Chạy một lệnh fieldapp bất kỳ, ví dụ fieldapp user list: lệnh tự chạy các bước còn thiếu. "
                        "Sau đó chạy lại fieldapp check."), details)
    return Result("migrations", OK, title, _("đã chạy đủ %(n)s bước cập nhật của phiên bản này.", n=len(expected)),
                  details=details)


def newest_record_time(connection: sqlite3.Connection) -> dt.datetime | None:
    """Return the newest time at which the laptop wrote a row, read from RECORD_TIMES, or None for an empty database."""
    tables = table_names(connection)
    newest = None
    for table, column in RECORD_TIMES:
        if table not in tables:
            continue
        value = connection.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
        try:
            moment = dt.datetime.fromisoformat(value) if value else None
        except ValueError:
            continue
        if moment is not None and moment.tzinfo is not None and (newest is None or moment > newest):
            newest = moment
    return newest
