"""A whole exam day in real browsers: the officer's spreadsheets in, the central coverage report out.

The steps run in file order on one site server and share its state, as one day does. After a failed
step the later ones are skipped. Only one site_admin account is made by `fieldapp user add` beforehand.
The officer does the rest at a laptop-sized page, three phones (360 x 740) pair with the pairing QR codes
and sign in, a TV-sized page shows the calls, and the site pushes to a `fieldapp central serve` process.

HTTPS: the site runs `fieldapp serve` with its own certificate authority, as at a ward. Chromium cannot
trust a CA per context, and Playwright's ignore_https_errors makes it refuse the service worker script,
so the offline queue would never start. The browsers therefore start with
--ignore-certificate-errors-spki-list set to the server certificate's public key: Chromium trusts that
one certificate, as a phone that installed the CA trusts it. (This Chromium ignores a CA's key in that
list, so the test first checks that the CA downloaded through the join sheet issued the certificate.)

Every server listens on 127.0.0.1. A phone cannot reach the laptop's loopback address, so the pairing
page puts the laptop's network address in its QR code, and the phones open the same path on 127.0.0.1.
Requests from 127.0.0.1 count as the laptop's own, so this test shows that pairing works and binds
each phone's session to its device, but not that an unpaired phone is refused (test_auth.py does).

Set FIELDAPP_SCREENSHOTS=DIR to keep every screen; the README walk-through uses some of them.
"""

import base64
import csv
import datetime as dt
import hashlib
import io
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import openpyxl
import pypdfium2 as pdfium
import pytest
import zxingcpp
from conftest import SAMPLE
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from live_server import SiteServer
from pii_scan import find_leaks, forbidden_strings
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIELDAPP_SCRIPT,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    record_console_error,
    screenshot,
)
from test_checkin_browser import CARD, SCAN_TIMEOUT_MS, card_image, write_y4m
from test_slips import cells
from test_sync_faults import CentralServer

from fieldapp.db import DATABASE_NAME, connect
from fieldapp.text import fold

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": PHONE_WIDTH, "height": PHONE_HEIGHT}
TV = {"width": 1920, "height": 1080}
OFFICER = ("officer", "2468")
SITE_NAME = "Trạm Y tế phường An Lạc"
ROUND_NAME = "Khám sức khỏe đợt 1"
# (display name, username, role as the staff page labels it, PIN)
STAFF = {
    "reception": ("Đỗ Thị Thu", "le.tan", "Đón tiếp", "1111"),
    "nurse": ("Vũ Thị Nhàn", "dieu.duong", "Bàn khám", "1357"),
    "doctor": ("Bác sĩ Hà Minh Tâm", "bac.si", "Bác sĩ", "4444"),
    "display": ("Màn hình phòng chờ", "man.hinh", "Màn hình phòng chờ (TV)", "5555"),
}
PHONES = ("reception", "nurse", "doctor")
# Two extra lists from residential-group leaders: each person in both, once with a birth year only, so
# the importer cannot tell and leaves two review pairs.
EXTRA_LISTS = {
    "bao-tro-bo-sung.xlsx": [("Trần Văn Bình", "1950", "Nam", "Số 3 Lê Lợi"), ("Lê Thị Hoa", "1948", "Nữ", "Số 5 Trần Phú")],
    "ho-ngheo-bo-sung.xlsx": [("Trần Văn Bình", "12/03/1950", "Nam", "Số 9 Trần Phú"),
                              ("Lê Thị Hoa", "05/06/1948", "Nữ", "Số 7 Lê Lợi")],
}
SLIP_DPI = 150
# Allows for importing a big list or printing slips on a busy 2-core machine. Those pages usually take under a second.
SLOW_PAGE_MS = 60_000
# The TV polls every second, so this allows a few polls on a busy machine.
TV_SHOWN_MS = 10_000
JOIN_SHEET_DPI = 200
# What the nurse types for the two people examined: height, weight, waist at the measuring desk, then two
# blood pressure readings and the pulse. The doctor's sheet shows the mean pressure.
MEASURES = [
    {"measure": ["157,3", "55,8", "78,6"], "bp": ["128", "84", "124", "80", "72"], "mean": "126/82"},
    {"measure": ["162,4", "58,6", "76,4"], "bp": ["122", "78", "118", "76", "76"], "mean": "120/77"},
]
# Plan items left out of this first day, so each person passes three desks: measuring, blood pressure, doctor.
SKIPPED_ITEMS = ["Đường huyết", "Thị lực", "Nội khoa"]
# The items and readings that the values of MEASURES are stored as, in typing order.
TYPED_ITEMS = ["height_cm", "weight_kg", "waist_cm", "bp_systolic", "bp_diastolic", "bp_systolic", "bp_diastolic", "pulse"]
TYPED_READINGS = [1, 1, 1, 1, 1, 2, 2, 1]


