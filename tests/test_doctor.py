"""The doctor's pages on a sample ward: results with flags, ICD-10 search, conclusions and corrections,
advice templates, finishing the doctor's task, roles, CSRF and audit rows. Flask client and real SQLite."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PERSONAS, SAMPLE, SAMPLE_DATE, csrf_token
from werkzeug.datastructures import MultiDict

from fieldapp import conclusions, create_app, doctor_views, icd10, observations, queueing, suggestions
from fieldapp.auth import add_staff
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.importer import import_files
from fieldapp.results import Result
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.visits import Consent, Desk, check_in

TODAY = dt.date.today()
DOCTOR = ("doc", "doctor", "4444")
COORDINATOR = ("coord", "coordinator", "3333")


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory) -> Path:
    """A ward of workers and elderly people with a round today at one station."""
    path = tmp_path_factory.mktemp("doctor") / DATABASE_NAME
    db = connect(path)
    import_files(db, [SAMPLE / "cong-ty-lao-dong.xlsx", SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx"], SAMPLE_DATE)
    with write(db):
        create_round(db, "Đợt 1", TODAY, 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
    db.conn.close()
    return path


@pytest.fixture
def app(data_dir: Path, ward_file: Path):
    shutil.copy(ward_file, data_dir / DATABASE_NAME)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    db = connect(data_dir / DATABASE_NAME)
    with write(db):
        add_staff(db, DOCTOR[0], "Bác sĩ Lan", DOCTOR[1], DOCTOR[2])
    db.conn.close()
    return app


@pytest.fixture
def everyone(app, db):
    """Add the other roles' accounts; only the role tests need them, and each PIN hash takes a while."""
    with write(db):
        for username, (role, pin) in PERSONAS.items():
            add_staff(db, username, username.title(), role, pin)
        add_staff(db, COORDINATOR[0], "Coord", COORDINATOR[1], COORDINATOR[2])


