"""The referral note, printed on A5: where the doctor sends the person, why, and the findings that led there."""

from .content import (
    SheetContent,
    SheetNotReady,
    age_text,
    birth_text,
    diagnosis_text,
    long_date,
    masked_id,
    require_conclusion,
    sex_text,
    short_date,
)
from .document import SheetDocument
from .person_sheet import footer_text

TITLE = "GIẤY GIỚI THIỆU / CHUYỂN KHÁM"
KEY_FLAGS = ("red", "abnormal", "unusual")


def key_findings(content: SheetContent) -> list[str]:
    """Return the flagged results as "Huyết áp: 182/96 mmHg (Tăng huyết áp độ 3)", most severe first."""
    order = {flag: index for index, flag in enumerate(KEY_FLAGS)}
    flagged = sorted((line for line in content.lines if line.flag in order), key=lambda line: order[line.flag])
    return [f"{line.label}: {line.value}" + (f" ({line.band})" if line.band else "") for line in flagged]


def draw(doc: SheetDocument, content: SheetContent) -> None:
    """Draw one referral note, starting on a new page; raise referral_missing when the doctor referred nowhere."""
    conclusion = require_conclusion(content)
    if not conclusion.get("referral_place"):
        raise SheetNotReady("referral_missing")
    person = content.person
    doc.start_sheet(footer_text(content, "Giấy giới thiệu chuyển khám"),
                    f"{TITLE.capitalize()}: {person.get('full_name', '')}")
    doc.letterhead(content.place.ward, content.place.station)
    doc.sheet_title(TITLE)

    doc.paragraph(f"Kính gửi: {conclusion['referral_place']}", bold=True, scale=1.05)
    doc.paragraph(f"{content.place.station} trân trọng giới thiệu:")
    doc.field("Họ và tên", (person.get("full_name") or "").upper(), scale=1.1)
    doc.fields_row([("Ngày sinh", birth_text(person.get("birth_date"))),
                    ("Tuổi", age_text(person.get("birth_date"), content.place.day)),
                    ("Giới", sex_text(person.get("sex")))])
    number = person.get("cccd") or person.get("cmnd")
    if number:
        doc.field("Số CCCD/CMND", masked_id(number))
    doc.field("Đã khám sức khỏe", f"ngày {short_date(content.place.day)} tại {content.place.site_name}",
              bold_value=False)
    doc.field("Lý do chuyển khám", conclusion.get("referral_reason") or "")

    doc.caption("Kết quả đáng chú ý")
    doc.bullets(key_findings(content) or ["Không có chỉ số đo nào bất thường."])
    diagnoses = [diagnosis_text(diagnosis) for diagnosis in conclusion["diagnoses"]]
    if diagnoses:
        doc.caption("Chẩn đoán")
        doc.bullets(diagnoses)
    if conclusion.get("summary"):
        doc.field("Kết luận", conclusion["summary"])

    doc.ln(1)
    doc.closing([("", "Đề nghị quý cơ sở khám, tư vấn và điều trị tiếp.", 1.0),
                 ("", "Giấy này không thay cho giấy chuyển tuyến khám chữa bệnh bảo hiểm y tế.", 0.8)],
                f"{content.place.ward}, {long_date(content.signed_on)}", "BÁC SĨ", content.doctor)
