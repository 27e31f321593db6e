"""Station plans: which exams each kind of person gets, from fieldapp/data/station_plans.json."""

import datetime as dt
import json
from functools import cache
from importlib import resources

from .birthdates import BirthDate

KINDS = ("under36m", "pupil", "adult", "worker")


@cache
def reference() -> dict:
    """Return the items (label, LOINC code) and the default plan of each kind of person."""
    with resources.files("fieldapp.data").joinpath("station_plans.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def default_plan(kind: str) -> list[str]:
    """Return the default item codes for a kind of person."""
    return list(reference()["plans"][kind]["items"])


def kind_of(birth: BirthDate | None, groups: set[int], on: dt.date) -> str:
    """Return which plan fits a person: under 36 months, pupil, worker or adult."""
    if birth is not None and birth.precision != "year":
        months = (on.year - birth.year) * 12 + on.month - (birth.month or 1) - (on.day < (birth.day or 1))
        if months < 36:
            return "under36m"
    if 7 in groups:
        return "pupil"
    if 4 in groups and (birth is None or birth.age_on(on) < 60):
        return "worker"
    return "adult"


def needs_fasting(items: list[str]) -> bool:
    """True if a plan includes an item that needs an empty stomach (fasting glucose)."""
    catalogue = reference()["items"]
    return any(catalogue[item].get("fasting") for item in items)
