"""Check-in in Debian's Chromium at phone size, with a fake camera that films a slip or a citizen card.

Chromium reads the camera from a Y4M video written here: a slip cut out of a rendered PDF page, or a
synthetic citizen-card QR code. Chromium on Linux has no BarcodeDetector, so these tests run the
vendored ZXing WebAssembly reader. The server runs as `fieldapp serve --no-https` on 127.0.0.1,
where the camera is allowed because localhost counts as a secure context.
"""

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pypdfium2 as pdfium
import pytest
import qrcode
import zxingcpp
from conftest import import_station_ward
from live_server import SiteServer
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_HEIGHT,
    PHONE_WIDTH,
    record_console_error,
    screenshot,
)
from test_slips import cells

from fieldapp.auth import add_staff
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.distribution import bundles
from fieldapp.slips import render_slips

pytestmark = pytest.mark.browser

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
FRAMES = 10
SLIP_DPI = 150
SCAN_TIMEOUT_MS = 30_000
CARD = "001190009997||Phạm Thị Khách|08081990|Nữ|7 Lê Lợi, Phường An Lạc, Hải Phòng|02022022"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve the sample ward with today's round at one station; yield its URL, data folder and database."""
    folder = tmp_path_factory.mktemp("checkin-browser")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    desk = import_station_ward(db, days=2)
    with write(db):
        add_staff(db, "reception", "Lễ tân", "reception", "1111")

    try:
        with SiteServer(data_dir, folder / "server.log") as served:
            yield SimpleNamespace(url=served.url, db=db, round_id=desk.round_id, folder=folder)
    finally:
        db.conn.close()