# Servers, browsers and pages.


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """Start the site over HTTPS on a data folder with only the officer's account, and yield the day's shared state."""
    folder = tmp_path_factory.mktemp("day")
    data_dir = folder / "site"
    run_command("user", "add", "--data-dir", data_dir, OFFICER[0], "--role", "site_admin", "--pin", OFFICER[1])
    site = SiteServer(data_dir, folder / "site.log", https=True).start()
    state = SimpleNamespace(folder=folder, data_dir=data_dir, site=site, central=None, failed=None, urls=[],
                            outputs={}, pages={}, people={})
    try:
        yield state
    finally:
        site.stop()
        if state.central:
            state.central.stop()


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright, day):
    """Chromium trusting the site's server certificate (see the module docstring)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=trusting_args(day))
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def in_order(day, request):
    """Skip a step when an earlier one failed, because every step builds on the ones before it."""
    if day.failed:
        pytest.skip(f"the earlier step {day.failed} failed")
    failures = request.session.testsfailed
    yield
    if request.session.testsfailed > failures:
        day.failed = request.node.name


@pytest.fixture(scope="module")
def camera_browser(playwright, day):
    """Chromium for the reception phone, whose camera films day.camera: at first the slip of day.people["slip"].

    Chromium films one video file per launch, so the reception phone gets a browser of its own.
    """
    day.camera = day.folder / "camera.y4m"
    write_y4m(slip_cell(day.slips_pdf, day.people["slip"]["token"]), day.camera)
    camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={day.camera}"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=trusting_args(day, camera))
    yield browser
    browser.close()


def trusting_args(day, extra: list[str] = ()) -> list[str]:
    """Return Chromium's arguments with the site's server certificate trusted by its key (SPKI SHA-256)."""
    certificate = x509.load_pem_x509_certificate((day.data_dir / "tls" / "server.pem").read_bytes())
    key = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    spki = base64.b64encode(hashlib.sha256(key).digest()).decode()
    return [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki}", *extra]


def open_page(day, browser, name: str, viewport: dict, **options) -> Page:
    """Open a Vietnamese page in a new context that records every URL it requests and its console errors."""
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, locale="vi-VN", base_url=day.site.url, is_mobile=phone,
                                  has_touch=phone, **options)
    context.on("request", lambda request: day.urls.append((name, request.url)))
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: record_console_error(page, message))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    day.pages[name] = page
    return page


def sign_in(page: Page, username: str, pin: str) -> None:
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mã PIN").fill(pin)
    page.get_by_role("button", name="Đăng nhập").click()


def shot(day, page: Page, name: str) -> None:
    screenshot(page, day.folder, f"e2e-{name}")


def run_command(*args) -> str:
    """Run a fieldapp command in its own process and return its output, or fail with the output."""
    result = subprocess.run([str(FIELDAPP_SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, f"fieldapp {' '.join(map(str, args))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def query(day, sql: str, parameters=()) -> list[tuple]:
    db = connect(day.data_dir / DATABASE_NAME)
    try:
        return db.execute(sql, parameters).fetchall()
    finally:
        db.conn.close()


def read_codes(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def pdf_pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    images = [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]
    document.close()
    return images


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    return text


def on_loopback(url: str) -> str:
    """Return the URL with its host replaced by 127.0.0.1, where this test's servers listen."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


def write_list(path: Path, rows: list[tuple]) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"])
    for number, row in enumerate(rows, start=1):
        book.active.append([number, *row])
    book.save(path)
    return path


def roster_count(page: Page) -> int:
    page.goto("/roster/")
    return int(re.match(r"(\d+) kết quả", page.locator("#people > p.muted").text_content()).group(1))


# Before the day: the officer at the laptop.


