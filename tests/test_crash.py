"""Crash test: kill -9 the site server in the middle of an exam day, start it again, and check the database.

Ten devices play a day of adults (tests/day_load.py) against `fieldapp serve` over HTTPS. While a form
post is in flight the server is killed with SIGKILL and started again on the same data folder. The
devices' requests fail while it is down, and they send their posts again with the same idempotency
keys, as the phones' offline queue does. After the day stops, every write that the server acknowledged
must be in the database exactly once, and every queue must be intact.
"""

import math
import time
from collections import Counter

import pytest
from day_load import DayLoad, Write, build_ward
from live_server import SiteServer

from fieldapp import clinical, conclusions, observations, queueing
from fieldapp.db import DATABASE_NAME, connect

PEOPLE = 150
# Adults only, so 5 station phones cover every station of their plan and people reach the doctor.
SPLIT = {"reception": 2, "station": 5, "doctor": 1, "coordinator": 1, "display": 1}
RESIDENTS = 1200
SPEED = 50
# People arrive over this many seconds of the test, so check-ins go on after the restart.
ARRIVAL_SECONDS = 60
WRITES_BEFORE_KILL = 60
WRITES_AFTER_RESTART = 40
WAIT_SECONDS = 40
RETRY_SECONDS = 0.3
GIVE_UP_SECONDS = 10
# Requests that fail later than this after the restart are failures of the restarted server, unless
# they are 409s: a device sent a post again while its first attempt was still running.
RECOVERY_SECONDS = 10
OPEN = ("waiting", "called", "in_service")


