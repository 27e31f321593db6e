"""`fieldapp central serve --workers N`: several gunicorn worker processes on one store, and reports that
follow a change made in another process.
"""

import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from test_central import (
    held,
    http_post,
    invoke,
    observations,
    person,
    start_server,
    stop_server,
)
from test_central_review import decide, two_sites

from fieldapp import create_app
from fieldapp.central import store
from fieldapp.central.views import ward_for
from fieldapp.sync import batches

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn workers need fork")

WORKERS = 2
# Connections opened one after another are accepted by whichever worker wakes first, and on a busy machine
# one worker can win many times in a row. The test sends at least REQUESTS batches and goes on until each
# worker has stored some, up to MAX_REQUESTS.
REQUESTS = 20
MAX_REQUESTS = 200


def worker_pids(server) -> set[int]:
    """Return the pids of the server's child processes (its workers), from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == server.pid:
                children.add(int(entry.name))
    return children


def answered_by(log: Path) -> set[int]:
    """Return the pids of the workers whose log lines show that they stored a batch."""
    output = log.read_text(errors="replace")
    return {int(pid) for pid in re.findall(r"\[(\d+)\] INFO fieldapp.central.receive: batch from site", output)}


def test_workers_share_one_store(tmp_path):
    data_dir, log = tmp_path / "central", tmp_path / "server.log"
    url = f"sqlite:///{tmp_path / 'central.db'}"
    added = invoke("central", "site", "add", "Trạm Y tế An Lạc", "--data-dir", data_dir, "--database", url)
    code = added.output.rstrip("\n").splitlines()[-1]
    server, port = start_server(data_dir, url, log, "--workers", str(WORKERS))
    key = batches.new_private_key()
    try:
        deadline = time.monotonic() + 20
        while len(worker_pids(server)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = worker_pids(server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            enrolled = http_post(client, "/api/enrol", None, {"code": code, "public_key": batches.public_key_text(key)})
        site = SimpleNamespace(id=enrolled.json()["site_id"], key=key)
        answers = []
        first = 1
        for number in range(MAX_REQUESTS):
            items = [person(first, f"p{number}", cccd=f"0010500{number:05d}"), *observations(first + 1, first + 3)]
            # A new connection for each batch, so that either worker may accept it.
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                answers.append(http_post(client, "/api/batches", site, batches.make_batch(site.id, items)))
            first += 4
            if len(answers) >= REQUESTS and answered_by(log) == workers:
                break
    finally:
        stop_server(server)

    output = log.read_text(errors="replace")
    sent = len(answers)
    assert len(workers) == WORKERS
    assert [answer.status_code for answer in answers] == [200] * sent
    assert answers[-1].json()["acknowledged_through"] == sent * 4
    engine = store.connect(url)
    try:
        assert len(held(engine)) == sent * 4
    finally:
        engine.dispose()
    assert answered_by(log) == workers
    assert output.count("Booting worker with pid") == WORKERS
    assert "0010500" not in output


def test_report_follows_review_decision_made_in_another_process(tmp_path):
    """A decision written to the store by another process (here: straight to the store) changes this app's report."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    first = create_app({"ROLE": "central", "DATA_DIR": str(tmp_path / "a"), "CENTRAL_DATABASE": url, "TESTING": True})
    engine = store.connect(url)
    try:
        two_sites(engine)
        with first.app_context():
            before = len(ward_for(2026).people)
        decide(engine, "same")
        with first.app_context():
            after = len(ward_for(2026).people)
    finally:
        engine.dispose()
        first.extensions["central_engine"].dispose()

    assert (before, after) == (2, 1)


def test_workers_refused_on_windows(monkeypatch, tmp_path):
    from fieldapp.central import workers

    monkeypatch.setattr(workers.sys, "platform", "win32")
    result = invoke("central", "serve", "--workers", "2", "--data-dir", tmp_path / "central",
                    "--database", f"sqlite:///{tmp_path / 'central.db'}")

    assert result.exit_code == 2
    assert "--workers lớn hơn 1 chỉ chạy trên Linux và macOS" in result.output
