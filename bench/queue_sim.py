"""Simulate exam mornings through the real queue functions on a temporary SQLite file.

Each scenario runs twice on the same seeded arrivals and service times:

- policy "ours": shortest expected wait routing, priority classes with a 20-minute head start;
- policy "baseline": the plan's fixed station order, first come first served, no priority.

A simulated clock drives call_next, start, done and absent, so nothing sleeps. The script
prints one JSON line per scenario and policy, then one line with all of them. Waits are per
person: the sum over their stations of the time from joining a line to being called, for
people who finished their visit.

    .venv/bin/python bench/queue_sim.py [--seed 7]
"""

import argparse
import datetime as dt
import heapq
import itertools
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fieldapp.db import connect, new_id, write
from fieldapp.queueing import (Policy, absent, add_desk, call_next, create_default_stations, done, enqueue_visit,
                               set_desk_open, start)
from fieldapp.rounds import SiteSpec, create_round, sites

DAY = dt.date(2026, 12, 4)
OPENING = dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.timezone.utc)  # 07:00 in Vietnam
WAVE_MINUTES = 30
WALK_S = 15          # from the waiting area to the desk, after the call
ABSENT_WAIT_S = 30   # how long a desk waits for a called person before marking them absent
SERVICE_SHAPE = 4    # gamma shape: service times have a coefficient of variation of 0.5

POLICIES = {
    "ours": Policy(),
    "baseline": Policy(routing="plan_order"),
}


@dataclass
class Scenario:
    """An exam morning: whose plan, which desks, service means and who arrives when."""

    name: str
    plan_kind: str
    desks: dict[str, int]            # station type code: open desks
    service_mean_s: dict[str, float]
    waves: int
    per_wave: int
    walk_ins: int = 0
    absent_rate: float = 0.04        # chance a called person is away from the line at that call
    leave_rate: float = 0.01         # chance a person leaves the site halfway and never responds again
    people: list[dict] = field(default_factory=list)