def test_officer_imports_lists_and_resolves_pairs(day, chromium):
    laptop = open_page(day, chromium, "laptop", LAPTOP)
    laptop.goto("/")
    sign_in(laptop, *OFFICER)
    expect(laptop.get_by_role("heading", name="Danh sách người được mời")).to_be_visible()
    population = SAMPLE / "cong-an-dan-cu.csv"
    lists = sorted(path for path in SAMPLE.glob("*.*") if path != population)
    lists += [write_list(day.folder / name, rows) for name, rows in EXTRA_LISTS.items()]

    for path in [*lists, population]:
        laptop.get_by_role("link", name="Nhập danh sách", exact=True).click()
        laptop.locator("input[name=file]").set_input_files(str(path))
        if path == population:
            laptop.get_by_label("Dữ liệu dân cư (chỉ để đối chiếu)").check()
        laptop.get_by_role("button", name="Xem trước").click()
        expect(laptop.get_by_role("heading", name=f"Xem trước: {path.name}")).to_be_visible()
        if path.name == "tdp-07-tcvn3.xlsx":
            shot(day, laptop, "01-import-preview")
        laptop.locator("form.stack .actions").get_by_role("button", name="Nhập danh sách").click()
        expect(laptop.get_by_text("Đã nhập xong.")).to_be_visible(timeout=SLOW_PAGE_MS)
    shot(day, laptop, "02-import-report")
    laptop.get_by_role("link", name="Nhập danh sách", exact=True).click()
    expect(laptop.locator("ul.files > li")).to_have_count(len(lists) + 1)
    shot(day, laptop, "03-imported-files")
    before = roster_count(laptop)

    laptop.get_by_role("link", name="Cần xem xét", exact=True).click()
    pairs = laptop.locator("ol.pairs > li")
    expect(pairs).to_have_count(2)
    shot(day, laptop, "04-review")
    pairs.filter(has_text="Trần Văn Bình").get_by_role("button", name="Cùng một người: gộp").click()
    expect(pairs).to_have_count(1)
    pairs.filter(has_text="Lê Thị Hoa").get_by_role("button", name="Hai người khác nhau").click()
    expect(laptop.get_by_text("Không còn cặp nào cần xem xét.")).to_be_visible()
    after = roster_count(laptop)

    people = query(day, "SELECT count(*) FROM person")[0][0]
    named = dict(query(day, "SELECT full_name, count(*) FROM person WHERE full_name IN (?, ?) GROUP BY full_name",
                       ["Trần Văn Bình", "Lê Thị Hoa"]))
    assert after == before - 1
    assert after == people
    assert named == {"Trần Văn Bình": 1, "Lê Thị Hoa": 2}
    laptop.get_by_role("link", name="Đối chiếu dân cư").click()
    expect(laptop.locator("ol.people > li").first).to_be_visible()
    shot(day, laptop, "05-crosscheck")
    assert laptop.errors == []


def test_officer_plans_round_and_prints_slips(day):
    laptop = day.pages["laptop"]
    laptop.get_by_role("link", name="Đợt khám", exact=True).click()
    laptop.get_by_label("Tên đợt khám").fill(ROUND_NAME)
    laptop.get_by_label("Ngày bắt đầu").fill(dt.date.today().isoformat())
    laptop.get_by_label("Số ngày khám").fill("1")
    laptop.get_by_label("Phường (in trên giấy mời)").fill("Phường An Lạc")
    laptop.get_by_label("Trạm y tế (in trên giấy mời)").fill(SITE_NAME)
    site = laptop.get_by_role("group", name="Điểm khám 1")
    site.get_by_label("Tên", exact=True).fill(SITE_NAME)
    site.get_by_label("Địa chỉ").fill("12 Lê Lợi")
    site.get_by_label("Số người mỗi khung giờ (30 phút)").fill("5")
    laptop.get_by_role("button", name="Tạo đợt khám").click()
    expect(laptop.get_by_role("heading", name=ROUND_NAME)).to_be_visible()
    round_url = laptop.url

    laptop.get_by_role("link", name="Các bàn khám").click()
    adults = laptop.get_by_role("group", name="Người lớn, người cao tuổi")
    for item in SKIPPED_ITEMS:
        adults.get_by_label(item, exact=True).uncheck()
    laptop.get_by_role("button", name="Lưu").click()
    expect(adults.get_by_label("Huyết áp (đo 2 lần)", exact=True)).to_be_checked()
    for item in SKIPPED_ITEMS:
        expect(adults.get_by_label(item, exact=True)).not_to_be_checked()

    laptop.goto(round_url)
    laptop.get_by_label("Chọn theo").select_option("tdp")
    laptop.get_by_label("Giá trị").fill("1")
    laptop.get_by_role("button", name="Mời và xếp khung giờ").click()
    expect(laptop.locator("p.summary")).to_contain_text("người đã có khung giờ")
    placed = int(re.match(r"(\d+) người đã có khung giờ", laptop.locator("p.summary").text_content()).group(1))
    shot(day, laptop, "06-round")
    in_group = query(day, "SELECT count(*) FROM person WHERE tdp = '1'")[0][0]
    assert placed == in_group
    assert "chưa có chỗ" not in laptop.locator("p.summary").text_content()

    laptop.get_by_role("button", name="In tất cả giấy mời").click()
    expect(laptop.get_by_role("link", name="Tải tệp PDF")).to_be_visible(timeout=SLOW_PAGE_MS)
    expect(laptop.get_by_text(f"Đã in xong {placed} giấy mời.")).to_be_visible()
    shot(day, laptop, "07-slips-printed")
    with laptop.expect_download() as download:
        laptop.get_by_role("link", name="Tải tệp PDF").click()
    day.slips_pdf = Path(download.value.path()).read_bytes()

    printed = sorted(code for page in pdf_pages(day.slips_pdf, SLIP_DPI) for code in read_codes(page))
    tokens = sorted(row[0] for row in query(
        day, """SELECT i.token FROM invitation i JOIN exam_round r ON r.id = i.round_id
                WHERE r.name = ? AND i.status = 'active' AND i.slot_start IS NOT NULL""", [ROUND_NAME]))
    assert len(tokens) == placed
    assert printed == tokens
    assert laptop.errors == []