def signed_in(app, username: str, pin: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "pin": pin, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = csrf_token(client, "/doctor/advice-templates") if username in ("doc", "officer") else None
    return client


@pytest.fixture
def doctor(app):
    return signed_in(app, DOCTOR[0], DOCTOR[2])


def desk(db) -> Desk:
    round_id = db.execute("SELECT id FROM exam_round").fetchone()[0]
    return Desk(round_id, sites(db, round_id)[0]["id"], TODAY.isoformat())


def arrive(db, plan_group: str) -> dict:
    """Check in the first person of a kind ("worker" from the company list, "elderly" otherwise); return the visit."""
    where = "groups LIKE '%4%'" if plan_group == "worker" else "groups NOT LIKE '%4%' AND birth_date < '1960'"
    not_checked_in = "id NOT IN (SELECT person_id FROM visit)"
    person_id = db.execute(f"SELECT id FROM person WHERE {where} AND {not_checked_in} ORDER BY sort_key LIMIT 1"
                           ).fetchone()[0]
    visit, _ = check_in(db, desk(db), get_person(db, person_id), Consent())
    return visit


def record(db, visit: dict, values: dict) -> None:
    """Store observations: item -> value, or item -> [reading 1, reading 2]."""
    with write(db):
        for item, value in values.items():
            for reading, single in enumerate(value if isinstance(value, list) else [value], start=1):
                observations.record(db, visit, item, single, reading=reading)


def bring_to_doctor(db, visit: dict) -> str:
    """Finish every other station of the visit, call the person at the doctor's desk; return the doctor task id."""
    for task_id, code in db.execute("""SELECT task.id, station_type.code FROM task
                                       JOIN station_type ON station_type.id = task.station_type_id
                                       WHERE task.visit_id = ? ORDER BY task.ordinal""", [visit["id"]]).fetchall():
        if code != "doctor":
            queueing.skip(db, task_id)
    desk_id = db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                            WHERE station_type.code = 'doctor'""").fetchone()[0]
    called = queueing.call_next(db, desk_id)
    assert called["visit_id"] == visit["id"]
    return called["id"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def post(client, url: str, data: dict | list, **kwargs):
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    return client.post(url, data=MultiDict([("csrf_token", client.csrf), *fields]), **kwargs)


def saved(db, visit_id: str) -> list[dict]:
    cursor = db.execute("SELECT * FROM conclusion WHERE visit_id = ? ORDER BY recorded_at, rowid", [visit_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def actions(db, subject: str | None = None) -> list[str]:
    if subject is None:
        return [row[0] for row in db.execute("SELECT action FROM audit_event ORDER BY rowid").fetchall()]
    return [row[0] for row in db.execute("SELECT action FROM audit_event WHERE subject = ? ORDER BY rowid",
                                         [subject]).fetchall()]


HYPERTENSIVE = {"bp_systolic": [165, 161], "bp_diastolic": [102, 100], "glucose_fasting_mmol": 7.8,
                "height_cm": 160.0, "weight_kg": 70.0}


# The visit page.


def test_page_shows_results_with_flags(db, doctor):
    visit = arrive(db, "worker")
    record(db, visit, HYPERTENSIVE)

    response = doctor.get(f"/doctor/visit/{visit['id']}")

    page = text_of(response)
    assert response.status_code == 200
    assert re.search(r'<tr class="abnormal"> <td>Huyết áp \(lần 1\) </td> <td class="value">165/102 '
                     r'<span class="unit">mmHg</span></td> <td><span class="band">Tăng huyết áp độ 2</span> '
                     r'<span class="small muted">\(bất thường\)</span>', page)
    assert "Huyết áp (lần 2) </td> <td class=\"value\">161/100 " in page
    assert re.search(r"Huyết áp trung bình <span class=\"tag\">tự tính</span> </td> <td class=\"value\">163/101 ", page)
    assert "Huyết áp tâm thu" not in page
    assert re.search(r'<td class="value">7,8 <span class="unit">mmol/L</span></td> <td><span class="band">Nghi đái '
                     r"tháo đường, cần xét nghiệm khẳng định</span>", page)
    assert re.search(r"Chỉ số khối cơ thể.*?tự tính.*?27,3 <span class=\"unit\">kg/m²</span>.*?Béo phì độ I", page)
    assert re.search(r'160,0 <span class="unit">cm</span></td> <td><span class="band">Trong khoảng thường gặp', page)


def test_page_lists_most_severe_results_first(db, doctor):
    visit = arrive(db, "worker")
    record(db, visit, {"height_cm": 160.0, "weight_kg": 55.0, "bp_systolic": [190], "bp_diastolic": [125]})

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    rows = re.findall(r'<tr class="(\w+)">', page)
    assert rows[:2] == ["red", "red"]
    assert "red" not in rows[2:]
    assert "1 cấp cứu" in page
    assert "Có 1 dấu hiệu cấp cứu: xử trí hoặc chuyển viện ngay." in page


def test_child_blood_pressure_not_classified(db, doctor):
    visit = arrive(db, "worker")
    db.execute("UPDATE person SET birth_date = ? WHERE id = ?", [f"{TODAY.year - 9}-01-15", visit["person_id"]])
    record(db, visit, {"bp_systolic": [150], "bp_diastolic": [95]})

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    assert re.search(r'150/95 <span class="unit">mmHg</span></td> <td><span class="band">Chưa phân loại</span>', page)
    assert "Tăng huyết áp" not in page.split("Kết quả đo và xét nghiệm", 1)[1].split("Khám lâm sàng", 1)[0]


def test_page_suggests_diagnoses_and_next_exam(db, doctor):
    visit = arrive(db, "worker")
    record(db, visit, HYPERTENSIVE)

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    suggested = page.split("Gợi ý từ kết quả đo", 1)[1].split("Tìm mã theo tên bệnh", 1)[0]
    assert re.findall(r'name="diagnosis" value="([^"]+)">', suggested) == ["E66.9", "I10", "R03.0", "R73.9", "E11"]
    assert 'checked' not in suggested
    in_30_days = TODAY + dt.timedelta(days=30)
    assert f'name="next_exam_date" value="{in_30_days.isoformat()}"' in page
    assert f"Gợi ý: {in_30_days:%d/%m/%Y}, sau 30 ngày, vì Tăng huyết áp độ 2." in page


def test_next_exam_defaults_to_a_year(db, doctor):
    visit = arrive(db, "elderly")
    record(db, visit, {"bp_systolic": [118], "bp_diastolic": [76]})

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    in_a_year = TODAY + dt.timedelta(days=365)
    assert f'name="next_exam_date" value="{in_a_year.isoformat()}"' in page
    assert "khám định kỳ mỗi năm một lần" in page


def test_page_prefills_station_findings(db, doctor):
    visit = arrive(db, "worker")
    record(db, visit, {"finding_dermatology": "Nấm da vùng bẹn", "finding_ent": "Amidan quá phát"})

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    assert '<textarea name="finding_dermatology" rows="2">Nấm da vùng bẹn</textarea>' in page
    assert '<textarea name="finding_ent" rows="2">Amidan quá phát</textarea>' in page


def test_page_view_is_audited(db, doctor):
    visit = arrive(db, "worker")

    doctor.get(f"/doctor/visit/{visit['id']}")

    row = db.execute("SELECT staff_id, detail FROM audit_event WHERE action = 'doctor_visit_viewed' AND subject = ?",
                     [visit["id"]]).fetchone()
    doctor_id = db.execute("SELECT id FROM staff WHERE username = 'doc'").fetchone()[0]
    assert row == (doctor_id, "{}")


def test_unknown_visit_not_found(doctor):
    response = doctor.get("/doctor/visit/01a24000-0000-7000-8000-000000000000")

    assert response.status_code == 404


# ICD-10 search.


@pytest.mark.parametrize(("query", "expected", "first"), [
    ("tang huyet ap", "I10", "I10"),
    ("TĂNG HUYẾT ÁP", "I10", "I10"),
    ("huyet ap cao", "R03.0", "R03.0"),
    ("E11", "E11.9", "E11"),
    ("e11.9", "E11.9", "E11.9"),
    ("e119", "E11.9", "E11.9"),
    ("dai thao duong typ 2", "E11", "E11"),
    ("sau rang", "K02.9", "K02"),
    ("can thi", "H52.1", "H52.1"),
    ("veo cot song", "M41.9", "M41"),
    ("beo phi", "E66.9", "E66"),
    ("thap coi", "E45", "E45"),
])
def test_icd10_search_finds_codes(doctor, query, expected, first):
    response = doctor.get("/doctor/icd10", query_string={"q": query}, headers={"HX-Request": "true"})

    page = response.get_data(as_text=True)
    codes = re.findall(r'name="diagnosis" value="([^"]+)"', page)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in page
    assert expected in codes
    assert codes[0] == first


def test_icd10_search_no_match_message(doctor):
    page = text_of(doctor.get("/doctor/icd10", query_string={"q": "xyzzy"}, headers={"HX-Request": "true"}))

    assert 'Không tìm thấy mã nào cho "xyzzy".' in page


def test_icd10_search_page_works_without_htmx(doctor):
    page = text_of(doctor.get("/doctor/icd10", query_string={"q": "tang huyet ap"}))

    assert "<html" in page
    assert "<b>I10</b> Tăng huyết áp vô căn (nguyên phát)" in page
    assert "Danh mục rút gọn gồm" in page


# Saving and correcting a conclusion.


def conclusion_form(**changes) -> list:
    fields = {
        "finding_internal_medicine": "Tim đều, phổi không ran",
        "finding_dermatology": "",
        "health_class": "II",
        "summary": "Tăng huyết áp độ 2, nghi đái tháo đường",
        "advice": "Ăn nhạt, tái khám",
        "referral_place": "Bệnh viện đa khoa tỉnh, khoa Nội tiết",
        "referral_reason": "Xét nghiệm khẳng định đái tháo đường",
        "next_exam_date": (TODAY + dt.timedelta(days=30)).isoformat(),
        "diagnosis_codes": "e11.9",
    }
    fields.update(changes)
    return [("diagnosis", "I10"), *fields.items()]


def test_save_conclusion_stores_values(db, doctor):
    visit = arrive(db, "worker")

    response = post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())

    rows = saved(db, visit["id"])
    doctor_id = db.execute("SELECT id FROM staff WHERE username = 'doc'").fetchone()[0]
    assert response.status_code == 302
    assert len(rows) == 1
    assert json.loads(rows[0]["diagnoses"]) == [
        {"code": "I10", "label": "Tăng huyết áp vô căn (nguyên phát)"},
        {"code": "E11.9", "label": "Đái tháo đường không phụ thuộc insulin, không có biến chứng"},
    ]
    assert json.loads(rows[0]["findings"]) == {"internal_medicine": "Tim đều, phổi không ran"}
    assert rows[0]["health_class"] == "II"
    assert rows[0]["referral_place"] == "Bệnh viện đa khoa tỉnh, khoa Nội tiết"
    assert rows[0]["next_exam_date"] == (TODAY + dt.timedelta(days=30)).isoformat()
    assert rows[0]["staff_id"] == doctor_id
    assert rows[0]["supersedes"] is None
    assert actions(db, visit["id"])[-1] == "conclusion_saved"


def test_saved_conclusion_shows_on_page(db, doctor):
    visit = arrive(db, "worker")
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())

    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))

    assert "Đã lưu kết luận." in page
    assert '<input type="checkbox" name="diagnosis" value="E11.9" checked>' in page
    assert '<option value="II" selected>Loại II: Khỏe</option>' in page
    assert "Lưu bản sửa" in page
    assert "Bác sĩ Lan · bản đầu tiên" in page


def test_correction_needs_reason(db, doctor):
    visit = arrive(db, "worker")
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())
    first = saved(db, visit["id"])[0]

    response = post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(replaces=first["id"], health_class="III"))

    assert response.status_code == 400
    assert "Sửa kết luận đã lưu cần ghi lý do." in text_of(response)
    assert len(saved(db, visit["id"])) == 1


def test_correction_with_reason_replaces_version(db, doctor):
    visit = arrive(db, "worker")
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())
    first = saved(db, visit["id"])[0]

    response = post(doctor, f"/doctor/visit/{visit['id']}",
                    conclusion_form(replaces=first["id"], health_class="III", reason="Thêm kết quả xét nghiệm"))

    rows = saved(db, visit["id"])
    assert response.status_code == 302
    assert len(rows) == 2
    assert rows[1]["supersedes"] == first["id"]
    assert rows[1]["reason"] == "Thêm kết quả xét nghiệm"
    assert rows[1]["health_class"] == "III"
    assert conclusions.current(db, visit["id"])["id"] == rows[1]["id"]
    assert actions(db, visit["id"])[-1] == "conclusion_corrected"
    page = text_of(doctor.get(f"/doctor/visit/{visit['id']}"))
    assert "lý do sửa: Thêm kết quả xét nghiệm" in page


def test_stale_correction_rejected(db, doctor):
    visit = arrive(db, "worker")
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())
    first = saved(db, visit["id"])[0]
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(replaces=first["id"], reason="Bổ sung"))

    response = post(doctor, f"/doctor/visit/{visit['id']}",
                    conclusion_form(replaces=first["id"], reason="Sửa từ bản cũ", health_class="IV"))

    assert response.status_code == 409
    assert "Kết luận vừa được người khác sửa." in text_of(response)
    assert [row["health_class"] for row in saved(db, visit["id"])] == ["II", "II"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"diagnosis_codes": "Z99.99"}, "Không có mã ICD-10 &#39;Z99.99&#39; trong danh mục."),
    ({"diagnosis_codes": "tăng huyết áp"}, "Không có mã ICD-10 &#39;tăng&#39; trong danh mục."),
    ({"referral_reason": ""}, "Chuyển khám cần ghi cả nơi chuyển đến và lý do chuyển."),
    ({"next_exam_date": TODAY.isoformat()}, f"Ngày khám lại &#39;{TODAY.isoformat()}&#39; không hợp lệ."),
    ({"next_exam_date": "2099-01-01"}, "Ngày khám lại &#39;2099-01-01&#39; không hợp lệ."),
    ({"next_exam_date": "31/02/2027"}, "Ngày khám lại &#39;31/02/2027&#39; không hợp lệ."),
    ({"summary": "x" * 4001}, "Ô Kết luận quá dài: tối đa 4000 ký tự."),
])
def test_invalid_conclusion_rejected(db, doctor, changes, message):
    visit = arrive(db, "worker")

    response = post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(**changes))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert saved(db, visit["id"]) == []


def test_next_exam_accepts_day_month_year(db, doctor):
    visit = arrive(db, "worker")
    later = TODAY + dt.timedelta(days=60)

    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(next_exam_date=f"{later:%d/%m/%Y}"))

    assert saved(db, visit["id"])[0]["next_exam_date"] == later.isoformat()


def test_unknown_health_class_rejected(db, doctor):
    visit = arrive(db, "worker")

    response = post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(health_class="VI"))

    assert response.status_code == 400
    assert saved(db, visit["id"]) == []


def test_save_without_csrf_rejected(db, doctor):
    visit = arrive(db, "worker")

    response = doctor.post(f"/doctor/visit/{visit['id']}", data=MultiDict(conclusion_form()))

    assert response.status_code == 400
    assert saved(db, visit["id"]) == []


def test_template_button_inserts_text_without_saving(db, doctor):
    visit = arrive(db, "worker")
    doctor.get(f"/doctor/visit/{visit['id']}")
    template_id, body = db.execute("SELECT id, body FROM advice_template WHERE title LIKE 'Tăng huyết áp%'").fetchone()

    response = post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(insert_template=template_id))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Ăn nhạt, tái khám\n{body}</textarea>" in page
    assert saved(db, visit["id"]) == []


# Finishing the doctor's task.


def test_finish_marks_task_done(db, doctor):
    visit = arrive(db, "worker")
    task_id = bring_to_doctor(db, visit)
    post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form())

    response = post(doctor, f"/doctor/visit/{visit['id']}/finish", {})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/doctor/visit/{visit['id']}")
    assert db.execute("SELECT status FROM task WHERE id = ?", [task_id]).fetchone()[0] == "done"
    assert actions(db, visit["id"])[-1] == "doctor_finished"


@pytest.mark.parametrize(("health_class", "called", "message"), [
    (None, True, "Chưa lưu kết luận nên chưa hoàn tất khám được."),
    ("", True, "Người lao động cần được phân loại sức khỏe trước khi hoàn tất khám."),
    ("II", False, "chưa được gọi vào bàn bác sĩ."),
])
def test_finish_rejected_until_ready(db, doctor, health_class, called, message):
    visit = arrive(db, "worker")
    task_id = bring_to_doctor(db, visit) if called else None
    if health_class is not None:
        post(doctor, f"/doctor/visit/{visit['id']}", conclusion_form(health_class=health_class))

    response = post(doctor, f"/doctor/visit/{visit['id']}/finish", {}, follow_redirects=True)

    assert message in text_of(response)
    if task_id:
        assert db.execute("SELECT status FROM task WHERE id = ?", [task_id]).fetchone()[0] == "called"
    else:
        statuses = {row[0] for row in db.execute("""SELECT task.status FROM task JOIN station_type
                                                    ON station_type.id = task.station_type_id
                                                    WHERE task.visit_id = ? AND station_type.code = 'doctor'""",
                                                 [visit["id"]]).fetchall()}
        assert statuses == {"waiting"}


def test_doctor_desk_links_to_page(db, doctor):
    visit = arrive(db, "worker")
    bring_to_doctor(db, visit)
    desk_id = db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                            WHERE station_type.code = 'doctor'""").fetchone()[0]

    page = text_of(doctor.get(f"/stations/desk/{desk_id}"))

    assert f'href="/doctor/visit/{visit["id"]}">Mở trang bác sĩ</a>' in page


