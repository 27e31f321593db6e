"""The waiting-room TV board, name masking, the queue ticket, the chime and the kiosk command line."""

import datetime as dt
import re
import unicodedata
import wave
from pathlib import Path

import pytest
from conftest import csrf_token, sign_in
from test_voice import fake_clips, seconds_of

from fieldapp import display_views
from fieldapp.db import new_id, write
from fieldapp.display_views import announcement, mask_name
from fieldapp.queueing import call_next, create_default_stations, enqueue_visit
from fieldapp.rounds import SiteSpec, create_round, sites
from kiosk.__main__ import main as kiosk_main
from kiosk.chime import CHIME
from kiosk.launcher import BrowserNotFound, build_command, check_in_url, find_browser

NAME = "Nguyễn Văn An"
MASKED = "Nguyễn V. A."


@pytest.fixture
def site(db) -> str:
    """Create a round open today with one site and its default stations, and return the site id."""
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
    site_id = sites(db, round_id)[0]["id"]
    create_default_stations(db, site_id)
    return site_id


def add_visit(db, site_id: str, full_name: str) -> dict:
    """Insert a person and today's visit at the site, and put the person in their first line."""
    round_id = db.execute("SELECT round_id FROM site WHERE id = ?", [site_id]).fetchone()[0]
    with write(db):
        person_id = new_id()
        db["person"].insert({"id": person_id, "full_name": full_name, "sort_key": full_name, "search_key": full_name,
                             "birth_date": "1980-01-01", "groups": "", "updated_at": "2026-01-01"})
        number = db.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visit").fetchone()[0]
        visit = {"id": new_id(), "round_id": round_id, "site_id": site_id, "person_id": person_id,
                 "day": dt.date.today().isoformat(), "checked_in_at": dt.datetime.now(dt.UTC).isoformat(),
                 "queue_number": number, "plan_kind": "adult"}
        db["visit"].insert(visit)
    enqueue_visit(db, visit["id"])
    return visit


def measure_desk(db) -> tuple[str, int]:
    return db.execute("SELECT desk.id, desk.number FROM desk JOIN station_type s ON s.id = desk.station_type_id "
                      "WHERE s.code = 'measure'").fetchone()


@pytest.fixture
def screen(app):
    client = app.test_client()
    sign_in(client, "officer")
    return client


def urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src|hx-get|action|data-chime)="([^"]*)"', page)


# Name masking.


@pytest.mark.parametrize(("full_name", "masked"), [
    ("Lan", "L."),
    ("Trần Bình", "Trần B."),
    ("Nguyễn Văn An", "Nguyễn V. A."),
    ("Lê Thị Thu Hà", "Lê T. T. H."),
    ("Tôn Nữ Thị Hồng Nhung", "Tôn N. T. H. N."),
    ("  phạm   thị  ước ", "phạm T. Ư."),
    ("Đặng Đức Ưng", "Đặng Đ. Ư."),
    ("", ""),
])
def test_mask_name(full_name, masked):
    assert mask_name(full_name) == masked


def test_mask_name_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Đỗ Ưng Ánh")

    assert mask_name(decomposed) == "Đỗ Ư. Á."


def test_announcement_sentence():
    spoken = announcement(15, "Nguyễn Văn A", 2, "Đo huyết áp")

    assert spoken == "Mời số 15, Nguyễn Văn A, đến bàn 2, đo huyết áp"


def test_announcement_without_name():
    assert announcement(7, "", 3, "Cân đo") == "Mời số 7, đến bàn 3, cân đo"


# The board.


def test_board_shows_call(screen, db, site):
    visit = add_visit(db, site, NAME)
    desk_id, desk_number = measure_desk(db)
    call_next(db, desk_id)

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    called = page.split('class="desk called"')[1].split("</article>")[0]
    assert f'<p class="number">{visit["queue_number"]}</p>' in called
    assert f'<p class="name">{MASKED}</p>' in called
    assert f"Bàn {desk_number}" in called
    assert NAME not in page


