"""Clinical bands and flags from fieldapp/data/thresholds.json: classify a value, find red flags.

A flag is "normal", "unusual" (a borderline band the source names: high-normal pressure,
prediabetes, SpO2 to measure again), "abnormal" (a condition threshold crossed) or "red"
(an emergency: the coordinator is alerted). classify() returns None when no rule applies,
for example a child's blood pressure or an adult rule when the age is unknown: the value is
then shown as not classified, never as normal.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from flask_babel import lazy_gettext as _l

from .person import Person, in_ages

FLAGS = ("normal", "unusual", "abnormal", "red")

# Labels by class code. They live here rather than in thresholds.json so that they are translated.
LABELS = {
    "bp_optimal": _l("Huyết áp tối ưu"),
    "bp_normal": _l("Huyết áp bình thường"),
    "bp_high_normal": _l("Huyết áp bình thường cao"),
    "hypertension_grade_1": _l("Tăng huyết áp độ 1"),
    "hypertension_grade_2": _l("Tăng huyết áp độ 2"),
    "hypertension_grade_3": _l("Tăng huyết áp độ 3"),
    "isolated_systolic_hypertension": _l("Tăng huyết áp tâm thu đơn độc"),
    "hypotension": _l("Huyết áp thấp"),
    "underweight": _l("Thiếu cân"),
    "normal_weight": _l("Cân nặng bình thường"),
    "overweight": _l("Thừa cân"),
    "obesity": _l("Béo phì"),
    "obesity_grade_1": _l("Béo phì độ I"),
    "obesity_grade_2": _l("Béo phì độ II"),
    "waist_normal": _l("Vòng eo bình thường"),
    "abdominal_obesity": _l("Béo bụng"),
    "glucose_low": _l("Đường huyết thấp"),
    "glucose_normal": _l("Đường huyết bình thường"),
    "prediabetes": _l("Tiền đái tháo đường"),
    "diabetes_suspected": _l("Nghi đái tháo đường, cần xét nghiệm khẳng định"),
    "random_glucose_below_threshold": _l("Dưới ngưỡng chẩn đoán đái tháo đường"),
    "random_glucose_high": _l("Đường huyết cao: nghi đái tháo đường nếu có triệu chứng"),
    "impaired_glucose_tolerance": _l("Rối loạn dung nạp glucose"),
    "hba1c_normal": _l("HbA1c bình thường"),
    "temperature_low": _l("Thân nhiệt thấp"),
    "temperature_normal": _l("Không sốt"),
    "fever": _l("Sốt"),
    "spo2_very_low": _l("SpO2 rất thấp"),
    "spo2_low": _l("SpO2 thấp: cần đo lại"),
    "spo2_normal": _l("SpO2 bình thường"),
    "bradycardia": _l("Mạch chậm"),
    "pulse_normal": _l("Mạch bình thường"),
    "tachycardia": _l("Mạch nhanh"),
    "respiration_normal": _l("Nhịp thở bình thường"),
    "tachypnoea": _l("Thở nhanh"),
    "underweight_grade_1": _l("Suy dinh dưỡng thể nhẹ cân độ I"),
    "underweight_grade_2": _l("Suy dinh dưỡng thể nhẹ cân độ II"),
    "underweight_grade_3": _l("Suy dinh dưỡng thể nhẹ cân độ III"),
    "not_underweight": _l("Không suy dinh dưỡng thể nhẹ cân"),
    "stunting_grade_1": _l("Suy dinh dưỡng thể thấp còi độ I"),
    "stunting_grade_2": _l("Suy dinh dưỡng thể thấp còi độ II"),
    "stunting_grade_3": _l("Suy dinh dưỡng thể thấp còi độ III"),
    "not_stunted": _l("Không suy dinh dưỡng thể thấp còi"),
    "wasting_grade_1": _l("Suy dinh dưỡng thể gầy còm độ I"),
    "wasting_grade_2": _l("Suy dinh dưỡng thể gầy còm độ II"),
    "wasting_grade_3": _l("Suy dinh dưỡng thể gầy còm độ III"),
    "stunting": _l("Thấp còi"),
    "severe_stunting": _l("Thấp còi nặng"),
    "thinness": _l("Gầy"),
    "severe_thinness": _l("Gầy nặng"),
}
# Red flag labels. "bp_crisis" is the triage red flag of the same code and text (station screens).
RED_FLAG_LABELS = {
    "bp_crisis": _l("Huyết áp ≥ 180/120 mmHg"),
    "spo2_very_low": _l("SpO2 rất thấp"),
}


@dataclass(frozen=True)
class Band:
    """A value's band: flag, class code, Vietnamese label, and the rule with its source."""

    flag: str
    class_code: str
    label: object
    rule: str
    source: str
    unconfirmed: bool = False
    red_flag: str | None = None


@dataclass(frozen=True)
class RedFlag:
    """An emergency found in a visit's values: the coordinator is alerted."""

    code: str
    label: object
    item: str
    value: float