def test_officer_adds_staff_and_prints_join_sheet(day):
    laptop = day.pages["laptop"]
    laptop.get_by_role("link", name="Quản trị").click()
    for display_name, username, role, pin in STAFF.values():
        laptop.get_by_label("Họ tên").fill(display_name)
        laptop.get_by_label("Tên đăng nhập").fill(username)
        laptop.get_by_label("Vai trò").select_option(label=role)
        laptop.get_by_label("Mã PIN (4 đến 12 chữ số)").fill(pin)
        laptop.get_by_role("button", name="Tạo tài khoản").click()
        expect(laptop.locator("ul.files")).to_contain_text(username)
    shot(day, laptop, "08-staff")

    sheet = laptop.context.new_page()
    sheet.goto(f"http://127.0.0.1:{day.site.http_port}/join-sheet")
    expect(sheet.get_by_role("heading", name="Kết nối điện thoại với fieldapp")).to_be_visible()
    shot(day, sheet, "09-join-sheet")
    pdf = sheet.pdf(format="A4")
    sheet.close()
    codes = [code for page in pdf_pages(pdf, JOIN_SHEET_DPI) for code in read_codes(page)]
    day.ca_url = next(code for code in codes if code.endswith("/ca.pem"))
    day.site_url = next(code for code in codes if code.startswith("https://"))
    ca = laptop.context.request.get(on_loopback(day.ca_url)).body()
    server = x509.load_pem_x509_certificate((day.data_dir / "tls" / "server.pem").read_bytes())

    assert len(codes) == 2
    assert ca == (day.data_dir / "tls" / "ca.pem").read_bytes()
    server.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))
    assert on_loopback(day.site_url) == f"{day.site.url}/"
    assert laptop.errors == []


# On the day: three phones and the waiting-room TV.


def pairing_url(day, name: str) -> str:
    """Start pairing a phone at the laptop's devices page, and return the URL in the QR code it shows."""
    laptop = day.pages["laptop"]
    laptop.goto("/admin/devices")
    laptop.get_by_label("Tên điện thoại").fill(name)
    laptop.get_by_role("button", name="Ghép điện thoại mới").click()
    expect(laptop.get_by_role("heading", name=f"Ghép \"{name}\"")).to_be_visible()
    codes = read_codes(Image.open(io.BytesIO(laptop.locator(".qr svg").screenshot())))
    assert len(codes) == 1
    return codes[0]


def slip_cell(pdf: bytes, token: str) -> Image.Image:
    """Cut the slip whose QR code contains the token out of the printed slips, as a person brings it."""
    for page in pdf_pages(pdf, SLIP_DPI):
        for cell in cells(page, "a4-8", SLIP_DPI):
            if token in read_codes(cell):
                return cell
    raise AssertionError(f"no printed slip contains token {token}")


