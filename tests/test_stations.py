"""Station desks, the coordinator screen and triage on the sample ward, through the Flask client and real SQLite."""

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import PERSONAS, csrf_token, import_station_ward, sign_in, site_app

from fieldapp.checkin import get_person
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.rounds import sites
from fieldapp.visits import Consent, Desk, check_in, queue_unqueued, record_visit

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory) -> Path:
    """The sample ward with a round today at one station, everyone invited."""
    path = tmp_path_factory.mktemp("stations") / DATABASE_NAME
    db = connect(path)
    import_station_ward(db)
    db.conn.close()
    return path


@pytest.fixture
def app(data_dir: Path, ward_file: Path):
    return site_app(data_dir, ward_file, PERSONAS)


@pytest.fixture
def desk(db) -> Desk:
    round_id = db.execute("SELECT id FROM exam_round").fetchone()[0]
    return Desk(round_id, sites(db, round_id)[0]["id"], TODAY.isoformat())


def adults(db, count: int) -> list[dict]:
    """Return adults of normal priority: aged about 36 to 66 and in no merit group."""
    ids = db.execute("""SELECT id FROM person WHERE birth_date BETWEEN '1960' AND '1990' AND class_name IS NULL
                        AND coalesce(groups, '') NOT LIKE '%1%' ORDER BY sort_key LIMIT ?""", [count]).fetchall()
    return [get_person(db, row[0]) for row in ids]


def arrive(db, desk: Desk, count: int) -> list[tuple[dict, dict]]:
    """Check adults in one after another and return (person, visit) pairs in arrival order."""
    arrived = []
    for person in adults(db, count):
        visit, _ = check_in(db, desk, person, Consent())
        arrived.append((person, visit))
    return arrived


def desk_id(db, code: str = "measure") -> str:
    return db.execute("""SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id
                         WHERE code = ? ORDER BY number LIMIT 1""", [code]).fetchone()[0]


def signed_in(app, persona: str):
    client = app.test_client()
    sign_in(client, persona)
    client.csrf = csrf_token(client, "/stations/" if persona != "reception" else "/checkin/")
    return client


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data}, follow_redirects=True)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def waiting_section(response) -> str:
    return text_of(response).split('id="line"', 1)[1]


def serving_section(response) -> str:
    return text_of(response).split('id="line"', 1)[0]


def called_task(db, visit_id: str) -> str:
    return db.execute("SELECT id FROM task WHERE visit_id = ? AND status IN ('called', 'in_service')",
                      [visit_id]).fetchone()[0]


@pytest.fixture
def nurse(app):
    return signed_in(app, "nurse")


@pytest.fixture
def officer(app):
    return signed_in(app, "officer")


def test_check_in_creates_stations(db, desk):
    arrive(db, desk, 1)

    assert db.execute("SELECT count(*) FROM station_type").fetchone()[0] > 0


