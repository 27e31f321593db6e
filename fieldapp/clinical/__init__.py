"""Clinical rules with no Flask app: the item catalogue, reading and checking typed values, bands and red flags.

Three levels are kept apart. check() refuses an impossible value (outside the plausible range)
and requests confirmation of an unusual one (outside the usual range): both are data-entry checks.
classify() returns whether a valid value is abnormal, from the bands in thresholds.json, and
red_flags() returns the emergencies that alert the coordinator. docs/items.md and
docs/thresholds.md list every item, range, band and source.
"""

from .bands import FLAGS, Band, RedFlag, blood_pressure_band, classify, red_flags
from .entry import LEVELS, EntryError, Parsed, Verdict, check, check_blood_pressure, parse, parse_blood_pressure
from .items import Item, PlanItem, applies, catalogue, get, items_for_plan, plan_items, readings_for_plan
from .numbers import format_quantity
from .person import Person
from .slips import Hint

__all__ = [
    "FLAGS", "LEVELS", "Band", "EntryError", "Hint", "Item", "Parsed", "Person", "PlanItem", "RedFlag", "Verdict",
    "applies", "blood_pressure_band", "catalogue", "check", "check_blood_pressure", "classify", "format_quantity",
    "get", "items_for_plan", "parse", "parse_blood_pressure", "plan_items", "readings_for_plan", "red_flags",
]
