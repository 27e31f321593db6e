"""Sync faults against a real `fieldapp central serve` process, with the record store on SQLite and on PostgreSQL.

Every test starts from an empty record store and a copy of one site day (tests/site_day.py), enrolled with
the real commands `fieldapp central site add` and `fieldapp sync enrol`. It breaks the way to the central
store, then pushes normally and ends with the same checks (assert_store_matches_site). The store contains
exactly the site's records with their latest payloads, and it applied every sequence number in exactly one
batch. The site's sent marks and acknowledged_through match what the store acknowledged.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SAMPLE_DATE
from pgserver import postgres_url  # noqa: F401  (a fixture)
from site_day import build_day
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy, alter_once

from fieldapp import create_app
from fieldapp.central import store
from fieldapp.central.schema import batch as batch_table
from fieldapp.central.schema import (
    central_site,
    package,
    person_history,
    person_link,
    record,
)
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect
from fieldapp.errors import FieldappError
from fieldapp.sync import batches, client, outbox

DAY = dt.date(2026, 10, 15)
# 200 people examined out of the sample ward's 1,118: about 9,800 outbox records, 5.3 MB of batches.
PEOPLE = 200
BATCH_SIZE = 500
# A child process, the server or a push, gets this long to start working.
START_SECONDS = 30
# Records a batch in the push that is killed: small batches keep it running for seconds, long enough to kill it.
SLOW_BATCH_SIZE = 50
DROP_POINTS = 20
NO_RETRY = client.Retry(attempts=1, sleep=lambda seconds: None)
PG_DATABASE = "sync_faults"


# The central server, the record store and the site.


class CentralServer:
    """A `fieldapp central serve` subprocess on one port, which a test can stop and start again."""

    def __init__(self, data_dir: Path, database: str, log: Path):
        self.data_dir, self.database, self.log = data_dir, database, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server; fail with its output if it exits or does not listen in time."""
        command = [sys.executable, "-m", "fieldapp.cli", "central", "serve", "--data-dir", str(self.data_dir),
                   "--database", self.database, "--port", str(self.port)]
        with self.log.open("a") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                            env={**os.environ, "FIELDAPP_LANG": "vi"})
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"central serve exited with code {self.process.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"central serve did not listen on port {self.port}:\n{self.output()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the server with SIGKILL, so a request it is serving gets no response and no clean rollback."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def own_database(cluster_url: str) -> str:
    """Create an empty database of its own in the session's PostgreSQL cluster; return its URL.

    test_central's fixtures drop the tables of the cluster's default database after each test,
    which would pull the tables from under this module's running server.
    """
    import psycopg

    url = make_url(cluster_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname="postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        connection.execute(f"CREATE DATABASE {PG_DATABASE}")
    return url.set(database=PG_DATABASE).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Build the site day once: the sample ward's lists, one round, PEOPLE people examined."""
    folder = tmp_path_factory.mktemp("template") / "site"
    folder.mkdir()
    lists = sorted(path for path in SAMPLE.iterdir() if path.is_file() and path.name != "cong-an-dan-cu.csv")
    with create_app({"DATA_DIR": str(folder)}).app_context():
        build_day(folder, lists, SAMPLE_DATE, DAY, PEOPLE)
    return folder


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(request, tmp_path_factory):
    """Start a central server for this module on a new record store; yield it with an engine on its store."""
    folder = tmp_path_factory.mktemp(f"central-{request.param}")
    if request.param == "sqlite":
        database = f"sqlite:///{folder / 'central.db'}"
    else:
        database = own_database(request.getfixturevalue("postgres_url"))
    server = CentralServer(folder / "data", database, folder / "server.log")
    server.start()
    engine = store.connect(store.database_url(folder, database))
    try:
        yield SimpleNamespace(server=server, engine=engine, data_dir=folder / "data", database=database)
    finally:
        server.stop()
        engine.dispose()


def invoke(*args: object):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def central_command(central, *args: object):
    return invoke("central", *args, "--data-dir", central.data_dir, "--database", central.database)


def enrol(central, folder: Path, name: str, new_code: bool = False) -> str:
    """Issue an enrolment code with `fieldapp central site add` and enrol the site with `fieldapp sync enrol`."""
    added = central_command(central, "site", "add", name, *(["--new-code"] if new_code else []))
    assert added.exit_code == 0, added.output
    code = added.output.rstrip("\n").splitlines()[-1]
    enrolled = invoke("sync", "enrol", central.server.url, code, "--data-dir", folder)
    assert enrolled.exit_code == 0, enrolled.output
    return code


@pytest.fixture
def site(central, template, tmp_path):
    """Empty the record store, copy the site day and enrol it; yield its folder, name, id and app."""
    wipe(central.engine)
    folder = tmp_path / "site"
    shutil.copytree(template, folder)
    name = "Trạm Y tế phường An Lạc"
    enrol(central, folder, name)
    app = create_app({"DATA_DIR": str(folder)})
    with app.app_context():
        db = connect(folder / DATABASE_NAME)
        site_id = outbox.state(db)[outbox.SITE_ID]
        db.conn.close()
        yield SimpleNamespace(folder=folder, name=name, id=site_id, app=app)


def wipe(engine) -> None:
    with store.write(engine) as connection:
        for table in (record, batch_table, person_link, person_history, package, central_site):
            connection.execute(delete(table))


def wipe_records(engine, site_id: str) -> None:
    """Empty the store's records but keep the site's enrolment, as if restored from an empty backup."""
    with store.write(engine) as connection:
        for table in (record, batch_table, person_link, person_history):
            connection.execute(delete(table))
        connection.execute(update(central_site).where(central_site.c.id == site_id).values(acknowledged_through=0))


def open_db(site):
    return connect(site.folder / DATABASE_NAME)


def push(site, url: str | None = None, retry: client.Retry = NO_RETRY, batch_size: int = BATCH_SIZE,
         progress=None) -> client.PushResult:
    """Push in this process, as `fieldapp sync push` does, optionally through another URL (a proxy)."""
    db = open_db(site)
    try:
        enrolment = client.enrolment(db, site.folder)
        if url is not None:
            enrolment = dataclasses.replace(enrolment, url=url)
        with client.connect(enrolment, retry) as central:
            return client.push(db, central, batch_size, progress)
    finally:
        db.conn.close()


# The site's outbox and the store's rows.


def site_outbox(site) -> tuple[list[dict], int]:
    """Return the site's outbox in sequence order, each record with its sent_at, and its acknowledged_through."""
    db = open_db(site)
    try:
        rows = db.execute("SELECT seq, kind, record_id, payload, sent_at FROM outbox ORDER BY seq").fetchall()
        acknowledged = outbox.acknowledged_through(db)
    finally:
        db.conn.close()
    records = [{"seq": seq, "key": (kind, record_id), "payload": json.loads(payload), "sent_at": sent_at}
               for seq, kind, record_id, payload, sent_at in rows]
    return records, acknowledged


def last_seq(site) -> int:
    return site_outbox(site)[0][-1]["seq"]


def latest_payloads(records: list[dict], through: int) -> dict[tuple[str, str], dict]:
    """Return the last payload of each (kind, id) among the records up to a sequence number."""
    latest = {}
    for item in records:
        if item["seq"] <= through:
            latest[item["key"]] = item["payload"]
    return latest


def held(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(record.c.kind, record.c.id, record.c.payload)).all()
    return {(kind, record_id): json.loads(payload) for kind, record_id, payload in rows}


def store_acknowledged(engine, site_id: str) -> int:
    with engine.connect() as connection:
        return connection.execute(select(central_site.c.acknowledged_through)
                                  .where(central_site.c.id == site_id)).scalar_one()


def record_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(record)).scalar_one()


def applied_ranges(engine, site_id: str) -> list[tuple[int, int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(select(batch_table.c.first_seq, batch_table.c.last_seq, batch_table.c.records)
                                  .where(batch_table.c.site_id == site_id).order_by(batch_table.c.first_seq)).all()
    return [tuple(row) for row in rows]


def store_digest(engine) -> str:
    """Return a SHA-256 of every row of the record store, in key order."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in (central_site, batch_table, record, person_link, person_history, package):
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(table.name.encode())
            digest.update(batches.canonical([list(row) for row in rows]))
    return digest.hexdigest()


def assert_store_contains_through(engine, site, records: list[dict], through: int) -> None:
    """Check that the store contains the records up to `through` and no other, each sequence number applied once."""
    expected = latest_payloads(records, through)
    found = held(engine)

    assert set(found) == set(expected)
    assert record_count(engine) == len(expected)
    assert [key for key in expected if found[key] != expected[key]] == []
    ranges = applied_ranges(engine, site.id)
    starts = [first for first, _, _ in ranges]
    assert starts == [1, *(last + 1 for _, last, _ in ranges[:-1])][:len(ranges)]
    assert sum(count for _, _, count in ranges) == through
    assert (ranges[-1][1] if ranges else 0) == through


def assert_site_marks(records: list[dict], acknowledged: int) -> None:
    """Check that the site marked sent exactly the records up to its acknowledged_through."""
    assert [item["seq"] for item in records if (item["sent_at"] is not None) != (item["seq"] <= acknowledged)] == []


def assert_store_matches_site(central, site) -> None:
    """Check the end of every test: the store contains exactly the site's records, and the site marked them sent."""
    records, site_through = site_outbox(site)
    last = records[-1]["seq"]

    assert store_acknowledged(central.engine, site.id) == last
    assert site_through == last
    assert_site_marks(records, last)
    assert_store_contains_through(central.engine, site, records, last)


def assert_consistent_midway(central, site) -> tuple[int, int]:
    """Check the state after a fault; return the acknowledged_through of the site and of the store.

    The store contains the records up to its acknowledged_through, and the site marked no more than that sent.
    """
    records, site_through = site_outbox(site)
    store_through = store_acknowledged(central.engine, site.id)

    assert site_through <= store_through
    assert_site_marks(records, site_through)
    assert_store_contains_through(central.engine, site, records, store_through)
    return site_through, store_through


# The connection dropped at 20 points of a push.


@dataclasses.dataclass(frozen=True)
class DropPoint:
    """A point of a push: the byte `offset` of the request or response of exchange `exchange` (0: the status)."""

    exchange: int
    direction: str
    offset: int
    reset: bool


def drop_points(rng: random.Random, exchanges: list[tuple[int, int]]) -> list[DropPoint]:
    """Draw DROP_POINTS points in the order a push reaches them: half in requests, half in responses.

    exchanges contains (request bytes, response bytes) of the status request and of each batch. Request
    points are drawn over every request byte but the last of each request, so the store never receives a
    whole request, which it could apply. Response points fall in different responses, because the batch of
    a cut response is applied and not sent again.
    """
    request_bytes = [request - 1 for request, _ in exchanges]
    points = []
    for byte in rng.sample(range(sum(request_bytes)), DROP_POINTS // 2):
        exchange = 0
        while byte >= request_bytes[exchange]:
            byte -= request_bytes[exchange]
            exchange += 1
        points.append(DropPoint(exchange, "request", byte + 1, rng.random() < 0.5))
    for exchange in rng.sample(range(len(exchanges)), DROP_POINTS // 2):
        offset = rng.randrange(1, exchanges[exchange][1])
        points.append(DropPoint(exchange, "response", offset, rng.random() < 0.5))
    return sorted(points, key=lambda point: (point.exchange, point.direction, point.offset))


def test_push_survives_drops_at_random_points(central, site):
    proxy = TcpProxy(central.server.port)
    try:
        push(site, proxy.url)
        spans = [span.size for span in proxy.spans]
        exchanges = list(zip(spans[0::2], spans[1::2]))
        # Start again from an empty store: the site learns acknowledged_through 0 and sends everything again.
        wipe_records(central.engine, site.id)
        points = drop_points(random.Random(20261015), exchanges)
        last = last_seq(site)
        outcomes = []
        for point in points:
            # A push requests the status first, then sends the batches after the store's acknowledged_through.
            first_batch = store_acknowledged(central.engine, site.id) // BATCH_SIZE + 1
            later = 1 if point.exchange == 0 else 2 + point.exchange - first_batch
            proxy.cut(point.direction, point.offset, later, point.reset)
            with pytest.raises(FieldappError) as failed:
                push(site, proxy.url)
            outcomes.append((point, failed.value.code, *assert_consistent_midway(central, site)))

        result = push(site, proxy.url)
    finally:
        proxy.stop()

    assert proxy.scheduled() == []
    assert len(proxy.cuts) == DROP_POINTS
    for point, code, site_through, store_through in outcomes:
        assert code == "sync_unreachable"
        if point.exchange == 0:
            continue
        before_batch = (point.exchange - 1) * BATCH_SIZE
        assert site_through == before_batch, point
        # A cut response leaves the batch applied, and the next push learns that from the status request.
        assert store_through == (min(last, before_batch + BATCH_SIZE) if point.direction == "response" else before_batch)
    assert result.unsent == 0
    assert_store_matches_site(central, site)


def test_push_with_retries_survives_drops(central, site):
    proxy = TcpProxy(central.server.port)
    retries = []
    retry = client.Retry(attempts=3, sleep=lambda seconds: None, notify=lambda attempt, reason: retries.append(attempt))
    rng = random.Random(7)

    def cut_next_batch(_batch: dict, _acknowledged: int) -> None:
        # A batch request of 500 records is about 300 kB and its response about 17 kB. After a cut response,
        # the retry sends a batch that the store has applied already.
        if rng.random() < 0.5:
            proxy.cut("request", rng.randrange(1, 250_000), reset=True)
        else:
            proxy.cut("response", rng.randrange(1, 15_000))

    try:
        cut_next_batch({}, 0)
        result = push(site, proxy.url, retry=retry, progress=cut_next_batch)
    finally:
        proxy.stop()

    assert len(proxy.cuts) >= 10
    assert len(retries) == len(proxy.cuts)
    assert result.unsent == 0
    assert_store_matches_site(central, site)


# The site's process killed in the middle of a push.


def test_push_killed_then_restarted_resumes(central, site):
    log = site.folder.parent / "push.log"
    command = [sys.executable, "-m", "fieldapp.cli", "sync", "push", "--batch-size", str(SLOW_BATCH_SIZE),
               "--data-dir", str(site.folder)]
    environment = {**os.environ, "FIELDAPP_LANG": "vi"}
    with log.open("w") as output:
        pushing = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)
    deadline = time.monotonic() + START_SECONDS
    while store_acknowledged(central.engine, site.id) == 0 and pushing.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    pushing.send_signal(signal.SIGKILL)
    pushing.wait()
    _, killed_at = assert_consistent_midway(central, site)

    again = subprocess.run(command, check=False, capture_output=True, text=True, env=environment, timeout=120)

    assert pushing.returncode == -signal.SIGKILL, log.read_text(errors="replace")
    assert 0 < killed_at < last_seq(site)
    assert again.returncode == 0, again.stderr
    assert "Xong: đã gửi" in again.stdout
    assert "còn 0 bản ghi chưa gửi." in again.stdout
    assert_store_matches_site(central, site)


# Batches sent twice, replayed or altered: sent straight to the server with the site's own key.


def signed_batches(site, size: int = BATCH_SIZE) -> list[tuple[dict, bytes, str]]:
    """Return the site's batches as a push makes them: (batch, canonical body, signature)."""
    db = open_db(site)
    try:
        key = batches.load_private_key((site.folder / client.KEY_FILE).read_bytes())
        made, after = [], 0
        while records := outbox.pending(db, after, size):
            batch = batches.make_batch(site.id, records)
            body = batches.canonical(batch)
            made.append((batch, body, batches.sign(key, body)))
            after = records[-1]["seq"]
    finally:
        db.conn.close()
    return made


def post(central, site, body: bytes, signature: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Fieldapp-Site": site.id, "X-Fieldapp-Signature": signature}
    return httpx.post(f"{central.server.url}/api/batches", content=body, headers=headers, timeout=60)


def statuses(response: httpx.Response) -> set[str]:
    return {item["status"] for item in response.json()["records"]}


def test_replayed_batches_mid_push_change_nothing(central, site):
    made = signed_batches(site)
    first = post(central, site, *made[0][1:])
    second = post(central, site, *made[1][1:])
    before = store_digest(central.engine)

    twice = post(central, site, *made[1][1:])
    old = post(central, site, *made[0][1:])

    assert (first.status_code, statuses(first)) == (200, {"stored"})
    assert (second.status_code, statuses(second)) == (200, {"stored"})
    assert (twice.status_code, statuses(twice)) == (200, {"duplicate"})
    assert (old.status_code, statuses(old)) == (200, {"duplicate"})
    assert twice.json()["acknowledged_through"] == old.json()["acknowledged_through"] == made[1][0]["last_seq"]
    assert store_digest(central.engine) == before
    result = push(site)
    assert result.sent == made[-1][0]["last_seq"] - made[1][0]["last_seq"]
    assert_store_matches_site(central, site)


def test_replayed_batches_after_push_change_nothing(central, site):
    push(site)
    made = signed_batches(site)
    before = store_digest(central.engine)

    answers = [post(central, site, body, signature) for _, body, signature in [made[-1], made[-1], *made[:3]]]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert [statuses(answer) for answer in answers] == [{"duplicate"}] * 5
    assert {answer.json()["acknowledged_through"] for answer in answers} == {made[-1][0]["last_seq"]}
    assert store_digest(central.engine) == before
    assert_store_matches_site(central, site)


def altered(body: bytes) -> bytes:
    """Return the body with the first digit of the first numeric observation value changed: still valid JSON."""
    at = re.search(rb'"value_num":[0-9]', body).end() - 1
    return body[:at] + (b"2" if body[at:at + 1] != b"2" else b"3") + body[at + 1:]


def rehashed(body: bytes) -> bytes:
    batch = json.loads(body)
    batch["hash"] = batches.content_hash(batch["records"])
    return batches.canonical(batch)


@pytest.mark.parametrize("case, expected_status, expected_error", [
    ("old hash, old signature", 401, "signature"),
    ("new hash, old signature", 401, "signature"),
    ("old hash, signed again", 400, "batch_hash"),
])
def test_altered_batch_rejected(central, site, case, expected_status, expected_error):
    made = signed_batches(site)
    number = next(index for index, (_, body, _) in enumerate(made) if b'"value_num":' in body)
    for _, body, signature in made[:number]:
        assert post(central, site, body, signature).status_code == 200
    _, body, signature = made[number]
    changed = rehashed(altered(body)) if case.startswith("new hash") else altered(body)
    if case == "old hash, signed again":
        key = batches.load_private_key((site.folder / client.KEY_FILE).read_bytes())
        signature = batches.sign(key, changed)
    before = store_digest(central.engine)

    rejected = post(central, site, changed, signature)

    assert (rejected.status_code, rejected.json()) == (expected_status, {"error": expected_error})
    assert store_digest(central.engine) == before
    push(site)
    assert_store_matches_site(central, site)


def test_batch_altered_in_transit_rejected(central, site):
    proxy = TcpProxy(central.server.port)
    # The first observation whose value starts with 1 becomes 2 on the way: 128 mmHg arrives as 228.
    proxy.tamper = alter_once(b'"value_num":1', b'"value_num":2')
    try:
        with pytest.raises(FieldappError) as rejected:
            push(site, proxy.url)
        message = rejected.value.message
        _, acknowledged = assert_consistent_midway(central, site)
        proxy.tamper = None
        push(site, proxy.url)
    finally:
        proxy.stop()

    assert (rejected.value.code, rejected.value.fields["field"]) == ("sync_batch_rejected", "signature")
    assert message == f"Kho dữ liệu trung tâm từ chối lô bản ghi {acknowledged + 1}–{acknowledged + BATCH_SIZE} (signature)."
    assert 0 < acknowledged < last_seq(site)
    assert_store_matches_site(central, site)


# Wrong and revoked keys.


@pytest.mark.parametrize("fault, message", [
    ("wrong key", "Kho dữ liệu trung tâm không nhận khóa của máy này (signature)."),
    ("revoked", "Kho dữ liệu trung tâm đã thu hồi khóa của máy này."),
])
def test_push_with_bad_key_rejected_until_enrolled_again(central, site, fault, message):
    if fault == "wrong key":
        client.write_private(site.folder / client.KEY_FILE, batches.private_key_pem(batches.new_private_key()))
    else:
        assert central_command(central, "site", "revoke", site.name).exit_code == 0
    total = last_seq(site)

    refused = invoke("sync", "push", "--data-dir", site.folder)
    records_after_refusal = record_count(central.engine)
    unsent_after_refusal = sum(1 for item in site_outbox(site)[0] if item["sent_at"] is None)
    enrol(central, site.folder, site.name, new_code=True)
    pushed = invoke("sync", "push", "--data-dir", site.folder)

    assert refused.exit_code == 1
    assert message in refused.output
    assert "Xin người quản lý kho một mã đăng ký mới rồi chạy fieldapp sync enrol ĐỊA-CHỈ MÃ" in refused.output
    assert records_after_refusal == 0
    assert unsent_after_refusal == total
    assert pushed.exit_code == 0, pushed.output
    assert_store_matches_site(central, site)


# The central store down, then up.


@pytest.mark.parametrize("fault", ["stopped between batches", "killed during a batch"])
def test_push_while_central_down_then_up(central, site, fault):
    waits = []
    retry = client.Retry(attempts=4, sleep=waits.append)
    timers = []

    def take_down(_batch: dict, _acknowledged: int) -> None:
        if timers or central.server.process is None:
            return
        if fault == "stopped between batches":
            central.server.stop()
        else:
            # The next batch is on its way or being applied when the server dies.
            timers.append(threading.Timer(0.02, central.server.kill))
            timers[0].start()

    try:
        with pytest.raises(FieldappError) as down:
            push(site, retry=retry, progress=take_down)
        message = down.value.message
        site_through, store_through = assert_consistent_midway(central, site)
    finally:
        for timer in timers:
            timer.join()
        central.server.stop()
        central.server.start()
    result = push(site, retry=retry)

    assert down.value.code == "sync_unreachable"
    assert message == f"Không kết nối được kho dữ liệu trung tâm {central.server.url} sau 4 lần thử."
    assert len(waits) == 3
    assert all(0 <= wait <= retry.base_delay * 2 ** attempt for attempt, wait in enumerate(waits))
    if fault == "stopped between batches":
        assert site_through == store_through == BATCH_SIZE
    assert BATCH_SIZE <= store_through < last_seq(site)
    assert result.unsent == 0
    assert_store_matches_site(central, site)
