"""Play an exam day against a real site server, as its phones, tablets and TVs do: the load driver.

bench/day_load.py measures a 1,000-person day with it, and tests/test_crash.py kills the server under it.
The day is a synthetic ward (fieldapp.synthetic) imported the normal way, with a round open today at one
site, everyone invited, and the site's default stations plus one desk for every station phone. Every
device is paired with a one-time link and signed in with a PIN, and talks to the server over HTTP(S)
only (tests/phone.py). The roles are in tests/day_roles.py:

- reception phones check people in by slip token, and one in ten by a name search;
- station phones call the next person at their desk, enter the measurements through the entry form and
  send the person on;
- doctors call at the doctor's desk, write the conclusion and finish the visit;
- coordinator screens and waiting-room displays poll as their pages do.

People arrive in the order of their invitation slots, spread evenly over the sessions of the day.
The pauses between a person's actions are real seconds divided by `speed`. The polling intervals are
the product's and are never scaled. Every request is recorded with its route pattern, status and
round trip. Every write that the server acknowledged is kept in a journal, which the crash test checks
against the database.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from day_roles import ROLES, Device
from phone import Phone, pairing_tokens, percentile, tls_context

PIN = "1357"
ADMIN = "admin"
# People per resident in a synthetic ward's lists is about 0.4, so 3 residents per person leaves a margin.
RESIDENTS_PER_PERSON = 3
# The default sessions (fieldapp.rounds.DEFAULT_SESSIONS, 07:00-11:00 and 13:30-16:30) have 14 half-hour
# slots; people arrive evenly over their 7 hours.
ARRIVAL_HOURS = 7
DEFAULT_SPLIT = {"reception": 8, "station": 40, "doctor": 2, "coordinator": 2, "display": 8}
# Accounts sign in one after another, as staff arrive, with this many at a time.
SIGN_IN_THREADS = 4
# The day is over when nothing was acknowledged for this many seconds after the last arrival.
IDLE_SECONDS = 30


# The ward.

@dataclass(frozen=True)
class Person:
    """A person invited today: the slip token, and the name and birth year typed in a search."""

    person_id: str
    token: str
    name: str
    birth_year: str


@dataclass
class Ward:
    """What the devices need to know about the day in the data folder."""

    data_dir: Path
    round_id: str
    site_id: str
    day: str
    people: list[Person]                      # in arrival order
    desks: dict[str, list[str]]               # station code -> the desk ids that phones serve
    accounts: dict[str, str]                  # username -> role
    pairing: dict[str, str] = field(default_factory=dict)   # username -> pairing token


def split_devices(devices: int) -> dict[str, int]:
    """Split a number of devices over the roles in the proportions of DEFAULT_SPLIT, at least one each."""
    if devices < len(DEFAULT_SPLIT):
        raise ValueError(f"at least {len(DEFAULT_SPLIT)} devices are needed, one per role; got {devices}")
    total = sum(DEFAULT_SPLIT.values())
    split = {role: max(1, math.floor(devices * count / total)) for role, count in DEFAULT_SPLIT.items()}
    # Devices left over go to the station phones, which have the most to do.
    split["station"] += devices - sum(split.values())
    return split


def build_ward(folder: Path, people: int, split: dict[str, int], seed: int = 1,
               plan_kinds: tuple[str, ...] | None = None, residents: int | None = None) -> Ward:
    """Import a synthetic ward into folder/site, open today's round, add desks, accounts and pairing tokens.

    plan_kinds keeps only people of those plan kinds (adult, pupil, worker, under36m) in the day.
    residents sets the size of the synthetic ward, RESIDENTS_PER_PERSON times people by default.
    Raises ValueError when the ward has fewer such people than requested.
    """
    from fieldapp.auth import add_staff
    from fieldapp.db import DATABASE_NAME, connect, write
    from fieldapp.importer import import_files
    from fieldapp.invitations import invite
    from fieldapp.rounds import SiteSpec, create_round, sites
    from fieldapp.synthetic import MIN_RESIDENTS, generate

    data_dir = Path(folder) / "site"
    data_dir.mkdir(parents=True)
    lists = Path(folder) / "ward"
    generate(max(MIN_RESIDENTS, residents or people * RESIDENTS_PER_PERSON), seed, lists)
    day = dt.date.today()
    db = connect(data_dir / DATABASE_NAME)
    try:
        import_files(db, sorted((lists / "lists").iterdir()), day)
        roster = db.execute("SELECT count(*) FROM person").fetchone()[0]
        with write(db):
            round_id = create_round(db, "Đợt khám định kỳ", day, 1,
                                    [SiteSpec("Trạm Y tế phường", "12 Lê Lợi", math.ceil(roster / 14) + 1)])
            site_id = sites(db, round_id)[0]["id"]
            invite(db, round_id, site_id, "all")
        chosen = _choose_people(db, round_id, day, people, seed, plan_kinds)
        desks = _add_desks(db, round_id, site_id, chosen, split)
        accounts = {ADMIN: "site_admin"}
        for role, count in split.items():
            account_role = "coordinator" if role == "display" else role
            accounts.update({f"{role}{number}": account_role for number in range(count)})
        with write(db):
            for username, role in accounts.items():
                add_staff(db, username, username, role, PIN)
    finally:
        db.conn.close()
    ward = Ward(data_dir, round_id, site_id, day.isoformat(), [person for person, _ in chosen], desks, accounts)
    ward.pairing = pairing_tokens(data_dir, [name for name in accounts if name != ADMIN], ADMIN)
    return ward


def _choose_people(db, round_id: str, day: dt.date, people: int, seed: int,
                   plan_kinds: tuple[str, ...] | None) -> list[tuple[Person, str]]:
    """Return (person, plan kind) for `people` invited people drawn at random, in the order of their slots."""
    from fieldapp.visits import plan_for

    rows = db.execute("""SELECT person.id, invitation.token, person.full_name, person.birth_date, person.groups,
                                invitation.slot_start
                         FROM invitation JOIN person ON person.id = invitation.person_id
                         WHERE invitation.round_id = ? AND invitation.status = 'active'
                         ORDER BY person.id""", [round_id]).fetchall()
    candidates = []
    for person_id, token, name, birth_date, groups, slot in rows:
        kind, _ = plan_for(db, round_id, {"birth_date": birth_date, "groups": groups or ""}, day.isoformat())
        if plan_kinds is None or kind in plan_kinds:
            candidates.append((person_id, token, name, birth_date, slot or "", kind))
    if len(candidates) < people:
        raise ValueError(f"the ward has {len(candidates)} people of plan kinds {plan_kinds or 'any'}; {people} requested")
    chosen = random.Random(seed).sample(candidates, people)
    chosen.sort(key=lambda row: (row[4], row[0]))
    return [(Person(person_id, token, name, (birth_date or "")[:4]), kind)
            for person_id, token, name, birth_date, _slot, kind in chosen]


def _add_desks(db, round_id: str, site_id: str, chosen: list[tuple[Person, str]],
               split: dict[str, int]) -> dict[str, list[str]]:
    """Create the default stations and one desk per station phone and doctor; return code -> desk ids.

    Station phones go to the station types in proportion to the minutes of work each has in the day,
    which is the number of people who need it times its default service time. Each type needed gets at
    least one phone while there are phones enough.
    """
    from fieldapp import queueing
    from fieldapp.db import write
    from fieldapp.rounds import station_plans

    station_types = queueing.create_default_stations(db, site_id)
    plans = station_plans(db, round_id)
    work: Counter = Counter()
    for _person, kind in chosen:
        for code in {queueing.station_code(item) for item in plans.get(kind, [])} - {"doctor", None}:
            work[code] += queueing.STATION_DEFAULTS[code].service_s
    phones = _share(split["station"], work)
    phones["doctor"] = split["doctor"]

    desks: dict[str, list[str]] = {}
    with write(db):
        for code, count in phones.items():
            existing = [row[0] for row in db.execute("SELECT id FROM desk WHERE station_type_id = ? ORDER BY number",
                                                     [station_types[code]]).fetchall()]
            while len(existing) < count:
                existing.append(queueing.add_desk(db, station_types[code]))
            desks[code] = existing[:count]
    return desks


def _share(phones: int, work: Counter) -> dict[str, int]:
    """Share phones over codes in proportion to work by largest remainder, one each first when phones allow."""
    codes = sorted(work, key=lambda code: -work[code])
    shares = {code: 0 for code in codes}
    if phones >= len(codes):
        shares = {code: 1 for code in codes}
    left = phones - sum(shares.values())
    total = sum(work.values())
    exact = {code: left * work[code] / total for code in codes}
    for code in codes:
        shares[code] += math.floor(exact[code])
    by_remainder = sorted(codes, key=lambda code: exact[code] - math.floor(exact[code]), reverse=True)
    for code in by_remainder[:phones - sum(shares.values())]:
        shares[code] += 1
    return {code: count for code, count in shares.items() if count}


# What the devices record.

@dataclass(frozen=True)
class Sample:
    """One request: its endpoint (method, route pattern, "(htmx)" when htmx sent it), status and round trip."""

    endpoint: str
    status: int               # 0 when no response came
    ms: float
    ok: bool
    at: float                 # time.monotonic() when the response came


class Recorder:
    """Every request's sample and every error, from all device threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.events: Counter = Counter()
        self.posts_in_flight = 0

    def add(self, endpoint: str, status: int, ms: float, ok: bool, problem: str = "") -> None:
        with self.lock:
            self.samples.append(Sample(endpoint, status, ms, ok, time.monotonic()))
            if not ok:
                self.errors.append(f"{endpoint}: {problem or f'HTTP {status}'}")

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def event(self, name: str) -> None:
        """Count something a device met that is not an error: a confirmation asked, a person absent."""
        with self.lock:
            self.events[name] += 1

    def count_post(self, change: int) -> None:
        with self.lock:
            self.posts_in_flight += change

    def summary(self) -> dict[str, dict]:
        """Return count, errors, p50, p95 and max round trip in ms per endpoint, of the responses that came."""
        by_endpoint: dict[str, list[Sample]] = defaultdict(list)
        with self.lock:
            for sample in self.samples:
                by_endpoint[sample.endpoint].append(sample)
        figures = {}
        for endpoint, samples in sorted(by_endpoint.items()):
            times = [sample.ms for sample in samples if sample.status]
            figures[endpoint] = {
                "requests": len(samples), "errors": sum(not sample.ok for sample in samples),
                "p50_ms": round(percentile(times, 0.50), 1) if times else None,
                "p95_ms": round(percentile(times, 0.95), 1) if times else None,
                "max_ms": round(max(times), 1) if times else None,
            }
        return figures


