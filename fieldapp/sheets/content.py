"""The content of a result sheet or referral note, read from the database and formatted. Nothing is drawn here.

Values come from results.visit_results, so the sheet shows the current version of every value and
the derived values (BMI, blood-pressure means, z-scores) computed from them. The printed text is
Vietnamese whatever language the staff member's screen uses, because the sheet is handed to the
person. Callers render inside flask_babel.force_locale("vi"), so catalogue labels are Vietnamese too.
"""

import datetime as dt
from dataclasses import dataclass, field

import sqlite_utils

from .. import clinical, conclusions, results
from ..birthdates import parse_iso
from ..clinical.numbers import format_number, unit_label
from ..errors import FieldappError

CHILD_PLANS = ("pupil", "under36m")
SEX_LABELS = {"M": "Nam", "F": "Nữ"}
# Health class, Decision 1613/BYT-QĐ (1997): Loại I to V.
HEALTH_CLASS_LABELS = {"I": "Rất khỏe", "II": "Khỏe", "III": "Trung bình", "IV": "Yếu", "V": "Rất yếu"}
SECTION_LABELS = {
    "internal_medicine": "Nội khoa", "surgery": "Ngoại khoa", "obstetrics_gynaecology": "Sản phụ khoa",
    "eye": "Mắt", "ent": "Tai mũi họng", "dental": "Răng hàm mặt", "dermatology": "Da liễu", "other": "Khác",
}
FINDING_PREFIX = "finding_"
BP_PAIRS = (("bp_systolic", "bp_diastolic"), ("bp_systolic_mean", "bp_diastolic_mean"))
SEVERITY = results.FLAG_ORDER


class SheetNotReady(FieldappError):
    """A sheet asked for before the doctor's conclusion it needs."""

    status = 409


@dataclass(frozen=True)
class Place:
    """The exam's ward, station, round, site and day, printed in the letterhead, title and contacts line."""

    ward: str
    station: str
    round_name: str
    site_name: str
    site_address: str
    site_kind: str
    day: dt.date


@dataclass(frozen=True)
class Line:
    """One printed result: a label, the value with its unit, the band, and the flag that marks it."""

    item: str
    label: str
    value: str
    band: str
    flag: str | None


@dataclass
class SheetContent:
    """Everything one visit's sheet prints."""

    visit: dict
    person: dict
    place: Place
    lines: list[Line]
    results: list[results.Result]
    conclusion: dict | None
    doctor: str
    signed_on: dt.date
    findings: dict[str, str] = field(default_factory=dict)

    @property
    def is_child(self) -> bool:
        return self.visit["plan_kind"] in CHILD_PLANS

    def result(self, item: str, reading: int | None = None) -> results.Result | None:
        """Return the current result of an item (its last reading unless one is named), or None."""
        found = [r for r in self.results if r.item == item and (reading is None or r.reading == reading)]
        return max(found, key=lambda r: r.reading) if found else None


def _one(db: sqlite_utils.Database, sql: str, params: list) -> dict | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def load(db: sqlite_utils.Database, visit: dict) -> SheetContent:
    """Read one visit's person, place, results and current conclusion for printing."""
    person = _one(db, "SELECT * FROM person WHERE id = ?", [visit["person_id"]]) or {}
    place_row = _one(db, """SELECT r.name AS round_name, r.ward, r.station, s.name AS site_name,
                                   s.address AS site_address, s.kind AS site_kind
                            FROM visit v LEFT JOIN exam_round r ON r.id = v.round_id
                            LEFT JOIN site s ON s.id = v.site_id WHERE v.id = ?""", [visit["id"]]) or {}
    day = dt.date.fromisoformat(visit["day"])
    place = Place(ward=place_row.get("ward") or "", station=place_row.get("station") or "",
                  round_name=place_row.get("round_name") or "", site_name=place_row.get("site_name") or "",
                  site_address=place_row.get("site_address") or "", site_kind=place_row.get("site_kind") or "",
                  day=day)

    found = results.visit_results(db, visit)
    conclusion = conclusions.current(db, visit["id"])
    doctor = ""
    signed_on = day
    if conclusion is not None:
        staff = _one(db, "SELECT display_name FROM staff WHERE id = ?", [conclusion["staff_id"]]) \
            if conclusion["staff_id"] else None
        doctor = staff["display_name"] if staff else ""
        signed_on = dt.datetime.fromisoformat(conclusion["recorded_at"]).astimezone().date()
    return SheetContent(visit=visit, person=person, place=place, lines=lines_from(found), results=found,
                        conclusion=conclusion, doctor=doctor, signed_on=signed_on,
                        findings=_findings(found, conclusion))


