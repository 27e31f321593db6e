"""Result sheets, the parents' version and referral notes: real PDFs read back with pypdfium2, routes, audit, command.

The ward is two small lists imported from CSV: elderly people and a class of pupils. They are checked
in through the check-in code, and values and conclusions go through the observation and conclusion
stores, so every sheet is drawn from the same data a real exam day leaves.
"""

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from conftest import PERSONAS, csrf_token, sign_in
from fontTools.ttLib import TTFont

from fieldapp import conclusions, create_app, observations, queueing, sheets
from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.errors import FieldappError
from fieldapp.importer import import_files
from fieldapp.observations import Author
from fieldapp.rounds import SiteSpec, create_round, find_site
from fieldapp.sheets import SheetNotReady, referral_note, result_sheet, workers
from fieldapp.sheets import document as document_module
from fieldapp.sheets.document import SheetDocument
from fieldapp.slips.fonts import FONT_FILES, SHEET_CHARACTERS, SHEET_FONT_FILES
from fieldapp.visits import Consent, Desk, check_in

DAY = dt.date(2026, 12, 12)
ROUND = "Đợt 1 - 2026"
STATION_SITE = SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)
SCHOOL_SITE = SiteSpec("Trường Tiểu học An Lạc", "5 Bạch Đằng", 40, kind="school")
ELDERLY_CSV = """Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Tổ dân phố
Nguyễn Thị Ngọc Ánh,05/03/1958,Nữ,031158012345,0912345678,Tổ dân phố 3
Đặng Quốc Ưng,10/10/1960,Nam,031060054321,0987001122,Tổ dân phố 3
Tôn Nữ Thị Hoàng Phương Uyên Nguyễn Ngọc Bảo Trâm,01/07/1955,Nữ,031155067890,0903111222,Tổ dân phố 7
Huỳnh Văn Ổn,20/01/1962,Nam,,0977333444,Tổ dân phố 7
Lý Thị Kiều Oanh,14/02/1959,Nữ,,,Tổ dân phố 1
"""
PUPILS_CSV = """Họ và tên,Ngày sinh,Giới tính,Lớp,Họ tên phụ huynh,SĐT phụ huynh
Lê Minh Khôi,02/04/2018,Nam,2A,Lê Văn Hùng,0987654321
Phạm Thu Hà,15/09/2018,Nữ,2A,Phạm Thị Lan,0911222333
"""
DOCTOR_NAME = "BS. Trần Thị Hoa"
A4_POINTS = (595, 842)
A5_POINTS = (420, 595)


def make_ward_file(folder: Path) -> Path:
    """Write two lists and a one-day round with a station site and a school site into a database in folder."""
    elderly, pupils = folder / "nguoi-cao-tuoi.csv", folder / "hoc-sinh-lop-2a.csv"
    elderly.write_text(ELDERLY_CSV, encoding="utf-8")
    pupils.write_text(PUPILS_CSV, encoding="utf-8")
    path = folder / DATABASE_NAME
    db = connect(path)
    import_files(db, [elderly], DAY, 2)
    import_files(db, [pupils], DAY, 7)
    with write(db):
        create_round(db, ROUND, DAY, 1, [STATION_SITE, SCHOOL_SITE], ward="Phường An Lạc",
                     station="Trạm Y tế phường An Lạc")
    db.conn.close()
    return path


def make_app(data_dir: Path, ward_file: Path):
    """Return an app on a copy of the ward with the personas, a doctor and a coordinator."""
    shutil.copy(ward_file, data_dir / DATABASE_NAME)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        for username, (role, pin) in PERSONAS.items():
            add_staff(db, username, username.title(), role, pin)
        add_staff(db, "doc", DOCTOR_NAME, "doctor", "4444")
        add_staff(db, "coord", "Coord", "coordinator", "3333")
    db.conn.close()
    return app


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory) -> Path:
    return make_ward_file(tmp_path_factory.mktemp("sheets"))


@pytest.fixture
def app(data_dir: Path, ward_file: Path):
    return make_app(data_dir, ward_file)


def person_id(db, full_name: str) -> str:
    return db.execute("SELECT id FROM person WHERE full_name = ?", [full_name]).fetchone()[0]


