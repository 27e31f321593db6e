"""Load test of check-in: 50 phones at the door scanning slips of the sample ward at once.

Each simulated device is a thread with its own signed-in session and keep-alive connection. It scans
its share of the round's slips (POST /checkin/scan with the token) and checks each person in
(POST /checkin/visit). The server is a real `fieldapp serve` subprocess on 127.0.0.1, over plain HTTP
and, when `fieldapp serve` has HTTPS, over HTTPS with the laptop's own CA. Server time is the
Server-Timing header the check-in views send (time inside the app); round trip is measured here.

    .venv/bin/python bench/checkin_load.py [--devices 50] [--slips 1000]

The last line of output is JSON: {"devices": 50, "servers": {"http": {"p50_ms": .., "p95_ms": .., "errors": ..}, ...}}.
"""

import argparse
import random
import datetime as dt
import json
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from phone import Phone, percentile

SAMPLE = REPO / "tests" / "data" / "ward-3000"
SAMPLE_DATE = dt.date(2025, 10, 15)
PIN = "1111"
START_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 30
_PERSON = re.compile(r'name="person_id" value="([^"]+)"')
_TIMING = re.compile(r"app;dur=([\d.]+)")


def build_ward(folder: Path, devices: int) -> list[str]:
    """Import the sample ward, open today's round at one station, add one reception account per device."""
    from fieldapp.auth import add_staff
    from fieldapp.db import DATABASE_NAME, connect, write
    from fieldapp.importer import import_files
    from fieldapp.invitations import invite
    from fieldapp.rounds import SiteSpec, create_round, sites

    db = connect(folder / DATABASE_NAME)
    lists = sorted(p for p in SAMPLE.iterdir() if p.is_file() and p.name != "cong-an-dan-cu.csv")
    import_files(db, lists, SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", dt.date.today(), 1, [SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 60)])
        invite(db, round_id, sites(db, round_id)[0]["id"], "all")
        for number in range(devices):
            add_staff(db, f"reception{number}", f"Lễ tân {number}", "reception", PIN)
    tokens = [row[0] for row in db.execute(
        "SELECT token FROM invitation WHERE round_id = ? AND status = 'active' ORDER BY token", [round_id]).fetchall()]
    db.conn.close()
    return tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"fieldapp serve exited with code {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"fieldapp serve did not listen on port {port} within {START_SECONDS} s")


def serve_has_https() -> bool:
    help_text = subprocess.run([sys.executable, "-m", "fieldapp.cli", "serve", "--help"], capture_output=True,
                               text=True, check=True).stdout
    return "--no-https" in help_text


def run_devices(port: int, context: ssl.SSLContext | None, tokens: list[str], devices: int,
                pause: tuple[float, float] = (0.0, 0.0)) -> dict:
    """Run the devices against one server; return server times, round trips and errors."""
    server_ms: list[float] = []
    round_trip_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(devices)

    # Phones sign in one after another, as staff arrive; only the check-ins run at once. They sign in at the
    # laptop's own address, where no pairing is needed.
    signed_in: list[Phone | None] = []
    for number in range(devices):
        device = Phone(port, context, REQUEST_TIMEOUT_SECONDS)
        try:
            device.sign_in(f"reception{number}", PIN, "/checkin/")
            signed_in.append(device)
        except Exception as error:  # counted as errors in the report
            errors.append(f"sign-in {number}: {error}")
            signed_in.append(None)

    def work(number: int) -> None:
        device = signed_in[number]
        pacing = random.Random(number)
        barrier.wait()
        if device is None:
            return
        for token in tokens[number::devices]:
            try:
                # The person hands over a slip, then reception checks the face and asks for consent.
                time.sleep(pacing.uniform(*pause))
                scanned = device.request("POST", "/checkin/scan", {"code": token, "csrf_token": device.csrf})
                person = _PERSON.search(scanned.text)
                samples = [(scanned.elapsed_ms, _server_ms(scanned))]
                if scanned.status != 200 or person is None:
                    raise RuntimeError(f"scan HTTP {scanned.status}, no person")
                form = {"person_id": person.group(1), "consent": "1", "consent_by": "self", "csrf_token": device.csrf}
                if 'value="guardian" checked' in scanned.text:
                    # A child: the page preselects the guardian; a parent agrees and a child from 7 assents.
                    form.update(consent_by="guardian", guardian_name="Nguyễn Văn Bố", child_assent="1")
                time.sleep(pacing.uniform(*pause))
                visit = device.request("POST", "/checkin/visit", form)
                samples.append((visit.elapsed_ms, _server_ms(visit)))
                if visit.status != 200 or 'data-outcome="ok"' not in visit.text:
                    raise RuntimeError(f"visit HTTP {visit.status}")
                with lock:
                    round_trip_ms.extend(sample[0] for sample in samples)
                    server_ms.extend(sample[1] for sample in samples if sample[1] is not None)
            except Exception as error:  # counted as errors in the report
                with lock:
                    errors.append(f"{token}: {error}")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(devices)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"server_ms": server_ms, "round_trip_ms": round_trip_ms, "errors": errors,
            "seconds": time.perf_counter() - started}


