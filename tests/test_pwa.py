"""The installable app: service worker, manifest, offline page, idempotency keys and the offline post queue."""

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from flask import redirect, request
from PIL import Image

import fieldapp.app
from conftest import PERSONAS, csrf_token, sign_in
from live_server import SiteServer
from fieldapp import create_app
from fieldapp.db import DATABASE_NAME, connect, get_db, write

STATIC = Path(fieldapp.app.__file__).parent / "static"
KEY = "0b5f7a52-3c1e-4d8e-9f2a-6b7c8d9e0f1a"
OTHER_KEY = "7e6d5c4b-3a29-4817-8615-049382716054"


def precache_urls(source: str) -> list[str]:
    return json.loads(re.search(r"const PRECACHE_URLS = (\[.*?\]);", source, re.S).group(1))


def worker_version(source: str) -> str:
    return re.search(r'const VERSION = "([0-9a-f]+)";', source).group(1)


def test_sw_headers(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"


def test_sw_precaches_existing_files(client):
    source = client.get("/sw.js").get_data(as_text=True)

    urls = precache_urls(source)

    static_urls = [url for url in urls if url.startswith("/static/")]
    missing = [url for url in static_urls if not (STATIC / url.removeprefix("/static/")).is_file()]
    assert missing == []
    assert "/static/vendor/htmx/htmx-4.0.1.min.js" in urls
    assert "/static/css/app.css" in urls
    assert "/static/js/offline.js" in urls
    assert "/static/icons/icon-192.png" in urls
    assert "/manifest.webmanifest" in urls
    assert not [url for url in urls if url.startswith("/static/fonts/")]


def test_sw_version_follows_files(client, tmp_path, monkeypatch):
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    monkeypatch.setattr(fieldapp.app, "STATIC", copy)
    before = client.get("/sw.js").get_data(as_text=True)

    (copy / "css" / "app.css").write_text("body { color: red; }\n", encoding="utf-8")
    (copy / "vendor" / "zxing-wasm").mkdir(parents=True, exist_ok=True)
    (copy / "vendor" / "zxing-wasm" / "zxing_reader.wasm").write_bytes(b"\0asm\1\0\0\0")
    after = client.get("/sw.js").get_data(as_text=True)

    assert worker_version(after) != worker_version(before)
    assert "/static/vendor/zxing-wasm/zxing_reader.wasm" in precache_urls(after)
    assert "/static/vendor/zxing-wasm/zxing_reader.wasm" not in precache_urls(before)


@pytest.mark.parametrize("path", ["/sw.js", "/manifest.webmanifest", "/offline"])
def test_pwa_files_need_no_session(client, path):
    response = client.get(path)

    assert response.status_code == 200


def test_manifest_valid(client):
    response = client.get("/manifest.webmanifest")

    manifest = json.loads(response.get_data(as_text=True))
    assert response.mimetype == "application/manifest+json"
    assert manifest["name"] == "fieldapp – Trạm Y tế"
    assert manifest["short_name"]
    assert manifest["start_url"] in ("/roster/", "/checkin/")
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert {icon["type"] for icon in manifest["icons"]} == {"image/png", "image/svg+xml"}


def test_manifest_icons_exist(client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)

    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]

    assert {icon["sizes"] for icon in pngs} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200, icon["src"]
            if icon["type"] == "image/png":
                width, height = Image.open(io.BytesIO(response.data)).size
                assert f"{width}x{height}" == icon["sizes"], icon["src"]


def test_offline_page_has_no_token(officer):
    page = officer.get("/offline").get_data(as_text=True)

    assert "Mất kết nối với máy chủ của điểm khám" in page
    assert "csrf" not in page.lower()
    assert "Officer" not in page


def test_layout_links_pwa(officer):
    page = officer.get("/roster/").get_data(as_text=True)

    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#0a6e5c">' in page
    assert '<script type="module" src="/static/js/offline.js"></script>' in page
    assert 'id="offline-banner"' in page
    assert "Mất kết nối — {count} thao tác đang chờ gửi" in page


# --- Idempotency keys ----------------------------------------------------------------------------


class Runs(list):
    """A list of a test view's runs, with the events a held run waits on."""


