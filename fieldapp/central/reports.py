"""Central reports of a year: coverage, findings and the follow-up list, per group, residential group and school.

Coverage counts the people in the central store, those invited this year and those examined this
year, for each of the plan's eight groups (a person can be in several), each residential group
(tổ dân phố), school and class. It also lists the people not yet examined, who seed the next round.
Findings count the classes of blood pressure, adult BMI, glucose and children's nutrition, and
referrals, each from the person's latest exam of the year that measured it. Every function takes a
Ward (ward.py).
"""

import re
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..clinical.bands import LABELS
from ..followup import LEVELS, LISTED_FLAGS, FollowUp
from ..groups import GROUPS
from ..results import FLAG_ORDER
from ..sheets.content import CHILD_PLANS, diagnosis_text, lines_from
from .ward import Exam, Person, Ward

DIMENSIONS = {
    "group": _l("Nhóm đối tượng"),
    "tdp": _l("Tổ dân phố"),
    "school": _l("Trường học"),
    "class": _l("Lớp"),
}
UNGROUPED = "0"


@dataclass(frozen=True)
class Filter:
    """A choice of people: a group (1-8), a residential group, a school and a class; None leaves it open."""

    group: int | None = None
    tdp: str | None = None
    school: str | None = None
    class_name: str | None = None

    def matches(self, person: Person) -> bool:
        if self.group is not None and self.group not in person.groups:
            return False
        if self.tdp is not None and person.tdp != self.tdp:
            return False
        if self.school is not None and person.school != self.school:
            return False
        return self.class_name is None or person.class_name.casefold() == self.class_name.casefold()


def chosen_people(ward: Ward, chosen: Filter) -> list[Person]:
    """Return the people a filter selects, in Vietnamese list order."""
    return [person for person in ward.people if chosen.matches(person)]


# Rows of a dimension.


def row_keys(person: Person, by: str) -> list[tuple[str, str]]:
    """Return the (key, label) rows of a dimension that a person counts in; a person can be in several groups."""
    if by == "group":
        if not person.groups:
            return [(UNGROUPED, str(_l("Chưa xếp nhóm")))]
        return [(str(group), f"{group}. {GROUPS[group]}") for group in sorted(person.groups)]
    if by == "tdp":
        if not person.tdp:
            return [("", str(_l("Chưa rõ tổ dân phố")))]
        return [(person.tdp, area_label(person.tdp))]
    if by == "school":
        return [(person.school, person.school)] if person.school else []
    if by == "class":
        if not person.class_name:
            return []
        school = person.school or str(_l("Chưa rõ trường"))
        return [(f"{person.school}|{person.class_name}", f"{person.class_name} – {school}")]
    raise ValueError(f"unknown report dimension {by!r}")


def area_label(tdp: str) -> str:
    """Return "Tổ dân phố 3" for a number, else the name as written ("Khu phố Đông")."""
    return str(_l("Tổ dân phố %(number)s", number=tdp)) if tdp.isdigit() else tdp


def area_text(person: Person) -> str:
    """Return where to find a person: "Lớp 2A" for a pupil, else the residential group, else ""."""
    if person.class_name:
        return str(_l("Lớp %(name)s", name=person.class_name))
    return area_label(person.tdp) if person.tdp else ""