# Today's list.


def test_list_shows_most_severe_first(db, doctor):
    calm = arrive(db, "worker")
    record(db, calm, {"bp_systolic": [150], "bp_diastolic": [95]})
    urgent = arrive(db, "worker")
    record(db, urgent, {"bp_systolic": [185], "bp_diastolic": [125]})

    page = text_of(doctor.get("/doctor/"))

    linked = re.findall(r'href="/doctor/visit/([^"]+)"', page)
    assert linked.index(urgent["id"]) < linked.index(calm["id"])
    assert "1 cấp cứu" in page
    assert "1 bất thường" in page
    assert actions(db)[-1] == "doctor_list_viewed"


def test_list_counts_correction_after_last_view(db, doctor):
    visit = arrive(db, "worker")
    record(db, visit, {"bp_systolic": [150], "bp_diastolic": [95]})
    before = text_of(doctor.get("/doctor/"))
    with write(db):
        for item, value in (("bp_systolic", 185), ("bp_diastolic", 125)):
            first = observations.current_row(db, visit["id"], item, 1)
            observations.correct(db, first["id"], value, reason="Đo lại")

    after = text_of(doctor.get("/doctor/"))

    assert "1 bất thường" in before
    assert "1 cấp cứu" not in before
    assert "1 cấp cứu" in after


