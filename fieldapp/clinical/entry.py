"""Reading typed values and checking them: refuse the impossible, query the unusual, offer unit-slip fixes.

parse() turns the text of one field into a value in the item's unit. check() judges a value for a
person: "refuse" outside the plausible range, "confirm" outside the usual range, else "accept".
Neither looks at clinical bands: whether a reading is abnormal is bands.classify()'s business.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..text import clean, fold
from .items import Item, get
from .numbers import (
    NumberError,
    format_number,
    format_quantity,
    read_pair,
    read_quantity,
    read_tenths,
    rounded,
    unit_label,
)
from .person import Person
from .slips import SLIPS, Hint, slip_hints

LEVELS = ("accept", "confirm", "refuse")
# The two readings typed together as "120/80", by the field the text was typed into.
BP_PARTNERS = {"bp_systolic": "bp_diastolic", "bp_diastolic": "bp_systolic"}


@dataclass(frozen=True)
class Parsed:
    """The value read from a field, or an error message, with hints about a converted unit.

    others contains values for other items found in the same text, such as the diastolic
    pressure when "120/80" is typed into the systolic field.
    """

    value: float | str | None
    error: object = None                  # lazy Vietnamese message, None when the text was read
    hints: tuple[Hint, ...] = ()
    code: str | None = None               # stable error code: empty, not_a_number, wrong_unit, ...
    others: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The judgement of one value: accept, confirm or refuse, with a message naming field, value and range."""

    level: str
    message: object = None                # lazy Vietnamese message; None when accepted
    hints: tuple[Hint, ...] = ()
    code: str = "accepted"


class EntryError(ValueError):
    """Text that cannot be read as the value expected, with a stable code and a Vietnamese message."""

    def __init__(self, code: str, message: object):
        super().__init__(code)
        self.code = code
        self.message = message


# Reading.

def parse(item_code: str, raw: str) -> Parsed:
    """Read the text typed into an item's field as a value in the item's unit."""
    item = get(item_code)
    text = clean(raw)
    if not text:
        return Parsed(None, _l("%(field)s: chưa nhập.", field=item.label), code="empty")

    if item.kind == "text":
        return _parse_text(item, text)
    if item.kind == "choice":
        return _parse_choice(item, text)
    if item.notation == "tenths":
        return _parse_tenths(item, text)
    if item_code in BP_PARTNERS and read_pair(text) is not None:
        return _parse_pair(item, text)
    return _parse_number(item, text)


def parse_blood_pressure(raw: str) -> tuple[float, float]:
    """Read "120/80" (or "120 80", "120-80", "120 trên 80", "12/8 cmHg") as (systolic, diastolic) in mmHg.

    "12/8" without a unit stays (12, 8): check_blood_pressure() then offers the cmHg fix.
    Raise EntryError when the text is not two numbers.
    """
    pair = read_pair(clean(raw))
    if pair is None:
        raise EntryError("not_blood_pressure",
                         _l("Không đọc được huyết áp từ '%(raw)s': nhập dạng 120/80.", raw=clean(raw)))
    systolic, diastolic, unit = pair
    if unit == "cm[Hg]":
        return systolic * 10, diastolic * 10
    return systolic, diastolic


def _parse_text(item: Item, text: str) -> Parsed:
    if item.max_length and len(text) > item.max_length:
        return Parsed(None, _too_long(item, text), code="too_long")
    return Parsed(text)


def _parse_choice(item: Item, text: str) -> Parsed:
    words = [word.strip() for word in text.replace(";", ",").replace("+", ",").split(",")] if item.multiple else [text]
    by_key = {fold(choice.code): choice.code for choice in item.choices}
    by_key.update({fold(choice.label): choice.code for choice in item.choices})

    codes = []
    for word in words:
        if not word:
            continue
        code = by_key.get(fold(word))
        if code is None:
            return Parsed(None, _not_a_choice(item, word), code="not_a_choice")
        if code not in codes:
            codes.append(code)
    if not codes:
        return Parsed(None, _l("%(field)s: chưa nhập.", field=item.label), code="empty")
    return Parsed(",".join(codes))


def _parse_tenths(item: Item, text: str) -> Parsed:
    try:
        value = read_tenths(text)
    except NumberError:
        return Parsed(None, _l("%(field)s: không đọc được '%(raw)s'; nhập dạng 8/10, 0,8 hoặc 8.",
                               field=item.label, raw=text), code="not_a_number")
    return Parsed(rounded(value, item.decimals))


def _parse_pair(item: Item, text: str) -> Parsed:
    systolic, diastolic = parse_blood_pressure(text)
    value, other = (systolic, diastolic) if item.code == "bp_systolic" else (diastolic, systolic)
    return Parsed(value, others={BP_PARTNERS[item.code]: other})


def _parse_number(item: Item, text: str) -> Parsed:
    try:
        value, typed_unit = read_quantity(text, item.unit)
    except NumberError as error:
        if error.code == "wrong_unit":
            message = _l("%(field)s đo bằng %(unit)s, không phải %(typed)s.", field=item.label,
                         unit=unit_label(item.unit), typed=unit_label(error.unit))
            return Parsed(None, message, code="wrong_unit")
        return Parsed(None, _l("%(field)s: không đọc được số từ '%(raw)s'.", field=item.label, raw=text),
                      code="not_a_number")

    # A typed value keeps its precision, so that "1,65" for a height can still be read as metres.
    if typed_unit is None:
        return Parsed(value)
    value = rounded(value, item.decimals)
    converted = Hint("converted", _l("Đã đổi %(typed)s thành %(fixed)s.", typed=text,
                                     fixed=format_quantity(value, item.unit, item.decimals)), value)
    return Parsed(value, hints=(converted,))