def natural_key(text: str) -> tuple:
    """Sort "Tổ 2" before "Tổ 10" and "2A" before "10A"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.split(r"(\d+)", text) if part)


def _row_order(by: str, key: str) -> tuple:
    if by == "group":
        return (int(key) if key != UNGROUPED else 99,)
    if by == "tdp":
        return (key == "", natural_key(key))
    if by == "class":
        school, class_name = key.split("|", 1)
        return (school == "", natural_key(school), natural_key(class_name))
    return (natural_key(key),)


# Coverage.


@dataclass
class CoverageRow:
    """People known, invited this year and examined this year in one row of a dimension."""

    key: str
    label: str
    people: int = 0
    invited: int = 0
    examined: int = 0
    invited_not_examined: int = 0

    @property
    def not_examined(self) -> int:
        return self.people - self.examined

    @property
    def examined_percent(self) -> float | None:
        return round(100 * self.examined / self.people, 1) if self.people else None

    def add(self, person: Person) -> None:
        self.people += 1
        self.invited += person.invited
        self.examined += person.examined
        self.invited_not_examined += person.invited and not person.examined


def coverage(ward: Ward, by: str, chosen: Filter = Filter()) -> tuple[list[CoverageRow], CoverageRow]:
    """Return the coverage rows of a dimension and the total, in which each person counts once."""
    rows: dict[str, CoverageRow] = {}
    if by == "group":
        # Every group of the plan is shown, so an officer sees a group with no one listed.
        rows = {str(group): CoverageRow(str(group), f"{group}. {label}") for group, label in GROUPS.items()}
    total = CoverageRow("", str(_l("Tổng cộng")))
    for person in chosen_people(ward, chosen):
        total.add(person)
        for key, label in row_keys(person, by):
            rows.setdefault(key, CoverageRow(key, label)).add(person)
    return sorted(rows.values(), key=lambda row: _row_order(by, row.key)), total


def not_examined(ward: Ward, chosen: Filter = Filter()) -> list[Person]:
    """Return the people a filter selects who have no exam this year, in Vietnamese list order."""
    return [person for person in chosen_people(ward, chosen) if not person.examined]


# Findings.


@dataclass(frozen=True)
class Category:
    """A finding counted per person: the items judged, and the class codes in the order they are shown."""

    code: str
    label: object
    items: tuple[str, ...]
    classes: tuple[str, ...]


REFERRED, NOT_REFERRED = "referred", "not_referred"
CATEGORIES = (
    # Blood pressure is judged on the mean of the readings, as the exam booklet records it.
    Category("blood_pressure", _l("Huyết áp (người từ 18 tuổi)"), ("bp_systolic_mean",),
             ("hypotension", "bp_optimal", "bp_normal", "bp_high_normal", "hypertension_grade_1",
              "hypertension_grade_2", "hypertension_grade_3", "isolated_systolic_hypertension")),
    Category("bmi", _l("BMI người lớn (từ 19 tuổi)"), ("bmi",),
             ("underweight", "normal_weight", "overweight", "obesity_grade_1", "obesity_grade_2")),
    # One class per person: the most severe of the glucose tests taken.
    Category("glucose", _l("Đường huyết"), ("glucose_fasting_mmol", "glucose_random_mmol", "glucose_ogtt_2h_mmol",
                                            "hba1c_percent"),
             ("glucose_low", "glucose_normal", "random_glucose_below_threshold", "hba1c_normal", "prediabetes",
              "impaired_glucose_tolerance", "random_glucose_high", "diabetes_suspected")),
    Category("weight_for_age", _l("Cân nặng theo tuổi (trẻ dưới 5 tuổi)"), ("weight_for_age_z",),
             ("not_underweight", "underweight_grade_1", "underweight_grade_2", "underweight_grade_3")),
    # Under 5 years the grades of the WHO 2006 standards, from 5 to 19 years those of the 2007 reference.
    Category("height_for_age", _l("Chiều cao theo tuổi (trẻ em, học sinh)"), ("height_for_age_z",),
             ("not_stunted", "stunting_grade_1", "stunting_grade_2", "stunting_grade_3", "stunting",
              "severe_stunting")),
    Category("weight_for_height", _l("Cân nặng theo chiều cao (trẻ dưới 5 tuổi)"), ("weight_for_height_z",),
             ("normal_weight", "overweight", "obesity", "wasting_grade_1", "wasting_grade_2", "wasting_grade_3")),
    Category("bmi_for_age", _l("BMI theo tuổi (5–19 tuổi)"), ("bmi_for_age_z",),
             ("severe_thinness", "thinness", "normal_weight", "overweight", "obesity")),
    Category("referral", _l("Chuyển khám (người có kết luận)"), (), (NOT_REFERRED, REFERRED)),
)
CLASS_LABELS = {**LABELS, REFERRED: _l("Được chuyển khám"), NOT_REFERRED: _l("Không chuyển khám")}


def class_of(category: Category, exam: Exam) -> str | None:
    """Return the exam's class in a category, or None when nothing in it was measured or classified."""
    if category.code == "referral":
        if exam.conclusion is None:
            return None
        return REFERRED if (exam.conclusion.get("referral_place") or "").strip() else NOT_REFERRED
    judged = [result for result in exam.results
              if result.item in category.items and result.class_code in category.classes]
    if not judged:
        return None
    worst = min(judged, key=lambda result: (FLAG_ORDER.get(result.flag, 4), category.items.index(result.item)))
    return worst.class_code


def latest_class(category: Category, person: Person) -> str | None:
    """Return the class of the person's latest exam of the year that has one in the category."""
    for exam in reversed(person.exams):
        code = class_of(category, exam)
        if code is not None:
            return code
    return None