def invited(day, offset: int) -> dict:
    """Return the offset-th invited person, in name order, who has a full birth date and normal priority.

    People of normal priority are called in check-in order. People aged 75 or more and people of group 1
    would be called before them.
    """
    youngest = dt.date.today().replace(year=dt.date.today().year - 75).isoformat()
    rows = query(day, """SELECT p.id, p.full_name, p.birth_date, i.token FROM invitation i
                         JOIN person p ON p.id = i.person_id JOIN exam_round r ON r.id = i.round_id
                         WHERE r.name = ? AND i.status = 'active' AND length(p.birth_date) = 10
                         AND p.birth_date > ? AND ';' || p.groups || ';' NOT LIKE '%;1;%'
                         ORDER BY p.sort_key LIMIT 1 OFFSET ?""", [ROUND_NAME, youngest, offset])
    return dict(zip(("id", "full_name", "birth_date", "token"), rows[0]))


@pytest.fixture(scope="module")
def people(day):
    """Pick the invited people that reception checks in: by slip, by name search, and one left waiting."""
    day.people = {"slip": invited(day, 0), "searched": invited(day, 1), "waiting": invited(day, 2)}
    return day.people


def test_phones_pair_and_sign_in(day, people, chromium, camera_browser):
    for role in PHONES:
        browser = camera_browser if role == "reception" else chromium
        extra = {"permissions": ["camera"]} if role == "reception" else {}
        phone = open_page(day, browser, role, PHONE, **extra)
        # The phone first installs the CA from the join sheet's first QR code.
        assert phone.context.request.get(on_loopback(day.ca_url)).ok
        url = pairing_url(day, f"Điện thoại {STAFF[role][0]}")
        if role == "reception":
            shot(day, day.pages["laptop"], "10-pairing-qr")

        phone.goto(on_loopback(url))

        expect(phone.get_by_text("Đăng nhập để bắt đầu làm việc.")).to_be_visible()
        sign_in(phone, STAFF[role][1], STAFF[role][3])
        expect(phone.get_by_role("heading", name="Danh sách người được mời")).to_be_visible()
        assert phone.errors == []

    devices = query(day, "SELECT count(*) FROM device WHERE revoked_at IS NULL")[0][0]
    signed_in = query(day, """SELECT s.username, json_extract(a.detail, '$.device_id') FROM audit_event a
                              JOIN staff s ON s.id = a.subject WHERE a.action = 'sign_in'""")
    device_of = {username: device for username, device in signed_in}
    assert devices == 3
    assert all(device_of[STAFF[role][1]] for role in PHONES)
    assert len({device_of[STAFF[role][1]] for role in PHONES}) == 3


def check_in_found(phone: Page) -> str:
    """Tick the consent box for the person shown, check them in, and return their queue number."""
    phone.get_by_label("Đã đọc thông báo cho người khám và người khám đồng ý").check()
    phone.get_by_role("button", name="Đón tiếp", exact=True).click()
    expect(phone.locator("[data-outcome=ok] .queue strong")).to_be_visible()
    return phone.locator("[data-outcome=ok] .queue strong").text_content()


def search_and_open(phone: Page, person: dict) -> None:
    """Find a person by name without tone marks and birth year, as reception types it, and open them."""
    year = person["birth_date"][:4]
    shown_birth = dt.date.fromisoformat(person["birth_date"]).strftime("%d/%m/%Y")
    phone.get_by_label("Tìm theo tên và năm sinh, hoặc số cuối CCCD, điện thoại").fill(f"{fold(person['full_name'])} {year}")
    phone.get_by_role("button", name="Tìm", exact=True).click()
    found = phone.locator("ol.people li").filter(has_text=person["full_name"]).filter(has_text=shown_birth)
    expect(found).to_have_count(1)
    found.get_by_role("link").click()
    expect(phone.locator("#result h2.name")).to_have_text(person["full_name"])


def film(day, image: Image.Image) -> None:
    """Put something else in front of the reception phone's camera. The page films it after a reload."""
    write_y4m(image, day.camera)


