"""The rows of a station's entry form for one visit, and the checks of what a nurse typed into them.

A row is one line of the page and one unit of storage: a blood pressure reading
(systolic and diastolic), both eyes or both ears, the glucose value with its fasting toggle, or a
single item. A row is stored only when every value in it passes, so half a reading is never saved.
The checks themselves are fieldapp/clinical's; this module applies them to rows and decides what
needs a confirmation or a fix. No Flask here: fieldapp/entry_views.py reads the request and stores.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from . import clinical, observations
from .clinical.items import Item
from .clinical.numbers import format_number, format_quantity
from .results import Result

# The station types whose desks enter values here; "doctor" writes a conclusion instead.
ENTRY_STATIONS = ("measure", "blood_pressure", "glucose", "vision", "dental", "ent", "exam", "lab")
# Blood pressure: readings 1 and 2 as the plan requests, and a third when the first two differ by more than
# BP_THIRD_READING_GAP mmHg, systolic or diastolic. static/js/entry.js applies the same rule as the
# nurse types.
BP_THIRD_READING_GAP = 10
BP_MAX_READINGS = 3
# Vision in tenths is read off a chart whose top line is 10/10, so a typed digit other than 1 is a
# whole value and the field can move on (see docs/entry.md).
TENTHS_ADVANCE_MAX = 10
# Items entered side by side on one row: (right, left) with the row's label.
PAIRS = {
    "vision": (("vision_right", "vision_left"), _l("Thị lực không kính")),
    "vision_glasses": (("vision_right_glasses", "vision_left_glasses"), _l("Thị lực có kính")),
    "hearing": (("hearing_right_m", "hearing_left_m"), _l("Nghe nói thường")),
}
# One-tap correction reasons: the code the button sends and the text stored with the correction.
# The stored text stays Vietnamese whatever the screen language, like any reason typed by hand.
REASONS = {"typo": "Gõ nhầm", "remeasured": "Đo lại"}
REASON_LABELS = {"typo": _l("Gõ nhầm"), "remeasured": _l("Đo lại")}


@dataclass(frozen=True)
class Field:
    """One typed value: an item and its reading number; `name` is the form field's name."""

    item: Item
    reading: int = 1

    @property
    def name(self) -> str:
        return f"{self.item.code}.{self.reading}"

    @property
    def advance(self) -> str | None:
        """The auto-advance rule of the field: "integer", "decimal" or None (never moves on by itself)."""
        if self.item.kind != "number" or self.item.plausible is None:
            return None
        if self.item.notation == "tenths" or self.item.decimals == 0:
            return "integer"
        return "decimal"

    @property
    def advance_max(self) -> float | None:
        if self.item.notation == "tenths":
            return TENTHS_ADVANCE_MAX
        return self.item.plausible[1] if self.item.plausible else None

    @property
    def inputmode(self) -> str:
        return "numeric" if self.advance == "integer" else "decimal"


@dataclass(frozen=True)
class Row:
    """A line of the form, stored as one unit: kind is bp, glucose, pair, number, choice or text."""

    key: str
    kind: str
    label: object
    fields: tuple[Field, ...]
    third: bool = False                   # the third blood pressure reading, shown only when needed

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass
class Problem:
    """A message beside a row: refuse, confirm, reason (a correction needs one) or note (information).

    Each hint fills fields: `fixes` maps a hint's position to {field name: value text}.
    """

    level: str
    message: object
    hints: tuple[clinical.Hint, ...] = ()
    fixes: tuple[dict[str, str], ...] = ()
    fix_labels: tuple[str, ...] = ()      # the buttons' texts: "120/80?", "37,0 °C?"


