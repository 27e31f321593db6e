"""Push to station screens and waiting-room displays: htmx polling against server-sent events, at 60 devices.

Each run starts `fieldapp serve` in a child process on a fresh copy of a ward whose round is open today.
The child is bench/display_push_server.py: the real serve command on an app that also has a bench-only
blueprint with server-sent events (SSE) and counts requests in flight. HTTPS (cheroot) is measured by
default, and plain HTTP (waitress) with --no-https.

Devices (bench/display_push_clients.py), each with its own paired device cookie and signed-in session:
- station screens (role station), spread over the desks, each showing its desk's line;
- displays (role coordinator), each showing the waiting-room board.

Variants:
- polling: what the product does. A station screen GETs /stations/desk/<id> as htmx at the interval in
  templates/stations/_line.html and a display GETs /display/board at the one in templates/display/index.html.
- sse: each device keeps one event stream open. One watcher thread in the server reads the queue tables
  every 0.5 s and sends a small `changed` event to the streams whose line or board changed. The device
  then GETs the same fragment once, and again every 60 s so that the waits in minutes stay current. An SSE
  stream occupies a server thread for as long as it is open, so the server gets 8 threads plus one per device.
- sse_8_threads: the same with the product's 8 threads, run once, to see whether the streams starve the
  other requests.

While the devices run, a driver in this process calls people at random desks through fieldapp.queueing on
the same SQLite file, about every 3 s. At each call it finishes the desk's last person, who goes on to
their next line, and calls the next one. It also checks a new person in at every second call. A probe
device GETs the check-in page every second, as a "normal request".

Latency runs from the commit of a call until each device that shows the call has received a response
showing it. On a display that response has the call's key on the board. On a station screen of the called
person's station it no longer lists the called number. All clients run in this process, on the same cores
as the server.

    .venv/bin/python bench/display_push.py [--seconds 60] [--repeats 3] [--no-https]

The last line of output is JSON: {"devices": 60, "polling": {...}, "sse": {...}, "ratio_cpu_sse_over_polling": ..}.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The devices' shared code (tests/phone.py, tests/day_roles.py) lives with the tests.
sys.path.insert(0, str(REPO / "tests"))

from checkin_load import SAMPLE, SAMPLE_DATE, free_port, wait_for_port
from day_roles import DISPLAY_POLL_SECONDS, STATION_POLL_SECONDS
from display_push_clients import PIN, REQUEST_TIMEOUT_SECONDS, Recorder, Screen, Session, listen, poll, probe, sign_in
from display_push_server import BACKLOG_VARIABLE, INFLIGHT_FILE
from phone import pairing_tokens, percentile

SERVER_SCRIPT = Path(__file__).resolve().parent / "display_push_server.py"


PRODUCT_THREADS = 8   # `fieldapp serve --threads` default
WARM_UP_SECONDS = 6
# Devices start within this many seconds, in a seeded random order, as their pages would load.
START_SPREAD_SECONDS = 3.0
# The driver stops calling this long before the window ends, so every call has time to reach every device.
CALL_GRACE_SECONDS = 5


# The ward.

@dataclass
class Ward:
    """The ward in the data folder, as the devices and the driver use it."""

    round_id: str
    site_id: str
    day: str                              # the exam day, yyyy-mm-dd: the date the ward was built
    desks: list[tuple[str, str]]          # (desk id, station type id)
    people_left: list[str]                # person ids not yet checked in, in arrival order
    accounts: dict[str, str] = field(default_factory=dict)   # username -> role
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)   # username -> signed-in cookies


def build_ward(folder: Path, args) -> Ward:
    """Import the sample ward, open a round today at one site, check people in and add desks and accounts."""
    from fieldapp.auth import add_staff
    from fieldapp.db import DATABASE_NAME, connect, write
    from fieldapp.importer import import_files
    from fieldapp.queueing import add_desk
    from fieldapp.rounds import SiteSpec, create_round, sites

    db = connect(folder / DATABASE_NAME)
    lists = sorted(p for p in SAMPLE.iterdir() if p.is_file() and p.name != "cong-an-dan-cu.csv")
    import_files(db, lists, SAMPLE_DATE)
    accounts = {"admin": "site_admin", "probe": "reception"}
    accounts.update({f"station{n}": "station" for n in range(args.stations)})
    accounts.update({f"display{n}": "coordinator" for n in range(args.displays)})
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 60)])
        for username, role in accounts.items():
            add_staff(db, username, username, role, PIN)
    site_id = sites(db, round_id)[0]["id"]

    people = [row[0] for row in db.execute("SELECT id FROM person ORDER BY id").fetchall()]
    random.Random(args.seed).shuffle(people)
    for person_id in people[:args.waiting]:
        check_in_person(db, round_id, site_id, person_id)

    # The default stations have one desk each; the busiest ones get the extra desks.
    station_types = {code: id_ for id_, code in db.execute("SELECT id, code FROM station_type WHERE site_id = ?",
                                                            [site_id]).fetchall()}
    busiest = [code for code in ("measure", "blood_pressure", "exam", "doctor", "vision", "dental", "ent")
               if code in station_types]
    count = db.execute("SELECT count(*) FROM desk WHERE site_id = ?", [site_id]).fetchone()[0]
    with write(db):
        for number in range(max(args.desks - count, 0)):
            add_desk(db, station_types[busiest[number % len(busiest)]])
    desks = [tuple(row) for row in db.execute("SELECT id, station_type_id FROM desk WHERE site_id = ? ORDER BY number",
                                              [site_id]).fetchall()]
    db.conn.close()
    return Ward(round_id, site_id, dt.date.today().isoformat(), desks, people[args.waiting:], accounts)


def check_in_person(db, round_id: str, site_id: str, person_id: str) -> None:
    """Check a person in with consent, as reception does, which puts them in their first line."""
    from fieldapp.checkin import get_person
    from fieldapp.visits import CHILD_AGE, Consent, Desk, age_on, check_in

    day = dt.date.today().isoformat()
    person = get_person(db, person_id)
    age = age_on(person.get("birth_date"), day)
    consent = Consent()
    if age is not None and age < CHILD_AGE:
        consent = Consent("guardian", "Nguyễn Văn Bố", child_assent=True)
    check_in(db, Desk(round_id, site_id, day), person, consent)


@dataclass
class Call:
    """A call the driver made: monotonic times around its commit, where it shows and what shows it."""

    before: float
    committed: float
    station_type_id: str
    queue_number: str
    key: str


def drive(data_dir: Path, ward: Ward, call_every: float, until: float, seed: int, recorder: Recorder,
          calls: list[Call]) -> None:
    """Call people at random desks until `until`, finishing each desk's last person first; check in one at every second call."""
    from fieldapp import queueing
    from fieldapp.db import DATABASE_NAME, connect

    db = connect(data_dir / DATABASE_NAME)
    pacing = random.Random(seed)
    arrivals = iter(ward.people_left)
    step = 0
    while not recorder.stopping.wait(pacing.uniform(0.5, 1.5) * call_every) and time.monotonic() < until:
        waiting = {row[0] for row in db.execute("SELECT DISTINCT station_type_id FROM task "
                                                "WHERE status = 'waiting' AND in_line = 1").fetchall()}
        desks = [desk for desk in ward.desks if desk[1] in waiting]
        if desks:
            desk_id, station_type_id = pacing.choice(desks)
            current = db.execute("SELECT id FROM task WHERE desk_id = ? AND status IN ('called', 'in_service')",
                                 [desk_id]).fetchone()
            if current is not None:
                queueing.done(db, current[0])
            before = time.monotonic()
            task = queueing.call_next(db, desk_id)
            committed = time.monotonic()
            if task is not None:
                number = db.execute("SELECT queue_number FROM visit WHERE id = ?", [task["visit_id"]]).fetchone()[0]
                calls.append(Call(before, committed, station_type_id, str(number), f"{task['id']}:{task['calls']}"))
        step += 1
        person_id = next(arrivals, None) if step % 2 == 0 else None
        if person_id is not None:
            check_in_person(db, ward.round_id, ward.site_id, person_id)
    db.conn.close()