def arrive(db, full_name: str, site: SiteSpec = STATION_SITE) -> dict:
    """Check a person in at a site on DAY and return the visit."""
    round_id = db.execute("SELECT id FROM exam_round WHERE name = ?", [ROUND]).fetchone()[0]
    desk = Desk(round_id, find_site(db, round_id, site.name)["id"], DAY.isoformat())
    age = DAY.year - int(get_person(db, person_id(db, full_name))["birth_date"][:4])
    consent = Consent() if age >= 16 else Consent("guardian", "Phụ huynh", child_assent=True)
    visit, _ = check_in(db, desk, get_person(db, person_id(db, full_name)), consent)
    return visit


def record(db, visit: dict, values: dict) -> None:
    """Store observations: item -> value, or item -> [reading 1, reading 2]."""
    with write(db):
        for item, value in values.items():
            for reading, single in enumerate(value if isinstance(value, list) else [value], start=1):
                observations.record(db, visit, item, single, reading=reading)


def conclude(db, visit: dict, **fields) -> None:
    """Save the doctor's conclusion for a visit, signed by the doctor account."""
    doctor_id = db.execute("SELECT id FROM staff WHERE username = 'doc'").fetchone()[0]
    with write(db):
        conclusions.save(db, visit, conclusions.Conclusion(**fields), author=Author(staff_id=doctor_id))


def pdf_pages(data: bytes) -> list[str]:
    """Return each page's text with runs of whitespace made single spaces."""
    document = pdfium.PdfDocument(data)
    return [re.sub(r"\s+", " ", page.get_textpage().get_text_range()) for page in document]


def pdf_text(data: bytes) -> str:
    return " ".join(pdf_pages(data))


def page_sizes(data: bytes) -> list[tuple[int, int]]:
    return [tuple(round(side) for side in page.get_size()) for page in pdfium.PdfDocument(data)]


HYPERTENSIVE_ADULT = {"height_cm": 158.5, "weight_kg": 71.2, "bp_systolic": [186, 172], "bp_diastolic": [98, 96],
                      "pulse": 88, "glucose_fasting_mmol": 6.4, "spo2": 95, "vision_right": 10, "vision_left": 7,
                      "finding_internal_medicine": "Tim đều, phổi không ran."}
ADULT_CONCLUSION = {
    "findings": {"eye": "Giảm thị lực mắt trái."},
    "diagnoses": [{"code": "I10", "label": "Tăng huyết áp vô căn (nguyên phát)"},
                  {"code": "R73.0", "label": "Bất thường nghiệm pháp dung nạp glucose"}],
    "health_class": "III", "summary": "Tăng huyết áp độ 2, tiền đái tháo đường.",
    "advice": "Ăn nhạt, dưới 5 g muối mỗi ngày; đi bộ 30 phút mỗi ngày.",
    "referral_place": "Bệnh viện Đa khoa Hải Phòng, khoa Tim mạch", "referral_reason": "Tăng huyết áp độ 2",
    "next_exam_date": "2027-01-12",
}


def make_adult_visit(db) -> dict:
    visit = arrive(db, "Nguyễn Thị Ngọc Ánh")
    record(db, visit, HYPERTENSIVE_ADULT)
    conclude(db, visit, **ADULT_CONCLUSION)
    return visit


@pytest.fixture
def adult_visit(db) -> dict:
    return make_adult_visit(db)


PUPIL_VALUES = {"height_cm": 128.0, "weight_kg": 33.0, "vision_right": 10, "vision_left": 6,
                "dental": "caries", "spine": "scoliosis", "bp_systolic": 105, "bp_diastolic": 65}


def make_pupil_visit(db) -> dict:
    visit = arrive(db, "Lê Minh Khôi", SCHOOL_SITE)
    record(db, visit, PUPIL_VALUES)
    conclude(db, visit, diagnoses=[{"code": "K02.1", "label": "Sâu ngà răng"}],
             advice="Chải răng 2 lần mỗi ngày, hạn chế đồ ngọt.", referral_place="Bệnh viện Mắt Hải Phòng",
             referral_reason="khám tật khúc xạ", next_exam_date="2027-06-01")
    return visit


@pytest.fixture
def pupil_visit(db) -> dict:
    return make_pupil_visit(db)