@dataclass(frozen=True)
class Write:
    """A write the server acknowledged: what it was, the idempotency key it was sent with, and what it stored.

    kind is check_in, call, start, absent, done, observations, conclusion or finish. detail contains the
    person and token of a check-in, the task of a desk action, the typed values {"item.reading": text}
    of observations, and the health class and summary of a conclusion.
    """

    kind: str
    key: str
    visit_id: str | None
    detail: dict
    at: float                 # time.monotonic() when the acknowledgement came


class Journal:
    """The acknowledged writes of every device, in the order the acknowledgements came."""

    def __init__(self):
        self.lock = threading.Lock()
        self.writes: list[Write] = []

    def add(self, kind: str, key: str, visit_id: str | None, **detail) -> None:
        with self.lock:
            self.writes.append(Write(kind, key, visit_id, detail, time.monotonic()))

    def all(self) -> list[Write]:
        with self.lock:
            return list(self.writes)

    def last_at(self) -> float:
        with self.lock:
            return self.writes[-1].at if self.writes else 0.0

    def finished_visits(self) -> int:
        with self.lock:
            return len({write.visit_id for write in self.writes if write.kind == "finish"})

    def checked_in(self) -> int:
        with self.lock:
            return len({write.detail["person_id"] for write in self.writes if write.kind == "check_in"})


