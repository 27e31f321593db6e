"""Station and coordinator screens in Debian's Chromium at phone size, against `fieldapp serve --no-https`."""

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

from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.visits import Consent, check_in

pytestmark = pytest.mark.browser

# htmx polls every 2 s, so this allows two polls on a slow machine.
POLL_TIMEOUT_MS = 6_000
ACCOUNTS = {"nurse": ("station", "1357"), "coord": ("coordinator", "3333"), "reception": ("reception", "1111")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve the sample ward with today's round at one station, and yield its URL, database and check-in desk."""
    folder = tmp_path_factory.mktemp("stations-browser")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    desk = import_station_ward(db)
    with write(db):
        for username, (role, pin) in ACCOUNTS.items():
            add_staff(db, username, username.title(), role, pin)

    try:
        with SiteServer(data_dir, folder / "server.log") as served:
            yield SimpleNamespace(url=served.url, db=db, desk=desk, arrived=0)
    finally:
        db.conn.close()


def arrive(server) -> tuple[dict, dict]:
    """Check in the next adult of normal priority and return (person, visit)."""
    person_id = server.db.execute("""SELECT id FROM person WHERE birth_date BETWEEN '1960' AND '1990'
                                     AND class_name IS NULL AND coalesce(groups, '') NOT LIKE '%1%'
                                     ORDER BY sort_key LIMIT 1 OFFSET ?""", [server.arrived]).fetchone()[0]
    server.arrived += 1
    person = get_person(server.db, person_id)
    visit, _ = check_in(server.db, server.desk, person, Consent())
    return person, visit


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_phone(chromium, server):
    """Open a signed-in phone-sized page for an account. Each page records console errors in page.errors."""
    contexts = []

    def open_page(username: str) -> Page:
        context = chromium.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, locale="vi-VN",
                                      base_url=server.url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda message: record_console_error(page, message))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto("/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mã PIN").fill(ACCOUNTS[username][1])
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/roster/**")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_station_calls_person(open_phone, server, tmp_path):
    person, _ = arrive(server)
    page = open_phone("nurse")
    page.get_by_role("link", name="Bàn khám").click()
    page.get_by_role("link", name="Bàn 1").click()
    expect(page.locator("#line")).to_contain_text(person["full_name"])

    page.get_by_role("button", name="Gọi người tiếp theo").click()

    expect(page.locator(".serving .name")).to_have_text(person["full_name"])
    screenshot(page, tmp_path, "stations-1-called")
    assert page.errors == []


def test_line_refreshes_by_polling(open_phone, server):
    page = open_phone("nurse")
    page.get_by_role("link", name="Bàn khám").click()
    page.get_by_role("link", name="Bàn 1").click()

    person, _ = arrive(server)

    expect(page.locator("#line")).to_contain_text(person["full_name"], timeout=POLL_TIMEOUT_MS)
    assert page.errors == []


def test_triaged_emergency_reaches_coordinator(open_phone, server, tmp_path):
    arrive(server)
    person, visit = arrive(server)
    coordinator = open_phone("coord")
    coordinator.goto("/stations/coordinator")
    expect(coordinator.get_by_role("heading", name="Điều phối bàn khám")).to_be_visible()
    reception = open_phone("reception")

    reception.goto(f"/stations/visit/{visit['id']}/triage")
    reception.get_by_label("Đau ngực").check()
    reception.get_by_role("button", name="Chuyển thành cấp cứu").click()

    expect(coordinator.locator(".emergencies")).to_contain_text(person["full_name"], timeout=POLL_TIMEOUT_MS)
    screenshot(coordinator, tmp_path, "stations-2-emergency")
    assert coordinator.errors == []
    assert reception.errors == []