@pytest.fixture(scope="module")
def printed(tmp_path_factory, ward_file) -> dict[str, str]:
    """The text of the adult's sheet, the pupil's parents' sheet and the adult's referral note, rendered once."""
    folder = tmp_path_factory.mktemp("printed")
    app = make_app(folder, ward_file)
    db = connect(folder / DATABASE_NAME)
    with app.app_context():
        adult, pupil = make_adult_visit(db), make_pupil_visit(db)
        texts = {"person": pdf_text(result_sheet(db, adult)),
                 "parents": pdf_text(result_sheet(db, pupil, size="A5", audience="parents")),
                 "referral": pdf_text(referral_note(db, adult))}
    db.conn.close()
    return texts


# The person's sheet.


@pytest.mark.parametrize("expected", [
    "PHIẾU KẾT QUẢ KHÁM SỨC KHỎE", "TRẠM Y TẾ PHƯỜNG AN LẠC", "Ngày khám: 12/12/2026",
    "Họ và tên: NGUYỄN THỊ NGỌC ÁNH", "Ngày sinh: 05/03/1958", "Tuổi: 68 tuổi", "Giới: Nữ",
    "158,5 cm", "71,2 kg", "88 lần/phút", "10/10", "7/10",
    "Huyết áp lần 1 186/98 mmHg", "Huyết áp lần 2 172/96 mmHg", "179/97 mmHg Tăng huyết áp độ 2",
    "6,4 mmol/L Tiền đái tháo đường", "Nội khoa: Tim đều, phổi không ran.", "Mắt: Giảm thị lực mắt trái.",
    "I10 – Tăng huyết áp vô căn (nguyên phát)", "R73.0 – Bất thường nghiệm pháp dung nạp glucose",
    "Phân loại sức khỏe: Loại III (Trung bình)", "Kết luận: Tăng huyết áp độ 2, tiền đái tháo đường.",
    "Chuyển khám tại: Bệnh viện Đa khoa Hải Phòng, khoa Tim mạch. Lý do: Tăng huyết áp độ 2",
    "Hẹn khám lại: 12/01/2027", "BÁC SĨ KẾT LUẬN", DOCTOR_NAME,
])
def test_sheet_prints_values_and_conclusion(printed, expected):
    assert expected in printed["person"]


def test_sheet_bmi_derived_from_height_weight(printed):
    text = printed["person"]

    # 71.2 kg / 1.585 m squared = 28.34: obese class I on the Asian cut-offs (25-29.9).
    assert "28,3 kg/m² Béo phì độ I" in text


def test_sheet_marks_flags_without_colour(printed):
    text = printed["person"]

    assert "!! Huyết áp lần 1 186/98 mmHg" in text
    assert "! Huyết áp (trung bình) 179/97 mmHg" in text
    assert "! Đường huyết lúc đói (mao mạch) 6,4 mmol/L Tiền đái tháo đường" in text
    assert "(!) Độ bão hòa oxy (SpO2) 95% SpO2 thấp: cần đo lại" in text
    assert "Mạch bình thường Chiều cao (đứng) 158,5 cm —" in text
    assert "!! cần khám ngay" in text


def test_child_emergency_pressure_marked(db):
    visit = arrive(db, "Phạm Thu Hà", SCHOOL_SITE)
    record(db, visit, {"bp_systolic": 185, "bp_diastolic": 125})
    conclude(db, visit, summary="Chuyển cấp cứu.")

    text = pdf_text(result_sheet(db, visit))

    # Children's blood pressure has no bands, but 185/125 mmHg is an emergency at any age.
    assert "!! Huyết áp 185/125 mmHg —" in text


def test_sheet_masks_id_number(printed):
    text = printed["person"]

    assert "Số CCCD/CMND: ********2345" in text
    assert "031158012345" not in text


@pytest.mark.parametrize(("size", "points"), [("A4", A4_POINTS), ("A5", A5_POINTS)])
def test_sheet_page_size(db, adult_visit, size, points):
    data = result_sheet(db, adult_visit, size=size)

    assert set(page_sizes(data)) == {points}


def test_pdf_title_holds_no_name(db, adult_visit):
    document = pdfium.PdfDocument(result_sheet(db, adult_visit))

    metadata = document.get_metadata_dict()

    assert metadata["Title"] == "Phiếu kết quả khám sức khỏe"
    assert "Ánh" not in json.dumps(metadata, ensure_ascii=False)


