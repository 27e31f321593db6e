"""Queues between stations on real SQLite files: order rules, routing, priority, calling and desks."""

import datetime as dt
import threading
from pathlib import Path

import pytest

from fieldapp.db import connect, new_id, write
from fieldapp.queueing import (
    Policy,
    QueueError,
    absent,
    add_desk,
    bring_back,
    call_next,
    create_default_stations,
    done,
    enqueue_visit,
    expected_wait_s,
    get_task,
    left_after_absence,
    next_destination,
    priority_class,
    recall,
    route,
    send_to,
    set_desk_open,
    start,
    triage,
)
from fieldapp.rounds import SiteSpec, create_round, sites

DAY = dt.date(2026, 12, 4)
T0 = dt.datetime(2026, 12, 4, 0, 30, tzinfo=dt.UTC)


def minutes(count: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=count)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A site file with one round, one site and the default stations with one desk each."""
    file = tmp_path / "site.db"
    db = connect(file)
    with write(db):
        round_id = create_round(db, "Đợt 1", DAY, 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 40)])
    create_default_stations(db, sites(db, round_id)[0]["id"])
    db.conn.close()
    return file


@pytest.fixture
def db(path: Path):
    database = connect(path)
    yield database
    database.conn.close()


def station(db, code: str) -> str:
    return db.execute("SELECT id FROM station_type WHERE code = ?", [code]).fetchone()[0]


def desk_of(db, code: str) -> str:
    return db.execute("SELECT desk.id FROM desk JOIN station_type ON station_type.id = desk.station_type_id "
                      "WHERE code = ? ORDER BY number LIMIT 1", [code]).fetchone()[0]


def add_visit(db, plan_kind: str = "adult") -> str:
    round_id, site_id = db.execute("SELECT round_id, id FROM site").fetchone()
    with write(db):
        number = db.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visit").fetchone()[0]
        visit_id = new_id()
        db["visit"].insert({"id": visit_id, "round_id": round_id, "site_id": site_id, "person_id": new_id(),
                            "day": DAY.isoformat(), "checked_in_at": T0.isoformat(), "queue_number": number,
                            "plan_kind": plan_kind})
    return visit_id


def queued(db, plan_kind: str = "adult", priority: str = "normal", at: dt.datetime = T0) -> str:
    visit_id = add_visit(db, plan_kind)
    enqueue_visit(db, visit_id, priority, at=at)
    return visit_id


def serve(db, code: str, at: dt.datetime = T0, seconds: float = 60):
    """Call, start and finish the next person at a station's first desk; return the next destination."""
    task = call_next(db, desk_of(db, code), at=at)
    start(db, task["id"], at=at)
    return done(db, task["id"], at=at + dt.timedelta(seconds=seconds))


def test_default_stations_cover_round_plans(db):
    codes = {row[0] for row in db.execute("SELECT code FROM station_type").fetchall()}

    assert codes == {"measure", "blood_pressure", "glucose", "vision", "dental", "ent", "exam", "doctor", "lab"}


def test_default_stations_one_desk_each(db):
    counts = db.execute("SELECT count(*) FROM desk GROUP BY station_type_id").fetchall()

    assert {count for (count,) in counts} == {1}