@pytest.fixture
def calls(app):
    """Register test-only POST views that count their runs.

    /counted: ?status=N makes it return status N, ?wait=S sleeps, ?hold=1 waits for calls.release.
    /counted/write: stores its run in the database inside write(), with what it saw of its own key there;
    ?fail=1 raises after the write.
    """
    runs = Runs()
    runs.entered, runs.release = threading.Event(), threading.Event()

    @app.post("/counted")
    def counted():
        runs.append(request.form.get("value"))
        if request.args.get("hold"):
            runs.entered.set()
            runs.release.wait(timeout=30)
        time.sleep(float(request.args.get("wait", 0)))
        status = int(request.args.get("status", 303))
        if status == 303:
            return redirect("/roster/", 303)
        return "ran", status

    @app.post("/counted/write")
    def counted_write():
        db = get_db()
        with write(db):
            db.execute("CREATE TABLE IF NOT EXISTS counted (value TEXT)")
            db.execute("INSERT INTO counted VALUES (?)", [request.form.get("value")])
            runs.append(db.execute("SELECT count(*) FROM idempotency WHERE key = ?", [KEY]).fetchone()[0])
            if request.args.get("fail"):
                raise RuntimeError("failed after its write")
        return "stored", 200

    return runs


def signed_in(app, persona: str = "officer"):
    client = app.test_client()
    sign_in(client, persona)
    client.csrf = csrf_token(client, "/roster/")
    return client


def post(client, key: str | None, path: str = "/counted", **headers):
    if key:
        headers["Idempotency-Key"] = key
    return client.post(path, data={"value": "x"}, headers={"X-CSRFToken": client.csrf, **headers})


def test_same_key_runs_view_once(app, calls):
    client = signed_in(app)

    first = post(client, KEY)
    second = post(client, KEY)

    assert calls == ["x"]
    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["Location"] == "/roster/"
    assert second.headers["Idempotent-Replayed"] == "true"


def test_form_field_key_runs_view_once(app, calls):
    client = signed_in(app)
    form = {"value": "x", "csrf_token": client.csrf, "idempotency_key": KEY}

    client.post("/counted", data=form)
    second = client.post("/counted", data=form)

    assert calls == ["x"]
    assert second.status_code == 303


def test_other_keys_run_again(app, calls):
    client = signed_in(app)

    post(client, KEY)
    post(client, OTHER_KEY)
    post(client, None)

    assert len(calls) == 3


def test_replayed_200_is_note(app, calls):
    client = signed_in(app)

    post(client, KEY, "/counted?status=200")
    page = post(client, KEY, "/counted?status=200")
    fragment = post(client, KEY, "/counted?status=200", **{"HX-Request": "true"})

    assert len(calls) == 1
    assert page.status_code == 200
    assert "Thao tác này đã được ghi nhận trước đó." in page.get_data(as_text=True)
    assert fragment.status_code == 204
    assert fragment.data == b""


def test_failed_view_releases_key(app, calls, db):
    client = signed_in(app)

    failed = post(client, KEY, "/counted?status=422")
    retried = post(client, KEY, "/counted?status=422")

    assert failed.status_code == 422
    assert retried.status_code == 422
    assert len(calls) == 2
    assert db.execute("SELECT count(*) FROM idempotency").fetchone()[0] == 0


def test_success_recorded(app, calls, db):
    client = signed_in(app)

    post(client, KEY)

    row = db.execute("SELECT staff_id, method, path, status, location FROM idempotency WHERE key = ?", [KEY]).fetchone()
    officer_id = db.execute("SELECT id FROM staff WHERE username = 'officer'").fetchone()[0]
    assert row == (officer_id, "POST", "/counted", 303, "/roster/")


def test_key_of_other_staff_rejected(app, calls):
    officer = signed_in(app, "officer")
    nurse = signed_in(app, "nurse")

    post(officer, KEY)
    reused = post(nurse, KEY)

    assert reused.status_code == 400
    assert calls == ["x"]


def test_key_on_other_path_rejected(app, calls):
    client = signed_in(app)

    post(client, KEY)
    reused = post(client, KEY, "/lang")

    assert reused.status_code == 400


def test_malformed_key_rejected(app, calls):
    client = signed_in(app)

    response = post(client, "short")

    assert response.status_code == 400
    assert calls == []


def stored_key(db, key: str, created_at: str, status: int = 303) -> None:
    officer_id = db.execute("SELECT id FROM staff WHERE username = 'officer'").fetchone()[0]
    with write(db):
        db.execute(
            "INSERT INTO idempotency (key, staff_id, method, path, status, location, created_at)"
            " VALUES (?, ?, 'POST', '/counted', ?, '/roster/', ?)",
            [key, officer_id, status, created_at],
        )


