"""Round pages through the Flask test client: create, invite, load per slot, print, reprint, move, announce."""

import html
import re
import time
from collections import Counter
from urllib.parse import unquote_plus, urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from werkzeug.http import parse_options_header

from conftest import SAMPLE, SAMPLE_DATE
from fieldapp.db import write
from fieldapp.importer import import_files
from fieldapp.invitations import slot_load
from fieldapp.rounds import SiteSpec, create_round

ELDERLY_LISTS = [SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx", SAMPLE / "tdp-02-nguoi-cao-tuoi.xlsx"]
SCHOOL_LIST = SAMPLE / "truong-thcs.xlsx"
STATION = "Trạm Y tế phường An Lạc"
ROUND_FORM = {
    "name": "Khám sức khỏe đợt 1",
    "start": "2026-12-12",
    "days": "1",
    "ward": "Phường An Lạc",
    "station": STATION,
    "site-name-0": STATION,
    "site-address-0": "12 Lê Lợi",
    "site-capacity-0": "20",
}
# The default sessions 07:00–11:00 and 13:30–16:30 hold 8 + 6 slots of 30 minutes a day.
SLOTS_PER_DAY = 14
DPI = 150
POLL_TRIES, POLL_SECONDS = 60, 0.2
LOAD_ROW = re.compile(r"<td>(\d\d:\d\d)–(\d\d:\d\d)</td>.*?<td>(\d+)/(\d+)</td>", re.DOTALL)
LINK = re.compile(r'(?:href|action|hx-get|src)="([^"]*)"')


@pytest.fixture
def elderly(db):
    """The elderly lists of residential groups 1 and 2: 44 people, all in age group 2, one also in group 3."""
    import_files(db, ELDERLY_LISTS, SAMPLE_DATE)
    return db


def post_round(officer, changes: dict | None = None):
    return officer.post("/rounds/", data={**ROUND_FORM, **(changes or {}), "csrf_token": officer.csrf})


def new_round(officer, changes: dict | None = None) -> str:
    """Create a round through the form and return its id."""
    response = post_round(officer, changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]


def invite_people(officer, round_id: str, kind: str = "all", value: str = ""):
    return officer.post(f"/rounds/{round_id}/invite", data={"csrf_token": officer.csrf, "kind": kind, "value": value})


def active(db, round_id: str) -> list[dict]:
    cursor = db.execute("SELECT * FROM invitation WHERE round_id = ? AND status = 'active' ORDER BY id", [round_id])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def load_rows(page: str) -> list[tuple[str, str, int, int]]:
    """Return (start, end, people, capacity) for each row of the load tables on a round page."""
    return [(start, end, int(people), int(capacity)) for start, end, people, capacity in LOAD_ROW.findall(page)]


def wait_for_job(officer, job_path: str) -> str:
    """Poll the job fragment the way htmx does until it stops polling, and return the last fragment."""
    for _ in range(POLL_TRIES):
        fragment = officer.get(job_path, headers={"HX-Request": "true"}).get_data(as_text=True)
        if "hx-trigger" not in fragment:
            return html.unescape(fragment)
        time.sleep(POLL_SECONDS)
    pytest.fail(f"job {job_path} was still running after {POLL_TRIES * POLL_SECONDS:.0f} s")


def qr_tokens(pdf: bytes) -> list[str]:
    """Render every page at DPI and return the decoded QR texts, sorted."""
    document = pdfium.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
        found += [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    document.close()
    return sorted(found)


def print_all(officer, round_id: str) -> tuple[str, str, bytes]:
    """Print every slip through the job page, and return the job page path, its final fragment and the PDF."""
    response = officer.post(f"/rounds/{round_id}/slips", data={"csrf_token": officer.csrf, "layout": "a4-8"})
    assert response.status_code == 302, response.get_data(as_text=True)
    job_path = urlsplit(response.headers["Location"]).path
    fragment = wait_for_job(officer, job_path)
    # send_file streams from an open file, which the test client closes only with the response.
    with officer.get(f"{job_path}/file") as download:
        assert download.status_code == 200, fragment
        return job_path, fragment, download.data


def round_paths(round_id: str, job_id: str) -> list[tuple[str, str]]:
    """Return (method, path) for every round page."""
    return [
        ("GET", "/rounds/"),
        ("GET", f"/rounds/{round_id}"),
        ("GET", f"/rounds/{round_id}/people"),
        ("GET", f"/rounds/{round_id}/announcements"),
        ("GET", f"/rounds/{round_id}/poster?area=Tổ dân phố 1"),
        ("GET", f"/rounds/jobs/{job_id}"),
        ("GET", f"/rounds/jobs/{job_id}/file"),
        ("POST", "/rounds/"),
        ("POST", f"/rounds/{round_id}/invite"),
        ("POST", f"/rounds/{round_id}/slips"),
        ("POST", f"/rounds/{round_id}/reprint"),
        ("POST", f"/rounds/{round_id}/move"),
    ]


def test_pages_redirect_without_session(client, elderly):
    with write(elderly):
        round_id = create_round(elderly, "Đợt 1", SAMPLE_DATE, 1, [SiteSpec(STATION, "12 Lê Lợi", 20)])
    # The sign-in page starts a session that contains a CSRF token but no staff member.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "kind": "all", **ROUND_FORM, "name": "Đợt 2"}

    responses = {
        (method, path): client.open(path, method=method, data=form if method == "POST" else None)
        for method, path in round_paths(round_id, "01a24000-0000-7000-8000-000000000000")
    }

    for (method, path), response in responses.items():
        assert response.status_code == 302, f"{method} {path}"
        assert urlsplit(response.headers["Location"]).path == "/login", f"{method} {path}"
    assert count(elderly, "exam_round") == 1
    assert count(elderly, "invitation") == 0
    assert count(elderly, "job") == 0


def test_unknown_ids_are_404(officer):
    unknown = "01a24000-0000-7000-8000-000000000000"

    responses = {
        (method, path): officer.open(path, method=method, data={"csrf_token": officer.csrf} if method == "POST" else None)
        for method, path in round_paths(unknown, unknown)
        if path != "/rounds/"
    }

    for (method, path), response in responses.items():
        assert response.status_code == 404, f"{method} {path}"
        assert "Không tìm thấy trang hoặc bản ghi này." in page_text(response), f"{method} {path}"


def test_create_round_through_form(officer, db):
    response = post_round(officer)

    assert response.status_code == 302
    round_id = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]
    assert urlsplit(response.headers["Location"]).path == f"/rounds/{round_id}"
    stored = db.execute("SELECT name, start_date, days, ward, station FROM exam_round WHERE id = ?", [round_id]).fetchone()
    assert stored == ("Khám sức khỏe đợt 1", "2026-12-12", 1, "Phường An Lạc", STATION)
    site = db.execute("SELECT name, address, capacity, dates FROM site WHERE round_id = ?", [round_id]).fetchall()
    assert site == [(STATION, "12 Lê Lợi", 20, '["2026-12-12"]')]
    page = page_text(officer.get(response.headers["Location"]))
    assert "<h1>Khám sức khỏe đợt 1</h1>" in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Đợt khám cần có tên."),
    ({"name": "   "}, "Đợt khám cần có tên."),
    ({"start": "12/12/2026"}, "Ngày bắt đầu '12/12/2026' không hợp lệ."),
    ({"start": ""}, "Ngày bắt đầu '' không hợp lệ."),
    ({"site-capacity-0": "0"}, f"Điểm khám '{STATION}|0' không hợp lệ."),
    ({"site-capacity-0": "-3"}, f"Điểm khám '{STATION}|-3' không hợp lệ."),
    ({"days": "0"}, "Số ngày khám '0' không hợp lệ."),
    ({"site-name-0": ""}, "Đợt khám 'Khám sức khỏe đợt 1' chưa có điểm khám nào."),
], ids=["no-name", "blank-name", "date-dmy", "no-date", "capacity-0", "capacity-negative", "days-0", "no-site"])
def test_create_rejects_bad_input(officer, db, changes, message):
    response = post_round(officer, changes)

    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'role="alert"' in page
    assert count(db, "exam_round") == 0
    assert count(db, "site") == 0
    assert count(db, "station_plan") == 0


