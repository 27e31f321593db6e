"""The follow-up list: who is on it, in which order, with which reasons and phone numbers. Also the page, Excel and command."""

import io
import json

import openpyxl
import pytest
from click.testing import CliRunner
from test_sheets import ROUND, SCHOOL_SITE, arrive, client_for, conclude, make_app, make_ward_file, record

from fieldapp import queueing
from fieldapp.cli import main
from fieldapp.followup import COLUMNS, Filter, follow_up_list

UNKNOWN = "01a24000-0000-7000-8000-000000000000"


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory):
    return make_ward_file(tmp_path_factory.mktemp("followup"))


@pytest.fixture
def app(data_dir, ward_file):
    return make_app(data_dir, ward_file)


@pytest.fixture
def visits(db) -> dict[str, dict]:
    """Return visits by given name: one per level, one with nothing to follow up, and a pupil."""
    by_name = {}
    # Red: 185/125 mmHg is a hypertensive emergency (>= 180 or >= 120).
    by_name["Ánh"] = arrive(db, "Nguyễn Thị Ngọc Ánh")
    record(db, by_name["Ánh"], {"bp_systolic": 185, "bp_diastolic": 125, "height_cm": 155.0, "weight_kg": 50.0})
    # Referral with normal values.
    by_name["Ưng"] = arrive(db, "Đặng Quốc Ưng")
    record(db, by_name["Ưng"], {"bp_systolic": 118, "bp_diastolic": 76})
    conclude(db, by_name["Ưng"], referral_place="Bệnh viện Mắt Hải Phòng", referral_reason="đục thủy tinh thể")
    # Abnormal: fasting glucose 7.8 mmol/L is in the diabetes range (>= 7.0).
    by_name["Ổn"] = arrive(db, "Huỳnh Văn Ổn")
    record(db, by_name["Ổn"], {"glucose_fasting_mmol": 7.8})
    # A diagnosis only.
    by_name["Oanh"] = arrive(db, "Lý Thị Kiều Oanh")
    record(db, by_name["Oanh"], {"bp_systolic": 115, "bp_diastolic": 75})
    conclude(db, by_name["Oanh"], diagnoses=[{"code": "M17", "label": "Thoái hóa khớp gối"}])
    # Nothing to follow up.
    by_name["Trâm"] = arrive(db, "Tôn Nữ Thị Hoàng Phương Uyên Nguyễn Ngọc Bảo Trâm")
    record(db, by_name["Trâm"], {"bp_systolic": 112, "bp_diastolic": 72})
    conclude(db, by_name["Trâm"], summary="Sức khỏe bình thường.")
    # A pupil referred: the parent's phone is the one to call.
    by_name["Khôi"] = arrive(db, "Lê Minh Khôi", SCHOOL_SITE)
    record(db, by_name["Khôi"], {"vision_right": 10, "vision_left": 5})
    conclude(db, by_name["Khôi"], referral_place="Bệnh viện Mắt Hải Phòng", referral_reason="thị lực mắt trái 5/10")
    return by_name


def test_list_orders_red_referral_abnormal_diagnosis(db, visits):
    entries = follow_up_list(db)

    names = [entry.full_name for entry in entries]
    assert [entry.level for entry in entries] == ["red", "referral", "referral", "abnormal", "diagnosis"]
    assert names[0] == "Nguyễn Thị Ngọc Ánh"
    assert set(names[1:3]) == {"Đặng Quốc Ưng", "Lê Minh Khôi"}
    assert names[3:] == ["Huỳnh Văn Ổn", "Lý Thị Kiều Oanh"]


def test_list_leaves_out_people_without_findings(db, visits):
    names = [entry.full_name for entry in follow_up_list(db)]

    assert "Tôn Nữ Thị Hoàng Phương Uyên Nguyễn Ngọc Bảo Trâm" not in names


