"""The site admin's page for the central store: enrol, send the records in a background job, export to a file.

The page runs the same steps as `fieldapp sync enrol`, `sync push` and `sync export` (cli_sync.py). A push
runs in a jobs.py thread, so the request does not wait for the network. The thread writes its progress and
outcome to the job's result file (JSON with counts and error codes, no personal data), which the job page reads.
Coordinators may see the page and the job pages; only the site admin may post.
"""

import dataclasses
import datetime as dt
import io
import json
import logging
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

from flask import Blueprint, abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import auth, jobs
from .check.result import format_time
from .check.sending import check_sync
from .db import DATABASE_NAME, connect, get_db, write
from .errors import CATALOGUE, FieldappError
from .errors import render as render_message
from .sync import client, outbox
from .web import render

log = logging.getLogger(__name__)
bp = Blueprint("sync", __name__, url_prefix="/sync")

JOB_KIND = "sync_push"
# The default of `fieldapp sync push --batch-size`: about 1 MB per request.
BATCH_SIZE = 2000
# Enrolment runs inside the request, so it gives up sooner than a push, as `fieldapp sync status` does.
ENROL_ATTEMPTS = 3
# A CA certificate in PEM is a few kilobytes, so a bigger upload is the wrong file.
CA_MAX_BYTES = 64 * 1024
# app.extensions key of the push registry: the running push's job id and the lock that keeps it to one.
PUSHES = "fieldapp_sync_push"
# app.config key for tests: a client.Retry used instead of the client's default (8 attempts, up to 30 s apart).
RETRY_SETTING = "SYNC_RETRY"

# The catalogue's hints for these codes name the command to run again. On this page the same step is a
# button or the enrolment form, so the page shows these hints instead.
PAGE_HINTS = {
    "sync_tls_failed": _l("Chọn tệp chứng chỉ CA (.pem) do người quản lý kho gửi ở ô Chứng chỉ CA rồi đăng ký lại; "
                          "kiểm tra cả ngày giờ của máy tính."),
    "sync_unreachable": _l("Kiểm tra mạng rồi bấm Gửi dữ liệu lên trung tâm lần nữa: dữ liệu chưa gửi vẫn còn và "
                           "được gửi tiếp từ chỗ dừng. Không có mạng thì bấm Xuất ra tệp để chép USB."),
    "sync_key_rejected": _l("Xin người quản lý kho một mã đăng ký mới rồi đăng ký lại ở trang này; dữ liệu chưa gửi "
                            "vẫn còn."),
    "sync_site_revoked": _l("Xin người quản lý kho một mã đăng ký mới rồi đăng ký lại ở trang này; dữ liệu chưa gửi "
                            "vẫn còn."),
    "sync_not_enrolled": _l("Xin người quản lý kho một mã đăng ký rồi đăng ký ở trang này."),
    "sync_key_missing": _l("Chép lại tệp khóa từ bản sao lưu, hoặc xin mã đăng ký mới rồi đăng ký lại ở trang này."),
    "sync_batch_rejected": _l("Bấm Gửi dữ liệu lên trung tâm lần nữa; nếu vẫn lỗi, báo người quản lý kho mã lỗi "
                              "trong ngoặc."),
    "sync_central_error": _l("Gửi lại sau ít phút; nếu vẫn lỗi, báo người quản lý kho nội dung trong ngoặc."),
    "sync_export_failed": _l("Kiểm tra ổ đĩa của máy tính còn chỗ trống rồi xuất lại."),
}


@bp.record_once
def _add_registry(state) -> None:
    state.app.extensions[PUSHES] = SimpleNamespace(lock=threading.Lock(), job_id=None)


@dataclasses.dataclass(frozen=True)
class Problem:
    """A catalogue error as the page shows it: the message naming the value, and what to do."""

    code: str
    message: str
    hint: str


def problem(code: str, fields: dict) -> Problem:
    """Return the page's message and hint for a catalogue code and its fields."""
    return Problem(code, render_message(code, **fields), str(PAGE_HINTS.get(code, CATALOGUE[code][1])))


def _problem_of(error: FieldappError) -> Problem:
    return problem(error.code, error.fields)


def _data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def _retry(max_attempts: int | None = None) -> client.Retry:
    retry = current_app.config.get(RETRY_SETTING) or client.Retry()
    if max_attempts is not None and retry.attempts > max_attempts:
        retry = dataclasses.replace(retry, attempts=max_attempts)
    return retry


