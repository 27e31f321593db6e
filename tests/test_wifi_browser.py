"""A station phone loses the Wi-Fi while the nurse enters measurements: every value is stored exactly once.

The site runs as `fieldapp serve` over HTTPS, as phones reach it on the LAN (tests/live_server.py).
Chromium accepts the server's certificate through --ignore-certificate-errors-spki-list, in place of the
site's CA that a real phone installs from the join page, so the page is a secure context with a service
worker. The context also sets ignore_https_errors, which Playwright's own route.fetch() needs because it
sends an intercepted request to the server from outside the browser. (With ignore_https_errors alone,
Chromium refuses to register the service worker.)

The phone is paired and the nurse signed in. context.set_offline() is the Wi-Fi dropping. A response is
lost by a route that lets the server handle the request (route.fetch) and then fails it in the browser.
With Playwright 1.65 and Chromium 156, context.route also intercepts the requests that the service worker sends.

The queue lives on the laptop, so calling the next person needs the network. An installed app has one
window, so offline the nurse can finish only the people whose pages are already open. The main test
opens a second person's page in a second tab before the drop, which also makes two pages replay one queue.
"""

import base64
import datetime as dt
import hashlib
import time
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from conftest import SAMPLE, import_station_ward
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from live_server import SiteServer
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    record_console_error,
    screenshot,
)

from fieldapp import devices, queueing
from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.clinical import catalogue
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.visits import Consent, check_in

pytestmark = pytest.mark.browser

NURSE = ("nurse", "station", "1357")
OFFLINE_SECONDS = 60
# Seconds the Wi-Fi stays down again after the response to a replayed post is lost.
SECOND_DROP_SECONDS = 3
# The replay after a reconnect sends several posts and reloads two pages.
REPLAY_TIMEOUT_MS = 20_000
# The entry form's note while a save or "Xong" made on it waits on the phone.
QUEUED_NOTE = "Mất mạng: thao tác đã được giữ trên điện thoại này và sẽ tự gửi khi có mạng lại. Không cần bấm lại."
# Chromium logs each request that fails while the phone is offline or when a response is lost.
NETWORK_ERRORS = ("net::ERR_INTERNET_DISCONNECTED",)
# (height cm, weight kg, waist cm) as the nurse types them, with the decimal comma, and as stored.
MEASURES = {
    "first": (("158,5", "52,5", "74,0"), {"height_cm": 158.5, "weight_kg": 52.5, "waist_cm": 74.0}),
    "second": (("162,0", "60,5", "81,5"), {"height_cm": 162.0, "weight_kg": 60.5, "waist_cm": 81.5}),
}
BLOOD_PRESSURE = (("128", "82", "124", "80", "72"),
                  {("bp_systolic", 1): 128.0, ("bp_diastolic", 1): 82.0, ("bp_systolic", 2): 124.0,
                   ("bp_diastolic", 2): 80.0, ("pulse", 1): 72.0})


def spki_pin(certificate_path) -> str:
    """Return the base64 SHA-256 of a certificate's public key, as --ignore-certificate-errors-spki-list takes it."""
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    key = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(key).digest()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve one residential group's list with today's round over HTTPS; yield its URL, certificate and database."""
    folder = tmp_path_factory.mktemp("wifi")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    desk = import_station_ward(db, lists=[SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx"])
    with write(db):
        username, role, pin = NURSE
        nurse_id = add_staff(db, username, "Điều dưỡng Lan", role, pin)

    site = SiteServer(data_dir, folder / "server.log", https=True).start()
    try:
        yield SimpleNamespace(url=site.url, certificate=data_dir / "tls" / "server.pem", db=db, nurse_id=nurse_id,
                              desk=desk, arrived=0)
    finally:
        site.stop()
        db.conn.close()


@pytest.fixture(scope="module")
def chromium(server):
    pin = spki_pin(server.certificate)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"])
        yield browser
        browser.close()


def watch(page: Page) -> Page:
    """Record console errors in page.errors and uncaught exceptions in page.exceptions."""
    page.errors = []
    page.exceptions = []
    page.on("console", lambda message: record_console_error(page, message))
    page.on("pageerror", lambda error: page.exceptions.append(str(error)))
    return page


@pytest.fixture
def phone(chromium, server):
    """A paired touch phone with the nurse signed in and the service worker active."""
    context = chromium.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, is_mobile=True,
                                   has_touch=True, locale="vi-VN", base_url=server.url, ignore_https_errors=True)
    page = watch(context.new_page())
    with write(server.db):
        token = devices.create_pairing_token(server.db, "Điện thoại bàn cân đo", server.nurse_id,
                                             dt.datetime.now(dt.UTC))
    page.goto(f"/pair/{token}")
    page.get_by_label("Tên đăng nhập").fill(NURSE[0])
    page.get_by_label("Mã PIN").fill(NURSE[2])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/roster/**")
    assert page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.active.state)") \
        == "activated"
    page.device_id = server.db.execute("SELECT id FROM device ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    yield page
    context.close()


def arrive(server) -> dict:
    """Check in the next adult of the list; the visit waits in the measuring line."""
    person_id = server.db.execute("SELECT id FROM person WHERE birth_date < '1966' ORDER BY sort_key LIMIT 1 OFFSET ?",
                                  [server.arrived]).fetchone()[0]
    server.arrived += 1
    visit, _ = check_in(server.db, server.desk, get_person(server.db, person_id), Consent())
    return visit


def desk_id(server, station: str) -> str:
    return server.db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                                WHERE station_type.code = ?""", [station]).fetchone()[0]


