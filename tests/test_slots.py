"""Slot building and assignment: capacity, households, classes, the quiet share for priority people, moves."""

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest

from fieldapp.db import connect
from fieldapp.importer import import_files
from fieldapp.slots import Assignment, Slot, Unit, assign, build_slots, make_units, move

from conftest import SAMPLE, SAMPLE_DATE

DAY = dt.date(2025, 11, 3)
POPULATION = "cong-an-dan-cu.csv"
# Ward plan groups 1-3: people with merit, the elderly, and social protection, disabled, poor and near-poor people.
PRIORITY_GROUPS = {"1", "2", "3"}


def person(person_id: str, household=None, class_key=None, priority=False, order=None) -> dict:
    return {
        "id": person_id, "household": household, "class_key": class_key,
        "priority": priority, "order": order or person_id,
    }


def single(key: str, priority=False, order=None) -> Unit:
    return Unit(key, [key], priority, order or key)


def group(key: str, size: int, priority=False, order=None, is_class=False) -> Unit:
    return Unit(key, [f"{key}-{index:02d}" for index in range(size)], priority, order or key, is_class)


FULL = 36  # seats a slot at which the sample ward fits at two sites over three days


def slots_of(assignment: Assignment, person_ids: list[str]) -> list[Slot]:
    return sorted({assignment.placed[person_id] for person_id in person_ids}, key=lambda slot: (slot.date, slot.start))


def is_back_to_back(slots: list[Slot]) -> bool:
    return all(
        (later.site_id, later.date, later.start) == (earlier.site_id, earlier.date, earlier.end)
        for earlier, later in zip(slots, slots[1:])
    )


# build_slots

@pytest.mark.parametrize("options, count, first, last", [
    ({}, 8, ("07:00", "07:30"), ("10:30", "11:00")),
    ({"slot_minutes": 60}, 4, ("07:00", "08:00"), ("10:00", "11:00")),
    ({"open_time": "07:00", "close_time": "08:45"}, 3, ("07:00", "07:30"), ("08:00", "08:30")),
    ({"sessions": [("13:30", "16:30"), ("07:00", "11:00")]}, 14, ("07:00", "07:30"), ("16:00", "16:30")),
])
def test_build_slots_cuts_sessions(options, count, first, last):
    slots = build_slots("tram", [DAY], **options)

    assert len(slots) == count
    assert (slots[0].start, slots[0].end) == first
    assert (slots[-1].start, slots[-1].end) == last


def test_build_slots_sorts_dates_once():
    later = DAY + dt.timedelta(days=1)

    slots = build_slots("tram", [later, DAY, later], slot_minutes=240, capacity=15)

    assert [slot.date for slot in slots] == [DAY, later]
    assert {slot.capacity for slot in slots} == {15}


@pytest.mark.parametrize("options", [
    {"slot_minutes": 0},
    {"capacity": 0},
    {"open_time": "11:00", "close_time": "07:00"},
    {"open_time": "7h00"},
    {"close_time": "24:00"},
    {"sessions": [("07:00", "11:00"), ("10:30", "12:00")]},
])
def test_build_slots_rejects_invalid_options(options):
    with pytest.raises(ValueError):
        build_slots("tram", [DAY], **options)


# make_units

def test_make_units_groups_people():
    people = [
        person("p1", household="h1", priority=True),
        person("p2", household="h1"),
        person("p3", household="h1", class_key="school/5A"),
        person("p4", class_key="school/5A"),
        person("p5"),
    ]

    units = {unit.key: unit for unit in make_units(people)}

    assert set(units) == {"household:h1", "class:school/5A", "person:p5"}
    assert units["household:h1"].person_ids == ["p1", "p2"]
    assert units["household:h1"].priority
    assert units["class:school/5A"].person_ids == ["p3", "p4"]
    assert units["class:school/5A"].is_class
    assert not units["person:p5"].priority


def test_make_units_orders_by_first_member():
    people = [
        person("p1", household="h1", order="02 b"),
        person("p2", household="h1", order="01 z"),
        person("p3", order="01 a"),
    ]

    units = make_units(people)

    assert [unit.key for unit in units] == ["person:p3", "household:h1"]
    assert units[1].order == "01 z"
    assert units[1].person_ids == ["p2", "p1"]


def test_make_units_rejects_duplicate_person():
    with pytest.raises(ValueError, match="p1"):
        make_units([person("p1"), person("p1", household="h1")])


# assign: random inputs