def test_list_shows_last_concluded_first(db, doctor, monkeypatch):
    monkeypatch.setattr(doctor_views, "DONE_SHOWN", 2)
    finished = []
    for minute in range(3):
        visit = arrive(db, "worker")
        queueing.done(db, bring_to_doctor(db, visit), at=dt.datetime(2026, 1, 1, 8, minute, tzinfo=dt.UTC))
        finished.append(visit["id"])

    page = text_of(doctor.get("/doctor/"))
    every = text_of(doctor.get("/doctor/?done=all"))

    assert re.findall(r'href="/doctor/visit/([^"]+)"', page) == [finished[2], finished[1]]
    assert "Đã kết luận xong (3)" in page
    assert "2 lượt kết luận gần nhất, mới nhất ở trên cùng." in page
    assert 'href="/doctor/?done=all#done">Xem cả 3 người</a>' in page
    assert 'id="done"' in page
    assert re.findall(r'href="/doctor/visit/([^"]+)"', every) == finished[::-1]
    assert "Xem cả" not in every
    assert "Cả 3 lượt kết luận, mới nhất ở trên cùng." in every
    assert 'href="/doctor/#done">Chỉ xem 2 lượt gần nhất</a>' in every


def test_list_few_done_no_switch(db, doctor):
    visit = arrive(db, "worker")
    queueing.done(db, bring_to_doctor(db, visit))

    page = text_of(doctor.get("/doctor/"))
    every = text_of(doctor.get("/doctor/?done=all"))

    assert "Đã kết luận xong (1)" in page
    assert "Xem cả" not in page
    assert "Chỉ xem" not in every