def test_reception_checks_people_in(day):
    reception = day.pages["reception"]
    people = day.people
    nothing = Image.new("L", (320, 240), "white")

    reception.get_by_role("link", name="Đón tiếp").click()
    expect(reception.locator("#result h2.name")).to_have_text(people["slip"]["full_name"], timeout=SCAN_TIMEOUT_MS)
    shot(day, reception, "11-checkin-slip-scanned")
    numbers = {"slip": check_in_found(reception)}
    shot(day, reception, "12-checkin-queue-number")

    film(day, nothing)
    reception.goto("/checkin/")
    search_and_open(reception, people["searched"])
    shot(day, reception, "13-checkin-search")
    numbers["searched"] = check_in_found(reception)

    film(day, card_image(CARD))
    reception.goto("/checkin/")
    expect(reception.locator("input[name=full_name]")).to_have_value("Phạm Thị Khách", timeout=SCAN_TIMEOUT_MS)
    expect(reception.locator("input[name=birth]")).to_have_value("08/08/1990")
    shot(day, reception, "14-checkin-walk-in")
    reception.get_by_label("Đã đọc thông báo cho người khám và người khám đồng ý").check()
    reception.get_by_role("button", name="Đăng ký và đón tiếp").click()
    expect(reception.locator("[data-outcome=ok] .name")).to_contain_text("Phạm Thị Khách")
    numbers["walk_in"] = reception.locator("[data-outcome=ok] .queue strong").text_content()

    film(day, nothing)
    reception.goto("/checkin/")
    search_and_open(reception, people["waiting"])
    numbers["waiting"] = check_in_found(reception)

    visits = query(day, "SELECT p.full_name, v.queue_number FROM visit v JOIN person p ON p.id = v.person_id")
    walk_in = query(day, """SELECT p.id, p.full_name, r.file_name FROM person p JOIN source_row r ON r.person_id = p.id
                            WHERE p.cccd = ?""", [CARD.split("|")[0]])
    people["walk_in"] = {"id": walk_in[0][0], "full_name": walk_in[0][1]}
    assert numbers == {"slip": "1", "searched": "2", "walk_in": "3", "waiting": "4"}
    assert sorted(visits) == sorted([(people[key]["full_name"], int(number)) for key, number in numbers.items()])
    assert walk_in[0][1:] == ("Phạm Thị Khách", "Đăng ký tại chỗ")
    assert reception.errors == []


def open_desk(phone: Page, label: str) -> None:
    phone.get_by_role("link", name="Bàn khám", exact=True).click()
    phone.locator("ul.desks a").filter(has_text=label).click()
    expect(phone.get_by_role("heading", name=re.compile(label))).to_be_visible()


def call_next(phone: Page, person: dict) -> None:
    phone.get_by_role("button", name="Gọi người tiếp theo").tap()
    expect(phone.locator(".serving .name")).to_have_text(person["full_name"])


def enter_results(phone: Page, first_field: str, typed: list[str], saved: int) -> None:
    """Open the entry form, type the values from the first field on (the form moves to the next field), and save."""
    phone.get_by_role("link", name="Nhập kết quả").tap()
    phone.locator(f'[name="{first_field}"]').tap()
    for text in typed:
        phone.keyboard.type(text)
    phone.locator("button.save").tap()
    expect(phone.locator(".flash.info")).to_contain_text(f"Đã lưu {saved} kết quả.")


def finish_desk(phone: Page) -> None:
    phone.get_by_role("button", name="Xong, mời sang bàn tiếp theo").tap()
    expect(phone.locator(".flash.info")).to_contain_text("tiếp theo")


def test_nurse_measures_and_tv_shows_calls(day, chromium):
    nurse = day.pages["nurse"]
    examined = [day.people["slip"], day.people["searched"]]
    tv = open_page(day, chromium, "tv", TV)
    # The TV opens the site from the join sheet's second QR code.
    tv.goto(on_loopback(day.site_url))
    sign_in(tv, STAFF["display"][1], STAFF["display"][3])
    tv.goto("/display/")
    expect(tv.locator("body[data-ready=true]")).to_have_count(1)

    open_desk(nurse, "Cân đo")
    shot(day, nurse, "15-desk-line")
    for index, (person, values) in enumerate(zip(examined, MEASURES)):
        call_next(nurse, person)
        number = query(day, "SELECT queue_number FROM visit WHERE person_id = ?", [person["id"]])[0][0]
        called = tv.locator(".desk.called").filter(has_text="Cân đo").locator(".number")
        expect(called).to_have_text(str(number), timeout=TV_SHOWN_MS)
        if index == 0:
            shot(day, nurse, "16-desk-called")
            shot(day, tv, "17-tv-called")
        enter_results(nurse, "height_cm.1", values["measure"], 3)
        if index == 0:
            shot(day, nurse, "18-entry-measure")
        finish_desk(nurse)

    open_desk(nurse, "Đo huyết áp, mạch")
    for index, (person, values) in enumerate(zip(examined, MEASURES)):
        call_next(nurse, person)
        enter_results(nurse, "bp_systolic.1", values["bp"], 5)
        expect(nurse.locator("#bp-mean")).to_have_text(values["mean"])
        if index == 0:
            shot(day, nurse, "19-entry-blood-pressure")
        finish_desk(nurse)

    for person, values in zip(examined, MEASURES):
        stored = query(day, """SELECT o.item, o.reading, o.value_num FROM observation o JOIN visit v ON v.id = o.visit_id
                               WHERE v.person_id = ? ORDER BY o.item, o.reading""", [person["id"]])
        typed = [float(text.replace(",", ".")) for text in values["measure"] + values["bp"]]
        assert stored == sorted(zip(TYPED_ITEMS, TYPED_READINGS, typed))
    assert nurse.errors == []
    assert tv.errors == []


