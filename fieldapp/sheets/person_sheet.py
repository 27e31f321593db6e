"""The result sheet handed to the person: every measured and derived value, findings and the doctor's conclusion.

The layout follows the parts of the periodic exam booklet (Circular 32/2023/TT-BYT appendix XXIV form
03): personal details, measurements and tests, clinical findings by specialty, conclusion with the
health class, signed by the doctor. The ID number is printed with only its last 4 digits, enough to
tell two people of the same name apart, so a sheet left behind does not give away the number.
"""

from .content import (
    SECTION_LABELS,
    SheetContent,
    age_text,
    birth_text,
    diagnosis_text,
    health_class_text,
    long_date,
    masked_id,
    referral_text,
    require_conclusion,
    sex_text,
    short_date,
)
from .document import SheetDocument

TITLE = "PHIẾU KẾT QUẢ KHÁM SỨC KHỎE"
MARKS = {"red": "!!", "abnormal": "!", "unusual": "(!)"}
EMPHASIS = {"red": "strong", "abnormal": "bold"}
LEGEND = ("!! cần khám ngay · ! bất thường, cần khám hoặc theo dõi · (!) cần theo dõi, đo lại · "
          "— không có ngưỡng đánh giá cho giá trị này")
# Column widths as fractions of the text width: mark, item, value, band.
COLUMNS = (0.06, 0.40, 0.22, 0.32)


def footer_text(content: SheetContent, kind: str) -> str:
    """Return a sheet's footer: station, kind of sheet, queue number and day; never a name or a value."""
    return (f"{content.place.station} · {kind} · số thứ tự {content.visit['queue_number']}, "
            f"ngày {short_date(content.place.day)}")


def running_head(content: SheetContent) -> str:
    return f"{TITLE.capitalize()}: {content.person.get('full_name', '')} ({birth_text(content.person.get('birth_date'))})"


def draw(doc: SheetDocument, content: SheetContent) -> None:
    """Draw one person's result sheet, starting on a new page."""
    conclusion = require_conclusion(content)
    doc.start_sheet(footer_text(content, "Phiếu kết quả khám sức khỏe"), running_head(content))
    doc.letterhead(content.place.ward, content.place.station)
    doc.sheet_title(TITLE, _subtitle(content))

    _personal(doc, content)
    _measurements(doc, content)
    _findings(doc, content)
    _conclusion(doc, content, conclusion)
    doc.closing(_closing_lines(conclusion), f"{content.place.ward}, {long_date(content.signed_on)}",
                "BÁC SĨ KẾT LUẬN", content.doctor)


def _subtitle(content: SheetContent) -> str:
    parts = [content.place.round_name, f"Ngày khám: {short_date(content.place.day)}", content.place.site_name]
    return " · ".join(part for part in parts if part)


def _personal(doc: SheetDocument, content: SheetContent) -> None:
    person = content.person
    doc.heading("I. THÔNG TIN CÁ NHÂN")
    doc.field("Họ và tên", (person.get("full_name") or "").upper(), scale=1.1)
    doc.fields_row([("Ngày sinh", birth_text(person.get("birth_date"))),
                    ("Tuổi", age_text(person.get("birth_date"), content.place.day)),
                    ("Giới", sex_text(person.get("sex")))])
    number = person.get("cccd") or person.get("cmnd")
    if number:
        doc.field("Số CCCD/CMND", masked_id(number))


def _measurements(doc: SheetDocument, content: SheetContent) -> None:
    doc.heading("II. KẾT QUẢ ĐO VÀ XÉT NGHIỆM")
    if not content.lines:
        doc.paragraph("Chưa có kết quả đo nào được ghi.")
        return
    rows = [([MARKS.get(line.flag, ""), line.label, line.value, line.band or "—"], EMPHASIS.get(line.flag, ""))
            for line in content.lines]
    doc.table(["", "Mục", "Kết quả", "Đánh giá"], rows, COLUMNS, ("CENTER", "LEFT", "LEFT", "LEFT"))
    doc.paragraph(LEGEND, scale=0.75)


def _findings(doc: SheetDocument, content: SheetContent) -> None:
    if not content.findings:
        return
    doc.heading("III. KHÁM LÂM SÀNG")
    for section, text in content.findings.items():
        doc.field(SECTION_LABELS[section], text, bold_value=False)


def _conclusion(doc: SheetDocument, content: SheetContent, conclusion: dict) -> None:
    doc.heading("IV. KẾT LUẬN CỦA BÁC SĨ" if content.findings else "III. KẾT LUẬN CỦA BÁC SĨ")
    diagnoses = [diagnosis_text(diagnosis) for diagnosis in conclusion["diagnoses"]]
    if diagnoses:
        doc.caption("Chẩn đoán")
        doc.bullets(diagnoses)
    if conclusion.get("health_class"):
        doc.field("Phân loại sức khỏe", health_class_text(conclusion["health_class"]))
    if conclusion.get("summary"):
        doc.field("Kết luận", conclusion["summary"])
    if conclusion.get("advice"):
        doc.field("Lời khuyên", conclusion["advice"], bold_value=False)
    if not (diagnoses or conclusion.get("summary") or conclusion.get("advice")):
        doc.paragraph("Bác sĩ không ghi thêm kết luận.")


def _closing_lines(conclusion: dict) -> list[tuple[str, str, float]]:
    """Return the referral and the next exam date, the lines kept on the page of the doctor's signature."""
    lines = []
    if conclusion.get("referral_place"):
        lines.append(("Chuyển khám tại", referral_text(conclusion), 1.0))
    if conclusion.get("next_exam_date"):
        lines.append(("Hẹn khám lại", short_date(conclusion["next_exam_date"]), 1.0))
    return lines
