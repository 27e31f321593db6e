"""Tests for WHO growth z-scores: WHO's published tables, WHO's own test cases and the rules around them."""

import csv
import datetime as dt
import math
from importlib import resources
from pathlib import Path

import pytest

from fieldapp import growth
from fieldapp.birthdates import BirthDate
from fieldapp.growth import zscores

SAMPLES = Path(__file__).parent / "data" / "who"
SD_COLUMNS = {-3: "SD3neg", -2: "SD2neg", -1: "SD1neg", 0: "SD0", 1: "SD1", 2: "SD2", 3: "SD3"}
BIRTH = dt.date(2020, 1, 1)


def on_day(days: int) -> dt.date:
    """Return the measurement date at which a child born on BIRTH is `days` days old."""
    return BIRTH + dt.timedelta(days=days)


def read_sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def data_row(table: str, sex: str, key: str) -> dict[str, str]:
    path = resources.files("fieldapp.data").joinpath("who", f"{table}_{sex}.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    key_column = next(iter(rows[0]))
    return next(row for row in rows if float(row[key_column]) == float(key))


# WHO's expanded tables print each SD value to 3 decimals. Rounding moves the z-score of a printed value by at
# most 0.0005 / (measure per SD): the worst row is weight-for-length at 45 cm, where 1 SD is about 0.17 kg,
# giving 0.003, so 0.01 is met with room.
EXPANDED = [f"expanded_{table}_{sex}" for table in ("wfa_2006", "lhfa_2006", "wfl_2006", "wfh_2006") for sex in "MF"]


@pytest.mark.parametrize("sample", EXPANDED)
def test_expanded_table_sd_values(sample):
    table, sex = sample.removeprefix("expanded_").rsplit("_", 1)
    rows = read_sample(sample)
    key = next(iter(rows[0]))

    failures = []
    for row in rows:
        for z, column in SD_COLUMNS.items():
            score = growth.zscore_from_reference(table, sex, float(row[key]), float(row[column]))
            if abs(score - z) > 0.01:
                failures.append(f"{key} {row[key]} {column}={row[column]}: z {score:.4f}")

    assert len(rows) > 100
    assert failures == []


@pytest.mark.parametrize("sample", [name for name in EXPANDED if "wfa" in name or "lhfa" in name])
def test_zscores_by_date_match_expanded_tables(sample):
    table, sex = sample.removeprefix("expanded_").rsplit("_", 1)
    # WHO Anthro's 2006 z-scores stop below 60 months (day 1826); later rows are checked above, by table.
    rows = [row for row in read_sample(sample) if int(row["day"]) <= 1826]

    failures = []
    for row in rows:
        days = int(row["day"])
        for z, column in SD_COLUMNS.items():
            measure = float(row[column])
            if table == "wfa_2006":
                score = zscores(sex, BIRTH, on_day(days), weight_kg=measure).weight_for_age_z
            else:
                lying = days <= growth.LAST_LENGTH_DAY
                score = zscores(sex, BIRTH, on_day(days), height_cm=measure, measured_lying=lying).height_for_age_z
            if score.table != table or abs(score.value - z) > 0.01:
                failures.append(f"day {days} {column}: {score}")

    assert failures == []


@pytest.mark.parametrize(("sample", "days", "lying"), [
    ("expanded_wfl_2006_M", 300, True),
    ("expanded_wfl_2006_F", 300, True),
    ("expanded_wfh_2006_M", 1000, False),
    ("expanded_wfh_2006_F", 1000, False),
])
def test_weight_for_height_by_date(sample, days, lying):
    table, sex = sample.removeprefix("expanded_").rsplit("_", 1)
    rows = read_sample(sample)
    key = next(iter(rows[0]))

    failures = []
    for row in rows:
        for z, column in SD_COLUMNS.items():
            result = zscores(sex, BIRTH, on_day(days), weight_kg=float(row[column]), height_cm=float(row[key]),
                             measured_lying=lying)
            score = result.weight_for_height_z
            if score.table != table or abs(score.value - z) > 0.01:
                failures.append(f"{row[key]} cm {column}: {score}")

    assert failures == []


@pytest.mark.parametrize("sex", ["M", "F"])
def test_bmi_2006_matches_who_monthly_tables(sex):
    # WHO's monthly BMI tables print SD values to 1 decimal at exact months (month x 30.4375 days), so each
    # printed value must lie within 0.05 of the daily table's values at the two days around that age.
    failures = []
    for row in read_sample(f"monthly_bfa_2006_{sex}"):
        for z, column in SD_COLUMNS.items():
            values = [growth.measure_for_zscore("bfa_2006", sex, int(row[day]), z) for day in ("first_day", "last_day")]
            published = float(row[column])
            if not min(values) - 0.05 <= published <= max(values) + 0.05:
                failures.append(f"month {row['month']} {column}={published}: daily {values}")

    assert failures == []


# Rows copied from data-raw/growthstandards/*.txt in github.com/WorldHealthOrganization/anthro and
# github.com/WorldHealthOrganization/anthroplus, the tables WHO's own software reads.
WHO_REPOSITORY_ROWS = [
    ("wfa_2006", "M", "0", 0.3487, 3.3464, 0.14602),
    ("wfa_2006", "M", "1", 0.3127, 3.3174, 0.14693),
    ("wfa_2006", "M", "100", 0.1682, 6.5699, 0.11588),
    ("wfa_2006", "M", "365", 0.0645, 9.646, 0.10925),
    ("wfa_2006", "M", "555", 0.0196, 10.9865, 0.11129),
    ("bfa_2006", "M", "618", -0.5898, 15.9521, 0.0783),
    ("bfa_2006", "M", "730", -0.6473, 15.7356, 0.07771),
    ("bfa_2006", "M", "731", -0.6187, 16.0189, 0.07785),
    ("bfa_2006", "M", "1000", -0.3601, 15.6982, 0.0788),
    ("bfa_2006", "M", "1102", -0.3078, 15.5926, 0.07935),
    ("bfa_2006", "F", "1567", -0.5684, 15.2498, 0.09373),
    ("bfa_2006", "F", "1700", -0.5684, 15.257, 0.0961),
    ("bfa_2006", "F", "1826", -0.5684, 15.2747, 0.09789),
    ("wfh_2006", "M", "65.0", -0.3521, 7.4327, 0.08217),
    ("wfh_2006", "M", "70.2", -0.3521, 8.6257, 0.0824),
    ("wfh_2006", "M", "77.5", -0.3521, 10.1194, 0.08318),
    ("wfh_2006", "M", "84.4", -0.3521, 11.5248, 0.08177),
    ("wfh_2006", "M", "92.6", -0.3521, 13.4937, 0.08028),
    ("wfh_2006", "M", "99.9", -0.3521, 15.3297, 0.08224),
    ("wfh_2006", "M", "110.0", -0.3521, 18.5158, 0.088),
    ("wfh_2006", "M", "112.4", -0.3521, 19.393, 0.08953),
    ("wfl_2006", "F", "49.1", -0.3833, 3.1749, 0.09061),
    ("wfl_2006", "F", "60.0", -0.3833, 5.8742, 0.09136),
    ("wfl_2006", "F", "73.5", -0.3833, 8.8638, 0.09025),
    ("wfl_2006", "F", "86.5", -0.3833, 11.594, 0.08895),
    ("wfl_2006", "F", "97.4", -0.3833, 14.3276, 0.09008),
    ("bfa_2007", "M", "60", -0.7151, 15.2679, 0.08366),
    ("bfa_2007", "M", "61", -0.7387, 15.2641, 0.0839),
    ("bfa_2007", "M", "120", -1.7407, 16.4433, 0.10566),
    ("bfa_2007", "M", "77", -1.1017, 15.3679, 0.08833),
    ("bfa_2007", "M", "99", -1.5101, 15.8094, 0.09651),
    ("bfa_2007", "M", "141", -1.7828, 17.3752, 0.11415),
    ("bfa_2007", "M", "165", -1.6482, 18.8095, 0.12125),
    ("bfa_2007", "M", "203", -1.2098, 21.0914, 0.12704),
    ("bfa_2007", "F", "66", -0.978, 15.2464, 0.0992),
    ("bfa_2007", "F", "95", -1.379, 15.6523, 0.11246),
    ("bfa_2007", "F", "118", -1.4864, 16.52, 0.12228),
    ("bfa_2007", "F", "171", -1.2027, 19.74, 0.13756),
    ("bfa_2007", "F", "213", -0.8703, 21.2116, 0.14301),
    ("bfa_2007", "M", "180", -1.4961, 19.7744, 0.12412),
    ("bfa_2007", "M", "228", -0.8419, 22.1883, 0.12948),
    ("bfa_2007", "F", "60", -0.8702, 15.2453, 0.09646),
    ("bfa_2007", "F", "150", -1.3621, 18.3986, 0.13295),
    ("bfa_2007", "F", "228", -0.7496, 21.4269, 0.14441),
    ("hfa_2007", "M", "60", 1.0, 109.7265, 0.04156),
    ("hfa_2007", "M", "144", 1.0, 149.0807, 0.04753),
    ("hfa_2007", "M", "228", 1.0, 176.5432, 0.04134),
    ("hfa_2007", "F", "61", 1.0, 109.6016, 0.04355),
    ("hfa_2007", "F", "200", 1.0, 162.767, 0.0413),
    ("hfa_2007", "F", "228", 1.0, 163.1548, 0.04009),
    ("wfa_2007", "M", "60", -0.1922, 18.3328, 0.12947),
    ("wfa_2007", "M", "90", -0.4964, 24.1371, 0.14016),
    ("wfa_2007", "M", "120", -0.6764, 31.1586, 0.16305),
    ("wfa_2007", "F", "61", -0.4681, 18.2579, 0.14295),
    ("wfa_2007", "F", "120", -0.5958, 31.8578, 0.17262),
]


@pytest.mark.parametrize(("table", "sex", "key", "l", "m", "s"), WHO_REPOSITORY_ROWS)
def test_data_rows_match_who_repositories(table, sex, key, l, m, s):
    row = data_row(table, sex, key)

    assert float(row["l"]) == l
    assert float(row["m"]) == m
    assert float(row["s"]) == s


# Expected values from WHO's anthro tests (tests/testthat/*.R): age in days, measure, position, z to 2 decimals.
@pytest.mark.parametrize(("sex", "days", "measures", "indicator", "expected"), [
    ("F", 1522, {"weight_kg": 17}, "weight_for_age_z", 0.24),
    ("M", 44, {"height_cm": 50, "measured_lying": True}, "height_for_age_z",
     round((50 / 56.4833 - 1) / 0.03492, 2)),
    ("M", 987, {"height_cm": 72.86, "measured_lying": True}, "height_for_age_z", -6.09),
    ("M", 244, {"height_cm": 60, "measured_lying": False}, "height_for_age_z", -4.81),
    ("M", 274, {"height_cm": 60, "measured_lying": False}, "height_for_age_z", -5.02),
    ("F", 731, {"height_cm": 77.5, "measured_lying": False}, "height_for_age_z", -2.55),
    ("F", 731, {"height_cm": 77.5}, "height_for_age_z", -2.55),
])
def test_who_anthro_reference_cases(sex, days, measures, indicator, expected):
    result = zscores(sex, BIRTH, on_day(days), **measures)

    assert getattr(result, indicator).rounded == expected


def test_lying_after_24_months_flagged():
    result = zscores("M", BIRTH, on_day(987), height_cm=72.86, measured_lying=True)

    assert result.height_cm == pytest.approx(72.16)
    assert result.height_for_age_z.implausible
    assert result.any_implausible


@pytest.mark.parametrize(("measures", "indicator"), [
    ({"weight_kg": 10.37}, "weight_for_age_z"),
    ({"weight_kg": 6.25, "height_cm": 50, "measured_lying": True}, "bmi_for_age_z"),
])
def test_who_anthro_cases_flagged_on_day_one(measures, indicator):
    result = zscores("F", BIRTH, on_day(1), **measures)

    assert getattr(result, indicator).value > 5
    assert getattr(result, indicator).implausible


# Expected values from WHO's anthroplus tests (tests/testthat/test-zscores.R), girls, to 3 decimals.
@pytest.mark.parametrize(("months", "height", "weight", "expected"), [
    (60.32, 113.8, 18.7, {"wfa_2007": 0.212, "bfa_2007": -0.575, "hfa_2007": 0.959}),
    (60.911701, 113.6, 20.5, {"wfa_2007": 0.795, "bfa_2007": 0.418, "hfa_2007": 0.848}),
])
def test_who_anthroplus_reference_cases(months, height, weight, expected):
    measures = {"wfa_2007": weight, "hfa_2007": height, "bfa_2007": weight / (height / 100) ** 2}

    for table, z in expected.items():
        assert round(growth.zscore_from_reference(table, "F", months, measures[table]), 3) == z


# The same cases by date: 1836 and 1854 days are 60.32 and 60.91 months, and WHO's 2-decimal values follow.
@pytest.mark.parametrize(("days", "height", "weight", "expected"), [
    (1836, 113.8, 18.7, (0.21, 0.96, -0.58)),
    (1854, 113.6, 20.5, (0.79, 0.85, 0.42)),
])
def test_who_anthroplus_reference_cases_by_date(days, height, weight, expected):
    result = zscores("F", BIRTH, on_day(days), weight_kg=weight, height_cm=height, measured_lying=False)

    assert (result.weight_for_age_z.rounded, result.height_for_age_z.rounded, result.bmi_for_age_z.rounded) == expected
    assert result.weight_for_age_z.table == "wfa_2007"


def test_age_59_99_months_uses_2006_standards():
    result = zscores("M", BIRTH, on_day(1826), weight_kg=18, height_cm=110, measured_lying=False)

    assert result.age_months < 60
    assert [result.weight_for_age_z.table, result.height_for_age_z.table, result.bmi_for_age_z.table] == [
        "wfa_2006", "lhfa_2006", "bfa_2006"]
    assert result.weight_for_height_z.table == "wfh_2006"
    assert result.weight_for_height_z.value is not None


def test_age_60_months_uses_2007_reference():
    result = zscores("M", BIRTH, on_day(1827), weight_kg=18, height_cm=110, measured_lying=False)

    assert result.age_months > 60
    assert [result.weight_for_age_z.table, result.height_for_age_z.table, result.bmi_for_age_z.table] == [
        "wfa_2007", "hfa_2007", "bfa_2007"]
    assert result.weight_for_height_z.value is None
    assert result.weight_for_height_z.reason == growth.AGE_OUT_OF_RANGE


def test_2006_tables_end_on_day_1856():
    last = data_row("lhfa_2006", "F", "1856")

    assert growth.zscore_from_reference("lhfa_2006", "F", 1856, 110) == pytest.approx(
        growth.lms_zscore(110, float(last["l"]), float(last["m"]), float(last["s"])))
    with pytest.raises(ValueError, match="outside WHO table lhfa_2006_F"):
        growth.zscore_from_reference("lhfa_2006", "F", 1857, 110)


# AnthroPlus: weight-for-age below 121 months, height- and BMI-for-age below 229 months.
@pytest.mark.parametrize(("days", "weight_for_age", "height_and_bmi"), [
    (3682, True, True),
    (3683, False, True),
    (6970, False, True),
    (6971, False, False),
])
def test_2007_age_limits(days, weight_for_age, height_and_bmi):
    result = zscores("F", BIRTH, on_day(days), weight_kg=40, height_cm=150, measured_lying=False)

    assert (result.weight_for_age_z.value is not None) == weight_for_age
    assert (result.height_for_age_z.value is not None) == height_and_bmi
    assert (result.bmi_for_age_z.value is not None) == height_and_bmi
    if not weight_for_age:
        assert result.weight_for_age_z.reason == growth.AGE_OUT_OF_RANGE


# WHO Anthro: under 24 months (day 730) a standing height gets +0.7 cm, from day 731 a lying length -0.7 cm;
# standing under 9 months is a wrong position and is left as measured.
@pytest.mark.parametrize(("days", "height", "lying", "used", "too_young"), [
    (500, 80.0, False, 80.7, False),
    (500, 80.0, True, 80.0, False),
    (500, 80.0, None, 80.0, False),
    (730, 85.0, False, 85.7, False),
    (731, 85.0, True, 84.3, False),
    (731, 85.0, False, 85.0, False),
    (2000, 110.0, True, 109.3, False),
    (200, 65.0, False, 65.0, True),
    (274, 65.0, False, 65.7, False),
])
def test_length_height_conversion(days, height, lying, used, too_young):
    result = zscores("M", BIRTH, on_day(days), weight_kg=12, height_cm=height, measured_lying=lying)
    table = result.height_for_age_z.table

    assert result.height_cm == pytest.approx(used)
    assert result.standing_too_young == too_young
    assert result.height_for_age_z.value == pytest.approx(
        growth.zscore_from_reference(table, "M", days if table == "lhfa_2006" else days / growth.DAYS_PER_MONTH, used))
    assert result.bmi == pytest.approx(12 / (used / 100) ** 2)


@pytest.mark.parametrize(("days", "length_indicator", "weight_indicator", "table"), [
    (730, "length_for_age", "weight_for_length", "wfl_2006"),
    (731, "height_for_age", "weight_for_height", "wfh_2006"),
])
def test_indicator_names_follow_age(days, length_indicator, weight_indicator, table):
    result = zscores("F", BIRTH, on_day(days), weight_kg=11, height_cm=85, measured_lying=days <= 730)

    assert result.height_for_age_z.indicator == length_indicator
    assert result.weight_for_height_z.indicator == weight_indicator
    assert result.weight_for_height_z.table == table


@pytest.mark.parametrize(("table", "sex", "at"), [("wfa_2006", "M", 360), ("wfl_2006", "F", 70.0)])
def test_restricted_rule_beyond_3_sd(table, sex, at):
    sample = {float(row[next(iter(row))]): row for row in read_sample(f"expanded_{table}_{sex}")}[at]
    sd2, sd3 = float(sample["SD2"]), float(sample["SD3"])
    sd2_negative, sd3_negative = float(sample["SD2neg"]), float(sample["SD3neg"])
    high = sd3 + 1.5 * (sd3 - sd2)
    low = sd3_negative - 0.5 * (sd2_negative - sd3_negative)
    lms = growth._table(table, sex).lms_at(at * growth.REFERENCES[table].steps_per_unit)

    # WHO: beyond +3 SD the z-score is 3 plus the distance from SD3 in units of (SD3 - SD2), and the same below -3.
    assert growth.zscore_from_reference(table, sex, at, high) == pytest.approx(4.5, abs=0.01)
    assert growth.zscore_from_reference(table, sex, at, low) == pytest.approx(-3.5, abs=0.01)
    assert abs(growth.lms_zscore(high, *lms) - 4.5) > 0.05
    assert abs(growth.lms_zscore(low, *lms) + 3.5) > 0.02


def test_height_for_age_is_not_restricted():
    height = 120.0

    assert growth.zscore_from_reference("lhfa_2006", "M", 1000, height) == pytest.approx(
        growth.lms_zscore(height, *growth._table("lhfa_2006", "M").lms_at(1000)))


@pytest.mark.parametrize("table", sorted(growth.REFERENCES))
@pytest.mark.parametrize("z", [-6.5, -4.0, -3.0, -1.2, 0.0, 2.5, 3.0, 4.2, 6.5])
def test_measure_for_zscore_inverts_zscore(table, z):
    at = {"day": 400, "month": 100, "length_cm": 70.3, "height_cm": 95.55}[growth.REFERENCES[table].key]
    measure = growth.measure_for_zscore(table, "F", at, z)

    assert growth.zscore_from_reference(table, "F", at, measure) == pytest.approx(z, abs=1e-9)


def test_monthly_reference_interpolates_between_rows():
    low, high = data_row("hfa_2007", "M", "100"), data_row("hfa_2007", "M", "101")
    m = float(low["m"]) + 0.25 * (float(high["m"]) - float(low["m"]))
    s = float(low["s"]) + 0.25 * (float(high["s"]) - float(low["s"]))

    assert growth.zscore_from_reference("hfa_2007", "M", 100.25, 130) == pytest.approx((130 / m - 1) / s)


def test_weight_for_length_interpolates_between_rows():
    low, high = data_row("wfl_2006", "F", "72.1"), data_row("wfl_2006", "F", "72.2")
    l, m, s = (float(low[c]) + 0.6 * (float(high[c]) - float(low[c])) for c in "lms")

    assert growth.zscore_from_reference("wfl_2006", "F", 72.16, 8.5) == pytest.approx(
        growth.lms_zscore(8.5, l, m, s))


# Rounded to 2 decimals first, as WHO does: 5.004 rounds to 5.00 and is not flagged, but 5.006 is.
FLAG_CASES = [
    ("weight_for_age_z", 5.004, False),
    ("weight_for_age_z", 5.006, True),
    ("weight_for_age_z", -5.5, False),
    ("weight_for_age_z", -6.004, False),
    ("weight_for_age_z", -6.006, True),
    ("height_for_age_z", 6.004, False),
    ("height_for_age_z", 6.006, True),
    ("height_for_age_z", -6.006, True),
    ("weight_for_height_z", 5.004, False),
    ("weight_for_height_z", 5.006, True),
    ("weight_for_height_z", -5.006, True),
    ("bmi_for_age_z", 5.006, True),
    ("bmi_for_age_z", -5.004, False),
    ("bmi_for_age_z", -5.006, True),
]


# Day 400 uses the 2006 standards and day 3000 (98.6 months) the 2007 reference, which has no weight-for-height.
@pytest.mark.parametrize(("indicator", "z", "implausible", "days"), [
    *((*case, 400) for case in FLAG_CASES),
    *((*case, 3000) for case in FLAG_CASES if case[0] != "weight_for_height_z"),
])
def test_implausible_flags(indicator, z, implausible, days):
    result = zscores("M", BIRTH, on_day(days), **measures_for(indicator, z, days))
    score = getattr(result, indicator)

    assert score.value == pytest.approx(z, abs=1e-6)
    assert score.implausible == implausible


def measures_for(indicator: str, z: float, days: int) -> dict[str, float | bool]:
    """Return measurements whose `indicator` has z-score `z` for a boy `days` old, with height at the median."""
    young = days / growth.DAYS_PER_MONTH < 60
    at = days if young else days / growth.DAYS_PER_MONTH
    weight_table, height_table, bmi_table = ("wfa_2006", "lhfa_2006", "bfa_2006") if young else (
        "wfa_2007", "hfa_2007", "bfa_2007")

    height = growth.measure_for_zscore(height_table, "M", at, z if indicator == "height_for_age_z" else 0.0)
    weight = growth.measure_for_zscore(weight_table, "M", at, z if indicator == "weight_for_age_z" else 0.0)
    if indicator == "weight_for_height_z":
        weight = growth.measure_for_zscore("wfl_2006", "M", height, z)
    if indicator == "bmi_for_age_z":
        weight = growth.measure_for_zscore(bmi_table, "M", at, z) * (height / 100) ** 2
    return {"weight_kg": weight, "height_cm": height, "measured_lying": days <= growth.LAST_LENGTH_DAY}


@pytest.mark.parametrize("birth", [BirthDate(2024), BirthDate(2024, 3)])
def test_partial_birth_date_age_scores(birth):
    result = zscores("F", birth, dt.date(2025, 6, 1), weight_kg=8, height_cm=70, measured_lying=True)

    assert result.weight_for_age_z.reason == growth.BIRTH_DATE_NOT_EXACT
    assert result.height_for_age_z.reason == growth.BIRTH_DATE_NOT_EXACT
    assert result.bmi_for_age_z.reason == growth.BIRTH_DATE_NOT_EXACT
    assert result.age_days is None
    assert result.weight_for_height_z.table == "wfl_2006"
    assert result.weight_for_height_z.value == pytest.approx(growth.zscore_from_reference("wfl_2006", "F", 70, 8))


@pytest.mark.parametrize(("height", "lying", "table"), [
    (80.0, None, "wfl_2006"),
    (90.0, None, "wfh_2006"),
    (90.0, True, "wfl_2006"),
    (80.0, False, "wfh_2006"),
])
def test_birth_year_only_table_choice(height, lying, table):
    result = zscores("M", BirthDate(2023), dt.date(2025, 6, 1), weight_kg=11, height_cm=height, measured_lying=lying)

    assert result.weight_for_height_z.table == table
    assert result.height_cm == height


def test_partial_birth_date_over_5_years():
    result = zscores("M", BirthDate(2020), dt.date(2025, 6, 1), weight_kg=17, height_cm=105, measured_lying=False)

    assert result.weight_for_height_z.value is None
    assert result.weight_for_height_z.reason == growth.BIRTH_DATE_NOT_EXACT


def test_birth_date_to_the_day():
    from_birth_date = zscores("M", BirthDate(2020, 1, 1), on_day(400), weight_kg=10)

    assert from_birth_date == zscores("M", BIRTH, on_day(400), weight_kg=10)


def test_unknown_sex_gives_no_scores():
    result = zscores(None, BIRTH, on_day(400), weight_kg=10, height_cm=75)

    for score in (result.weight_for_age_z, result.height_for_age_z, result.weight_for_height_z, result.bmi_for_age_z):
        assert score.value is None
        assert score.reason == growth.SEX_MISSING


@pytest.mark.parametrize("sex", ["m", "X", "Nam", ""])
def test_other_sex_codes_raise(sex):
    with pytest.raises(ValueError, match="sex must be"):
        zscores(sex, BIRTH, on_day(400), weight_kg=10)


def test_measurement_before_birth_raises():
    with pytest.raises(ValueError, match="before the birth date"):
        zscores("F", BIRTH, BIRTH - dt.timedelta(days=1), weight_kg=3)


@pytest.mark.parametrize(("measures", "reasons"), [
    ({"height_cm": 75.0}, {"weight_for_age_z": growth.WEIGHT_MISSING, "weight_for_height_z": growth.WEIGHT_MISSING,
                           "bmi_for_age_z": growth.WEIGHT_MISSING}),
    ({"weight_kg": 9.5}, {"height_for_age_z": growth.HEIGHT_MISSING, "weight_for_height_z": growth.HEIGHT_MISSING,
                          "bmi_for_age_z": growth.HEIGHT_MISSING}),
    ({"weight_kg": 0, "height_cm": 75.0}, {"weight_for_age_z": growth.MEASURE_NOT_POSITIVE,
                                           "weight_for_height_z": growth.MEASURE_NOT_POSITIVE,
                                           "bmi_for_age_z": growth.MEASURE_NOT_POSITIVE}),
    ({"weight_kg": 9.5, "height_cm": -75.0}, {"height_for_age_z": growth.MEASURE_NOT_POSITIVE,
                                              "weight_for_height_z": growth.MEASURE_NOT_POSITIVE,
                                              "bmi_for_age_z": growth.MEASURE_NOT_POSITIVE}),
])
def test_missing_or_non_positive_measures(measures, reasons):
    result = zscores("M", BIRTH, on_day(400), measured_lying=True, **measures)

    for indicator in ("weight_for_age_z", "height_for_age_z", "weight_for_height_z", "bmi_for_age_z"):
        score = getattr(result, indicator)
        assert score.reason == reasons.get(indicator), indicator
        assert (score.value is None) == (indicator in reasons), indicator


@pytest.mark.parametrize(("days", "height", "lying", "in_range"), [
    (300, 44.9, True, False),
    (300, 45.0, True, True),
    (300, 110.0, True, True),
    (300, 110.1, True, False),
    (1000, 64.9, False, False),
    (1000, 65.0, False, True),
    (1000, 120.0, False, True),
    (1000, 120.1, False, False),
])
def test_weight_for_height_length_range(days, height, lying, in_range):
    result = zscores("F", BIRTH, on_day(days), weight_kg=9, height_cm=height, measured_lying=lying)
    score = result.weight_for_height_z

    assert (score.value is not None) == in_range
    assert score.reason == (None if in_range else growth.HEIGHT_OUT_OF_RANGE)


def test_over_19_years_gives_no_scores():
    result = zscores("M", BIRTH, on_day(7000), weight_kg=60, height_cm=170, measured_lying=False)

    for score in (result.weight_for_age_z, result.height_for_age_z, result.weight_for_height_z, result.bmi_for_age_z):
        assert score.reason == growth.AGE_OUT_OF_RANGE


@pytest.mark.parametrize(("birth", "measured", "days"), [
    (dt.date(2024, 5, 1), dt.date(2024, 5, 1), 0),
    (dt.date(2024, 2, 28), dt.date(2024, 3, 1), 2),
    (dt.date(2023, 1, 1), dt.date(2024, 1, 1), 365),
    (dt.date(2020, 1, 1), dt.date(2025, 1, 1), 1827),
])
def test_age_in_days(birth, measured, days):
    assert growth.age_in_days(birth, measured) == days


def test_rounded_zscore():
    assert growth.ZScore("weight_for_age", value=-2.456).rounded == -2.46
    assert growth.ZScore("weight_for_age", reason=growth.WEIGHT_MISSING).rounded is None


def test_data_folder_complete_and_documented():
    folder = resources.files("fieldapp.data").joinpath("who")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    files = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".csv"))

    growth.load_references()
    assert files == sorted(f"{name}_{sex}.csv" for name in growth.REFERENCES for sex in "MF")
    for name in files:
        assert name in readme
    assert not math.isnan(growth.zscore_from_reference("bfa_2007", "F", 228.9, 20))