def latencies(calls: list[Call], screens: list[Screen], window_start: float) -> dict:
    """Return latencies in ms from each call's commit to each device showing it, and how many were never shown."""
    found: dict[str, list[float]] = {"station": [], "display": []}
    missed = 0
    for call in calls:
        if call.before < window_start:
            continue
        for screen in screens:
            if screen.kind == "station" and screen.station_type_id != call.station_type_id:
                continue
            seen = None
            for sent, received, shown in screen.snapshots:
                if screen.kind == "display" and call.key in shown:
                    seen = received
                    break
                # A line requested after the call began that lacks the number was rendered after the commit.
                if screen.kind == "station" and sent >= call.before and call.queue_number not in shown:
                    seen = received
                    break
            if seen is None:
                missed += 1
            else:
                found[screen.kind].append(max(seen - call.committed, 0.0) * 1000)
    both = found["station"] + found["display"]
    summary = {"latency_missed": missed}
    for name, values in (("all", both), *found.items()):
        summary[f"latency_{name}_p50_ms"] = round(statistics.median(values)) if values else None
        summary[f"latency_{name}_p95_ms"] = round(percentile(values, 0.95)) if values else None
        summary[f"latency_{name}_max_ms"] = round(max(values)) if values else None
    return summary


# One run.

def cpu_seconds(pid: int) -> float:
    """Return a process's user plus system CPU seconds from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_status(pid: int) -> dict[str, int]:
    """Return a process's thread count and resident memory in MB from /proc (Linux)."""
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "Threads":
            status["threads"] = int(value)
        elif name == "VmRSS":
            status["rss_mb"] = round(int(value.split()[0]) / 1024)
    return status