def _local_time(value: str | None) -> str | None:
    return format_time(dt.datetime.fromisoformat(value)) if value else None


# The page.


def _status(db) -> dict:
    """Return the enrolment, the outbox counts, the last push and export, and any problem with the site's key."""
    details = check_sync(db.conn, _data_dir()).details
    settings = outbox.state(db)
    key_problem = None
    if details["enrolled"]:
        try:
            client.enrolment(db, _data_dir())
        except FieldappError as error:
            key_problem = _problem_of(error)
    return {**details, "site_name": settings.get(outbox.SITE_NAME, ""),
            "enrolled_at": _local_time(settings.get(outbox.ENROLLED_AT)),
            "last_push": _local_time(details["last_push"]), "last_export": _local_time(details["last_export"]),
            "key_problem": key_problem}


def _running_push(db) -> str | None:
    """Return the id of the push this server is running, or None."""
    job_id = current_app.extensions[PUSHES].job_id
    found = jobs.get(db, job_id) if job_id else None
    return job_id if found and found["status"] == "running" else None


def _page(status: int = 200, problem: Problem | None = None, enrol_problem: Problem | None = None,
          form: dict | None = None):
    db = get_db()
    return render("sync/index.html", status=status, sync=_status(db), running=_running_push(db), problem=problem,
                  enrol_problem=enrol_problem, form=form or {}, can_send=g.staff["role"] == "site_admin")


@bp.get("/")
@auth.require_role("coordinator")
def index():
    return _page()


# Enrolment.


def _uploaded_ca(upload, folder: Path) -> Path | None:
    """Save the uploaded CA file in folder and return its path, or None when none was chosen.

    Raises sync_ca_invalid naming the uploaded file's name when it is not a PEM CA certificate.
    """
    if upload is None or not upload.filename:
        return None
    data = upload.read(CA_MAX_BYTES + 1)
    path = folder / "central-ca.pem"
    path.write_bytes(data)
    try:
        if len(data) > CA_MAX_BYTES:
            raise FieldappError("sync_ca_invalid", file=upload.filename)
        client.tls_context(path)
    except FieldappError as error:
        raise FieldappError("sync_ca_invalid", file=upload.filename) from error
    return path


@bp.post("/enrol")
@auth.require_role("site_admin")
def enrol():
    url, code = request.form.get("url", "").strip(), request.form.get("code", "").strip()
    db = get_db()

    try:
        client.check_url(url)
        if not code:
            raise FieldappError("sync_enrol_code_invalid")
        with tempfile.TemporaryDirectory(dir=jobs.output_dir(current_app)) as scratch:
            ca = _uploaded_ca(request.files.get("ca"), Path(scratch))
            site = client.enrol(db, _data_dir(), url, code, ca=ca, retry=_retry(ENROL_ATTEMPTS))
    except FieldappError as error:
        log.info("enrolment rejected: %s", error.code)
        return _page(error.status, enrol_problem=_problem_of(error), form={"url": url})

    with write(db):
        auth.audit(db, "sync_enrolled", detail={"site_id": site["site_id"], "via": "page"})
    flash(_("Đã đăng ký máy này với kho dữ liệu trung tâm %(url)s: điểm '%(name)s', mã điểm %(site)s.",
            url=client.check_url(url), name=site["name"], site=site["site_id"]))
    return redirect(url_for("sync.index"))


# Push in a background job.


class PushReport:
    """A push job's progress and outcome, written to the job's result file after each step for the job page.

    The file contains total (records unsent at the start), sent, acknowledged_through, the retry in progress
    ({"attempt", "reason"}), and at the end either the PushResult's fields or error ({"code", "fields"}).
    """

    def __init__(self, path: Path, total: int):
        self.path = path
        self.state: dict = {"total": total, "sent": 0}
        self._save()

    def retrying(self, attempt: int, reason: str) -> None:
        self.state["retry"] = {"attempt": attempt, "reason": reason}
        self._save()

    def batch_sent(self, batch: dict, acknowledged: int) -> None:
        self.state.pop("retry", None)
        self.state["sent"] += sum(1 for record in batch["records"] if record["seq"] <= acknowledged)
        self.state["acknowledged_through"] = acknowledged
        self._save()

    def finished(self, result: client.PushResult) -> None:
        self.state.pop("retry", None)
        self.state.update(dataclasses.asdict(result))
        self._save()

    def failed(self, error: FieldappError) -> None:
        self.state.pop("retry", None)
        self.state["error"] = {"code": error.code, "fields": error.fields}
        self._save()

    def _save(self) -> None:
        # Replaced in one step, so the job page never reads half a file.
        client.write_private(self.path, json.dumps(self.state, default=str).encode())


