"""The doctor's page in Debian's Chromium, at phone and laptop size, against `fieldapp serve --no-https`."""

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from conftest import SAMPLE, SAMPLE_DATE
from live_server import SiteServer
from playwright.sync_api import Page, expect, sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    page_width,
    record_console_error,
    screenshot,
)

from fieldapp import observations, queueing
from fieldapp.doctor_views import DONE_SHOWN
from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.importer import import_files
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.visits import Consent, Desk, check_in

pytestmark = pytest.mark.browser

LAPTOP_WIDTH, LAPTOP_HEIGHT = 1280, 800
VALUES = {"bp_systolic": [165, 161], "bp_diastolic": [102, 100], "glucose_fasting_mmol": [7.8],
          "height_cm": [160.0], "weight_kg": [70.0], "finding_dermatology": ["Nấm da vùng bẹn"]}


def checked_in_worker(db, desk: Desk, offset: int) -> dict:
    """Check in a worker with raised blood pressure and glucose, and call them to the doctor's desk."""
    person_id = db.execute("SELECT id FROM person WHERE groups LIKE '%4%' ORDER BY sort_key LIMIT 1 OFFSET ?",
                           [offset]).fetchone()[0]
    visit, _ = check_in(db, desk, get_person(db, person_id), Consent())
    with write(db):
        for item, readings in VALUES.items():
            for reading, value in enumerate(readings, start=1):
                observations.record(db, visit, item, value, reading=reading)
    for task_id, code in db.execute("""SELECT task.id, station_type.code FROM task JOIN station_type
                                       ON station_type.id = task.station_type_id WHERE task.visit_id = ?""",
                                    [visit["id"]]).fetchall():
        if code != "doctor":
            queueing.skip(db, task_id)
    return visit


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve a ward of workers with today's round, a doctor's account and two workers waiting for the doctor."""
    folder = tmp_path_factory.mktemp("doctor-browser")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    import_files(db, [SAMPLE / "cong-ty-lao-dong.xlsx"], SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
        add_staff(db, "doc", "Bác sĩ Lan", "doctor", "4444")
    desk = Desk(round_id, sites(db, round_id)[0]["id"], dt.date.today().isoformat())
    visits = [checked_in_worker(db, desk, offset) for offset in range(2)]

    try:
        with SiteServer(data_dir, folder / "server.log") as served:
            yield SimpleNamespace(url=served.url, db=db, visits=visits, desk=desk)
    finally:
        db.conn.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser, server, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", base_url=server.url,
                                  is_mobile=width == PHONE_WIDTH, has_touch=width == PHONE_WIDTH)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: record_console_error(page, message))
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill("doc")
    page.get_by_label("Mã PIN").fill("4444")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/roster/**")
    return page


def test_doctor_concludes_on_phone(browser, server, tmp_path):
    page = open_page(browser, server, PHONE_WIDTH, PHONE_HEIGHT)
    visit = server.visits[0]

    page.goto("/doctor/")
    expect(page.get_by_role("heading", name="Đang chờ bác sĩ (2)")).to_be_visible()
    screenshot(page, tmp_path, "doctor-list-360")
    page.locator(f'a[href="/doctor/visit/{visit["id"]}"]').click()
    expect(page.get_by_text("Tăng huyết áp độ 2").first).to_be_visible()
    screenshot(page, tmp_path, "doctor-visit-360")

    page.get_by_label("Tìm mã theo tên bệnh").fill("tang huyet ap")
    result = page.locator("#icd10-results").get_by_label("I10 Tăng huyết áp vô căn (nguyên phát)")
    expect(result).to_be_visible()
    screenshot(page, tmp_path, "doctor-search-360")
    result.check()
    chosen = page.locator("#diagnoses-chosen")
    expect(chosen.get_by_label("I10 Tăng huyết áp vô căn (nguyên phát)")).to_be_checked()
    page.get_by_label("Tìm mã theo tên bệnh").fill("tang huyet ap")
    expect(page.locator("#icd10-results").get_by_label("I15.9 Tăng huyết áp thứ phát, không xác định")).to_be_visible()
    expect(page.locator('#icd10-results input[value="I10"]')).to_have_count(0)
    page.get_by_role("button", name="Tăng huyết áp: ăn nhạt, giảm muối").click()
    expect(page.locator("#advice")).to_have_value(re.compile(r"^Ăn nhạt: dưới 5 g muối"))
    page.get_by_label("Loại sức khỏe").select_option("II")
    assert page_width(page) <= PHONE_WIDTH + 1
    page.get_by_role("button", name="Lưu kết luận").click()

    expect(page.get_by_text("Đã lưu kết luận.")).to_be_visible()
    screenshot(page, tmp_path, "doctor-saved-360")
    row = server.db.execute("SELECT diagnoses, advice, health_class, findings FROM conclusion WHERE visit_id = ?",
                            [visit["id"]]).fetchone()
    assert json.loads(row[0]) == [{"code": "I10", "label": "Tăng huyết áp vô căn (nguyên phát)"}]
    assert row[1].startswith("Ăn nhạt: dưới 5 g muối")
    assert row[2] == "II"
    assert json.loads(row[3]) == {"dermatology": "Nấm da vùng bẹn"}
    assert page.errors == []


def test_doctor_page_on_laptop(browser, server, tmp_path):
    page = open_page(browser, server, LAPTOP_WIDTH, LAPTOP_HEIGHT)

    page.goto(f"/doctor/visit/{server.visits[1]['id']}")
    expect(page.get_by_text("Nghi đái tháo đường, cần xét nghiệm khẳng định", exact=True)).to_be_visible()
    page.get_by_label("Tìm mã theo tên bệnh").fill("E11")
    expect(page.locator("#icd10-results").get_by_label("E11.9 Đái tháo đường không phụ thuộc insulin, không có biến chứng")).to_be_visible()
    screenshot(page, tmp_path, "doctor-visit-1280")
    page.goto("/doctor/advice-templates")
    screenshot(page, tmp_path, "doctor-templates-1280")

    assert page_width(page) <= LAPTOP_WIDTH + 1
    assert page.errors == []


def doctor_done_count(db) -> int:
    return db.execute("""SELECT count(*) FROM task JOIN station_type ON station_type.id = task.station_type_id
                         WHERE station_type.code = 'doctor' AND task.status = 'done'""").fetchone()[0]


def test_all_concluded_link_on_phone(browser, server, tmp_path):
    doctor_desk = server.db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                                       WHERE station_type.code = 'doctor'""").fetchone()[0]
    for offset in range(2, DONE_SHOWN + 4):
        checked_in_worker(server.db, server.desk, offset)
    # The doctor's line also contains the fixture's two visits, so the test counts the finished tasks afterwards.
    for _ in range(DONE_SHOWN + 2):
        queueing.done(server.db, queueing.call_next(server.db, doctor_desk)["id"])
    concluded = doctor_done_count(server.db)
    page = open_page(browser, server, PHONE_WIDTH, PHONE_HEIGHT)
    page.goto("/doctor/")
    done = page.locator("#done")

    show_all = done.get_by_role("link", name=f"Xem cả {concluded} người")
    box = show_all.bounding_box()
    screenshot(page, tmp_path, "doctor-list-done-360")
    assert done.locator(".visits li").count() == DONE_SHOWN
    assert box["height"] >= 44
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH
    assert page_width(page) <= PHONE_WIDTH + 1
    show_all.click()
    expect(done.locator(".visits li")).to_have_count(concluded)
    screenshot(page, tmp_path, "doctor-list-all-360")
    page.get_by_role("link", name=f"Chỉ xem {DONE_SHOWN} lượt gần nhất").click()

    expect(done.locator(".visits li")).to_have_count(DONE_SHOWN)
    assert page.url.endswith("/doctor/#done")
    assert page.errors == []