def school(rng: random.Random) -> Scenario:
    """600 pupils in class waves of 75, 8 desks, quick pupil exams."""
    scenario = Scenario(
        "school_morning", "pupil",
        desks={"measure": 1, "blood_pressure": 1, "vision": 1, "dental": 1, "ent": 1, "exam": 1, "doctor": 2},
        service_mean_s={"measure": 25, "blood_pressure": 30, "vision": 35, "dental": 30, "ent": 30, "exam": 20,
                        "doctor": 50},
        waves=8, per_wave=75)
    for index in range(scenario.waves * scenario.per_wave):
        disabled = rng.random() < 0.02
        scenario.people.append({"arrive_s": (index // scenario.per_wave) * WAVE_MINUTES * 60 + rng.uniform(0, 300),
                                "class": "priority" if disabled else "normal"})
    return scenario


def residential(rng: random.Random) -> Scenario:
    """300 invited elderly in waves of 50 plus 60 walk-ins through the morning, 7 desks."""
    scenario = Scenario(
        "residential_morning", "adult",
        desks={"measure": 1, "blood_pressure": 1, "glucose": 1, "vision": 1, "exam": 2, "doctor": 1},
        service_mean_s={"measure": 40, "blood_pressure": 55, "glucose": 40, "vision": 40, "exam": 80,
                        "doctor": 50},
        waves=6, per_wave=50, walk_ins=60, absent_rate=0.06, leave_rate=0.02)
    span_s = scenario.waves * WAVE_MINUTES * 60
    for index in range(scenario.waves * scenario.per_wave):
        age = rng.randint(60, 92)
        scenario.people.append({"arrive_s": (index // scenario.per_wave) * WAVE_MINUTES * 60 + rng.uniform(0, 600),
                                "class": _adult_class(rng, age)})
    for _ in range(scenario.walk_ins):
        scenario.people.append({"arrive_s": rng.uniform(0, span_s), "class": _adult_class(rng, rng.randint(25, 80))})
    return scenario


def _adult_class(rng: random.Random, age: int) -> str:
    if rng.random() < 0.01:
        return "emergency"
    if age >= 75 or rng.random() < 0.05:  # 5%: disabled, merit or pregnant
        return "priority"
    return "normal"


def prepare(folder: Path, scenario: Scenario):
    """Create the site file, the round's stations and the scenario's desks; return (db, desks by code)."""
    db = connect(folder / "site.db")
    # The benchmark measures the policy, not disk syncs: NORMAL skips the fsync at each commit.
    db.execute("PRAGMA synchronous=NORMAL")
    with write(db):
        round_id = create_round(db, "Đợt mô phỏng", DAY, 1, [SiteSpec("Điểm khám mô phỏng", "", 100)])
    site_id = sites(db, round_id)[0]["id"]
    station_ids = create_default_stations(db, site_id)
    desks_by_code: dict[str, list[str]] = {}
    for code, station_type_id in station_ids.items():
        (first,) = db.execute("SELECT id FROM desk WHERE station_type_id = ?", [station_type_id]).fetchone()
        desk_count = scenario.desks.get(code, 0)
        if desk_count == 0:
            set_desk_open(db, first, False)
            continue
        with write(db):
            extra = [add_desk(db, station_type_id, scenario.service_mean_s[code]) for _ in range(desk_count - 1)]
            db.execute("UPDATE desk SET mean_service_s = ? WHERE id = ?", [scenario.service_mean_s[code], first])
        desks_by_code[code] = [first, *extra]
    return db, round_id, site_id, desks_by_code


def run(scenario: Scenario, policy_name: str, seed: int) -> dict:
    """Simulate one morning and return its summary line."""
    policy = POLICIES[policy_name]
    rng = random.Random(seed)  # the same draws for both policies, in order of use
    with tempfile.TemporaryDirectory() as tmp:
        db, round_id, site_id, desks_by_code = prepare(Path(tmp), scenario)
        code_of_desk = {desk: code for code, desks in desks_by_code.items() for desk in desks}
        idle = {code: set(desks) for code, desks in desks_by_code.items()}
        events: list = []
        sequence = itertools.count()
        visits: dict[str, dict] = {}
        occupied: dict[str, list[float]] = {code: [] for code in desks_by_code}

        def at(seconds: float) -> dt.datetime:
            return OPENING + dt.timedelta(seconds=seconds)

        def schedule(seconds: float, kind: str, payload) -> None:
            heapq.heappush(events, (seconds, next(sequence), kind, payload))

        def wake(code: str, now_s: float) -> None:
            for desk_id in idle[code]:
                schedule(now_s, "free", desk_id)
            idle[code].clear()

        with write(db):
            for index, person in enumerate(scenario.people):
                visit_id = new_id()
                db["visit"].insert({"id": visit_id, "round_id": round_id, "site_id": site_id, "person_id": new_id(),
                                    "day": DAY.isoformat(), "checked_in_at": at(person["arrive_s"]).isoformat(),
                                    "queue_number": index + 1, "plan_kind": scenario.plan_kind})
                visits[visit_id] = {**person, "gone": False}
                schedule(person["arrive_s"], "arrive", visit_id)

        while events:
            now_s, _, kind, payload = heapq.heappop(events)
            if kind == "arrive":
                person = visits[payload]
                priority = person["class"] if policy_name == "ours" else "normal"
                destination = enqueue_visit(db, payload, priority, at=at(now_s), policy=policy)
                wake(destination.code, now_s)
            elif kind == "free":
                desk_id = payload
                task = call_next(db, desk_id, at=at(now_s))
                if task is None:
                    idle[code_of_desk[desk_id]].add(desk_id)
                    continue
                person = visits[task["visit_id"]]
                if not person["gone"] and rng.random() < scenario.leave_rate:
                    person["gone"] = True
                if person["gone"] or rng.random() < scenario.absent_rate:
                    schedule(now_s + ABSENT_WAIT_S, "absent", (desk_id, task["id"]))
                    continue
                mean = scenario.service_mean_s[code_of_desk[desk_id]]
                service_s = rng.gammavariate(SERVICE_SHAPE, mean / SERVICE_SHAPE)
                occupied[code_of_desk[desk_id]].append(WALK_S + service_s)
                schedule(now_s + WALK_S + service_s, "finish", (desk_id, task["id"], now_s + WALK_S))
            elif kind == "absent":
                desk_id, task_id = payload
                absent(db, task_id, policy=policy)
                # A person away for a moment is back in line; the desk moves on either way.
                schedule(now_s, "free", desk_id)
                wake(code_of_desk[desk_id], now_s)
            elif kind == "finish":
                desk_id, task_id, started_s = payload
                start(db, task_id, at=at(started_s))
                destination = done(db, task_id, at=at(now_s), policy=policy)
                schedule(now_s, "free", desk_id)
                if destination is not None:
                    wake(destination.code, now_s)

        summary = summarize(db, scenario, policy_name, visits, desks_by_code, occupied)
        db.conn.close()
        return summary


def summarize(db, scenario: Scenario, policy_name: str, visits: dict, desks_by_code: dict, occupied: dict) -> dict:
    rows = db.execute("SELECT visit_id, status, enqueued_at, called_at, done_at FROM task").fetchall()
    open_visits = {visit_id for visit_id, status, *_ in rows if status != "done"}
    waits: dict[str, float] = {}
    last_done = OPENING
    for visit_id, status, enqueued_at, called_at, done_at in rows:
        if visit_id in open_visits:
            continue
        wait = dt.datetime.fromisoformat(called_at) - dt.datetime.fromisoformat(enqueued_at)
        waits[visit_id] = waits.get(visit_id, 0.0) + wait.total_seconds() / 60
        last_done = max(last_done, dt.datetime.fromisoformat(done_at))
    first_arrival_s = min(person["arrive_s"] for person in visits.values())
    hours = ((last_done - OPENING).total_seconds() - first_arrival_s) / 3600

    by_class: dict[str, list[float]] = {}
    for visit_id, wait in waits.items():
        by_class.setdefault(visits[visit_id]["class"], []).append(wait)
    medians = {name: statistics.median(values) for name, values in by_class.items()}
    ratios = [wait / medians[visits[visit_id]["class"]] for visit_id, wait in waits.items()
              if medians[visits[visit_id]["class"]] > 0]

    # Each desk's limit: people per hour at the mean time a person occupies it (walk plus service).
    limits = {code: len(desks) * 3600 / statistics.mean(occupied[code]) for code, desks in desks_by_code.items()}
    bottleneck = min(limits, key=limits.get)
    return {
        "scenario": scenario.name,
        "policy": policy_name,
        "served_per_hour": round(len(waits) / hours, 1),
        "bottleneck_per_hour": round(limits[bottleneck], 1),
        "median_wait_min": {name: round(medians[name], 1) for name in ("emergency", "priority", "normal")
                            if name in medians},
        "max_wait_ratio": round(max(ratios), 2) if ratios else None,
        "bottleneck_station": bottleneck,
        "people": len(visits),
        "finished": len(waits),
        "hours": round(hours, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="seed for arrivals, classes and service times")
    args = parser.parse_args()
    began = time.perf_counter()
    runs = []
    for build in (school, residential):
        for policy_name in POLICIES:
            scenario = build(random.Random(args.seed))
            runs.append(run(scenario, policy_name, args.seed + 1))
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    # Like the other benchmarks, the last line contains every run, for `tail -n 1`.
    print(json.dumps({"runs": runs, "elapsed_s": round(time.perf_counter() - began, 1)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
