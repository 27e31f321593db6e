"""Bands and flags at every edge of every threshold in thresholds.json, checked against hand-written tables."""

import json
import math
import re
from pathlib import Path

import pytest

from fieldapp.clinical import FLAGS, Person, blood_pressure_band, classify, get, red_flags
from fieldapp.clinical.bands import LABELS, RED_FLAG_LABELS
from fieldapp.clinical.numbers import rounded
from fieldapp.clinical.person import DAYS_PER_MONTH

ROOT = Path(__file__).parent.parent
THRESHOLDS = json.loads((ROOT / "fieldapp" / "data" / "thresholds.json").read_text(encoding="utf-8"))
RULES = {rule["id"]: rule for rule in THRESHOLDS["rules"]}
SINGLE_RULES = {rule_id: rule for rule_id, rule in RULES.items() if "bands" in rule}
BP = RULES["blood_pressure_adult"]
ADULT_MAN = Person("M", 40 * 365)

# Hand-written: the class and flag just below, at and just above every bound (one step of the item's decimals).
EXPECTED = {
    "bmi_adult": {
        18.4: ("underweight", "abnormal"), 18.5: ("normal_weight", "normal"), 18.6: ("normal_weight", "normal"),
        22.9: ("normal_weight", "normal"), 23.0: ("overweight", "abnormal"), 23.1: ("overweight", "abnormal"),
        24.9: ("overweight", "abnormal"), 25.0: ("obesity_grade_1", "abnormal"), 25.1: ("obesity_grade_1", "abnormal"),
        29.9: ("obesity_grade_1", "abnormal"), 30.0: ("obesity_grade_2", "abnormal"),
        30.1: ("obesity_grade_2", "abnormal"),
    },
    "waist_men": {
        89.9: ("waist_normal", "normal"), 90.0: ("abdominal_obesity", "abnormal"),
        90.1: ("abdominal_obesity", "abnormal"),
    },
    "waist_women": {
        79.9: ("waist_normal", "normal"), 80.0: ("abdominal_obesity", "abnormal"),
        80.1: ("abdominal_obesity", "abnormal"),
    },
    "glucose_fasting": {
        3.8: ("glucose_low", "unusual"), 3.9: ("glucose_normal", "normal"), 4.0: ("glucose_normal", "normal"),
        5.5: ("glucose_normal", "normal"), 5.6: ("prediabetes", "abnormal"), 5.7: ("prediabetes", "abnormal"),
        6.9: ("prediabetes", "abnormal"), 7.0: ("diabetes_suspected", "abnormal"),
        7.1: ("diabetes_suspected", "abnormal"),
    },
    "glucose_random": {
        3.8: ("glucose_low", "unusual"), 3.9: ("random_glucose_below_threshold", "normal"),
        4.0: ("random_glucose_below_threshold", "normal"), 11.0: ("random_glucose_below_threshold", "normal"),
        11.1: ("random_glucose_high", "abnormal"), 11.2: ("random_glucose_high", "abnormal"),
    },
    "glucose_ogtt_2h": {
        3.8: ("glucose_low", "unusual"), 3.9: ("glucose_normal", "normal"), 4.0: ("glucose_normal", "normal"),
        7.7: ("glucose_normal", "normal"), 7.8: ("impaired_glucose_tolerance", "abnormal"),
        7.9: ("impaired_glucose_tolerance", "abnormal"), 11.0: ("impaired_glucose_tolerance", "abnormal"),
        11.1: ("diabetes_suspected", "abnormal"), 11.2: ("diabetes_suspected", "abnormal"),
    },
    "hba1c": {
        5.6: ("hba1c_normal", "normal"), 5.7: ("prediabetes", "abnormal"), 5.8: ("prediabetes", "abnormal"),
        6.4: ("prediabetes", "abnormal"), 6.5: ("diabetes_suspected", "abnormal"),
        6.6: ("diabetes_suspected", "abnormal"),
    },
    "temperature_axillary": {
        34.9: ("temperature_low", "unusual"), 35.0: ("temperature_normal", "normal"),
        35.1: ("temperature_normal", "normal"), 37.4: ("temperature_normal", "normal"), 37.5: ("fever", "abnormal"),
        37.6: ("fever", "abnormal"),
    },
    "spo2": {
        89: ("spo2_very_low", "red"), 90: ("spo2_low", "unusual"), 91: ("spo2_low", "unusual"),
        95: ("spo2_low", "unusual"), 96: ("spo2_low", "unusual"), 97: ("spo2_normal", "normal"),
    },
    "pulse_adult": {
        49: ("bradycardia", "abnormal"), 50: ("pulse_normal", "normal"), 51: ("pulse_normal", "normal"),
        119: ("pulse_normal", "normal"), 120: ("pulse_normal", "normal"), 121: ("tachycardia", "abnormal"),
    },
    "respiration_adult": {
        19: ("respiration_normal", "normal"), 20: ("tachypnoea", "abnormal"), 21: ("tachypnoea", "abnormal"),
    },
    "weight_for_age_under5": {
        -4.01: ("underweight_grade_3", "abnormal"), -4.0: ("underweight_grade_2", "abnormal"),
        -3.99: ("underweight_grade_2", "abnormal"), -3.01: ("underweight_grade_2", "abnormal"),
        -3.0: ("underweight_grade_1", "abnormal"), -2.99: ("underweight_grade_1", "abnormal"),
        -2.01: ("underweight_grade_1", "abnormal"), -2.0: ("not_underweight", "normal"),
        -1.99: ("not_underweight", "normal"),
    },
    "height_for_age_under5": {
        -4.01: ("stunting_grade_3", "abnormal"), -4.0: ("stunting_grade_2", "abnormal"),
        -3.99: ("stunting_grade_2", "abnormal"), -3.01: ("stunting_grade_2", "abnormal"),
        -3.0: ("stunting_grade_1", "abnormal"), -2.99: ("stunting_grade_1", "abnormal"),
        -2.01: ("stunting_grade_1", "abnormal"), -2.0: ("not_stunted", "normal"), -1.99: ("not_stunted", "normal"),
    },
    "weight_for_height_under5": {
        -4.01: ("wasting_grade_3", "abnormal"), -4.0: ("wasting_grade_2", "abnormal"),
        -3.99: ("wasting_grade_2", "abnormal"), -3.01: ("wasting_grade_2", "abnormal"),
        -3.0: ("wasting_grade_1", "abnormal"), -2.99: ("wasting_grade_1", "abnormal"),
        -2.01: ("wasting_grade_1", "abnormal"), -2.0: ("normal_weight", "normal"), -1.99: ("normal_weight", "normal"),
        1.99: ("normal_weight", "normal"), 2.0: ("normal_weight", "normal"), 2.01: ("overweight", "abnormal"),
        2.99: ("overweight", "abnormal"), 3.0: ("overweight", "abnormal"), 3.01: ("obesity", "abnormal"),
    },
    "height_for_age_5_19": {
        -3.01: ("severe_stunting", "abnormal"), -3.0: ("stunting", "abnormal"), -2.99: ("stunting", "abnormal"),
        -2.01: ("stunting", "abnormal"), -2.0: ("not_stunted", "normal"), -1.99: ("not_stunted", "normal"),
    },
    "bmi_for_age_5_19": {
        -3.01: ("severe_thinness", "abnormal"), -3.0: ("thinness", "abnormal"), -2.99: ("thinness", "abnormal"),
        -2.01: ("thinness", "abnormal"), -2.0: ("normal_weight", "normal"), -1.99: ("normal_weight", "normal"),
        0.99: ("normal_weight", "normal"), 1.0: ("normal_weight", "normal"), 1.01: ("overweight", "abnormal"),
        1.99: ("overweight", "abnormal"), 2.0: ("overweight", "abnormal"), 2.01: ("obesity", "abnormal"),
    },
}


