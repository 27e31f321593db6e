"""Reading typed values, refusing the impossible, querying the unusual, and offering unit-slip fixes."""

import math
import subprocess
import sys

import pytest

from fieldapp.clinical import (
    EntryError,
    Person,
    catalogue,
    check,
    check_blood_pressure,
    classify,
    get,
    parse,
    parse_blood_pressure,
)
from fieldapp.clinical.numbers import format_quantity, rounded
from fieldapp.clinical.person import DAYS_PER_MONTH

ADULT = Person("M", 40 * 365)
BABY = Person("F", 100)
TODDLER = Person("F", 3 * 365)


# Reading.

PARSED = [
    # (item, typed, value)
    ("temperature_c", "36,5", 36.5),
    ("temperature_c", "36.5", 36.5),
    ("temperature_c", " 36,5  độ ", 36.5),
    ("temperature_c", "36,5°C", 36.5),
    ("temperature_c", "36,5 độ C", 36.5),
    ("weight_kg", "65kg", 65.0),
    ("weight_kg", "65 KG", 65.0),
    ("weight_kg", "65,5 ký", 65.5),
    ("weight_kg", "65 000", 65000.0),
    ("weight_kg", "1.234,5", 1234.5),
    ("weight_kg", "1,234.5", 1234.5),
    ("weight_kg", "65.000.000", 65000000.0),
    ("height_cm", "165", 165.0),
    ("height_cm", "165 cm", 165.0),
    ("height_cm", "1,65", 1.65),
    ("pulse", "72", 72.0),
    ("pulse", "72 l/p", 72.0),
    ("pulse", "72 lần/phút", 72.0),
    ("pulse", "72 nhịp/phút", 72.0),
    ("spo2", "98%", 98.0),
    ("spo2", "98 %", 98.0),
    ("bp_systolic", "120 mmHg", 120.0),
    ("glucose_fasting_mmol", "6,1 mmol/L", 6.1),
    ("bmi", "22,5", 22.5),
    ("hearing_left_m", "5m", 5.0),
    ("hearing_left_m", "5 mét", 5.0),
    ("vision_left", "8/10", 8.0),
    ("vision_left", "10/10", 10.0),
    ("vision_left", "8", 8.0),
    ("vision_left", "0,8", 8.0),
    ("vision_left", "0.8", 8.0),
    ("vision_left", "1,0", 10.0),
    ("vision_left", "20/40", 5.0),
    ("vision_left", "6/9", 6.7),
    ("vision_left", "1/10", 1.0),
    ("spine", "normal", "normal"),
    ("spine", "Bình thường", "normal"),
    ("spine", "VẸO CỘT SỐNG", "scoliosis"),
    ("spine", "veo cot song", "scoliosis"),
    ("dental", "sâu răng, viêm lợi", "caries,gingivitis"),
    ("dental", "caries + caries", "caries"),
    ("finding_surgery", "  Sẹo  mổ   cũ ", "Sẹo mổ cũ"),
]


@pytest.mark.parametrize(("code", "typed", "value"), PARSED)
def test_parse_reads_value(code, typed, value):
    parsed = parse(code, typed)

    assert parsed.error is None
    assert parsed.value == value
    assert parsed.hints == ()


CONVERTED = [
    # (item, typed, value in the item's unit, message)
    ("weight_kg", "65000 g", 65.0, "Đã đổi 65000 g thành 65,0 kg."),
    ("weight_kg", "3200g", 3.2, "Đã đổi 3200g thành 3,2 kg."),
    ("height_cm", "1m65", 165.0, "Đã đổi 1m65 thành 165,0 cm."),
    ("height_cm", "1m6", 160.0, "Đã đổi 1m6 thành 160,0 cm."),
    ("height_cm", "1m05", 105.0, "Đã đổi 1m05 thành 105,0 cm."),
    ("height_cm", "1,65 m", 165.0, "Đã đổi 1,65 m thành 165,0 cm."),
    ("temperature_c", "98,6 F", 37.0, "Đã đổi 98,6 F thành 37,0 °C."),
    ("temperature_c", "98.6°F", 37.0, "Đã đổi 98.6°F thành 37,0 °C."),
    ("glucose_fasting_mmol", "110 mg/dL", 6.1, "Đã đổi 110 mg/dL thành 6,1 mmol/L."),
    ("hearing_left_m", "50 cm", 0.5, "Đã đổi 50 cm thành 0,5 m."),
]