@pytest.mark.parametrize(("name", "reasons"), [
    ("Nguyễn Thị Ngọc Ánh", ["Huyết áp: 185/125 mmHg (Tăng huyết áp độ 3)"]),
    ("Đặng Quốc Ưng", ["Chuyển khám: Bệnh viện Mắt Hải Phòng (đục thủy tinh thể)"]),
    ("Huỳnh Văn Ổn", ["Đường huyết lúc đói (mao mạch): 7,8 mmol/L (Nghi đái tháo đường, cần xét nghiệm khẳng định)"]),
    ("Lý Thị Kiều Oanh", ["Chẩn đoán: M17 – Thoái hóa khớp gối"]),
])
def test_list_gives_reasons_in_vietnamese(db, visits, name, reasons):
    entry = next(entry for entry in follow_up_list(db) if entry.full_name == name)

    assert entry.reasons == reasons


def test_triage_red_flag_puts_person_first(db, visits):
    queueing.triage(db, visits["Oanh"]["id"], ["chest_pain"])

    entries = follow_up_list(db)

    assert {entry.full_name for entry in entries[:2]} == {"Nguyễn Thị Ngọc Ánh", "Lý Thị Kiều Oanh"}
    oanh = next(entry for entry in entries if entry.full_name == "Lý Thị Kiều Oanh")
    assert oanh.level == "red"
    assert oanh.reasons[0] == "Khẩn cấp khi khám: Đau ngực"


@pytest.mark.parametrize(("name", "phone", "contact"), [
    ("Nguyễn Thị Ngọc Ánh", "0912345678", ""),
    ("Lê Minh Khôi", "0987654321", "Lê Văn Hùng"),
])
def test_list_gives_number_to_call(db, visits, name, phone, contact):
    entry = next(entry for entry in follow_up_list(db) if entry.full_name == name)

    assert entry.phone == phone
    assert entry.contact == contact


def test_list_filters_by_day_and_round(db, visits):
    round_id = visits["Ánh"]["round_id"]

    assert len(follow_up_list(db, Filter(round_id=round_id))) == 5
    assert follow_up_list(db, Filter(day_from="2026-12-13")) == []
    assert follow_up_list(db, Filter(round_id=UNKNOWN)) == []


def test_list_shows_next_exam_date(db):
    visit = arrive(db, "Đặng Quốc Ưng")
    conclude(db, visit, diagnoses=[{"code": "I10", "label": "Tăng huyết áp vô căn"}], next_exam_date="2027-01-12")

    entry = follow_up_list(db)[0]

    assert entry.next_exam_date == "2027-01-12"


# The page and the Excel export.


@pytest.mark.parametrize(("persona", "status"), [
    ("coord", 200), ("doc", 200), ("officer", 200), ("nurse", 403), ("reception", 403),
])
def test_page_roles(app, visits, persona, status):
    response = client_for(app, persona).get("/followup/")

    assert response.status_code == status


def test_page_lists_most_severe_first(app, db, visits):
    response = client_for(app, "coord").get("/followup/")

    page = response.get_data(as_text=True)
    positions = [page.index(name) for name in ("Nguyễn Thị Ngọc Ánh", "Đặng Quốc Ưng", "Huỳnh Văn Ổn",
                                               "Lý Thị Kiều Oanh")]
    assert positions == sorted(positions)
    assert "Huyết áp: 185/125 mmHg (Tăng huyết áp độ 3)" in page
    assert 'href="tel:0987654321"' in page
    assert "Tôn Nữ Thị Hoàng" not in page


def test_page_links_sheets_for_doctors_only(app, visits):
    sheet_link = f"/doctor/visit/{visits['Ánh']['id']}/sheet"

    assert sheet_link in client_for(app, "doc").get("/followup/").get_data(as_text=True)
    assert sheet_link not in client_for(app, "coord").get("/followup/").get_data(as_text=True)


