"""Compute WHO child growth z-scores the way WHO's own software computes them.

Under 60 months the WHO Child Growth Standards 2006 apply, as in WHO Anthro (R package anthro 1.x):
daily LMS tables looked up at the exact age in days, weight-for-length/height interpolated between
0.1 cm rows. From 60 months the WHO Reference 2007 applies, as in WHO AnthroPlus (R package
anthroplus 1.1): monthly LMS rows interpolated linearly at the age in months (days / 30.4375).
The tables are in fieldapp/data/who/, whose README names their sources.
"""

import csv
import datetime as dt
import functools
import math
from dataclasses import dataclass
from importlib import resources

from .birthdates import BirthDate

# WHO's average month, 365.25 / 12 days, in both Anthro and AnthroPlus.
DAYS_PER_MONTH = 30.4375
# WHO Anthro gives 2006 z-scores only while the age in months is below 60, and AnthroPlus takes over at 60.
REFERENCE_2007_FROM_MONTH = 60
# The 2006 tables are for recumbent length up to day 730 and standing height from day 731 (24 months).
LAST_LENGTH_DAY = 730
# Standing height is on average 0.7 cm less than recumbent length (WHO Child Growth Standards 2006).
STANDING_LYING_DIFFERENCE_CM = 0.7
# WHO Anthro treats a standing measurement under 9 months as a wrong position and does not convert it.
STANDING_PLAUSIBLE_FROM_MONTH = 9
# With no age and no position, WHO Anthro takes a measurement under 87 cm as a length.
UNKNOWN_POSITION_LENGTH_BELOW_CM = 87.0

# Reasons an indicator has no z-score (ZScore.reason).
SEX_MISSING = "sex_missing"
BIRTH_DATE_NOT_EXACT = "birth_date_not_exact"
WEIGHT_MISSING = "weight_missing"
HEIGHT_MISSING = "height_missing"
MEASURE_NOT_POSITIVE = "measure_not_positive"
AGE_OUT_OF_RANGE = "age_out_of_range"
HEIGHT_OUT_OF_RANGE = "height_out_of_range"


@dataclass(frozen=True)
class _Reference:
    """Key column, steps per unit, restricted flag and WHO's plausible z range of one WHO table."""

    key: str
    steps_per_unit: int
    restricted: bool
    plausible: tuple[float, float]


# WHO flags z-scores (rounded to 2 decimals) outside these ranges as implausible, in Anthro and AnthroPlus alike.
_WEIGHT_FOR_AGE = (-6.0, 5.0)
_HEIGHT_FOR_AGE = (-6.0, 6.0)
_WEIGHT_FOR_HEIGHT = (-5.0, 5.0)
_BMI_FOR_AGE = (-5.0, 5.0)

# Weight-based indicators use WHO's restricted LMS method beyond +-3 SD, but height-for-age does not.
REFERENCES = {
    "wfa_2006": _Reference("day", 1, True, _WEIGHT_FOR_AGE),
    "lhfa_2006": _Reference("day", 1, False, _HEIGHT_FOR_AGE),
    "wfl_2006": _Reference("length_cm", 10, True, _WEIGHT_FOR_HEIGHT),
    "wfh_2006": _Reference("height_cm", 10, True, _WEIGHT_FOR_HEIGHT),
    "bfa_2006": _Reference("day", 1, True, _BMI_FOR_AGE),
    "wfa_2007": _Reference("month", 1, True, _WEIGHT_FOR_AGE),
    "hfa_2007": _Reference("month", 1, False, _HEIGHT_FOR_AGE),
    "bfa_2007": _Reference("month", 1, True, _BMI_FOR_AGE),
}
# Inclusive ranges of the weight-for-length and weight-for-height tables, in cm.
_HEIGHT_RANGES = {"wfl_2006": (45.0, 110.0), "wfh_2006": (65.0, 120.0)}
# AnthroPlus upper age limits in months, exclusive.
_AGE_LIMITS_2007 = {"wfa_2007": 121, "hfa_2007": 229, "bfa_2007": 229}


