"""Station entry forms through the Flask client on the sample ward: checks, confirmations, fixes, corrections, triage."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import PERSONAS, csrf_token, import_station_ward, site_app

from fieldapp import clinical, queueing
from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.entry_form import BP_THIRD_READING_GAP, needs_third_reading
from fieldapp.rounds import sites
from fieldapp.visits import Consent, Desk, check_in

TODAY = dt.date.today()
ACCOUNTS = {**PERSONAS, "coord": ("coordinator", "3333"), "doc": ("doctor", "4444")}


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory) -> Path:
    """The sample ward with a round today at one station, everyone invited."""
    path = tmp_path_factory.mktemp("entry") / DATABASE_NAME
    db = connect(path)
    import_station_ward(db)
    db.conn.close()
    return path


@pytest.fixture
def app(data_dir: Path, ward_file: Path):
    return site_app(data_dir, ward_file, ACCOUNTS)


def desk_of(db) -> Desk:
    round_id = db.execute("SELECT id FROM exam_round").fetchone()[0]
    return Desk(round_id, sites(db, round_id)[0]["id"], TODAY.isoformat())


def arrive(db, where: str = "birth_date BETWEEN '1960' AND '1990' AND class_name IS NULL") -> dict:
    """Check in the first person matching a condition of the person table and return the visit.

    People of group 1 (revolutionary merit) are left out, so the visit has normal priority, and
    workers (group 4) too, so an adult has the adult plan with two blood pressure readings.
    """
    person_id = db.execute(f"SELECT id FROM person WHERE {where} AND coalesce(groups, '') NOT LIKE '%1%' "
                           "AND coalesce(groups, '') NOT LIKE '%4%' "
                           "ORDER BY sort_key LIMIT 1").fetchone()[0]
    visit, _ = check_in(db, desk_of(db), get_person(db, person_id), Consent(by="guardian", guardian_name="Mẹ",
                                                                          child_assent=True))
    return visit


@pytest.fixture
def visit(db) -> dict:
    """An adult of normal priority, checked in and waiting for the measuring station."""
    return arrive(db)


def signed_in(app, persona: str):
    client = app.test_client()
    _, pin = ACCOUNTS[persona]
    response = client.post("/login", data={"username": persona, "pin": pin, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    client.csrf = csrf_token(client, "/roster/")
    return client


@pytest.fixture
def nurse(app):
    return signed_in(app, "nurse")


def page_url(visit: dict, station: str) -> str:
    return f"/entry/visit/{visit['id']}/{station}"


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def values(db, visit: dict, item: str) -> list[tuple]:
    """Return every version of an item at a visit: (reading, value, confirmed, superseded id, reason)."""
    return db.execute("SELECT reading, coalesce(value_num, value_text), confirmed, supersedes, reason FROM observation "
                      "WHERE visit_id = ? AND item = ? ORDER BY reading, recorded_at, id", [visit["id"], item]).fetchall()


def input_names(response) -> list[str]:
    return re.findall(r'<input class="value" type="text" name="([^"]+)"', response.get_data(as_text=True))


# The form.

@pytest.mark.parametrize(("station", "expected"), [
    ("blood_pressure", ["bp_systolic.1", "bp_diastolic.1", "bp_systolic.2", "bp_diastolic.2", "bp_systolic.3",
                        "bp_diastolic.3", "pulse.1"]),
    ("measure", ["height_cm.1", "weight_kg.1", "waist_cm.1"]),
    ("glucose", ["glucose"]),
    ("vision", ["vision_right.1", "vision_left.1", "vision_right_glasses.1", "vision_left_glasses.1"]),
])
def test_form_lists_station_items(nurse, visit, station, expected):
    response = nurse.get(page_url(visit, station))

    assert response.status_code == 200
    assert input_names(response) == expected


def test_form_shows_person_and_age(nurse, visit, db):
    person = db.execute("SELECT full_name FROM person WHERE id = ?", [visit["person_id"]]).fetchone()[0]

    page = text_of(nurse.get(page_url(visit, "blood_pressure")))

    assert person in page
    assert re.search(r"\d+ tuổi", page)


def test_child_under_five_shows_months_and_length(nurse, db):
    with write(db):
        db.execute("UPDATE person SET birth_date = ? WHERE id = (SELECT id FROM person WHERE birth_date > '2020' "
                   "ORDER BY sort_key LIMIT 1)", [(TODAY - dt.timedelta(days=200)).isoformat()])
    baby = arrive(db, f"birth_date = '{(TODAY - dt.timedelta(days=200)).isoformat()}'")

    response = nurse.get(page_url(baby, "measure"))

    assert "6 tháng tuổi" in text_of(response)
    assert input_names(response) == ["length_cm.1", "weight_kg.1"]


def test_child_measure_lists_zscores(nurse, db):
    born = (TODAY - dt.timedelta(days=200)).isoformat()
    with write(db):
        db.execute("UPDATE person SET birth_date = ?, sex = 'F' WHERE id = (SELECT id FROM person "
                   "WHERE birth_date > '2020' ORDER BY sort_key LIMIT 1)", [born])
    baby = arrive(db, f"birth_date = '{born}'")

    response = post(nurse, page_url(baby, "measure"), **{"length_cm.1": "66,0", "weight_kg.1": "7,3"})

    page = text_of(nurse.get(response.headers["Location"]))
    assert "Cân nặng theo tuổi (z-score WHO)" in page
    assert "Chiều cao theo tuổi (z-score WHO)" in page
    assert "Cân nặng theo chiều cao (z-score WHO)" in page


def test_station_outside_plan_is_empty(nurse, visit):
    page = text_of(nurse.get(page_url(visit, "dental")))

    assert "không có mục nào nhập ở bàn này" in page


def test_unknown_station_not_found(nurse, visit):
    assert nurse.get(page_url(visit, "doctor")).status_code == 404


# Saving.

def test_save_stores_readings_and_pulse(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "bp_systolic.1": "128", "bp_diastolic.1": "82", "bp_systolic.2": "124", "bp_diastolic.2": "80",
        "pulse.1": "72"})

    assert response.status_code == 303
    assert values(db, visit, "bp_systolic") == [(1, 128.0, 0, None, None), (2, 124.0, 0, None, None)]
    assert values(db, visit, "bp_diastolic") == [(1, 82.0, 0, None, None), (2, 80.0, 0, None, None)]
    assert values(db, visit, "pulse") == [(1, 72.0, 0, None, None)]
    page = text_of(nurse.get(response.headers["Location"]))
    assert '<output id="bp-mean">126/81</output>' in page
    assert "Đã lưu 5 kết quả." in page


def test_saved_values_leave_the_form(nurse, visit):
    post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "72"})

    response = nurse.get(page_url(visit, "blood_pressure"))

    assert "pulse.1" not in input_names(response)
    assert "bp_systolic.1" in input_names(response)


def test_blood_pressure_typed_in_one_field(nurse, visit, db):
    post(nurse, page_url(visit, "blood_pressure"), **{"bp_systolic.1": "130/85"})

    assert values(db, visit, "bp_systolic") == [(1, 130.0, 0, None, None)]
    assert values(db, visit, "bp_diastolic") == [(1, 85.0, 0, None, None)]


def test_decimal_comma_accepted(nurse, visit, db):
    post(nurse, page_url(visit, "measure"), **{"height_cm.1": "165,5", "weight_kg.1": "60.2"})

    assert values(db, visit, "height_cm") == [(1, 165.5, 0, None, None)]
    assert values(db, visit, "weight_kg") == [(1, 60.2, 0, None, None)]


def test_half_a_reading_not_stored(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure"), **{"bp_systolic.1": "128", "pulse.1": "72"})

    assert response.status_code == 422
    assert refusal("bp_diastolic", "") in text_of(response)
    assert values(db, visit, "bp_systolic") == []
    assert values(db, visit, "pulse") == [(1, 72.0, 0, None, None)]


@pytest.mark.parametrize(("station", "field", "item", "raw", "bounds"), [
    ("blood_pressure", "pulse.1", "pulse", "400", ("20 lần/phút", "250 lần/phút")),
    ("measure", "height_cm.1", "height_cm", "300", ("45", "250")),
    ("measure", "weight_kg.1", "weight_kg", "abc", ()),
    ("vision", "vision_right.1", "vision_right", "25", ("0/10", "20/10")),
])
def test_refused_value_not_stored(nurse, visit, db, station, field, item, raw, bounds):
    response = post(nurse, page_url(visit, station), **{field: raw})

    page = text_of(response)
    assert response.status_code == 422
    assert refusal(item, raw) in page
    for bound in bounds:
        assert bound in page
    assert f'value="{raw}"' in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 0


def refusal(item: str, raw: str) -> str:
    """Return the message fieldapp/clinical gives for a refused text, as the page shows it."""
    parsed = clinical.parse(item, raw)
    if parsed.error is not None:
        return str(parsed.error)
    verdict = clinical.check(item, parsed.value, clinical.Person(sex="M", age_days=40 * 365))
    assert verdict.level == "refuse"
    return str(verdict.message)


def test_unusual_value_needs_confirmation(nurse, visit, db):
    first = post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "165"})

    assert first.status_code == 200
    assert "khác thường" in text_of(first)
    assert 'name="confirm.pulse" value="165"' in first.get_data(as_text=True)
    assert values(db, visit, "pulse") == []

    second = post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "165", "confirm.pulse": "165"})

    assert second.status_code == 303
    assert values(db, visit, "pulse") == [(1, 165.0, 1, None, None)]


def test_confirmation_of_other_value_ignored(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "168", "confirm.pulse": "165"})

    assert response.status_code == 200
    assert values(db, visit, "pulse") == []


def test_abnormal_value_flagged_after_saving(nurse, visit):
    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "bp_systolic.1": "165", "bp_diastolic.1": "95", "bp_systolic.2": "162", "bp_diastolic.2": "102"})

    page = text_of(nurse.get(response.headers["Location"]))

    assert '<span class="band abnormal">Tăng huyết áp độ 2</span>' in page


# Unit slips.

@pytest.mark.parametrize(("station", "data", "label", "fixed"), [
    ("blood_pressure", {"bp_systolic.1": "12", "bp_diastolic.1": "8"}, "120/80?",
     {"bp_systolic.1": "120", "bp_diastolic.1": "80"}),
    ("measure", {"height_cm.1": "1,65"}, "165,0 cm?", {"height_cm.1": "165,0"}),
    ("measure", {"weight_kg.1": "65000"}, "65,0 kg?", {"weight_kg.1": "65,0"}),
    ("glucose", {"glucose": "110"}, "6,1 mmol/L?", {"glucose": "6,1"}),
])
def test_unit_slip_offers_fix(nurse, visit, db, station, data, label, fixed):
    response = post(nurse, page_url(visit, station), **data)

    page = response.get_data(as_text=True)
    fix = "&amp;".join(f"{name}={value}" for name, value in fixed.items())
    assert f'<button type="submit" name="fix" value="{fix}">{label}</button>' in page
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 0


def test_fix_button_stores_fixed_value(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "bp_systolic.1": "12", "bp_diastolic.1": "8", "fix": "bp_systolic.1=120&bp_diastolic.1=80"})

    assert response.status_code == 303
    assert values(db, visit, "bp_systolic") == [(1, 120.0, 0, None, None)]
    assert values(db, visit, "bp_diastolic") == [(1, 80.0, 0, None, None)]


def test_fix_cannot_set_other_fields(nurse, visit, db):
    post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "72", "fix": "csrf_token=x&edit=pulse"})

    assert values(db, visit, "pulse") == [(1, 72.0, 0, None, None)]


def test_temperature_in_fahrenheit_offers_celsius(nurse, visit, db):
    plan = json.loads(db.execute("SELECT items FROM station_plan WHERE kind = 'adult'").fetchone()[0])
    with write(db):
        db.execute("UPDATE station_plan SET items = ? WHERE kind = 'adult'", [json.dumps([*plan, "temperature"])])

    response = post(nurse, page_url(visit, "measure"), **{"temperature_c.1": "98,6"})

    assert '<button type="submit" name="fix" value="temperature_c.1=37,0">37,0 °C?</button>' in \
        response.get_data(as_text=True)


def test_baby_weight_in_grams_offers_kilograms(nurse, db):
    born = (TODAY - dt.timedelta(days=60)).isoformat()
    with write(db):
        db.execute("UPDATE person SET birth_date = ? WHERE id = (SELECT id FROM person WHERE birth_date > '2020' "
                   "ORDER BY sort_key LIMIT 1)", [born])
    baby = arrive(db, f"birth_date = '{born}'")

    response = post(nurse, page_url(baby, "measure"), **{"weight_kg.1": "3200"})

    assert '<button type="submit" name="fix" value="weight_kg.1=3,2">3,2 kg?</button>' in \
        response.get_data(as_text=True)


# Other kinds of rows.

def test_glucose_toggle_chooses_item(nurse, visit, db):
    post(nurse, page_url(visit, "glucose"), **{"glucose.item": "glucose_random_mmol", "glucose": "7,5"})

    assert values(db, visit, "glucose_random_mmol") == [(1, 7.5, 0, None, None)]
    assert values(db, visit, "glucose_fasting_mmol") == []


def test_glucose_fasting_by_default(nurse, visit):
    page = nurse.get(page_url(visit, "glucose")).get_data(as_text=True)

    assert re.search(r'value="glucose_fasting_mmol"\s+checked', page)


def test_vision_in_tenths(nurse, visit, db):
    post(nurse, page_url(visit, "vision"), **{"vision_right.1": "8/10", "vision_left.1": "10"})

    assert values(db, visit, "vision_right") == [(1, 8.0, 0, None, None)]
    assert values(db, visit, "vision_left") == [(1, 10.0, 0, None, None)]


def test_dental_choices_and_note(nurse, db):
    pupil = arrive(db, "class_name IS NOT NULL")

    nurse.post(page_url(pupil, "dental"), data={"csrf_token": nurse.csrf, "dental.1": ["caries", "gingivitis"],
                                                "finding_dental.1": "Sâu răng 36"})

    assert values(db, pupil, "dental") == [(1, "caries,gingivitis", 0, None, None)]
    assert values(db, pupil, "finding_dental") == [(1, "Sâu răng 36", 0, None, None)]


# Third reading.

@pytest.mark.parametrize(("first", "second", "needed"), [
    ((128, 82), (128 - BP_THIRD_READING_GAP, 82), False),
    ((128, 82), (128 - BP_THIRD_READING_GAP - 1, 82), True),
    ((128, 82), (128, 82 + BP_THIRD_READING_GAP + 1), True),
])
def test_third_reading_rule(first, second, needed):
    assert needs_third_reading(first, second) is needed


def test_third_reading_asked(nurse, visit):
    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "bp_systolic.1": "142", "bp_diastolic.1": "90", "bp_systolic.2": "126", "bp_diastolic.2": "84"})

    page = text_of(nurse.get(response.headers["Location"]))

    assert "đo lần thứ 3" in page
    assert "data-third-reading data-needed" in page


# Red flags.

def test_red_flag_triggers_triage(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "bp_systolic.1": "185", "bp_diastolic.1": "115", "bp_systolic.2": "182", "bp_diastolic.2": "112"})

    tasks = db.execute("SELECT priority, red_flags FROM task WHERE visit_id = ? AND status = 'waiting'",
                       [visit["id"]]).fetchall()
    assert tasks
    assert all(priority == "emergency" for priority, _ in tasks)
    assert all(json.loads(flags) == ["bp_crisis"] for _, flags in tasks)
    page = text_of(nurse.get(response.headers["Location"]))
    assert 'class="red-alert" role="alert"> CẤP CỨU: Huyết áp ≥ 180/120 mmHg <p>Đã báo người điều phối' in page
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'triage' AND subject = ?",
                      [visit["id"]]).fetchone()[0] == 1


def test_red_flag_keeps_triage_flags(nurse, visit, db):
    queueing.triage(db, visit["id"], ["chest_pain"])

    post(nurse, page_url(visit, "blood_pressure"), **{"bp_systolic.1": "190", "bp_diastolic.1": "100"})

    flags = db.execute("SELECT red_flags FROM task WHERE visit_id = ? AND status = 'waiting'",
                       [visit["id"]]).fetchone()[0]
    assert json.loads(flags) == ["chest_pain", "bp_crisis"]


RED_BLOOD_PRESSURE = {"bp_systolic.1": "185", "bp_diastolic.1": "115", "bp_systolic.2": "182", "bp_diastolic.2": "112"}


def remove_tasks(db, visit: dict) -> None:
    """Leave a visit checked in but in no line, as a crash between check-in and queueing does."""
    with write(db):
        db.execute("DELETE FROM task WHERE visit_id = ?", [visit["id"]])


def test_red_flag_queues_visit_without_tasks(nurse, visit, db):
    remove_tasks(db, visit)

    response = post(nurse, page_url(visit, "blood_pressure"), **RED_BLOOD_PRESSURE)

    tasks = db.execute("SELECT priority, red_flags FROM task WHERE visit_id = ?", [visit["id"]]).fetchall()
    assert response.status_code == 303
    assert [value for _, value, *_ in values(db, visit, "bp_systolic")] == [185.0, 182.0]
    assert tasks
    assert {priority for priority, _ in tasks} == {"emergency"}
    assert {flags for _, flags in tasks} == {'["bp_crisis"]'}


def failing_queue(*_args, **_kwargs):
    raise queueing.QueueError("no station type at site s1 serves plan item 'ecg'")


@pytest.mark.parametrize(("broken", "tasks_removed"), [
    ("triage_in_transaction", False),
    ("enqueue_in_transaction", True),
])
def test_red_flag_not_stored_without_emergency(nurse, visit, db, monkeypatch, broken, tasks_removed):
    if tasks_removed:
        remove_tasks(db, visit)
    monkeypatch.setattr(queueing, broken, failing_queue)

    response = post(nurse, page_url(visit, "blood_pressure"), **RED_BLOOD_PRESSURE)

    page = text_of(response)
    assert response.status_code == 500
    assert f"Chưa lưu kết quả của số {visit['queue_number']}: không chuyển được người này lên hàng cấp cứu." in page
    assert "đưa người này đến bác sĩ ngay" in page
    assert 'name="bp_systolic.1" value="185"' in page
    assert values(db, visit, "bp_systolic") == []
    assert values(db, visit, "bp_diastolic") == []
    assert {row[0] for row in db.execute("SELECT priority FROM task WHERE visit_id = ?", [visit["id"]])} == (
        set() if tasks_removed else {"normal"})
    assert db.execute("SELECT action FROM audit_event WHERE subject = ? AND action != 'observations_viewed'",
                      [visit["id"]]).fetchall() == []


def test_normal_values_no_triage(nurse, visit, db):
    post(nurse, page_url(visit, "blood_pressure"), **{"bp_systolic.1": "178", "bp_diastolic.1": "118"})

    priorities = {row[0] for row in db.execute("SELECT priority FROM task WHERE visit_id = ?", [visit["id"]])}
    assert priorities == {"normal"}


# Corrections and history.

def saved_pulse(nurse, visit, db, value: str = "72") -> str:
    post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": value})
    return db.execute("SELECT id FROM observation WHERE visit_id = ? AND item = 'pulse'", [visit["id"]]).fetchone()[0]


def test_edit_form_prefilled(nurse, visit, db):
    observation_id = saved_pulse(nurse, visit, db)

    page = nurse.get(page_url(visit, "blood_pressure") + "?edit=pulse").get_data(as_text=True)

    assert input_names_of(page) == ["pulse.1"]
    assert 'value="72"' in page
    assert f'name="replaces.pulse.1" value="{observation_id}"' in page
    assert 'name="reason" value="typo"' in page


def input_names_of(page: str) -> list[str]:
    return re.findall(r'<input class="value" type="text" name="([^"]+)"', page)


@pytest.mark.parametrize(("form", "reason"), [
    ({"reason": "typo"}, "Gõ nhầm"),
    ({"reason": "remeasured"}, "Đo lại"),
    ({"reason": "other", "reason_text": "  máy đo  lỗi "}, "máy đo lỗi"),
])
def test_correction_stores_new_version(nurse, visit, db, form, reason):
    first = saved_pulse(nurse, visit, db)

    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "edit": "pulse", "pulse.1": "76", "replaces.pulse.1": first, **form})

    assert response.status_code == 303
    assert values(db, visit, "pulse") == [(1, 72.0, 0, None, None), (1, 76.0, 0, first, reason)]
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'observations_corrected'").fetchone()[0] == 1


def test_correction_without_reason_refused(nurse, visit, db):
    first = saved_pulse(nurse, visit, db)

    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "edit": "pulse", "pulse.1": "76", "replaces.pulse.1": first, "reason": "other", "reason_text": " "})

    assert response.status_code == 200
    assert "Sửa kết quả Mạch cần ghi lý do." in text_of(response)
    assert len(values(db, visit, "pulse")) == 1


def test_correction_of_replaced_version_refused(nurse, visit, db):
    first = saved_pulse(nurse, visit, db)
    post(nurse, page_url(visit, "blood_pressure"), **{
        "edit": "pulse", "pulse.1": "76", "replaces.pulse.1": first, "reason": "typo"})

    response = post(nurse, page_url(visit, "blood_pressure"), **{
        "edit": "pulse", "pulse.1": "80", "replaces.pulse.1": first, "reason": "typo"})

    assert response.status_code == 422
    assert "Kết quả Mạch vừa được người khác sửa." in text_of(response)
    assert [row[1] for row in values(db, visit, "pulse")] == [72.0, 76.0]


def test_different_value_outside_edit_refused(nurse, visit, db):
    saved_pulse(nurse, visit, db)

    response = post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "90"})

    assert response.status_code == 422
    assert [row[1] for row in values(db, visit, "pulse")] == [72.0]


def test_same_value_again_stores_once(nurse, visit, db):
    saved_pulse(nurse, visit, db)

    response = post(nurse, page_url(visit, "blood_pressure"), **{"pulse.1": "72"})

    assert response.status_code == 303
    assert len(values(db, visit, "pulse")) == 1


def test_replayed_post_stores_once(nurse, visit, db):
    data = {"pulse.1": "72", "idempotency_key": "entry-replay-key-0001"}

    first = post(nurse, page_url(visit, "blood_pressure"), **data)
    second = post(nurse, page_url(visit, "blood_pressure"), **data)

    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(values(db, visit, "pulse")) == 1


def test_history_lists_versions(nurse, visit, db):
    first = saved_pulse(nurse, visit, db)
    post(nurse, page_url(visit, "blood_pressure"), **{
        "edit": "pulse", "pulse.1": "76", "replaces.pulse.1": first, "reason": "remeasured"})

    page = text_of(nurse.get(f"/entry/visit/{visit['id']}/history/pulse"))

    replaced, current = re.findall(r'<li class="(?:replaced|current)">(.*?)</li>', page)
    assert '<span class="value">72 lần/phút</span>' in replaced
    assert "Nurse" in replaced
    assert "Lần nhập đầu" in replaced
    assert '<span class="value">76 lần/phút</span>' in current
    assert "Lý do sửa: Đo lại" in current


def test_history_of_unknown_item_not_found(nurse, visit):
    assert nurse.get(f"/entry/visit/{visit['id']}/history/shoe_size").status_code == 404


# Live checks.

def test_live_check_returns_row_messages(nurse, visit, db):
    response = post(nurse, page_url(visit, "blood_pressure") + "/check", group="pulse", **{"pulse.1": "400"})

    assert response.status_code == 200
    assert "chỉ nhận từ 20 lần/phút đến 250 lần/phút" in text_of(response)
    assert "<html" not in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 0


def test_live_check_of_accepted_value_empty(nurse, visit):
    response = post(nurse, page_url(visit, "blood_pressure") + "/check", group="pulse", **{"pulse.1": "72"})

    assert response.get_data(as_text=True).strip() == ""


# Access, CSRF and audit.

@pytest.mark.parametrize(("persona", "status"), [("reception", 403), ("coord", 403), ("doc", 200), ("officer", 200),
                                                 ("nurse", 200)])
def test_roles(app, visit, persona, status):
    client = signed_in(app, persona)

    assert client.get(page_url(visit, "blood_pressure")).status_code == status
    assert post(client, page_url(visit, "blood_pressure"), **{"pulse.1": "72"}).status_code in (
        {403} if status == 403 else {303})


def test_reception_cannot_post(app, visit, db):
    reception = signed_in(app, "reception")

    response = post(reception, page_url(visit, "blood_pressure"), **{"pulse.1": "72"})

    assert response.status_code == 403
    assert values(db, visit, "pulse") == []


def test_csrf_required(nurse, visit, db):
    response = nurse.post(page_url(visit, "blood_pressure"), data={"pulse.1": "72"})

    assert response.status_code == 400
    assert values(db, visit, "pulse") == []


def test_views_and_changes_audited(nurse, visit, db):
    nurse.get(page_url(visit, "blood_pressure"))
    observation_id = saved_pulse(nurse, visit, db)

    actions = db.execute("SELECT action, subject, detail FROM audit_event WHERE subject = ? ORDER BY at, rowid",
                         [visit["id"]]).fetchall()

    assert ("observations_viewed", visit["id"], '{"station": "blood_pressure"}') in actions
    recorded = [json.loads(detail) for action, _, detail in actions if action == "observations_recorded"]
    assert recorded == [{"station": "blood_pressure", "observations": [observation_id]}]


# The desk.

def test_desk_links_to_entry_and_done(app, visit, db):
    nurse = signed_in(app, "nurse")
    desk_id = db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                            WHERE code = 'measure'""").fetchone()[0]
    queueing.call_next(db, desk_id)

    desk_page = nurse.get(f"/stations/desk/{desk_id}").get_data(as_text=True)
    entry_page = nurse.get(page_url(visit, "measure")).get_data(as_text=True)

    assert f'href="/entry/visit/{visit["id"]}/measure"' in desk_page
    assert f'action="/stations/desk/{desk_id}/task"' in entry_page
    assert 'name="action" value="done"' in entry_page