def test_sheet_before_conclusion_refused(db):
    visit = arrive(db, "Đặng Quốc Ưng")
    record(db, visit, {"height_cm": 165.0})

    with pytest.raises(SheetNotReady) as caught:
        result_sheet(db, visit)

    assert caught.value.code == "sheet_not_concluded"
    assert caught.value.status == 409


@pytest.mark.parametrize(("size", "audience"), [("A3", "person"), ("A4", "doctor")])
def test_sheet_unknown_option_rejected(db, adult_visit, size, audience):
    with pytest.raises(FieldappError) as caught:
        result_sheet(db, adult_visit, size=size, audience=audience)

    assert caught.value.code == "sheet_option_invalid"


def test_long_sheet_continues_on_page_two(db):
    name = "Tôn Nữ Thị Hoàng Phương Uyên Nguyễn Ngọc Bảo Trâm"
    visit = arrive(db, name)
    record(db, visit, HYPERTENSIVE_ADULT)
    diagnoses = [{"code": f"Z{number:02d}", "label": f"Chẩn đoán thử số {number} với tên bệnh khá dài để xuống dòng"}
                 for number in range(12)]
    conclude(db, visit, **{**ADULT_CONCLUSION, "diagnoses": diagnoses})

    pages = pdf_pages(result_sheet(db, visit, size="A5"))

    text = " ".join(pages)
    assert len(pages) >= 2
    assert name.upper() in text
    assert all(f"Z{number:02d} – Chẩn đoán thử số {number}" in text for number in range(12))
    assert f"Phiếu kết quả khám sức khỏe: {name}" in pages[1]
    assert all(f"Trang {number}/{len(pages)}" in page for number, page in enumerate(pages, start=1))


# The parents' version.


@pytest.mark.parametrize("expected", [
    "PHIẾU BÁO KẾT QUẢ KHÁM SỨC KHỎE", "Kính gửi cha mẹ (người giám hộ) của học sinh LÊ MINH KHÔI",
    "Lớp: 2A", "Chiều cao: 128,0 cm", "Cân nặng: 33,0 kg",
    "Thị lực: mắt phải 10/10, mắt trái 6/10", "Răng: Sâu răng", "Cột sống: Vẹo cột sống",
    "Sâu ngà răng (mã bệnh K02.1)", "Đưa cháu đi khám tại Bệnh viện Mắt Hải Phòng. Lý do: khám tật khúc xạ.",
    "Chải răng 2 lần mỗi ngày, hạn chế đồ ngọt.", "Đưa cháu khám lại ngày 01/06/2027.",
    "xin liên hệ Trạm Y tế phường An Lạc hoặc giáo viên chủ nhiệm, Trường Tiểu học An Lạc",
])
def test_parents_sheet_speaks_to_parents(printed, expected):
    assert expected in printed["parents"]


def test_parents_sheet_judges_growth_in_plain_words(printed):
    text = printed["parents"]

    # A boy of 8 years 8 months, 128 cm and 33 kg: BMI 20.1, +1.98 SD of WHO 2007 BMI-for-age (overweight: +1 to +2).
    assert "Tình trạng dinh dưỡng: Thừa cân" in text
    assert "BMI so với trẻ cùng tuổi, cùng giới: +1,98 SD (Thừa cân)" in text
    assert "Chiều cao so với trẻ cùng tuổi: -0,50 SD" in text


def test_parents_sheet_leaves_out_id_and_codes_jargon(printed):
    text = printed["parents"]

    assert "CCCD" not in text
    assert "K02.1 –" not in text


def test_parents_sheet_for_adult_refused(db, adult_visit):
    with pytest.raises(FieldappError) as caught:
        result_sheet(db, adult_visit, audience="parents")

    assert caught.value.code == "sheet_parents_children_only"


# The referral note.