@pytest.mark.parametrize(("code", "typed", "value", "message"), CONVERTED)
def test_parse_converts_explicit_unit(code, typed, value, message):
    parsed = parse(code, typed)

    assert parsed.value == value
    assert [hint.code for hint in parsed.hints] == ["converted"]
    assert str(parsed.hints[0].message) == message


PARSE_ERRORS = [
    # (item, typed, error code, message)
    ("weight_kg", "", "empty", "Cân nặng: chưa nhập."),
    ("weight_kg", "   ", "empty", "Cân nặng: chưa nhập."),
    ("dental", " , ;", "empty", "Răng hàm mặt: chưa nhập."),
    ("weight_kg", "abc", "not_a_number", "Cân nặng: không đọc được số từ 'abc'."),
    ("weight_kg", "65 kilogam nặng", "not_a_number", "Cân nặng: không đọc được số từ '65 kilogam nặng'."),
    ("weight_kg", "65 cm", "wrong_unit", "Cân nặng đo bằng kg, không phải cm."),
    ("pulse", "72 kg", "wrong_unit", "Mạch đo bằng lần/phút, không phải kg."),
    ("vision_left", "tốt", "not_a_number",
     "Thị lực mắt trái không kính: không đọc được 'tốt'; nhập dạng 8/10, 0,8 hoặc 8."),
    ("vision_left", "8/0", "not_a_number",
     "Thị lực mắt trái không kính: không đọc được '8/0'; nhập dạng 8/10, 0,8 hoặc 8."),
    ("spine", "gãy", "not_a_choice",
     ("Cột sống: 'gãy' không phải một lựa chọn; chọn một trong Bình thường, Vẹo cột sống, Gù cột sống, "
      "Ưỡn cột sống.")),
    ("spine_note", "x" * 501, "too_long", "Cột sống: ghi chú dài 501 ký tự; tối đa 500 ký tự."),
]


@pytest.mark.parametrize(("code", "typed", "error_code", "message"), PARSE_ERRORS)
def test_parse_error_names_field(code, typed, error_code, message):
    parsed = parse(code, typed)

    assert parsed.value is None
    assert parsed.code == error_code
    assert str(parsed.error) == message


BP_TYPED = [
    # (field, typed, value, partner)
    ("bp_systolic", "120/80", 120.0, {"bp_diastolic": 80.0}),
    ("bp_diastolic", "120/80", 80.0, {"bp_systolic": 120.0}),
    ("bp_systolic", "120 / 80", 120.0, {"bp_diastolic": 80.0}),
    ("bp_systolic", "120-80", 120.0, {"bp_diastolic": 80.0}),
    ("bp_systolic", "120 80", 120.0, {"bp_diastolic": 80.0}),
    ("bp_systolic", "120 trên 80", 120.0, {"bp_diastolic": 80.0}),
    ("bp_systolic", "12/8", 12.0, {"bp_diastolic": 8.0}),
    ("bp_systolic", "12/8 cmHg", 120.0, {"bp_diastolic": 80.0}),
]


@pytest.mark.parametrize(("code", "typed", "value", "others"), BP_TYPED)
def test_parse_pressure_pair_in_one_field(code, typed, value, others):
    parsed = parse(code, typed)

    assert parsed.value == value
    assert parsed.others == others


@pytest.mark.parametrize(("typed", "pair"), [
    ("120/80", (120.0, 80.0)),
    ("135/85 mmHg", (135.0, 85.0)),
    ("12/8", (12.0, 8.0)),
    ("12/8 cmHg", (120.0, 80.0)),
    ("12,5/8", (12.5, 8.0)),
])
def test_parse_blood_pressure(typed, pair):
    assert parse_blood_pressure(typed) == pair


@pytest.mark.parametrize("typed", ["120", "120/80/60", "cao", ""])
def test_parse_blood_pressure_rejects_non_pair(typed):
    with pytest.raises(EntryError) as raised:
        parse_blood_pressure(typed)

    assert raised.value.code == "not_blood_pressure"
    assert str(raised.value.message) == f"Không đọc được huyết áp từ '{typed}': nhập dạng 120/80."