def _findings(found: list[results.Result], conclusion: dict | None) -> dict[str, str]:
    """Return the findings per booklet section: the doctor's text, else the station's finding_* text."""
    findings = {}
    for section in conclusions.SECTIONS:
        station_text = next((str(r.value) for r in found if r.item == FINDING_PREFIX + section and r.value), "")
        doctor_text = (conclusion or {}).get("findings", {}).get(section, "")
        if doctor_text or station_text:
            findings[section] = doctor_text or station_text
    return findings


# Values as printed.


def item_of(code: str) -> clinical.Item | None:
    return clinical.catalogue().get(code)


def format_value(result: results.Result) -> str:
    """Return a value with its unit as Vietnamese print it: "36,5 °C", "8/10", "+1,35 SD", "Sâu răng"."""
    item = item_of(result.item)
    if isinstance(result.value, str):
        if item is not None and item.kind == "choice":
            labels = [item.choice(code).label if item.choice(code) else code for code in result.value.split(",")]
            return ", ".join(labels)
        return result.value
    value = float(result.value)
    decimals = item.decimals if item is not None else 1
    unit = result.unit or (item.unit if item is not None else None)
    if item is not None and item.notation == "tenths":
        return f"{format_number(value, 0)}/10"
    if unit == "{z-score}":
        sign = "+" if value > 0 else ""
        return f"{sign}{format_number(value, decimals)} {unit_label(unit)}"
    number = format_number(value, decimals)
    return f"{number}{'' if unit == '%' else ' '}{unit_label(unit)}".strip()


def label_of(code: str) -> str:
    item = item_of(code)
    return item.label if item is not None else code


def _worse(*found: results.Result | None) -> results.Result | None:
    present = [r for r in found if r is not None]
    return min(present, key=lambda r: SEVERITY.get(r.flag, 4)) if present else None


def _line(item: str, label: str, value: str, judged: results.Result | None) -> Line:
    return Line(item=item, label=label, value=value, band=(judged.class_label or "") if judged else "",
                flag=judged.flag if judged else None)


def _blood_pressure_lines(found: list[results.Result]) -> list[Line]:
    """Pair systolic and diastolic values as "132/84 mmHg"; readings are listed only when there are several."""
    by_key = {(r.item, r.reading): r for r in found}
    readings = sorted({r.reading for r in found if r.item in ("bp_systolic", "bp_diastolic")})
    lines = []
    if len(readings) > 1:
        for reading in readings:
            systolic, diastolic = by_key.get(("bp_systolic", reading)), by_key.get(("bp_diastolic", reading))
            judged = _worse(systolic, diastolic)
            # A single reading is judged through the mean below; only an emergency reading is marked here.
            mark = judged if judged is not None and judged.flag == "red" else None
            lines.append(_line("bp_systolic", f"Huyết áp lần {reading}", _pair(systolic, diastolic), mark))
    systolic, diastolic = by_key.get(("bp_systolic_mean", 0)), by_key.get(("bp_diastolic_mean", 0))
    judged = _worse(systolic, diastolic)
    if len(readings) == 1:
        # The one reading is printed as the mean line. Its own flag counts too: a child's 185/125 mmHg has
        # no band but is still an emergency.
        reading = (by_key.get(("bp_systolic", readings[0])), by_key.get(("bp_diastolic", readings[0])))
        judged = _worse(judged, *reading)
        if systolic is None and diastolic is None:
            systolic, diastolic = reading
    if systolic is not None or diastolic is not None:
        label = "Huyết áp (trung bình)" if len(readings) > 1 else "Huyết áp"
        lines.append(_line("bp_systolic_mean", label, _pair(systolic, diastolic), judged))
    return lines


