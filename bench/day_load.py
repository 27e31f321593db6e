"""Load benchmark: 60 devices through a 1,000-person exam day at one site, over HTTPS on loopback.

Usage:
    .venv/bin/python bench/day_load.py [--devices 60] [--people 1000] [--speed 20] [--quick]

The script builds a synthetic ward in a temporary folder with tests/day_load.py: everyone is invited
to a round today, and the site has its default stations and one desk per station phone. It starts
`fieldapp serve` on it in a child process (tests/live_server.py: HTTPS with the site's own CA, 8
request threads), pairs and signs in every device, and plays the day with the device roles of
tests/day_roles.py. The 60 devices are split as at a ward's health station on a big day:

- 8 reception phones: the door must keep up when a slot's people arrive together;
- 40 station phones, one per desk, shared over the station types by the minutes of work each has;
- 2 doctors, who write every conclusion;
- 2 coordinator tablets and 8 waiting-room TVs, which only poll.

People arrive evenly over the 7 hours of the default sessions. Each device opens its page at a random
moment in the day's first minute. The pauses between a person's actions are seconds of a real day.
Both are divided by --speed, but the pages' polling intervals are not. A day at --speed 20 therefore
sends 20 times a real day's writes per second, with a real day's polling.

Each request's round trip is measured in this process, which runs on the same cores as the server, so
the figures include the clients' own delays. An error is a request that got no response or an
unexpected status, or a page that the devices could not read.

The report gives p50, p95 and max round trip per endpoint: the method, the route pattern and "(htmx)"
for requests that htmx sends. A second table gives the time each endpoint spent in the app, wall and
CPU of its thread, which bench/day_load_server.py records in the server; the devices' own delays are
not in it. The last line is JSON: {"devices": N, "people": N, "errors": N, "p95_ms": {endpoint: ms,
...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from day_load import ARRIVAL_HOURS, DayLoad, build_ward, split_devices
from day_load_server import TIMINGS_VARIABLE
from live_server import SiteServer
from phone import percentile

TARGET_P95_MS = 100
QUICK_PEOPLE = 100
QUICK_SPEED = 600
QUICK_SECONDS = 60
# The day may run this much longer than its arrivals, for the last people's stations and conclusions.
TAIL_SHARE = 0.5


class TimedServer(SiteServer):
    """The site server as bench/day_load_server.py runs it: `fieldapp serve` that keeps each request's time in the app."""

    def __init__(self, data_dir: Path, log: Path, timings: Path):
        super().__init__(data_dir, log, https=True, env={TIMINGS_VARIABLE: str(timings)})
        self.timings = timings

    def command(self) -> list[str]:
        python, _module, _name, *options = super().command()
        return [python, str(Path(__file__).resolve().parent / "day_load_server.py"), *options]

    def app_times(self) -> dict[str, dict]:
        """Return p50 and p95 of the wall and CPU ms in the app per endpoint, once the server has stopped."""
        figures = {}
        for endpoint, samples in sorted(json.loads(self.timings.read_text(encoding="utf-8")).items()):
            walls, cpus = [wall for wall, _ in samples], [cpu for _, cpu in samples]
            figures[endpoint] = {"requests": len(samples),
                                 "wall_p50_ms": round(percentile(walls, 0.5), 1),
                                 "wall_p95_ms": round(percentile(walls, 0.95), 1),
                                 "cpu_p50_ms": round(percentile(cpus, 0.5), 1),
                                 "cpu_p95_ms": round(percentile(cpus, 0.95), 1)}
        return figures


