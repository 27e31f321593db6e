"""Sync benchmark: push one site day to a real central store over HTTPS, and ingest 100 site days into PostgreSQL.

Usage:
    .venv/bin/python bench/sync_bench.py [--people 2000] [--days 100] [--repeats 3] [--pushers 8] [--workers N] [--quick]

Everything runs on 127.0.0.1 in a temporary folder. The script starts a throwaway PostgreSQL cluster
(tests/pgserver.py, with fsync on) and `fieldapp central serve --tls --workers N` on it, in a child process,
with one worker process per core unless --workers says otherwise.

1. Push. The script generates a synthetic ward (fieldapp.synthetic, 3 residents for each person to examine).
   It builds one exam day in a real site SQLite file with the site's own stores (tests/site_day.py). Everyone
   in the roster is invited, and `--people` people are examined with 30 observations and a conclusion each.
   The site is enrolled with `fieldapp central site add` and `fieldapp sync enrol --ca`. The script then
   times `client.push`, the function behind `fieldapp sync push`, called in this process over HTTPS with
   batches of 2,000 records. The record store is emptied before each repeat, so every push sends the whole
   day. One more push runs the command `fieldapp sync push` in a child process, whose time includes
   starting Python.
2. Ingest. The script enrols `--days` more sites and makes one day of batches for each from the pushed day's
   outbox records. Every UUID in a record and its payload gets the day's number in its first three
   characters, and so does every CCCD and CMND number, and every birth date moves on by the day's number
   of days, so the days share no record, no person and no name with birth date. The
   batches are made, hashed and signed before timing. Then the script times applying all of them twice,
   each time from an empty store. First over HTTPS to the same server, with `--pushers` threads that each
   send whole days as a push does (the status request, then the batches in order). Then directly with
   fieldapp.central.receive.receive_batch in this process, one batch after another, which is the server's
   work for a request without HTTP and TLS.

Times are wall seconds. The last line of output is JSON.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import pickle
import queue
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

DAY = dt.date(2026, 10, 15)
# fieldapp.synthetic writes its lists as of this date, so ages in the lists match.
LIST_DATE = dt.date(2025, 10, 15)
RESIDENTS_PER_PERSON = 3
BATCH_SIZE = 2000
SERVER_START_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 300
PUSH_TARGET_SECONDS = 10
INGEST_TARGET_SECONDS = 180
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ID_NUMBER_FIELDS = ("cccd", "cmnd")
RECORD_TABLES = ("record", "batch", "person_link", "person_history")


# The central server.


class CentralServer:
    """`fieldapp central serve --tls` in a child process, logging to a file."""

    def __init__(self, data_dir: Path, database: str, log: Path, workers: int = 1):
        self.data_dir, self.database, self.log, self.workers = data_dir, database, log, workers
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.ca = data_dir / "tls" / "ca.pem"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "fieldapp.cli", "central", "serve", "--tls", "--data-dir", str(self.data_dir),
                   "--database", self.database, "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("a") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"central serve exited with code {self.process.returncode}:\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"central serve did not listen on port {self.port}:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_command(*args: str) -> subprocess.CompletedProcess:
    """Run `fieldapp ARGS` in a child process; raise with its output if it fails."""
    done = subprocess.run([sys.executable, "-m", "fieldapp.cli", *args], check=False, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "FIELDAPP_LANG": "vi"}, timeout=REQUEST_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"fieldapp {' '.join(args[:3])} failed with code {done.returncode}:\n"
                           f"{done.stdout}\n{done.stderr}")
    return done


def empty_store(engine) -> None:
    """Delete every record, applied batch and person link; set every site's acknowledged_through to 0."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(RECORD_TABLES)}"))
        connection.execute(text("UPDATE central_site SET acknowledged_through = 0"))