def _wait_for(condition, seconds: float, what: str, load: DayLoad, server: SiteServer) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            writes = Counter(write.kind for write in load.journal.all())
            raise AssertionError(f"timed out after {seconds} s waiting for {what}; acknowledged {dict(writes)}; "
                                 f"errors {load.recorder.errors[-5:]}; server log:\n{server.output()[-2000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def crash(tmp_path_factory):
    """Run the day, kill the server mid-load and restart it; return the ward, load, kill and restart times."""
    folder = tmp_path_factory.mktemp("crash")
    ward = build_ward(folder, PEOPLE, SPLIT, seed=3, plan_kinds=("adult",), residents=RESIDENTS)
    server = SiteServer(ward.data_dir, folder / "server.log", https=True).start()
    load = DayLoad(ward, server.https_port, server.ca, speed=SPEED, seed=3, arrival_hours=ARRIVAL_SECONDS * SPEED / 3600,
                   retry_seconds=RETRY_SECONDS, give_up_seconds=GIVE_UP_SECONDS)
    try:
        load.sign_in()
        load.start()
        _wait_for(lambda: len(load.journal.all()) >= WRITES_BEFORE_KILL and _writes(load, "finish"), WAIT_SECONDS,
                  "writes and a finished visit before the kill", load, server)
        _wait_for(lambda: load.recorder.posts_in_flight > 0, WAIT_SECONDS, "a form post in flight", load, server)
        server.kill()
        killed = time.monotonic()
        server.start()
        restarted = time.monotonic()
        _wait_for(lambda: _after(load, restarted) >= WRITES_AFTER_RESTART and _after(load, restarted, "finish")
                  and _after(load, restarted, "check_in"),
                  WAIT_SECONDS, "writes, a check-in and a finished visit after the restart", load, server)
    finally:
        load.stop()
        server.stop()
    db = connect(ward.data_dir / DATABASE_NAME)
    yield ward, load, killed, restarted, db
    db.conn.close()


def _writes(load: DayLoad, kind: str) -> list[Write]:
    return [write for write in load.journal.all() if write.kind == kind]


def _after(load: DayLoad, moment: float, kind: str | None = None) -> int:
    return sum(write.at > moment and kind in (None, write.kind) for write in load.journal.all())


def _rows(db, sql: str, params: list | None = None) -> list[tuple]:
    return db.execute(sql, params or []).fetchall()


def test_kill_came_mid_load(crash):
    _ward, load, killed, restarted, _db = crash
    writes = load.journal.all()

    assert sum(write.at < killed for write in writes) >= WRITES_BEFORE_KILL
    assert sum(write.at > restarted for write in writes) >= WRITES_AFTER_RESTART
    every_kind = {"check_in", "call", "observations", "done", "conclusion", "finish"}
    assert every_kind <= {write.kind for write in writes if write.at < killed}
    assert every_kind <= {write.kind for write in writes if write.at > restarted}
    assert any(sample.status == 0 and killed <= sample.at for sample in load.recorder.samples)


def test_restarted_server_answers(crash):
    _ward, load, _killed, restarted, _db = crash

    late = [sample for sample in load.recorder.samples
            if not sample.ok and sample.at > restarted + RECOVERY_SECONDS and sample.status != 409]

    assert late == []


def test_check_ins_kept_once(crash):
    ward, load, _killed, _restarted, db = crash
    check_ins = _writes(load, "check_in")

    assert check_ins
    for write in check_ins:
        visits = _rows(db, "SELECT id FROM visit WHERE person_id = ? AND day = ?", [write.detail["person_id"], ward.day])
        assert len(visits) == 1, write
        if write.visit_id is not None:
            assert visits[0][0] == write.visit_id
    assert _rows(db, "SELECT person_id FROM visit GROUP BY person_id, day HAVING count(*) > 1") == []
    assert _rows(db, "SELECT queue_number FROM visit GROUP BY site_id, day, queue_number HAVING count(*) > 1") == []


def test_observations_kept_once(crash):
    _ward, load, _killed, _restarted, db = crash
    saves = _writes(load, "observations")

    assert saves
    for write in saves:
        current = {(row["item"], row["reading"]): row for row in observations.current(db, write.visit_id)}
        for name, text in write.detail["values"].items():
            item, reading = name.rsplit(".", 1)
            stored = observations.value_of(current[(item, int(reading))])
            expected = clinical.parse(item, text).value
            if isinstance(expected, float):
                assert math.isclose(stored, expected), (write.visit_id, name)
            else:
                assert stored == expected, (write.visit_id, name)
    # The devices never correct a value, so each value has one version.
    assert _rows(db, "SELECT visit_id, item, reading FROM observation GROUP BY visit_id, item, reading "
                     "HAVING count(*) > 1") == []


def test_conclusions_kept_once(crash):
    _ward, load, _killed, _restarted, db = crash
    saved = _writes(load, "conclusion")

    assert saved
    for write in saved:
        current = conclusions.current(db, write.visit_id)
        assert current is not None, write.visit_id
        assert (current["health_class"], current["summary"]) == (write.detail["health_class"], write.detail["summary"])
    assert _rows(db, "SELECT visit_id FROM conclusion GROUP BY visit_id HAVING count(*) > 1") == []
    for write in _writes(load, "finish"):
        statuses = _rows(db, """SELECT task.status FROM task JOIN station_type ON station_type.id = task.station_type_id
                                WHERE task.visit_id = ? AND station_type.code = 'doctor'""", [write.visit_id])
        assert statuses == [("done",)], write.visit_id


def test_desk_actions_kept(crash):
    _ward, load, _killed, _restarted, db = crash
    last: dict[str, Write] = {}
    calls: dict[str, int] = {}
    for write in load.journal.all():
        if write.kind in ("call", "start", "absent", "done"):
            last[write.detail["task_id"]] = write
            calls[write.detail["task_id"]] = calls.get(write.detail["task_id"], 0) + (write.kind == "call")

    assert last
    for task_id, write in last.items():
        task = queueing.get_task(db, task_id)
        assert task["calls"] >= calls[task_id], task_id
        assert task["called_at"] is not None, task_id
        if write.kind == "done":
            assert task["status"] == "done", task_id
        elif write.kind == "start":
            assert task["status"] in ("in_service", "done"), task_id


def test_queues_intact(crash):
    _ward, _load, _killed, _restarted, db = crash

    assert _rows(db, "SELECT id FROM visit WHERE NOT EXISTS (SELECT 1 FROM task WHERE task.visit_id = visit.id)") == []
    assert _rows(db, "SELECT visit_id FROM task GROUP BY visit_id, station_type_id HAVING count(*) > 1") == []
    assert _rows(db, f"""SELECT visit_id FROM task WHERE in_line = 1 AND status IN {OPEN}
                         GROUP BY visit_id HAVING count(*) > 1""") == []
    open_visits = [row[0] for row in _rows(db, f"SELECT DISTINCT visit_id FROM task WHERE status IN {OPEN}")]
    assert open_visits
    for visit_id in open_visits:
        # next_destination returns the line the person is in; a visit with open tasks in no line is stranded.
        destination = queueing.next_destination(db, visit_id)
        assert destination is not None, visit_id
        assert queueing.get_task(db, destination.task_id)["in_line"] == 1, visit_id
    assert _rows(db, """SELECT task.id FROM task WHERE status IN ('called', 'in_service')
                        AND (desk_id IS NULL OR called_at IS NULL OR NOT EXISTS (SELECT 1 FROM desk
                             WHERE desk.id = task.desk_id AND desk.station_type_id = task.station_type_id))""") == []
    assert _rows(db, "SELECT id FROM task WHERE status = 'waiting' AND desk_id IS NOT NULL") == []
    assert _rows(db, "SELECT id FROM task WHERE status = 'waiting' AND in_line = 1 AND queue_key IS NULL") == []
    assert _rows(db, "SELECT id FROM task WHERE status = 'done' AND (in_line = 1 OR done_at IS NULL)") == []


def test_database_integrity_ok(crash):
    _ward, _load, _killed, _restarted, db = crash

    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(db, "PRAGMA foreign_key_check") == []
