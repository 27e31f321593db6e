"""The waiting-room TV in Debian's Chromium at 1920x1080: a call made on the server's database shows up.

The server runs as `fieldapp serve --no-https` on 127.0.0.1. The test writes to the same SQLite file
through the queue API, as a desk would, and the board's one-second polling must show the call.
The data folder gets short tones as voice clips, so the clip announcement plays without espeak-ng.
"""

import datetime as dt
from types import SimpleNamespace

import pypdfium2 as pdfium
import pytest
from live_server import SiteServer
from playwright.sync_api import expect, sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE_HEIGHT, PHONE_WIDTH, record_console_error, screenshot
from test_voice import fake_clips

from fieldapp import voice
from fieldapp.auth import add_staff
from fieldapp.db import DATABASE_NAME, connect, new_id, write
from fieldapp.queueing import call_next, create_default_stations, enqueue_visit
from fieldapp.rounds import SiteSpec, create_round, sites

pytestmark = pytest.mark.browser

TV_WIDTH, TV_HEIGHT = 1920, 1080
CALL_SHOWN_MS = 2_000
# A clip announcement of short test tones lasts under 2 s; this allows the poll, the fetch and the playback.
CLIP_PLAYED_MS = 8_000
MM_80_PX = 80 / 25.4 * 96   # CSS pixels are 1/96 inch


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve a round open today at one site with the default stations, and yield its URL and database."""
    folder = tmp_path_factory.mktemp("display-browser")
    data_dir = folder / "site"
    data_dir.mkdir()
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
        add_staff(db, "tv", "Màn hình", "coordinator", "5555")
    site = sites(db, round_id)[0]
    create_default_stations(db, site["id"])
    clips = fake_clips(voice.voice_folder(data_dir), voice.station_labels(db))

    try:
        with SiteServer(data_dir, folder / "server.log") as served:
            yield SimpleNamespace(url=served.url, db=db, round_id=round_id, site_id=site["id"], clips=clips)
    finally:
        db.conn.close()


@pytest.fixture
def tv(server):
    """Open the display page at TV size, signed in as the coordinator account the TV uses."""
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": TV_WIDTH, "height": TV_HEIGHT}, locale="vi-VN",
                                  base_url=server.url)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: record_console_error(page, message))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill("tv")
    page.get_by_label("Mã PIN").fill("5555")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/roster/**")
    page.goto("/display/")
    yield page
    browser.close()
    playwright.stop()


def queued_visit(server, full_name: str) -> dict:
    """Insert a person and today's visit, and put the person in their first line."""
    db = server.db
    with write(db):
        person_id = new_id()
        db["person"].insert({"id": person_id, "full_name": full_name, "sort_key": full_name, "search_key": full_name,
                             "birth_date": "1980-01-01", "groups": "", "updated_at": "2026-01-01"})
        number = db.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visit").fetchone()[0]
        visit = {"id": new_id(), "round_id": server.round_id, "site_id": server.site_id, "person_id": person_id,
                 "day": dt.date.today().isoformat(), "checked_in_at": dt.datetime.now(dt.UTC).isoformat(),
                 "queue_number": number, "plan_kind": "adult"}
        db["visit"].insert(visit)
    enqueue_visit(db, visit["id"])
    return visit


def measure_desk(server) -> tuple[str, int]:
    return server.db.execute("SELECT desk.id, desk.number FROM desk JOIN station_type s ON s.id = desk.station_type_id "
                             "WHERE s.code = 'measure'").fetchone()


def test_display_shows_new_call(tv, server, tmp_path):
    expect(tv.locator("body[data-ready=true]")).to_have_count(1)
    tv.get_by_role("button", name="Bật âm thanh").click()
    visit = queued_visit(server, "Nguyễn Văn An")
    desk_id, desk_number = measure_desk(server)

    call_next(server.db, desk_id)

    called = tv.locator(".desk.called")
    expect(called.locator(".number")).to_have_text(str(visit["queue_number"]), timeout=CALL_SHOWN_MS)
    expect(called.locator(".name")).to_have_text("Nguyễn V. A.")
    expect(tv.locator("body")).to_have_attribute(
        "data-last-announcement", f"Mời số {visit['queue_number']}, đến bàn {desk_number}, cân đo")
    screenshot(tv, tmp_path, "display-1-called")
    tv.wait_for_timeout(2_500)
    assert tv.locator("body").get_attribute("data-announcements") == "1"
    width = tv.evaluate("document.documentElement.scrollWidth")
    lines_clipped = tv.evaluate("(lines => lines.scrollHeight > lines.clientHeight)(document.querySelector('.lines'))")
    recent = tv.locator(".recent").bounding_box()
    assert width <= TV_WIDTH
    assert recent["y"] + recent["height"] <= TV_HEIGHT
    assert lines_clipped is False
    assert tv.errors == []


