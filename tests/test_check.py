"""`fieldapp check`: the data folder, database, certificates, disk, unsent records and clock of a site installation."""

import datetime as dt
import json
import re
import shutil
import tempfile
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from fieldapp import check, tls
from fieldapp.auth import audit
from fieldapp.check import certificates, storage
from fieldapp.check import clock as clock_check
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.sync import batches, client, outbox

ROOT = Path(__file__).parent.parent
UTC = dt.UTC
NOW = dt.datetime(2026, 12, 11, 18, 0, tzinfo=UTC)
ADDRESSES = ["192.168.1.20", "127.0.0.1"]
PAGE_SIZE = 4096
DiskUsage = namedtuple("DiskUsage", "total used free")


def run(data_dir: Path, now: dt.datetime | None = None, addresses: list[str] | None = None) -> dict:
    with check.message_context():
        results = check.run_checks(data_dir, now=now, addresses=ADDRESSES if addresses is None else addresses)
    return {result.check: result for result in results}


def invoke(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *[str(arg) for arg in args]], catch_exceptions=False)
    return result.exit_code, result.output


def write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def write_tls(data_dir: Path, ca_issued: dt.datetime, server_issued: dt.datetime | None = None,
              addresses: list[str] = ADDRESSES) -> Path:
    """Write a CA and a server certificate as `fieldapp serve` does, issued at the given times."""
    folder = data_dir / tls.TLS_FOLDER
    folder.mkdir(exist_ok=True)
    ca, ca_key = tls.create_ca("laptop", ca_issued)
    server, server_key = tls.issue_server_certificate(ca, ca_key, addresses, "laptop", server_issued or ca_issued)
    (folder / tls.CA_CERT_FILE).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write_key(folder / tls.CA_KEY_FILE, ca_key)
    (folder / tls.SERVER_CERT_FILE).write_bytes(server.public_bytes(serialization.Encoding.PEM))
    write_key(folder / tls.SERVER_KEY_FILE, server_key)
    return folder


@pytest.fixture
def site(data_dir: Path) -> Path:
    """A data folder whose database has every migration applied, as after the first fieldapp command."""
    connect(data_dir / DATABASE_NAME).conn.close()
    return data_dir


# The whole report.


def test_fresh_folder_passes(app, data_dir):
    code, output = invoke("--data-dir", data_dir, "--json")

    report = json.loads(output)
    statuses = {line["check"]: line["status"] for line in report["checks"]}
    assert code == 0
    assert report["data_dir"] == str(data_dir.resolve())
    assert statuses["data_folder"] == "ok"
    assert statuses["database"] == "ok"
    assert statuses["migrations"] == "ok"
    assert statuses["sync"] == "ok"
    assert statuses["ca_certificate"] == "warning"
    assert report["status"] == "warning"


def test_fresh_folder_details(app, data_dir):
    results = run(data_dir, now=NOW)

    folder, db = results["data_folder"].details, results["database"].details
    assert folder["writable"] is True
    assert folder["database_bytes"] == (data_dir / DATABASE_NAME).stat().st_size
    assert folder["folder_bytes"] >= folder["database_bytes"]
    assert db["problems"] == []
    assert (db["people"], db["rounds"], db["visits"]) == (0, 0, 0)
    assert results["migrations"].details["pending"] == []
    assert results["sync"].details["unsent"] == 0


def test_report_one_line_per_check(app, data_dir):
    code, output = invoke("--data-dir", data_dir)

    lines = output.splitlines()
    assert code == 0
    assert len(lines) == len(run(data_dir))
    assert all(re.match(r"(OK|CẢNH BÁO|LỖI) +\S", line) for line in lines)
    assert lines[0].startswith(f"OK        Thư mục dữ liệu: {data_dir.resolve()}, ghi được")
    assert "CẢNH BÁO  Chứng chỉ gốc (CA): chưa có" in output


def test_missing_folder_error_not_created(tmp_path):
    folder = tmp_path / "khong-co"

    code, output = invoke("--data-dir", folder)

    assert code == 1
    assert f"LỖI       Thư mục dữ liệu: không có thư mục {folder}." in output
    assert not folder.exists()