@dataclass
class RowResult:
    """A submitted row: typed texts, values read, problems, and whether its unusual values were confirmed."""

    row: Row
    raws: dict[str, str] = field(default_factory=dict)
    values: dict[Field, float | str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    signature: str = ""                   # the values a confirmation covers, e.g. "250|82"
    confirmed: bool = False

    @property
    def typed(self) -> bool:
        return any(text.strip() for text in self.raws.values())

    @property
    def storable(self) -> bool:
        return bool(self.values) and not any(p.level in ("refuse", "confirm", "reason") for p in self.problems)


# Building the form.

def station_rows(plan: list[str], station: str, person: clinical.Person) -> list[Row]:
    """Return the rows a station enters for a visit's plan, in plan order, with the readings the plan requests."""
    items = [item for item in clinical.items_for_plan(plan, person, derived=False) if item.station == station]
    codes = {item.code for item in items}
    one_of = _one_of_groups(plan, codes)
    rows: list[Row] = []
    placed: set[str] = set()
    for item in items:
        if item.code in placed:
            continue
        row = _row_for(item, plan, codes, one_of)
        placed.update(f.item.code for f in row[0].fields)
        rows.extend(row)
    return rows


def _one_of_groups(plan: list[str], codes: set[str]) -> list[tuple[str, ...]]:
    mapping = clinical.plan_items()
    groups = []
    for plan_item in plan:
        entry = mapping.get(plan_item)
        if entry is not None and entry.one_of:
            present = tuple(code for code in entry.items if code in codes)
            if present:
                groups.append(present)
    return groups


def _row_for(item: Item, plan: list[str], codes: set[str], one_of: list[tuple[str, ...]]) -> list[Row]:
    if item.code in ("bp_systolic", "bp_diastolic") and {"bp_systolic", "bp_diastolic"} <= codes:
        return _blood_pressure_rows(clinical.readings_for_plan(plan, "bp_systolic"))
    group = next((group for group in one_of if item.code in group), None)
    if group is not None:
        return [Row("glucose" if item.code.startswith("glucose") else item.code, "glucose", _l("Đường huyết"),
                    tuple(Field(clinical.get(code)) for code in group))]
    for key, (pair, label) in PAIRS.items():
        if item.code in pair and set(pair) <= codes:
            return [Row(key, "pair", label, tuple(Field(clinical.get(code)) for code in pair))]
    kind = item.kind if item.kind in ("choice", "text") else "number"
    return [Row(item.code, kind, item.label, (Field(item),))]


def _blood_pressure_rows(readings: int) -> list[Row]:
    systolic, diastolic = clinical.get("bp_systolic"), clinical.get("bp_diastolic")
    readings = max(1, min(readings, BP_MAX_READINGS))
    rows = [Row(f"bp.{n}", "bp", _l("Huyết áp lần %(n)s", n=n), (Field(systolic, n), Field(diastolic, n)))
            for n in range(1, readings + 1)]
    if readings == 2:
        rows.append(Row("bp.3", "bp", _l("Huyết áp lần %(n)s", n=3), (Field(systolic, 3), Field(diastolic, 3)), third=True))
    return rows


def needs_third_reading(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """True when two readings (systolic, diastolic) differ by more than the gap, either value."""
    return (abs(first[0] - second[0]) > BP_THIRD_READING_GAP
            or abs(first[1] - second[1]) > BP_THIRD_READING_GAP)


# Checking a submitted row.

def value_text(item: Item, value: float | str) -> str:
    """Write a value as the nurse would type it back: "36,5", "128", "caries,missing_teeth"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(float(value), item.decimals if item.notation != "tenths" else 0)
    return str(value)


def check_row(row: Row, form: Mapping[str, list[str]], person: clinical.Person) -> RowResult:
    """Read and check the values typed into a row; form maps each field name to its submitted texts.

    Confirmation of unusual values: the form's `confirm.<row key>` must equal the row's signature,
    so a confirmation never carries over to a value changed after it was given.
    """
    if row.kind == "bp":
        result = _check_blood_pressure(row, form, person)
    elif row.kind == "glucose":
        result = _check_glucose(row, form, person)
    else:
        result = _check_each(row, form, person)
    if not result.values:
        return result

    result.signature = "|".join(value_text(f.item, v) for f, v in result.values.items())
    asked = [p for p in result.problems if p.level == "confirm"]
    if asked and _first(form, f"confirm.{row.key}") == result.signature:
        result.problems = [p for p in result.problems if p.level != "confirm"]
        result.confirmed = True
    return result


def _first(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _check_blood_pressure(row: Row, form: Mapping[str, list[str]], person: clinical.Person) -> RowResult:
    systolic_field, diastolic_field = row.fields
    raws = {f.name: _first(form, f.name) for f in row.fields}
    result = RowResult(row, raws)
    if not any(raws.values()):
        return result

    values: dict[Field, float] = {}
    for current, partner in ((systolic_field, diastolic_field), (diastolic_field, systolic_field)):
        if current in values:
            continue
        parsed = clinical.parse(current.item.code, raws[current.name])
        if parsed.error is not None:
            result.problems.append(Problem("refuse", parsed.error))
            continue
        values[current] = float(parsed.value)
        # "120/80" typed into one field fills the other, unless the nurse typed something there too.
        if partner.item.code in parsed.others and not raws[partner.name]:
            values[partner] = float(parsed.others[partner.item.code])
            raws[partner.name] = value_text(partner.item, values[partner])
    if result.problems:
        return result

    verdict = clinical.check_blood_pressure(values[systolic_field], values[diastolic_field], person)
    result.values = {systolic_field: values[systolic_field], diastolic_field: values[diastolic_field]}
    if verdict.level != "accept":
        result.problems.append(_problem(verdict, row))
    return result


def _check_glucose(row: Row, form: Mapping[str, list[str]], person: clinical.Person) -> RowResult:
    """Check the glucose row: one value, stored under the fasting or the random item that the toggle selects."""
    chosen_code = _first(form, f"{row.key}.item")
    chosen = next((f for f in row.fields if f.item.code == chosen_code), row.fields[0])
    raws = {row.key: _first(form, row.key)}
    result = RowResult(row, raws)
    if not raws[row.key]:
        return result
    _check_one(result, chosen, raws[row.key], person)
    return result


def _check_each(row: Row, form: Mapping[str, list[str]], person: clinical.Person) -> RowResult:
    result = RowResult(row)
    for each in row.fields:
        if each.item.kind == "choice":
            # Checkboxes send one value per ticked choice; the stored value lists their codes.
            raw = ",".join(text.strip() for text in form.get(each.name, []) if text.strip())
        else:
            raw = _first(form, each.name)
        result.raws[each.name] = raw
        if raw:
            _check_one(result, each, raw, person)
    return result


def _check_one(result: RowResult, each: Field, raw: str, person: clinical.Person) -> None:
    parsed = clinical.parse(each.item.code, raw)
    if parsed.error is not None:
        result.problems.append(Problem("refuse", parsed.error))
        return
    verdict = clinical.check(each.item.code, parsed.value, person)
    if verdict.level == "refuse":
        result.problems.append(_problem(verdict, result.row, each))
        return
    result.values[each] = parsed.value
    for hint in parsed.hints:
        result.problems.append(Problem("note", hint.message))
    if verdict.level == "confirm":
        result.problems.append(_problem(verdict, result.row, each))


def _problem(verdict: clinical.Verdict, row: Row, each: Field | None = None) -> Problem:
    """Turn a verdict into a problem whose hints fill the row's fields when tapped."""
    fixes, labels = [], []
    for hint in verdict.hints:
        fixed = hint.fixed_value
        if isinstance(fixed, (tuple, list)):
            # A pair for a blood pressure reading: (systolic, diastolic).
            fixes.append({f.name: value_text(f.item, v) for f, v in zip(row.fields, fixed)})
            labels.append("/".join(value_text(f.item, v) for f, v in zip(row.fields, fixed)) + "?")
            continue
        target = each or row.fields[0]
        fixes.append({(row.key if row.kind == "glucose" else target.name): value_text(target.item, fixed)})
        labels.append(shown(target.item, fixed) + "?")
    return Problem(verdict.level, verdict.message, tuple(verdict.hints), tuple(fixes), tuple(labels))


def shown(item: Item, value: float | str | None) -> str:
    """Write a stored value for reading: "36,5 °C", "8/10", choice labels, or the text."""
    if value is None:
        return "—"
    if item.kind == "choice":
        return ", ".join(str(item.choice(code).label) if item.choice(code) else code for code in str(value).split(","))
    if item.kind == "text":
        return str(value)
    return format_quantity(float(value), item.unit, 0 if item.notation == "tenths" else item.decimals)


def apply_fix(form: Mapping[str, list[str]], fix: str, names: set[str]) -> dict[str, list[str]]:
    """Return the form with a tapped fix applied: fix is "name=value" pairs joined by "&".

    Only the given field names can be set, so a fix cannot reach any other form field.
    """
    changed = {name: list(values) for name, values in form.items()}
    for pair in fix.split("&"):
        name, _, value = pair.partition("=")
        if name in names:
            changed[name] = [value]
    return changed


def fix_value(fixes: dict[str, str]) -> str:
    """Return the value of a fix button for apply_fix()."""
    return "&".join(f"{name}={value}" for name, value in fixes.items())


# Showing the form.

@dataclass
class FieldView:
    """One field as the page shows it: its stored version and band, or the text for its input."""

    field: Field
    input_name: str
    saved: dict | None = None
    result: Result | None = None
    typed: str = ""

    @property
    def band(self) -> tuple[str, str] | None:
        """The flag and label to show beside the stored value: the band's label, or "khác thường" without one."""
        if self.result is None or self.result.flag in (None, "normal") and not self.result.class_label:
            return None
        if self.result.class_label:
            return self.result.flag, self.result.class_label
        return self.result.flag, str(_l("khác thường"))


@dataclass
class RowView:
    """One row as the page shows it: stored (with edit and history links) or open for typing."""

    row: Row
    fields: list[FieldView]
    stored: bool
    editing: bool
    checked: RowResult | None
    chosen: str | None = None             # the glucose item the toggle selects

    @property
    def invalid(self) -> bool:
        return bool(self.checked and any(p.level == "refuse" for p in self.checked.problems))

    @property
    def corrected_item(self) -> str | None:
        """The first item of the row with more than one version, for the history link."""
        return next((view.field.item.code for view in self.fields if view.saved and view.saved["supersedes"]), None)

    @property
    def confirmed(self) -> bool:
        return any(view.saved and view.saved["confirmed"] for view in self.fields)


def row_views(rows: list[Row], current: dict, found: dict, checked: dict[str, RowResult], edit: Row | None,
              choice: str | None = None, fasting: bool = True) -> list[RowView]:
    """Return how each row shows: current and found map (item, reading) to the stored row and its Result.

    checked contains the rows of a submitted form by key, whose typed texts are shown again. choice is
    the item the glucose toggle selected in a submitted form. Without one, the toggle selects the
    fasting item (the row's first) when the plan requests a fasting sample, else the random one.
    """
    views = []
    for row in rows:
        result, editing = checked.get(row.key), edit is not None and edit.key == row.key
        fields = []
        for each in row.fields:
            saved = current.get((each.item.code, each.reading))
            name = row.key if row.kind == "glucose" else each.name
            typed = value_text(each.item, observations.value_of(saved)) if saved and editing else ""
            if result is not None:
                typed = result.raws.get(name, "")
            fields.append(FieldView(each, name, saved, found.get((each.item.code, each.reading)), typed))
        stored_fields = [view for view in fields if view.saved]
        chosen = None
        if row.kind == "glucose":
            fields = stored_fields[:1] or fields
            codes = [each.item.code for each in row.fields]
            if stored_fields:
                chosen = fields[0].field.item.code
            elif choice in codes:
                chosen = choice
            else:
                chosen = codes[0] if fasting else codes[-1]
            stored = bool(stored_fields)
        else:
            stored = len(stored_fields) == len(fields)
        views.append(RowView(row, fields, stored and not editing, editing, result, chosen))
    return views