def test_board_announcement_masked(screen, db, site):
    visit = add_visit(db, site, NAME)
    desk_id, desk_number = measure_desk(db)
    call_next(db, desk_id)

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert f'data-announce="Mời số {visit["queue_number"]}, đến bàn {desk_number}, cân đo"' in page


@pytest.mark.parametrize(("full", "shown", "spoken"), [
    (1, NAME, f"{NAME}, "),
    (0, MASKED, ""),
])
def test_board_follows_site_setting(screen, db, site, full, shown, spoken):
    with write(db):
        db.execute("UPDATE site SET display_full_names = ? WHERE id = ?", [full, site])
    visit = add_visit(db, site, NAME)
    desk_id, desk_number = measure_desk(db)
    call_next(db, desk_id)

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert f'<p class="name">{shown}</p>' in page
    assert f'data-announce="Mời số {visit["queue_number"]}, {spoken}đến bàn {desk_number}, cân đo"' in page


def test_full_names_per_site(screen, db, site):
    with write(db):
        round_id = create_round(db, "Đợt 2", dt.date.today(), 1, [SiteSpec("Trường Tiểu học An Lạc", "5 Lê Lợi", 40)])
    other = sites(db, round_id)[0]["id"]
    create_default_stations(db, other)
    screen.post(f"/display/site/{other}/names", data={"full": "1", "csrf_token": csrf_token(screen, "/stations/")})
    add_visit(db, site, NAME)
    call_next(db, measure_desk(db)[0])

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert f'<p class="name">{MASKED}</p>' in page


# The full-names switch.


@pytest.mark.parametrize(("full", "stored", "action", "message"), [
    ("1", 1, "display_full_names_on", "hiện và đọc họ tên đầy đủ"),
    ("0", 0, "display_full_names_off", "chỉ hiện tên viết tắt"),
])
def test_switch_full_names(screen, db, site, full, stored, action, message):
    token = csrf_token(screen, "/stations/coordinator")

    response = screen.post(f"/display/site/{site}/names", data={"full": full, "csrf_token": token},
                           follow_redirects=True)

    assert message in response.get_data(as_text=True)
    assert db.execute("SELECT display_full_names FROM site WHERE id = ?", [site]).fetchone()[0] == stored
    audit = db.execute("SELECT action, subject, staff_id FROM audit_event WHERE action LIKE 'display_full_names%'")
    (row,) = audit.fetchall()
    assert row[:2] == (action, site)
    assert row[2] == db.execute("SELECT id FROM staff WHERE username = 'officer'").fetchone()[0]


def test_switch_shows_on_coordinator(screen, db, site):
    before = screen.get(f"/stations/coordinator?site={site}").get_data(as_text=True)
    screen.post(f"/display/site/{site}/names", data={"full": "1", "csrf_token": csrf_token(screen, "/stations/")})

    after = screen.get(f"/stations/coordinator?site={site}").get_data(as_text=True)

    assert "Màn hình phòng chờ đang hiện tên viết tắt" in before
    assert 'name="full" value="1"' in before
    assert "Màn hình phòng chờ đang hiện và đọc họ tên đầy đủ." in after
    assert 'name="full" value="0"' in after


def test_switch_needs_csrf(screen, db, site):
    response = screen.post(f"/display/site/{site}/names", data={"full": "1"})

    assert response.status_code == 400
    assert db.execute("SELECT display_full_names FROM site WHERE id = ?", [site]).fetchone()[0] == 0


def test_switch_refused_for_station(app, db, site):
    client = app.test_client()
    sign_in(client, "nurse")

    token = csrf_token(client, "/stations/")

    response = client.post(f"/display/site/{site}/names", data={"full": "1", "csrf_token": token})

    assert response.status_code == 403
    assert db.execute("SELECT display_full_names FROM site WHERE id = ?", [site]).fetchone()[0] == 0


def test_switch_unknown_site(screen):
    token = csrf_token(screen, "/stations/")

    response = screen.post("/display/site/unknown/names", data={"full": "1", "csrf_token": token})

    assert response.status_code == 404