def record_count(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM record")).scalar_one()


# Part 1: one site day pushed over HTTPS.


def build_site(root: Path, people: int, seed: int) -> tuple[Path, dict, float]:
    """Generate a ward and build one exam day at a site; return its data folder, counts and build seconds."""
    from site_day import build_day

    from fieldapp import create_app
    from fieldapp.synthetic import generate

    started = time.perf_counter()
    ward = root / "ward"
    generate(max(500, people * RESIDENTS_PER_PERSON), seed, ward)
    lists = sorted(path for path in (ward / "lists").iterdir() if path.is_file())
    folder = root / "site"
    folder.mkdir()
    with create_app({"DATA_DIR": str(folder)}).app_context():
        counts = build_day(folder, lists, LIST_DATE, DAY, people, seed)
    if counts.visits < people:
        raise RuntimeError(f"the ward has {counts.people} people, fewer than the {people} to examine")
    return folder, vars(counts), time.perf_counter() - started


def enrol_site(central: CentralServer, folder: Path, name: str) -> None:
    """Enrol a site folder with the real commands: `fieldapp central site add`, then `fieldapp sync enrol --ca`."""
    added = run_command("central", "site", "add", name, "--data-dir", str(central.data_dir),
                        "--database", central.database)
    code = added.stdout.rstrip("\n").splitlines()[-1]
    run_command("sync", "enrol", central.url, code, "--ca", str(central.ca), "--data-dir", str(folder))


def push_in_process(folder: Path) -> tuple[float, int]:
    """Push the site's outbox with client.push, as `fieldapp sync push` does; return (seconds, records sent)."""
    from fieldapp import create_app
    from fieldapp.db import DATABASE_NAME, connect
    from fieldapp.sync import client

    with create_app({"DATA_DIR": str(folder)}).app_context():
        db = connect(folder / DATABASE_NAME)
        try:
            started = time.perf_counter()
            with client.connect(client.enrolment(db, folder)) as central:
                result = client.push(db, central, BATCH_SIZE)
            seconds = time.perf_counter() - started
        finally:
            db.conn.close()
    if result.unsent:
        raise RuntimeError(f"push left {result.unsent} records unsent")
    return seconds, result.sent


def push_with_command(folder: Path) -> float:
    started = time.perf_counter()
    done = run_command("sync", "push", "--data-dir", str(folder))
    seconds = time.perf_counter() - started
    if "còn 0 bản ghi chưa gửi" not in done.stdout:
        raise RuntimeError(f"fieldapp sync push did not send everything:\n{done.stdout}")
    return seconds


def time_push(central: CentralServer, engine, folder: Path, repeats: int) -> dict:
    """Push the whole day `repeats` times in this process and once with the command, from an empty store."""
    runs, sent = [], 0
    for _ in range(repeats):
        empty_store(engine)
        seconds, sent = push_in_process(folder)
        runs.append(seconds)
        print(f"  push in process: {sent:,} records in {seconds:.2f} s ({sent / seconds:,.0f} records/s)")
    held = record_count(engine)
    empty_store(engine)
    command_seconds = push_with_command(folder)
    print(f"  fieldapp sync push (child process, includes starting Python): {command_seconds:.2f} s")
    return {"runs": runs, "median": statistics.median(runs), "records": sent, "held": held,
            "command": command_seconds}


# Part 2: many site days ingested into PostgreSQL.


def enrol_days(engine, days: int) -> list[tuple[str, bytes]]:
    """Add and enrol one site per day straight in the store; return (site id, private key PEM) of each."""
    from fieldapp.central import sites, store
    from fieldapp.sync import batches

    enrolled = []
    for day in range(1, days + 1):
        key = batches.new_private_key()
        with store.write(engine) as connection:
            site, code = sites.add_site(connection, f"Điểm khám {day:03d}")
            sites.enrol(connection, code, batches.public_key_text(key))
        enrolled.append((site["id"], batches.private_key_pem(key)))
    return enrolled


def id_fields(records: list[dict]) -> dict[str, tuple[str, ...]]:
    """Return, per kind, the payload fields that hold a UUID in any record of that kind."""
    found: dict[str, set[str]] = {}
    for item in records:
        fields = found.setdefault(item["kind"], set())
        fields.update(name for name, value in item["payload"].items()
                      if isinstance(value, str) and UUID.fullmatch(value))
    return {kind: tuple(sorted(fields)) for kind, fields in found.items()}


def records_of_day(records: list[dict], fields: dict[str, tuple[str, ...]], day: int) -> list[dict]:
    """Return the records with the day's number in the first three characters of every id and ID number."""
    prefix = f"{day:03d}"
    made = []
    for item in records:
        payload = dict(item["payload"])
        for name in fields[item["kind"]]:
            if payload.get(name):
                payload[name] = prefix + payload[name][3:]
        if item["kind"] == "person":
            for name in ID_NUMBER_FIELDS:
                if payload.get(name):
                    payload[name] = prefix + payload[name][3:]
            payload["birth_date"] = birth_date_of_day(payload.get("birth_date"), day)
        made.append({**item, "id": prefix + item["id"][3:], "payload": payload})
    return made


def birth_date_of_day(birth_date: str | None, day: int) -> str | None:
    """Return the birth date moved on by `day` days (a year alone counts as 1 January), so no two days' people
    share a name and birth date, as people of different sites seldom do."""
    if not birth_date:
        return birth_date
    start = dt.date(int(birth_date), 1, 1) if len(birth_date) == 4 else dt.date.fromisoformat(birth_date)
    return (start + dt.timedelta(days=day)).isoformat()


# The pushed day's outbox records and their UUID fields, loaded once in each worker process by load_base().
BASE: dict = {}


def load_base(base_file: Path) -> None:
    records = pickle.loads(base_file.read_bytes())
    BASE.update(records=records, fields=id_fields(records))


def write_day(job: tuple) -> tuple[Path, int, int]:
    """Make, hash and sign one day's batches and pickle them to a file; return (file, records, batches)."""
    from fieldapp.db import now
    from fieldapp.sync import batches

    day, site_id, key_pem, out = job
    records = records_of_day(BASE["records"], BASE["fields"], day)
    key = batches.load_private_key(key_pem)
    status = batches.canonical({"site_id": site_id, "at": now()})
    made = [(status, batches.sign(key, status))]
    for start in range(0, len(records), BATCH_SIZE):
        body = batches.canonical(batches.make_batch(site_id, records[start:start + BATCH_SIZE]))
        made.append((body, batches.sign(key, body)))
    out.write_bytes(pickle.dumps({"site_id": site_id, "requests": made}, protocol=pickle.HIGHEST_PROTOCOL))
    return out, len(records), len(made) - 1


def make_days(folder: Path, engine, days: int, out: Path) -> tuple[list[Path], int, int, float]:
    """Make the batches of `days` site days from the pushed day's outbox.

    Returns (files, records a day, records a day that the store keeps, seconds). The store keeps one row
    per kind and id: an invitation given its time slot after it was made is two records and one row.
    """
    from fieldapp.db import DATABASE_NAME, connect
    from fieldapp.sync import outbox

    started = time.perf_counter()
    db = connect(folder / DATABASE_NAME)
    try:
        base = outbox.pending(db, 0, 10 ** 9)
    finally:
        db.conn.close()
    out.mkdir()
    base_file = out / "base.pickle"
    base_file.write_bytes(pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL))
    jobs = [(day, site_id, key_pem, out / f"day-{day:03d}.pickle")
            for day, (site_id, key_pem) in enumerate(enrol_days(engine, days), start=1)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=len(os.sched_getaffinity(0)), initializer=load_base,
                                                initargs=(base_file,)) as pool:
        written = list(pool.map(write_day, jobs))
    kept = len({(item["kind"], item["id"]) for item in base})
    return [path for path, _, _ in written], len(base), kept, time.perf_counter() - started