@pytest.mark.parametrize("expected", [
    "GIẤY GIỚI THIỆU / CHUYỂN KHÁM", "Kính gửi: Bệnh viện Đa khoa Hải Phòng, khoa Tim mạch",
    "Họ và tên: NGUYỄN THỊ NGỌC ÁNH", "Lý do chuyển khám: Tăng huyết áp độ 2",
    "Huyết áp lần 1: 186/98 mmHg", "Huyết áp (trung bình): 179/97 mmHg (Tăng huyết áp độ 2)",
    "Đường huyết lúc đói (mao mạch): 6,4 mmol/L (Tiền đái tháo đường)",
    "Độ bão hòa oxy (SpO2): 95% (SpO2 thấp: cần đo lại)",
    "I10 – Tăng huyết áp vô căn (nguyên phát)", "BÁC SĨ", DOCTOR_NAME,
])
def test_referral_note_names_place_reason_findings(printed, expected):
    assert expected in printed["referral"]


def test_referral_note_is_a5(db, adult_visit):
    assert page_sizes(referral_note(db, adult_visit)) == [A5_POINTS]


def test_referral_note_lists_most_severe_first(printed):
    text = printed["referral"]

    assert text.index("Huyết áp lần 1") < text.index("Huyết áp (trung bình") < text.index("Độ bão hòa oxy")


def test_referral_note_without_referral_refused(db):
    visit = arrive(db, "Đặng Quốc Ưng")
    record(db, visit, {"height_cm": 165.0, "weight_kg": 60.0})
    conclude(db, visit, summary="Sức khỏe bình thường.")

    with pytest.raises(SheetNotReady) as caught:
        referral_note(db, visit)

    assert caught.value.code == "referral_missing"


# Routes.


def client_for(app, persona: str):
    client = app.test_client()
    if persona in PERSONAS:
        sign_in(client, persona)
    else:
        pin = {"doc": "4444", "coord": "3333"}[persona]
        response = client.post("/login", data={"username": persona, "pin": pin, "csrf_token": csrf_token(client)})
        assert response.status_code == 302
    return client


@pytest.mark.parametrize(("persona", "status"), [
    ("doc", 200), ("nurse", 200), ("officer", 200), ("coord", 403), ("reception", 403),
])
def test_sheet_route_roles(app, db, adult_visit, persona, status):
    response = client_for(app, persona).get(f"/doctor/visit/{adult_visit['id']}/sheet")

    assert response.status_code == status


def test_sheet_route_sends_inline_pdf(app, db, adult_visit):
    response = client_for(app, "doc").get(f"/doctor/visit/{adult_visit['id']}/sheet?size=a5&audience=person")

    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="phieu-ket-qua.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert page_sizes(response.data) == [A5_POINTS] * len(page_sizes(response.data))


def test_sheet_route_audits_with_ids_only(app, db, adult_visit):
    client_for(app, "nurse").get(f"/doctor/visit/{adult_visit['id']}/sheet?audience=person")

    row = db.execute("SELECT staff_id, subject, detail FROM audit_event WHERE action = 'result_sheet_viewed'").fetchone()
    nurse_id = db.execute("SELECT id FROM staff WHERE username = 'nurse'").fetchone()[0]
    assert row[0] == nurse_id
    assert row[1] == adult_visit["id"]
    assert json.loads(row[2]) == {"person_id": adult_visit["person_id"], "size": "A4", "audience": "person"}


def test_sheet_route_before_conclusion_conflict(app, db):
    visit = arrive(db, "Huỳnh Văn Ổn")

    response = client_for(app, "doc").get(f"/doctor/visit/{visit['id']}/sheet",
                                          headers={"Accept": "application/json"})

    assert response.status_code == 409
    assert response.json["message"] == "Lượt khám này chưa có kết luận của bác sĩ nên chưa in được phiếu."
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'result_sheet_viewed'").fetchone()[0] == 0


