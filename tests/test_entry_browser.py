"""Station entry on a 360 px touch phone in Debian's Chromium, against `fieldapp serve --no-https`.

The phone is paired like a real one, so stored values carry its device id. Taps and key presses are
counted inside the page (pointerdown and keydown on the document, kept in sessionStorage across page
loads), so focus moves between fields must come from the page's auto-advance. Set FIELDAPP_SCREENSHOTS=DIR
to keep the screenshots, e.g. /tmp/shots.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from conftest import import_station_ward
from live_server import SiteServer
from playwright.sync_api import Page, expect, sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    record_console_error,
    screenshot,
)

from fieldapp import devices
from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.visits import Consent, check_in

pytestmark = pytest.mark.browser

NURSE = ("nurse", "station", "1357")
COUNTER_SCRIPT = """
(() => {
  const load = () => JSON.parse(sessionStorage.getItem("entry-test-counts") || '{"taps": 0, "keys": 0}');
  const bump = (name) => {
    const counts = load();
    counts[name] += 1;
    sessionStorage.setItem("entry-test-counts", JSON.stringify(counts));
  };
  document.addEventListener("pointerdown", () => bump("taps"), true);
  document.addEventListener("keydown", () => bump("keys"), true);
})();
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve the sample ward with today's round at one station; yield its URL, database and check-in desk."""
    folder = tmp_path_factory.mktemp("entry-browser")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    desk = import_station_ward(db)
    with write(db):
        username, role, pin = NURSE
        nurse_id = add_staff(db, username, "Điều dưỡng Lan", role, pin)

    try:
        with SiteServer(data_dir, folder / "server.log") as served:
            yield SimpleNamespace(url=served.url, db=db, nurse_id=nurse_id, arrived=0, desk=desk)
    finally:
        db.conn.close()


