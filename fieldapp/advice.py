"""Advice templates: texts the doctor inserts into a conclusion's advice, editable by doctors and site admins.

Templates are never deleted, because a deactivated one may be wanted again; deactivated ones are only left
out of the doctor's page. A site with no template at all gets the starter set below on first use.
"""

import sqlite_utils

from .db import new_id, now
from .errors import FieldappError
from .text import fold

TITLE_MAX = 100
BODY_MAX = 2000

# The starter set, written for the people a ward examines at periodic exams. The numbers follow WHO's
# recommendations (salt under 5 g a day; at least 150 minutes of moderate activity a week for adults;
# breastfeeding alone for 6 months and continued to 2 years). The glucose retest follows Decision
# 5481/QĐ-BYT (2020): without classic symptoms, diabetes needs two results above the threshold.
# The texts are stored content rather than screen text, so they stay Vietnamese whatever the screen language.
STARTER_TEMPLATES = (
    ("Tăng huyết áp: ăn nhạt, giảm muối",
     ("Ăn nhạt: dưới 5 g muối mỗi ngày (khoảng một thìa cà phê), kể cả nước mắm, bột canh, đồ muối chua, "
      "đồ ăn chế biến sẵn. Ăn nhiều rau, quả. Hạn chế rượu bia, không hút thuốc lá. Đi bộ nhanh hoặc tập "
      "thể dục ít nhất 30 phút mỗi ngày, 5 ngày mỗi tuần. Đo lại huyết áp tại trạm y tế theo hẹn; "
      "nếu đau đầu dữ dội, đau ngực, khó thở, yếu liệt tay chân thì đến cơ sở y tế ngay.")),
    ("Đường huyết cao: xét nghiệm lại",
     ("Đường huyết lúc đói hôm nay cao hơn bình thường. Một lần xét nghiệm chưa đủ để kết luận đái tháo "
      "đường: hãy xét nghiệm lại đường huyết lúc đói (nhịn ăn ít nhất 8 giờ) hoặc HbA1c tại trạm y tế hay "
      "bệnh viện theo hẹn. Trong lúc chờ: hạn chế đồ ngọt, nước ngọt, cơm trắng ăn vừa phải, tăng rau xanh, "
      "vận động đều đặn mỗi ngày.")),
    ("Thừa cân, béo phì: giảm cân",
     ("Mục tiêu: giảm dần 5–10% cân nặng trong 6 tháng (khoảng 0,5 kg mỗi tuần). Ăn đủ bữa, giảm đồ ngọt, "
      "đồ chiên rán, mỡ động vật, rượu bia; tăng rau và trái cây ít ngọt. Vận động ít nhất 150 phút mỗi "
      "tuần (đi bộ nhanh, đạp xe, bơi). Theo dõi cân nặng và vòng bụng mỗi tháng.")),
    ("Dinh dưỡng cho trẻ",
     ("Bú mẹ hoàn toàn trong 6 tháng đầu và tiếp tục bú mẹ đến 24 tháng. Từ 6 tháng cho ăn bổ sung đủ "
      "4 nhóm thực phẩm (bột đường, đạm, chất béo, rau quả), tăng dần độ đặc và số bữa theo tuổi. "
      "Cân, đo trẻ hằng tháng và ghi vào biểu đồ tăng trưởng. Cho trẻ uống vitamin A và tẩy giun theo "
      "lịch của trạm y tế. Đưa trẻ đi khám khi trẻ biếng ăn kéo dài, sụt cân hoặc không tăng cân.")),
    ("Vệ sinh răng miệng",
     ("Chải răng ít nhất 2 lần mỗi ngày (sáng và tối trước khi ngủ), mỗi lần 2 phút, bằng kem có fluor. "
      "Hạn chế bánh kẹo, nước ngọt, nhất là giữa các bữa ăn. Khám răng 6 tháng một lần; răng sâu, chảy máu "
      "lợi hay đau răng cần đi khám răng hàm mặt sớm.")),
    ("Thị lực giảm: khám mắt, đo kính",
     ("Thị lực đo hôm nay thấp hơn bình thường. Hãy đi khám chuyên khoa mắt để đo khúc xạ và được cắt kính "
      "đúng số nếu cần. Học và đọc ở nơi đủ ánh sáng, giữ khoảng cách từ mắt đến sách 30–35 cm; cứ 20 phút "
      "nhìn màn hình thì nhìn xa khoảng 20 giây. Trẻ đã đeo kính cần khám lại mắt mỗi 6 tháng.")),
)


def _rows(db: sqlite_utils.Database, sql: str, params: list) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def seed(db: sqlite_utils.Database) -> int:
    """Add the starter templates when the site has none; return how many were added. Call inside a write."""
    if db.execute("SELECT 1 FROM advice_template LIMIT 1").fetchone():
        return 0
    for title, body in STARTER_TEMPLATES:
        db["advice_template"].insert({"id": new_id(), "title": title, "body": body, "active": 1,
                                      "updated_at": now()})
    return len(STARTER_TEMPLATES)


def needs_seed(db: sqlite_utils.Database) -> bool:
    """True when the site has no template yet, so the first page that lists them should seed."""
    return db.execute("SELECT 1 FROM advice_template LIMIT 1").fetchone() is None


def templates(db: sqlite_utils.Database, include_inactive: bool = False) -> list[dict]:
    """Return the templates in Vietnamese title order (tone marks aside), hidden ones last and only when asked."""
    where = "" if include_inactive else "WHERE active = 1"
    rows = _rows(db, f"SELECT * FROM advice_template {where}", [])
    return sorted(rows, key=lambda row: (not row["active"], fold(row["title"]), row["title"]))


def get(db: sqlite_utils.Database, template_id: str) -> dict | None:
    """Return one template, or None."""
    rows = _rows(db, "SELECT * FROM advice_template WHERE id = ?", [template_id])
    return rows[0] if rows else None


def _checked(db: sqlite_utils.Database, title: str, body: str, template_id: str | None) -> tuple[str, str]:
    title, body = " ".join(title.split()), body.strip()
    if not title or not body:
        raise FieldappError("advice_template_incomplete")
    if len(title) > TITLE_MAX or len(body) > BODY_MAX:
        raise FieldappError("advice_template_too_long")
    same = db.execute("SELECT id FROM advice_template WHERE title = ?", [title]).fetchone()
    if same and same[0] != template_id:
        raise FieldappError("advice_template_exists", value=title)
    return title, body


def add(db: sqlite_utils.Database, title: str, body: str) -> str:
    """Check and add a template; return its id. Call inside a write transaction."""
    title, body = _checked(db, title, body, None)
    template_id = new_id()
    db["advice_template"].insert({"id": template_id, "title": title, "body": body, "active": 1, "updated_at": now()})
    return template_id


def update(db: sqlite_utils.Database, template_id: str, title: str, body: str) -> None:
    """Check and change a template's title and text. Call inside a write transaction."""
    title, body = _checked(db, title, body, template_id)
    db.execute("UPDATE advice_template SET title = ?, body = ?, updated_at = ? WHERE id = ?",
               [title, body, now(), template_id])


def set_active(db: sqlite_utils.Database, template_id: str, active: bool) -> None:
    """Show a template on the doctor's page again, or hide it. Call inside a write transaction."""
    db.execute("UPDATE advice_template SET active = ?, updated_at = ? WHERE id = ?",
               [1 if active else 0, now(), template_id])