def _person_for(rule: dict) -> Person:
    """Return a person the rule applies to: its sex, and an age at the start of its age range (or adult)."""
    ages = rule.get("ages", {})
    months = ages.get("from_months", 0) if "below_months" in ages else ages.get("from_months", 480)
    return Person(rule.get("sex", "F"), math.ceil(months * DAYS_PER_MONTH) + 1)


def _edges(rule: dict) -> list[float]:
    """Return the values just below, at and just above every band bound of a rule."""
    decimals = get(rule["item"]).decimals
    step = 10 ** -decimals
    values = set()
    for band in rule["bands"]:
        bound = band.get("below", band.get("upto"))
        if bound is not None:
            values |= {rounded(bound - step, decimals), float(bound), rounded(bound + step, decimals)}
    return sorted(values)


def test_hand_table_covers_exactly_the_data_file_edges():
    generated = {rule_id: _edges(rule) for rule_id, rule in SINGLE_RULES.items()}
    written = {rule_id: sorted(float(value) for value in values) for rule_id, values in EXPECTED.items()}

    assert written == generated


@pytest.mark.parametrize(("rule_id", "value", "expected"), [
    pytest.param(rule_id, value, expected, id=f"{rule_id}-{value}")
    for rule_id, table in EXPECTED.items() for value, expected in table.items()
])
def test_band_at_threshold_edge(rule_id, value, expected):
    rule = RULES[rule_id]

    band = classify(rule["item"], value, _person_for(rule))

    assert (band.class_code, band.flag) == expected
    assert band.rule == rule_id


