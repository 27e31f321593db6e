"""The site in Debian's Chromium at phone size: sign in, upload a TCVN3 list, import it, search the roster.

The server runs as `python -m fieldapp.cli serve` on 127.0.0.1. Set CHROMIUM to use another
Chromium binary, and FIELDAPP_SCREENSHOTS=DIR to keep copies of the screenshots in DIR.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from conftest import SAMPLE
from live_server import SiteServer
from playwright.sync_api import Page, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM", allow_module_level=True)

TCVN3_LIST = SAMPLE / "tdp-07-tcvn3.xlsx"
PHONE_WIDTH, PHONE_HEIGHT = 360, 740
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
FIELDAPP_SCRIPT = Path(sys.executable).parent / "fieldapp"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Start `fieldapp serve` on a free port with one site_admin account; yield its URL and data folder."""
    folder = tmp_path_factory.mktemp("browser")
    data_dir = folder / "site"
    added = subprocess.run(
        [str(FIELDAPP_SCRIPT), "user", "add", "--data-dir", str(data_dir), "officer", "--role", "site_admin", "--pin", "2468"],
        capture_output=True, text=True, timeout=60,
    )
    assert added.returncode == 0, added.stderr

    with SiteServer(data_dir, folder / "server.log") as served:
        yield SimpleNamespace(url=served.url, data_dir=data_dir)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def record_console_error(page: Page, message) -> None:
    """Record a console error, except the 404 for /favicon.ico that Chromium requests because the site has no icon."""
    url = message.location.get("url", "")
    if message.type == "error" and not url.endswith("/favicon.ico"):
        page.errors.append(f"{message.text} ({url})")


@pytest.fixture
def page(browser, server):
    """A phone-sized Vietnamese page that records console errors in page.errors."""
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, locale="vi-VN", base_url=server.url)
    phone = context.new_page()
    phone.errors = []
    phone.on("console", lambda message: record_console_error(phone, message))
    phone.on("pageerror", lambda error: phone.errors.append(str(error)))
    yield phone
    context.close()


def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """Save a full-page screenshot under tmp_path, and into FIELDAPP_SCREENSHOTS when it is set."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("FIELDAPP_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)


def page_width(page: Page) -> int:
    """Return the document's scroll width; tables inside .scroll containers scroll on their own."""
    return page.evaluate("document.documentElement.scrollWidth")


