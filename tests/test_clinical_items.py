"""The item catalogue: every item well formed, mapped from the station plans, documented; plan fields per person."""

import itertools
import json
import re
from pathlib import Path

import pytest

from fieldapp.clinical import Person, catalogue, get, items_for_plan, plan_items, readings_for_plan
from fieldapp.clinical.items import KINDS
from fieldapp.clinical.slips import SLIPS
from fieldapp.queueing.stations import STATION_DEFAULTS, station_code
from fieldapp.stationplans import reference as station_plans

ROOT = Path(__file__).parent.parent
DATA = ROOT / "fieldapp" / "data"
RAW_ITEMS = json.loads((DATA / "items.json").read_text(encoding="utf-8"))["items"]
ADULT = Person("F", 40 * 365)
NUMBER_ITEMS = [item for item in catalogue().values() if item.kind == "number"]


def test_catalogue_has_items_of_the_brief():
    expected = {
        "bp_systolic", "bp_diastolic", "bp_systolic_mean", "bp_diastolic_mean", "pulse", "respiration_rate",
        "height_cm", "length_cm", "weight_kg", "bmi", "waist_cm", "temperature_c", "spo2", "glucose_fasting_mmol",
        "glucose_random_mmol", "hba1c_percent", "vision_left", "vision_right", "vision_left_glasses",
        "vision_right_glasses", "hearing_left_m", "hearing_right_m", "dental", "spine", "weight_for_age_z",
        "height_for_age_z", "weight_for_height_z", "bmi_for_age_z", "finding_internal_medicine", "finding_surgery",
        "finding_obstetrics_gynaecology", "finding_eye", "finding_ent", "finding_dental", "finding_dermatology",
    }

    assert expected - set(catalogue()) == set()


@pytest.mark.parametrize("item", catalogue().values(), ids=lambda item: item.code)
def test_item_well_formed(item):
    assert item.kind in KINDS
    assert item.label and item.short
    assert item.station in STATION_DEFAULTS
    assert item.loinc is None or re.fullmatch(r"\d{1,6}-\d", item.loinc)
    assert set(item.slips) <= set(SLIPS)
    assert set(item.derived_from) <= set(catalogue())
    assert item.derived == bool(item.derived_from)


@pytest.mark.parametrize("item", NUMBER_ITEMS, ids=lambda item: item.code)
def test_number_item_has_unit_ranges_and_source(item):
    assert item.unit
    assert item.usual
    assert item.range_source
    assert item.plausible is not None or item.derived


@pytest.mark.parametrize("item", NUMBER_ITEMS, ids=lambda item: item.code)
def test_usual_bands_cover_every_age_once(item):
    bands = item.usual

    assert bands[0].from_months is None
    assert bands[-1].below_months is None
    for before, after in itertools.pairwise(bands):
        assert before.below_months == after.from_months


@pytest.mark.parametrize("item", [item for item in NUMBER_ITEMS if item.plausible], ids=lambda item: item.code)
def test_usual_range_inside_plausible(item):
    low, high = item.plausible

    for band in item.usual:
        assert low <= band.low < band.high <= high


@pytest.mark.parametrize("item", [item for item in catalogue().values() if item.kind == "choice"],
                         ids=lambda item: item.code)
def test_choice_item_has_normal_and_unique_codes(item):
    codes = [choice.code for choice in item.choices]

    assert "normal" in codes
    assert len(codes) == len(set(codes))
    assert all("," not in choice.label for choice in item.choices)


@pytest.mark.parametrize("item", [item for item in catalogue().values() if item.kind == "text"],
                         ids=lambda item: item.code)
def test_text_item_has_maximum_length(item):
    assert item.max_length and item.max_length > 0


LOINC = {
    # Looked up one by one; null where no term means the same thing (see docs/items.md).
    "bp_systolic": "8480-6", "bp_diastolic": "8462-4", "bp_systolic_mean": "96608-5", "bp_diastolic_mean": "96609-3",
    "pulse": "8867-4", "respiration_rate": "9279-1", "height_cm": "8302-2", "length_cm": "8306-3",
    "weight_kg": "29463-7", "bmi": "39156-5", "waist_cm": "8280-0", "temperature_c": "8328-7", "spo2": "59408-5",
    "glucose_fasting_mmol": "14770-2", "glucose_random_mmol": "14743-9", "hba1c_percent": "4548-4",
    "vision_left": "98498-9", "vision_right": "98499-7", "vision_left_glasses": None, "vision_right_glasses": None,
    "hearing_left_m": None, "weight_for_age_z": None, "bmi_for_age_z": None, "glucose_ogtt_2h_mmol": None,
}


@pytest.mark.parametrize(("code", "loinc"), LOINC.items())
def test_loinc_code(code, loinc):
    assert get(code).loinc == loinc


def test_get_unknown_item_names_it():
    with pytest.raises(KeyError, match="no observation item 'pressure'"):
        get("pressure")


# Station plans.

def test_every_station_plan_item_mapped():
    missing = set(station_plans()["items"]) - set(plan_items())

    assert missing == set()


@pytest.mark.parametrize("plan_item", plan_items().values(), ids=lambda plan_item: plan_item.code)
def test_plan_item_maps_to_known_items(plan_item):
    assert set(plan_item.items) <= set(catalogue())
    assert plan_item.items or plan_item.note