def random_case(seed: int) -> tuple[list[Unit], list[Slot]]:
    """Build random households, single people and school classes, and slots at one or two sites."""
    rng = random.Random(seed)
    people = []
    for index in range(rng.randint(20, 250)):
        people.append(person(
            f"p{index:03d}",
            household=f"h{rng.randint(0, 40)}" if rng.random() < 0.5 else None,
            priority=rng.random() < 0.3,
            order=f"{rng.randint(1, 5):02d} {index:03d}",
        ))
    for number in range(rng.randint(0, 4)):
        area = rng.randint(1, 5)
        for index in range(rng.randint(5, 45)):
            people.append(person(f"c{number}-{index:02d}", class_key=f"c{number}", order=f"{area:02d} c{number}"))
    days = [DAY + dt.timedelta(days=offset) for offset in range(rng.randint(1, 3))]
    slots = build_slots("tram", days, capacity=rng.randint(3, 25), sessions=[("07:00", "09:00"), ("13:30", "15:00")])
    if rng.random() < 0.5:
        slots += build_slots("truong", days, capacity=rng.randint(3, 25))
    return make_units(people), slots


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_load_within_capacity(seed):
    units, slots = random_case(seed)

    result = assign(units, slots, quiet_share=random.Random(seed).choice([0.3, 0.6, 1.0]))

    for slot, count in result.load().items():
        assert count <= slot.capacity, slot


@pytest.mark.parametrize("seed", SEEDS)
def test_random_everyone_placed_or_listed(seed):
    units, slots = random_case(seed)
    everyone = [person_id for unit in units for person_id in unit.person_ids]

    result = assign(units, slots)

    assert sorted(list(result.placed) + result.unplaced) == sorted(everyone)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_units_stay_together(seed):
    units, slots = random_case(seed)

    result = assign(units, slots)

    for unit in units:
        placed = [person_id for person_id in unit.person_ids if person_id in result.placed]
        assert placed in ([], unit.person_ids), unit.key
        if placed and not unit.is_class:
            assert len(slots_of(result, placed)) == 1, unit.key
        if placed and unit.is_class:
            assert is_back_to_back(slots_of(result, placed)), unit.key


@pytest.mark.parametrize("seed", SEEDS)
def test_random_classes_not_interleaved(seed):
    units, slots = random_case(seed)
    unit_of = {person_id: unit.key for unit in units for person_id in unit.person_ids}

    result = assign(units, slots)

    for unit in units:
        run = slots_of(result, [person_id for person_id in unit.person_ids if person_id in result.placed])
        for slot in run[:-1]:
            sharing = {unit_of[person_id] for person_id, where in result.placed.items() if where == slot}
            assert sharing == {unit.key}, (unit.key, slot)


# assign: households and classes

def test_household_shares_one_slot():
    units = [single("a"), group("h1", 4), single("b")]
    slots = build_slots("tram", [DAY], capacity=5)

    result = assign(units, slots)

    assert len(slots_of(result, units[1].person_ids)) == 1
    assert result.unplaced == []


def test_household_fills_next_slot_with_room():
    units = [group("a", 3, order="1"), group("h1", 4, order="2")]
    slots = build_slots("tram", [DAY], capacity=5)

    result = assign(units, slots)

    assert result.placed["a-00"].start == "07:00"
    assert {result.placed[person_id].start for person_id in units[1].person_ids} == {"07:30"}


def test_class_of_35_takes_two_slots():
    school_class = group("5A", 35, is_class=True)
    slots = build_slots("truong", [DAY], capacity=20)

    result = assign([school_class], slots)
    run = slots_of(result, school_class.person_ids)

    assert len(run) == 2
    assert is_back_to_back(run)
    assert [result.load()[slot] for slot in run] == [20, 15]


def test_class_run_starts_at_empty_slot():
    school_class = group("5A", 35, order="2", is_class=True)
    units = [group("a", 16, priority=True, order="1"), school_class, group("b", 5, order="3")]
    slots = build_slots("truong", [DAY], capacity=20)

    result = assign(units, slots)
    run = slots_of(result, school_class.person_ids)

    assert [slot.start for slot in run] == ["07:30", "08:00"]
    assert result.placed["a-00"].start == "07:00"
    assert result.placed["b-00"].start == "08:00"


def test_class_run_skips_lunch_break():
    school_class = group("5A", 35, is_class=True)
    slots = build_slots("truong", [DAY], capacity=20, sessions=[("10:30", "11:00"), ("13:30", "14:30")])

    result = assign([school_class], slots)

    assert [slot.start for slot in slots_of(result, school_class.person_ids)] == ["13:30", "14:00"]


def test_household_never_split_across_slots():
    household = group("h1", 25)
    slots = build_slots("tram", [DAY], capacity=20)

    result = assign([household], slots)

    assert result.placed == {}
    assert result.unplaced == household.person_ids