def test_list_empty_day_message(doctor):
    page = text_of(doctor.get("/doctor/"))

    assert "Hôm nay chưa có ai cần bác sĩ kết luận." in page


# Advice templates.


def test_templates_seeded_on_first_use(db, doctor):
    response = doctor.get("/doctor/advice-templates")

    titles = [row[0] for row in db.execute("SELECT title FROM advice_template ORDER BY title").fetchall()]
    assert response.status_code == 200
    assert len(titles) == 6
    assert "Tăng huyết áp: ăn nhạt, giảm muối" in titles
    assert "Vệ sinh răng miệng" in titles


def test_template_add_edit_hide(db, doctor):
    doctor.get("/doctor/advice-templates")

    added = post(doctor, "/doctor/advice-templates", {"title": "Bỏ thuốc lá", "body": "Bỏ thuốc lá hoàn toàn."})
    template_id = db.execute("SELECT id FROM advice_template WHERE title = 'Bỏ thuốc lá'").fetchone()[0]
    edited = post(doctor, f"/doctor/advice-templates/{template_id}",
                  {"title": "Bỏ thuốc lá, thuốc lào", "body": "Bỏ hẳn thuốc lá và thuốc lào."})
    hidden = post(doctor, f"/doctor/advice-templates/{template_id}/active", {"active": "0"})

    assert (added.status_code, edited.status_code, hidden.status_code) == (302, 302, 302)
    row = db.execute("SELECT title, body, active FROM advice_template WHERE id = ?", [template_id]).fetchone()
    assert row == ("Bỏ thuốc lá, thuốc lào", "Bỏ hẳn thuốc lá và thuốc lào.", 0)
    assert actions(db, template_id) == ["advice_template_added", "advice_template_updated", "advice_template_hidden"]