def _pair(systolic: results.Result | None, diastolic: results.Result | None) -> str:
    high = format_number(float(systolic.value), 0) if systolic is not None else "?"
    low = format_number(float(diastolic.value), 0) if diastolic is not None else "?"
    return f"{high}/{low} mmHg"


def lines_from(found: list[results.Result]) -> list[Line]:
    """Return the printed lines of a visit's results in the catalogue's order, blood pressure as pairs.

    Free-text findings (finding_*) are left out: the sheet prints them per booklet section.
    """
    order = {code: index for index, code in enumerate(clinical.catalogue())}
    pressure_items = {code for pair in BP_PAIRS for code in pair}
    lines = []
    bp_done = False
    for result in sorted(found, key=lambda r: (order.get(r.item, len(order)), r.reading)):
        if result.item.startswith(FINDING_PREFIX):
            continue
        if result.item in pressure_items:
            if not bp_done:
                lines.extend(_blood_pressure_lines(found))
                bp_done = True
            continue
        label = label_of(result.item)
        if result.reading > 1:
            label = f"{label} (lần {result.reading})"
        lines.append(_line(result.item, label, format_value(result), result))
    return lines


# People and dates as printed.


def masked_id(number: str | None) -> str:
    """Return an ID number with all but its last 4 digits hidden: "********1234"."""
    digits = (number or "").strip()
    if not digits:
        return ""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def sex_text(sex: str | None) -> str:
    return SEX_LABELS.get(sex or "", "không rõ")


def birth_text(birth_date: str | None) -> str:
    return parse_iso(birth_date).display() if birth_date else "không rõ"


def age_text(birth_date: str | None, day: dt.date) -> str:
    """Return the age on the exam day: months under 6 years ("30 tháng"), else years ("45 tuổi")."""
    if not birth_date:
        return ""
    birth = parse_iso(birth_date)
    years = birth.age_on(day)
    if years < 6 and birth.precision != "year":
        months = (day.year - birth.year) * 12 + day.month - (birth.month or 1) - (day.day < (birth.day or 1))
        return f"{months} tháng"
    return f"{years} tuổi"


def long_date(day: dt.date) -> str:
    """Return "ngày 12 tháng 12 năm 2026", as Vietnamese documents date their signature."""
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def short_date(day: dt.date | str | None) -> str:
    if not day:
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return day.strftime("%d/%m/%Y")


def diagnosis_text(diagnosis: dict, plain: bool = False) -> str:
    """Return "I10 – Tăng huyết áp vô căn", or for parents "Tăng huyết áp vô căn (mã bệnh I10)"."""
    code, label = (diagnosis.get("code") or "").strip(), (diagnosis.get("label") or "").strip()
    if plain:
        return f"{label} (mã bệnh {code})" if code and label else label or code
    return f"{code} – {label}" if code and label else code or label


def health_class_text(health_class: str | None) -> str:
    if not health_class:
        return ""
    return f"Loại {health_class} ({HEALTH_CLASS_LABELS.get(health_class, '')})"


def referral_text(conclusion: dict | None) -> str:
    if not conclusion or not conclusion.get("referral_place"):
        return ""
    reason = conclusion.get("referral_reason")
    return f"{conclusion['referral_place']}" + (f". Lý do: {reason}" if reason else "")


def require_conclusion(content: SheetContent) -> dict:
    """Return the visit's conclusion, or raise sheet_not_concluded: a sheet is printed after the doctor's."""
    if content.conclusion is None:
        raise SheetNotReady("sheet_not_concluded")
    return content.conclusion