def test_key_running_conflicts(app, calls):
    first, second = signed_in(app), signed_in(app)
    running = threading.Thread(target=post, args=(first, KEY, "/counted?hold=1"))
    running.start()
    assert calls.entered.wait(timeout=30)

    response = post(second, KEY)
    calls.release.set()
    running.join(timeout=30)
    replayed = post(second, KEY)

    assert response.status_code == 409
    assert response.headers["Retry-After"] == "2"
    assert calls == ["x"]
    assert replayed.status_code == 303


def test_key_commits_with_views_write(app, calls, db):
    client = signed_in(app)

    first = post(client, KEY, "/counted/write")
    second = post(client, KEY, "/counted/write")

    # The view saw its key inside its own transaction: both commit together, or neither does.
    assert calls == [1]
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert db.execute("SELECT status, location FROM idempotency WHERE key = ?", [KEY]).fetchall() == [(200, None)]


def test_failed_write_keeps_neither(app, calls, db):
    client = signed_in(app)

    with pytest.raises(RuntimeError):
        post(client, KEY, "/counted/write?fail=1")
    retried = post(client, KEY, "/counted/write")

    assert calls == [1, 1]
    assert retried.status_code == 200
    assert db.execute("SELECT count(*) FROM counted").fetchone()[0] == 1


def test_read_only_posts_store_no_key(app, db):
    client = app.test_client()
    sign_in(client, "reception")
    form = {"q": "Nguyễn", "csrf_token": csrf_token(client, "/checkin/")}

    answers = [client.post("/checkin/search", data=form, headers={"Idempotency-Key": KEY}) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert "Idempotent-Replayed" not in answers[1].headers
    assert db.execute("SELECT count(*) FROM idempotency").fetchone()[0] == 0


def test_claim_of_earlier_version_deleted_at_start(app, calls, db, data_dir):
    # Earlier versions stored a claim before the view ran; a crash left it, and repeats got 409 for 10 minutes.
    stored_key(db, KEY, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), status=0)

    create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    response = post(signed_in(app), KEY)

    assert db.execute("SELECT count(*) FROM idempotency WHERE status = 0").fetchone()[0] == 0
    assert response.status_code == 303
    assert calls == ["x"]


def test_old_keys_purged_at_start(app, db, data_dir):
    stored_key(db, KEY, (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).isoformat(timespec="seconds"))
    stored_key(db, OTHER_KEY, (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=6)).isoformat(timespec="seconds"))

    create_app({"DATA_DIR": str(data_dir), "TESTING": True})

    keys = [row[0] for row in db.execute("SELECT key FROM idempotency").fetchall()]
    assert keys == [OTHER_KEY]


def test_concurrent_same_key_runs_once(app, calls):
    clients = [signed_in(app), signed_in(app)]
    start = threading.Barrier(len(clients))
    responses = []

    def send(client) -> None:
        start.wait()
        responses.append(post(client, KEY, "/counted?wait=0.5").status_code)

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert calls == ["x"]
    assert sorted(responses) in ([303, 409], [303, 303])


def test_lang_post_replayed(app):
    client = app.test_client()
    token = csrf_token(client)
    form = {"lang": "en", "csrf_token": token}

    client.post("/lang", data=form, headers={"Idempotency-Key": KEY})
    client.post("/lang", data={**form, "lang": "vi"}, headers={"Idempotency-Key": KEY})

    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


# --- In Chromium --------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FIELDAPP_SCRIPT = Path(sys.executable).parent / "fieldapp"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}; set CHROMIUM")