def test_create_rejects_duplicate_name(officer, db):
    new_round(officer)
    rounds, site_rows = count(db, "exam_round"), count(db, "site")

    response = post_round(officer, {"site-name-0": "Nhà văn hóa tổ 2"})

    assert response.status_code == 400
    assert "Đã có đợt khám tên 'Khám sức khỏe đợt 1'." in page_text(response)
    assert count(db, "exam_round") == rounds
    assert count(db, "site") == site_rows


@pytest.mark.parametrize(("kind", "value", "query"), [
    ("group", "3", "SELECT id FROM person WHERE (';' || groups || ';') LIKE '%;3;%'"),
    ("group", "2", "SELECT id FROM person WHERE (';' || groups || ';') LIKE '%;2;%'"),
    ("tdp", "01", "SELECT id FROM person WHERE tdp = '1'"),
    ("all", "", "SELECT id FROM person"),
])
def test_invite_assigns_every_slot(officer, elderly, kind, value, query):
    round_id = new_round(officer)
    expected = {row[0] for row in elderly.execute(query).fetchall()}

    response = invite_people(officer, round_id, kind, value)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/rounds/{round_id}"
    invitations = active(elderly, round_id)
    assert expected
    assert {i["person_id"] for i in invitations} == expected
    assert len(invitations) == len(expected)
    assert [i["person_id"] for i in invitations if i["slot_start"] is None] == []
    page = page_text(officer.get(f"/rounds/{round_id}"))
    assert f"{len(expected)} người đã có khung giờ" in page
    assert "chưa có chỗ" not in page


