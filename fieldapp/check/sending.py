"""Records not yet sent to the central store: the outbox past what it acknowledged, the enrolment, the last push."""

import datetime as dt
import sqlite3
from pathlib import Path

import sqlite_utils
from flask_babel import format_number
from flask_babel import gettext as _

from ..errors import FieldappError
from ..sync import outbox
from .result import ERROR, OK, WARNING, Result, format_time

# The tables this check reads; a database from before migration 0008_outbox has no outbox to count.
TABLES = {"outbox", "sync_state", "audit_event"}


def _last_event(connection: sqlite3.Connection, action: str) -> dt.datetime | None:
    """Return when the newest audit event of this action was recorded, or None."""
    value = connection.execute("SELECT max(at) FROM audit_event WHERE action = ?", [action]).fetchone()[0]
    return dt.datetime.fromisoformat(value) if value else None


def check_sync(connection: sqlite3.Connection, folder: Path) -> Result:
    """Count the outbox records the central store has not acknowledged, and check the enrolment and its key."""
    from ..sync import client

    title = _("Gửi dữ liệu")
    db = sqlite_utils.Database(connection)
    counts = outbox.counts(db)
    settings = outbox.state(db)
    last_push = _last_event(connection, "sync_pushed")
    last_export = _last_event(connection, "sync_exported")
    details = {"enrolled": outbox.SITE_ID in settings, "site_id": settings.get(outbox.SITE_ID),
               "central_url": settings.get(outbox.CENTRAL_URL), "records": counts.total, "unsent": counts.unsent,
               "last_seq": counts.last_seq, "acknowledged_through": counts.acknowledged_through,
               "last_push": last_push.isoformat() if last_push else None,
               "last_export": last_export.isoformat() if last_export else None}
    unsent = _("còn %(unsent)s bản ghi chưa gửi (số mới nhất %(last)s, kho đã nhận đến số %(ack)s)",
               unsent=format_number(counts.unsent), last=counts.last_seq, ack=counts.acknowledged_through)

    if outbox.SITE_ID not in settings:
        if counts.unsent == 0:
            return Result("sync", OK, title, _("máy chưa đăng ký với kho dữ liệu trung tâm; chưa có bản ghi nào "
                                               "cần gửi."), details=details)
        return Result("sync", WARNING, title, _("máy chưa đăng ký với kho dữ liệu trung tâm; %(unsent)s.",
                                                unsent=unsent),
                      _("Xin mã đăng ký từ người quản lý kho, chạy fieldapp sync enrol ĐỊA-CHỈ MÃ, rồi fieldapp sync "
                        "push."), details)

    try:
        client.enrolment(db, folder)
    except FieldappError as error:
        return Result("sync", ERROR, title, str(error.message), str(error.hint), details)

    when = _("lần gửi cuối: %(push)s; lần ghi tệp cuối: %(export)s",
             push=format_time(last_push) if last_push else _("chưa có"),
             export=format_time(last_export) if last_export else _("chưa có"))
    if counts.unsent == 0:
        return Result("sync", OK, title, _("kho dữ liệu trung tâm đã nhận hết %(n)s bản ghi; %(when)s.",
                                           n=format_number(counts.total), when=when), details=details)
    return Result("sync", WARNING, title, _("%(unsent)s; %(when)s.", unsent=unsent, when=when),
                  _("Khi có mạng, chạy fieldapp sync push; không có mạng thì chạy fieldapp sync export --out TỆP và "
                    "đưa tệp cho người quản lý kho."), details)