@dataclass(frozen=True)
class ZScore:
    """One indicator's z-score, or the reason it has none.

    `indicator` names what applies at this age and position, e.g. weight_for_length under 24 months and
    weight_for_height from 24 months. `table` is the WHO table used, e.g. "wfl_2006".
    """

    indicator: str
    value: float | None = None
    reason: str | None = None
    table: str | None = None
    implausible: bool = False

    @property
    def rounded(self) -> float | None:
        """Return the z-score to 2 decimals, as WHO's software displays and flags it."""
        return None if self.value is None else round(self.value, 2)


@dataclass(frozen=True)
class GrowthResult:
    """The four z-scores of one measurement and the numbers they were computed from."""

    weight_for_age_z: ZScore
    height_for_age_z: ZScore
    weight_for_height_z: ZScore
    bmi_for_age_z: ZScore
    age_days: int | None = None
    height_cm: float | None = None
    bmi: float | None = None
    standing_too_young: bool = False

    @property
    def age_months(self) -> float | None:
        return None if self.age_days is None else self.age_days / DAYS_PER_MONTH

    @property
    def any_implausible(self) -> bool:
        """True when a z-score is outside WHO's plausible range, so the entry form should ask for confirmation."""
        scores = (self.weight_for_age_z, self.height_for_age_z, self.weight_for_height_z, self.bmi_for_age_z)
        return any(score.implausible for score in scores)


@dataclass(frozen=True)
class _Table:
    name: str
    first: int
    rows: tuple[tuple[float, float, float], ...]

    def lms_at(self, position: float) -> tuple[float, float, float]:
        """Return (L, M, S) at `position` in table steps, interpolating linearly between rows as WHO does.

        Past the last row the last row applies, as AnthroPlus's repeated month 229 row does.
        """
        lower = math.floor(position + 1e-9)
        fraction = max(0.0, position - lower)
        index = lower - self.first
        if not 0 <= index < len(self.rows):
            last = self.first + len(self.rows) - 1
            raise ValueError(f"position {position} is outside WHO table {self.name} (rows {self.first} to {last})")
        if fraction < 1e-9 or index + 1 == len(self.rows):
            return self.rows[index]
        low, high = self.rows[index], self.rows[index + 1]
        return tuple(a + fraction * (b - a) for a, b in zip(low, high, strict=True))