@cache
def reference() -> dict:
    """Return thresholds.json as loaded."""
    with resources.files("fieldapp.data").joinpath("thresholds.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def rules() -> list[dict]:
    """Return every rule of thresholds.json."""
    return reference()["rules"]


def _applies(rule: dict, person: Person) -> bool:
    if rule.get("sex") and rule["sex"] != person.sex:
        return False
    return in_ages(rule.get("ages"), person) is True


def _band_of(bands: list[dict], value: float) -> dict:
    """Return the band a value falls in: each band ends "below" (exclusive) or "upto" (inclusive) its bound."""
    for band in bands:
        if "below" in band and value < band["below"]:
            return band
        if "upto" in band and value <= band["upto"]:
            return band
        if "below" not in band and "upto" not in band:
            return band
    raise ValueError("the last band of a rule must have no upper bound")


def _band(rule: dict, band: dict) -> Band:
    return Band(band["flag"], band["class"], LABELS[band["class"]], rule["id"],
                band.get("source", rule["source"]), band.get("unconfirmed", rule.get("unconfirmed", False)),
                band.get("red_flag"))


def _blood_pressure_rule() -> dict:
    return next(rule for rule in rules() if rule.get("kind") == "blood_pressure")


def blood_pressure_band(systolic: float | None, diastolic: float | None) -> Band | None:
    """Return the adult band of a blood pressure: the higher grade of the two values wins.

    Isolated systolic hypertension (systolic high, diastolic below its limit) needs both
    values. With one value the grade comes from that value alone. None when both are None.
    """
    if systolic is None and diastolic is None:
        return None
    rule = _blood_pressure_rule()
    grades = [band["grade"] for band in rule["systolic"]]

    found = []
    if systolic is not None:
        found.append(_band_of(rule["systolic"], systolic)["grade"])
    if diastolic is not None:
        found.append(_band_of(rule["diastolic"], diastolic)["grade"])
    grade = max(found, key=grades.index)

    isolated, low, emergency = rule["isolated_systolic"], rule["low"], rule["emergency"]
    if systolic is not None and diastolic is not None and systolic >= isolated["systolic_from"] \
            and diastolic < isolated["diastolic_below"]:
        band = {"class": isolated["class"], "flag": isolated["flag"]}
    elif systolic is not None and systolic < low["systolic_below"] and grade == grades[0]:
        band = low
    else:
        band = {"class": grade, "flag": rule["flags"][grade]}

    crisis = (systolic is not None and systolic >= emergency["systolic_from"]) or \
        (diastolic is not None and diastolic >= emergency["diastolic_from"])
    if crisis:
        band = {**band, "flag": emergency["flag"], "red_flag": emergency["red_flag"], "source": emergency["source"]}
    return _band(rule, band)


def classify(item_code: str, value: float, person: Person, context: Mapping | None = None) -> Band | None:
    """Return the band of an item's value for a person, or None when no rule applies.

    context contains the visit's other values by item code. A blood pressure value is classified
    with its partner from context (bp_diastolic for bp_systolic, the means together).
    """
    context = context or {}
    for rule in rules():
        if rule.get("kind") == "blood_pressure":
            partner = _partner(rule, item_code)
            if partner is None or not _applies(rule, person):
                continue
            if item_code.startswith("bp_systolic"):
                return blood_pressure_band(value, context.get(partner))
            return blood_pressure_band(context.get(partner), value)
        if rule["item"] == item_code and _applies(rule, person):
            return _band(rule, _band_of(rule["bands"], value))
    return None


def _partner(rule: dict, item_code: str) -> str | None:
    for systolic, diastolic in rule["pairs"]:
        if item_code == systolic:
            return diastolic
        if item_code == diastolic:
            return systolic
    return None


def _as_list(value) -> list[float]:
    if value is None:
        return []
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [float(each) for each in value if each is not None]
    return [float(value)]


def red_flags(values: Mapping, person: Person) -> list[RedFlag]:
    """Return the emergencies in a visit's values (by item code: a value or a list of readings), each once.

    The blood pressure emergency is checked on every reading and at any age: an adult emergency
    level is an emergency in a child too, and the sources give no lower level for children.
    """
    found: dict[str, RedFlag] = {}
    for rule in rules():
        if rule.get("kind") == "blood_pressure":
            flags = _blood_pressure_red_flags(rule, values)
        elif _applies(rule, person):
            flags = _single_red_flags(rule, values)
        else:
            flags = []
        for flag in flags:
            found.setdefault(flag.code, flag)
    return list(found.values())


def _blood_pressure_red_flags(rule: dict, values: Mapping) -> list[RedFlag]:
    emergency = rule["emergency"]
    limits = {systolic: emergency["systolic_from"] for systolic, _ in rule["pairs"]}
    limits.update({diastolic: emergency["diastolic_from"] for _, diastolic in rule["pairs"]})

    code = emergency["red_flag"]
    return [RedFlag(code, RED_FLAG_LABELS[code], item, value)
            for item, limit in limits.items() for value in _as_list(values.get(item)) if value >= limit]


def _single_red_flags(rule: dict, values: Mapping) -> list[RedFlag]:
    flags = []
    for value in _as_list(values.get(rule["item"])):
        band = _band_of(rule["bands"], value)
        if band["flag"] == "red":
            code = band.get("red_flag", band["class"])
            flags.append(RedFlag(code, RED_FLAG_LABELS[code], rule["item"], value))
    return flags