def test_missing_database_error(data_dir):
    results = run(data_dir, now=NOW)

    assert results["data_folder"].status == "ok"
    assert results["database"].status == "error"
    assert str(data_dir / DATABASE_NAME) in results["database"].message
    assert "migrations" not in results
    assert not (data_dir / DATABASE_NAME).exists()


def test_unwritable_folder_error(site, data_dir, monkeypatch):
    def reject_probe(**kwargs):
        raise PermissionError(13, "Permission denied", str(kwargs["dir"]))

    monkeypatch.setattr(tempfile, "mkstemp", reject_probe)

    result = run(data_dir, now=NOW)["data_folder"]

    assert result.status == "error"
    assert "Permission denied" in result.message
    assert result.details["writable"] is False


@pytest.mark.parametrize("free, expected", [
    (100 * 1024**2, "error"),
    (199 * 1024**2, "error"),
    (200 * 1024**2, "warning"),
    (900 * 1024**2, "warning"),
    (1024**3, "ok"),
    (50 * 1024**3, "ok"),
])
def test_free_disk_thresholds(site, data_dir, monkeypatch, free, expected):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(100 * 1024**3, 100 * 1024**3 - free, free))

    result = run(data_dir, now=NOW)["disk"]

    assert result.status == expected
    assert result.details["free_bytes"] == free
    assert (result.hint == "") == (expected == "ok")


def test_full_disk_exits_with_error(site, data_dir, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(64 * 1024**3, 64 * 1024**3 - 50 * 1024**2,
                                                                     50 * 1024**2))

    code, output = invoke("--data-dir", data_dir)

    assert code == 1
    assert "LỖI       Ổ đĩa: còn trống 50,0 MB trên 64,0 GB." in output


# The database.


def _grow(data_dir: Path) -> None:
    """Write enough audit rows that the database has many pages, then close it so the WAL is checkpointed."""
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        for number in range(2000):
            audit(db, "check_test", detail={"n": number})
    db.conn.close()


@pytest.mark.parametrize("offset, junk", [
    (0, b"\xa5" * 100),                           # the header: "file is not a database"
    (2 * PAGE_SIZE, b"\xa5" * 4 * PAGE_SIZE),     # pages 3 to 6 overwritten
    (PAGE_SIZE + 8, b"\x00\x07\x7f\xff"),         # one cell pointer of page 2: integrity_check lists the problem
], ids=["header", "pages", "cell-pointer"])
def test_corrupt_database_error_names_file(site, data_dir, offset, junk):
    _grow(data_dir)
    path = data_dir / DATABASE_NAME
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(junk)

    code, output = invoke("--data-dir", data_dir, "--json")

    database = next(line for line in json.loads(output)["checks"] if line["check"] == "database")
    assert code == 1
    assert database["status"] == "error"
    assert str(path) in database["message"]
    assert database["details"]["problems"] != []
    assert "bản sao lưu" in database["hint"]


def test_pending_migration_warns(site, data_dir):
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        db.execute("DELETE FROM migration WHERE name = '0008_outbox'")
    db.conn.close()

    result = run(data_dir, now=NOW)["migrations"]

    assert result.status == "warning"
    assert result.details["pending"] == ["0008_outbox"]
    assert "0008_outbox" in result.message


def test_newer_version_migration_error(site, data_dir):
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        db.execute("INSERT INTO migration (name, applied_at) VALUES ('0099_future', '2027-01-01T00:00:00+00:00')")
    db.conn.close()

    result = run(data_dir, now=NOW)["migrations"]

    assert result.status == "error"
    assert result.details["unknown"] == ["0099_future"]


def test_check_writes_no_row(site, data_dir):
    before = (data_dir / DATABASE_NAME).read_bytes()

    run(data_dir, now=NOW)

    assert (data_dir / DATABASE_NAME).read_bytes() == before


# Records not yet sent.


def _outbox(data_dir: Path, records: int, acknowledged: int) -> None:
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        for number in range(records):
            outbox.append(db, "person", f"person-{number}", {"id": f"person-{number}"})
        outbox.mark_sent(db, acknowledged)
    db.conn.close()


def _enrol(data_dir: Path, with_key: bool = True) -> None:
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        outbox.set_state(db, **{outbox.SITE_ID: "site-1", outbox.SITE_NAME: "Trạm Y tế An Lạc",
                                outbox.CENTRAL_URL: "https://kho.example/", outbox.ENROLLED_AT: "2026-11-01T00:00:00+00:00"})
    db.conn.close()
    if with_key:
        client.write_private(data_dir / client.KEY_FILE, batches.private_key_pem(batches.new_private_key()))


