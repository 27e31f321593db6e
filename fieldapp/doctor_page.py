"""Pieces of the doctor's visit page: reading the conclusion form, and the lines of the results table."""

import datetime as dt
import functools
import re

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import conclusions, icd10, results, suggestions
from .clinical import bands
from .clinical import items as catalogue
from .errors import FieldappError

TEXT_MAX = 4000
PLACE_MAX = 300
# A next exam further away than this is almost certainly a typing slip in the year.
NEXT_EXAM_MAX_DAYS = 5 * 366
SEVERITY = ("red", "abnormal", "unusual")


# Reading the conclusion form.

SECTION_LABELS = {
    "internal_medicine": _l("Nội khoa"),
    "surgery": _l("Ngoại khoa"),
    "obstetrics_gynaecology": _l("Sản phụ khoa"),
    "eye": _l("Mắt"),
    "ent": _l("Tai mũi họng"),
    "dental": _l("Răng hàm mặt"),
    "dermatology": _l("Da liễu"),
    "other": _l("Khác"),
}
# Decision 1613/BYT-QĐ (1997): five health classes.
HEALTH_CLASS_LABELS = {
    "I": _l("Loại I: Rất khỏe"),
    "II": _l("Loại II: Khỏe"),
    "III": _l("Loại III: Trung bình"),
    "IV": _l("Loại IV: Yếu"),
    "V": _l("Loại V: Rất yếu"),
}
_CODE_SEPARATORS = re.compile(r"[\s,;]+")


