"""A visit's results as people read them: entered values, derived values, and each one's flag and band.

Derived values are computed here on every read from the current observations, so a corrected
height changes the BMI and the z-scores at once. They are the BMI from height and weight, the mean
of the blood-pressure readings, and the WHO z-scores for children (fieldapp/growth.py). Flags and bands
come from fieldapp/clinical with the thresholds in fieldapp/data/thresholds.json.
"""

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from . import clinical, growth, observations
from .birthdates import parse_iso

FLAG_ORDER = {"red": 0, "abnormal": 1, "unusual": 2, "normal": 3, None: 4}
BP_ITEMS = (("bp_systolic", "bp_systolic_mean"), ("bp_diastolic", "bp_diastolic_mean"))
Z_ITEMS = ("weight_for_age_z", "height_for_age_z", "weight_for_height_z", "bmi_for_age_z")
# WHO's growth reference ends at 19 years (228 months); no z-scores are computed after it.
CHILD_DAYS = round(229 * 30.4375)


@dataclass(frozen=True)
class Result:
    """One value of a visit with its judgement; reading is 0 for derived values and single readings' summaries."""

    item: str
    reading: int
    value: float | str
    unit: str | None
    derived: bool
    flag: str | None                # normal, unusual, abnormal, red; None for text
    class_code: str | None          # e.g. hypertension_grade_2
    class_label: str | None         # Vietnamese band label
    observation_id: str | None = None
    corrected: bool = False
    confirmed: bool = False


def subject_of(db: sqlite_utils.Database, visit: dict) -> clinical.Person:
    """Return the person's sex and exact age on the visit day, as the clinical rules need them."""
    return subject_from_row(_person_row(db, visit), visit)


def subject_from_row(person: dict | None, visit: dict) -> clinical.Person:
    """Return the sex and exact age on the visit day from a person row (sex, birth_date) and a visit row."""
    person = person or {}
    sex = person.get("sex")
    exact = _exact_birth(person)
    age_days = (dt.date.fromisoformat(visit["day"]) - exact).days if exact is not None else None
    return clinical.Person(sex=sex if sex in ("M", "F") else None, age_days=age_days)


def _person_row(db: sqlite_utils.Database, visit: dict) -> dict | None:
    row = db.execute("SELECT sex, birth_date FROM person WHERE id = ?", [visit["person_id"]]).fetchone()
    return {"sex": row[0], "birth_date": row[1]} if row else None


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 1)


def derive(entered: dict[str, list[float]], subject: clinical.Person, birth: dt.date | None,
           day: dt.date) -> dict[str, float]:
    """Return the derived values from the entered numbers (item -> readings in reading order)."""
    derived: dict[str, float] = {}
    for item, mean_item in BP_ITEMS:
        readings = entered.get(item, [])
        if readings:
            # A third reading is taken when the first two differ by more than 10 mmHg, so with three
            # readings the mean is of the last two. This is a product choice, not from a Vietnamese text.
            derived[mean_item] = _mean(readings[-2:])

    height = (entered.get("height_cm") or entered.get("length_cm") or [None])[-1]
    weight = (entered.get("weight_kg") or [None])[-1]
    if height and weight:
        derived["bmi"] = round(weight / (height / 100) ** 2, 1)

    if birth is not None and subject.sex and subject.age_days is not None and subject.age_days < CHILD_DAYS:
        lying = None
        if entered.get("length_cm"):
            lying = True
        elif entered.get("height_cm"):
            lying = False
        scores = growth.zscores(subject.sex, birth, day, weight_kg=weight, height_cm=height, measured_lying=lying)
        for item in Z_ITEMS:
            value = getattr(scores, item).rounded
            if value is not None:
                derived[item] = value
    return derived


def visit_results(db: sqlite_utils.Database, visit: dict) -> list[Result]:
    """Return every current and derived value of a visit, most severe flag first, then by item."""
    return results_from_rows(_person_row(db, visit), visit, observations.current(db, visit["id"]),
                             observations.corrected_items(db, visit["id"]))


def results_from_rows(person: dict | None, visit: dict, rows: list[dict],
                      corrected: set[tuple[str, int]] = frozenset()) -> list[Result]:
    """Return the results of a visit from plain rows, most severe flag first, then by item.

    person needs sex and birth_date, visit needs day, and rows are the visit's current observation
    rows (no superseded version) with the observation table's columns. corrected lists the
    (item, reading) pairs that have more than one version. The central store calls this on synced
    payloads, so both sides judge values with the same code.
    """
    subject = subject_from_row(person, visit)
    day = dt.date.fromisoformat(visit["day"])

    entered: dict[str, list[float]] = {}
    by_reading: dict[int, dict[str, float]] = {}
    for row in sorted(rows, key=lambda r: (r["item"], r["reading"])):
        if row["value_num"] is not None:
            entered.setdefault(row["item"], []).append(row["value_num"])
            by_reading.setdefault(row["reading"], {})[row["item"]] = row["value_num"]
    derived = derive(entered, subject, _exact_birth(person or {}), day)
    red = {(flag.item, flag.value) for flag in clinical.red_flags(entered, subject)}

    results = []
    for row in rows:
        value = observations.value_of(row)
        band = _band(row["item"], value, subject, {**derived, **by_reading.get(row["reading"], {})})
        results.append(_result(row["item"], row["reading"], value, row["unit"], False, band, row, corrected, red,
                               subject))
    for item, value in derived.items():
        band = _band(item, value, subject, derived)
        results.append(_result(item, 0, value, clinical.get(item).unit, True, band, None, corrected, red, subject))
    return sorted(results, key=lambda r: (FLAG_ORDER.get(r.flag, 4), r.item, r.reading))


def _band(item: str, value: float | str, subject: clinical.Person, context: dict) -> clinical.Band | None:
    if not isinstance(value, float):
        return None
    return clinical.classify(item, value, subject, context)


def _exact_birth(person: dict) -> dt.date | None:
    """Return the birth date when it is known to the day; z-scores and ages need it exact."""
    if not person.get("birth_date"):
        return None
    birth = parse_iso(person["birth_date"])
    return dt.date(birth.year, birth.month, birth.day) if birth.precision == "day" else None


def _range_flag(item: str, value, subject: clinical.Person, row: dict | None) -> str | None:
    """Return unusual or normal for a number with no bands, from the item's usual range; None for text."""
    if not isinstance(value, float):
        return None
    usual = clinical.get(item).usual_range(subject)
    if (row and row["confirmed"]) or (usual is not None and not usual[0] <= value <= usual[1]):
        return "unusual"
    return "normal"


def _result(item: str, reading: int, value, unit, derived: bool, band, row: dict | None,
            corrected: set, red: set, subject: clinical.Person) -> Result:
    # A red flag applies at any age (a child's blood pressure of 180/120 has no band but is an emergency).
    if (item, value) in red:
        flag = "red"
    elif band is not None:
        flag = band.flag
    else:
        flag = _range_flag(item, value, subject, row)
    return Result(
        item=item, reading=reading, value=value, unit=unit, derived=derived,
        flag=flag, class_code=band.class_code if band else None,
        class_label=str(band.label) if band else None, observation_id=row["id"] if row else None,
        corrected=(item, reading) in corrected, confirmed=bool(row and row["confirmed"]),
    )


def red_flags(results: list[Result]) -> list[Result]:
    """Return the results whose flag is red: the coordinator is alerted for each."""
    return [result for result in results if result.flag == "red"]