@pytest.mark.parametrize("records, acknowledged, unsent", [(7, 0, 7), (7, 3, 4), (1, 0, 1)])
def test_unsent_counted_exactly(site, data_dir, records, acknowledged, unsent):
    _outbox(data_dir, records, acknowledged)
    _enrol(data_dir)

    result = run(data_dir, now=NOW)["sync"]

    assert result.status == "warning"
    assert result.details["unsent"] == unsent
    assert result.details["last_seq"] == records
    assert result.details["acknowledged_through"] == acknowledged
    assert f"còn {unsent} bản ghi chưa gửi (số mới nhất {records}, kho đã nhận đến số {acknowledged})" in result.message
    assert "fieldapp sync push" in result.hint


def test_all_sent_ok_with_last_push(site, data_dir):
    _outbox(data_dir, 5, 5)
    _enrol(data_dir)
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        audit(db, "sync_pushed", detail={"records": 5})
    pushed_at = db.execute("SELECT at FROM audit_event WHERE action = 'sync_pushed'").fetchone()[0]
    db.conn.close()

    result = run(data_dir, now=NOW)["sync"]

    assert result.status == "ok"
    assert result.details["unsent"] == 0
    assert result.details["last_push"] == pushed_at
    assert result.details["last_export"] is None


def test_not_enrolled_with_unsent_warns(site, data_dir):
    _outbox(data_dir, 3, 0)

    result = run(data_dir, now=NOW)["sync"]

    assert result.status == "warning"
    assert result.details["enrolled"] is False
    assert "fieldapp sync enrol" in result.hint


def test_enrolled_without_key_error(site, data_dir):
    _enrol(data_dir, with_key=False)

    result = run(data_dir, now=NOW)["sync"]

    assert result.status == "error"
    assert str(data_dir / client.KEY_FILE) in result.message


# Certificates.


def test_certificates_ok(site, data_dir):
    write_tls(data_dir, NOW - dt.timedelta(days=10))

    results = run(data_dir, now=NOW)

    assert results["ca_certificate"].status == "ok"
    assert results["server_certificate"].status == "ok"
    assert results["server_certificate"].details["days_left"] == 386
    assert results["certificate_addresses"].status == "ok"


@pytest.mark.parametrize("ca_age_days, server_age_days, check_id, expected", [
    (3653, 1, "ca_certificate", "error"),          # the CA is 10 years old: expired
    (3630, 1, "ca_certificate", "warning"),        # 22 days left
    (100, 398, "server_certificate", "error"),     # the server certificate (397 days) expired
    (400, 380, "server_certificate", "warning"),   # 17 days left
    (100, 10, "server_certificate", "ok"),
])
def test_certificate_expiry(site, data_dir, ca_age_days, server_age_days, check_id, expected):
    write_tls(data_dir, NOW - dt.timedelta(days=ca_age_days), NOW - dt.timedelta(days=server_age_days))

    result = run(data_dir, now=NOW)[check_id]

    assert result.status == expected


def test_expired_ca_exits_with_error(site, data_dir, clock):
    clock.now = NOW
    write_tls(data_dir, NOW - dt.timedelta(days=3700), NOW - dt.timedelta(days=3660))

    code, output = invoke("--data-dir", data_dir)

    assert code == 1
    assert "LỖI       Chứng chỉ gốc (CA): đã hết hạn ngày" in output
    assert "cài lại chứng chỉ trên mọi điện thoại" in output


def test_certificate_not_yet_valid_error(site, data_dir):
    write_tls(data_dir, NOW + dt.timedelta(days=2))

    results = run(data_dir, now=NOW)

    assert results["ca_certificate"].status == "error"
    assert "chưa có hiệu lực" in results["ca_certificate"].message
    assert results["server_certificate"].status == "error"
    assert results["clock"].status == "warning"


def test_new_address_not_in_certificate(site, data_dir):
    write_tls(data_dir, NOW - dt.timedelta(days=1), addresses=["192.168.1.20"])

    result = run(data_dir, now=NOW, addresses=["10.0.0.5", "192.168.1.20", "127.0.0.1"])["certificate_addresses"]

    assert result.status == "warning"
    assert result.details["missing"] == ["10.0.0.5"]
    assert "10.0.0.5" in result.message
    assert "khởi động lại fieldapp serve" in result.hint