# Checking: refuse, confirm, accept at the range edges.

LEVELS_BY_HAND = [
    # (item, person, value, level): the ranges of items.json written out, so a wrong data file fails.
    ("bp_systolic", ADULT, 39, "refuse"),
    ("bp_systolic", ADULT, 40, "confirm"),
    ("bp_systolic", ADULT, 69, "confirm"),
    ("bp_systolic", ADULT, 70, "accept"),
    ("bp_systolic", ADULT, 200, "accept"),
    ("bp_systolic", ADULT, 201, "confirm"),
    ("bp_systolic", ADULT, 300, "confirm"),
    ("bp_systolic", ADULT, 301, "refuse"),
    ("bp_diastolic", ADULT, 19, "refuse"),
    ("bp_diastolic", ADULT, 39, "confirm"),
    ("bp_diastolic", ADULT, 40, "accept"),
    ("bp_diastolic", ADULT, 125, "accept"),
    ("bp_diastolic", ADULT, 131, "confirm"),
    ("bp_diastolic", ADULT, 201, "refuse"),
    ("temperature_c", ADULT, 29.9, "refuse"),
    ("temperature_c", ADULT, 30.0, "confirm"),
    ("temperature_c", ADULT, 34.9, "confirm"),
    ("temperature_c", ADULT, 35.0, "accept"),
    ("temperature_c", ADULT, 40.0, "accept"),
    ("temperature_c", ADULT, 40.1, "confirm"),
    ("temperature_c", ADULT, 45.0, "confirm"),
    ("temperature_c", ADULT, 45.1, "refuse"),
    ("spo2", ADULT, 49, "refuse"),
    ("spo2", ADULT, 50, "confirm"),
    ("spo2", ADULT, 89, "confirm"),
    ("spo2", ADULT, 90, "accept"),
    ("spo2", ADULT, 100, "accept"),
    ("spo2", ADULT, 101, "refuse"),
    ("weight_kg", ADULT, 0.4, "refuse"),
    ("weight_kg", ADULT, 0.5, "confirm"),
    ("weight_kg", ADULT, 29.9, "confirm"),
    ("weight_kg", ADULT, 30.0, "accept"),
    ("weight_kg", ADULT, 150.0, "accept"),
    ("weight_kg", ADULT, 150.1, "confirm"),
    ("weight_kg", ADULT, 350.0, "confirm"),
    ("weight_kg", ADULT, 350.1, "refuse"),
    ("weight_kg", BABY, 1.9, "confirm"),
    ("weight_kg", BABY, 2.0, "accept"),
    ("weight_kg", BABY, 14.0, "accept"),
    ("weight_kg", BABY, 14.1, "confirm"),
    ("height_cm", ADULT, 44.9, "refuse"),
    ("height_cm", ADULT, 124.9, "confirm"),
    ("height_cm", ADULT, 125.0, "accept"),
    ("height_cm", ADULT, 200.1, "confirm"),
    ("height_cm", ADULT, 250.1, "refuse"),
    ("height_cm", TODDLER, 125.1, "confirm"),
    ("length_cm", BABY, 29.9, "refuse"),
    ("length_cm", BABY, 39.9, "confirm"),
    ("length_cm", BABY, 40.0, "accept"),
    ("pulse", ADULT, 19, "refuse"),
    ("pulse", ADULT, 39, "confirm"),
    ("pulse", ADULT, 40, "accept"),
    ("pulse", ADULT, 151, "confirm"),
    ("pulse", BABY, 185, "accept"),
    ("pulse", ADULT, 251, "refuse"),
    ("glucose_fasting_mmol", ADULT, 0.9, "refuse"),
    ("glucose_fasting_mmol", ADULT, 1.0, "confirm"),
    ("glucose_fasting_mmol", ADULT, 2.9, "confirm"),
    ("glucose_fasting_mmol", ADULT, 3.0, "accept"),
    ("glucose_fasting_mmol", ADULT, 25.0, "accept"),
    ("glucose_fasting_mmol", ADULT, 25.1, "confirm"),
    ("glucose_fasting_mmol", ADULT, 35.1, "refuse"),
    ("vision_left", ADULT, -0.1, "refuse"),
    ("vision_left", ADULT, 0.0, "confirm"),
    ("vision_left", ADULT, 1.0, "accept"),
    ("vision_left", ADULT, 12.0, "accept"),
    ("vision_left", ADULT, 12.1, "confirm"),
    ("vision_left", ADULT, 20.1, "refuse"),
    ("hearing_left_m", ADULT, 0.4, "confirm"),
    ("hearing_left_m", ADULT, 5.0, "accept"),
    ("hearing_left_m", ADULT, 20.1, "refuse"),
    ("bmi", ADULT, 6.9, "refuse"),
    ("bmi", ADULT, 10.9, "confirm"),
    ("bmi", ADULT, 22.0, "accept"),
    ("bmi", ADULT, 50.1, "confirm"),
    ("weight_for_age_z", TODDLER, -6.01, "confirm"),
    ("weight_for_age_z", TODDLER, -6.0, "accept"),
    ("weight_for_age_z", TODDLER, 5.01, "confirm"),
    ("height_for_age_z", TODDLER, 6.01, "confirm"),
    ("weight_for_height_z", TODDLER, -5.01, "confirm"),
    ("bmi_for_age_z", Person("F", 10 * 365), 5.01, "confirm"),
]