# Blood pressure: each value's bounds, with the partner held at a value that shows the rule under test.

SYSTOLIC_PARTNERS = (70, 90)       # diastolic optimal (shows isolated systolic), and at grade 1
DIASTOLIC_PARTNERS = (110, 150)    # systolic optimal, and at grade 1 (shows the isolated systolic bound)
ISH = "isolated_systolic_hypertension"
G1, G2, G3 = "hypertension_grade_1", "hypertension_grade_2", "hypertension_grade_3"
EXPECTED_BP = {
    (89, 70): ("hypotension", "unusual"), (90, 70): ("bp_optimal", "normal"), (91, 70): ("bp_optimal", "normal"),
    (119, 70): ("bp_optimal", "normal"), (120, 70): ("bp_normal", "normal"), (121, 70): ("bp_normal", "normal"),
    (129, 70): ("bp_normal", "normal"), (130, 70): ("bp_high_normal", "unusual"),
    (131, 70): ("bp_high_normal", "unusual"), (139, 70): ("bp_high_normal", "unusual"), (140, 70): (ISH, "abnormal"),
    (141, 70): (ISH, "abnormal"), (159, 70): (ISH, "abnormal"), (160, 70): (ISH, "abnormal"),
    (161, 70): (ISH, "abnormal"), (179, 70): (ISH, "abnormal"), (180, 70): (ISH, "red"), (181, 70): (ISH, "red"),
    (89, 90): (G1, "abnormal"), (90, 90): (G1, "abnormal"), (91, 90): (G1, "abnormal"), (119, 90): (G1, "abnormal"),
    (120, 90): (G1, "abnormal"), (121, 90): (G1, "abnormal"), (129, 90): (G1, "abnormal"),
    (130, 90): (G1, "abnormal"), (131, 90): (G1, "abnormal"), (139, 90): (G1, "abnormal"),
    (140, 90): (G1, "abnormal"), (141, 90): (G1, "abnormal"), (159, 90): (G1, "abnormal"),
    (160, 90): (G2, "abnormal"), (161, 90): (G2, "abnormal"), (179, 90): (G2, "abnormal"), (180, 90): (G3, "red"),
    (181, 90): (G3, "red"),
    (110, 79): ("bp_optimal", "normal"), (110, 80): ("bp_normal", "normal"), (110, 81): ("bp_normal", "normal"),
    (110, 84): ("bp_normal", "normal"), (110, 85): ("bp_high_normal", "unusual"),
    (110, 86): ("bp_high_normal", "unusual"), (110, 89): ("bp_high_normal", "unusual"), (110, 90): (G1, "abnormal"),
    (110, 91): (G1, "abnormal"), (110, 99): (G1, "abnormal"), (110, 100): (G2, "abnormal"),
    (110, 101): (G2, "abnormal"), (110, 109): (G2, "abnormal"), (110, 110): (G3, "abnormal"),
    (110, 111): (G3, "abnormal"), (110, 119): (G3, "abnormal"), (110, 120): (G3, "red"), (110, 121): (G3, "red"),
    (150, 79): (ISH, "abnormal"), (150, 80): (ISH, "abnormal"), (150, 81): (ISH, "abnormal"),
    (150, 84): (ISH, "abnormal"), (150, 85): (ISH, "abnormal"), (150, 86): (ISH, "abnormal"),
    (150, 89): (ISH, "abnormal"), (150, 90): (G1, "abnormal"), (150, 91): (G1, "abnormal"),
    (150, 99): (G1, "abnormal"), (150, 100): (G2, "abnormal"), (150, 101): (G2, "abnormal"),
    (150, 109): (G2, "abnormal"), (150, 110): (G3, "abnormal"), (150, 111): (G3, "abnormal"),
    (150, 119): (G3, "abnormal"), (150, 120): (G3, "red"), (150, 121): (G3, "red"),
}