def fetch_in_page(page: Page, url: str) -> tuple[str, bytes]:
    """Fetch a URL from inside a page, with its cookies and its trust in the site, and return disposition and body.

    Playwright's own request client runs outside Chromium and does not trust the site's certificate.
    """
    disposition, body = page.evaluate("""async (url) => {
        const response = await fetch(url);
        const bytes = new Uint8Array(await response.arrayBuffer());
        let text = "";
        for (const byte of bytes) text += String.fromCharCode(byte);
        return [response.headers.get("content-disposition"), btoa(text)];
    }""", url)
    return disposition, base64.b64decode(body)


def test_doctor_concludes_and_prints_sheet(day):
    doctor = day.pages["doctor"]
    examined = [day.people["slip"], day.people["searched"]]
    open_desk(doctor, "Bác sĩ kết luận")

    for index, (person, values) in enumerate(zip(examined, MEASURES)):
        call_next(doctor, person)
        doctor.get_by_role("link", name="Mở trang bác sĩ").tap()
        expect(doctor.get_by_role("heading", name=re.compile(person["full_name"]))).to_be_visible()
        if index == 0:
            shot(day, doctor, "20-doctor-results")
        doctor.get_by_label("Loại sức khỏe").select_option("II")
        doctor.get_by_label("Kết luận", exact=True).fill("Sức khỏe bình thường.")
        doctor.get_by_role("button", name="Lưu kết luận").tap()
        expect(doctor.get_by_text("Đã lưu kết luận.")).to_be_visible()
        if index == 0:
            shot(day, doctor, "21-doctor-concluded")
        # Finishing opens the result sheet in Chromium's PDF viewer, and the page fetches the same PDF for the test.
        doctor.get_by_role("button", name="Hoàn tất khám").tap()
        doctor.wait_for_url(re.compile(r"/doctor/visit/[0-9a-f-]+/sheet$"))
        disposition, pdf = fetch_in_page(doctor, doctor.url)
        sheet = pdf_text(pdf)
        assert disposition == 'inline; filename="phieu-ket-qua.pdf"'
        systolic_1, diastolic_1, systolic_2, diastolic_2, pulse = values["bp"]
        assert f"Họ và tên: {person['full_name'].upper()}" in sheet
        assert f"Huyết áp lần 1 {systolic_1}/{diastolic_1} mmHg" in sheet
        assert f"Huyết áp lần 2 {systolic_2}/{diastolic_2} mmHg" in sheet
        assert f"Huyết áp (trung bình) {values['mean']} mmHg" in sheet
        assert f"Mạch {pulse} lần/phút" in sheet
        for text, unit in zip(values["measure"], ["cm", "kg", "cm"]):
            assert f"{text} {unit}" in sheet
        assert "Phân loại sức khỏe: Loại II" in sheet
        doctor.goto("/stations/")
        open_desk(doctor, "Bác sĩ kết luận")

    concluded = query(day, """SELECT v.person_id, c.health_class FROM conclusion c JOIN visit v ON v.id = c.visit_id""")
    assert sorted(concluded) == sorted((person["id"], "II") for person in examined)
    assert doctor.errors == []


# After the day: the central store.


def coverage_counts(page: Page) -> tuple[int, ...]:
    """Return the coverage page's people listed, invited, examined and not examined."""
    summary = page.locator("p.summary").first.text_content()
    counts = re.search(r"(\d+) người trong danh sách: đã mời (\d+), đã khám (\d+), chưa khám (\d+)", summary)
    return tuple(map(int, counts.groups()))