@functools.cache
def _table(name: str, sex: str) -> _Table:
    reference = REFERENCES[name]
    path = resources.files("fieldapp.data").joinpath("who", f"{name}_{sex}.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = round(float(rows[0][reference.key]) * reference.steps_per_unit)
    return _Table(f"{name}_{sex}", first, tuple((float(row["l"]), float(row["m"]), float(row["s"])) for row in rows))


def load_references() -> None:
    """Read every WHO table now, so a missing or broken data file fails at start rather than at an exam."""
    for name in REFERENCES:
        for sex in ("M", "F"):
            _table(name, sex)


def lms_zscore(measure: float, l: float, m: float, s: float) -> float:
    """Return the LMS z-score of `measure` (WHO Child Growth Standards 2006, chapter 7)."""
    if l == 0:
        return math.log(measure / m) / s
    return ((measure / m) ** l - 1) / (s * l)


def lms_measure(z: float, l: float, m: float, s: float) -> float:
    """Return the measurement at z-score `z` of an LMS row."""
    if l == 0:
        return m * math.exp(s * z)
    return m * (1 + l * s * z) ** (1 / l)


def restricted_zscore(measure: float, l: float, m: float, s: float) -> float:
    """Return WHO's restricted z-score: beyond +-3 SD, distance from SD3 in units of the SD2-SD3 gap.

    WHO uses it for the weight-based indicators (WHO Child Growth Standards 2006, chapter 7).
    """
    z = lms_zscore(measure, l, m, s)
    if z > 3:
        sd3 = lms_measure(3, l, m, s)
        return 3 + (measure - sd3) / (sd3 - lms_measure(2, l, m, s))
    if z < -3:
        sd3_negative = lms_measure(-3, l, m, s)
        return -3 + (measure - sd3_negative) / (lms_measure(-2, l, m, s) - sd3_negative)
    return z


def zscore_from_reference(name: str, sex: str, at: float, measure: float) -> float:
    """Return the z-score of `measure` in WHO table `name` at `at` (day, month or cm, per the table's key).

    The caller checks that `at` is within the table; this function does not apply age rules or round.
    """
    reference = REFERENCES[name]
    l, m, s = _table(name, sex).lms_at(at * reference.steps_per_unit)
    compute = restricted_zscore if reference.restricted else lms_zscore
    return compute(measure, l, m, s)


def measure_for_zscore(name: str, sex: str, at: float, z: float) -> float:
    """Return the measurement that has z-score `z` in WHO table `name`, the inverse of zscore_from_reference."""
    reference = REFERENCES[name]
    l, m, s = _table(name, sex).lms_at(at * reference.steps_per_unit)
    if not reference.restricted or -3 <= z <= 3:
        return lms_measure(z, l, m, s)
    if z > 3:
        sd3 = lms_measure(3, l, m, s)
        return sd3 + (z - 3) * (sd3 - lms_measure(2, l, m, s))
    sd3_negative = lms_measure(-3, l, m, s)
    return sd3_negative + (z + 3) * (lms_measure(-2, l, m, s) - sd3_negative)


def age_in_days(birth: dt.date, measured: dt.date) -> int:
    """Return the exact age in days on the measurement date; raise ValueError if it is before the birth."""
    days = (measured - birth).days
    if days < 0:
        raise ValueError(f"measurement date {measured.isoformat()} is before the birth date {birth.isoformat()}")
    return days


def zscores(
    sex: str | None,
    birth: dt.date | BirthDate,
    measured: dt.date,
    *,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    measured_lying: bool | None = None,
) -> GrowthResult:
    """Compute weight-for-age, length/height-for-age, weight-for-length/height and BMI-for-age z-scores.

    `sex` is "M", "F" or None (unknown: no z-scores). `birth` is a date, or a BirthDate, which gives
    age-based z-scores only when known to the day. `height_cm` is a length when `measured_lying` is True,
    a standing height when False. None means the position suited to the age (lying under 24 months).
    Raises ValueError for another sex code or a measurement date before the birth.
    """
    if sex not in ("M", "F", None):
        raise ValueError(f"sex must be 'M', 'F' or None, not {sex!r}")
    if sex is None:
        return _without_scores(SEX_MISSING)
    if isinstance(birth, BirthDate) and birth.precision != "day":
        return _without_age(sex, birth, measured, weight_kg, height_cm, measured_lying)
    if isinstance(birth, BirthDate):
        birth = dt.date(birth.year, birth.month, birth.day)

    days = age_in_days(birth, measured)
    months = days / DAYS_PER_MONTH
    standing_too_young = measured_lying is False and months < STANDING_PLAUSIBLE_FROM_MONTH
    height = _standardised_height(height_cm, days, measured_lying, standing_too_young)
    bmi = _bmi(weight_kg, height)

    if months < REFERENCE_2007_FROM_MONTH:
        scores = _scores_2006(sex, days, weight_kg, height, bmi)
    else:
        scores = _scores_2007(sex, months, weight_kg, height, bmi)
    return GrowthResult(*scores, age_days=days, height_cm=height, bmi=bmi, standing_too_young=standing_too_young)


def _standardised_height(height_cm: float | None, days: int, lying: bool | None, standing_too_young: bool) -> float | None:
    """Convert to length under 24 months and to height from 24 months, as WHO Anthro does."""
    if height_cm is None or lying is None or standing_too_young:
        return height_cm
    if days <= LAST_LENGTH_DAY and not lying:
        return height_cm + STANDING_LYING_DIFFERENCE_CM
    if days > LAST_LENGTH_DAY and lying:
        return height_cm - STANDING_LYING_DIFFERENCE_CM
    return height_cm


def _bmi(weight_kg: float | None, height_cm: float | None) -> float | None:
    if weight_kg is None or height_cm is None or weight_kg <= 0 or height_cm <= 0:
        return None
    return weight_kg / (height_cm / 100) ** 2


def _scores_2006(sex: str, days: int, weight: float | None, height: float | None, bmi: float | None) -> list[ZScore]:
    lying_age = days <= LAST_LENGTH_DAY
    weight_for_height = "wfl_2006" if lying_age else "wfh_2006"
    return [
        _score("weight_for_age", "wfa_2006", sex, days, weight, WEIGHT_MISSING),
        _score("length_for_age" if lying_age else "height_for_age", "lhfa_2006", sex, days, height, HEIGHT_MISSING),
        _weight_for_height_score(weight_for_height, sex, weight, height),
        _score("bmi_for_age", "bfa_2006", sex, days, bmi, _bmi_missing(weight, height)),
    ]


def _scores_2007(sex: str, months: float, weight: float | None, height: float | None, bmi: float | None) -> list[ZScore]:
    def score(indicator: str, name: str, measure: float | None, missing: str) -> ZScore:
        if months >= _AGE_LIMITS_2007[name]:
            return ZScore(indicator, reason=AGE_OUT_OF_RANGE)
        return _score(indicator, name, sex, months, measure, missing)

    return [
        score("weight_for_age", "wfa_2007", weight, WEIGHT_MISSING),
        score("height_for_age", "hfa_2007", height, HEIGHT_MISSING),
        # WHO defines weight-for-height only to 60 months, and BMI-for-age replaces it.
        ZScore("weight_for_height", reason=AGE_OUT_OF_RANGE),
        score("bmi_for_age", "bfa_2007", bmi, _bmi_missing(weight, height)),
    ]


def _score(indicator: str, name: str, sex: str, at: float, measure: float | None, missing: str) -> ZScore:
    """Compute one z-score and its implausible flag (on the 2-decimal value, as WHO does), or the reason for none."""
    if measure is None:
        return ZScore(indicator, reason=missing, table=name)
    if measure <= 0:
        return ZScore(indicator, reason=MEASURE_NOT_POSITIVE, table=name)
    value = zscore_from_reference(name, sex, at, measure)
    low, high = REFERENCES[name].plausible
    implausible = not low <= round(value, 2) <= high
    return ZScore(indicator, value=value, table=name, implausible=implausible)


def _weight_for_height_score(name: str, sex: str, weight: float | None, height: float | None) -> ZScore:
    indicator = "weight_for_length" if name == "wfl_2006" else "weight_for_height"
    if weight is None:
        return ZScore(indicator, reason=WEIGHT_MISSING, table=name)
    if height is None:
        return ZScore(indicator, reason=HEIGHT_MISSING, table=name)
    if height <= 0:
        return ZScore(indicator, reason=MEASURE_NOT_POSITIVE, table=name)
    low, high = _HEIGHT_RANGES[name]
    if not low <= height <= high:
        return ZScore(indicator, reason=HEIGHT_OUT_OF_RANGE, table=name)
    return _score(indicator, name, sex, height, weight, WEIGHT_MISSING)


def _bmi_missing(weight: float | None, height: float | None) -> str:
    if weight is None:
        return WEIGHT_MISSING
    return HEIGHT_MISSING if height is None else MEASURE_NOT_POSITIVE


def _without_scores(reason: str) -> GrowthResult:
    return GrowthResult(
        ZScore("weight_for_age", reason=reason),
        ZScore("height_for_age", reason=reason),
        ZScore("weight_for_height", reason=reason),
        ZScore("bmi_for_age", reason=reason),
    )


def _without_age(
    sex: str, birth: BirthDate, measured: dt.date, weight: float | None, height: float | None, lying: bool | None
) -> GrowthResult:
    """Score weight-for-length/height alone when the birth date is known only to the month or year.

    WHO Anthro computes it when the age is missing. Here it is computed only when the child is certainly under
    5 years, because WHO defines it to 60 months. As in WHO Anthro, the table follows the position (the length
    table under 87 cm when the position is unknown) and no 0.7 cm conversion is made.
    """
    earliest_birth = dt.date(birth.year, birth.month or 1, 1)
    oldest_days = age_in_days(earliest_birth, measured)
    weight_for_height = ZScore("weight_for_height", reason=BIRTH_DATE_NOT_EXACT)
    if oldest_days / DAYS_PER_MONTH < REFERENCE_2007_FROM_MONTH:
        takes_length = lying if lying is not None else height is not None and height < UNKNOWN_POSITION_LENGTH_BELOW_CM
        weight_for_height = _weight_for_height_score("wfl_2006" if takes_length else "wfh_2006", sex, weight, height)
    return GrowthResult(
        ZScore("weight_for_age", reason=BIRTH_DATE_NOT_EXACT),
        ZScore("height_for_age", reason=BIRTH_DATE_NOT_EXACT),
        weight_for_height,
        ZScore("bmi_for_age", reason=BIRTH_DATE_NOT_EXACT),
        height_cm=height,
        bmi=_bmi(weight, height),
    )