def ingest_over_https(central: CentralServer, files: list[Path], pushers: int) -> float:
    """Send every day's requests over HTTPS with `pushers` threads, days taken from a shared queue; return seconds."""
    import ssl

    import httpx

    waiting: queue.Queue[Path] = queue.Queue()
    for path in files:
        waiting.put(path)
    trust = ssl.create_default_context(cafile=str(central.ca))
    failures: list[str] = []

    def pusher() -> None:
        with httpx.Client(base_url=central.url, verify=trust, timeout=REQUEST_TIMEOUT_SECONDS) as http:
            while not failures:
                try:
                    path = waiting.get_nowait()
                except queue.Empty:
                    return
                day = pickle.loads(path.read_bytes())
                for number, (body, signature) in enumerate(day["requests"]):
                    response = http.post("/api/batches" if number else "/api/status", content=body, headers={
                        "Content-Type": "application/json", "X-Fieldapp-Site": day["site_id"],
                        "X-Fieldapp-Signature": signature})
                    if response.status_code != 200:
                        failures.append(f"{path.name} request {number}: {response.status_code} {response.text[:200]}")
                        return

    threads = [threading.Thread(target=pusher, name=f"pusher-{number}") for number in range(pushers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError("ingest over HTTPS failed: " + "; ".join(failures[:3]))
    return seconds


def ingest_directly(engine, files: list[Path]) -> float:
    """Apply every day's batches with receive.receive_batch in this process, one after another; return seconds."""
    from fieldapp.central import receive

    seconds = 0.0
    for path in files:
        day = pickle.loads(path.read_bytes())
        started = time.perf_counter()
        for body, signature in day["requests"][1:]:
            receive.receive_batch(engine, day["site_id"], body, signature)
        seconds += time.perf_counter() - started
    return seconds


def time_ingest(central: CentralServer, engine, files: list[Path], per_day: int, kept: int, pushers: int) -> dict:
    """Ingest every day over HTTPS, then directly, each from an empty store; check the rows the store keeps."""
    expected, sent = kept * len(files), per_day * len(files)
    figures = {}
    for way, ingest in (("https", lambda: ingest_over_https(central, files, pushers)),
                        ("direct", lambda: ingest_directly(engine, files))):
        empty_store(engine)
        seconds = ingest()
        held = record_count(engine)
        if held != expected:
            raise RuntimeError(f"ingest {way}: the store contains {held:,} records, expected {expected:,}")
        figures[way] = seconds
        print(f"  {way}: {sent:,} records of {len(files)} site days in {seconds:.1f} s "
              f"({sent / seconds:,.0f} records/s)")
    return figures


# Report.


def describe_machine() -> str:
    """Describe the CPU model, usable cores and total memory of this machine."""
    cores = len(os.sched_getaffinity(0))
    model, memory_gb = "unknown CPU", 0.0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory_gb = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:")) / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cores} cores, {model}, {memory_gb:.1f} GiB RAM"


def postgres_version(engine) -> str:
    from sqlalchemy import text

    with engine.connect() as connection:
        return "postgresql " + connection.execute(text("SHOW server_version")).scalar_one().split()[0]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000, help="people examined in the site day (default 2000)")
    parser.add_argument("--days", type=int, default=100, help="site days ingested into PostgreSQL (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="pushes of the site day; the median is reported")
    parser.add_argument("--pushers", type=int, default=8, help="concurrent HTTPS pushers for the ingest (default 8)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="worker processes of central serve (default: one per core)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the ward and the readings (default 1)")
    parser.add_argument("--quick", action="store_true", help="a small run: 200 people, 5 days, 1 repeat")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.people, arguments.days, arguments.repeats = 200, 5, 1
    if min(arguments.people, arguments.days, arguments.repeats, arguments.pushers, arguments.workers) < 1:
        parser.error("--people, --days, --repeats, --pushers and --workers must be at least 1")
    if arguments.days > 999:
        parser.error("--days must be at most 999: a day's number takes the first three characters of its ids")
    return arguments


def run(root: Path, database: str, arguments: argparse.Namespace) -> dict:
    from fieldapp.central import store

    print(f"Building a site day of {arguments.people:,} people...")
    folder, counts, build_seconds = build_site(root, arguments.people, arguments.seed)
    print(f"  {counts['people']:,} people in the roster, {counts['visits']:,} examined, "
          f"{counts['observations']:,} observations, {counts['outbox']:,} outbox records ({build_seconds:.1f} s)")

    central = CentralServer(root / "central", database, root / "central.log", arguments.workers)
    central.start()
    engine = store.connect(database)
    try:
        enrol_site(central, folder, "Trạm Y tế phường 1")
        print(f"Pushing the day over HTTPS to {central.url} (PostgreSQL)...")
        push = time_push(central, engine, folder, arguments.repeats)
        print(f"Making {arguments.days} site days of batches...")
        files, per_day, kept, make_seconds = make_days(folder, engine, arguments.days, root / "days")
        print(f"  {per_day:,} records a day in {BATCH_SIZE:,}-record batches, made in {make_seconds:.1f} s")
        print(f"Ingesting {arguments.days} site days into PostgreSQL...")
        ingest = time_ingest(central, engine, files, per_day, kept, arguments.pushers)
        version = postgres_version(engine)
    finally:
        central.stop()
        engine.dispose()
    return {"counts": counts, "push": push, "ingest": ingest, "per_day": per_day, "database": version}


def report(figures: dict, arguments: argparse.Namespace) -> None:
    push, ingest = figures["push"], figures["ingest"]
    records = figures["per_day"] * arguments.days
    print()
    print(f"Push of one site day ({push['records']:,} records, {figures['counts']['observations']:,} observations): "
          f"median {push['median']:.2f} s of {len(push['runs'])}, target {PUSH_TARGET_SECONDS} s "
          f"({push['median'] / PUSH_TARGET_SECONDS:.0%} of it)")
    print(f"Ingest of {arguments.days} site days ({records:,} records): over HTTPS with {arguments.pushers} pushers "
          f"and {arguments.workers} server workers "
          f"{ingest['https']:.1f} s, directly {ingest['direct']:.1f} s; target {INGEST_TARGET_SECONDS} s for 100 days")
    summary = {
        "push_one_day_s": round(push["median"], 2),
        "push_runs_s": [round(seconds, 2) for seconds in push["runs"]],
        "push_command_s": round(push["command"], 2),
        "push_records": push["records"],
        "push_observations": figures["counts"]["observations"],
        "people": arguments.people,
        "ingest_days": arguments.days,
        "ingest_records": records,
        "ingest_https_s": round(ingest["https"], 1),
        "ingest_direct_s": round(ingest["direct"], 1),
        "pushers": arguments.pushers,
        "workers": arguments.workers,
        "database": figures["database"],
        "machine": describe_machine(),
    }
    print(json.dumps(summary, ensure_ascii=False))


def main() -> None:
    from pgserver import PostgresServer

    arguments = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="fieldapp-sync-bench-") as folder:
        server = PostgresServer(fsync=True)
        database = server.start()
        try:
            figures = run(Path(folder), database, arguments)
        finally:
            server.stop()
    report(figures, arguments)


if __name__ == "__main__":
    main()