def _bp_edges() -> set[tuple[int, int]]:
    systolic = {band["below"] for band in BP["systolic"] if "below" in band}
    systolic |= {BP["low"]["systolic_below"], BP["isolated_systolic"]["systolic_from"],
                 BP["emergency"]["systolic_from"]}
    diastolic = {band["below"] for band in BP["diastolic"] if "below" in band}
    diastolic |= {BP["isolated_systolic"]["diastolic_below"], BP["emergency"]["diastolic_from"]}

    pairs = {(value, partner) for bound in systolic for value in (bound - 1, bound, bound + 1)
             for partner in SYSTOLIC_PARTNERS}
    pairs |= {(partner, value) for bound in diastolic for value in (bound - 1, bound, bound + 1)
              for partner in DIASTOLIC_PARTNERS}
    return pairs


def test_hand_table_covers_exactly_the_blood_pressure_edges():
    assert set(EXPECTED_BP) == _bp_edges()


@pytest.mark.parametrize(("pair", "expected"), EXPECTED_BP.items(), ids=lambda value: str(value))
def test_blood_pressure_band_at_edge(pair, expected):
    band = blood_pressure_band(*pair)

    assert (band.class_code, band.flag) == expected


@pytest.mark.parametrize(("pair", "expected"), [
    ((165, 95), G2),        # systolic grade 2, diastolic grade 1: the higher grade
    ((135, 105), G2),       # systolic high-normal, diastolic grade 2
    ((125, 112), G3),
    ((185, 125), G3),
])
def test_higher_grade_wins_when_values_disagree(pair, expected):
    assert blood_pressure_band(*pair).class_code == expected


def test_blood_pressure_labels_and_sources():
    band = classify("bp_systolic", 165, ADULT_MAN, {"bp_diastolic": 102})
    crisis = classify("bp_diastolic_mean", 121, ADULT_MAN, {"bp_systolic_mean": 150})

    assert str(band.label) == "Tăng huyết áp độ 2"
    assert "3192/QĐ-BYT" in band.source
    assert band.red_flag is None
    assert (crisis.class_code, crisis.flag, crisis.red_flag) == (G3, "red", "bp_crisis")
    assert str(crisis.label) == "Tăng huyết áp độ 3"


@pytest.mark.parametrize(("systolic", "diastolic", "expected"), [
    (150, None, (G1, "abnormal")),
    (None, 95, (G1, "abnormal")),
    (85, None, ("hypotension", "unusual")),
    (None, 125, (G3, "red")),
])
def test_blood_pressure_band_from_one_value(systolic, diastolic, expected):
    band = blood_pressure_band(systolic, diastolic)

    assert (band.class_code, band.flag) == expected


def test_blood_pressure_band_needs_a_value():
    assert blood_pressure_band(None, None) is None


# Who a rule applies to.

AGE_EDGES = {
    # rule: (first day it applies, first day it no longer applies), from months of 30.4375 days.
    "blood_pressure_adult": (6575, None),     # 216 months, 18 years
    "bmi_adult": (6971, None),                # 229 months, where WHO AnthroPlus stops
    "waist_men": (6575, None),
    "waist_women": (6575, None),
    "pulse_adult": (6575, None),
    "respiration_adult": (6575, None),
    "weight_for_age_under5": (0, 1827),       # under 60 months, as WHO Anthro computes them
    "height_for_age_under5": (0, 1827),
    "weight_for_height_under5": (0, 1827),
    "height_for_age_5_19": (1827, 6971),
    "bmi_for_age_5_19": (1827, 6971),
}