def test_hidden_template_left_off_visit_page(db, doctor):
    visit = arrive(db, "worker")
    doctor.get("/doctor/advice-templates")
    template_id = db.execute("SELECT id FROM advice_template WHERE title = 'Vệ sinh răng miệng'").fetchone()[0]

    post(doctor, f"/doctor/advice-templates/{template_id}/active", {"active": "0"})
    hidden_page = doctor.get(f"/doctor/visit/{visit['id']}").get_data(as_text=True)
    post(doctor, f"/doctor/advice-templates/{template_id}/active", {"active": "1"})
    shown_page = doctor.get(f"/doctor/visit/{visit['id']}").get_data(as_text=True)

    assert f'value="{template_id}"' not in hidden_page
    assert f'value="{template_id}"' in shown_page


@pytest.mark.parametrize(("title", "body", "message"), [
    ("", "Nội dung", "Mẫu lời khuyên cần có tên và nội dung."),
    ("Tên", "   ", "Mẫu lời khuyên cần có tên và nội dung."),
    ("Vệ sinh răng miệng", "Trùng tên", "Đã có mẫu lời khuyên tên &#39;Vệ sinh răng miệng&#39;."),
    ("x" * 101, "Nội dung", "Mẫu lời khuyên quá dài"),
])
def test_template_invalid_rejected(db, doctor, title, body, message):
    doctor.get("/doctor/advice-templates")

    response = post(doctor, "/doctor/advice-templates", {"title": title, "body": body})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM advice_template").fetchone()[0] == 6