# assign: priority and the quiet share

def test_priority_fills_quiet_share_first():
    priority = [single(f"old{index:02d}", priority=True) for index in range(10)]
    others = [single(f"young{index:02d}") for index in range(30)]
    slots = build_slots("tram", [DAY], capacity=10)

    result = assign(others + priority, slots)
    priority_load = Counter(result.placed[unit.key].start for unit in priority)
    total_load = Counter(slot.start for slot in result.placed.values())

    assert priority_load == {"07:00": 6, "07:30": 4}
    assert total_load["07:00"] == 6
    assert total_load["07:30"] == 4
    assert result.unplaced == []


@pytest.mark.parametrize("capacity, quiet_share, quiet_seats", [
    (20, 0.6, 12),
    (100, 0.29, 29),
    (10, 1.0, 10),
    (3, 0.1, 1),
])
def test_quiet_share_rounds_down(capacity, quiet_share, quiet_seats):
    priority = [single(f"old{index:03d}", priority=True) for index in range(capacity)]
    slots = build_slots("tram", [DAY], capacity=capacity)

    result = assign(priority, slots, quiet_share=quiet_share)

    assert result.load()[slots[0]] == quiet_seats


def test_priority_household_too_big_goes_first():
    household = group("h1", 8, priority=True, order="2")
    units = [group("a", 3, order="1"), household]
    slots = build_slots("tram", [DAY], capacity=10)

    result = assign(units, slots)

    assert {result.placed[person_id].start for person_id in household.person_ids} == {"07:00"}
    assert result.placed["a-00"].start == "07:30"


@pytest.mark.parametrize("quiet_share", [0, -0.5, 1.5])
def test_assign_rejects_invalid_quiet_share(quiet_share):
    with pytest.raises(ValueError, match="quiet share"):
        assign([single("a")], build_slots("tram", [DAY]), quiet_share=quiet_share)


def test_assign_rejects_duplicate_slots():
    slots = build_slots("tram", [DAY])

    with pytest.raises(ValueError, match="twice"):
        assign([single("a")], slots + slots[:1])


def test_assign_rejects_person_in_two_units():
    with pytest.raises(ValueError, match="two units"):
        assign([single("a"), Unit("h1", ["a", "b"], False, "h1")], build_slots("tram", [DAY]))


# assign: unplaced people

@pytest.mark.parametrize("units, capacity, unplaced", [
    ([single(f"p{index:02d}") for index in range(45)], 5, 5),
    ([group("h1", 11), single("a")], 10, 11),
    ([group("5A", 35, is_class=True)], 10, 0),
    ([group("5A", 90, is_class=True), single("a")], 10, 90),
    ([group(f"h{index}", 3) for index in range(14)], 5, 42 - 8 * 3),
])
def test_unplaced_when_capacity_short(units, capacity, unplaced):
    slots = build_slots("tram", [DAY], capacity=capacity)

    result = assign(units, slots)

    assert len(result.unplaced) == unplaced


# assign: determinism

@pytest.mark.parametrize("seed", range(4))
def test_assign_ignores_input_order(seed):
    units, slots = random_case(seed)
    shuffled_units, shuffled_slots = list(units), list(slots)
    random.Random(seed).shuffle(shuffled_units)
    random.Random(seed + 1).shuffle(shuffled_slots)

    first = assign(units, slots)
    second = assign(shuffled_units, shuffled_slots)

    assert second.placed == first.placed
    assert second.unplaced == first.unplaced


# move

@pytest.fixture
def full_morning():
    """Two slots of 2 seats: 07:00 full, 07:30 with one free seat, and a household of two unplaced."""
    slots = build_slots("tram", [DAY], close_time="08:00", capacity=2)
    return assign([single("a"), single("b"), single("c"), group("h1", 2)], slots)


def test_move_into_full_slot_rejected(full_morning):
    before = dict(full_morning.placed)

    reason = move(full_morning, ["c"], full_morning.slots[0])

    assert reason == "slot_full"
    assert full_morning.placed == before


@pytest.mark.parametrize("person_ids, target, reason", [
    (["a"], Slot("tram", DAY, "09:00", "09:30", 2), "unknown_slot"),
    (["nobody"], None, "unknown_person"),
    (["h1-00", "h1-01"], None, "slot_full"),
])
def test_move_returns_reason(full_morning, person_ids, target, reason):
    result = move(full_morning, person_ids, target or full_morning.slots[1])

    assert result == reason


def test_move_into_free_seat(full_morning):
    reason = move(full_morning, ["h1-00"], full_morning.slots[1])

    assert reason is None
    assert full_morning.placed["h1-00"] == full_morning.slots[1]
    assert full_morning.unplaced == ["h1-01"]
    assert full_morning.load()[full_morning.slots[1]] == 2