def test_sheet_route_bad_size_rejected(app, db, adult_visit):
    response = client_for(app, "doc").get(f"/doctor/visit/{adult_visit['id']}/sheet?size=letter",
                                          headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.json["message"] == "Lựa chọn in 'LETTER' không hợp lệ."


def test_sheet_route_unknown_visit_not_found(app):
    response = client_for(app, "doc").get("/doctor/visit/01a24000-0000-7000-8000-000000000000/sheet")

    assert response.status_code == 404


def test_referral_route_sends_pdf_and_audits(app, db, adult_visit):
    response = client_for(app, "doc").get(f"/doctor/visit/{adult_visit['id']}/referral")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'inline; filename="giay-chuyen-kham.pdf"'
    assert "GIẤY GIỚI THIỆU / CHUYỂN KHÁM" in pdf_text(response.data)
    subjects = [row[0] for row in db.execute("SELECT subject FROM audit_event WHERE action = 'referral_note_viewed'")]
    assert subjects == [adult_visit["id"]]


def test_doctor_desk_links_sheet(app, db, adult_visit):
    for task_id, code in db.execute("""SELECT task.id, station_type.code FROM task
                                       JOIN station_type ON station_type.id = task.station_type_id
                                       WHERE task.visit_id = ?""", [adult_visit["id"]]).fetchall():
        if code != "doctor":
            queueing.skip(db, task_id)
    desk_id = db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                            WHERE station_type.code = 'doctor'""").fetchone()[0]
    queueing.call_next(db, desk_id)

    page = client_for(app, "nurse").get(f"/stations/desk/{desk_id}").get_data(as_text=True)

    assert f'href="/doctor/visit/{adult_visit["id"]}/sheet"' in page
    assert f'href="/doctor/visit/{adult_visit["id"]}/sheet?size=A5"' in page


# The day's batch command.


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_command_prints_concluded_visits_of_day(app, db, data_dir, tmp_path, adult_visit, pupil_visit):
    unconcluded = arrive(db, "Huỳnh Văn Ổn")
    out = tmp_path / "phieu.pdf"

    result = invoke("results", "sheets", "--data-dir", data_dir, "--day", DAY.isoformat(), "--out", out,
                    "--size", "A5", "--parents")

    assert result.exit_code == 0, result.output
    assert "Đã in 2 phiếu kết quả ngày 2026-12-12" in result.output
    pages = pdf_pages(out.read_bytes())
    text = " ".join(pages)
    assert "PHIẾU KẾT QUẢ KHÁM SỨC KHỎE" in text
    assert "NGUYỄN THỊ NGỌC ÁNH" in text
    assert "PHIẾU BÁO KẾT QUẢ KHÁM SỨC KHỎE" in text
    assert "LÊ MINH KHÔI" in text
    assert "HUỲNH VĂN ỔN" not in text
    assert set(page_sizes(out.read_bytes())) == {A5_POINTS}
    detail = json.loads(db.execute("SELECT detail FROM audit_event WHERE action = 'result_sheets_printed'").fetchone()[0])
    assert sorted(detail["visits"]) == sorted([adult_visit["id"], pupil_visit["id"]])
    assert unconcluded["id"] not in detail["visits"]


def test_command_numbers_pages_per_sheet(app, db, data_dir, tmp_path, adult_visit, pupil_visit):
    out = tmp_path / "phieu.pdf"

    invoke("results", "sheets", "--data-dir", data_dir, "--day", DAY.isoformat(), "--out", out)

    pages = pdf_pages(out.read_bytes())
    # Each sheet counts its own pages, so the footer of every sheet's first page contains "Trang 1/".
    firsts = [page for page in pages if "Trang 1/" in page]
    assert len(firsts) == 2


def test_command_without_concluded_visits_fails(app, data_dir, tmp_path):
    result = CliRunner().invoke(main, ["results", "sheets", "--data-dir", str(data_dir), "--day", "2026-12-13",
                                       "--out", str(tmp_path / "x.pdf")])

    assert result.exit_code == 1
    assert "Ngày 2026-12-13 không có lượt khám nào đã có kết luận của bác sĩ." in result.output
    assert not (tmp_path / "x.pdf").exists()


# Fonts.


def test_subset_fonts_match_full_fonts():
    for style, path in SHEET_FONT_FILES.items():
        with TTFont(FONT_FILES[style]) as full, TTFont(path) as cut:
            full_cmap, cut_cmap = full.getBestCmap(), cut.getBestCmap()
            wanted = SHEET_CHARACTERS & set(full_cmap)
            widths = [(cut["hmtx"][cut_cmap[code]], full["hmtx"][full_cmap[code]]) for code in wanted]

        assert wanted == set(cut_cmap)
        assert all(cut_width == full_width for cut_width, full_width in widths)
        # Every precomposed Vietnamese letter: Ạ to ỹ, Ơ, Ư and Đ with their small letters.
        assert set(range(0x1EA0, 0x1EFA)) | {0x01A0, 0x01A1, 0x01AF, 0x01B0, 0x0110, 0x0111} <= set(cut_cmap)


@pytest.mark.parametrize(("text", "full_fonts"), [
    ("Nguyễn Thị Ánh Tuyết — huyết áp 120/80 mmHg ≥ 3 lần · 37,5 ℃ ✓", False),
    ("Chẩn đoán: Ωмега Жж, theo dõi", True),
])
def test_sheet_adds_full_fonts_when_needed(text, full_fonts):
    document = SheetDocument("A4", "Phiếu kết quả")
    document.start_sheet("Phiếu", "")
    document.paragraph(text)

    data = document.finish()
    document.close()

    assert document.full_fonts is full_fonts
    assert text in pdf_text(data)


def test_stored_glyph_bounds_print_the_same(monkeypatch):
    def draw() -> bytes:
        with SheetDocument("A5", "Phiếu kết quả") as document:
            document.start_sheet("Phiếu", "")
            document.paragraph("Nguyễn Thị Ánh Tuyết, huyết áp 186/98 mmHg, ĐƯỜNG HUYẾT 6,4 mmol/L", bold=True)
            return document.finish()

    def pixels(data: bytes) -> bytes:
        return pdfium.PdfDocument(data)[0].render(scale=2).to_pil().tobytes()

    stored = draw()
    monkeypatch.setattr(document_module, "keep_glyph_bounds", lambda pdf: None)
    recomputed = draw()

    assert stored != recomputed
    assert pixels(stored) == pixels(recomputed)


# Worker processes.


@pytest.fixture
def sheet_workers(app):
    app.config[workers.SHEET_WORKERS] = 1
    yield app
    workers._discard_pool()


def test_sheet_drawn_in_worker(sheet_workers, adult_visit, db):
    sheet_workers.config[workers.SHEET_WORKERS] = 0
    with sheet_workers.app_context():
        in_process = result_sheet(db, adult_visit, size="A5")
    sheet_workers.config[workers.SHEET_WORKERS] = 1

    response = client_for(sheet_workers, "doc").get(f"/doctor/visit/{adult_visit['id']}/sheet?size=A5")

    drawn_by = {process.pid for process in workers._executor._processes.values()}
    assert response.status_code == 200
    assert pdf_pages(response.data) == pdf_pages(in_process)
    assert drawn_by
    assert os.getpid() not in drawn_by


def test_conclusion_draws_sheet_ahead(sheet_workers, db):
    visit = arrive(db, "Đặng Quốc Ưng")
    record(db, visit, HYPERTENSIVE_ADULT)
    client = client_for(sheet_workers, "doc")

    saved = client.post(f"/doctor/visit/{visit['id']}", data={
        "health_class": "II", "summary": "Huyết áp cao.", "csrf_token": csrf_token(client, f"/doctor/visit/{visit['id']}")})
    ahead = list(workers._drawings.values())
    response = client.get(f"/doctor/visit/{visit['id']}/sheet")

    assert saved.status_code == 302
    assert len(ahead) == 1
    assert response.data == ahead[0].result()
    assert list(workers._drawings.values()) == ahead
    assert "Huyết áp cao." in pdf_text(response.data)


def test_sheet_drawn_again_after_a_change(sheet_workers, db):
    visit = make_adult_visit(db)
    with sheet_workers.app_context():
        sheets.draw_ahead(db, visit)
    ahead = next(iter(workers._drawings.values())).result()
    record(db, visit, {"temperature_c": 38.6})

    response = client_for(sheet_workers, "doc").get(f"/doctor/visit/{visit['id']}/sheet")

    assert len(workers._drawings) == 2
    assert "38,6" in pdf_text(response.data)
    assert "38,6" not in pdf_text(ahead)


def test_broken_worker_falls_back(sheet_workers, adult_visit):
    client = client_for(sheet_workers, "doc")
    client.get(f"/doctor/visit/{adult_visit['id']}/sheet")
    for process in workers._executor._processes.values():
        process.kill()

    response = client.get(f"/doctor/visit/{adult_visit['id']}/sheet")

    assert response.status_code == 200
    assert "PHIẾU KẾT QUẢ KHÁM SỨC KHỎE" in pdf_text(response.data)
