"""The sync page: enrol with the central store, push in a background job, export to a file, and who may do what.

The central store is the real central app (create_app ROLE "central", SQLite record store) served over HTTP
on 127.0.0.1 by tests/fake_central.Server in a thread, so a push goes through the real API and lands in
the real record store.
"""

import datetime as dt
import io
import json
import threading
from types import SimpleNamespace

import pytest
from conftest import SAMPLE, SAMPLE_DATE, csrf_token
from fake_central import Server
from sqlalchemy import select

from fieldapp import create_app, jobs, sync_views
from fieldapp.auth import add_staff
from fieldapp.central import central_engine, sites
from fieldapp.central.schema import record
from fieldapp.central.store import write as central_write
from fieldapp.db import new_id, now, write
from fieldapp.errors import render as render_message
from fieldapp.importer import import_files
from fieldapp.invitations import invite
from fieldapp.rounds import SiteSpec, create_round
from fieldapp.rounds import sites as round_sites
from fieldapp.sync import batches, client, outbox

DAY = dt.date(2026, 10, 15)
SITE_NAME = "Trạm Y tế phường An Lạc"
# A push job gets this long to end. It guards against a hang and is not a timing check.
JOB_SECONDS = 60
NOT_ENROLLED = "Máy này chưa đăng ký với kho dữ liệu trung tâm."


@pytest.fixture
def central(tmp_path):
    """Serve the central app on its own data folder and a free port, and yield its URL, engine and server."""
    folder = tmp_path / "central"
    folder.mkdir()
    app = create_app({"ROLE": "central", "DATA_DIR": str(folder)})
    engine = central_engine(app)
    server = Server(app)
    state = SimpleNamespace(url=server.url, engine=engine, server=server, running=True)

    def stop() -> None:
        if state.running:
            server.stop()
            state.running = False

    state.stop = stop
    yield state
    stop()
    engine.dispose()


def new_code(central, name: str = SITE_NAME) -> str:
    with central_write(central.engine) as connection:
        _, code = sites.add_site(connection, name)
    return code


def held(central) -> set[tuple[str, str, str]]:
    with central.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(select(record.c.site_id, record.c.kind, record.c.id))}


