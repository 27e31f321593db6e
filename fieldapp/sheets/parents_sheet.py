"""The result sheet for parents of pupils and young children: growth, eyes, teeth, spine, and what to do next.

School health checks must inform parents at least once a year and watch for poor vision, spinal
deformity and dental disease (Joint Circular 13/2016/TTLT-BYT-BGDĐT art. 9), so those come first,
in plain words. Growth is judged by the WHO z-scores and their bands from fieldapp/data/thresholds.json.
A diagnosis is printed only when the doctor wrote one, in words with its code after it.
"""

from .content import (
    SECTION_LABELS,
    SheetContent,
    age_text,
    birth_text,
    diagnosis_text,
    long_date,
    require_conclusion,
    sex_text,
    short_date,
)
from .document import SheetDocument
from .person_sheet import COLUMNS, EMPHASIS, MARKS, footer_text

TITLE = "PHIẾU BÁO KẾT QUẢ KHÁM SỨC KHỎE"
GROWTH_LABELS = {"height_cm": "Chiều cao", "length_cm": "Chiều dài", "weight_kg": "Cân nặng", "bmi": "BMI"}
Z_LABELS = {
    "bmi_for_age_z": "BMI so với trẻ cùng tuổi, cùng giới",
    "height_for_age_z": "Chiều cao so với trẻ cùng tuổi",
    "weight_for_age_z": "Cân nặng so với trẻ cùng tuổi",
    "weight_for_height_z": "Cân nặng so với chiều cao",
}
# Growth bands in parents' words, by class code prefix of fieldapp/clinical/bands.py.
PLAIN_GROWTH = {
    "normal_weight": "Bình thường", "not_underweight": "Bình thường", "not_stunted": "Bình thường",
    "overweight": "Thừa cân", "obesity": "Béo phì", "thinness": "Gầy", "severe_thinness": "Gầy nặng",
    "underweight": "Nhẹ cân", "stunting": "Thấp còi", "wasting": "Gầy còm",
}
NORMAL = "Bình thường"
EYE_LABELS = {"vision_right": "mắt phải", "vision_left": "mắt trái", "vision_right_glasses": "mắt phải có kính",
              "vision_left_glasses": "mắt trái có kính"}
OWN_ITEMS = set(GROWTH_LABELS) | set(Z_LABELS) | set(EYE_LABELS) | {"dental", "spine", "spine_note"}
OWN_SECTIONS = {"eye", "dental"}


def plain_growth(class_code: str | None) -> str:
    """Return a growth band in plain words: "Thấp còi", or "Thấp còi (mức nặng)" for grades II and III."""
    if not class_code:
        return ""
    if class_code in PLAIN_GROWTH:
        return PLAIN_GROWTH[class_code]
    base, _, grade = class_code.rpartition("_grade_")
    word = PLAIN_GROWTH.get(base, "")
    return f"{word} (mức nặng)" if word and grade in ("2", "3") else word


def nutrition_status(content: SheetContent) -> str:
    """Return the child's nutrition in plain words from every z-score band, worst words first."""
    words = []
    judged = False
    for item in Z_LABELS:
        result = content.result(item)
        if result is None or not result.class_code:
            continue
        judged = True
        word = plain_growth(result.class_code)
        if word and word != NORMAL and word not in words:
            words.append(word)
    if words:
        return ", ".join(words)
    return NORMAL if judged else "Chưa đánh giá được (thiếu chiều cao, cân nặng hoặc ngày sinh đầy đủ)"


def _child_word(content: SheetContent) -> str:
    return "học sinh" if content.visit["plan_kind"] == "pupil" else "trẻ"


def draw(doc: SheetDocument, content: SheetContent) -> None:
    """Draw one child's sheet for the parents, starting on a new page."""
    conclusion = require_conclusion(content)
    person = content.person
    name = person.get("full_name") or ""
    doc.start_sheet(footer_text(content, "Phiếu báo kết quả cho cha mẹ"),
                    f"{TITLE.capitalize()}: {name} ({birth_text(person.get('birth_date'))})")
    doc.letterhead(content.place.ward, content.place.station)
    doc.sheet_title(TITLE, f"Gửi cha mẹ (người giám hộ) của {_child_word(content)}")

    doc.paragraph(f"Kính gửi cha mẹ (người giám hộ) của {_child_word(content)} {name.upper()},")
    doc.paragraph(f"{content.place.station} xin báo kết quả khám sức khỏe của cháu ngày "
                  f"{short_date(content.place.day)} tại {content.place.site_name} như sau.")
    doc.fields_row([("Ngày sinh", birth_text(person.get("birth_date"))),
                    ("Tuổi", age_text(person.get("birth_date"), content.place.day)),
                    ("Giới", sex_text(person.get("sex")))])
    if person.get("class_name"):
        doc.field("Lớp", person["class_name"])

    _growth(doc, content)
    _eyes_teeth_spine(doc, content)
    _other(doc, content)
    _doctor(doc, content, conclusion)
    _next_steps(doc, content, conclusion)
    doc.closing([("", contacts_line(content), 0.9)], f"{content.place.ward}, {long_date(content.signed_on)}",
                "BÁC SĨ KHÁM", content.doctor)