def write_list(path: Path, name: str, birth: str, address: str) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"])
    book.active.append([1, name, birth, "Nam", address])
    book.save(path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Start `fieldapp serve` with one site admin and one pair to review; yield its URL and data folder."""
    folder = tmp_path_factory.mktemp("pwa")
    data_dir = folder / "site"
    role, pin = PERSONAS["officer"]
    commands = [
        ["user", "add", "--data-dir", str(data_dir), "officer", "--role", role, "--pin", pin],
        ["import", "--data-dir", str(data_dir), "--as-of", "2025-10-15",
         str(write_list(folder / "bao-tro-bo-sung.xlsx", "Trần Văn Bình", "1950", "Số 3 Lê Lợi")),
         str(write_list(folder / "ho-ngheo-bo-sung.xlsx", "Trần Văn Bình", "12/03/1950", "Số 9 Trần Phú"))],
    ]
    for command in commands:
        result = subprocess.run([str(FIELDAPP_SCRIPT), *command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    with SiteServer(data_dir, folder / "server.log") as served:
        yield SimpleNamespace(url=served.url, data_dir=data_dir)


@pytest.fixture
def context(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=server.url)
        yield context
        context.close()
        browser.close()


def count_rows(data_dir: Path, sql: str) -> int:
    db = connect(data_dir / DATABASE_NAME)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.conn.close()


def wait_for_rows(data_dir: Path, sql: str, expected: int, seconds: float = 15) -> int:
    deadline = time.monotonic() + seconds
    found = count_rows(data_dir, sql)
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = count_rows(data_dir, sql)
    return found


DECISIONS = "SELECT count(*) FROM audit_event WHERE action = 'review_decision'"


@pytest.mark.browser
@needs_chromium
def test_offline_decision_replayed_once(context, server):
    from playwright.sync_api import expect

    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("officer")
    page.get_by_label("Mã PIN").fill(PERSONAS["officer"][1])
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto("/review/")
    expect(page.locator("ol.pairs > li")).to_have_count(1)
    worker_state = page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.active.state)")
    banner = page.locator("#offline-banner")
    sent = []
    page.on("request", lambda request: sent.append(request.headers) if request.url.endswith("/review/decide") else None)

    context.set_offline(True)
    expect(banner).to_have_text(re.compile(r"Mất kết nối — 0 thao tác đang chờ gửi"))
    page.get_by_role("button", name="Cùng một người: gộp").click()

    expect(banner).to_contain_text("Mất kết nối — 1 thao tác đang chờ gửi")
    assert count_rows(server.data_dir, DECISIONS) == 0

    context.set_offline(False)

    expect(banner).to_be_hidden(timeout=15_000)
    assert wait_for_rows(server.data_dir, DECISIONS, 1) == 1
    page.reload()
    expect(page.get_by_text("Không còn cặp nào cần xem xét.")).to_be_visible()
    page.evaluate("new Promise((resolve) => setTimeout(resolve, 1000))")
    assert count_rows(server.data_dir, DECISIONS) == 1
    assert count_rows(server.data_dir, "SELECT count(*) FROM link_decision") == 1
    assert count_rows(server.data_dir, "SELECT count(*) FROM idempotency WHERE status = 0") == 0
    assert len(sent) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", sent[0].get("idempotency-key", ""))
    assert worker_state == "activated"
    assert errors == []


@pytest.mark.browser
@needs_chromium
def test_offline_plain_form_replayed(context, server):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("officer")
    page.get_by_label("Mã PIN").fill(PERSONAS["officer"][1])
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Danh sách người được mời")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")

    context.set_offline(True)
    page.get_by_role("button", name="English").click()

    expect(page.locator("#offline-banner")).to_contain_text("Mất kết nối — 1 thao tác đang chờ gửi")
    assert re.search(r"/roster/$", page.url)

    context.set_offline(False)

    expect(page.locator("#offline-banner")).to_be_hidden(timeout=15_000)
    page.reload()
    expect(page.get_by_role("heading", name="Roster of invited people")).to_be_visible()


@pytest.mark.browser
@needs_chromium
def test_offline_navigation_shows_offline_page(context, server):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto("/login")
    page.evaluate("navigator.serviceWorker.ready")

    context.set_offline(True)
    page.goto("/roster/")

    expect(page.get_by_role("heading", name="Mất kết nối với máy chủ của điểm khám")).to_be_visible()


# Run in a page or in the service worker: the queue database's store names and version.
QUEUE_STORES_SCRIPT = """async () => {
    const db = await globalThis.fieldappQueue.openQueue();
    const stores = [...db.objectStoreNames, db.version];
    db.close();
    return stores;
}"""


@pytest.mark.browser
@needs_chromium
def test_page_and_worker_share_queue_database(context, server):
    page = context.new_page()
    page.goto("/login")
    page.evaluate("navigator.serviceWorker.ready")
    worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")

    # The page module opens the queue database first; the worker must open the same stores and version.
    page_stores = page.evaluate(QUEUE_STORES_SCRIPT)
    worker_stores = worker.evaluate(QUEUE_STORES_SCRIPT)

    assert page_stores == ["meta", "posts", 1]
    assert worker_stores == page_stores