@pytest.mark.parametrize(("code", "person", "value", "level"), LEVELS_BY_HAND)
def test_check_level_at_range_edge(code, person, value, level):
    assert check(code, value, person).level == level


def _people_for(item) -> list[Person]:
    """Return one person at the start of each of the item's usual age bands."""
    return [Person("F", math.ceil((band.from_months or 0) * DAYS_PER_MONTH)) for band in item.usual]


def _edge_cases():
    """Yield (item, person, value, level) just below, at and just above every range bound in items.json."""
    for item in catalogue().values():
        if item.kind != "number":
            continue
        step = 10 ** -item.decimals
        for person in _people_for(item):
            usual = item.usual_range(person)
            for bound in {*(item.plausible or ()), *usual}:
                for value in (rounded(bound - step, item.decimals), bound, rounded(bound + step, item.decimals)):
                    if item.plausible and not item.plausible[0] <= value <= item.plausible[1]:
                        level = "refuse"
                    elif not usual[0] <= value <= usual[1]:
                        level = "confirm"
                    else:
                        level = "accept"
                    yield pytest.param(item.code, person, value, level, id=f"{item.code}-{person.age_days}d-{value}")


@pytest.mark.parametrize(("code", "person", "value", "level"), list(_edge_cases()))
def test_check_level_at_data_edges(code, person, value, level):
    assert check(code, value, person).level == level


CHECK_MESSAGES = [
    ("bp_systolic", ADULT, 12, "Huyết áp tâm thu 12 mmHg không hợp lệ: chỉ nhận từ 40 mmHg đến 300 mmHg."),
    ("temperature_c", ADULT, 40.5, ("Nhiệt độ (đo ở nách) 40,5 °C khác thường (thường từ 35 °C đến 40 °C): "
                                    "đo lại, hoặc xác nhận nếu đúng.")),
    ("weight_kg", BABY, 20.0, "Cân nặng 20 kg khác thường (thường từ 2 kg đến 14 kg): đo lại, hoặc xác nhận nếu đúng."),
    ("pulse", ADULT, 300, "Mạch 300 lần/phút không hợp lệ: chỉ nhận từ 20 lần/phút đến 250 lần/phút."),
    ("spo2", ADULT, 101, "Độ bão hòa oxy (SpO2) 101% không hợp lệ: chỉ nhận từ 50% đến 100%."),
    ("vision_left", ADULT, 25, "Thị lực mắt trái không kính 25/10 không hợp lệ: chỉ nhận từ 0/10 đến 20/10."),
    ("bmi", ADULT, 55.0, ("Chỉ số khối cơ thể (BMI) 55 kg/m² khác thường (thường từ 11 kg/m² đến 50 kg/m²): "
                          "kiểm tra lại các số đo dùng để tính.")),
    ("weight_kg", ADULT, None, "Cân nặng: chưa nhập."),
    ("spine", ADULT, "broken", ("Cột sống: 'broken' không phải một lựa chọn; chọn một trong Bình thường, "
                                "Vẹo cột sống, Gù cột sống, Ưỡn cột sống.")),
    ("finding_eye", ADULT, "x" * 2001, "Mắt dài 2001 ký tự; tối đa 2000 ký tự."),
]


