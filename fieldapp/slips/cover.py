"""A bundle's cover list: who is in it, in the given order, with a column for each person's signature.

The group's leader signs and dates it on receipt, and signs each row as they hand slips out.
"""

from collections.abc import Iterator

from fieldapp.slips.fonts import fit_size, text_width
from fieldapp.slips.layout import Line, Op, Text
from fieldapp.slips.model import Bundle
from fieldapp.slips.slip_design import format_date, format_slot, nfc

COVER_TITLE = "DANH SÁCH NHẬN GIẤY MỜI"
CONTINUED = "(tiếp theo)"
SIGN_COLUMN = "Ký nhận"
# Heading and share of the table's width of each column.
COLUMNS = (
    ("STT", 0.06),
    ("Họ và tên", 0.34),
    ("Năm sinh", 0.12),
    ("Ngày khám", 0.15),
    ("Giờ", 0.15),
    (SIGN_COLUMN, 0.18),
)
SIGNATURE_HEIGHT = 38.0
MM_PER_PT = 25.4 / 72


class _Sheet:
    """The page being filled, and the running text position on it."""

    def __init__(self, width: float, height: float):
        self.width = width
        self.height = height
        self.margin = 15.0 if width >= 200 else 10.0
        self.size = 10.0 if width >= 200 else 8.5
        self.row_height = self.size * 2.1 * MM_PER_PT
        self.left = self.margin
        self.right = width - self.margin
        self.bottom = height - self.margin
        self.ops: list[Op] = []
        self.y = self.margin

    def line_of_text(self, text: str, style: str, size: float, gap: float = 1.0) -> None:
        """Add a left-aligned line below the previous one, shrunk to fit the page width."""
        size = fit_size(text, style, size, self.right - self.left, size * 0.6)
        self.y += size * 1.25 * MM_PER_PT + gap
        self.ops.append(Text(self.left, self.y, text, style, size))

    def rule(self, y: float, width: float = 0.2) -> None:
        self.ops.append(Line(self.left, y, self.right, y, width))

    def row(self, cells: list[str], style: str) -> None:
        """Add one table row with its borders."""
        top = self.y
        bottom = top + self.row_height
        x = self.left
        table_width = self.right - self.left
        baseline = top + self.row_height / 2 + 0.36 * self.size * MM_PER_PT
        for (_, share), cell in zip(COLUMNS, cells):
            column_width = table_width * share
            self.ops.append(Line(x, top, x, bottom, 0.2))
            if cell:
                size = fit_size(cell, style, self.size, column_width - 3.0, self.size * 0.6)
                self.ops.append(Text(x + 1.5, baseline, cell, style, size))
            x += column_width
        self.ops.append(Line(self.right, top, self.right, bottom, 0.2))
        self.rule(top)
        self.rule(bottom)
        self.y = bottom


def cover_pages(bundle: Bundle, page_width: float, page_height: float) -> Iterator[list[Op]]:
    """Yield the drawing operations of each page of the bundle's cover list."""
    area = nfc(bundle.area)
    first = bundle.slips[0] if bundle.slips else None
    dates = sorted({slip.date for slip in bundle.slips})
    page_number = 0

    def new_sheet() -> _Sheet:
        nonlocal page_number
        page_number += 1
        sheet = _Sheet(page_width, page_height)
        if first is not None:
            sheet.line_of_text(f"{nfc(first.ward)} – {nfc(first.station)}", "regular", sheet.size * 0.9)
        title = f"{COVER_TITLE}: {area}"
        if page_number > 1:
            title = f"{title} {CONTINUED}"
        sheet.line_of_text(title, "bold", sheet.size * 1.5, gap=2.0)
        if page_number == 1:
            if first is not None:
                sheet.line_of_text(nfc(first.title), "bold", sheet.size * 1.05)
                day_list = "; ".join(format_date(day) for day in dates)
                sheet.line_of_text(f"Ngày khám: {day_list}", "regular", sheet.size)
            sheet.line_of_text(f"Số giấy mời: {len(bundle.slips)}", "regular", sheet.size)
        sheet.y += 4.0
        sheet.row([heading for heading, _ in COLUMNS], "bold")
        return sheet

    sheet = new_sheet()
    for number, slip in enumerate(bundle.slips, start=1):
        if sheet.y + sheet.row_height > sheet.bottom:
            yield sheet.ops
            sheet = new_sheet()
        sheet.row([
            str(number),
            nfc(slip.full_name),
            nfc(slip.birth_year),
            f"{slip.date:%d/%m/%Y}",
            format_slot(slip),
            "",
        ], "regular")
    if sheet.y + SIGNATURE_HEIGHT > sheet.bottom:
        yield sheet.ops
        sheet = new_sheet()
    _signature(sheet, nfc(bundle.leader_title))
    yield sheet.ops


def _signature(sheet: _Sheet, leader_title: str) -> None:
    """Add the receipt line: the date received on the left, the leader's signature on the right."""
    size = sheet.size
    line_y = sheet.y + 10.0
    sheet.ops.append(Text(sheet.left, line_y, "Ngày nhận: ....../....../..........", "regular", size))
    centre = sheet.left + (sheet.right - sheet.left) * 0.72
    for offset, text, style in (
        (0.0, f"Người nhận: {leader_title}", "bold"),
        (5.0, "(Ký và ghi rõ họ tên)", "regular"),
    ):
        fitted = fit_size(text, style, size, (sheet.right - centre) * 2, size * 0.6)
        width = text_width(text, style, fitted)
        sheet.ops.append(Text(centre - width / 2, line_y + offset, text, style, fitted))
    signature_y = line_y + 27.0
    sheet.ops.append(Line(centre - 30.0, signature_y, min(sheet.right, centre + 30.0), signature_y, 0.2, 0.5))