def in_flight(samples: Path, start: float, end: float) -> list[int]:
    values = []
    for line in samples.read_text().splitlines():
        moment, count = line.split()
        if start <= float(moment) <= end:
            values.append(int(count))
    return values


def start_server(data_dir: Path, log: Path, threads: int, args) -> tuple[subprocess.Popen, int]:
    http_port, https_port = free_port(), free_port()
    command = [sys.executable, str(SERVER_SCRIPT), "serve", "--data-dir", str(data_dir),
               "--host", "127.0.0.1", "--port", str(http_port), "--threads", str(threads)]
    command += ["--https-port", str(https_port)] if args.https else ["--no-https"]
    environment = dict(os.environ)
    if args.listen_backlog:
        environment[BACKLOG_VARIABLE] = str(args.listen_backlog)
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=REPO, env=environment)
    port = https_port if args.https else http_port
    wait_for_port(port, process, log)
    return process, port


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tls_context(data_dir: Path, https: bool) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=str(data_dir / "tls" / "ca.pem")) if https else None


def make_screens(ward: Ward, args, port: int, context, recorder: Recorder) -> tuple[list[Screen], Session]:
    """Return the station screens and displays, and the probe's session, with the ward's cookies if it has them."""
    screens = []
    for number in range(args.stations):
        desk_id, station_type_id = ward.desks[number % len(ward.desks)]
        screens.append(Screen(f"station{number}", "station", f"/stations/desk/{desk_id}",
                              f"/bench-events/desk/{desk_id}", STATION_POLL_SECONDS, station_type_id,
                              Session(port, context, recorder)))
    for number in range(args.displays):
        screens.append(Screen(f"display{number}", "display", f"/display/board?site={ward.site_id}",
                              f"/bench-events/board?site={ward.site_id}", DISPLAY_POLL_SECONDS, None,
                              Session(port, context, recorder)))
    probe_session = Session(port, context, recorder)
    for name, session in [*((screen.name, screen.session) for screen in screens), ("probe", probe_session)]:
        session.cookies = dict(ward.cookies.get(name, {}))
    return screens, probe_session


def sign_in_devices(template: Path, ward: Ward, args) -> None:
    """Pair and sign in every device once, on a server over the template, and keep their cookies in the ward.

    Every run serves a copy of the template, which has the same secret key and paired devices, so the
    cookies stay valid there.
    """
    names = [f"station{n}" for n in range(args.stations)] + [f"display{n}" for n in range(args.displays)]
    tokens = pairing_tokens(template, [*names, "probe"])
    process, port = start_server(template, template.parent / "sign-in.log", PRODUCT_THREADS, args)
    try:
        screens, probe_session = make_screens(ward, args, port, tls_context(template, args.https), Recorder())
        devices = [(screen.session, screen.name, screen.fragment_path) for screen in screens]
        devices.append((probe_session, "probe", "/checkin/"))
        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(sign_in, session, name, tokens[name], path) for session, name, path in devices]:
                future.result()
    finally:
        stop_server(process)
    (template / INFLIGHT_FILE).unlink(missing_ok=True)
    ward.cookies = {name: session.cookies for session, name, _ in devices}