def has_vietnamese_voice(page) -> bool:
    return page.evaluate("""() => "speechSynthesis" in window && speechSynthesis.getVoices()
        .some((voice) => voice.lang.replace("_", "-").toLowerCase() === "vi-vn")""")


def test_display_plays_clip_without_voice(tv, server):
    expect(tv.locator("body[data-ready=true]")).to_have_count(1)
    tv.get_by_role("button", name="Bật âm thanh").click()
    if has_vietnamese_voice(tv):
        pytest.skip("this Chromium has a Vietnamese voice, so the display speaks instead of playing clips")
    queued_visit(server, "Lê Thị Hà")

    task = call_next(server.db, measure_desk(server)[0])

    clip = f"/display/voice/{task['id']}.wav"
    expect(tv.locator(f'[data-clip="{clip}"]')).to_have_count(1, timeout=CALL_SHOWN_MS)
    expect(tv.locator("body")).to_have_attribute("data-last-sound", "clip", timeout=CLIP_PLAYED_MS)
    expect(tv.locator("body")).to_have_attribute("data-last-sound-url", clip)
    assert tv.errors == []


def test_display_chimes_when_clip_fails(tv, server):
    expect(tv.locator("body[data-ready=true]")).to_have_count(1)
    tv.get_by_role("button", name="Bật âm thanh").click()
    if has_vietnamese_voice(tv):
        pytest.skip("this Chromium has a Vietnamese voice, so the display speaks instead of playing clips")
    broken = server.clips / voice.clip_name(voice.CALL_PHRASE)
    original = broken.read_bytes()
    broken.write_bytes(b"not a wav")
    try:
        queued_visit(server, "Phạm Văn Minh")
        task = call_next(server.db, measure_desk(server)[0])

        expect(tv.locator(f'[data-clip="/display/voice/{task["id"]}.wav"]')).to_have_count(1, timeout=CALL_SHOWN_MS)
        expect(tv.locator("body")).to_have_attribute("data-last-sound", "chime", timeout=CLIP_PLAYED_MS)
    finally:
        broken.write_bytes(original)
    # Chromium reports the clip's 404 as a console error; nothing else may fail.
    assert [error for error in tv.errors if "404" not in error] == []


def test_ticket_prints_80mm(tv, server, tmp_path):
    visit = queued_visit(server, "Trần Thị Bình")
    tv.goto(f"/display/ticket/{visit['id']}")
    tv.emulate_media(media="print")

    ticket = tv.locator(".ticket").bounding_box()
    pdf = pdfium.PdfDocument(tv.pdf(width="80mm", height="120mm"))
    pages = len(pdf)
    text = pdf[0].get_textpage().get_text_range()
    pdf.close()

    assert pages == 1
    assert ticket["width"] <= MM_80_PX
    assert str(visit["queue_number"]) in text
    assert "Trần Thị Bình" in text
    assert "In phiếu" not in text
    assert tv.errors == []


def test_display_fits_phone_width(tv, server, tmp_path):
    for name in ("Đỗ Thị Mai", "Hoàng Văn Nam", "Vũ Thị Lan"):
        queued_visit(server, name)
    task = call_next(server.db, measure_desk(server)[0])
    tv.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})

    called = tv.locator(f'.desk.called[data-call-key^="{task["id"]}:"]')
    expect(called).to_have_count(1, timeout=CALL_SHOWN_MS)
    screenshot(tv, tmp_path, "display-360")
    numbers = tv.locator(".line .numbers").first.bounding_box()
    card = called.bounding_box()

    assert tv.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert card["x"] + card["width"] <= PHONE_WIDTH
    assert numbers["width"] > 0
    assert numbers["x"] + numbers["width"] <= PHONE_WIDTH
    assert tv.errors == []