@pytest.fixture
def ward(db):
    """Import one list of 21 people, invite them all to a round, and return the outbox counts."""
    import_files(db, [SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx"], SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
        invite(db, round_id, round_sites(db, round_id)[0]["id"], "all")
    return outbox.counts(db)


@pytest.fixture
def no_wait(app):
    app.config[sync_views.RETRY_SETTING] = client.Retry(attempts=2, sleep=lambda seconds: None)


def post(client_, path: str, **data):
    return client_.post(path, data={**data, "csrf_token": client_.csrf})


def enrol(officer, central):
    response = post(officer, "/sync/enrol", url=central.url, code=new_code(central))
    assert response.status_code == 302, response.get_data(as_text=True)


def start_push(officer) -> str:
    response = post(officer, "/sync/push")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def wait_for(job_id: str) -> None:
    """Join the job's thread (jobs.start names it job-<id>)."""
    thread = next((thread for thread in threading.enumerate() if thread.name == f"job-{job_id}"), None)
    if thread is not None:
        thread.join(timeout=JOB_SECONDS)
        assert not thread.is_alive(), f"push job {job_id} did not end"


def audits(db, action: str) -> list[dict]:
    rows = db.execute("SELECT staff_id, subject, detail FROM audit_event WHERE action = ? ORDER BY rowid", [action])
    return [{"staff_id": staff_id, "subject": subject, **json.loads(detail)} for staff_id, subject, detail in rows]


def staff_id(db, username: str) -> str:
    return db.execute("SELECT id FROM staff WHERE username = ?", [username]).fetchone()[0]


def nothing_stored(db, data_dir) -> None:
    assert outbox.SITE_ID not in outbox.state(db)
    assert not (data_dir / client.KEY_FILE).exists()
    assert not (data_dir / client.CA_FILE).exists()
    assert audits(db, "sync_enrolled") == []


# The page and enrolment.


def test_page_before_enrolment_offers_form(officer, ward):
    page = officer.get("/sync/").get_data(as_text=True)

    assert NOT_ENROLLED in page
    assert f"{ward.total} bản ghi" in page
    assert 'action="/sync/enrol"' in page
    assert 'action="/sync/push"' not in page


def test_enrol_stores_site_and_audits(officer, db, data_dir, central):
    enrol(officer, central)
    page = officer.get("/sync/").get_data(as_text=True)

    settings = outbox.state(db)
    assert settings[outbox.SITE_NAME] == SITE_NAME
    assert settings[outbox.CENTRAL_URL] == central.url
    assert (data_dir / client.KEY_FILE).is_file()
    assert f"Đã đăng ký máy này với kho dữ liệu trung tâm {central.url}" in page
    assert settings[outbox.SITE_ID] in page
    assert 'action="/sync/push"' in page
    assert audits(db, "sync_enrolled") == [{"staff_id": staff_id(db, "officer"), "subject": None,
                                            "site_id": settings[outbox.SITE_ID], "via": "page"}]


@pytest.mark.parametrize(("case", "code", "named"), [
    ("wrong code", "sync_enrol_code_invalid", None),
    ("no code", "sync_enrol_code_invalid", None),
    ("plain http to another host", "sync_url_insecure", "http://192.168.1.5:9000"),
    ("not a URL", "sync_url_invalid", "kho trung tâm"),
    ("CA file not PEM", "sync_ca_invalid", "ca-cua-kho.pem"),
])
def test_enrol_rejected_stores_nothing(officer, db, data_dir, central, no_wait, case, code, named):
    form = {"url": central.url, "code": new_code(central), "csrf_token": officer.csrf}
    if case == "wrong code":
        form["code"] = "ABCD-EFGH-JKMN"
    elif case == "no code":
        form["code"] = ""
    elif case == "CA file not PEM":
        form["ca"] = (io.BytesIO(b"not a certificate"), "ca-cua-kho.pem")
    else:
        form["url"] = named

    response = officer.post("/sync/enrol", data=form)
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert render_message(code, value=named, file=named) in page.replace("&#39;", "'")
    assert str(sync_views.problem(code, {}).hint) in page
    assert "Chưa lưu gì" in page
    nothing_stored(db, data_dir)


def test_enrol_over_https_with_uploaded_ca(officer, db, data_dir, tmp_path, no_wait):
    from fieldapp.tls import prepare_site_tls

    folder = tmp_path / "central-tls"
    folder.mkdir()
    central_tls = prepare_site_tls(folder, ["127.0.0.1"], "central")
    app = create_app({"ROLE": "central", "DATA_DIR": str(folder)})
    server = Server(app, central_tls)
    state = SimpleNamespace(url=server.url, engine=central_engine(app))
    ca = central_tls.ca_path.read_bytes()
    try:
        untrusted = post(officer, "/sync/enrol", url=server.url, code=new_code(state))
        trusted = officer.post("/sync/enrol", data={"url": server.url, "code": new_code(state, "Trạm B"),
                                                    "ca": (io.BytesIO(ca), "ca.pem"), "csrf_token": officer.csrf})
    finally:
        server.stop()
        state.engine.dispose()

    assert untrusted.status_code == 400
    assert render_message("sync_tls_failed", value=server.url) in untrusted.get_data(as_text=True)
    assert "Chứng chỉ CA" in str(sync_views.PAGE_HINTS["sync_tls_failed"])
    assert trusted.status_code == 302
    assert (data_dir / client.CA_FILE).read_bytes() == ca
    assert outbox.state(db)[outbox.SITE_NAME] == "Trạm B"


def test_missing_key_shown_on_page(officer, data_dir, central):
    enrol(officer, central)
    (data_dir / client.KEY_FILE).unlink()

    page = officer.get("/sync/").get_data(as_text=True)

    assert render_message("sync_key_missing", file=data_dir / client.KEY_FILE) in page
    assert str(sync_views.PAGE_HINTS["sync_key_missing"]) in page


# Push.


def test_push_sends_every_record(officer, db, central, ward, monkeypatch):
    monkeypatch.setattr(sync_views, "BATCH_SIZE", 10)
    enrol(officer, central)
    site_id = outbox.state(db)[outbox.SITE_ID]

    job_id = start_push(officer)
    wait_for(job_id)
    page = officer.get(f"/sync/jobs/{job_id}").get_data(as_text=True)

    expected = {(site_id, entry["kind"], entry["id"]) for entry in outbox.pending(db, 0, 1000)}
    assert held(central) == expected
    assert outbox.counts(db).unsent == 0
    assert outbox.counts(db).acknowledged_through == ward.last_seq
    assert (f"Xong: đã gửi {ward.total} bản ghi (0 bản ghi kho đã có từ trước); kho dữ liệu trung tâm đã nhận "
            f"đến bản ghi số {ward.last_seq}; còn 0 bản ghi chưa gửi.") in page
    assert sync_views.read_report(officer.application, job_id)["batches"] == -(-ward.total // 10)
    assert audits(db, "sync_pushed") == [{"staff_id": None, "subject": job_id, "records": ward.total,
                                          "acknowledged_through": ward.last_seq, "via": "page",
                                          "started_by": staff_id(db, "officer")}]
    assert "Lần gửi cuối" in officer.get("/sync/").get_data(as_text=True)


def test_push_with_central_down_keeps_outbox(app, officer, db, central, ward):
    enrol(officer, central)
    central.stop()
    gate = threading.Event()
    app.config[sync_views.RETRY_SETTING] = client.Retry(attempts=2, sleep=lambda seconds: gate.wait(JOB_SECONDS))

    job_id = start_push(officer)
    second = post(officer, "/sync/push")
    while "retry" not in sync_views.read_report(officer.application, job_id):
        gate.wait(0.05)
    waiting = officer.get(f"/sync/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    gate.set()
    wait_for(job_id)
    failed = officer.get(f"/sync/jobs/{job_id}").get_data(as_text=True)

    assert second.headers["Location"].endswith(f"/sync/jobs/{job_id}")
    assert "thử lại lần 2" in waiting
    assert 'hx-trigger="every 1s"' in waiting
    assert render_message("sync_unreachable", value=central.url, field=2) in failed
    assert str(sync_views.PAGE_HINTS["sync_unreachable"]) in failed
    assert f"vẫn giữ {ward.total} bản ghi kho chưa nhận" in failed
    assert 'hx-trigger' not in failed
    assert outbox.counts(db).unsent == ward.total
    assert outbox.counts(db).acknowledged_through == 0
    assert audits(db, "sync_pushed") == []
    assert 'action="/sync/push"' in officer.get("/sync/").get_data(as_text=True)


def test_push_before_enrolment_rejected(officer, db, ward):
    response = post(officer, "/sync/push")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert NOT_ENROLLED in page
    assert str(sync_views.PAGE_HINTS["sync_not_enrolled"]) in page
    assert db.execute("SELECT count(*) FROM job").fetchone()[0] == 0


def test_orphaned_job_shown_interrupted(officer, db):
    job_id = new_id()
    with write(db):
        db["job"].insert({"id": job_id, "kind": sync_views.JOB_KIND, "status": "running", "done": 0, "total": 5,
                          "result": None, "error": None, "created_at": now(), "updated_at": now()})

    page = officer.get(f"/sync/jobs/{job_id}").get_data(as_text=True)

    assert "đã dừng giữa chừng" in page
    assert "hx-trigger" not in page
    assert "Đang gửi — xem tiến độ" not in officer.get("/sync/").get_data(as_text=True)


@pytest.mark.parametrize("kind", [None, "slips"])
def test_job_page_only_for_push_jobs(officer, db, kind):
    job_id = new_id()
    if kind:
        with write(db):
            db["job"].insert({"id": job_id, "kind": kind, "status": "done", "done": 1, "total": 1,
                              "result": f"{job_id}.pdf", "error": None, "created_at": now(), "updated_at": now()})

    assert officer.get(f"/sync/jobs/{job_id}").status_code == 404


# Export.


def test_export_downloads_signed_file(officer, db, data_dir, central, ward):
    enrol(officer, central)
    site = client.enrolment(db, data_dir)

    response = post(officer, "/sync/export")
    document = json.loads(response.get_data())

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    signature = document.pop("signature")
    batches.verify(batches.public_key_text(site.key), batches.canonical(document), signature)
    assert document["format"] == client.EXPORT_FORMAT
    assert sum(len(batch["records"]) for batch in document["batches"]) == ward.total
    assert outbox.counts(db).unsent == ward.total
    assert audits(db, "sync_exported") == [{"staff_id": staff_id(db, "officer"), "subject": None,
                                            "records": ward.total, "first_seq": 1, "last_seq": ward.last_seq,
                                            "via": "page"}]
    assert list(jobs.output_dir(officer.application).iterdir()) == []


def test_export_with_nothing_unsent_writes_no_file(officer, db, central, ward):
    enrol(officer, central)
    wait_for(start_push(officer))

    response = post(officer, "/sync/export")

    assert response.status_code == 302
    assert "Không có bản ghi nào chưa gửi" in officer.get("/sync/").get_data(as_text=True)
    assert audits(db, "sync_exported") == []


# Roles.


def signed_in(app, db, username: str, role: str, pin: str):
    with write(db):
        add_staff(db, username, username.title(), role, pin)
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "pin": pin, "csrf_token": csrf_token(browser)})
    assert response.status_code == 302
    browser.csrf = csrf_token(browser, "/roster/")
    return browser


def test_coordinator_sees_status_but_cannot_post(app, db, officer, central, ward):
    enrol(officer, central)
    coordinator = signed_in(app, db, "coord", "coordinator", "3333")

    page = coordinator.get("/sync/").get_data(as_text=True)
    posts = {url: post(coordinator, url).status_code for url in ("/sync/enrol", "/sync/push", "/sync/export")}

    assert SITE_NAME in page
    assert f"{ward.total} bản ghi" in page
    assert "<form" not in page.split("<main>")[1]
    assert posts == {"/sync/enrol": 403, "/sync/push": 403, "/sync/export": 403}
    assert held(central) == set()


def test_nurse_gets_403(app):
    from conftest import sign_in

    nurse = app.test_client()
    sign_in(nurse, "nurse")

    assert nurse.get("/sync/").status_code == 403
    assert nurse.get(f"/sync/jobs/{new_id()}").status_code == 403