def run_once(variant: str, template: Path, ward: Ward, args, seconds: float, repeat: int) -> dict:
    """Serve a fresh copy of the ward, run the devices and the driver for one window, and return its figures."""
    threads = PRODUCT_THREADS if variant != "sse" else PRODUCT_THREADS + args.stations + args.displays
    with tempfile.TemporaryDirectory(prefix=f"display-push-{variant}-") as folder:
        data_dir = Path(folder) / "site"
        shutil.copytree(template, data_dir)
        log = Path(folder) / "server.log"
        process, port = start_server(data_dir, log, threads, args)
        try:
            result = _measure(variant, data_dir, ward, args, seconds, repeat, threads, process, port, log)
        finally:
            stop_server(process)
    # The round, the visits and the board are per day, so a run that crosses local midnight measures nothing useful.
    if dt.date.today().isoformat() != ward.day:
        sys.exit(f"The date changed from {ward.day} during {variant} run {repeat + 1}; run the benchmark again.")
    return result


def _measure(variant, data_dir, ward, args, seconds, repeat, threads, process, port, log) -> dict:
    recorder = Recorder()
    screens, probe_session = make_screens(ward, args, port, tls_context(data_dir, args.https), recorder)

    pacing = random.Random(args.seed + repeat)
    probe_ms: list[float] = []
    workers = [threading.Thread(target=probe, args=(probe_session, probe_ms), daemon=True)]
    for screen in screens:
        if variant == "polling":
            workers.append(threading.Thread(target=poll, args=(screen, pacing.uniform(0, screen.interval)),
                                            daemon=True))
        else:
            workers.append(threading.Thread(target=listen, args=(screen, pacing.uniform(0, START_SPREAD_SECONDS)),
                                            daemon=True))
    for worker in workers:
        worker.start()

    start = time.monotonic() + WARM_UP_SECONDS
    end = start + seconds
    recorder.window = (start, end)
    calls: list[Call] = []
    driver = threading.Thread(target=drive, args=(data_dir, ward, args.call_every, end - CALL_GRACE_SECONDS,
                                                  args.seed + repeat, recorder, calls), daemon=True)
    driver.start()
    time.sleep(max(start - time.monotonic(), 0))
    cpu_start, client_start = cpu_seconds(process.pid), _own_cpu()
    status = process_status(process.pid)
    streams_open = []
    while time.monotonic() < end:
        streams_open.append(recorder.streams_open)
        if time.monotonic() < start + seconds / 2:
            status = process_status(process.pid)
        time.sleep(min(1.0, max(end - time.monotonic(), 0)))
    cpu_end, client_end = cpu_seconds(process.pid), _own_cpu()
    recorder.stopping.set()
    driver.join(timeout=REQUEST_TIMEOUT_SECONDS)
    process.terminate()
    for worker in workers:
        worker.join(timeout=REQUEST_TIMEOUT_SECONDS)

    minutes = seconds / 60
    active = in_flight(data_dir / INFLIGHT_FILE, start, end)
    result = {
        "server_threads": threads,
        "server_os_threads": status["threads"],
        "server_rss_mb": status["rss_mb"],
        "in_flight_p50": statistics.median(active) if active else None,
        "in_flight_max": max(active) if active else None,
        "streams_open_min": min(streams_open),
        "streams_open_max": max(streams_open),
        "server_cpu_s_per_min": round((cpu_end - cpu_start) / minutes, 2),
        "client_cpu_s_per_min": round((client_end - client_start) / minutes, 2),
        "requests_per_s": round(recorder.requests / seconds, 1),
        "response_mb_per_min": round(recorder.response_bytes / minutes / 1e6, 3),
        "calls": sum(1 for call in calls if call.before >= start),
        "probe_p50_ms": round(statistics.median(probe_ms), 1) if probe_ms else None,
        "probe_p95_ms": round(percentile(probe_ms, 0.95), 1) if probe_ms else None,
        "probe_ok": len(probe_ms),
        "errors": len(recorder.errors),
        "reconnects": recorder.reconnects,
    }
    result.update(latencies(calls, screens, start))
    _print_run(variant, repeat, result, recorder.errors, log)
    return result


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _print_run(variant: str, repeat: int, result: dict, errors: list[str], log: Path) -> None:
    print(f"{variant} run {repeat + 1}: server CPU {result['server_cpu_s_per_min']} s/min "
          f"(clients {result['client_cpu_s_per_min']}), {result['requests_per_s']} requests/s, "
          f"{result['response_mb_per_min']} MB/min, in flight p50 {result['in_flight_p50']} max "
          f"{result['in_flight_max']} of {result['server_threads']} threads; latency p50/p95/max "
          f"{result['latency_all_p50_ms']}/{result['latency_all_p95_ms']}/{result['latency_all_max_ms']} ms, "
          f"missed {result['latency_missed']}; check-in page p95 {result['probe_p95_ms']} ms "
          f"({result['probe_ok']} ok); {result['calls']} calls; {result['reconnects']} reconnects; "
          f"errors {result['errors']}", flush=True)
    for error in errors[:3]:
        print(f"  error: {error}")
    if errors:
        failures = [line for line in log.read_text(errors="replace").splitlines() if "Error" in line]
        for line in failures[:3]:
            print(f"  server log: {line}")


