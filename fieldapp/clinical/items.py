"""The catalogue of observation items, from fieldapp/data/items.json, and the items each plan item needs."""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .person import Person, in_ages

KINDS = ("number", "choice", "text")


@dataclass(frozen=True)
class Choice:
    """One option of a choice item: a stable code and its Vietnamese label."""

    code: str
    label: str


@dataclass(frozen=True)
class UsualBand:
    """The usual range of a number item for an age group (months of 30.4375 days, from inclusive)."""

    low: float
    high: float
    from_months: float | None = None
    below_months: float | None = None


@dataclass(frozen=True)
class Item:
    """An observation item: what is measured, in which unit, where, and which values are refused or queried."""

    code: str
    label: str
    short: str
    kind: str
    station: str
    unit: str | None = None
    loinc: str | None = None
    decimals: int = 0
    notation: str | None = None           # "tenths": visual acuity written as x/10
    choices: tuple[Choice, ...] = ()
    multiple: bool = False
    max_length: int | None = None
    readings: int = 1                     # how many repeated readings the item allows
    plausible: tuple[float, float] | None = None
    usual: tuple[UsualBand, ...] = ()
    slips: tuple[str, ...] = ()           # unit-slip hints that apply, see slips.py
    derived: bool = False
    derived_from: tuple[str, ...] = ()
    ages: dict | None = None
    sex: str | None = None
    position: str | None = None           # "lying" or "standing" for length and height
    range_source: str = ""

    def usual_range(self, person: Person) -> tuple[float, float] | None:
        """Return the usual (low, high) for the person's age; the widest envelope when the age is unknown."""
        if not self.usual:
            return None
        months = person.age_months
        if months is None:
            return min(band.low for band in self.usual), max(band.high for band in self.usual)
        for band in self.usual:
            if band.from_months is not None and months < band.from_months:
                continue
            if band.below_months is not None and months >= band.below_months:
                continue
            return band.low, band.high
        return None

    def choice(self, code: str) -> Choice | None:
        """Return the choice with this code, or None."""
        return next((choice for choice in self.choices if choice.code == code), None)


@dataclass(frozen=True)
class PlanItem:
    """The observation items and readings that a station plan item (e.g. "blood_pressure_twice") needs."""

    code: str
    items: tuple[str, ...]
    readings: int = 1
    one_of: bool = False                  # the station enters one of the items (fasting or random glucose)
    note: str = ""


def _usual(raw) -> tuple[UsualBand, ...]:
    if raw is None:
        return ()
    if isinstance(raw[0], (int, float)):
        return (UsualBand(float(raw[0]), float(raw[1])),)
    return tuple(UsualBand(float(band["range"][0]), float(band["range"][1]),
                           band.get("from_months"), band.get("below_months")) for band in raw)


def _item(code: str, raw: dict) -> Item:
    plausible = raw.get("plausible")
    return Item(
        code=code, label=raw["label"], short=raw["short"], kind=raw["kind"], station=raw["station"],
        unit=raw.get("unit"), loinc=raw.get("loinc"), decimals=raw.get("decimals", 0), notation=raw.get("notation"),
        choices=tuple(Choice(choice["code"], choice["label"]) for choice in raw.get("choices", [])),
        multiple=raw.get("multiple", False), max_length=raw.get("max_length"), readings=raw.get("readings", 1),
        plausible=(float(plausible[0]), float(plausible[1])) if plausible else None, usual=_usual(raw.get("usual")),
        slips=tuple(raw.get("slips", [])), derived=raw.get("derived", False),
        derived_from=tuple(raw.get("derived_from", [])), ages=raw.get("ages"), sex=raw.get("sex"),
        position=raw.get("position"), range_source=raw.get("range_source", ""),
    )


@cache
def reference() -> dict:
    """Return items.json as loaded: sources, items and the plan-item mapping."""
    with resources.files("fieldapp.data").joinpath("items.json").open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def catalogue() -> dict[str, Item]:
    """Return every item by code, in the order of the data file."""
    return {code: _item(code, raw) for code, raw in reference()["items"].items()}


def get(code: str) -> Item:
    """Return the item with this code; raise KeyError naming it when there is none."""
    try:
        return catalogue()[code]
    except KeyError:
        raise KeyError(f"no observation item {code!r} in items.json") from None


@cache
def plan_items() -> dict[str, PlanItem]:
    """Return the observation items each station plan item needs, by plan item code."""
    return {code: PlanItem(code, tuple(raw["items"]), raw.get("readings", 1), raw.get("one_of", False),
                           raw.get("note", ""))
            for code, raw in reference()["plan_items"].items()}


def applies(item: Item, person: Person) -> bool:
    """True if the item is measured for this person: position by age, sex, and the item's age range.

    An item limited to an age range does not apply when the age is unknown, so z-scores are
    never computed without an age. An item limited to one sex applies when the sex is unknown.
    """
    if item.position == "lying" and not person.lying:
        return False
    if item.position == "standing" and person.lying:
        return False
    if item.sex and person.sex and item.sex != person.sex:
        return False
    return in_ages(item.ages, person) is True


def items_for_plan(plan: list[str], person: Person, derived: bool | None = None) -> list[Item]:
    """Return the items a visit's plan needs for this person, in plan order, each once.

    derived=False gives the fields to type, derived=True the values the product computes,
    None both. Raise KeyError for a plan item that has no mapping in items.json.
    """
    mapping = plan_items()
    chosen: dict[str, Item] = {}
    for plan_item in plan:
        if plan_item not in mapping:
            raise KeyError(f"plan item {plan_item!r} has no mapping in items.json plan_items")
        for code in mapping[plan_item].items:
            item = get(code)
            if derived is not None and item.derived != derived:
                continue
            if applies(item, person):
                chosen.setdefault(code, item)
    return list(chosen.values())


def readings_for_plan(plan: list[str], code: str) -> int:
    """Return how many readings of an item a plan needs (2 for blood_pressure_twice), 0 if none."""
    mapping = plan_items()
    counts = [mapping[plan_item].readings for plan_item in plan
              if plan_item in mapping and code in mapping[plan_item].items]
    return max(counts, default=0)