def test_age_edges_table_matches_data_file():
    computed = {}
    for rule_id, rule in RULES.items():
        ages = rule.get("ages")
        if ages:
            computed[rule_id] = (math.ceil(ages.get("from_months", 0) * DAYS_PER_MONTH),
                                 math.ceil(ages["below_months"] * DAYS_PER_MONTH) if "below_months" in ages else None)

    assert computed == AGE_EDGES


def _rule_value(rule: dict) -> tuple[str, float, dict]:
    if rule.get("kind") == "blood_pressure":
        return "bp_systolic", 150.0, {"bp_diastolic": 95.0}
    first_bound = rule["bands"][0].get("below", rule["bands"][0].get("upto"))
    return rule["item"], float(first_bound), {}


@pytest.mark.parametrize("rule_id", AGE_EDGES)
def test_rule_applies_from_its_first_day(rule_id):
    first, end = AGE_EDGES[rule_id]
    rule = RULES[rule_id]
    code, value, context = _rule_value(rule)
    sex = rule.get("sex", "F")

    inside = classify(code, value, Person(sex, first), context)
    before = classify(code, value, Person(sex, first - 1), context) if first else None
    last = classify(code, value, Person(sex, end - 1), context) if end else None
    after = classify(code, value, Person(sex, end), context) if end else None

    assert inside is not None and inside.rule == rule_id
    assert before is None or before.rule != rule_id
    assert last is None or last.rule == rule_id
    assert after is None or after.rule != rule_id


NOT_CLASSIFIED = [
    # (item, value, person, context): shown as not classified, never as normal.
    ("bp_systolic", 150, Person("M", 10 * 365), {"bp_diastolic": 95}),
    ("bp_systolic", 150, Person("M", None), {"bp_diastolic": 95}),
    ("bmi", 22.0, Person("F", 15 * 365), {}),
    ("bmi", 22.0, Person("F", None), {}),
    ("waist_cm", 95.0, Person(None, 40 * 365), {}),
    ("waist_cm", 95.0, Person("M", 12 * 365), {}),
    ("pulse", 130, Person("F", 5 * 365), {}),
    ("respiration_rate", 30, Person("F", 2 * 365), {}),
    ("weight_for_age_z", -2.5, Person("F", 7 * 365), {}),
    ("bmi_for_age_z", 2.5, Person("F", 20 * 365), {}),
    ("weight_kg", 65.0, ADULT_MAN, {}),
    ("vision_left", 5.0, ADULT_MAN, {}),
]


@pytest.mark.parametrize(("code", "value", "person", "context"), NOT_CLASSIFIED)
def test_not_classified_outside_rules(code, value, person, context):
    assert classify(code, value, person, context) is None


@pytest.mark.parametrize(("code", "value", "person", "expected"), [
    ("waist_cm", 85.0, Person("M", 40 * 365), "waist_normal"),
    ("waist_cm", 85.0, Person("F", 40 * 365), "abdominal_obesity"),
    ("temperature_c", 38.0, Person("F", 200), "fever"),
    ("spo2", 95, Person("F", None), "spo2_low"),
    ("glucose_fasting_mmol", 7.2, Person(None, None), "diabetes_suspected"),
])
def test_rule_by_sex_and_rules_for_all_ages(code, value, person, expected):
    assert classify(code, value, person).class_code == expected


# Red flags.