def medians(runs: list[dict]) -> dict:
    """Return the median of each figure over the runs; a figure missing in a run is left out of its median."""
    summary = {}
    for key in runs[0]:
        values = [run[key] for run in runs if run[key] is not None]
        summary[key] = statistics.median(values) if values else None
    summary["runs"] = len(runs)
    return summary


def ratio(top, bottom) -> float | None:
    return round(top / bottom, 3) if top is not None and bottom else None


def print_table(results: dict) -> None:
    variants = list(results)
    print("\nmedians" + "".join(f"{name:>16}" for name in variants))
    for key in results[variants[0]]:
        cells = "".join(f"{results[name].get(key) if results[name].get(key) is not None else '-':>16}"
                        for name in variants)
        print(f"{key:<28}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="Measured seconds per run, after a 6 s warm-up.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per variant; the report gives medians.")
    parser.add_argument("--stations", type=int, default=50, help="Station screens, spread over the desks.")
    parser.add_argument("--displays", type=int, default=10, help="Waiting-room displays.")
    parser.add_argument("--desks", type=int, default=12, help="Open desks at the site (at least the default stations).")
    parser.add_argument("--waiting", type=int, default=300, help="People checked in before the first run.")
    parser.add_argument("--call-every", type=float, default=3.0,
                        help="Mean seconds between calls, site-wide (each gap drawn from 0.5 to 1.5 times it).")
    parser.add_argument("--starved-seconds", type=float, default=20,
                        help="Seconds of the single sse_8_threads run; 0 skips it.")
    parser.add_argument("--no-https", dest="https", action="store_false",
                        help="Measure plain HTTP (waitress) instead of HTTPS (cheroot).")
    parser.add_argument("--listen-backlog", type=int, default=0,
                        help="Listen backlog of the HTTPS server, in connections (0: as fieldapp serve sets it, "
                             "fieldapp.tls.LISTEN_BACKLOG).")
    parser.add_argument("--seed", type=int, default=7, help="Seed for arrivals, desks chosen and polling phases.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="display-push-ward-") as folder:
        template = Path(folder) / "site"
        template.mkdir()
        ward = build_ward(template, args)
        sign_in_devices(template, ward, args)
        print(f"ward: {len(ward.desks)} desks, {args.waiting} people waiting, {args.stations} station screens, "
              f"{args.displays} displays, server {'https (cheroot)' if args.https else 'http (waitress)'}", flush=True)
        runs: dict[str, list[dict]] = {"polling": [], "sse": []}
        for repeat in range(args.repeats):
            for variant, results in runs.items():
                results.append(run_once(variant, template, ward, args, args.seconds, repeat))
        if args.starved_seconds > 0:
            runs["sse_8_threads"] = [run_once("sse_8_threads", template, ward, args, args.starved_seconds, 0)]
    results = {variant: medians(values) for variant, values in runs.items()}
    print_table(results)
    polling, sse = results["polling"], results["sse"]
    print(json.dumps({
        "devices": args.stations + args.displays, "stations": args.stations, "displays": args.displays,
        "server": "https" if args.https else "http", "listen_backlog": args.listen_backlog or None,
        "seconds": args.seconds, "repeats": args.repeats, "call_every_s": args.call_every,
        **results,
        "ratio_cpu_sse_over_polling": ratio(sse["server_cpu_s_per_min"], polling["server_cpu_s_per_min"]),
        "ratio_requests_sse_over_polling": ratio(sse["requests_per_s"], polling["requests_per_s"]),
        "ratio_bytes_sse_over_polling": ratio(sse["response_mb_per_min"], polling["response_mb_per_min"]),
        "ratio_latency_p95_sse_over_polling": ratio(sse["latency_all_p95_ms"], polling["latency_all_p95_ms"]),
    }))


if __name__ == "__main__":
    main()