def test_board_lists_waiting_numbers(screen, db, site):
    first = add_visit(db, site, "Trần Bình")
    second = add_visit(db, site, "Lê Thị Hà")

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    lines = page.split('class="lines"')[1].split("</section>")[0]
    assert "Cân đo" in lines
    assert f"<span>{first['queue_number']}</span><span>{second['queue_number']}</span>" in lines


def test_board_recent_calls(screen, db, site):
    visit = add_visit(db, site, NAME)
    desk_id, desk_number = measure_desk(db)
    call_next(db, desk_id)

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    recent = page.split('class="recent"')[1]
    assert f"<strong>{visit['queue_number']}</strong>" in recent
    assert f"Bàn {desk_number}" in recent


def test_recall_changes_call_key(screen, db, site):
    from fieldapp.queueing import recall

    add_visit(db, site, NAME)
    desk_id, _ = measure_desk(db)
    task = call_next(db, desk_id)
    before = screen.get(f"/display/board?site={site}").get_data(as_text=True)
    recall(db, task["id"])

    after = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert f'data-call-key="{task["id"]}:1:' in before
    assert f'data-call-key="{task["id"]}:2:' in after


def test_polls_share_render_briefly(screen, db, site, monkeypatch):
    visit = add_visit(db, site, NAME)
    desk_id, _ = measure_desk(db)
    poll = {"HX-Request": "true"}
    monkeypatch.setattr(display_views, "SHARED_BOARD_SECONDS", 3600)
    before = screen.get(f"/display/board?site={site}", headers=poll).get_data(as_text=True)
    call_next(db, desk_id)

    shared = screen.get(f"/display/board?site={site}", headers=poll).get_data(as_text=True)
    opened = screen.get(f"/display/board?site={site}").get_data(as_text=True)
    monkeypatch.setattr(display_views, "SHARED_BOARD_SECONDS", 0)
    expired = screen.get(f"/display/board?site={site}", headers=poll).get_data(as_text=True)

    number = f'<p class="number">{visit["queue_number"]}</p>'
    assert number not in before
    assert shared == before
    assert number in opened
    assert number in expired


def test_display_page_polls_board(screen, site):
    response = screen.get("/display/")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f'hx-get="/display/board?site={site}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "Bật âm thanh" in page


def test_display_page_without_site(screen):
    page = screen.get("/display/").get_data(as_text=True)

    assert "Hôm nay không có điểm khám nào mở." in page
    assert "hx-get" not in page


def test_display_page_unknown_site(screen, site):
    page = screen.get("/display/?site=unknown").get_data(as_text=True)

    assert "Chọn điểm khám để hiển thị" in page
    assert f"/display/?site={site}" in page


def test_display_page_has_no_inline_script(screen, site):
    page = screen.get("/display/").get_data(as_text=True)

    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert "style=" not in page


def test_display_refuses_station_role(app, site):
    client = app.test_client()
    sign_in(client, "nurse")

    assert client.get("/display/board").status_code == 403


def test_no_names_in_urls(screen, db, site):
    visit = add_visit(db, site, NAME)
    call_next(db, measure_desk(db)[0])
    pages = [screen.get(url).get_data(as_text=True)
             for url in ("/display/", f"/display/board?site={site}", f"/display/ticket/{visit['id']}")]

    found = [url for page in pages for url in urls(page) if any(word in url for word in NAME.split())]

    assert found == []


# The ticket.


