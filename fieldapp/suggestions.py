"""Suggestions for the doctor from a visit's results: diagnoses to confirm and the next exam date.

The rules are in fieldapp/data/suggestions.json, each with its source. A suggestion is only offered: the
doctor ticks a diagnosis or changes the date, and nothing is saved until the doctor saves the conclusion.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .clinical import items as catalogue
from .icd10 import CodeList, normalise_code


@dataclass(frozen=True)
class Diagnosis:
    """A suggested ICD-10 code, its title, and the finding that suggests it (a Vietnamese label)."""

    code: str
    title: str
    because: str


@dataclass(frozen=True)
class NextExam:
    """A suggested next exam date, the days after the visit, and the finding that made it sooner, if any."""

    date: dt.date
    days: int
    because: str | None
    source: str


@cache
def rules() -> dict:
    """Return suggestions.json, checking that every code in it is a well-formed ICD-10 code."""
    with resources.files("fieldapp.data").joinpath("suggestions.json").open(encoding="utf-8") as handle:
        loaded = json.load(handle)
    for rule in loaded["diagnoses"]:
        codes = rule.get("codes", []) + [code for codes in rule.get("values", {}).values() for code in codes]
        for code in codes:
            if normalise_code(code) != code:
                raise ValueError(f"suggestions.json: {code!r} is not an ICD-10 code in the standard form")
    return loaded


def choice_codes(value) -> list[str]:
    """Return the choice codes stored in a choice observation: one code, or several in a list or text."""
    if isinstance(value, list):
        return [str(code) for code in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(code) for code in json.loads(text)]
        except ValueError:
            pass
    return [code for code in re.split(r"[\s,;]+", text) if code]


def _choice_label(item_code: str, choice_code: str) -> str:
    try:
        choice = catalogue.get(item_code).choice(choice_code)
    except KeyError:
        return choice_code
    return choice.label if choice else choice_code


def _matches(rule: dict, result) -> list[tuple[str, str]]:
    """Return (code, because) pairs that one rule suggests from one result."""
    if "values" in rule:
        if result.item != rule["item"] or result.value is None:
            return []
        return [(code, _choice_label(result.item, choice)) for choice in choice_codes(result.value)
                for code in rule["values"].get(choice, [])]
    if result.class_code not in rule["classes"] or ("items" in rule and result.item not in rule["items"]):
        return []
    return [(code, result.class_label or result.class_code) for code in rule["codes"]]


def diagnoses(results: list, code_list: CodeList, chosen: set[str] = frozenset()) -> list[Diagnosis]:
    """Return the diagnoses the results suggest, each code once, leaving out codes already chosen.

    A code missing from the code list in use is left out, so every suggestion can be ticked as it is.
    """
    found: dict[str, Diagnosis] = {}
    for result in results:
        for rule in rules()["diagnoses"]:
            for code, because in _matches(rule, result):
                title = code_list.title(code)
                if title is not None and code not in chosen and code not in found:
                    found[code] = Diagnosis(code, title, because)
    return list(found.values())


def next_exam(results: list, day: dt.date) -> NextExam:
    """Return the suggested next exam date: a year after the visit, or sooner for the findings listed."""
    plan = rules()["next_exam"]
    best = NextExam(day + dt.timedelta(days=plan["default_days"]), plan["default_days"], None, plan["default_source"])
    for result in results:
        for rule in plan["sooner"]:
            if result.class_code in rule["classes"] and rule["days"] < best.days:
                best = NextExam(day + dt.timedelta(days=rule["days"]), rule["days"],
                                result.class_label or result.class_code, rule["source"])
    return best
