"""The data folder: present and writable, how big, and the free space on its drive."""

import os
import shutil
import tempfile
from pathlib import Path

from flask_babel import gettext as _

from ..db import DATABASE_NAME
from .result import ERROR, GB, MB, OK, WARNING, Result, format_size

# A round needs little space: the database of a 2,844-person roster with 400 examined visits is 24 MB
# (tests/site_day.py), and 5,000 invitation slips make a 5 MB PDF (BENCHMARKS.md). Under 1 GB a round still
# fits, but a copy of the data folder as a backup, or the next rounds, may not.
DISK_WARNING_BYTES = 1 * GB
# Under 200 MB one large import or a day's result sheets can fill the drive, and then SQLite rejects every
# write, so check-ins and exam entries fail.
DISK_ERROR_BYTES = 200 * MB


def folder_size(folder: Path) -> int:
    """Return the total size in bytes of the files under folder, skipping files that vanish or cannot be read."""
    total = 0
    for root, _folders, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                continue
    return total


def check_folder(folder: Path) -> Result:
    """Check that the data folder exists and is writable (by creating and removing a temporary file)."""
    title = _("Thư mục dữ liệu")
    details = {"path": str(folder), "exists": folder.is_dir(), "writable": False}
    if not folder.is_dir():
        return Result("data_folder", ERROR, title, _("không có thư mục %(folder)s.", folder=folder),
                      _("Kiểm tra --data-dir hoặc biến FIELDAPP_DATA_DIR: lệnh phải trỏ đúng thư mục dữ liệu đã dùng "
                        "(mặc định là fieldapp-data trong thư mục đang mở)."), details)

    try:
        descriptor, probe = tempfile.mkstemp(prefix=".fieldapp-check-", dir=folder)
        os.close(descriptor)
        os.remove(probe)
    except OSError as error:
        return Result("data_folder", ERROR, title,
                      _("không ghi được vào %(folder)s (%(error)s).", folder=folder, error=error),
                      _("Chạy fieldapp bằng tài khoản sở hữu thư mục này, cấp quyền ghi cho thư mục, hoặc kiểm tra "
                        "ổ USB có bị gạt khóa chống ghi không."), details)

    database = folder / DATABASE_NAME
    database_bytes = database.stat().st_size if database.is_file() else 0
    total = folder_size(folder)
    details.update(writable=True, database_bytes=database_bytes, folder_bytes=total)
    return Result("data_folder", OK, title,
                  _("%(folder)s, ghi được; %(database)s %(database_size)s, cả thư mục %(folder_size)s.",
                    folder=folder, database=DATABASE_NAME, database_size=format_size(database_bytes),
                    folder_size=format_size(total)), details=details)


def _existing_parent(folder: Path) -> Path:
    """Return folder, or its nearest parent that exists, so a missing folder's drive can still be measured."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return folder


def check_disk(folder: Path) -> Result:
    """Check the free space on the drive that contains the data folder."""
    title = _("Ổ đĩa")
    measured = _existing_parent(folder)
    usage = shutil.disk_usage(measured)
    details = {"path": str(measured), "free_bytes": usage.free, "total_bytes": usage.total,
               "warning_below_bytes": DISK_WARNING_BYTES, "error_below_bytes": DISK_ERROR_BYTES}
    found = _("còn trống %(free)s trên %(total)s.", free=format_size(usage.free), total=format_size(usage.total))
    hint = _("Giải phóng chỗ trống: xóa tệp không cần trong thư mục Tải về và Thùng rác, hoặc chép bớt tệp PDF đã in "
             "sang ổ khác. fieldapp cần ít nhất %(minimum)s, nên có trên %(advised)s.",
             minimum=format_size(DISK_ERROR_BYTES), advised=format_size(DISK_WARNING_BYTES))
    if usage.free < DISK_ERROR_BYTES:
        return Result("disk", ERROR, title, found, hint, details)
    if usage.free < DISK_WARNING_BYTES:
        return Result("disk", WARNING, title, found, hint, details)
    return Result("disk", OK, title, found, details=details)