def test_page_view_audited_with_visit_ids(app, db, visits):
    client_for(app, "coord").get(f"/followup/?round={visits['Ánh']['round_id']}&from=2026-12-12&to=2026-12-12")

    row = db.execute("SELECT subject, detail FROM audit_event WHERE action = 'followup_viewed'").fetchone()
    detail = json.loads(row[1])
    assert row[0] == visits["Ánh"]["round_id"]
    assert detail["day_from"] == detail["day_to"] == "2026-12-12"
    assert detail["visits"][0] == visits["Ánh"]["id"]
    assert len(detail["visits"]) == 5


@pytest.mark.parametrize(("query", "status", "message"), [
    ("?from=12-12-2026", 400, "Ngày '12-12-2026' không hợp lệ."),
    (f"?round={UNKNOWN}", 404, None),
])
def test_page_bad_filter_rejected(app, visits, query, status, message):
    response = client_for(app, "coord").get(f"/followup/{query}", headers={"Accept": "application/json"})

    assert response.status_code == status
    if message:
        assert response.json["message"] == message


def test_page_without_round_argument_uses_latest(app, visits):
    page = client_for(app, "coord").get("/followup/").get_data(as_text=True)

    assert f'<option value="{visits["Ánh"]["round_id"]}" selected>{ROUND}</option>' in page


def test_export_has_vietnamese_headers_and_values(app, db, visits):
    response = client_for(app, "doc").get(f"/followup/export.xlsx?round={visits['Ánh']['round_id']}")

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert response.headers["Content-Disposition"].startswith("attachment; filename=can-theo-doi.xlsx")
    assert rows[0] == COLUMNS
    assert len(rows) == 6
    first = dict(zip(COLUMNS, rows[1]))
    assert first["STT"] == 1
    assert first["Mức độ"] == "Khẩn cấp"
    assert first["Họ và tên"] == "Nguyễn Thị Ngọc Ánh"
    assert first["Ngày sinh"] == "05/03/1958"
    assert first["Điện thoại"] == "0912345678"
    assert first["Ngày khám"] == "12/12/2026"
    assert first["Lý do cần theo dõi"] == "Huyết áp: 185/125 mmHg (Tăng huyết áp độ 3)"
    pupil = next(dict(zip(COLUMNS, row)) for row in rows[1:] if row[2] == "Lê Minh Khôi")
    assert pupil["Điện thoại"] == "0987654321"
    assert pupil["Người liên hệ"] == "Lê Văn Hùng"
    assert pupil["Tổ dân phố / lớp"] == "2A"
    assert pupil["Nơi chuyển khám"] == "Bệnh viện Mắt Hải Phòng"


def test_export_audited(app, db, visits):
    client_for(app, "coord").get("/followup/export.xlsx")

    actions = [row[0] for row in db.execute("SELECT action FROM audit_event WHERE action LIKE 'followup_%'")]
    assert actions == ["followup_exported"]


# The command.


def test_command_writes_excel(app, db, data_dir, tmp_path, visits):
    out = tmp_path / "theo-doi.xlsx"

    result = CliRunner().invoke(main, ["results", "followup", "--data-dir", str(data_dir), "--out", str(out),
                                       "--round", ROUND], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "Đã ghi 5 người cần theo dõi" in result.output
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    assert rows[1][2] == "Nguyễn Thị Ngọc Ánh"
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'followup_exported'").fetchone()[0] == 1


def test_command_unknown_round_fails(app, data_dir, tmp_path):
    result = CliRunner().invoke(main, ["results", "followup", "--data-dir", str(data_dir), "--out",
                                       str(tmp_path / "x.xlsx"), "--round", "Đợt 9"])

    assert result.exit_code == 1
    assert "Không tìm thấy đợt khám 'Đợt 9'." in result.output


def test_command_writes_csv(app, data_dir, tmp_path, visits):
    out = tmp_path / "theo-doi.csv"

    CliRunner().invoke(main, ["results", "followup", "--data-dir", str(data_dir), "--out", str(out)],
                       catch_exceptions=False)

    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert "Nguyễn Thị Ngọc Ánh" in lines[1]