def arrive(server) -> dict:
    """Check in the next adult of normal priority with the adult plan (two blood pressure readings); return the visit."""
    person_id = server.db.execute("""SELECT id FROM person WHERE birth_date BETWEEN '1960' AND '1990'
                                     AND class_name IS NULL AND coalesce(groups, '') NOT LIKE '%1%'
                                     AND coalesce(groups, '') NOT LIKE '%4%'
                                     ORDER BY sort_key LIMIT 1 OFFSET ?""", [server.arrived]).fetchone()[0]
    server.arrived += 1
    visit, _ = check_in(server.db, server.desk, get_person(server.db, person_id), Consent())
    return visit


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium, server):
    """A paired touch phone (360 x 740) with the nurse signed in; page.errors records console errors."""
    context = chromium.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, is_mobile=True,
                                   has_touch=True, locale="vi-VN", base_url=server.url)
    context.add_init_script(COUNTER_SCRIPT)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: record_console_error(page, message))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    with write(server.db):
        token = devices.create_pairing_token(server.db, "Điện thoại bàn huyết áp", server.nurse_id,
                                             dt.datetime.now(dt.UTC))
    page.goto(f"/pair/{token}")
    page.get_by_label("Tên đăng nhập").fill(NURSE[0])
    page.get_by_label("Mã PIN").fill(NURSE[2])
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/roster/**")
    page.device_id = server.db.execute("SELECT id FROM device ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    yield page
    context.close()


def counts(page: Page) -> dict:
    return page.evaluate("JSON.parse(sessionStorage.getItem('entry-test-counts') || '{\"taps\": 0, \"keys\": 0}')")


def reset_counts(page: Page) -> None:
    page.evaluate("sessionStorage.removeItem('entry-test-counts')")


def rows(server, visit: dict, item: str) -> list[tuple]:
    return server.db.execute("SELECT id, reading, value_num, supersedes, reason, device_id, staff_id FROM observation "
                             "WHERE visit_id = ? AND item = ? ORDER BY reading, recorded_at, id",
                             [visit["id"], item]).fetchall()


def test_blood_pressure_and_pulse_in_few_taps(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")
    screenshot(phone, tmp_path, "entry-1-blood-pressure-empty")
    reset_counts(phone)
    typed = ["128", "82", "124", "80", "72"]
    digits = sum(len(text) for text in typed)

    phone.locator('[name="bp_systolic.1"]').tap()
    for text in typed:
        phone.keyboard.type(text)
    expect(phone.locator("#bp-mean")).to_have_text("126/81")
    expect(phone.locator("button.save")).to_be_focused()
    screenshot(phone, tmp_path, "entry-2-blood-pressure-typed")
    phone.locator("button.save").tap()

    expect(phone.locator(".flash.info")).to_contain_text("Đã lưu 5 kết quả.")
    expect(phone.locator("#bp-mean")).to_have_text("126/81")
    screenshot(phone, tmp_path, "entry-3-blood-pressure-saved")
    used = counts(phone)
    assert used == {"taps": 2, "keys": digits}
    assert used["taps"] + used["keys"] <= digits + 3
    systolic, diastolic, pulse = (rows(server, visit, item) for item in ("bp_systolic", "bp_diastolic", "pulse"))
    assert [(row[1], row[2]) for row in systolic] == [(1, 128.0), (2, 124.0)]
    assert [(row[1], row[2]) for row in diastolic] == [(1, 82.0), (2, 80.0)]
    assert [(row[1], row[2]) for row in pulse] == [(1, 72.0)]
    assert {(row[5], row[6]) for row in systolic + diastolic + pulse} == {(phone.device_id, server.nurse_id)}
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert phone.errors == []


def test_correction_shows_both_versions(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")
    phone.locator('[name="pulse.1"]').tap()
    phone.keyboard.type("72")
    phone.locator("button.save").tap()
    expect(phone.locator(".flash.info")).to_contain_text("Đã lưu 1 kết quả.")

    phone.locator('[data-row="pulse"]').get_by_role("link", name="Sửa").tap()
    phone.locator('[name="pulse.1"]').fill("78")
    screenshot(phone, tmp_path, "entry-4-correction")
    phone.get_by_role("button", name="Đo lại").tap()
    expect(phone.locator('[data-row="pulse"] .saved .value')).to_have_text("78 lần/phút")
    phone.locator('[data-row="pulse"]').get_by_role("link", name="Lịch sử").tap()

    versions = phone.locator("ol.versions")
    expect(versions.locator("li.replaced")).to_contain_text("72 lần/phút")
    expect(versions.locator("li.current")).to_contain_text("78 lần/phút")
    expect(versions.locator("li.current")).to_contain_text("Lý do sửa: Đo lại")
    expect(versions.locator("li.current")).to_contain_text("Điều dưỡng Lan")
    screenshot(phone, tmp_path, "entry-5-history")
    stored = rows(server, visit, "pulse")
    assert [(row[2], row[4]) for row in stored] == [(72.0, None), (78.0, "Đo lại")]
    assert stored[1][3] == stored[0][0]
    assert phone.errors == []


def test_unit_slip_fixed_with_one_tap(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")

    phone.locator('[name="bp_systolic.1"]').tap()
    phone.keyboard.type("12")
    phone.keyboard.press("Enter")
    phone.keyboard.type("8")
    phone.keyboard.press("Enter")

    fix = phone.get_by_role("button", name="120/80?")
    expect(fix).to_be_visible()
    screenshot(phone, tmp_path, "entry-6-unit-slip")
    fix.tap()
    expect(phone.locator('[data-row="bp.1"] .saved .value')).to_have_text("120/80")
    assert [row[2] for row in rows(server, visit, "bp_systolic")] == [120.0]
    assert phone.errors == []


def test_unusual_value_asks_confirmation(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")

    phone.locator('[name="pulse.1"]').tap()
    phone.keyboard.type("165")
    expect(phone.locator('[data-messages-for="pulse"] .message.confirm')).to_contain_text("khác thường")
    screenshot(phone, tmp_path, "entry-7-unusual")
    phone.get_by_label("Đã kiểm tra lại: giá trị này đúng").tap()
    phone.locator("button.save").tap()

    expect(phone.locator('[data-row="pulse"] .saved')).to_contain_text("đã xác nhận")
    assert [row[2] for row in rows(server, visit, "pulse")] == [165.0]
    assert phone.errors == []


def test_crisis_shows_red_banner(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")

    phone.locator('[name="bp_systolic.1"]').tap()
    for text in ("190", "110", "186", "112", "88"):
        phone.keyboard.type(text)
    phone.locator("button.save").tap()

    expect(phone.locator(".red-alert")).to_contain_text("CẤP CỨU: Huyết áp ≥ 180/120 mmHg")
    expect(phone.locator(".red-alert")).to_contain_text("Đã báo người điều phối")
    screenshot(phone, tmp_path, "entry-8-crisis")
    priorities = {row[0] for row in server.db.execute("SELECT priority FROM task WHERE visit_id = ? AND status "
                                                      "IN ('waiting', 'called', 'in_service')", [visit["id"]])}
    assert priorities == {"emergency"}
    assert phone.errors == []


def test_measure_station_shows_live_bmi(phone, server, tmp_path):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/measure")

    phone.locator('[name="height_cm.1"]').tap()
    phone.keyboard.type("165,0")
    expect(phone.locator('[name="weight_kg.1"]')).to_be_focused()
    phone.keyboard.type("68,0")

    expect(phone.locator("#bmi-live")).to_have_text("25,0")
    screenshot(phone, tmp_path, "entry-9-measure")
    phone.locator("button.save").tap()
    expect(phone.locator(".band").first).to_be_visible()
    screenshot(phone, tmp_path, "entry-10-measure-saved")
    assert phone.errors == []


@pytest.mark.parametrize("station", ["glucose", "vision"])
def test_other_station_pages_fit_phone(phone, server, tmp_path, station):
    visit = arrive(server)

    phone.goto(f"/entry/visit/{visit['id']}/{station}")

    screenshot(phone, tmp_path, f"entry-11-{station}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert phone.errors == []


def test_desk_entry_then_done(phone, server, tmp_path):
    arrive(server)
    desk_id = server.db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                                   WHERE station_type.code = 'measure'""").fetchone()[0]
    phone.goto(f"/stations/desk/{desk_id}")
    phone.get_by_role("button", name="Gọi người tiếp theo").tap()
    expect(phone.locator(".serving .name")).to_be_visible()
    called = server.db.execute("SELECT visit_id FROM task WHERE desk_id = ? AND status = 'called'",
                               [desk_id]).fetchone()[0]

    phone.get_by_role("link", name="Nhập kết quả").tap()
    expect(phone).to_have_url(f"{server.url}/entry/visit/{called}/measure")
    phone.locator('[name="height_cm.1"]').tap()
    phone.keyboard.type("158,5")
    phone.keyboard.type("52,5")
    phone.keyboard.type("74,0")
    phone.locator("button.save").tap()
    expect(phone.locator(".flash.info")).to_contain_text("Đã lưu 3 kết quả.")
    screenshot(phone, tmp_path, "entry-12-desk-saved")
    phone.get_by_role("button", name="Xong, mời sang bàn tiếp theo").tap()

    expect(phone).to_have_url(f"{server.url}/stations/desk/{desk_id}")
    expect(phone.locator(".flash.info")).to_contain_text("tiếp theo đến")
    status = server.db.execute("SELECT task.status FROM task JOIN station_type ON station_type.id = task.station_type_id "
                               "WHERE task.visit_id = ? AND station_type.code = 'measure'", [called]).fetchone()[0]
    assert status == "done"
    assert phone.errors == []


def test_wifi_drop_keeps_value(phone, server):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    banner = phone.locator("#offline-banner")

    phone.context.set_offline(True)
    phone.locator('[name="pulse.1"]').tap()
    phone.keyboard.type("76")
    phone.locator("button.save").tap()
    expect(banner).to_contain_text("1 thao tác đang chờ gửi")
    stored_offline = rows(server, visit, "pulse")
    phone.context.set_offline(False)

    expect(banner).to_be_hidden(timeout=30_000)
    assert stored_offline == []
    assert [row[2] for row in rows(server, visit, "pulse")] == [76.0]
    assert phone.errors == []


def test_child_measure_page(phone, server, tmp_path):
    born = (dt.date.today() - dt.timedelta(days=540)).isoformat()
    with write(server.db):
        person_id = server.db.execute("SELECT id FROM person WHERE birth_date > '2020' ORDER BY sort_key "
                                      "LIMIT 1 OFFSET 3").fetchone()[0]
        server.db.execute("UPDATE person SET birth_date = ? WHERE id = ?", [born, person_id])
    visit, _ = check_in(server.db, server.desk, get_person(server.db, person_id), Consent(by="guardian",
                                                                                          guardian_name="Mẹ"))
    phone.goto(f"/entry/visit/{visit['id']}/measure")
    expect(phone.locator(".who")).to_contain_text("17 tháng tuổi")

    phone.locator('[name="length_cm.1"]').tap()
    phone.keyboard.type("80,5")
    phone.keyboard.type("10,2")
    phone.locator("button.save").tap()

    expect(phone.locator("ul.derived")).to_contain_text("z-score WHO")
    screenshot(phone, tmp_path, "entry-13-child-measure")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert phone.errors == []


# (typed text, rule as the page writes it, complete?) for entry.js isComplete.
ADVANCE_CASES = [
    ("12", {"kind": "integer", "max": 300}, False),
    ("128", {"kind": "integer", "max": 300}, True),
    ("95", {"kind": "integer", "max": 300}, True),
    ("25", {"kind": "integer", "max": 300}, False),
    ("80", {"kind": "integer", "max": 200}, True),
    ("10", {"kind": "integer", "max": 200}, False),
    ("105", {"kind": "integer", "max": 200}, True),
    ("72", {"kind": "integer", "max": 250}, True),
    ("10", {"kind": "integer", "max": 100}, False),
    ("100", {"kind": "integer", "max": 100}, True),
    ("8", {"kind": "integer", "max": 10}, True),
    ("1", {"kind": "integer", "max": 10}, False),
    ("0,8", {"kind": "integer", "max": 10}, False),
    ("165", {"kind": "decimal", "max": 250, "decimals": 1}, False),
    ("165,", {"kind": "decimal", "max": 250, "decimals": 1}, False),
    ("165,5", {"kind": "decimal", "max": 250, "decimals": 1}, True),
    ("36.5", {"kind": "decimal", "max": 45, "decimals": 1}, True),
    ("5,6", {"kind": "decimal", "max": 35, "decimals": 1}, True),
]


def test_auto_advance_rules(phone, server):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")

    found = phone.evaluate("""async (cases) => {
        const entry = await import("/static/js/entry.js");
        return cases.map(([raw, rule]) => entry.isComplete(raw, rule));
    }""", [[raw, rule] for raw, rule, _ in ADVANCE_CASES])

    assert found == [expected for _, _, expected in ADVANCE_CASES]


def test_live_mean_uses_last_two_readings(phone, server):
    visit = arrive(server)
    phone.goto(f"/entry/visit/{visit['id']}/blood_pressure")

    means = phone.evaluate("""async () => {
        const entry = await import("/static/js/entry.js");
        return [entry.bloodPressureMean([[128, 82], [124, 80]]), entry.bloodPressureMean([[150, 95], [130, 82], [127, 80]]),
                entry.bloodPressureMean([])];
    }""")

    assert means == [[126, 81], [128.5, 81], None]