@pytest.mark.parametrize(("code", "person", "value", "message"), CHECK_MESSAGES)
def test_check_message_names_field_value_and_range(code, person, value, message):
    assert str(check(code, value, person).message) == message


@pytest.mark.parametrize(("code", "value"), [
    ("dental", "caries,gingivitis"), ("spine", "kyphosis"), ("finding_eye", "Đục thủy tinh thể mắt phải"),
])
def test_check_accepts_choice_and_text(code, value):
    verdict = check(code, value, ADULT)

    assert verdict.level == "accept"
    assert verdict.message is None


def test_check_keeps_entry_apart_from_bands():
    verdict = check("bp_systolic", 190, ADULT)
    band = classify("bp_systolic", 190, ADULT, {"bp_diastolic": 100})

    assert verdict.level == "accept"
    assert band.flag == "red"


# Unit slips: each habit gets its one-tap fix.

SLIP_HINTS = [
    # (item, person, typed value, slip, fixed value, message)
    ("bp_systolic", ADULT, 12, "cmhg", 120.0, "Có phải ghi theo cmHg? 12 cmHg = 120 mmHg."),
    ("bp_systolic", ADULT, 13.5, "cmhg", 135.0, "Có phải ghi theo cmHg? 13,5 cmHg = 135 mmHg."),
    ("bp_diastolic", ADULT, 8, "cmhg", 80.0, "Có phải ghi theo cmHg? 8 cmHg = 80 mmHg."),
    ("temperature_c", ADULT, 98.6, "fahrenheit", 37.0, "Có phải đo theo độ F? 98,6 °F = 37,0 °C."),
    ("temperature_c", ADULT, 100.4, "fahrenheit", 38.0, "Có phải đo theo độ F? 100,4 °F = 38,0 °C."),
    ("temperature_c", ADULT, 365, "temperature_no_decimal", 36.5, "Có phải thiếu dấu phẩy? 365 là 36,5 °C."),
    ("height_cm", ADULT, 1.65, "metres", 165.0, "Có phải ghi theo mét? 1,65 m = 165,0 cm."),
    ("length_cm", BABY, 0.62, "metres", 62.0, "Có phải ghi theo mét? 0,62 m = 62,0 cm."),
    ("waist_cm", ADULT, 0.85, "metres", 85.0, "Có phải ghi theo mét? 0,85 m = 85,0 cm."),
    ("glucose_fasting_mmol", ADULT, 110, "mgdl", 6.1, "Có phải ghi theo mg/dL? 110 mg/dL = 6,1 mmol/L."),
    ("glucose_fasting_mmol", ADULT, 126, "mgdl", 7.0, "Có phải ghi theo mg/dL? 126 mg/dL = 7,0 mmol/L."),
    ("glucose_random_mmol", ADULT, 200, "mgdl", 11.1, "Có phải ghi theo mg/dL? 200 mg/dL = 11,1 mmol/L."),
    ("glucose_random_mmol", ADULT, 400, "mgdl", 22.2, "Có phải ghi theo mg/dL? 400 mg/dL = 22,2 mmol/L."),
    ("weight_kg", BABY, 3200, "grams", 3.2, "Có phải ghi theo gam? 3200 g = 3,2 kg."),
    ("weight_kg", ADULT, 65000, "grams", 65.0, "Có phải ghi theo gam? 65000 g = 65,0 kg."),
    ("spo2", ADULT, 0.98, "fraction_percent", 98.0, "Có phải ghi dạng thập phân? 0,98 = 98%."),
    ("hearing_left_m", ADULT, 50, "centimetres", 0.5, "Có phải ghi theo cm? 50 cm = 0,5 m."),
]


@pytest.mark.parametrize(("code", "person", "value", "slip", "fixed", "message"), SLIP_HINTS)
def test_unit_slip_offers_one_tap_fix(code, person, value, slip, fixed, message):
    verdict = check(code, value, person)

    assert verdict.level in ("refuse", "confirm")
    assert [hint.code for hint in verdict.hints] == [slip]
    assert verdict.hints[0].fixed_value == fixed
    assert str(verdict.hints[0].message) == message
    assert check(code, fixed, person).level == "accept"