def test_ca_key_missing_error(site, data_dir):
    folder = write_tls(data_dir, NOW - dt.timedelta(days=1))
    (folder / tls.CA_KEY_FILE).unlink()

    results = run(data_dir, now=NOW)

    assert results["ca_certificate"].status == "error"
    assert str(folder / tls.CA_KEY_FILE) in results["ca_certificate"].message
    assert "server_certificate" not in results


def test_ca_key_of_other_ca_error(site, data_dir):
    folder = write_tls(data_dir, NOW - dt.timedelta(days=1))
    write_key(folder / tls.CA_KEY_FILE, tls.create_ca("other", NOW)[1])

    result = run(data_dir, now=NOW)["ca_certificate"]

    assert result.status == "error"
    assert "không thuộc cùng một chứng chỉ" in result.message


def test_server_certificate_of_other_ca_error(site, data_dir, tmp_path):
    folder = write_tls(data_dir, NOW - dt.timedelta(days=1))
    other = write_tls(tmp_path, NOW - dt.timedelta(days=1))
    shutil.copyfile(other / tls.SERVER_CERT_FILE, folder / tls.SERVER_CERT_FILE)

    result = run(data_dir, now=NOW)["server_certificate"]

    assert result.status == "error"
    assert "khởi động lại fieldapp serve" in result.hint.lower()


def test_serve_certificates_pass(site, data_dir):
    tls.prepare_site_tls(data_dir, ["192.168.1.20"], "laptop")

    results = run(data_dir, now=dt.datetime.now(UTC) + dt.timedelta(minutes=1))

    assert results["ca_certificate"].status == "ok"
    assert results["server_certificate"].status == "ok"
    assert results["certificate_addresses"].status == "ok"


# The clock.


@pytest.mark.parametrize("now, expected, named", [
    (NOW, "ok", None),
    (dt.datetime(2000, 1, 1, tzinfo=UTC), "warning", "ngày phát hành"),
    (dt.datetime(2026, 12, 3, tzinfo=UTC), "warning", "ngày phát hành"),
    (NOW - dt.timedelta(minutes=2), "ok", None),            # within the tolerance for a drifting clock
    (NOW - dt.timedelta(minutes=10), "warning", "bản ghi mới nhất"),
    (NOW + dt.timedelta(days=300), "ok", None),             # a year between rounds is normal
    (NOW + dt.timedelta(days=401), "warning", "hơn 400 ngày"),
])
def test_clock_against_newest_record(now, expected, named):
    with check.message_context():
        result = clock_check.check_clock(now, NOW, [])

    assert result.status == expected
    if named:
        assert named in result.message
        assert "Ngày và giờ" in result.hint


def test_clock_before_certificate_start():
    issued = NOW - dt.timedelta(hours=1)

    with check.message_context():
        result = clock_check.check_clock(NOW - dt.timedelta(hours=2), None, [issued])

    assert result.status == "warning"
    assert "chứng chỉ HTTPS" in result.message


def test_clock_in_2000_warns(site, data_dir, clock):
    clock.now = dt.datetime(2000, 1, 1, 1, 0, tzinfo=UTC)

    code, output = invoke("--data-dir", data_dir, "--json")

    result = next(line for line in json.loads(output)["checks"] if line["check"] == "clock")
    assert code == 0
    assert result["status"] == "warning"
    assert result["details"]["now"] == "2000-01-01T01:00:00+00:00"
    assert "/2000" in result["message"]
    assert "bản ghi mới nhất" in result["message"]
    assert "ngày phát hành" in result["message"]


def test_release_date_matches_changelog():
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE).group(1)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")

    released = re.search(rf"^## {re.escape(version)} — (\d{{4}}-\d{{2}}-\d{{2}})", changelog, re.MULTILINE).group(1)

    assert clock_check.RELEASE_DATE.isoformat() == released


def test_thresholds_ordered():
    assert storage.DISK_ERROR_BYTES < storage.DISK_WARNING_BYTES
    assert certificates.EXPIRY_WARNING < dt.timedelta(days=tls.SERVER_DAYS)