def _server_ms(reply) -> float | None:
    """Return the app's time from the reply's Server-Timing header in ms, or None without one."""
    timing = _TIMING.search(reply.server_timing)
    return float(timing.group(1)) if timing else None


def bench_server(name: str, template: Path, tokens: list[str], devices: int, https: bool, has_https: bool,
                 pause: tuple[float, float]) -> dict:
    """Start a server on a fresh copy of the ward, run the devices, stop the server; return the summary."""
    with tempfile.TemporaryDirectory(prefix=f"checkin-{name}-") as folder:
        data_dir = Path(folder) / "site"
        shutil.copytree(template, data_dir)
        log = Path(folder) / "server.log"
        http_port, https_port = free_port(), free_port()
        command = [sys.executable, "-m", "fieldapp.cli", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                   "--port", str(http_port), "--threads", "8"]
        if https:
            command += ["--https-port", str(https_port)]
        elif has_https:
            command += ["--no-https"]
        with log.open("w") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            port = https_port if https else http_port
            wait_for_port(port, process, log)
            context = None
            if https:
                ca = next(data_dir.rglob("ca.pem"))
                context = ssl.create_default_context(cafile=str(ca))
            result = run_devices(port, context, tokens, devices, pause)
            if result["errors"]:
                failures = [line for line in log.read_text(errors="replace").splitlines() if "Error" in line]
                print(f"{name}: server log errors: {failures[:5]}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    server_ms, round_trip = result["server_ms"], result["round_trip_ms"]
    summary = {
        "p50_ms": round(statistics.median(server_ms), 1) if server_ms else None,
        "p95_ms": round(percentile(server_ms, 0.95), 1),
        "errors": len(result["errors"]),
    }
    print(f"{name}: {len(round_trip)} requests in {result['seconds']:.1f} s; server time p50 {summary['p50_ms']} ms, "
          f"p95 {summary['p95_ms']} ms; round trip p50 {statistics.median(round_trip) if round_trip else float('nan'):.1f} ms, "
          f"p95 {percentile(round_trip, 0.95):.1f} ms; errors {summary['errors']}")
    for error in result["errors"][:5]:
        print(f"  error: {error}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50, help="Simulated phones, each a thread with its own session.")
    parser.add_argument("--slips", type=int, default=1000, help="Slips scanned and checked in per server, in all.")
    parser.add_argument("--pause", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="Seconds a device waits before each request, drawn uniformly: a receptionist reading "
                             "a slip, checking a face, asking for consent. 0 0 saturates the server.")
    args = parser.parse_args()
    pause = tuple(args.pause)

    with tempfile.TemporaryDirectory(prefix="checkin-ward-") as folder:
        template = Path(folder) / "site"
        template.mkdir()
        tokens = build_ward(template, args.devices)[:args.slips]
        has_https = serve_has_https()
        servers = {"http": bench_server("http", template, tokens, args.devices, https=False, has_https=has_https,
                                        pause=pause)}
        if has_https:
            servers["https"] = bench_server("https", template, tokens, args.devices, https=True, has_https=True,
                                            pause=pause)
    print(json.dumps({"devices": args.devices, "pause_s": list(pause), "servers": servers}))


if __name__ == "__main__":
    main()