def test_invite_twice_keeps_invitations(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "tdp", "1")
    first = {i["person_id"]: i["token"] for i in active(elderly, round_id)}

    invite_people(officer, round_id, "all")

    tokens = {i["person_id"]: i["token"] for i in active(elderly, round_id)}
    assert len(tokens) == count(elderly, "person")
    assert {person: tokens[person] for person in first} == first


def test_invite_without_value_rejected(officer, elderly):
    round_id = new_round(officer)

    response = invite_people(officer, round_id, "group", "")

    assert response.status_code == 400
    assert "Chưa chọn ai để mời." in page_text(response)
    assert active(elderly, round_id) == []


def test_invite_bad_group_rejected(officer, elderly):
    round_id = new_round(officer)

    response = invite_people(officer, round_id, "group", "abc")

    assert response.status_code == 400
    assert active(elderly, round_id) == []


def test_load_table_within_capacity(officer, elderly):
    round_id = new_round(officer, {"site-capacity-0": "5"})
    invite_people(officer, round_id, "all")

    rows = load_rows(page_text(officer.get(f"/rounds/{round_id}")))

    assert len(rows) == SLOTS_PER_DAY
    assert {capacity for *_, capacity in rows} == {5}
    assert [row for row in rows if row[2] > row[3]] == []
    assert sum(people for _, _, people, _ in rows) == count(elderly, "person")
    stored = {start: people for (_, _, start), people in slot_load(elderly, round_id).items()}
    assert {start: people for start, _, people, _ in rows if people} == stored


def test_unplaced_people_announced(officer, elderly):
    round_id = new_round(officer, {"site-capacity-0": "1"})

    invite_people(officer, round_id, "all")

    page = page_text(officer.get(f"/rounds/{round_id}"))
    unplaced = [i for i in active(elderly, round_id) if i["slot_start"] is None]
    assert len(unplaced) == count(elderly, "person") - SLOTS_PER_DAY
    assert f"{SLOTS_PER_DAY} người đã có khung giờ" in page
    assert (f"{len(unplaced)} người chưa có chỗ: thêm ngày, thêm điểm khám hoặc tăng số người mỗi khung giờ"
            in page)
    assert [row for row in load_rows(page) if row[2] > 1] == []