# Checking.

def check(item_code: str, value, person: Person) -> Verdict:
    """Judge one value of an item for a person: accept, confirm (unusual) or refuse (impossible).

    value is what parse() returned: a number, a choice code (several joined by commas) or text.
    """
    item = get(item_code)
    if value is None or value == "":
        return Verdict("refuse", _l("%(field)s: chưa nhập.", field=item.label), code="empty")

    if item.kind == "text":
        text = str(value)
        if item.max_length and len(text) > item.max_length:
            return Verdict("refuse", _too_long(item, text), code="too_long")
        return Verdict("accept")
    if item.kind == "choice":
        return _check_choice(item, str(value))
    return _check_number(item, float(value), person)


def _check_choice(item: Item, value: str) -> Verdict:
    codes = value.split(",") if item.multiple else [value]
    for code in codes:
        if item.choice(code) is None:
            return Verdict("refuse", _not_a_choice(item, code), code="not_a_choice")
    return Verdict("accept")


def _check_number(item: Item, value: float, person: Person) -> Verdict:
    shown = format_quantity(value, item.unit)

    if item.plausible and not item.plausible[0] <= value <= item.plausible[1]:
        low, high = (format_quantity(bound, item.unit) for bound in item.plausible)
        message = _l("%(field)s %(value)s không hợp lệ: chỉ nhận từ %(low)s đến %(high)s.",
                     field=item.label, value=shown, low=low, high=high)
        return Verdict("refuse", message, tuple(slip_hints(item, value, person)), "implausible")

    usual = item.usual_range(person)
    if usual and not usual[0] <= value <= usual[1]:
        low, high = (format_quantity(bound, item.unit) for bound in usual)
        if item.derived:
            message = _l("%(field)s %(value)s khác thường (thường từ %(low)s đến %(high)s): "
                         "kiểm tra lại các số đo dùng để tính.", field=item.label, value=shown, low=low, high=high)
        else:
            message = _l("%(field)s %(value)s khác thường (thường từ %(low)s đến %(high)s): "
                         "đo lại, hoặc xác nhận nếu đúng.", field=item.label, value=shown, low=low, high=high)
        return Verdict("confirm", message, tuple(slip_hints(item, value, person)), "unusual")

    return Verdict("accept")


def check_blood_pressure(systolic: float, diastolic: float, person: Person) -> Verdict:
    """Judge one blood pressure reading as a pair: each value, their order, and "12/8" typed in cmHg."""
    verdicts = [check("bp_systolic", systolic, person), check("bp_diastolic", diastolic, person)]
    pair_hints = _cmhg_pair_hint(systolic, diastolic, person)

    if systolic <= diastolic and all(verdict.level != "refuse" for verdict in verdicts):
        message = _l("Huyết áp tâm trương (%(diastolic)s) phải thấp hơn huyết áp tâm thu (%(systolic)s).",
                     diastolic=format_quantity(diastolic, "mm[Hg]"), systolic=format_quantity(systolic, "mm[Hg]"))
        swapped = Hint("swapped", _l("Có phải nhập đảo hai số? Tâm thu %(systolic)s, tâm trương %(diastolic)s.",
                                     systolic=format_number(diastolic), diastolic=format_number(systolic)),
                       (float(diastolic), float(systolic)))
        verdicts.append(Verdict("refuse", message, (swapped,) if systolic < diastolic else (), "bp_order"))

    worst = max(LEVELS.index(verdict.level) for verdict in verdicts)
    if worst == 0:
        return Verdict("accept")
    chosen = [verdict for verdict in verdicts if LEVELS.index(verdict.level) == worst]
    # One message stays lazy; two (both values refused) are joined in the current language.
    messages = chosen[0].message if len(chosen) == 1 else " ".join(str(verdict.message) for verdict in chosen)
    hints = [hint for verdict in chosen for hint in verdict.hints if not (pair_hints and hint.code == "cmhg")]
    return Verdict(LEVELS[worst], messages, tuple(pair_hints + hints), chosen[0].code)


def _cmhg_pair_hint(systolic: float, diastolic: float, person: Person) -> list[Hint]:
    """Offer "120/80" for "12/8" when both numbers read as cmHg give usual pressures."""
    slip = SLIPS["cmhg"]
    fixed = []
    for code, value in (("bp_systolic", systolic), ("bp_diastolic", diastolic)):
        usual = get(code).usual_range(person)
        converted = rounded(slip.convert(value), 0)
        if usual[0] <= value <= usual[1] or not usual[0] <= converted <= usual[1]:
            return []
        fixed.append(converted)
    if fixed[1] >= fixed[0]:
        return []
    typed = f"{format_number(systolic)}/{format_number(diastolic)}"
    shown = f"{format_number(fixed[0])}/{format_number(fixed[1])} mmHg"
    return [Hint("cmhg", slip.message(typed, shown), (fixed[0], fixed[1]))]


def _too_long(item: Item, text: str) -> object:
    return _l("%(field)s dài %(length)s ký tự; tối đa %(maximum)s ký tự.", field=item.label, length=len(text),
              maximum=item.max_length)


def _not_a_choice(item: Item, word: str) -> object:
    choices = ", ".join(choice.label for choice in item.choices)
    return _l("%(field)s: '%(word)s' không phải một lựa chọn; chọn một trong %(choices)s.", field=item.label,
              word=word, choices=choices)