@pytest.mark.parametrize("plan_item", [plan_item for plan_item in plan_items().values() if station_code(plan_item.code)],
                         ids=lambda plan_item: plan_item.code)
def test_plan_item_entered_at_its_station(plan_item):
    stations = {get(code).station for code in plan_item.items}

    assert stations <= {station_code(plan_item.code)}


PLAN_FIELDS = [
    # (plan items, person, fields to type)
    (["height", "weight"], Person("M", 300), ["length_cm", "weight_kg"]),
    (["height", "weight"], Person("M", 730), ["length_cm", "weight_kg"]),
    (["height", "weight"], Person("M", 731), ["height_cm", "weight_kg"]),
    (["height", "weight"], Person("M", 300, under_24_months=False), ["height_cm", "weight_kg"]),
    (["height", "weight"], Person("M", 800, under_24_months=True), ["length_cm", "weight_kg"]),
    (["height", "weight"], Person("M", None), ["height_cm", "weight_kg"]),
    (["blood_pressure_twice", "heart_rate"], ADULT, ["bp_systolic", "bp_diastolic", "pulse"]),
    (["glucose"], ADULT, ["glucose_fasting_mmol", "glucose_random_mmol"]),
    (["vision"], ADULT, ["vision_right", "vision_left", "vision_right_glasses", "vision_left_glasses", "finding_eye"]),
    (["ent", "hearing"], ADULT, ["hearing_right_m", "hearing_left_m", "finding_ent"]),
    (["obstetrics_gynaecology"], Person("M", 40 * 365), []),
    (["obstetrics_gynaecology"], Person("F", 40 * 365), ["finding_obstetrics_gynaecology"]),
    (["obstetrics_gynaecology"], Person(None, 40 * 365), ["finding_obstetrics_gynaecology"]),
    (["doctor_conclusion"], ADULT, []),
]


@pytest.mark.parametrize(("plan", "person", "expected"), PLAN_FIELDS)
def test_fields_to_type_for_plan(plan, person, expected):
    fields = items_for_plan(plan, person, derived=False)

    assert [item.code for item in fields] == expected


PLAN_DERIVED = [
    (["height", "weight"], Person("F", 300), ["height_for_age_z", "weight_for_height_z", "weight_for_age_z"]),
    (["height", "weight"], Person("F", 1826), ["height_for_age_z", "weight_for_height_z", "weight_for_age_z"]),
    (["height", "weight"], Person("F", 1827), ["height_for_age_z"]),
    (["height", "weight"], Person("F", None), []),
    (["bmi_for_age"], Person("F", 1827), ["bmi", "bmi_for_age_z"]),
    (["bmi_for_age"], Person("F", 6970), ["bmi", "bmi_for_age_z"]),
    (["bmi_for_age"], Person("F", 6971), ["bmi"]),
    (["blood_pressure"], ADULT, ["bp_systolic_mean", "bp_diastolic_mean"]),
]


@pytest.mark.parametrize(("plan", "person", "expected"), PLAN_DERIVED)
def test_computed_values_for_plan(plan, person, expected):
    computed = items_for_plan(plan, person, derived=True)

    assert [item.code for item in computed] == expected


def test_unknown_plan_item_raises():
    with pytest.raises(KeyError, match="plan item 'xray' has no mapping"):
        items_for_plan(["xray"], ADULT)


@pytest.mark.parametrize(("plan", "code", "readings"), [
    (["blood_pressure"], "bp_systolic", 1),
    (["blood_pressure_twice"], "bp_systolic", 2),
    (["blood_pressure", "blood_pressure_twice"], "bp_diastolic", 2),
    (["height"], "bp_systolic", 0),
])
def test_readings_for_plan(plan, code, readings):
    assert readings_for_plan(plan, code) == readings


@pytest.mark.parametrize("code", [code for code, item in catalogue().items() if item.readings > 1])
def test_repeated_readings_at_most_three(code):
    assert get(code).readings <= 3


USUAL_BY_AGE = [
    ("weight_kg", Person("F", 364), (2.0, 14.0)),
    ("weight_kg", Person("F", 366), (6.0, 30.0)),
    ("weight_kg", Person("F", 18 * 365 + 5), (30.0, 150.0)),
    ("weight_kg", Person("F", None), (2.0, 150.0)),
    ("pulse", Person("F", 100), (70.0, 190.0)),
    ("pulse", Person("F", 40 * 365), (40.0, 150.0)),
    ("temperature_c", Person("F", None), (35.0, 40.0)),
]


@pytest.mark.parametrize(("code", "person", "expected"), USUAL_BY_AGE)
def test_usual_range_by_age(code, person, expected):
    assert get(code).usual_range(person) == expected


# Documentation.

def _doc_rows(path: Path) -> dict[str, str]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`(\w+)`\s*\|", line)
        if match:
            rows.setdefault(match.group(1), line)
    return rows


@pytest.mark.parametrize("item", catalogue().values(), ids=lambda item: item.code)
def test_item_documented_with_its_values(item):
    row = _doc_rows(ROOT / "docs" / "items.md").get(item.code)

    assert row is not None, f"add {item.code} to docs/items.md"
    assert (item.loinc or "none") in row
    assert item.station in row
    if item.plausible:
        assert f"{item.plausible[0]:g}–{item.plausible[1]:g}" in row
    for band in item.usual:
        assert f"{band.low:g}–{band.high:g}" in row