def test_ticket_shows_visit(screen, db, site):
    visit = add_visit(db, site, NAME)

    response = screen.get(f"/display/ticket/{visit['id']}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f'<p class="ticket-number">{visit["queue_number"]}</p>' in page
    assert f'<p class="ticket-name">{NAME}</p>' in page
    assert "<strong>Cân đo</strong>" in page
    assert 'data-print="auto"' in page


def test_ticket_print_width(screen):
    response = screen.get("/static/css/display.css")
    css = response.get_data(as_text=True)
    response.close()

    assert ".ticket {\n  width: 72mm;" in css
    assert "margin: 0 4mm;" in css


def test_ticket_unknown_visit(screen):
    assert screen.get("/display/ticket/unknown").status_code == 404


def test_ticket_allowed_for_reception(app, db, site):
    visit = add_visit(db, site, NAME)
    client = app.test_client()
    sign_in(client, "reception")

    assert client.get(f"/display/ticket/{visit['id']}").status_code == 200


# The chime.


def test_chime_is_short_wav():
    with wave.open(str(CHIME), "rb") as chime:
        seconds = chime.getnframes() / chime.getframerate()
        channels = chime.getnchannels()

    assert 0.3 < seconds < 2
    assert channels == 1


# The kiosk command line.


def test_kiosk_display_command():
    command = build_command("/usr/bin/chromium", "https://127.0.0.1:8443/display/", Path("/tmp/profile"))

    assert command[0] == "/usr/bin/chromium"
    assert "--kiosk" in command
    assert "--user-data-dir=/tmp/profile" in command
    assert "--autoplay-policy=no-user-gesture-required" in command
    assert "--kiosk-printing" not in command
    assert command[-1] == "https://127.0.0.1:8443/display/"


def test_kiosk_check_in_command():
    command = build_command("chrome.exe", "https://127.0.0.1:8443/display/", Path("profile"), check_in=True)

    assert "--kiosk-printing" in command
    assert command[-1] == "https://127.0.0.1:8443/checkin/"


def test_check_in_url_keeps_server():
    assert check_in_url("http://10.0.0.5:9000/display/?site=x") == "http://10.0.0.5:9000/checkin/"


def test_find_browser_windows(tmp_path):
    chrome = tmp_path / "Google" / "Chrome" / "Application" / "chrome.exe"
    chrome.parent.mkdir(parents=True)
    chrome.touch()

    found = find_browser(platform="win32", environ={"PROGRAMFILES": str(tmp_path)})

    assert found == str(chrome)


def test_find_browser_missing_path(tmp_path):
    with pytest.raises(BrowserNotFound):
        find_browser(str(tmp_path / "no-such-browser"))


def test_kiosk_main_missing_browser(tmp_path, capsys):
    code = kiosk_main(["--browser", str(tmp_path / "no-such-browser"), "--profile", str(tmp_path / "profile")])

    assert code == 2
    assert "browser not found" in capsys.readouterr().err


# Voice clips.


def test_board_links_clip_when_ready(app, screen, db, site):
    fake_clips(Path(app.config["DATA_DIR"]) / "voice")
    add_visit(db, site, NAME)
    task = call_next(db, measure_desk(db)[0])

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert f'data-clip="/display/voice/{task["id"]}.wav"' in page


def test_board_without_clips(screen, db, site):
    add_visit(db, site, NAME)
    call_next(db, measure_desk(db)[0])

    page = screen.get(f"/display/board?site={site}").get_data(as_text=True)

    assert "data-clip" not in page


def test_voice_clip_says_call(app, screen, db, site):
    fake_clips(Path(app.config["DATA_DIR"]) / "voice", ["Cân đo"])
    add_visit(db, site, NAME)
    task = call_next(db, measure_desk(db)[0])

    response = screen.get(f"/display/voice/{task['id']}.wav")

    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    # "mời số", "một", "đến bàn", "một", "cân đo": five clips of 0.1 s and four 300 ms gaps.
    assert seconds_of(response.get_data()) == pytest.approx(5 * 0.1 + 4 * 0.3, abs=0.001)


def test_voice_clip_missing_clips(screen, db, site):
    add_visit(db, site, NAME)
    task = call_next(db, measure_desk(db)[0])

    assert screen.get(f"/display/voice/{task['id']}.wav").status_code == 404


def test_voice_clip_task_not_called(app, screen, db, site):
    fake_clips(Path(app.config["DATA_DIR"]) / "voice")
    visit = add_visit(db, site, NAME)
    task_id = db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]

    assert screen.get(f"/display/voice/{task_id}.wav").status_code == 404


def test_voice_clip_refused_for_station(app, db, site):
    fake_clips(Path(app.config["DATA_DIR"]) / "voice")
    add_visit(db, site, NAME)
    task = call_next(db, measure_desk(db)[0])
    client = app.test_client()
    sign_in(client, "nurse")

    assert client.get(f"/display/voice/{task['id']}.wav").status_code == 403
