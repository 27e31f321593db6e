"""Numbers as typed on phones ("36,5 độ", "65kg", "1m65", "120/80") and as shown back (decimal comma)."""

import re
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

from ..text import fold

# Unit words people type after a number, folded (no tone marks, lower case), by UCUM unit.
UNIT_WORDS = {
    "mm[Hg]": ("mmhg", "mm hg"),
    "cm[Hg]": ("cmhg", "cm hg"),
    "kg": ("kg", "kgs", "ky", "ki", "kilo", "can"),
    "g": ("g", "gr", "gam", "gram"),
    "cm": ("cm", "phan"),
    "m": ("m", "met"),
    "Cel": ("°c", "oc", "do c", "do", "c", "°"),
    "[degF]": ("°f", "of", "do f", "f"),
    "%": ("%",),
    "mmol/L": ("mmol/l", "mmol"),
    "mg/dL": ("mg/dl", "mg%", "mg"),
    "/min": ("/min", "l/p", "l/ph", "l/phut", "lan/p", "lan/ph", "lan/phut", "lan", "/p", "/ph", "/phut",
             "nhip/phut", "nhip", "ck/p", "ck/phut", "bpm"),
    "kg/m2": ("kg/m2", "kg/m²"),
}
_UNIT_OF_WORD = {word: unit for unit, words in UNIT_WORDS.items() for word in words}

# Exact conversions between a typed unit and an item's unit: (from, to) -> function.
CONVERSIONS = {
    ("g", "kg"): lambda value: value / 1000,
    ("m", "cm"): lambda value: value * 100,
    ("cm", "m"): lambda value: value / 100,
    ("[degF]", "Cel"): lambda value: (value - 32) * 5 / 9,
    ("mg/dL", "mmol/L"): lambda value: value / 18,    # glucose: 1 mmol/L is 18 mg/dL
    ("cm[Hg]", "mm[Hg]"): lambda value: value * 10,
}

# Display text of units. "lần/phút" is Vietnamese text, so it goes through the translation catalogue.
UNIT_DISPLAY = {
    "mm[Hg]": "mmHg", "cm[Hg]": "cmHg", "/min": _l("lần/phút"), "Cel": "°C", "[degF]": "°F",
    "kg/m2": "kg/m²", "{z-score}": "SD",
}
_UNIT_WITHOUT_SPACE = {"%", "/10"}

_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
_SPACED_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
_METRES_AND_CENTIMETRES = re.compile(r"^(\d)\s*m\s*(\d{1,2})$")
_PAIR = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:/|\\|-|:|\||tren|\s)\s*(\d+(?:[.,]\d+)?)\s*(mmhg|cmhg)?$")
_FRACTION = re.compile(r"^(\d+(?:[.,]\d+)?)\s*/\s*(\d+(?:[.,]\d+)?)$")


class NumberError(ValueError):
    """Text that is not a number in a known unit; code is "not_a_number" or "wrong_unit"."""

    def __init__(self, code: str, unit: str | None = None):
        super().__init__(code)
        self.code = code
        self.unit = unit


def to_float(number: str) -> float:
    """Read "36,5", "36.5", "1.234,5" or "65.000.000" as a float.

    One separator, comma or dot, is the decimal point. A separator repeated is a thousands
    separator. With both kinds, the last one is the decimal point.
    """
    commas, dots = number.count(","), number.count(".")
    if commas and dots:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        number = number.replace(thousands, "").replace(decimal_mark, ".")
    elif commas > 1 or dots > 1:
        number = number.replace(",", "").replace(".", "")
    else:
        number = number.replace(",", ".")
    return float(number)


def read_quantity(raw: str, unit: str | None) -> tuple[float, str | None]:
    """Read a number with an optional unit word; return (value in `unit`, the other unit typed or None).

    A different unit that converts exactly ("65000 g" for kg, "1m65" for cm) is converted, and
    the unit typed is returned so that the caller can say so. Raise NumberError otherwise.
    """
    text = _SPACED_THOUSANDS.sub("", fold(raw))

    metres = _METRES_AND_CENTIMETRES.match(text)
    if metres and unit in ("cm", "m"):
        centimetres = int(metres.group(1)) * 100 + int(metres.group(2).ljust(2, "0"))
        return (centimetres if unit == "cm" else centimetres / 100), ("m" if unit == "cm" else None)

    number = _NUMBER.match(text)
    if number is None:
        raise NumberError("not_a_number")
    value = to_float(number.group(0))

    suffix = text[number.end():].strip().rstrip(".")
    if not suffix:
        return value, None
    typed = _UNIT_OF_WORD.get(suffix)
    if typed is None:
        raise NumberError("not_a_number")
    if typed == unit:
        return value, None
    if (typed, unit) in CONVERSIONS:
        return CONVERSIONS[(typed, unit)](value), typed
    raise NumberError("wrong_unit", typed)


def read_pair(raw: str) -> tuple[float, float, str | None] | None:
    """Read two numbers written as "120/80", "120 80", "120-80" or "120 trên 80", or return None.

    The third element is "cm[Hg]" or "mm[Hg]" when a unit was typed after the pair.
    """
    match = _PAIR.match(fold(raw))
    if match is None:
        return None
    unit = {"mmhg": "mm[Hg]", "cmhg": "cm[Hg]"}.get(match.group(3) or "")
    return to_float(match.group(1)), to_float(match.group(2)), unit


def read_tenths(raw: str) -> float:
    """Read visual acuity as tenths: "8/10", "20/40" and "6/6" as fractions, "0,8" as decimal, "8" as tenths.

    A number with a decimal mark up to 2 is a decimal acuity (0,8 is 8/10); a whole number is
    already in tenths. Raise NumberError for any other text.
    """
    text = fold(raw)
    fraction = _FRACTION.match(text)
    if fraction:
        denominator = to_float(fraction.group(2))
        if denominator == 0:
            raise NumberError("not_a_number")
        return to_float(fraction.group(1)) / denominator * 10
    number = _NUMBER.fullmatch(text)
    if number is None:
        raise NumberError("not_a_number")
    value = to_float(text)
    if ("," in text or "." in text) and value <= 2:
        return value * 10
    return value


def rounded(value: float, decimals: int) -> float:
    """Round half up to `decimals` places (Python's round() rounds half to even)."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP))


def format_number(value: float, decimals: int = 0) -> str:
    """Write a number the Vietnamese way, with a decimal comma: at least `decimals` places, up to 3 if typed."""
    minimum = 0 if abs(value) >= 1000 else decimals
    text = f"{value:.{max(decimals, 3)}f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(minimum, "0")
    return f"{whole},{fraction}" if fraction else whole


def unit_label(unit: str | None) -> str:
    """Return the display text of a UCUM unit ("mmHg" for "mm[Hg]")."""
    if unit is None:
        return ""
    return str(UNIT_DISPLAY.get(unit, unit))


def format_quantity(value: float, unit: str | None, decimals: int = 0) -> str:
    """Write a value with its unit: "36,5 °C", "120 mmHg", "8/10", "98%"."""
    number = format_number(value, decimals)
    if not unit:
        return number
    separator = "" if unit in _UNIT_WITHOUT_SPACE else " "
    return f"{number}{separator}{unit_label(unit)}"