def _text(form, name: str, limit: int, label, problems: dict) -> str:
    value = form.get(name, "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        problems[name] = FieldappError("doctor_text_too_long", field=str(label), value=limit)
    return value


def _diagnoses(form, code_list: icd10.CodeList, current: dict | None, problems: dict) -> list[dict]:
    """Return the chosen diagnoses with titles from the code list, each code once, in the order chosen.

    A code that the list no longer has keeps its saved title, so a conclusion saved before the list was
    replaced can still be corrected.
    """
    saved = {diagnosis["code"]: diagnosis["label"] for diagnosis in (current or {}).get("diagnoses", [])}
    raw = form.getlist("diagnosis") + _CODE_SEPARATORS.split(form.get("diagnosis_codes", ""))
    chosen: dict[str, dict] = {}
    for text in (item.strip() for item in raw):
        if not text:
            continue
        code = icd10.normalise_code(text)
        label = (code_list.title(code) or saved.get(code)) if code else None
        if label is None:
            problems.setdefault("diagnoses", FieldappError("icd10_code_unknown", value=text))
        elif code not in chosen:
            chosen[code] = {"code": code, "label": label}
    return list(chosen.values())


def _next_exam(text: str, day: dt.date, problems: dict) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        date = (dt.datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else dt.date.fromisoformat(text))
    except ValueError:
        date = None
    if date is None or not day < date <= day + dt.timedelta(days=NEXT_EXAM_MAX_DAYS):
        problems["next_exam_date"] = FieldappError("doctor_next_exam_invalid", value=text)
        return text
    return date.isoformat()


def read_form(form, code_list: icd10.CodeList, current: dict | None, day: dt.date) -> tuple[dict, dict]:
    """Read the conclusion form into the values to show again and a Conclusion; return them and the problems.

    Problems are keyed by the field they belong to, so the page shows each beside its field.
    """
    problems: dict[str, FieldappError] = {}
    findings = {section: _text(form, f"finding_{section}", TEXT_MAX, label, problems)
                for section, label in SECTION_LABELS.items()}
    health_class = form.get("health_class") or None
    if health_class is not None and health_class not in conclusions.HEALTH_CLASSES:
        abort(400)
    values = {
        "findings": findings,
        "diagnoses": _diagnoses(form, code_list, current, problems),
        "health_class": health_class,
        "summary": _text(form, "summary", TEXT_MAX, _("Kết luận"), problems),
        "advice": _text(form, "advice", TEXT_MAX, _("Lời khuyên"), problems),
        "referral_place": _text(form, "referral_place", PLACE_MAX, _("Nơi chuyển đến"), problems),
        "referral_reason": _text(form, "referral_reason", TEXT_MAX, _("Lý do chuyển"), problems),
        "next_exam_date": _next_exam(form.get("next_exam_date", ""), day, problems),
        "reason": _text(form, "reason", PLACE_MAX, _("Lý do sửa"), problems),
        "replaces": form.get("replaces", ""),
    }
    if bool(values["referral_place"]) != bool(values["referral_reason"]):
        problems.setdefault("referral_place", FieldappError("doctor_referral_incomplete"))
    values["conclusion"] = conclusions.Conclusion(
        findings=findings, diagnoses=values["diagnoses"], health_class=health_class, summary=values["summary"],
        advice=values["advice"], referral_place=values["referral_place"],
        referral_reason=values["referral_reason"],
        next_exam_date=values["next_exam_date"] if "next_exam_date" not in problems else None,
    )
    return values, problems


# The results table.

UNITS = {"mm[Hg]": "mmHg", "Cel": "°C", "kg/m2": "kg/m²", "/min": _l("lần/phút"), "[ppm]": "ppm"}
# Blood pressure is read as systolic/diastolic, so each reading and the means show on one line.
BP_PAIRS = (("bp_systolic", "bp_diastolic"), ("bp_systolic_mean", "bp_diastolic_mean"))
PAIR_LABELS = {"bp_systolic": _l("Huyết áp"), "bp_systolic_mean": _l("Huyết áp trung bình")}


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _display_value(item, value) -> str:
    """Return a value as the doctor reads it: decimal comma, x/10 vision, choice labels."""
    if item is None:
        return str(value)
    if item.kind == "choice":
        codes = suggestions.choice_codes(value)
        return ", ".join(item.choice(code).label if item.choice(code) else code for code in codes)
    if isinstance(value, (int, float)):
        text = _number(value, item.decimals)
        return f"{text}/10" if item.notation == "tenths" else text
    return str(value)


def _verdict(result: results.Result) -> tuple[str | None, bool]:
    """Return the words judging a value and whether the flag's word should follow them.

    A band label is the clearest verdict ("Tăng huyết áp độ 2"). An item that has bands but none for this person
    (a child's blood pressure) is "not classified", never normal; an item without bands is judged
    only against its usual range.
    """
    if result.class_label:
        return result.class_label, result.flag in SEVERITY
    if result.flag == "red":
        return _("Cấp cứu"), False
    if result.item in _banded_items():
        return _("Chưa phân loại"), result.flag == "unusual"
    if result.flag == "unusual":
        return _("Ngoài khoảng thường gặp"), False
    if result.flag == "normal":
        return _("Trong khoảng thường gặp"), False
    return None, False


def _result_row(history_url, result: results.Result, partner: results.Result | None = None) -> dict:
    """Return one line of the results table; a systolic pressure and its diastolic partner share one line."""
    try:
        item = catalogue.get(result.item)
    except KeyError:
        item = None
    if partner:
        label = PAIR_LABELS[result.item]
    elif item:
        label = item.label
    else:
        label = result.item
    if result.reading and item and item.readings > 1:
        label = _("%(label)s (lần %(reading)s)", label=label, reading=result.reading)
    unit_code = result.unit or (item.unit if item else None) or ""
    worst = min((result, partner) if partner else (result,), key=lambda r: results.FLAG_ORDER.get(r.flag, 4))
    corrected = next((r for r in (result, partner) if r is not None and r.corrected), None)
    value = _display_value(item, result.value)
    if partner:
        value = f"{value}/{_display_value(item, partner.value)}"
    verdict, flag_word = _verdict(worst)
    return {"label": label, "value": value, "unit": UNITS.get(unit_code, unit_code), "flag": worst.flag,
            "verdict": verdict, "flag_word": flag_word, "derived": result.derived, "corrected": corrected is not None,
            "history": history_url(corrected.item) if corrected else None}


def result_rows(found: list[results.Result], history_url) -> list[dict]:
    """Return the results table's lines in the results' order (most severe first), blood pressures as pairs.

    history_url(item) returns the link to a corrected value's versions, or None when there is no such page.
    """
    by_key = {(result.item, result.reading): result for result in found}
    diastolic_of = dict(BP_PAIRS)
    systolic_of = {diastolic: systolic for systolic, diastolic in BP_PAIRS}
    rows, emitted = [], set()
    for result in found:
        if result.item.startswith("finding_") or (result.item, result.reading) in emitted:
            continue
        systolic = by_key.get((systolic_of.get(result.item), result.reading)) if result.item in systolic_of else result
        diastolic = by_key.get((diastolic_of.get(systolic.item), systolic.reading)) if systolic else None
        if systolic is not None and diastolic is not None:
            rows.append(_result_row(history_url, systolic, diastolic))
            emitted |= {(systolic.item, systolic.reading), (diastolic.item, diastolic.reading)}
        else:
            rows.append(_result_row(history_url, result))
    return rows


@functools.cache
def _banded_items() -> frozenset[str]:
    """Return the items that thresholds.json has bands for; a value of another item is shown without a verdict."""
    found = set()
    for rule in bands.rules():
        found.update(item for pair in rule.get("pairs", []) for item in pair)
        if "item" in rule:
            found.add(rule["item"])
    return frozenset(found)
