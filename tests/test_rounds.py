"""Rounds on the sample ward: slots within capacity, households and classes together, slips that scan."""

import csv
import datetime as dt
import io
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner

from conftest import SAMPLE, SAMPLE_DATE
from fieldapp.announcements import announcements
from fieldapp.cli import main
from fieldapp.db import connect, write
from fieldapp.distribution import bundles
from fieldapp.importer import import_files
from fieldapp.invitations import find_by_token, invite, reissue, slot_load
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.slips import render_slips
from fieldapp.tokens import parse_token
from test_slips import cells, degrade

START = dt.date(2026, 12, 12)
STATION = SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 20)
SCHOOL = SiteSpec("Trường THCS An Lạc", "5 Bạch Đằng", 40, kind="school")


@pytest.fixture(scope="module")
def ward(tmp_path_factory):
    """The sample ward imported, with a 3-day round: pupils at the school, everyone else at the station."""
    folder = tmp_path_factory.mktemp("round")
    db = connect(folder / "site.db")
    lists = sorted(path for path in SAMPLE.iterdir() if path.is_file() and path.name != "cong-an-dan-cu.csv")
    import_files(db, lists, SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", START, 3, [STATION, SCHOOL], ward="Phường An Lạc",
                                station="Trạm Y tế phường An Lạc")
        station, school = sites(db, round_id)
        invite(db, round_id, school["id"], "group", "7")
        invite(db, round_id, station["id"], "all")
    yield db, round_id, folder
    db.conn.close()


def _active(db, round_id) -> list[dict]:
    cursor = db.execute("SELECT * FROM invitation WHERE round_id = ? AND status = 'active'", [round_id])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_everyone_invited_once(ward):
    db, round_id, _ = ward

    invitations = _active(db, round_id)

    persons = db.execute("SELECT count(*) FROM person").fetchone()[0]
    assert len(invitations) == persons
    assert len({i["person_id"] for i in invitations}) == persons
    assert len({i["token"] for i in invitations}) == persons


def test_everyone_has_slot(ward):
    db, round_id, _ = ward

    missing = [i for i in _active(db, round_id) if i["slot_start"] is None]

    assert missing == []


def test_slots_within_capacity(ward):
    db, round_id, _ = ward
    capacity = {site["id"]: site["capacity"] for site in sites(db, round_id)}

    load = slot_load(db, round_id)

    assert all(people <= capacity[site] for (site, _, _), people in load.items())


def _slot_of(db, round_id) -> dict[str, tuple]:
    return {i["person_id"]: (i["site_id"], i["date"], i["slot_start"]) for i in _active(db, round_id)}


def test_households_share_slot(ward):
    db, round_id, _ = ward
    slot_of = _slot_of(db, round_id)
    households = defaultdict(set)
    for file, code, person, class_name in db.execute(
        "SELECT file_name, household, person_id, class_name FROM source_row WHERE household != ''"
    ).fetchall():
        pupil = db.execute("SELECT class_name FROM person WHERE id = ?", [person]).fetchone()[0]
        if not pupil:
            households[(file, code)].add(slot_of[person])

    split = {key: slots for key, slots in households.items() if len(slots) > 1}

    assert len(households) > 20
    assert split == {}