def test_print_job_shows_download(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")

    job_path, fragment, _ = print_all(officer, round_id)

    assert re.fullmatch(r"/rounds/jobs/[0-9a-f-]+", job_path)
    assert f"Đã in xong {count(elderly, 'person')} giấy mời." in fragment
    assert f'href="{job_path}/file"' in fragment
    assert "Đang in" not in fragment
    page = page_text(officer.get(job_path))
    assert "<h1>In giấy mời</h1>" in page


def test_printed_pdf_holds_active_tokens(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")

    _, _, pdf = print_all(officer, round_id)

    assert pdf.startswith(b"%PDF-")
    assert qr_tokens(pdf) == sorted(i["token"] for i in active(elderly, round_id))


def test_printing_marks_invitations_printed(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")

    print_all(officer, round_id)

    invitations = active(elderly, round_id)
    assert len(invitations) == count(elderly, "person")
    assert [i["person_id"] for i in invitations if i["printed_at"] is None] == []


def test_download_names_pdf(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    job_path, _, _ = print_all(officer, round_id)

    with officer.get(f"{job_path}/file") as response:
        mimetype, disposition = response.mimetype, response.headers["Content-Disposition"]

    assert mimetype == "application/pdf"
    assert parse_options_header(disposition) == ("attachment", {"filename": "giay-moi.pdf"})


def test_print_with_nobody_invited(officer, elderly):
    round_id = new_round(officer)

    response = officer.post(f"/rounds/{round_id}/slips", data={"csrf_token": officer.csrf})

    page = page_text(response) if response.status_code != 302 else wait_for_job(officer, response.headers["Location"])
    assert "ValueError" not in page


def test_reprint_returns_one_slip(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    chosen = active(elderly, round_id)[5]

    response = officer.post(f"/rounds/{round_id}/reprint", data={"csrf_token": officer.csrf, "person_id": chosen["person_id"]})

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert parse_options_header(response.headers["Content-Disposition"]) == ("attachment", {"filename": "giay-moi-1-nguoi.pdf"})
    assert qr_tokens(response.data) == [chosen["token"]]
    printed = [i["person_id"] for i in active(elderly, round_id) if i["printed_at"]]
    assert printed == [chosen["person_id"]]


def test_reissue_voids_old_token(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    old = active(elderly, round_id)[5]

    response = officer.post(f"/rounds/{round_id}/reprint",
                            data={"csrf_token": officer.csrf, "person_id": old["person_id"], "reissue": "1"})

    assert response.status_code == 200
    voided = elderly.execute("SELECT status, replaced_by FROM invitation WHERE id = ?", [old["id"]]).fetchone()
    assert voided[0] == "void"
    new = [i for i in active(elderly, round_id) if i["person_id"] == old["person_id"]]
    assert len(new) == 1
    assert voided[1] == new[0]["id"]
    assert new[0]["token"] != old["token"]
    assert (new[0]["date"], new[0]["slot_start"]) == (old["date"], old["slot_start"])
    assert qr_tokens(response.data) == [new[0]["token"]]


def test_reprint_unknown_person_rejected(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "tdp", "1")
    outside = elderly.execute("SELECT id FROM person WHERE tdp = '2' LIMIT 1").fetchone()[0]

    response = officer.post(f"/rounds/{round_id}/reprint", data={"csrf_token": officer.csrf, "person_id": outside})

    assert response.status_code == 400
    assert "chưa có giấy mời trong đợt này." in page_text(response)


def test_reprint_unplaced_person_explained(officer, elderly):
    round_id = new_round(officer, {"site-capacity-0": "1"})
    invite_people(officer, round_id, "all")
    unplaced = next(i for i in active(elderly, round_id) if i["slot_start"] is None)

    response = officer.post(f"/rounds/{round_id}/reprint", data={"csrf_token": officer.csrf, "person_id": unplaced["person_id"]})

    assert "chưa có giấy mời" not in page_text(response)


def test_move_to_slot_with_room(officer, elderly):
    round_id = new_round(officer, {"site-capacity-0": "5"})
    invite_people(officer, round_id, "all")
    free = next((start, end) for start, end, people, capacity in load_rows(page_text(officer.get(f"/rounds/{round_id}")))
                if people < capacity)
    moved = active(elderly, round_id)[0]

    response = officer.post(f"/rounds/{round_id}/move", data={
        "csrf_token": officer.csrf, "invitation_id": moved["id"], "date": "2026-12-12", "start": free[0]})

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/rounds/{round_id}/people"
    stored = elderly.execute("SELECT date, slot_start, slot_end FROM invitation WHERE id = ?", [moved["id"]]).fetchone()
    assert stored == ("2026-12-12", free[0], free[1])


def test_move_into_full_slot_rejected(officer, elderly):
    round_id = new_round(officer, {"site-capacity-0": "5"})
    invite_people(officer, round_id, "all")
    full = next(start for start, _, people, capacity in load_rows(page_text(officer.get(f"/rounds/{round_id}")))
                if people == capacity)
    moved = next(i for i in active(elderly, round_id) if i["slot_start"] != full)
    before = active(elderly, round_id)

    response = officer.post(f"/rounds/{round_id}/move", data={
        "csrf_token": officer.csrf, "invitation_id": moved["id"], "date": "2026-12-12", "start": full})

    assert response.status_code == 400
    assert f"Khung giờ 2026-12-12 {full} đã đủ người." in page_text(response)
    assert active(elderly, round_id) == before


def test_move_outside_round_rejected(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    before = active(elderly, round_id)

    response = officer.post(f"/rounds/{round_id}/move", data={
        "csrf_token": officer.csrf, "invitation_id": before[0]["id"], "date": "2030-01-01", "start": "07:00"})

    assert response.status_code == 400
    assert active(elderly, round_id) == before


def test_move_bad_date_rejected(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    moved = active(elderly, round_id)[0]

    response = officer.post(f"/rounds/{round_id}/move", data={
        "csrf_token": officer.csrf, "invitation_id": moved["id"], "date": "12/12/2026", "start": "07:00"})

    assert response.status_code == 400


def test_announcements_list_each_area(officer, elderly):
    import_files(elderly, [SCHOOL_LIST], SAMPLE_DATE)
    round_id = new_round(officer, {"days": "2"})
    invite_people(officer, round_id, "all")
    expected = Counter(dict(elderly.execute(
        """SELECT CASE WHEN p.class_name IS NOT NULL AND p.class_name != '' THEN 'Lớp ' || p.class_name
                       ELSE 'Tổ dân phố ' || p.tdp END, count(*)
           FROM invitation i JOIN person p ON p.id = i.person_id
           WHERE i.round_id = ? AND i.status = 'active' GROUP BY 1""", [round_id]).fetchall()))

    page = page_text(officer.get(f"/rounds/{round_id}/announcements"))

    sections = re.findall(r'<section class="card">(.*?)</section>', page, re.DOTALL)
    listed = Counter({area: int(people) for area, people in
                      (re.search(r"<h2>(.*?) \((\d+) người\)</h2>", section).groups() for section in sections)})
    assert [i for i in active(elderly, round_id) if i["slot_start"] is None] == []
    assert "Lớp 6A" in listed
    assert listed == expected
    for section in sections:
        area = re.search(r"<h2>(.*?) \(", section).group(1)
        loudspeaker = re.search(r"<h3>Đọc trên loa</h3>\s*<p>(.*?)</p>", section, re.DOTALL).group(1)
        chat = re.search(r'<pre class="message">(.*?)</pre>', section, re.DOTALL).group(1)
        assert f"{STATION} tổ chức khám sức khỏe miễn phí cho người dân {area}." in loudspeaker, area
        assert re.search(rf"Thời gian và địa điểm: (Thứ Bảy, 12|Chủ Nhật, 13)/12/2026, \d\d:\d\d–\d\d:\d\d tại {STATION}",
                         loudspeaker), area
        assert chat.startswith(f"📢 {STATION}: khám sức khỏe miễn phí cho {area}."), area
        assert "🎒 Mang theo: giấy mời" in chat, area


def test_announcements_empty_round(officer, elderly):
    round_id = new_round(officer)

    page = page_text(officer.get(f"/rounds/{round_id}/announcements"))

    assert "Chưa có ai được mời." in page


def test_poster_renders_for_area(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")
    announcements = page_text(officer.get(f"/rounds/{round_id}/announcements"))
    poster_link = next(link for link in LINK.findall(announcements) if "/poster?" in link)

    response = officer.get(poster_link)

    assert response.status_code == 200
    page = page_text(response)
    assert "KHÁM SỨC KHỎE MIỄN PHÍ" in page
    assert "Dành cho người dân Tổ dân phố 1" in page
    assert "Thứ Bảy, 12/12/2026" in page
    assert f"{STATION} · Phường An Lạc" in page


def test_poster_unknown_area_404(officer, elderly):
    round_id = new_round(officer)
    invite_people(officer, round_id, "all")

    responses = [officer.get(f"/rounds/{round_id}/poster", query_string={"area": area})
                 for area in ("Tổ dân phố 99", "", "Lớp 6A")]

    assert [response.status_code for response in responses] == [404, 404, 404]


def test_links_carry_no_personal_data(officer, elderly):
    response = post_round(officer)
    round_id = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]
    locations = [response.headers["Location"], invite_people(officer, round_id, "all").headers["Location"]]
    slips = officer.post(f"/rounds/{round_id}/slips", data={"csrf_token": officer.csrf})
    locations.append(slips.headers["Location"])
    wait_for_job(officer, slips.headers["Location"])
    free = next(start for start, _, people, capacity in load_rows(page_text(officer.get(f"/rounds/{round_id}")))
                if people < capacity)
    locations.append(officer.post(f"/rounds/{round_id}/move", data={
        "csrf_token": officer.csrf, "invitation_id": active(elderly, round_id)[0]["id"], "date": "2026-12-12",
        "start": free}).headers["Location"])
    pages = ["/rounds/", f"/rounds/{round_id}", f"/rounds/{round_id}/people", f"/rounds/{round_id}/announcements",
             f"/rounds/{round_id}/poster?area=Tổ dân phố 1", slips.headers["Location"]]

    links = [html.unescape(link) for path in pages for link in LINK.findall(officer.get(path).get_data(as_text=True))]

    secrets = [value for row in elderly.execute("SELECT full_name, cccd, cmnd, phone FROM person").fetchall()
               for value in row if value]
    assert len(links) > 20
    assert len(locations) == 4
    leaks = [(url, value) for url in [*links, *locations] for value in secrets if value in unquote_plus(url)]
    assert leaks == []
