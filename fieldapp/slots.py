"""Exam slots: cut a site's opening hours into slots and give every invited person a date and a slot.

Pure domain logic with no Flask or database. A unit is a group that must come together:
a school class, a household or one person.
"""

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_QUIET_SHARE = 0.6


@dataclass
class Unit:
    """People who come together.

    `order` sorts units so that one area's units are placed next to each other (area, then name key).
    `is_class` marks a school class, the only kind of unit that may take a run of consecutive slots.
    """

    key: str
    person_ids: list[str]
    priority: bool
    order: str
    is_class: bool = False


@dataclass(frozen=True)
class Slot:
    """One exam slot at one site, from `start` to `end` ("HH:MM"), seating `capacity` people."""

    site_id: str
    date: dt.date
    start: str
    end: str
    capacity: int


@dataclass
class Assignment:
    """The result of `assign`: each placed person's slot, and the people that no slot had room for."""

    slots: list[Slot]
    placed: dict[str, Slot] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)

    def load(self) -> dict[Slot, int]:
        """Count the people placed in each slot, with 0 for empty slots."""
        counts = Counter(self.placed.values())
        return {slot: counts[slot] for slot in self.slots}


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"invalid time {text!r}: expected HH:MM, e.g. 07:30")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def build_slots(
    site_id: str,
    dates: list[dt.date],
    open_time: str = "07:00",
    close_time: str = "11:00",
    slot_minutes: int = 30,
    capacity: int = 20,
    sessions: list[tuple[str, str]] | None = None,
) -> list[Slot]:
    """Cut each date's sessions into slots of `slot_minutes`, sorted by date and start time.

    `sessions` lists (open, close) pairs such as morning and afternoon and replaces open_time and close_time.
    A remainder of a session shorter than `slot_minutes` gets no slot.
    """
    if slot_minutes < 1:
        raise ValueError(f"invalid slot length {slot_minutes} minutes: expected 1 or more")
    if capacity < 1:
        raise ValueError(f"invalid slot capacity {capacity}: expected 1 or more people")
    ranges = sorted((_minutes(start), _minutes(end)) for start, end in (sessions or [(open_time, close_time)]))
    for (start, end), following in zip(ranges, ranges[1:] + [None]):
        if start >= end:
            raise ValueError(f"invalid session {_clock(start)}-{_clock(end)}: it must close after it opens")
        if following and following[0] < end:
            raise ValueError(
                f"invalid sessions: {_clock(start)}-{_clock(end)} overlaps the session from {_clock(following[0])}."
                " Give sessions that do not overlap."
            )
    slots = []
    for date in sorted(set(dates)):
        for start, end in ranges:
            for begin in range(start, end - slot_minutes + 1, slot_minutes):
                slots.append(Slot(site_id, date, _clock(begin), _clock(begin + slot_minutes), capacity))
    return slots


def make_units(people: list[dict]) -> list[Unit]:
    """Group people into units: one per class_key, else one per household, else one per person.

    A class takes its members even when they also have a household. A unit is priority when any
    member is, so an elderly person's household comes with them. Units come sorted by (order, key).
    """
    # NOTE: a whole class becomes priority through one pupil. In the sample ward 20 of 33 classes
    # do, through children of poor households (group 3), so classes take many quiet early slots.
    groups: dict[str, list[dict]] = defaultdict(list)
    seen = set()
    for person in people:
        if person["id"] in seen:
            raise ValueError(f"person {person['id']!r} is listed twice. Give each person once.")
        seen.add(person["id"])
        if person.get("class_key"):
            groups["class:" + person["class_key"]].append(person)
        elif person.get("household"):
            groups["household:" + person["household"]].append(person)
        else:
            groups["person:" + person["id"]].append(person)
    units = []
    for key, members in groups.items():
        members.sort(key=lambda person: (person["order"], person["id"]))
        units.append(Unit(
            key=key,
            person_ids=[person["id"] for person in members],
            priority=any(person["priority"] for person in members),
            order=members[0]["order"],
            is_class=key.startswith("class:"),
        ))
    return sorted(units, key=lambda unit: (unit.order, unit.key))