def test_move_within_same_slot_allowed(full_morning):
    reason = move(full_morning, ["a", "b"], full_morning.slots[0])

    assert reason is None
    assert full_morning.load()[full_morning.slots[0]] == 2


# The sample ward

@pytest.fixture(scope="module")
def ward_people(tmp_path_factory) -> list[dict]:
    """Import the sample ward's lists and turn its people into the dicts that make_units takes."""
    db = connect(tmp_path_factory.mktemp("ward") / "site.db")
    lists = sorted(path for path in SAMPLE.iterdir() if path.is_file() and path.name != POPULATION)
    import_files(db, lists, SAMPLE_DATE)

    rows = db.execute(
        "SELECT person_id, file_name, household FROM source_row WHERE household <> '' ORDER BY file_name, sheet, row_no"
    ).fetchall()
    households = {}
    for person_id, file_name, household in rows:
        households.setdefault(person_id, f"{file_name}/{household}")
    rows = db.execute(
        "SELECT r.person_id, r.file_name FROM source_row r JOIN person p ON p.id = r.person_id"
        " WHERE r.class_name = p.class_name ORDER BY r.file_name, r.sheet, r.row_no"
    ).fetchall()
    class_files = {}
    for person_id, file_name in rows:
        class_files.setdefault(person_id, file_name)

    people = []
    for person_id, groups, tdp, class_name, sort_key in db.execute(
        "SELECT id, groups, tdp, class_name, sort_key FROM person ORDER BY id"
    ).fetchall():
        people.append({
            "id": person_id,
            "household": households.get(person_id),
            "class_key": f"{class_files[person_id]}/{class_name}" if class_name else None,
            "priority": bool(PRIORITY_GROUPS & set(groups.split(";"))),
            "order": f"{(tdp or '').zfill(3)} {sort_key}",
        })
    db.conn.close()
    return people


def ward_slots(capacity: int) -> list[Slot]:
    days = [DAY + dt.timedelta(days=offset) for offset in range(3)]
    return build_slots("tram-y-te", days, capacity=capacity) + build_slots("truong-tieu-hoc", days, capacity=capacity)


# FULL seats a slot place everyone (48 slots for 1,118 people). Fewer leave people unplaced:
# priority people take the quiet share of many slots and others avoid those slots while they can,
# so the holes left can be too small for the waiting classes of 15 to 20 pupils.
# At 20 seats a slot (960 seats) more than 1,118 - 960 people stay unplaced, because the free seats
# left are holes smaller than any unit still waiting. With the importer as written, 348 stay
# unplaced. The waiting units are classes of 13 to 20 pupils, and the 190 free seats are in holes
# of at most 8.
@pytest.mark.parametrize("capacity", [FULL, 20])
def test_sample_ward_assignment(ward_people, capacity):
    units = make_units(ward_people)
    slots = ward_slots(capacity)

    result = assign(units, slots)
    load = result.load()
    free_seats = [slot.capacity - count for slot, count in load.items()]
    unplaced = set(result.unplaced)
    waiting_sizes = [len(unit.person_ids) for unit in units if unplaced.intersection(unit.person_ids)]

    assert len(ward_people) == 1118
    for slot, count in load.items():
        assert count <= slot.capacity, slot
    assert len(result.placed) + len(result.unplaced) == len(ward_people)
    assert len(result.unplaced) == len(ward_people) - sum(slot.capacity for slot in slots) + sum(free_seats)
    if capacity == FULL:
        assert result.unplaced == []
    if capacity == 20:
        assert len(result.unplaced) > len(ward_people) - sum(slot.capacity for slot in slots)
        assert min(waiting_sizes) > max(free_seats)


@pytest.mark.parametrize("capacity", [FULL, 20])
def test_sample_ward_keeps_units_together(ward_people, capacity):
    households = defaultdict(list)
    classes = defaultdict(list)
    for row in ward_people:
        if row["class_key"]:
            classes[row["class_key"]].append(row["id"])
        elif row["household"]:
            households[row["household"]].append(row["id"])

    result = assign(make_units(ward_people), ward_slots(capacity))

    assert len(households) == 39
    assert len(classes) == 33
    for key, members in households.items():
        placed = [member for member in members if member in result.placed]
        assert placed in ([], members), key
        assert len({result.placed[member] for member in placed}) <= 1, key
    for key, members in classes.items():
        placed = [member for member in members if member in result.placed]
        assert placed in ([], members), key
        assert len({result.placed[member].date for member in placed}) <= 1, key
        assert is_back_to_back(slots_of(result, placed)), key