RED_FLAGS = [
    # (values, person, codes)
    ({"bp_systolic": [130, 185], "bp_diastolic": [85, 95]}, ADULT_MAN, ["bp_crisis"]),
    ({"bp_systolic": 179, "bp_diastolic": 119}, ADULT_MAN, []),
    ({"bp_systolic": 180}, ADULT_MAN, ["bp_crisis"]),
    ({"bp_diastolic": 120}, ADULT_MAN, ["bp_crisis"]),
    ({"bp_systolic_mean": 182, "bp_diastolic_mean": 100}, ADULT_MAN, ["bp_crisis"]),
    ({"bp_systolic": 185}, Person("F", 12 * 365), ["bp_crisis"]),
    ({"bp_systolic": 185}, Person("F", None), ["bp_crisis"]),
    ({"spo2": 89}, ADULT_MAN, ["spo2_very_low"]),
    ({"spo2": 90}, ADULT_MAN, []),
    ({"spo2": [97, 88]}, Person("F", 300), ["spo2_very_low"]),
    ({"bp_systolic": [190, 200], "bp_diastolic": [125, 130], "spo2": 85}, ADULT_MAN, ["bp_crisis", "spo2_very_low"]),
    ({"temperature_c": 40.0, "pulse": 140, "glucose_random_mmol": 25.0}, ADULT_MAN, []),
    ({"bp_systolic": None, "spo2": [None]}, ADULT_MAN, []),
    ({}, ADULT_MAN, []),
]


@pytest.mark.parametrize(("values", "person", "codes"), RED_FLAGS)
def test_red_flags(values, person, codes):
    assert [flag.code for flag in red_flags(values, person)] == codes


def test_red_flag_names_item_value_and_label():
    flags = red_flags({"bp_systolic": [150, 186]}, ADULT_MAN)

    assert [(flag.item, flag.value) for flag in flags] == [("bp_systolic", 186.0)]
    assert str(flags[0].label) == "Huyết áp ≥ 180/120 mmHg"


def test_crisis_label_shows_the_emergency_levels():
    emergency = BP["emergency"]

    assert f"{emergency['systolic_from']}/{emergency['diastolic_from']} mmHg" in str(RED_FLAG_LABELS["bp_crisis"])


# The data file itself.

def _class_codes() -> set[str]:
    codes = set()
    for rule in RULES.values():
        codes |= {band["class"] for band in rule.get("bands", [])}
    codes |= {band["grade"] for band in BP["systolic"] + BP["diastolic"]}
    codes |= {BP["isolated_systolic"]["class"], BP["low"]["class"]}
    return codes


def test_class_codes_match_labels():
    assert _class_codes() == set(LABELS)


def test_every_red_flag_has_a_label():
    red = {band.get("red_flag", band["class"]) for rule in SINGLE_RULES.values() for band in rule["bands"]
           if band["flag"] == "red"}

    assert red | {BP["emergency"]["red_flag"]} == set(RED_FLAG_LABELS)


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda rule: rule["id"])
def test_rule_has_source_and_known_flags(rule):
    flags = {band["flag"] for band in rule.get("bands", [])} | set(rule.get("flags", {}).values())

    assert rule["source"]
    assert flags <= set(FLAGS)


@pytest.mark.parametrize("rule", SINGLE_RULES.values(), ids=lambda rule: rule["id"])
def test_bands_ascend_and_end_open(rule):
    bounds = [band.get("below", band.get("upto")) for band in rule["bands"]]

    assert bounds[-1] is None
    assert None not in bounds[:-1]
    assert bounds[:-1] == sorted(bounds[:-1])
    assert len(set(bounds[:-1])) == len(bounds) - 1


@pytest.mark.parametrize("rule_id", ["temperature_axillary", "spo2", "pulse_adult", "respiration_adult",
                                     "bmi_for_age_5_19", "height_for_age_5_19"])
def test_unconfirmed_rules_marked(rule_id):
    rule = RULES[rule_id]

    assert rule["unconfirmed"] is True
    assert classify(rule["item"], 0.0 if rule_id != "spo2" else 95, _person_for(rule)).unconfirmed is True


@pytest.mark.parametrize(("code", "value"), [("glucose_fasting_mmol", 3.0), ("spo2", 85), ("temperature_c", 34.0)])
def test_product_choice_bands_marked_unconfirmed(code, value):
    band = classify(code, value, ADULT_MAN)

    assert band.unconfirmed is True
    assert "product choice" in band.source


def test_thresholds_documented():
    page = (ROOT / "docs" / "thresholds.md").read_text(encoding="utf-8")

    missing = [code for code in sorted(set(RULES) | _class_codes()) if not re.search(rf"`{code}`", page)]

    assert missing == []