def test_classes_on_one_day_in_a_row(ward):
    db, round_id, _ = ward
    slot_of = _slot_of(db, round_id)
    classes = defaultdict(set)
    for file, class_name, person in db.execute(
        """SELECT DISTINCT r.file_name, p.class_name, p.id FROM person p
           JOIN source_row r ON r.person_id = p.id AND r.class_name = p.class_name WHERE p.class_name != ''"""
    ).fetchall():
        classes[(file, class_name)].add(slot_of[person])

    for key, taken in classes.items():
        days = {day for _, day, _ in taken}
        starts = sorted(dt.datetime.strptime(start, "%H:%M") for _, _, start in taken)
        gaps = {(later - earlier).seconds // 60 for earlier, later in zip(starts, starts[1:])}
        assert len(days) == 1, key
        assert gaps <= {30}, key


def _station_slots(ward) -> list[tuple[tuple, bool]]:
    """Return ((date, start), is elderly or merit) for everyone invited to the station."""
    db, round_id, _ = ward
    station = sites(db, round_id)[0]
    rows = db.execute(
        """SELECT i.date, i.slot_start, p.groups FROM invitation i JOIN person p ON p.id = i.person_id
           WHERE i.site_id = ? AND i.status = 'active'""", [station["id"]]).fetchall()
    return [((date, start), bool({"1", "2"} & set(groups.split(";")))) for date, start, groups in rows]


def test_priority_people_come_earlier(ward):
    rows = _station_slots(ward)
    position = {slot: index for index, slot in enumerate(sorted({slot for slot, _ in rows}))}

    priority = [position[slot] for slot, flag in rows if flag]
    others = [position[slot] for slot, flag in rows if not flag]

    assert sum(priority) / len(priority) < sum(others) / len(others)


def test_priority_slots_are_quieter(ward):
    rows = _station_slots(ward)
    load = Counter(slot for slot, _ in rows)
    with_priority = {slot for slot, flag in rows if flag}

    quiet = [load[slot] for slot in with_priority]
    busy = [load[slot] for slot in load if slot not in with_priority]

    assert max(quiet) <= STATION.capacity
    assert sum(quiet) / len(quiet) < sum(busy) / len(busy)


@pytest.fixture(scope="module")
def sample_pdf(ward):
    db, round_id, _ = ward
    chosen = bundles(db, round_id)
    buffer = io.BytesIO()
    pages = render_slips(chosen, buffer)
    return chosen, pdfium.PdfDocument(buffer.getvalue()), pages


def _slip_pages(document, chosen):
    """Yield the page images that hold slips (cover lists hold no codes), at the given dpi."""
    for page in document:
        text = page.get_textpage().get_text_range()
        if "DANH SÁCH NHẬN GIẤY MỜI" not in text:
            yield page


def test_sample_qr_and_barcodes_decode(sample_pdf):
    chosen, document, _ = sample_pdf
    expected = sorted(slip.token for bundle in chosen for slip in bundle.slips)
    qr, bars = [], []

    for page in _slip_pages(document, chosen):
        image = page.render(scale=150 / 72, grayscale=True).to_pil()
        qr += [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
        for cell in cells(image, "a4-8", 150):
            bars += [code.text for code in zxingcpp.read_barcodes(cell, formats=zxingcpp.BarcodeFormat.Code128)]

    assert sorted(qr) == expected
    assert sorted(bars) == expected
    assert all(parse_token(token) == token for token in qr)


def test_sample_degraded_qr_mostly_decode(sample_pdf):
    chosen, document, _ = sample_pdf
    expected = {slip.token for bundle in chosen for slip in bundle.slips}
    rng = np.random.default_rng(7)
    found = set()

    for page in _slip_pages(document, chosen):
        image = degrade(page.render(scale=100 / 72, grayscale=True).to_pil(), rng)
        found |= {code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)}

    assert found <= expected
    assert len(found) >= 0.99 * len(expected)


def test_sample_names_in_pdf_text(sample_pdf):
    chosen, document, _ = sample_pdf

    text = "\n".join(page.get_textpage().get_text_range() for page in document)

    missing = [slip.full_name for bundle in chosen for slip in bundle.slips if slip.full_name not in text]
    assert unicodedata.is_normalized("NFC", text)
    assert missing == []


def test_bundles_sorted_for_distribution(ward):
    db, round_id, _ = ward

    chosen = bundles(db, round_id)

    areas = [bundle.area for bundle in chosen]
    assert areas[:3] == ["Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 3"]
    assert any(area.startswith("Lớp ") for area in areas)


def test_reissue_voids_old_token(ward):
    db, round_id, _ = ward
    old = _active(db, round_id)[0]

    with write(db):
        new_id = reissue(db, old["id"])

    voided, replacement = find_by_token(db, old["token"]), find_by_token(db, _token_of(db, new_id))
    assert voided["status"] == "void"
    assert voided["replaced_by"] == new_id
    assert replacement["status"] == "active"
    assert (replacement["date"], replacement["slot_start"]) == (old["date"], old["slot_start"])


def _token_of(db, invitation_id: str) -> str:
    return db.execute("SELECT token FROM invitation WHERE id = ?", [invitation_id]).fetchone()[0]


def test_one_person_slip_alone(ward):
    db, round_id, _ = ward
    person = _active(db, round_id)[5]["person_id"]

    chosen = bundles(db, round_id, person)

    assert [len(bundle.slips) for bundle in chosen] == [1]


def test_announcements_name_place_and_items(ward):
    db, round_id, _ = ward

    items = announcements(db, round_id)

    first = items[0]
    assert first.area == "Tổ dân phố 1"
    assert "Trạm Y tế phường An Lạc" in first.loudspeaker
    assert "12/12/2026" in first.chat
    assert "thẻ bảo hiểm y tế" in first.loudspeaker


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_cli_round_flow(tmp_path):
    data = tmp_path / "site"
    invoke("import", "--data-dir", data, "--as-of", "2025-10-15", SAMPLE / "tdp-07-tcvn3.xlsx", SAMPLE / "tdp-08-nguoi-cao-tuoi.xlsx")

    created = invoke("round", "create", "--data-dir", data, "--name", "Đợt 1", "--start", "2026-12-12", "--days", "2",
                     "--site", "Nhà văn hóa tổ 7|163 Bạch Đằng|10")
    invited = invoke("round", "invite", "--data-dir", data, "--round", "Đợt 1", "--all")
    printed = invoke("slips", "--data-dir", data, "--round", "Đợt 1", "--out", tmp_path / "slips.pdf")
    exported = invoke("invitations", "export", "--data-dir", data, "--round", "Đợt 1", "--out", tmp_path / "inv.csv")

    people = connect(data / "site.db").execute("SELECT count(*) FROM person").fetchone()[0]
    assert created.exit_code == 0
    assert f"Đã mời thêm {people} người" in invited.output
    assert printed.exit_code == 0
    assert exported.exit_code == 0
    assert (tmp_path / "slips.pdf").read_bytes().startswith(b"%PDF")
    with (tmp_path / "inv.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["person_id", "token", "short_code", "site", "date", "slot_start"]
    assert len(rows) == people
    assert all(row["short_code"].replace(" ", "") == row["token"] for row in rows)


def test_cli_round_errors_named(tmp_path):
    bad_site = invoke("round", "create", "--data-dir", tmp_path, "--name", "Đợt 1", "--start", "2026-12-12",
                      "--site", "Trạm Y tế|12 Lê Lợi")
    bad_date = invoke("round", "create", "--data-dir", tmp_path, "--name", "Đợt 1", "--start", "12/12/2026",
                      "--site", "Trạm Y tế|12 Lê Lợi|20")
    no_round = invoke("round", "invite", "--data-dir", tmp_path, "--round", "Đợt 9", "--all")

    assert bad_site.exit_code == 1
    assert "Điểm khám 'Trạm Y tế|12 Lê Lợi' không hợp lệ" in bad_site.output
    assert "2026-12-12" in bad_date.output
    assert "Không tìm thấy đợt khám 'Đợt 9'" in no_round.output