def csv_names(path: Path) -> list[str]:
    """Return the names in a downloaded not-examined list, whose title row comes before the header row."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header = next(index for index, row in enumerate(rows) if row[:2] == ["STT", "Họ và tên"])
    return [row[1] for row in rows[header + 1:]]


def test_central_coverage_counts_people_examined(day, chromium):
    central_dir = day.folder / "central"
    database = f"sqlite:///{day.folder / 'central.db'}"
    run_command("user", "add", "--data-dir", central_dir, OFFICER[0], "--role", "site_admin", "--pin", OFFICER[1])
    day.central = CentralServer(central_dir, database, day.folder / "central.log")
    day.central.start()

    # NOTE: the site has no page to enrol or push, so the officer runs these commands on the laptop.
    added = run_command("central", "site", "add", SITE_NAME, "--data-dir", central_dir, "--database", database)
    code = added.rstrip("\n").splitlines()[-1]
    day.outputs["central site add"] = added
    day.outputs["sync enrol"] = run_command("sync", "enrol", day.central.url, code, "--data-dir", day.data_dir)
    day.outputs["sync push"] = run_command("sync", "push", "--data-dir", day.data_dir)

    report = open_page(day, chromium, "central", LAPTOP)
    report.goto(f"{day.central.url}/login")
    sign_in(report, *OFFICER)
    report.goto(f"{day.central.url}/central/coverage")
    everyone = coverage_counts(report)
    shot(day, report, "22-central-coverage")
    with report.expect_download() as download:
        report.get_by_role("link", name="Tải danh sách chưa khám (CSV)").click()
    not_examined = csv_names(Path(download.value.path()))
    report.get_by_label(re.compile(r"^Tổ dân phố")).select_option(label="Tổ dân phố 1")
    report.get_by_role("button", name="Xem").click()
    report.wait_for_url(re.compile(r"[?&]tdp=1(&|$)"))
    in_group = coverage_counts(report)

    people = query(day, "SELECT count(*) FROM person")[0][0]
    invitations = query(day, "SELECT count(DISTINCT person_id) FROM invitation WHERE status = 'active'")[0][0]
    assert everyone == (people, invitations, 2, people - 2)
    assert in_group == (invitations, invitations, 2, invitations - 2)
    assert len(not_examined) == people - 2
    assert day.people["slip"]["full_name"] not in not_examined
    assert day.people["searched"]["full_name"] not in not_examined
    assert day.people["waiting"]["full_name"] in not_examined
    assert day.people["walk_in"]["full_name"] in not_examined
    assert report.errors == []


# Security, with everything the day requested and logged.


def sign_in_status(page: Page, username: str, pin: str) -> int:
    """Sign in and return the HTTP status of the response."""
    with page.expect_response(lambda response: response.request.method == "POST" and "/login" in response.url) as caught:
        sign_in(page, username, pin)
    return caught.value.status


def test_pin_lockout_on_phone(day):
    reception = day.pages["reception"]
    _, username, _, pin = STAFF["reception"]
    reception.goto("/roster/")
    reception.get_by_role("button", name="Đăng xuất").click()

    statuses = [sign_in_status(reception, username, wrong) for wrong in ("0000", "1234", "9999", "1112", "0111")]
    expect(reception.get_by_role("heading", name="Tài khoản bị khóa đến")).to_be_visible()
    shot(day, reception, "23-pin-locked")
    right = sign_in_status(reception, username, pin)

    expect(reception.get_by_role("heading", name="Tài khoản bị khóa đến")).to_contain_text("vì nhập sai mã PIN 5 lần")
    assert statuses == [401, 401, 401, 401, 423]
    assert right == 423
    locked = query(day, "SELECT locked_until FROM staff WHERE username = ?", [username])[0][0]
    assert locked is not None


def test_no_personal_data_in_urls_or_logs(day):
    # tests/pii_scan.py sets what counts as a leak: any name, ID number or phone number of the roster, and each
    # typed value of at least 4 characters (a pulse of "72" also occurs in ports and times, so it is not scanned).
    typed = [value for values in MEASURES for value in values["measure"]]
    typed += [f"{values['bp'][0]}/{values['bp'][1]}" for values in MEASURES]
    typed += [f"{values['bp'][2]}/{values['bp'][3]}" for values in MEASURES]
    typed += [values["mean"] for values in MEASURES]
    db = connect(day.data_dir / DATABASE_NAME)
    forbidden = forbidden_strings(db, typed)
    db.conn.close()
    texts = {f"URL requested by {name}: {url}": url for name, url in day.urls}
    texts["site server log"] = day.site.output()
    texts["central server log"] = day.central.log.read_text(errors="replace")
    texts.update({f"output of fieldapp {command}": output for command, output in day.outputs.items()})

    leaks = find_leaks(texts, forbidden)

    assert len(day.urls) > 100
    assert fold(day.people["slip"]["full_name"]) in forbidden["name"]
    assert leaks == []