class _Board:
    """Slots in placement order with the people placed so far."""

    def __init__(self, slots: list[Slot]):
        self.slots = sorted(slots, key=lambda slot: (slot.date, slot.site_id, slot.start, slot.end))
        self.load = {slot: 0 for slot in self.slots}
        self.priority_load = {slot: 0 for slot in self.slots}
        self.placed: dict[str, Slot] = {}

    def place(self, unit: Unit, limit: Callable[[Slot], int], allow_runs: bool) -> bool:
        """Place a unit whole in the first slot with room under `limit`.

        Units without priority try the slots that hold no priority people first, so the
        early slots stay quiet while there is room elsewhere.
        Else, if runs are allowed, place a class in the first run of empty slots at full capacity.
        """
        size = len(unit.person_ids)
        order = self.slots if unit.priority else sorted(self.slots, key=lambda slot: self.priority_load[slot] > 0)
        for slot in order:
            if self.load[slot] + size <= limit(slot):
                self._put(unit.person_ids, slot, unit.priority)
                return True
        if unit.is_class and allow_runs:
            for index in range(len(self.slots)):
                run = self._run_from(index, size)
                if run:
                    self._put_run(unit.person_ids, run)
                    return True
        return False

    def _run_from(self, index: int, size: int) -> list[Slot] | None:
        """Return the empty slots from `index` on, back to back at one site on one day, that seat `size`."""
        run: list[Slot] = []
        seats = 0
        for slot in self.slots[index:]:
            if run and not _follows(run[-1], slot):
                return None
            if self.load[slot]:
                return None
            run.append(slot)
            seats += slot.capacity
            if seats >= size:
                return run
        return None

    def _put_run(self, person_ids: list[str], run: list[Slot]) -> None:
        # Fill each slot to capacity, so only the last slot has room for units placed later.
        remaining = list(person_ids)
        for slot in run:
            seated, remaining = remaining[:slot.capacity], remaining[slot.capacity:]
            self._put(seated, slot, False)

    def _put(self, person_ids: list[str], slot: Slot, priority: bool) -> None:
        for person_id in person_ids:
            self.placed[person_id] = slot
        self.load[slot] += len(person_ids)
        if priority:
            self.priority_load[slot] += len(person_ids)


def _follows(previous: Slot, slot: Slot) -> bool:
    return (slot.site_id, slot.date, slot.start) == (previous.site_id, previous.date, previous.end)


def _quiet_limit(quiet_share: float) -> Callable[[Slot], int]:
    # Round before flooring so that 0.29 * 100 (28.999999999999996) gives 29 seats. A slot of at
    # least one seat keeps one quiet seat however small the share.
    return lambda slot: min(slot.capacity, max(1, math.floor(round(slot.capacity * quiet_share, 9))))


def assign(units: list[Unit], slots: list[Slot], quiet_share: float = DEFAULT_QUIET_SHARE) -> Assignment:
    """Give every unit's people a slot, or list them as unplaced. The same input gives the same result.

    Slots are taken in order of date, site, then start time, and units in order of `order`, then key.
    Quiet pass: each priority unit goes whole into the first slot whose priority people stay within
    `quiet_share` of its capacity. Full pass: the priority units that fit no quiet slot, then all
    others, go whole into the first slot with room up to full capacity. A class that fits no slot
    there takes the first run of empty back-to-back slots at one site on one day. The run's slots
    before the last are filled to capacity, so no other unit is interleaved with the class and
    only units placed after it share its last slot. A unit that fits nowhere is unplaced whole.
    """
    if not 0 < quiet_share <= 1:
        raise ValueError(f"invalid quiet share {quiet_share}: expected more than 0 and at most 1")
    if len(set(slots)) != len(slots):
        raise ValueError("the same slot is given twice. Build each site's slots once.")
    ordered = sorted(units, key=lambda unit: (unit.order, unit.key))
    person_ids = [person_id for unit in ordered for person_id in unit.person_ids]
    if len(set(person_ids)) != len(person_ids):
        raise ValueError("a person is in two units. Build units with make_units, which gives each person one unit.")
    board = _Board(slots)
    quiet = _quiet_limit(quiet_share)
    deferred = []
    for unit in ordered:
        if unit.priority and not board.place(unit, quiet, allow_runs=False):
            deferred.append(unit)
    # Classes go before the other units, while runs of empty slots are still there for them.
    others = sorted((unit for unit in ordered if not unit.priority), key=lambda unit: not unit.is_class)
    unplaced = []
    for unit in deferred + others:
        if not board.place(unit, lambda slot: slot.capacity, allow_runs=True):
            unplaced.extend(unit.person_ids)
    return Assignment(slots=board.slots, placed=board.placed, unplaced=unplaced)


def move(assignment: Assignment, person_ids: list[str], target: Slot) -> str | None:
    """Move people (placed or unplaced) to `target` when it has room for all of them.

    Changes the assignment in place and returns None. Otherwise it changes nothing and returns a
    reason code. "unknown_slot": the target is not one of the assignment's slots. "unknown_person":
    an id is neither placed nor unplaced. "slot_full": the people not already in the target do not
    fit. Only capacity is checked, so a move may split a household or a class on purpose.
    """
    if target not in assignment.slots:
        return "unknown_slot"
    unplaced = set(assignment.unplaced)
    if any(person_id not in assignment.placed and person_id not in unplaced for person_id in person_ids):
        return "unknown_person"
    arriving = {person_id for person_id in person_ids if assignment.placed.get(person_id) != target}
    if assignment.load()[target] + len(arriving) > target.capacity:
        return "slot_full"
    for person_id in arriving:
        assignment.placed[person_id] = target
    assignment.unplaced = [person_id for person_id in assignment.unplaced if person_id not in arriving]
    return None