def call_next(page: Page, server, desk: str) -> dict:
    """Tap "Gọi người tiếp theo" on the desk screen; return the task called."""
    called = {row[0] for row in server.db.execute("SELECT id FROM task WHERE desk_id = ? AND status = 'called'",
                                                  [desk])}
    page.get_by_role("button", name="Gọi người tiếp theo").tap()
    expect(page.locator(".serving article")).to_have_count(len(called) + 1)
    rows = server.db.execute("SELECT id, visit_id FROM task WHERE desk_id = ? AND status = 'called'", [desk])
    task_id, visit_id = next(row for row in rows if row[0] not in called)
    return {"id": task_id, "visit_id": visit_id}


def open_entry(page: Page, server, desk: str, task: dict, station: str) -> None:
    page.goto(f"/stations/desk/{desk}")
    page.locator(f'article[data-task="{task["id"]}"]').get_by_role("link", name="Nhập kết quả").tap()
    expect(page).to_have_url(f"{server.url}/entry/visit/{task['visit_id']}/{station}")


def type_values(page: Page, first_field: str, values) -> None:
    """Tap the first field and type the values; the page moves to the next field after each complete one."""
    page.locator(f'[name="{first_field}"]').tap()
    for value in values:
        page.keyboard.type(value)


def observations(server, visit_id: str, station: str) -> list[tuple]:
    """Return a visit's observations of the items entered at one station, every version."""
    items = [code for code, item in catalogue().items() if item.station == station]
    return server.db.execute(f"""SELECT item, reading, value_num, supersedes, device_id, staff_id FROM observation
                                 WHERE visit_id = ? AND item IN ({', '.join('?' * len(items))})
                                 ORDER BY item, reading""", [visit_id, *items]).fetchall()


def saves_recorded(server, visit_id: str, station: str) -> int:
    """Return how many saves stored values of a visit at a station, from the audit table."""
    return server.db.execute("""SELECT count(*) FROM audit_event WHERE action = 'observations_recorded'
                                AND subject = ? AND json_extract(detail, '$.station') = ?""",
                             [visit_id, station]).fetchone()[0]


def tasks_done(server, task_id: str) -> int:
    """Return how many times a desk finished a task, from the audit table."""
    return server.db.execute("SELECT count(*) FROM audit_event WHERE action = 'station_done' AND subject = ?",
                             [task_id]).fetchone()[0]


def task_status(server, task_id: str) -> str:
    return server.db.execute("SELECT status FROM task WHERE id = ?", [task_id]).fetchone()[0]


def queued(page: Page) -> list[dict]:
    """Return the posts waiting in the phone's IndexedDB queue: key and address."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const opening = indexedDB.open("fieldapp-offline", 1);
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
            const all = opening.result.transaction("posts").objectStore("posts").getAll();
            all.onsuccess = () => { resolve(all.result.map((post) => ({key: post.key, url: post.url})));
                                    opening.result.close(); };
        };
    })""")