def cpu_seconds(pid: int) -> float:
    """Return a process's user plus system CPU seconds from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def print_report(summary: dict, seconds: float, load: DayLoad) -> None:
    print(f"\n{'endpoint':<58}{'requests':>9}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for endpoint, figures in summary.items():
        cells = "".join(f"{figures[key] if figures[key] is not None else '-':>9}" for key in ("p50_ms", "p95_ms", "max_ms"))
        mark = "  over target" if (figures["p95_ms"] or 0) >= TARGET_P95_MS else ""
        print(f"{endpoint:<58}{figures['requests']:>9}{figures['errors']:>7}{cells}{mark}")
    requests = sum(figures["requests"] for figures in summary.values())
    print(f"\n{requests} requests in {seconds:.0f} s ({requests / seconds:.1f}/s); "
          f"{load.journal.checked_in()} checked in, {load.journal.finished_visits()} finished; "
          f"events {dict(load.recorder.events)}; reconnections {reconnections(load)}")
    for error in load.recorder.errors[:10]:
        print(f"  error: {error}")


def reconnections(load: DayLoad) -> int:
    """Return how many requests found their kept-alive connection closed by the server and connected again."""
    return sum(device.phone.reconnects for device in load.devices)


def print_app_times(app: dict[str, dict]) -> None:
    print(f"\ntime in the app{'':<43}{'wall p50':>9}{'wall p95':>9}{'CPU p50':>9}{'CPU p95':>9}")
    for endpoint, figures in app.items():
        cells = "".join(f"{figures[key]:>9}" for key in ("wall_p50_ms", "wall_p95_ms", "cpu_p50_ms", "cpu_p95_ms"))
        print(f"{endpoint:<58}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=60, help="Devices in all, split over the roles as 8:40:2:2:8.")
    parser.add_argument("--people", type=int, default=1000, help="People who come to the site during the day.")
    parser.add_argument("--speed", type=float, default=20,
                        help="How many times faster than a real day the people act; polling keeps its real rate.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the ward, the people chosen and every pause.")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="Stop the day after this many minutes (0: 1.5 times the arrivals' time, plus 1 minute).")
    parser.add_argument("--quick", action="store_true",
                        help=f"A 1-minute smoke run: {QUICK_PEOPLE} people at speed {QUICK_SPEED}.")
    args = parser.parse_args()
    people, speed = (QUICK_PEOPLE, QUICK_SPEED) if args.quick else (args.people, args.speed)
    max_seconds = args.max_minutes * 60 or ARRIVAL_HOURS * 3600 / speed * (1 + TAIL_SHARE) + 60
    if args.quick:
        max_seconds = QUICK_SECONDS

    split = split_devices(args.devices)
    with tempfile.TemporaryDirectory(prefix="day-load-") as folder:
        started = time.perf_counter()
        ward = build_ward(Path(folder), people, split, args.seed)
        print(f"ward: {len(ward.people)} people, desks {({code: len(ids) for code, ids in ward.desks.items()})}, "
              f"devices {split}; built in {time.perf_counter() - started:.0f} s", flush=True)
        with TimedServer(ward.data_dir, Path(folder) / "server.log", Path(folder) / "timings.json") as server:
            load = DayLoad(ward, server.https_port, server.ca, speed=speed, seed=args.seed)
            load.sign_in()
            cpu_before, own_before = cpu_seconds(server.process.pid), own_cpu_seconds()
            seconds = load.run(max_seconds)
            server_cpu = cpu_seconds(server.process.pid) - cpu_before
            client_cpu = own_cpu_seconds() - own_before
        if load.recorder.errors:
            failures = [line for line in server.output().splitlines() if "Error" in line or "Traceback" in line]
            for line in failures[:5]:
                print(f"  server log: {line}")
        # The server has stopped and written its timings. The devices' sign-ins are not part of the day.
        app = {endpoint: figures for endpoint, figures in server.app_times().items()
               if not endpoint.startswith(("GET /pair/", "GET /login", "POST /login"))}
    summary = load.recorder.summary()
    print_report(summary, seconds, load)
    print_app_times(app)
    print(f"CPU in {seconds:.0f} s: server {server_cpu:.0f} s ({server_cpu / seconds:.2f} cores), "
          f"devices {client_cpu:.0f} s ({client_cpu / seconds:.2f} cores)")
    p95 = {endpoint: figures["p95_ms"] for endpoint, figures in summary.items()}
    worst = max((value for value in p95.values() if value is not None), default=None)
    print(json.dumps({
        "devices": args.devices, "people": len(ward.people), "errors": len(load.recorder.errors), "p95_ms": p95,
        "reconnections": reconnections(load),
        "p50_ms": {endpoint: figures["p50_ms"] for endpoint, figures in summary.items()},
        "requests": sum(figures["requests"] for figures in summary.values()), "seconds": round(seconds),
        "speed": speed, "split": split, "checked_in": load.journal.checked_in(),
        "finished": load.journal.finished_visits(), "server_cpu_cores": round(server_cpu / seconds, 2),
        "devices_cpu_cores": round(client_cpu / seconds, 2),
        "app_p95_ms": {endpoint: figures["wall_p95_ms"] for endpoint, figures in app.items()},
        "app_cpu_p50_ms": {endpoint: figures["cpu_p50_ms"] for endpoint, figures in app.items()},
        "worst_p95_over_target": round(worst / TARGET_P95_MS, 2) if worst is not None else None,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