def write_y4m(image: Image.Image, path: Path) -> Path:
    """Write an image as a short YUV 4:2:0 video (YUV4MPEG2) that Chromium's fake camera loops."""
    frame = Image.new("RGB", (FRAME_WIDTH, FRAME_HEIGHT), "white")
    picture = image.convert("RGB")
    picture.thumbnail((FRAME_WIDTH - 40, FRAME_HEIGHT - 40))
    frame.paste(picture, ((FRAME_WIDTH - picture.width) // 2, (FRAME_HEIGHT - picture.height) // 2))
    luma, blue, red = frame.convert("YCbCr").split()
    half = (FRAME_WIDTH // 2, FRAME_HEIGHT // 2)
    planes = [np.asarray(luma), np.asarray(blue.resize(half, Image.BOX)), np.asarray(red.resize(half, Image.BOX))]
    body = b"".join(plane.astype(np.uint8).tobytes() for plane in planes)
    with path.open("wb") as handle:
        # C420jpeg: full-range BT.601 chroma sited like JPEG, which is what Pillow's YCbCr gives.
        handle.write(f"YUV4MPEG2 W{FRAME_WIDTH} H{FRAME_HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            handle.write(b"FRAME\n" + body)
    return path


def slip_image(server, person_id: str, token: str) -> Image.Image:
    """Render a person's slip as the printer would and cut out the cell whose QR code contains the token."""
    buffer = io.BytesIO()
    render_slips(bundles(server.db, server.round_id, person_id), buffer)
    for page in pdfium.PdfDocument(buffer.getvalue()):
        image = page.render(scale=SLIP_DPI / 72, grayscale=True).to_pil()
        for cell in cells(image, "a4-8", SLIP_DPI):
            if any(code.text == token for code in zxingcpp.read_barcodes(cell)):
                return cell
    raise AssertionError(f"no slip cell contains token {token}")


def card_image(text: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(text)
    return code.make_image().get_image()


def invited_adult(server, offset: int) -> dict:
    cursor = server.db.execute(
        """SELECT i.person_id, i.token, p.full_name FROM invitation i JOIN person p ON p.id = i.person_id
           WHERE i.round_id = ? AND i.status = 'active' AND p.birth_date < '1990' AND p.class_name IS NULL
           ORDER BY p.sort_key LIMIT 1 OFFSET ?""", [server.round_id, offset])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))


@pytest.fixture
def phone(server, tmp_path, request):
    """Return a function that opens a phone-sized page whose camera films a video file (or no camera)."""
    playwright = sync_playwright().start()
    opened = []

    def open_page(video: Path | None) -> Page:
        args = list(CHROMIUM_ARGS)
        if video is not None:
            args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={video}"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, locale="vi-VN",
                                      base_url=server.url, permissions=["camera"] if video else [])
        page = context.new_page()
        page.errors = []
        page.on("console", lambda message: record_console_error(page, message))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        opened.append(browser)
        sign_in(page)
        return page

    yield open_page
    for browser in opened:
        browser.close()
    playwright.stop()


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill("reception")
    page.get_by_label("Mã PIN").fill("1111")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Đón tiếp").click()


def test_camera_scans_slip(phone, server, tmp_path):
    person = invited_adult(server, 0)
    video = write_y4m(slip_image(server, person["person_id"], person["token"]), tmp_path / "slip.y4m")
    page = phone(video)

    expect(page.locator("#result h2.name")).to_have_text(person["full_name"], timeout=SCAN_TIMEOUT_MS)
    screenshot(page, tmp_path, "checkin-1-scanned")
    page.get_by_label("Đã đọc thông báo cho người khám và người khám đồng ý").check()
    page.get_by_role("button", name="Đón tiếp", exact=True).click()

    expect(page.locator("[data-outcome=ok] .queue strong")).to_have_text("1")
    screenshot(page, tmp_path, "checkin-2-visit")
    width = page.evaluate("document.documentElement.scrollWidth")
    visits = server.db.execute("SELECT count(*) FROM visit WHERE person_id = ?", [person["person_id"]]).fetchone()[0]
    assert visits == 1
    assert width <= PHONE_WIDTH + 1
    assert page.errors == []


def test_camera_card_registers_walk_in(phone, server, tmp_path):
    video = write_y4m(card_image(CARD), tmp_path / "card.y4m")
    page = phone(video)

    expect(page.locator("input[name=full_name]")).to_have_value("Phạm Thị Khách", timeout=SCAN_TIMEOUT_MS)
    expect(page.locator("input[name=birth]")).to_have_value("08/08/1990")
    screenshot(page, tmp_path, "checkin-3-walkin")
    page.get_by_label("Đã đọc thông báo cho người khám và người khám đồng ý").check()
    page.get_by_role("button", name="Đăng ký và đón tiếp").click()

    expect(page.locator("[data-outcome=ok] .name")).to_contain_text("Phạm Thị Khách")
    stored = server.db.execute(
        "SELECT p.full_name, r.file_name FROM person p JOIN source_row r ON r.person_id = p.id WHERE p.cccd = ?",
        ["001190009997"]).fetchone()
    assert stored == ("Phạm Thị Khách", "Đăng ký tại chỗ")
    assert page.errors == []


def test_scanner_types_code_and_enter(phone, server, tmp_path):
    person = invited_adult(server, 1)
    page = phone(None)

    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(person["token"])
    page.keyboard.press("Enter")

    expect(page.locator("#result h2.name")).to_have_text(person["full_name"])
    assert page.errors == []


def test_typed_short_code_mistake(phone, server, tmp_path):
    person = invited_adult(server, 2)
    token = person["token"]
    wrong = token[:-2] + str((int(token[-2]) + 1) % 10) + token[-1]
    page = phone(None)

    page.locator("#code").fill(" ".join(wrong[index:index + 4] for index in range(0, len(wrong), 4)))
    page.get_by_role("button", name="Tra").click()

    expect(page.locator("[data-outcome=bad] h2")).to_contain_text("bị gõ sai")
    screenshot(page, tmp_path, "checkin-4-mistyped")
    assert page.errors == []


def test_wifi_drop_during_check_in(phone, server, tmp_path):
    person = invited_adult(server, 3)
    page = phone(None)
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(person["token"])
    page.keyboard.press("Enter")
    expect(page.locator("#result h2.name")).to_have_text(person["full_name"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    banner = page.locator("#offline-banner")

    page.context.set_offline(True)
    page.get_by_label("Đã đọc thông báo cho người khám và người khám đồng ý").check()
    page.get_by_role("button", name="Đón tiếp", exact=True).click()
    expect(banner).to_contain_text("1 thao tác đang chờ gửi")
    visits_offline = _visits(server, person["person_id"])
    page.context.set_offline(False)

    expect(banner).to_be_hidden(timeout=30_000)
    page.reload()
    page.evaluate("new Promise((resolve) => setTimeout(resolve, 1000))")
    assert visits_offline == 0
    assert _visits(server, person["person_id"]) == 1
    assert page.errors == []


def _visits(server, person_id: str) -> int:
    return server.db.execute("SELECT count(*) FROM visit WHERE person_id = ?", [person_id]).fetchone()[0]