def read_report(app, job_id: str) -> dict:
    """Return what a push job has written to its result file so far, or {} before its first write."""
    try:
        return json.loads((jobs.output_dir(app) / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _start_push(site: client.Enrolment, unsent: int, staff_id: str) -> str:
    """Start client.push in a job thread and return the job id. The job audits sync_pushed when the push succeeds."""
    app = current_app._get_current_object()
    retry = _retry()

    def work(path: Path, _progress) -> None:
        report = PushReport(path, unsent)
        # The job runs in its own thread, so it needs its own connection.
        own = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
        try:
            with client.connect(site, dataclasses.replace(retry, notify=report.retrying)) as central:
                result = client.push(own, central, BATCH_SIZE, report.batch_sent)
            with write(own):
                # This thread has no request, so the audit row gets no staff id and the detail names who started the push.
                auth.audit(own, "sync_pushed", subject=path.stem,
                           detail={"records": result.sent, "acknowledged_through": result.acknowledged_through,
                                   "via": "page", "started_by": staff_id})
        except FieldappError as error:
            report.failed(error)
            raise
        finally:
            own.conn.close()
        report.finished(result)

    return jobs.start(app, JOB_KIND, unsent, work, suffix=".json")


@bp.post("/push")
@auth.require_role("site_admin")
def push():
    db = get_db()
    pushes = current_app.extensions[PUSHES]

    with pushes.lock:
        running = _running_push(db)
        if running:
            return redirect(url_for("sync.job", job_id=running))
        try:
            site = client.enrolment(db, _data_dir())
        except FieldappError as error:
            log.info("push rejected: %s", error.code)
            return _page(error.status, problem=_problem_of(error))
        job_id = pushes.job_id = _start_push(site, outbox.counts(db).unsent, g.staff["id"])

    log.info("push job %s started", job_id)
    return redirect(url_for("sync.job", job_id=job_id))


def _job_state(found: dict) -> str:
    """Return running, done, failed or interrupted: a job left running by a server that stopped is interrupted."""
    if found["status"] == "running" and found["id"] != current_app.extensions[PUSHES].job_id:
        return "interrupted"
    return found["status"]


@bp.get("/jobs/<job_id>")
@auth.require_role("coordinator")
def job(job_id: str):
    db = get_db()
    found = jobs.get(db, job_id)
    if found is None or found["kind"] != JOB_KIND:
        abort(404)

    report = read_report(current_app, job_id)
    error = report.get("error")
    failure = problem(error["code"], error["fields"]) if error and error.get("code") in CATALOGUE else None
    return render("sync/job.html", "sync/_job.html", job=found, state=_job_state(found), report=report,
                  failure=failure, counts=outbox.counts(db))


# Export to a file.


@bp.post("/export")
@auth.require_role("site_admin")
def export():
    db = get_db()

    try:
        site = client.enrolment(db, _data_dir())
        # Inside the data folder, which contains the same health data, rather than the system's temporary folder.
        with tempfile.TemporaryDirectory(dir=jobs.output_dir(current_app)) as scratch:
            path = Path(scratch) / "export.json"
            result = client.export(db, site, path, BATCH_SIZE)
            data = path.read_bytes() if result.batches else b""
    except FieldappError as error:
        log.info("export rejected: %s", error.code)
        return _page(error.status, problem=_problem_of(error))
    if not result.batches:
        flash(_("Không có bản ghi nào chưa gửi, nên không ghi tệp."))
        return redirect(url_for("sync.index"))

    with write(db):
        auth.audit(db, "sync_exported", detail={"records": result.records, "first_seq": result.first_seq,
                                                "last_seq": result.last_seq, "via": "page"})
    name = f"fieldapp-{dt.date.today().isoformat()}-so-{result.first_seq}-{result.last_seq}.json"
    response = send_file(io.BytesIO(data), mimetype="application/json", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response
