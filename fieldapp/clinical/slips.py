"""Unit slips: a value typed in a habitual wrong unit, and the one-tap fix offered for it.

A slip is offered when the typed value is outside the item's usual range for the person and
the converted value is inside it, so a real reading is never "corrected" into another one.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .items import Item
from .numbers import CONVERSIONS, format_number, format_quantity, rounded
from .person import Person


@dataclass(frozen=True)
class Hint:
    """A suggested fix: a message naming the slip and the value to put in the field with one tap.

    fixed_value is a number, or a (systolic, diastolic) pair for a blood pressure typed as one text.
    """

    code: str
    message: object
    fixed_value: object


@dataclass(frozen=True)
class Slip:
    """A habit that produces a wrong number, and how to turn the typed number into the item's unit."""

    convert: Callable[[float], float]
    message: Callable[[str, str], object]     # (typed, fixed) -> lazy Vietnamese text


SLIPS = {
    # Blood pressure read out and written in cmHg: "12/8" means 120/80 mmHg.
    "cmhg": Slip(
        CONVERSIONS[("cm[Hg]", "mm[Hg]")],
        lambda typed, fixed: _l("Có phải ghi theo cmHg? %(typed)s cmHg = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Height or waist written in metres: 1,65 means 165 cm.
    "metres": Slip(
        CONVERSIONS[("m", "cm")],
        lambda typed, fixed: _l("Có phải ghi theo mét? %(typed)s m = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Hearing distance written in centimetres: 50 means 0,5 m.
    "centimetres": Slip(
        CONVERSIONS[("cm", "m")],
        lambda typed, fixed: _l("Có phải ghi theo cm? %(typed)s cm = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Weight read off a baby scale in grams: 3200 means 3,2 kg.
    "grams": Slip(
        CONVERSIONS[("g", "kg")],
        lambda typed, fixed: _l("Có phải ghi theo gam? %(typed)s g = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Temperature from a Fahrenheit thermometer: 98,6 °F is 37,0 °C.
    "fahrenheit": Slip(
        CONVERSIONS[("[degF]", "Cel")],
        lambda typed, fixed: _l("Có phải đo theo độ F? %(typed)s °F = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Temperature typed without its decimal comma on a phone keypad: 365 means 36,5 °C.
    "temperature_no_decimal": Slip(
        lambda value: value / 10,
        lambda typed, fixed: _l("Có phải thiếu dấu phẩy? %(typed)s là %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # Glucose from a meter set to mg/dL: divide by 18, so 110 mg/dL is 6,1 mmol/L.
    "mgdl": Slip(
        CONVERSIONS[("mg/dL", "mmol/L")],
        lambda typed, fixed: _l("Có phải ghi theo mg/dL? %(typed)s mg/dL = %(fixed)s.", typed=typed, fixed=fixed),
    ),
    # SpO2 written as a fraction: 0,98 means 98 %.
    "fraction_percent": Slip(
        lambda value: value * 100,
        lambda typed, fixed: _l("Có phải ghi dạng thập phân? %(typed)s = %(fixed)s.", typed=typed, fixed=fixed),
    ),
}


def _inside(value: float, bounds: tuple[float, float] | None) -> bool:
    return bounds is not None and bounds[0] <= value <= bounds[1]


def slip_hints(item: Item, value: float, person: Person) -> list[Hint]:
    """Return the unit-slip fixes that turn an out-of-range value into a usual one for this person."""
    expected = item.usual_range(person) or item.plausible
    if expected is None or _inside(value, expected):
        return []

    hints = []
    for code in item.slips:
        slip = SLIPS[code]
        fixed = rounded(slip.convert(value), item.decimals)
        if not _inside(fixed, expected):
            continue
        message = slip.message(format_number(value), format_quantity(fixed, item.unit, item.decimals))
        hints.append(Hint(code, message, fixed))
    return hints