NO_SLIP = [
    # Real readings, or values whose conversion would not be usual for this person, get no fix.
    ("temperature_c", ADULT, 36.5),
    ("temperature_c", ADULT, 41.0),
    ("glucose_fasting_mmol", ADULT, 25.0),
    ("glucose_fasting_mmol", ADULT, 30.0),
    ("glucose_fasting_mmol", ADULT, 700),
    ("weight_kg", ADULT, 3200),
    ("height_cm", TODDLER, 1.65),
    ("bp_systolic", ADULT, 210),
    ("bp_systolic", ADULT, 2),
    ("spo2", ADULT, 85),
]


@pytest.mark.parametrize(("code", "person", "value"), NO_SLIP)
def test_no_unit_slip_for_real_reading(code, person, value):
    assert check(code, value, person).hints == ()


def test_pressure_typed_in_cmhg_fixed_as_pair():
    verdict = check_blood_pressure(12, 8, ADULT)

    assert verdict.level == "refuse"
    assert [hint.code for hint in verdict.hints] == ["cmhg"]
    assert verdict.hints[0].fixed_value == (120.0, 80.0)
    assert str(verdict.hints[0].message) == "Có phải ghi theo cmHg? 12/8 cmHg = 120/80 mmHg."
    assert str(verdict.message) == ("Huyết áp tâm thu 12 mmHg không hợp lệ: chỉ nhận từ 40 mmHg đến 300 mmHg. "
                                    "Huyết áp tâm trương 8 mmHg không hợp lệ: chỉ nhận từ 20 mmHg đến 200 mmHg.")


def test_pressure_swapped_refused_with_fix():
    verdict = check_blood_pressure(80, 120, ADULT)

    assert verdict.level == "refuse"
    assert verdict.code == "bp_order"
    assert str(verdict.message) == "Huyết áp tâm trương (120 mmHg) phải thấp hơn huyết áp tâm thu (80 mmHg)."
    assert [(hint.code, hint.fixed_value) for hint in verdict.hints] == [("swapped", (120.0, 80.0))]
    assert str(verdict.hints[0].message) == "Có phải nhập đảo hai số? Tâm thu 120, tâm trương 80."


def test_pressure_equal_values_refused_without_fix():
    verdict = check_blood_pressure(100, 100, ADULT)

    assert verdict.level == "refuse"
    assert verdict.hints == ()


@pytest.mark.parametrize(("systolic", "diastolic", "level"), [
    (120, 80, "accept"),
    (210, 95, "confirm"),
    (135, 39, "confirm"),
    (12, 80, "refuse"),
])
def test_check_blood_pressure_level(systolic, diastolic, level):
    assert check_blood_pressure(systolic, diastolic, ADULT).level == level


# Display and import.

@pytest.mark.parametrize(("value", "unit", "decimals", "shown"), [
    (36.5, "Cel", 1, "36,5 °C"),
    (37.0, "Cel", 1, "37,0 °C"),
    (120.0, "mm[Hg]", 0, "120 mmHg"),
    (8.0, "/10", 1, "8,0/10"),
    (98.0, "%", 0, "98%"),
    (1.65, "cm", 1, "1,65 cm"),
    (3200.0, "kg", 1, "3200 kg"),
    (22.5, "kg/m2", 1, "22,5 kg/m²"),
    (-2.5, "{z-score}", 2, "-2,50 SD"),
])
def test_format_quantity(value, unit, decimals, shown):
    assert format_quantity(value, unit, decimals) == shown


def test_rules_import_and_speak_without_app():
    code = ("from fieldapp.clinical import Person, check; "
            "print(check('temperature_c', 98.6, Person('M', 15000)).hints[0].message)")

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "Có phải đo theo độ F? 98,6 °F = 37,0 °C."


def test_every_item_parses_its_usual_midpoint():
    for item in catalogue().values():
        if item.kind != "number" or item.derived:
            continue
        low, high = item.usual_range(ADULT)
        middle = rounded((low + high) / 2, item.decimals)

        typed = format_quantity(middle, None, item.decimals)

        assert parse(item.code, typed).value == pytest.approx(middle), item.code
        assert check(item.code, middle, ADULT).level == "accept", item.code


def test_unknown_item_raises_key_error():
    with pytest.raises(KeyError):
        get("blood_sugar")