class Arrivals:
    """People arriving at the door in slot order, each at start + n × interval; a person can be sent back."""

    def __init__(self, people: list[Person], interval: float):
        self.lock = threading.Lock()
        self.people = people
        self.interval = interval
        self.next = 0
        self.returned: list[Person] = []
        self.start = time.monotonic()

    def take(self, stop: threading.Event) -> Person | None:
        """Return the next person once they have arrived, or None when everyone has been taken or on stop."""
        with self.lock:
            if self.returned:
                return self.returned.pop(0)
            if self.next >= len(self.people):
                return None
            person, due = self.people[self.next], self.start + self.next * self.interval
            self.next += 1
        if stop.wait(max(due - time.monotonic(), 0)):
            return None
        return person

    def send_back(self, person: Person) -> None:
        """Put a person whose check-in failed back at the door, to be checked in next."""
        with self.lock:
            self.returned.append(person)

    def all_taken(self) -> bool:
        with self.lock:
            return self.next >= len(self.people) and not self.returned


# The day.

class DayLoad:
    """Sign every device in, run them in threads until the day is over or stop(), and keep what they recorded."""

    def __init__(self, ward: Ward, port: int, ca: Path | None, speed: float = 1.0, seed: int = 1,
                 arrival_hours: float = ARRIVAL_HOURS, retry_seconds: float = 1.0, give_up_seconds: float = 60.0):
        self.ward = ward
        self.port = port
        self.context = tls_context(ca)
        self.speed = speed
        self.seed = seed
        self.retry_seconds = retry_seconds
        self.give_up_seconds = give_up_seconds
        self.recorder = Recorder()
        self.journal = Journal()
        self.stopping = threading.Event()
        self.arrivals = Arrivals(ward.people, arrival_hours * 3600 / max(len(ward.people), 1) / speed)
        self.devices: list[Device] = []
        self.threads: list[threading.Thread] = []

    def sign_in(self) -> None:
        """Pair and sign in every device; raise RuntimeError naming the devices that failed."""
        desks = {code: iter(ids) for code, ids in self.ward.desks.items()}
        station_desks = [(code, desk_id) for code, ids in self.ward.desks.items() if code != "doctor" for desk_id in ids]
        numbers: Counter = Counter()
        for username in self.ward.pairing:
            role = username.rstrip("0123456789")
            desk = None
            if role == "station":
                desk = station_desks[numbers[role]]
            elif role == "doctor":
                desk = ("doctor", next(desks["doctor"]))
            numbers[role] += 1
            device = ROLES[role](username, Phone(self.port, self.context), self, desk)
            self.devices.append(device)
        errors = []

        def sign_in_one(device: Device) -> None:
            try:
                device.phone.pair(self.ward.pairing[device.name])
                device.phone.sign_in(device.name, PIN, device.home())
            except Exception as error:  # noqa: BLE001 - reported below with the device's name
                errors.append(f"{device.name}: {error}")

        pending = list(self.devices)
        while pending:
            batch, pending = pending[:SIGN_IN_THREADS], pending[SIGN_IN_THREADS:]
            workers = [threading.Thread(target=sign_in_one, args=(device,)) for device in batch]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        if errors:
            raise RuntimeError("sign-in failed: " + "; ".join(errors[:5]))

    def start(self) -> None:
        """Start every device's thread; people start arriving now."""
        self.arrivals.start = time.monotonic()
        for number, device in enumerate(self.devices):
            device.rng = random.Random(self.seed * 1000 + number)
            thread = threading.Thread(target=device.run, name=device.name, daemon=True)
            self.threads.append(thread)
            thread.start()

    def day_over(self) -> bool:
        """True once everyone has arrived and every person checked in has finished, or nothing moves any more."""
        if not self.arrivals.all_taken():
            return False
        if self.journal.finished_visits() >= self.journal.checked_in():
            return True
        return time.monotonic() - self.journal.last_at() > IDLE_SECONDS

    def run(self, max_seconds: float) -> float:
        """Run the day until it is over or max_seconds have passed; stop the devices and return the seconds run."""
        self.start()
        while not self.day_over() and time.monotonic() - self.arrivals.start < max_seconds:
            time.sleep(0.5)
        self.stop()
        return time.monotonic() - self.arrivals.start

    def stop(self) -> None:
        """Stop every device after its current request and wait for the threads."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        for device in self.devices:
            device.phone.close()

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopping; return False when the day is stopping."""
        return not self.stopping.wait(max(seconds, 0))

    def pause(self, rng: random.Random, bounds: tuple[float, float]) -> bool:
        """Wait a person's pause drawn from bounds (seconds at speed 1), scaled by speed; False when stopping."""
        return self.sleep(rng.uniform(*bounds) / self.speed)