def test_check_in_puts_person_in_line(db, desk):
    (_, visit), = arrive(db, desk, 1)

    in_line = db.execute("SELECT count(*) FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    assert in_line == 1


def test_desk_lists_in_serving_order(db, desk, nurse):
    arrived = arrive(db, desk, 3)

    page = waiting_section(nurse.get(f"/stations/desk/{desk_id(db)}"))

    positions = [page.index(person["full_name"]) for person, _ in arrived]
    assert positions == sorted(positions)


def test_desk_fragment_for_htmx(db, desk, nurse):
    arrive(db, desk, 1)

    response = nurse.get(f"/stations/desk/{desk_id(db)}", headers={"HX-Request": "true"})

    assert response.get_data(as_text=True).lstrip().startswith('<section id="line"')


def test_desk_shows_wait_minutes(db, desk, nurse):
    arrive(db, desk, 1)

    page = waiting_section(nurse.get(f"/stations/desk/{desk_id(db)}"))

    assert "0 phút" in page


def test_call_next_shows_first_person(db, desk, nurse):
    (first, _), (second, _) = arrive(db, desk, 2)

    page = serving_section(post(nurse, f"/stations/desk/{desk_id(db)}/call"))

    assert first["full_name"] in page
    assert second["full_name"] not in page


def test_call_next_leaves_line(db, desk, nurse):
    (first, _), _ = arrive(db, desk, 2)

    page = waiting_section(post(nurse, f"/stations/desk/{desk_id(db)}/call"))

    assert first["full_name"] not in page


def test_call_with_empty_line(db, desk, nurse):
    arrive(db, desk, 1)
    post(nurse, f"/stations/desk/{desk_id(db)}/call")

    page = text_of(post(nurse, f"/stations/desk/{desk_id(db)}/call"))

    assert "Không còn ai chờ" in page


def test_done_shows_next_destination(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")

    page = text_of(post(nurse, f"/stations/desk/{measure}/task", task_id=called_task(db, visit["id"]), action="done"))

    assert re.search(r"Số 1: tiếp theo đến [^<]+, bàn \d+", page)


def test_last_done_says_finished(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    page = ""
    for _ in range(20):
        row = db.execute("""SELECT desk.id FROM task JOIN desk ON desk.station_type_id = task.station_type_id
                            WHERE task.visit_id = ? AND task.in_line = 1 AND task.status = 'waiting'""",
                         [visit["id"]]).fetchone()
        if row is None:
            break
        post(nurse, f"/stations/desk/{row[0]}/call")
        page = text_of(post(nurse, f"/stations/desk/{row[0]}/task", task_id=called_task(db, visit["id"]),
                            action="done"))

    assert "Đã khám xong" in page


def test_start_marks_in_service(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")
    task_id = called_task(db, visit["id"])

    post(nurse, f"/stations/desk/{measure}/task", task_id=task_id, action="start")

    assert db.execute("SELECT status FROM task WHERE id = ?", [task_id]).fetchone()[0] == "in_service"


def test_recall_counts_call(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")
    task_id = called_task(db, visit["id"])

    post(nurse, f"/stations/desk/{measure}/task", task_id=task_id, action="recall")

    assert db.execute("SELECT calls FROM task WHERE id = ?", [task_id]).fetchone()[0] == 2


def test_absent_three_times_no_show(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    task_id = db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    page = ""
    for _ in range(3):
        post(nurse, f"/stations/desk/{measure}/call")
        page = text_of(post(nurse, f"/stations/desk/{measure}/task", task_id=task_id, action="absent"))

    assert db.execute("SELECT status FROM task WHERE id = ?", [task_id]).fetchone()[0] == "no_show"
    assert "vắng mặt sau 3 lần gọi" in page


def test_absent_once_back_in_line(db, desk, nurse):
    (person, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")

    page = post(nurse, f"/stations/desk/{measure}/task", task_id=called_task(db, visit["id"]), action="absent")

    assert person["full_name"] in waiting_section(page)


def test_action_on_other_desk_rejected(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    post(nurse, f"/stations/desk/{desk_id(db)}/call")

    page = text_of(post(nurse, f"/stations/desk/{desk_id(db, 'doctor')}/task", task_id=called_task(db, visit["id"]),
                        action="done"))

    assert "không còn ở bàn này" in page


def test_send_to_other_station(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")
    doctor = db.execute("SELECT id FROM station_type WHERE code = 'doctor'").fetchone()[0]

    page = text_of(post(nurse, f"/stations/desk/{measure}/task", task_id=called_task(db, visit["id"]),
                        action="send", station_type_id=doctor))

    assert "tiếp theo đến Bác sĩ kết luận" in page


def test_close_desk(db, desk, officer):
    arrive(db, desk, 1)
    measure = desk_id(db)

    post(officer, f"/stations/coordinator/desk/{measure}", open="0")

    assert db.execute("SELECT open FROM desk WHERE id = ?", [measure]).fetchone()[0] == 0


def test_closed_desk_cannot_call(db, desk, officer, nurse):
    arrive(db, desk, 1)
    measure = desk_id(db)
    post(officer, f"/stations/coordinator/desk/{measure}", open="0")

    page = text_of(post(nurse, f"/stations/desk/{measure}/call"))

    assert "đang đóng nên không gọi được" in page


def test_desk_closed_while_screen_open(db, desk, officer, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    number = db.execute("SELECT number FROM desk WHERE id = ?", [measure]).fetchone()[0]
    assert "Gọi người tiếp theo" in text_of(nurse.get(f"/stations/desk/{measure}"))
    post(officer, f"/stations/coordinator/desk/{measure}", open="0")

    page = text_of(post(nurse, f"/stations/desk/{measure}/call"))

    assert f"Bàn {number} đang đóng nên không gọi được. Mở bàn ở màn hình điều phối, rồi gọi lại." in page
    task = db.execute("SELECT status, calls, desk_id FROM task WHERE visit_id = ? AND in_line = 1",
                      [visit["id"]]).fetchone()
    assert task == ("waiting", 0, None)
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'station_call'").fetchone()[0] == 0


def test_reopen_desk(db, desk, officer):
    arrive(db, desk, 1)
    measure = desk_id(db)
    post(officer, f"/stations/coordinator/desk/{measure}", open="0")

    post(officer, f"/stations/coordinator/desk/{measure}", open="1")

    assert db.execute("SELECT open FROM desk WHERE id = ?", [measure]).fetchone()[0] == 1


def test_coordinator_shows_figures(db, desk, officer):
    arrive(db, desk, 2)

    page = text_of(officer.get("/stations/coordinator"))

    assert "Chờ trung vị" in page
    assert "Xong trong 1 giờ qua" in page


def test_coordinator_shows_line_head(db, desk, officer):
    arrived = arrive(db, desk, 7)

    page = text_of(officer.get("/stations/coordinator"))

    measure = page.split('data-station="measure"', 1)[1].split("</section>", 1)[0]
    assert [person["full_name"] in measure for person, _ in arrived] == [True] * 5 + [False] * 2
    assert "Xem cả hàng (7 người)" in measure


def test_coordinator_opens_whole_line(db, desk, officer):
    arrived = arrive(db, desk, 7)
    measure_type = db.execute("SELECT id FROM station_type WHERE code = 'measure'").fetchone()[0]

    page = text_of(officer.get(f"/stations/coordinator?open={measure_type}"))

    measure = page.split('data-station="measure"', 1)[1].split("</section>", 1)[0]
    assert all(person["full_name"] in measure for person, _ in arrived)
    assert "Thu gọn" in measure
    assert f'hx-get="/stations/coordinator?open={measure_type}"' in page


def test_coordinator_moves_person(db, desk, officer):
    (_, visit), = arrive(db, desk, 1)
    task_id = db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    vision = db.execute("SELECT id FROM station_type WHERE code = 'vision'").fetchone()
    target = vision[0] if vision else db.execute("SELECT id FROM station_type WHERE code = 'doctor'").fetchone()[0]

    post(officer, f"/stations/coordinator/task/{task_id}/move", station_type_id=target)

    moved = db.execute("SELECT station_type_id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()
    assert moved[0] == target


def test_triage_puts_person_first(db, desk, nurse, officer):
    arrived = arrive(db, desk, 3)
    person, visit = arrived[2]

    post(officer, f"/stations/visit/{visit['id']}/triage", flag="chest_pain")

    first = waiting_section(nurse.get(f"/stations/desk/{desk_id(db)}"))
    assert first.index(person["full_name"]) < first.index(arrived[0][0]["full_name"])


def test_triage_on_coordinator_top(db, desk, officer):
    arrived = arrive(db, desk, 3)
    person, visit = arrived[2]

    page = text_of(post(officer, f"/stations/visit/{visit['id']}/triage", flag="dyspnoea"))

    emergencies = page.split('class="emergencies"', 1)[1].split("</section>", 1)[0]
    assert person["full_name"] in emergencies
    assert "Khó thở" in emergencies


def test_triage_brings_no_show_back(db, desk, nurse, officer):
    (person, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    task_id = db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    for _ in range(3):
        post(nurse, f"/stations/desk/{measure}/call")
        post(nurse, f"/stations/desk/{measure}/task", task_id=task_id, action="absent")

    page = text_of(post(officer, f"/stations/visit/{visit['id']}/triage", flag="bp_crisis"))

    emergencies = page.split('class="emergencies"', 1)[1].split("</section>", 1)[0]
    assert person["full_name"] in emergencies
    in_line = db.execute("SELECT id, status, priority FROM task WHERE visit_id = ? AND in_line = 1",
                         [visit["id"]]).fetchone()
    assert in_line == (task_id, "waiting", "emergency")
    assert db.execute("SELECT count(*) FROM task WHERE visit_id = ? AND status = 'no_show'",
                      [visit["id"]]).fetchone()[0] == 0


def test_triage_after_all_done(db, desk, nurse, officer):
    (_, visit), = arrive(db, desk, 1)
    db.execute("UPDATE task SET status = 'done', in_line = 0 WHERE visit_id = ?", [visit["id"]])
    db.conn.commit()

    response = post(officer, f"/stations/visit/{visit['id']}/triage", flag="chest_pain")

    assert response.status_code == 400
    assert "không còn ở hàng chờ nào" in text_of(response)


def test_triage_needs_flag(db, desk, officer):
    (_, visit), = arrive(db, desk, 1)

    response = post(officer, f"/stations/visit/{visit['id']}/triage")

    assert response.status_code == 400
    assert "Chưa chọn dấu hiệu nguy hiểm" in text_of(response)


def test_triage_other_with_note(db, desk, officer):
    (_, visit), = arrive(db, desk, 1)

    post(officer, f"/stations/visit/{visit['id']}/triage", flag="other", other="ngất")

    flags = db.execute("SELECT red_flags FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    assert "ngất" in flags


def test_reception_can_triage(app, db, desk):
    (_, visit), = arrive(db, desk, 1)
    reception = signed_in(app, "reception")

    post(reception, f"/stations/visit/{visit['id']}/triage", flag="confusion")

    priority = db.execute("SELECT priority FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    assert priority == "emergency"


def test_reception_refused_coordinator(app):
    reception = signed_in(app, "reception")

    assert reception.get("/stations/coordinator").status_code == 403


def test_reception_refused_desk(app, db, desk):
    arrive(db, desk, 1)
    reception = signed_in(app, "reception")

    assert reception.get(f"/stations/desk/{desk_id(db)}").status_code == 403


def test_nurse_refused_coordinator(nurse):
    assert nurse.get("/stations/coordinator").status_code == 403


def test_index_lists_desks(db, desk, nurse):
    arrive(db, desk, 1)

    page = text_of(nurse.get("/stations/"))

    assert "Bàn 1" in page
    assert "Cân đo" in page


def test_no_names_in_links(db, desk, officer):
    (person, _), = arrive(db, desk, 1)

    page = officer.get("/stations/coordinator").get_data(as_text=True)

    links = re.findall(r'(?:href|action|hx-get)="([^"]+)"', page)
    assert all(person["full_name"] not in link for link in links)


def test_send_back_to_done_station(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    measure = desk_id(db)
    post(nurse, f"/stations/desk/{measure}/call")
    post(nurse, f"/stations/desk/{measure}/task", task_id=called_task(db, visit["id"]), action="done")
    next_desk = db.execute("""SELECT desk.id FROM task JOIN desk ON desk.station_type_id = task.station_type_id
                              WHERE task.visit_id = ? AND task.in_line = 1""", [visit["id"]]).fetchone()[0]
    post(nurse, f"/stations/desk/{next_desk}/call")
    measure_type = db.execute("SELECT id FROM station_type WHERE code = 'measure'").fetchone()[0]

    page = text_of(post(nurse, f"/stations/desk/{next_desk}/task", task_id=called_task(db, visit["id"]),
                        action="send", station_type_id=measure_type))

    assert "người này đã xong ở đó" in page


# People who left after missed calls.


def leave(db, nurse, visit: dict) -> None:
    """Call the visit's person at the measuring desk three times without them coming."""
    measure = desk_id(db)
    task_id = db.execute("SELECT id FROM task WHERE visit_id = ? AND in_line = 1", [visit["id"]]).fetchone()[0]
    for _ in range(3):
        post(nurse, f"/stations/desk/{measure}/call")
        post(nurse, f"/stations/desk/{measure}/task", task_id=task_id, action="absent")


def absent_section(response) -> str:
    return text_of(response).split('id="absent"', 1)[1].split("</section>", 1)[0]


def test_no_show_listed_on_coordinator(db, desk, nurse, officer):
    (person, visit), = arrive(db, desk, 1)
    leave(db, nurse, visit)

    page = officer.get("/stations/coordinator")

    section = absent_section(page)
    assert "Vắng mặt, chưa khám xong (1)" in section
    assert person["full_name"] in section
    assert "Cân đo" in section
    assert f"/stations/coordinator/visit/{visit['id']}/back" in section
    assert "1 người vắng mặt, chưa khám xong" in text_of(page)


def test_coordinator_without_no_shows(db, desk, officer):
    arrive(db, desk, 1)

    page = text_of(officer.get("/stations/coordinator"))

    assert 'id="absent"' not in page
    assert "vắng mặt, chưa khám xong" not in page


def test_bring_back_from_coordinator(db, desk, nurse, officer):
    (person, visit), = arrive(db, desk, 1)
    leave(db, nurse, visit)

    page = post(officer, f"/stations/coordinator/visit/{visit['id']}/back")

    assert re.search(r"Số 1: tiếp theo đến Cân đo, bàn \d+", text_of(page))
    assert 'id="absent"' not in text_of(page)
    rows = db.execute("SELECT status, calls, in_line FROM task WHERE visit_id = ?", [visit["id"]]).fetchall()
    assert {status for status, _, _ in rows} == {"waiting"}
    assert {calls for _, calls, _ in rows} == {0}
    assert sum(in_line for _, _, in_line in rows) == 1
    assert person["full_name"] in waiting_section(nurse.get(f"/stations/desk/{desk_id(db)}"))
    audit = db.execute("SELECT subject FROM audit_event WHERE action = 'station_bring_back'").fetchall()
    assert audit == [(visit["id"],)]


def test_bring_back_twice_rejected(db, desk, nurse, officer):
    (_, visit), = arrive(db, desk, 1)
    leave(db, nurse, visit)
    post(officer, f"/stations/coordinator/visit/{visit['id']}/back")

    page = text_of(post(officer, f"/stations/coordinator/visit/{visit['id']}/back"))

    assert "Số 1 không cần đưa trở lại: người này đang ở hàng chờ hoặc đã khám xong." in page
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'station_bring_back'").fetchone()[0] == 1


def test_bring_back_unknown_visit(officer):
    response = officer.post("/stations/coordinator/visit/unknown/back", data={"csrf_token": officer.csrf})

    assert response.status_code == 404


def test_nurse_refused_bring_back(db, desk, nurse):
    (_, visit), = arrive(db, desk, 1)
    leave(db, nurse, visit)

    response = nurse.post(f"/stations/coordinator/visit/{visit['id']}/back", data={"csrf_token": nurse.csrf})

    assert response.status_code == 403
    assert db.execute("SELECT count(*) FROM task WHERE visit_id = ? AND status = 'no_show'",
                      [visit["id"]]).fetchone()[0] > 0


# A visit committed without its queue tasks (a crash between check-in and queueing) is queued at the next start.


def tasks_of(db, visit_id: str) -> list[tuple[str, int]]:
    return db.execute("SELECT status, in_line FROM task WHERE visit_id = ? ORDER BY ordinal, id", [visit_id]).fetchall()


def test_unqueued_visit_queued_once(db, desk):
    person = adults(db, 1)[0]
    with write(db):
        visit, created = record_visit(db, desk, person, Consent(), None, None, None)

    before = tasks_of(db, visit["id"])
    found = queue_unqueued(db, desk.day)
    after = tasks_of(db, visit["id"])
    again = queue_unqueued(db, desk.day)

    assert created
    assert before == []
    assert found == 1
    assert len(after) >= 2
    assert after.count(("waiting", 1)) == 1
    assert again == 0
    assert tasks_of(db, visit["id"]) == after