@dataclass
class FindingRow:
    """Counts of each class in one row of a dimension; measured is the number of people classified."""

    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def measured(self) -> int:
        return sum(self.counts.values())

    def percent(self, class_code: str) -> float | None:
        return round(100 * self.counts.get(class_code, 0) / self.measured, 1) if self.measured else None


@dataclass
class FindingTable:
    """A category's rows and total; only classes that occur are listed in columns."""

    category: Category
    rows: list[FindingRow]
    total: FindingRow

    @property
    def classes(self) -> list[str]:
        return [code for code in self.category.classes if self.total.counts.get(code)]

    def class_label(self, code: str) -> str:
        return str(CLASS_LABELS[code])


def findings(ward: Ward, by: str, chosen: Filter = Filter()) -> list[FindingTable]:
    """Return one table per category, counting each person the filter selects once (latest_class)."""
    tables = []
    for category in CATEGORIES:
        rows: dict[str, FindingRow] = {}
        total = FindingRow("", str(_l("Tổng cộng")))
        for person in chosen_people(ward, chosen):
            code = latest_class(category, person)
            if code is None:
                continue
            total.counts[code] = total.counts.get(code, 0) + 1
            for key, label in row_keys(person, by):
                row = rows.setdefault(key, FindingRow(key, label))
                row.counts[code] = row.counts.get(code, 0) + 1
        tables.append(FindingTable(category, sorted(rows.values(), key=lambda row: _row_order(by, row.key)), total))
    return tables


# Follow-up across sites.


def follow_up(ward: Ward, chosen: Filter = Filter()) -> list[FollowUp]:
    """Return the people to follow up, most severe first, as the site's list orders them.

    Each person is listed once, with the most severe of this year's exams. Triage red flags recorded
    at a desk are not synced, so "red" comes from values here.
    """
    entries = []
    with force_locale("vi"):
        for person in chosen_people(ward, chosen):
            found = [entry for entry in (_entry(person, exam) for exam in person.exams) if entry is not None]
            if found:
                entries.append(min(found, key=_severity))
    return sorted(entries, key=lambda entry: (*_severity(entry), entry.sort_key))


def _severity(entry: FollowUp) -> tuple:
    return LEVELS.index(entry.level), -entry.serious_count, entry.day


def _entry(person: Person, exam: Exam) -> FollowUp | None:
    # The levels and reason texts are those of fieldapp/followup.py, so both lists read the same.
    lines = lines_from(exam.results)
    conclusion = exam.conclusion or {}
    flagged = {flag: [line for line in lines if line.flag == flag] for flag in LISTED_FLAGS}
    diagnoses = conclusion.get("diagnoses") or []
    referral = (conclusion.get("referral_place") or "").strip()

    if flagged["red"]:
        level = "red"
    elif referral:
        level = "referral"
    elif flagged["abnormal"]:
        level = "abnormal"
    elif diagnoses:
        level = "diagnosis"
    else:
        return None

    reasons = [f"{line.label}: {line.value}" + (f" ({line.band})" if line.band else "")
               for flag in LISTED_FLAGS for line in flagged[flag]]
    if referral:
        reason = conclusion.get("referral_reason")
        reasons.append(f"Chuyển khám: {referral}" + (f" ({reason})" if reason else ""))
    reasons += [f"Chẩn đoán: {diagnosis_text(diagnosis)}" for diagnosis in diagnoses]

    shown = person.payload
    child = exam.visit.get("plan_kind") in CHILD_PLANS
    # A child's parent is called; an adult on their own number, else on the listed relative's.
    phones = [shown.get("parent_phone"), shown.get("phone")] if child else [shown.get("phone"), shown.get("parent_phone")]
    phone = next((number for number in phones if number), "")
    contact = (shown.get("parent_name") or "") if phone and phone == shown.get("parent_phone") else ""
    return FollowUp(
        visit_id=exam.visit["id"], person_id=person.id, full_name=shown.get("full_name") or "",
        birth_date=shown.get("birth_date"), sex=shown.get("sex"), phone=phone, contact=contact,
        address=shown.get("address") or "", area=area_text(person), day=exam.day,
        site_name=exam.site.get("name") or "", level=level, reasons=reasons, referral_place=referral,
        next_exam_date=conclusion.get("next_exam_date"),
        serious_count=len(flagged["red"]) + len(flagged["abnormal"]), sort_key=shown.get("sort_key") or "",
    )