def sign_in(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("officer")
    page.get_by_label("Mã PIN").fill("2468")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Danh sách người được mời")).to_be_visible()


def test_import_and_search_on_phone(page, tmp_path):
    sign_in(page)
    screenshot(page, tmp_path, "1-roster-empty")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.get_by_role("link", name="Nhập danh sách").click()
    page.locator("input[name=file]").set_input_files(str(TCVN3_LIST))
    page.get_by_role("button", name="Xem trước").click()

    expect(page.get_by_role("heading", name="Xem trước: tdp-07-tcvn3.xlsx")).to_be_visible()
    expect(page.get_by_text("Dòng tiêu đề: dòng 3.")).to_be_visible()
    expect(page.locator("table.mapping select")).to_have_count(8)
    expect(page.get_by_label("Cột Họ tên dùng làm")).to_have_value("full_name")
    expect(page.locator("table.rows").get_by_text("Nguyễn Lâm Tường")).to_be_visible()
    expect(page.get_by_text("28 dòng được chuyển từ mã TCVN3/VNI sang Unicode.")).to_be_visible()
    screenshot(page, tmp_path, "2-preview")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.locator("form.stack .actions").get_by_role("button", name="Nhập danh sách").click()

    expect(page.get_by_text("Đã nhập xong.")).to_be_visible()
    expect(page.get_by_text("30 dòng đã nhập.")).to_be_visible()
    screenshot(page, tmp_path, "3-report")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.get_by_role("link", name="Danh sách", exact=True).click()
    expect(page.locator("#people li")).to_have_count(30)
    address = page.url
    # The query travels in the POST body, never in the URL.
    with page.expect_request(lambda request: request.method == "POST" and "q=" in (request.post_data or "")
                             and "q=" not in request.url and request.headers.get("hx-request") == "true"):
        page.locator("#q").press_sequentially("nguyen lam tuong", delay=30)

    expect(page.locator("#people li")).to_have_count(1)
    expect(page.locator("#people strong")).to_have_text("Nguyễn Lâm Tường")
    assert page.url == address
    screenshot(page, tmp_path, "4-roster-search")
    assert page_width(page) <= PHONE_WIDTH + 1
    assert page.errors == []


def test_bad_upload_shows_vietnamese_error(page, tmp_path):
    sign_in(page)
    page.get_by_role("link", name="Nhập danh sách").click()

    page.locator("input[name=file]").set_input_files(
        {"name": "giay-moi.xlsx", "mimeType": "application/octet-stream", "buffer": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"}
    )
    page.get_by_role("button", name="Xem trước").click()

    expect(page.get_by_role("alert")).to_contain_text("Tệp giay-moi.xlsx là tệp PDF, không phải bảng tính.")
    expect(page.get_by_text("Chưa ghi gì vào danh sách.")).to_be_visible()
    screenshot(page, tmp_path, "5-bad-upload")
    assert page_width(page) <= PHONE_WIDTH + 1
    # The rejected upload's page itself arrives with status 422, which Chromium logs as an error.
    unexpected = [error for error in page.errors if "status of 422" not in error]
    assert unexpected == []


def test_language_switch_marks_page_english(page, tmp_path):
    sign_in(page)

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Tiếng Việt")).to_be_visible()
    expect(page.get_by_role("heading", name="Roster of invited people")).to_be_visible()
    assert re.search(r"/roster/$", page.url)
    screenshot(page, tmp_path, "9-english-roster")
    assert page_width(page) <= PHONE_WIDTH + 1


def import_with_cli(data_dir: Path, files: list[Path], *options: str) -> None:
    """Import files into the running server's data folder with `fieldapp import`."""
    command = [str(FIELDAPP_SCRIPT), "import", "--data-dir", str(data_dir), "--as-of", "2025-10-15", *options, *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def write_list(path: Path, name: str, birth: str, address: str) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"])
    book.active.append([1, name, birth, "Nam", address])
    book.save(path)
    return path


# This test fills the shared server with the whole sample ward, so it runs after the import test.
def test_review_and_crosscheck_fit_phone(page, server, tmp_path):
    population = SAMPLE / "cong-an-dan-cu.csv"
    lists = sorted(path for path in SAMPLE.glob("*.*") if path != population)
    pair = [
        write_list(tmp_path / "bao-tro-bo-sung.xlsx", "Trần Văn Bình", "1950", "Số 3 Lê Lợi"),
        write_list(tmp_path / "ho-ngheo-bo-sung.xlsx", "Trần Văn Bình", "12/03/1950", "Số 9 Trần Phú"),
    ]
    import_with_cli(server.data_dir, [*lists, *pair])
    import_with_cli(server.data_dir, [population], "--population")
    sign_in(page)

    page.get_by_role("link", name="Cần xem xét", exact=True).click()
    expect(page.locator("ol.pairs > li").first).to_contain_text("Trần Văn Bình")
    screenshot(page, tmp_path, "6-review")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.goto("/crosscheck/")
    expect(page.locator("ol.people > li").first).to_be_visible()
    screenshot(page, tmp_path, "7-crosscheck")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.goto("/roster/")
    everyone = page.locator("#people > p.muted").text_content()
    page.locator("#group").select_option("7")
    expect(page.locator("#people > p.muted")).not_to_have_text(everyone)
    expect(page.locator("#people li")).to_have_count(page.locator("#people li:has(abbr:text-is('N7'))").count())
    screenshot(page, tmp_path, "8-roster-group")
    assert page_width(page) <= PHONE_WIDTH + 1
    assert page.errors == []


# This test invites everyone in the shared server's roster, so it checks the load table and the PDF against its database.
def test_round_print_on_phone(page, server, tmp_path):
    import pypdfium2 as pdfium
    import zxingcpp

    from fieldapp.db import DATABASE_NAME, connect

    import_with_cli(server.data_dir, [SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx", SAMPLE / "tdp-02-nguoi-cao-tuoi.xlsx"])
    sign_in(page)
    job_pages = []

    def record_job_page(response) -> None:
        if re.search(r"/rounds/jobs/[0-9a-f-]+$", response.url):
            job_pages.append((response.request.headers.get("hx-request"), response))

    page.on("response", record_job_page)

    page.get_by_role("link", name="Đợt khám", exact=True).click()
    page.get_by_label("Tên đợt khám").fill("Đợt khám thử trên điện thoại")
    page.get_by_label("Ngày bắt đầu").fill("2026-12-12")
    page.get_by_label("Số ngày khám").fill("1")
    page.get_by_label("Phường (in trên giấy mời)").fill("Phường An Lạc")
    page.get_by_label("Trạm y tế (in trên giấy mời)").fill("Trạm Y tế phường An Lạc")
    first_site = page.get_by_role("group", name="Điểm khám 1")
    first_site.get_by_label("Tên", exact=True).fill("Trạm Y tế phường An Lạc")
    first_site.get_by_label("Địa chỉ").fill("12 Lê Lợi")
    first_site.get_by_label("Số người mỗi khung giờ (30 phút)").fill("4")
    page.get_by_role("button", name="Tạo đợt khám").click()

    expect(page.get_by_role("heading", name="Đợt khám thử trên điện thoại")).to_be_visible()
    round_url = page.url
    assert page_width(page) <= PHONE_WIDTH + 1

    page.get_by_label("Chọn theo").select_option("all")
    page.get_by_role("button", name="Mời và xếp khung giờ").click()

    expect(page.get_by_text("người đã có khung giờ")).to_be_visible()
    placed = int(re.match(r"(\d+) người đã có khung giờ", page.locator("p.summary").text_content()).group(1))
    loads = [tuple(map(int, text.split("/"))) for text in page.locator("table.load td:nth-child(3)").all_text_contents()]
    assert len(loads) == 14
    assert [load for load in loads if load[1] != 4] == []
    assert [load for load in loads if load[0] > load[1]] == []
    assert sum(people for people, _ in loads) == placed
    screenshot(page, tmp_path, "10-round")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.get_by_role("button", name="In tất cả giấy mời").click()
    expect(page.get_by_role("heading", name="In giấy mời")).to_be_visible()
    job_url = page.url
    expect(page.get_by_role("link", name="Tải tệp PDF")).to_be_visible(timeout=60_000)

    assert re.search(r"/rounds/jobs/[0-9a-f-]+$", job_url)
    assert page.url == job_url
    first_job_page = next(response for hx, response in job_pages if hx is None).text()
    polls = [response for hx, response in job_pages if hx == "true"]
    # A small job may finish before its page loads, so only a page that started polling must show a swapped fragment.
    if "hx-trigger" in first_job_page:
        assert polls
        assert "Tải tệp PDF" in polls[-1].text()
    expect(page.get_by_text(f"Đã in xong {placed} giấy mời.")).to_be_visible()
    screenshot(page, tmp_path, "11-job")
    assert page_width(page) <= PHONE_WIDTH + 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp PDF").click()
    pdf = Path(download.value.path()).read_bytes()

    assert download.value.suggested_filename == "giay-moi.pdf"
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    found = sorted(code.text for sheet in document
                   for code in zxingcpp.read_barcodes(sheet.render(scale=150 / 72, grayscale=True).to_pil(),
                                                      formats=zxingcpp.BarcodeFormat.QRCode))
    document.close()
    db = connect(server.data_dir / DATABASE_NAME)
    active = sorted(row[0] for row in db.execute(
        """SELECT i.token FROM invitation i JOIN exam_round r ON r.id = i.round_id
           WHERE r.name = ? AND i.status = 'active' AND i.slot_start IS NOT NULL""",
        ["Đợt khám thử trên điện thoại"]).fetchall())
    db.conn.close()
    assert len(active) == placed
    assert found == active

    page.goto(round_url)
    page.get_by_role("link", name="Người được mời").click()
    expect(page.get_by_role("heading", name="Người được mời")).to_be_visible()
    assert page_width(page) <= PHONE_WIDTH + 1

    page.goto(round_url)
    page.get_by_role("link", name="Thông báo").click()
    expect(page.get_by_role("heading", name="Thông báo cho tổ dân phố và trường")).to_be_visible()
    expect(page.get_by_role("heading", name="Đọc trên loa").first).to_be_visible()
    screenshot(page, tmp_path, "12-announcements")
    assert page_width(page) <= PHONE_WIDTH + 1

    page.get_by_role("link", name="In áp phích").first.click()
    expect(page.get_by_role("heading", name="KHÁM SỨC KHỎE MIỄN PHÍ")).to_be_visible()
    screenshot(page, tmp_path, "13-poster")
    assert page_width(page) <= PHONE_WIDTH + 1
    assert page.errors == []