def test_call_next_concurrent_desks(path, db):
    for _ in range(100):
        queued(db, "under36m")
    desks = [desk_of(db, "measure")] + [add_desk(db, station(db, "measure")) for _ in range(9)]
    db.conn.commit()
    barrier = threading.Barrier(len(desks))
    called: list[str] = []
    errors: list[BaseException] = []

    def desk_worker(desk_id: str) -> None:
        connection = connect(path)
        try:
            barrier.wait()
            while (task := call_next(connection, desk_id)) is not None:
                called.append(task["id"])
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            connection.conn.close()

    threads = [threading.Thread(target=desk_worker, args=(desk_id,)) for desk_id in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(called) == 100
    assert len(set(called)) == 100
    assert db.execute("SELECT count(*) FROM task WHERE status = 'waiting' AND in_line = 1").fetchone()[0] == 0


def test_enqueue_measurement_first(db):
    visit_id = add_visit(db)

    destination = enqueue_visit(db, visit_id, at=T0)

    assert destination.code == "measure"


def test_enqueue_twice_same_tasks(db):
    visit_id = queued(db)

    again = enqueue_visit(db, visit_id, at=minutes(1))

    assert again.code == "measure"
    assert db.execute("SELECT count(*) FROM task WHERE visit_id = ?", [visit_id]).fetchone()[0] == 6


def test_one_line_at_a_time(db):
    visit_id = queued(db)

    in_line = db.execute("SELECT count(*) FROM task WHERE visit_id = ? AND in_line = 1", [visit_id]).fetchone()[0]

    assert in_line == 1


def test_doctor_last(db):
    visit_id = queued(db)
    seen = []

    destination = serve(db, "measure")
    while destination is not None:
        seen.append(destination.code)
        destination = serve(db, destination.code)

    assert seen[-1] == "doctor"
    assert sorted(seen[:-1]) == ["blood_pressure", "exam", "glucose", "vision"]
    assert next_destination(db, visit_id) is None


def test_routing_spreads_over_empty_stations(db):
    for _ in range(4):
        queued(db)

    codes = [serve(db, "measure").code for _ in range(4)]

    assert codes == ["blood_pressure", "glucose", "vision", "exam"]


def test_routing_shortest_expected_wait(db):
    for _ in range(5):
        queued(db)
    for _ in range(4):
        serve(db, "measure")

    destination = serve(db, "measure")

    # Every line has one person; vision's default mean service (90 s) is the shortest.
    assert destination.code == "vision"
    assert destination.expected_wait_s == 90


def test_routing_plan_order_policy(db):
    for _ in range(2):
        queued(db)
    serve(db, "measure")
    task = call_next(db, desk_of(db, "measure"), at=T0)

    destination = done(db, task["id"], at=minutes(1), policy=Policy(routing="plan_order"))

    assert destination.code == "blood_pressure"


def test_expected_wait_formula(db):
    for _ in range(3):
        queued(db, "under36m")
    add_desk(db, station(db, "measure"), mean_service_s=120)
    db.conn.commit()

    wait = expected_wait_s(db, station(db, "measure"))

    # 3 waiting × mean of 60 s and 120 s ÷ 2 open desks.
    assert wait == 135


def test_expected_wait_no_open_desk(db):
    set_desk_open(db, desk_of(db, "measure"), False)

    assert expected_wait_s(db, station(db, "measure")) is None


def test_closed_desk_cannot_call(db):
    queued(db)
    set_desk_open(db, desk_of(db, "measure"), False)

    with pytest.raises(QueueError, match="closed"):
        call_next(db, desk_of(db, "measure"))


def test_closed_desk_error_names_desk(db):
    queued(db)
    desk_id = desk_of(db, "measure")
    number = db.execute("SELECT number FROM desk WHERE id = ?", [desk_id]).fetchone()[0]
    set_desk_open(db, desk_id, False)

    with pytest.raises(QueueError) as raised:
        call_next(db, desk_id)

    assert raised.value.code == "station_desk_closed"
    assert raised.value.fields == {"value": number}


def test_closed_desk_calls_nobody(db):
    visit_id = queued(db)
    set_desk_open(db, desk_of(db, "measure"), False)

    with pytest.raises(QueueError):
        call_next(db, desk_of(db, "measure"))

    row = db.execute("SELECT status, calls, desk_id, in_line FROM task WHERE visit_id = ? AND in_line = 1",
                     [visit_id]).fetchone()
    assert row == ("waiting", 0, None, 1)


def test_priority_head_start(db):
    queued(db, priority="normal", at=T0)
    elder = queued(db, priority="priority", at=minutes(10))

    task = call_next(db, desk_of(db, "measure"), at=minutes(11))

    assert task["visit_id"] == elder


def test_long_wait_overtakes_priority(db):
    first = queued(db, priority="normal", at=T0)
    queued(db, priority="priority", at=minutes(125))

    task = call_next(db, desk_of(db, "measure"), at=minutes(126))

    assert task["visit_id"] == first


def test_head_start_configurable(db):
    queued(db, priority="normal", at=T0)
    elder = add_visit(db)
    enqueue_visit(db, elder, "priority", at=minutes(25), policy=Policy(priority_head_start_min=30))

    task = call_next(db, desk_of(db, "measure"), at=minutes(26))

    assert task["visit_id"] == elder


def test_emergency_first(db):
    queued(db, priority="priority", at=T0)
    queued(db, priority="normal", at=T0)
    urgent = queued(db, priority="emergency", at=minutes(120))

    task = call_next(db, desk_of(db, "measure"), at=minutes(121))

    assert task["visit_id"] == urgent


def test_triage_moves_to_front(db):
    queued(db, at=T0)
    collapsed = queued(db, at=minutes(30))

    changed = triage(db, collapsed, ["ngất"])
    task = call_next(db, desk_of(db, "measure"), at=minutes(31))

    assert changed == 6
    assert task["visit_id"] == collapsed


def test_triage_without_flags_changes_nothing(db):
    visit_id = queued(db)

    assert triage(db, visit_id, []) == 0


def test_class_kept_between_stations(db):
    queued(db, "under36m", at=T0)
    serve(db, "measure", at=T0)
    elder = queued(db, "under36m", priority="priority", at=minutes(1))
    serve(db, "measure", at=minutes(2))

    task = call_next(db, desk_of(db, "doctor"), at=minutes(4))

    assert task["visit_id"] == elder
    assert task["priority"] == "priority"


def test_absent_moves_back_with_penalty(db):
    late = queued(db, at=T0)
    second = queued(db, at=minutes(1))
    queued(db, at=minutes(10))
    desk_id = desk_of(db, "measure")
    absent(db, call_next(db, desk_id, at=minutes(11))["id"])

    calls = [call_next(db, desk_id, at=minutes(12))["visit_id"], call_next(db, desk_id, at=minutes(13))["visit_id"]]

    # The 5-minute penalty puts the absent person at T0 + 5 min: after T0 + 1 min, before T0 + 10 min.
    assert calls == [second, late]


def test_absent_third_call_no_show(db):
    queued(db)
    desk_id = desk_of(db, "measure")
    task = call_next(db, desk_id, at=T0)
    recall(db, task["id"], at=minutes(1))
    recall(db, task["id"], at=minutes(2))

    result = absent(db, task["id"])

    assert result["calls"] == 3
    assert result["status"] == "no_show"
    assert result["in_line"] == 0


def test_absent_three_times_no_show(db):
    queued(db)
    desk_id = desk_of(db, "measure")
    statuses = []

    for call in range(3):
        task = call_next(db, desk_id, at=minutes(call))
        statuses.append(absent(db, task["id"])["status"])

    assert statuses == ["waiting", "waiting", "no_show"]
    assert call_next(db, desk_id, at=minutes(5)) is None


def no_show(db, visit_id: str, code: str = "measure") -> str:
    """Call the visit's person three times at a station's first desk without them coming; return the task id."""
    for call in range(3):
        task = call_next(db, desk_of(db, code), at=minutes(call))
        assert task["visit_id"] == visit_id
        absent(db, task["id"])
    return task["id"]


def statuses(db, visit_id: str) -> dict[str, tuple]:
    """Return {station code: (status, in_line, calls)} for a visit's tasks."""
    rows = db.execute("""SELECT station_type.code, task.status, task.in_line, task.calls FROM task
                         JOIN station_type ON station_type.id = task.station_type_id WHERE visit_id = ?""",
                      [visit_id]).fetchall()
    return {code: (status, in_line, calls) for code, status, in_line, calls in rows}


def test_no_show_closes_remaining_tasks(db):
    visit_id = queued(db)

    no_show(db, visit_id)

    assert statuses(db, visit_id) == {
        "measure": ("no_show", 0, 3), "blood_pressure": ("no_show", 0, 0), "glucose": ("no_show", 0, 0),
        "vision": ("no_show", 0, 0), "exam": ("no_show", 0, 0), "doctor": ("no_show", 0, 0),
    }


def test_no_show_keeps_done_tasks(db):
    visit_id = queued(db, "under36m")
    serve(db, "measure")

    no_show(db, visit_id, "doctor")

    assert statuses(db, visit_id) == {"measure": ("done", 0, 1), "doctor": ("no_show", 0, 3)}


def test_no_show_in_no_line(db):
    visit_id = queued(db)

    no_show(db, visit_id)

    assert next_destination(db, visit_id) is None
    assert route(db, visit_id, at=minutes(10)) is None
    assert left_after_absence(db, visit_id) is True


def test_bring_back_reopens_missed_tasks(db):
    visit_id = queued(db)
    no_show(db, visit_id)

    destination = bring_back(db, visit_id, at=minutes(30))

    assert destination.code == "measure"
    assert statuses(db, visit_id) == {
        "measure": ("waiting", 1, 0), "blood_pressure": ("waiting", 0, 0), "glucose": ("waiting", 0, 0),
        "vision": ("waiting", 0, 0), "exam": ("waiting", 0, 0), "doctor": ("waiting", 0, 0),
    }
    task = get_task(db, destination.task_id)
    assert task["queue_key"] == minutes(30).timestamp()
    assert task["desk_id"] is None


def test_bring_back_keeps_done_tasks(db):
    visit_id = queued(db, "under36m")
    serve(db, "measure")
    no_show(db, visit_id, "doctor")

    destination = bring_back(db, visit_id, at=minutes(30))

    assert destination.code == "doctor"
    assert statuses(db, visit_id) == {"measure": ("done", 0, 1), "doctor": ("waiting", 1, 0)}


def test_bring_back_joins_end_of_line(db):
    visit_id = queued(db, at=T0)
    no_show(db, visit_id)
    waiting = queued(db, at=minutes(20))
    bring_back(db, visit_id, at=minutes(30))

    order = [call_next(db, desk_of(db, "measure"), at=minutes(31 + i))["visit_id"] for i in range(2)]

    assert order == [waiting, visit_id]


def test_bring_back_keeps_priority(db):
    visit_id = queued(db, priority="priority", at=T0)
    no_show(db, visit_id)

    destination = bring_back(db, visit_id, at=minutes(30))

    # Priority's head start is 120 minutes.
    assert get_task(db, destination.task_id)["queue_key"] == minutes(30 - 120).timestamp()
    assert get_task(db, destination.task_id)["priority"] == "priority"


def test_bring_back_gives_fresh_calls(db):
    visit_id = queued(db)
    no_show(db, visit_id)
    bring_back(db, visit_id, at=minutes(30))
    outcomes = []

    for call in range(3):
        task = call_next(db, desk_of(db, "measure"), at=minutes(31 + call))
        outcomes.append(absent(db, task["id"])["status"])

    assert outcomes == ["waiting", "waiting", "no_show"]


@pytest.mark.parametrize("setup", ["in_line", "finished", "no_tasks"])
def test_bring_back_rejected(db, setup):
    visit_id = add_visit(db, "under36m")
    if setup != "no_tasks":
        enqueue_visit(db, visit_id, at=T0)
    if setup == "finished":
        serve(db, "measure")
        serve(db, "doctor")
    number = db.execute("SELECT queue_number FROM visit WHERE id = ?", [visit_id]).fetchone()[0]

    with pytest.raises(QueueError) as raised:
        bring_back(db, visit_id, at=minutes(30))

    assert raised.value.code == "station_bring_back_invalid"
    assert raised.value.fields == {"value": number}


@pytest.mark.parametrize(("task_statuses", "left"), [
    (["no_show", "no_show"], True),
    (["done", "no_show"], True),
    (["skipped", "no_show"], True),
    (["no_show", "waiting"], False),
    (["no_show", "called"], False),
    (["done", "done"], False),
    ([], False),
])
def test_left_after_absence(db, task_statuses, left):
    visit_id = add_visit(db)
    with write(db):
        for status, code in zip(task_statuses, ("measure", "doctor")):
            db["task"].insert({"id": new_id(), "visit_id": visit_id, "station_type_id": station(db, code),
                               "status": status, "in_line": 0, "priority": "normal", "ordinal": 0, "calls": 0})

    assert left_after_absence(db, visit_id) is left


def test_done_returns_next_destination(db):
    queued(db, "under36m")

    destination = serve(db, "measure")

    assert destination.code == "doctor"
    assert get_task(db, destination.task_id)["in_line"] == 1


def test_done_last_returns_none(db):
    queued(db, "under36m")
    serve(db, "measure")

    assert serve(db, "doctor") is None


def test_done_twice_rejected(db):
    queued(db, "under36m")
    task = call_next(db, desk_of(db, "measure"), at=T0)
    done(db, task["id"], at=minutes(1))

    with pytest.raises(QueueError, match="is done") as raised:
        done(db, task["id"], at=minutes(2))

    assert raised.value.code == "station_task_changed"
    assert raised.value.fields == {"value": 1}


def test_running_mean_service_time(db):
    for _ in range(2):
        queued(db, "under36m")
    desk_id = desk_of(db, "measure")

    serve(db, "measure", seconds=30)
    first = db.execute("SELECT mean_service_s FROM desk WHERE id = ?", [desk_id]).fetchone()[0]
    serve(db, "measure", seconds=90)
    second = db.execute("SELECT mean_service_s FROM desk WHERE id = ?", [desk_id]).fetchone()[0]

    assert first == 30
    assert second == 60


def test_running_mean_window(db):
    for _ in range(3):
        queued(db, "under36m")
    policy = Policy(running_mean_window=2)
    desk_id = desk_of(db, "measure")

    for seconds in (30, 90, 150):
        task = call_next(db, desk_id, at=T0)
        done(db, task["id"], at=T0 + dt.timedelta(seconds=seconds), policy=policy)
    mean = db.execute("SELECT mean_service_s FROM desk WHERE id = ?", [desk_id]).fetchone()[0]

    # 30, then (30 + 90) / 2 = 60, then 60 + (150 - 60) / 2 = 105.
    assert mean == 105


def test_send_to_own_task(db):
    visit_id = queued(db)
    task = call_next(db, desk_of(db, "measure"), at=T0)

    destination = send_to(db, task["id"], station(db, "vision"), at=minutes(1))

    assert destination.code == "vision"
    assert get_task(db, task["id"])["status"] == "waiting"
    assert get_task(db, task["id"])["in_line"] == 0
    assert next_destination(db, visit_id).code == "vision"


def test_send_to_moves_task(db):
    visit_id = queued(db, "under36m")
    task = call_next(db, desk_of(db, "measure"), at=T0)

    destination = send_to(db, task["id"], station(db, "exam"), at=minutes(1))

    assert destination.task_id == task["id"]
    assert get_task(db, task["id"])["station_type_id"] == station(db, "exam")
    assert next_destination(db, visit_id).code == "exam"


@pytest.mark.parametrize(("age", "groups", "flags", "expected"), [
    (80, set(), set(), "priority"),
    (75, set(), set(), "priority"),
    (74, set(), set(), "normal"),
    (5, set(), set(), "priority"),
    (6, set(), set(), "normal"),
    (40, set(), {"pregnant"}, "priority"),
    (40, set(), {"disabled"}, "priority"),
    (40, {1}, set(), "priority"),
    (40, {3}, set(), "normal"),
    (None, set(), set(), "normal"),
    (40, set(), {"emergency"}, "emergency"),
])
def test_priority_class(age, groups, flags, expected):
    assert priority_class(age, groups, flags) == expected


def test_priority_class_elderly_age_configurable():
    assert priority_class(70, policy=Policy(elderly_age=70)) == "priority"


def test_send_to_done_station_rejected(db):
    visit_id = queued(db, "under36m")
    serve(db, "measure")
    task = call_next(db, desk_of(db, "doctor"), at=minutes(5))

    with pytest.raises(QueueError) as raised:
        send_to(db, task["id"], station(db, "measure"), at=minutes(6))

    assert raised.value.code == "station_move_invalid"
    assert raised.value.fields == {"value": 1, "field": "Cân đo"}
    assert statuses(db, visit_id) == {"measure": ("done", 0, 1), "doctor": ("called", 1, 1)}