def wait_until(page: Page, condition, description: str, seconds: float = 15) -> None:
    """Poll condition; waiting inside Playwright lets route handlers and page events run meanwhile."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting until {description}"
        page.wait_for_timeout(200)


class LostResponse:
    """Lose the response to the first POST to an address: the server handles it, then the Wi-Fi drops.

    route.fetch() sends the browser's request to the server and reads its response. The browser then gets a
    network error for the request, and for every request after it until restore(), including the service worker's.
    """

    def __init__(self, context: BrowserContext, url: str):
        self.context = context
        self.key: str | None = None
        self.status: int | None = None
        self.down = False
        context.route("**/*", self._fail_while_down)
        context.route(url, self._lose_first_post)

    def _fail_while_down(self, route) -> None:
        if self.down:
            route.abort("internetdisconnected")
        else:
            route.fallback()

    def _lose_first_post(self, route) -> None:
        if route.request.method != "POST" or self.status is not None:
            route.fallback()
            return
        response = route.fetch(max_redirects=0)
        self.status = response.status
        self.key = route.request.headers.get("idempotency-key") or form_key(route.request.post_data)
        self.down = True
        route.abort("internetdisconnected")

    def go_offline(self, page: Page) -> None:
        """Wait until the response is lost, then take the phone offline as it notices the Wi-Fi is gone."""
        wait_until(page, lambda: self.down, "the server has answered the post")
        self.context.set_offline(True)

    def restore(self) -> None:
        self.down = False
        self.context.unroute_all(behavior="wait")
        self.context.set_offline(False)


def form_key(body: str | None) -> str | None:
    return (parse_qs(body or "").get("idempotency_key") or [None])[0]


def replayed_posts(context: BrowserContext, url: str) -> list[tuple[int, str | None]]:
    """Collect (status, Idempotent-Replayed header) of each POST response from url that reaches the browser."""
    seen = []

    def record(response) -> None:
        if response.request.method == "POST" and response.url == url:
            seen.append((response.status, response.headers.get("idempotent-replayed")))

    context.on("response", record)
    return seen


def network_errors_only(page: Page) -> list[str]:
    return [error for error in page.errors if not any(expected in error for expected in NETWORK_ERRORS)]


def test_sixty_seconds_offline_stored_once(phone, server, tmp_path):
    visits = {name: arrive(server) for name in MEASURES}
    measure_desk = desk_id(server, "measure")
    phone.goto(f"/stations/desk/{measure_desk}")
    tasks = {name: call_next(phone, server, measure_desk) for name in MEASURES}
    assert {task["visit_id"] for task in tasks.values()} == {visit["id"] for visit in visits.values()}
    visit_of = {name: task["visit_id"] for name, task in tasks.items()}
    second = watch(phone.context.new_page())
    open_entry(second, server, measure_desk, tasks["second"], "measure")
    open_entry(phone, server, measure_desk, tasks["first"], "measure")
    first_values, _ = MEASURES["first"]
    type_values(phone, "height_cm.1", first_values[:1])
    banner = phone.locator("#offline-banner .offline-status")
    note = phone.locator("[data-queued-note]")

    phone.context.set_offline(True)
    dropped_at = time.monotonic()
    expect(banner).to_have_text("Mất kết nối — 0 thao tác đang chờ gửi")
    expect(note).to_be_hidden()
    type_values(phone, "weight_kg.1", first_values[1:])
    phone.locator("button.save").tap()
    expect(banner).to_have_text("Mất kết nối — 1 thao tác đang chờ gửi")
    expect(note).to_have_text(QUEUED_NOTE)
    expect(note).to_be_visible()
    phone.get_by_role("button", name="Xong, mời sang bàn tiếp theo").tap()
    expect(banner).to_have_text("Mất kết nối — 2 thao tác đang chờ gửi")
    screenshot(phone, tmp_path, "wifi-1-first-person-waiting")
    second.bring_to_front()
    type_values(second, "height_cm.1", MEASURES["second"][0])
    second.locator("button.save").tap()
    second.get_by_role("button", name="Xong, mời sang bàn tiếp theo").tap()
    expect(second.locator("#offline-banner .offline-status")).to_have_text("Mất kết nối — 4 thao tác đang chờ gửi")
    expect(second.locator("[data-queued-note]")).to_be_visible()
    screenshot(second, tmp_path, "wifi-2-second-person-waiting")
    keys = [post["key"] for post in queued(second)]
    assert len(set(keys)) == 4
    for name in MEASURES:
        assert observations(server, visit_of[name], "measure") == []
        assert task_status(server, tasks[name]["id"]) == "called"

    phone.wait_for_timeout(max(0.0, OFFLINE_SECONDS - (time.monotonic() - dropped_at)) * 1000)
    first_save = f"{server.url}/entry/visit/{visit_of['first']}/measure"
    lost = LostResponse(phone.context, first_save)
    answers = replayed_posts(phone.context, first_save)
    phone.bring_to_front()
    phone.context.set_offline(False)
    lost.go_offline(phone)
    stored_before_second_drop = observations(server, visit_of["first"], "measure")
    expect(banner).to_have_text("Mất kết nối — 4 thao tác đang chờ gửi")
    phone.wait_for_timeout(SECOND_DROP_SECONDS * 1000)
    lost.restore()

    for page in (phone, second):
        expect(page.locator("#offline-banner")).to_be_hidden(timeout=REPLAY_TIMEOUT_MS)
        expect(page.get_by_text("Đã nhập đủ các mục của bàn này.")).to_be_visible(timeout=REPLAY_TIMEOUT_MS)
        expect(page.locator("[data-queued-note]")).to_be_hidden()
    expect(phone.locator('[data-row="height_cm"] .saved .value')).to_have_text("158,5 cm")
    expect(second.locator('[data-row="waist_cm"] .saved .value')).to_have_text("81,5 cm")
    screenshot(phone, tmp_path, "wifi-3-first-person-sent")
    assert queued(phone) == []
    assert (lost.status, lost.key) == (303, keys[0])
    assert answers == [(303, "true")]
    assert [row[:3] for row in stored_before_second_drop] == [
        (item, 1, value) for item, value in sorted(MEASURES["first"][1].items())]
    for name, (_, stored) in MEASURES.items():
        rows = observations(server, visit_of[name], "measure")
        assert [row[:4] for row in rows] == [(item, 1, value, None) for item, value in sorted(stored.items())]
        assert {row[4:] for row in rows} == {(phone.device_id, server.nurse_id)}
        assert saves_recorded(server, visit_of[name], "measure") == 1
        assert task_status(server, tasks[name]["id"]) == "done"
        assert tasks_done(server, tasks[name]["id"]) == 1
        in_line = server.db.execute("SELECT status FROM task WHERE visit_id = ? AND in_line = 1",
                                    [visit_of[name]]).fetchall()
        assert in_line == [("waiting",)]
    recorded = dict(server.db.execute(f"SELECT key, status FROM idempotency WHERE key IN ({', '.join('?' * len(keys))})",
                                      keys).fetchall())
    # In the order queued: save and "Xong" for the first person, then for the second.
    assert [recorded.get(key) for key in keys] == [303, 302, 303, 302]
    for page in (phone, second):
        assert page.exceptions == []
        assert network_errors_only(page) == []


def test_lost_response_to_save_stored_once(phone, server, tmp_path):
    visit = arrive(server)
    measuring = server.db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    pressure = server.db.execute("SELECT id FROM station_type WHERE code = 'blood_pressure'").fetchone()[0]
    # The coordinator sends this person to the blood pressure line first, as when the scales are busy.
    # The desk calls the person who has waited longest there, so after the other test it may be someone else.
    queueing.send_to(server.db, measuring, pressure)
    pressure_desk = desk_id(server, "blood_pressure")
    phone.goto(f"/stations/desk/{pressure_desk}")
    task = call_next(phone, server, pressure_desk)
    open_entry(phone, server, pressure_desk, task, "blood_pressure")
    typed, stored = BLOOD_PRESSURE
    type_values(phone, "bp_systolic.1", typed)
    save = f"{server.url}/entry/visit/{task['visit_id']}/blood_pressure"
    lost = LostResponse(phone.context, save)
    answers = replayed_posts(phone.context, save)
    loads = []
    phone.on("load", lambda page: loads.append(page.url))

    phone.locator("button.save").tap()
    lost.go_offline(phone)

    expect(phone.get_by_role("heading", name="Mất kết nối với máy chủ của điểm khám")).to_be_visible()
    expect(phone.locator("#offline-banner .offline-status")).to_have_text("Mất kết nối — 1 thao tác đang chờ gửi")
    screenshot(phone, tmp_path, "wifi-4-response-lost")
    stored_while_offline = observations(server, task["visit_id"], "blood_pressure")
    phone.wait_for_timeout(SECOND_DROP_SECONDS * 1000)
    loads.clear()
    lost.restore()

    # The offline page goes back to the form, which sends the queued save and then reloads.
    wait_until(phone, lambda: loads == [save, save] and answers, "the form is back and reloaded after the replay",
               REPLAY_TIMEOUT_MS / 1000)
    expect(phone.locator("#offline-banner")).to_be_hidden()
    expect(phone.locator("#bp-mean")).to_have_text("126/81")
    expect(phone.locator('[data-row="pulse"] .saved .value')).to_have_text("72 lần/phút")
    screenshot(phone, tmp_path, "wifi-5-response-lost-sent")
    phone.get_by_role("button", name="Xong, mời sang bàn tiếp theo").tap()
    expect(phone).to_have_url(f"{server.url}/stations/desk/{pressure_desk}")
    expected = sorted((item, reading, value, None) for (item, reading), value in stored.items())
    assert [row[:4] for row in stored_while_offline] == expected
    assert [row[:4] for row in observations(server, task["visit_id"], "blood_pressure")] == expected
    assert lost.status == 303
    assert answers == [(303, "true")]
    assert saves_recorded(server, task["visit_id"], "blood_pressure") == 1
    assert tasks_done(server, task["id"]) == 1
    assert task_status(server, task["id"]) == "done"
    assert server.db.execute("SELECT status FROM idempotency WHERE key = ?", [lost.key]).fetchone() == (303,)
    assert queued(phone) == []
    assert phone.exceptions == []
    assert network_errors_only(phone) == []