def _growth(doc: SheetDocument, content: SheetContent) -> None:
    doc.heading("1. Chiều cao, cân nặng")
    measured = [(label, line.value) for code, label in GROWTH_LABELS.items() for line in content.lines
                if line.item == code]
    if measured:
        doc.fields_row(measured[:3])
    doc.field("Tình trạng dinh dưỡng", nutrition_status(content))
    scores = []
    for item, label in Z_LABELS.items():
        line = next((line for line in content.lines if line.item == item), None)
        if line is not None:
            result = content.result(item)
            words = plain_growth(result.class_code if result else None)
            scores.append(f"{label}: {line.value}" + (f" ({words})" if words else ""))
    if scores:
        doc.bullets(scores, scale=0.9)
        doc.paragraph("SD: số độ lệch chuẩn so với chuẩn tăng trưởng của Tổ chức Y tế Thế giới (WHO) "
                      "cho trẻ cùng tuổi, cùng giới.", scale=0.75)


def _value(content: SheetContent, item: str) -> str:
    return next((line.value for line in content.lines if line.item == item), "")


def _eyes_teeth_spine(doc: SheetDocument, content: SheetContent) -> None:
    doc.heading("2. Mắt, răng, cột sống")
    eyes = [f"{label} {line.value}" for code, label in EYE_LABELS.items() for line in content.lines
            if line.item == code]
    doc.field("Thị lực", ", ".join(eyes) or "không đo")
    if content.findings.get("eye"):
        doc.paragraph(content.findings["eye"], indent=4)
    doc.field("Răng", _value(content, "dental") or "không khám")
    if content.findings.get("dental"):
        doc.paragraph(content.findings["dental"], indent=4)
    spine = _value(content, "spine")
    if spine:
        note = _value(content, "spine_note")
        doc.field("Cột sống", spine + (f". {note}" if note else ""))


def _other(doc: SheetDocument, content: SheetContent) -> None:
    lines = [line for line in content.lines if line.item not in OWN_ITEMS]
    sections = {section: text for section, text in content.findings.items() if section not in OWN_SECTIONS}
    if not lines and not sections:
        return
    doc.heading("3. Khám khác")
    if lines:
        rows = [([MARKS.get(line.flag, ""), line.label, line.value, line.band or "—"], EMPHASIS.get(line.flag, ""))
                for line in lines]
        doc.table(["", "Mục", "Kết quả", "Đánh giá"], rows, COLUMNS, ("CENTER", "LEFT", "LEFT", "LEFT"))
    for section, text in sections.items():
        doc.field(SECTION_LABELS[section], text, bold_value=False)


def _doctor(doc: SheetDocument, content: SheetContent, conclusion: dict) -> None:
    doc.heading("4. Ý kiến của bác sĩ")
    diagnoses = [diagnosis_text(diagnosis, plain=True) for diagnosis in conclusion["diagnoses"]]
    if diagnoses:
        doc.caption("Bác sĩ phát hiện")
        doc.bullets(diagnoses)
    if conclusion.get("summary"):
        doc.paragraph(conclusion["summary"])
    elif not diagnoses:
        doc.paragraph("Bác sĩ không ghi thêm ý kiến.")


def _next_steps(doc: SheetDocument, content: SheetContent, conclusion: dict) -> None:
    doc.heading("5. Gia đình cần làm")
    steps = []
    if conclusion.get("referral_place"):
        reason = conclusion.get("referral_reason")
        steps.append(f"Đưa cháu đi khám tại {conclusion['referral_place']}." + (f" Lý do: {reason}." if reason else ""))
    if conclusion.get("advice"):
        steps.append(conclusion["advice"])
    if conclusion.get("next_exam_date"):
        steps.append(f"Đưa cháu khám lại ngày {short_date(conclusion['next_exam_date'])}.")
    if steps:
        doc.bullets(steps)
    else:
        doc.paragraph("Bác sĩ không dặn gì thêm.")
    doc.ln(1)


def contacts_line(content: SheetContent) -> str:
    """Return whom parents ask about the sheet: the health station, and the school when the exam was there."""
    # NOTE: rounds and sites store no telephone numbers yet, so the line names the places only.
    text = f"Nếu cần hỏi thêm, xin liên hệ {content.place.station}"
    if content.place.site_kind == "school" and content.place.site_name:
        text += f" hoặc giáo viên chủ nhiệm, {content.place.site_name}"
    return text + "."