def test_template_edit_unknown_not_found(doctor):
    response = doctor.get("/doctor/advice-templates/01a24000-0000-7000-8000-000000000000")

    assert response.status_code == 404


# Roles.


@pytest.mark.parametrize(("username", "pin", "status"), [
    ("nurse", "1357", 403),
    ("reception", "1111", 403),
    ("coord", "3333", 403),
    ("doc", "4444", 200),
    ("officer", "2468", 200),
])
def test_doctor_pages_by_role(db, app, everyone, username, pin, status):
    visit = arrive(db, "worker")
    client = signed_in(app, username, pin)

    responses = [client.get(url) for url in ("/doctor/", f"/doctor/visit/{visit['id']}", "/doctor/advice-templates",
                                               "/doctor/icd10?q=I10")]

    assert [response.status_code for response in responses] == [status] * 4


def test_forbidden_role_leaves_no_audit(db, app, everyone):
    visit = arrive(db, "worker")
    client = signed_in(app, "nurse", "1357")

    client.get(f"/doctor/visit/{visit['id']}")

    assert "doctor_visit_viewed" not in actions(db)


# Suggestions from results.


def result(item: str, class_code: str | None = None, value=1.0, flag: str = "abnormal") -> Result:
    return Result(item=item, reading=0, value=value, unit=None, derived=False, flag=flag if class_code else None,
                  class_code=class_code, class_label=f"nhãn {class_code}" if class_code else None)


@pytest.mark.parametrize(("found", "codes", "days"), [
    ([], [], 365),
    ([result("bp_systolic_mean", "bp_high_normal", flag="unusual")], [], 365),
    ([result("bp_systolic_mean", "hypertension_grade_1")], ["I10", "R03.0"], 60),
    ([result("bp_systolic_mean", "isolated_systolic_hypertension")], ["I10", "R03.0"], 60),
    ([result("bp_systolic_mean", "hypertension_grade_2")], ["I10", "R03.0"], 30),
    ([result("bp_systolic", "hypertension_grade_1"), result("bp_diastolic", "hypertension_grade_3", flag="red")],
     ["I10", "R03.0"], 7),
    ([result("glucose_fasting_mmol", "diabetes_suspected")], ["R73.9", "E11"], 30),
    ([result("hba1c_percent", "prediabetes")], ["R73.0"], 365),
    ([result("bmi", "obesity_grade_2")], ["E66.9"], 365),
    ([result("bmi", "underweight")], ["E46"], 365),
    ([result("bmi", "overweight")], [], 365),
    ([result("weight_for_height_z", "wasting_grade_1")], ["E44.0"], 30),
    ([result("weight_for_age_z", "underweight_grade_3")], ["E43"], 30),
    ([result("height_for_age_z", "stunting_grade_2")], ["E45"], 30),
    ([result("bmi_for_age_z", "thinness")], ["E44.0"], 30),
    ([result("bmi_for_age_z", "obesity")], ["E66.9"], 365),
    ([result("temperature_c", "fever")], ["R50.9"], 365),
    ([result("spine", value="scoliosis")], ["M41.9"], 365),
    ([result("dental", value="caries,gingivitis")], ["K02.9", "K05.1"], 365),
    ([result("dental", value='["missing_teeth", "normal"]')], ["K08.1"], 365),
])
def test_suggestions_from_results(found, codes, days):
    day = dt.date(2026, 3, 2)

    diagnoses = suggestions.diagnoses(found, icd10.load())
    next_exam = suggestions.next_exam(found, day)

    assert [diagnosis.code for diagnosis in diagnoses] == codes
    assert next_exam.days == days
    assert next_exam.date == day + dt.timedelta(days=days)


def test_suggestions_leave_out_chosen_codes():
    found = [result("bp_systolic_mean", "hypertension_grade_2")]

    diagnoses = suggestions.diagnoses(found, icd10.load(), chosen={"I10"})

    assert [diagnosis.code for diagnosis in diagnoses] == ["R03.0"]


def test_suggestion_names_its_reason():
    diagnoses = suggestions.diagnoses([result("spine", value="scoliosis")], icd10.load())

    assert (diagnoses[0].title, diagnoses[0].because) == ("Vẹo cột sống, không xác định", "Vẹo cột sống")
