"""One invitation slip's drawing operations, designed for a 100 x 71.25 mm box and scaled to fit.

The text column is on the left and the QR code on the right, with the Code128 barcode
and the short code across the bottom. Text is Unicode NFC so a PDF reader extracts
precomposed Vietnamese letters.
"""

import datetime as dt
import unicodedata

from fieldapp.slips.codes import QR_QUIET_MODULES, Rect, code128_bars
from fieldapp.slips.fonts import fit_size, text_width, wrap
from fieldapp.slips.layout import SLIP_HEIGHT, SLIP_WIDTH, Fill, Line, Op, Text
from fieldapp.slips.model import Slip

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
FASTING_NOTE = "Nhịn ăn sáng (có xét nghiệm đường huyết)"
BRING_HEADING = "Mang theo:"

PAD = 4.0
QR_SIZE = 23.0  # the symbol without its quiet zone, because scanning at the door needs at least 22 mm
QR_MODULES = 21  # version 1, which every token fits (see codes.qr_matrix)
QR_QUIET = QR_QUIET_MODULES * QR_SIZE / QR_MODULES
QR_RIGHT = SLIP_WIDTH - PAD - 1.0  # leaves the quiet zone 0.6 mm inside the cut line
QR_LEFT = QR_RIGHT - QR_SIZE
HEADER_RULE_Y = 12.4
BODY_TOP = 13.4
BODY_BOTTOM = 57.0
TEXT_LEFT = PAD
TEXT_WIDTH = QR_LEFT - QR_QUIET - 1.0 - TEXT_LEFT
NAME_WIDTH = SLIP_WIDTH - 2 * PAD
QR_TOP = 24.9  # leaves the quiet zone clear of the descenders of a 14 pt name
# Code128 X-dimension: a token's 167 modules plus two 10-module quiet zones take 84 mm.
# Rendered at 150 dpi, zxing-cpp misread about 1 slip in 10 at 0.3 mm and 2 in 100 at
# 0.4 mm, and none of 600 at 0.45 mm.
BAR_MODULE = 0.45
BAR_TOP = 57.8
BAR_HEIGHT = 6.0
SHORT_CODE_SIZE = 11.0
SHORT_CODE_BASELINE = SLIP_HEIGHT - PAD + 0.3
LINE_SPACING = 1.2  # baseline to baseline, in font sizes
MM_PER_PT = 25.4 / 72


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def format_date(day: dt.date) -> str:
    """Return a date as Vietnamese print it: "Thứ Bảy, 12/12/2026"."""
    return f"{WEEKDAYS[day.weekday()]}, {day:%d/%m/%Y}"


def format_slot(slip: Slip) -> str:
    return f"{slip.slot_start}–{slip.slot_end}"


def _body_lines(slip: Slip, factor: float) -> list[tuple[str, float, str, float, float]]:
    """Return the text column's lines at `factor` x the normal size.

    Each line is (style, size in points, text, indent in mm, extra space above it in mm).
    """
    lines = []

    def paragraph(text: str, style: str, size: float, gap: float = 0.0, indent: float = 0.0, first: str = "") -> None:
        size *= factor
        for number, line in enumerate(wrap(first + text, style, size, TEXT_WIDTH - indent)):
            line_indent = 0.0 if number == 0 and first else indent
            lines.append((style, size, line, line_indent, gap if number == 0 else 0.0))

    # The name runs above the QR code's quiet zone, so it may take the slip's whole width.
    name = nfc(slip.full_name)
    name_size = fit_size(name, "bold", 14.0 * factor, NAME_WIDTH, 9.0 * factor)
    for line in wrap(name, "bold", name_size, NAME_WIDTH):
        lines.append(("bold", name_size, line, 0.0, 0.0))
    paragraph(f"Năm sinh: {nfc(slip.birth_year)}  ·  {nfc(slip.area)}", "regular", 8.0, gap=0.8)
    paragraph(nfc(slip.group_label), "regular", 8.0)
    paragraph(f"{format_date(slip.date)}  ·  {format_slot(slip)}", "bold", 9.0, gap=0.8)
    paragraph(f"Địa điểm: {nfc(slip.site_name)}, {nfc(slip.site_address)}", "regular", 7.5)
    bring = [nfc(item) for item in slip.bring]
    if slip.fasting:
        bring.append(FASTING_NOTE)
    if bring:
        paragraph(BRING_HEADING, "bold", 7.5, gap=0.8)
        bullet = "•  "
        indent = text_width(bullet, "regular", 7.5 * factor)
        for item in bring:
            paragraph(item, "regular", 7.5, indent=indent, first=bullet)
    return lines


def _text_column(slip: Slip) -> list[tuple[float, str, float, str, float]]:
    """Return the text column as (baseline y, style, size, text, indent), shrunk until it fits its height."""
    factor = 1.0
    while True:
        placed = []
        y = BODY_TOP
        for number, (style, size, text, indent, gap) in enumerate(_body_lines(slip, factor)):
            # The first baseline sits one ascent below the top, later ones LINE_SPACING apart.
            y += size * (0.8 if number == 0 else LINE_SPACING) * MM_PER_PT + gap
            placed.append((y, style, size, text, indent))
        if y <= BODY_BOTTOM or factor <= 0.7:
            # NOTE: below 70 % the text would be too small to read, so an extreme slip may overflow.
            return placed
        factor -= 0.05


def slip_ops(slip: Slip, left: float, top: float, scale: float, qr: tuple[int, list[Rect]]) -> list[Op]:
    """Return the drawing operations of one slip whose design box has its top left at (`left`, `top`).

    `qr` is codes.qr_symbol(slip.token), built beforehand so that it can be built in parallel.
    """
    ops: list[Op] = []

    def text(x: float, y: float, value: str, style: str, size: float) -> None:
        ops.append(Text(left + x * scale, top + y * scale, value, style, size * scale))

    content_width = SLIP_WIDTH - 2 * PAD
    header = f"{nfc(slip.ward)} – {nfc(slip.station)}"
    text(PAD, 6.6, header, "regular", fit_size(header, "regular", 7.5, content_width, 5.0))
    title = nfc(slip.title)
    text(PAD, 10.9, title, "bold", fit_size(title, "bold", 9.5, content_width, 6.0))
    ops.append(Line(left + PAD * scale, top + HEADER_RULE_Y * scale,
                    left + (SLIP_WIDTH - PAD) * scale, top + HEADER_RULE_Y * scale, 0.2 * scale))

    for y, style, size, value, indent in _text_column(slip):
        text(TEXT_LEFT + indent, y, value, style, size)

    qr_width, qr_dark = qr
    qr_module = QR_SIZE * scale / qr_width
    qr_x = left + QR_LEFT * scale
    qr_y = top + QR_TOP * scale
    ops.append(Fill([
        (qr_x + x * qr_module, qr_y + y * qr_module, w * qr_module, h * qr_module)
        for x, y, w, h in qr_dark
    ]))

    bars, width_modules = code128_bars(slip.token)
    bar_module = BAR_MODULE * scale
    bar_x = left + (SLIP_WIDTH / 2 - width_modules * BAR_MODULE / 2) * scale
    bar_y = top + BAR_TOP * scale
    ops.append(Fill([
        (bar_x + start * bar_module, bar_y, width * bar_module, BAR_HEIGHT * scale)
        for start, width in bars
    ]))

    code = slip.short_code
    code_width = text_width(code, "mono", SHORT_CODE_SIZE)
    text(SLIP_WIDTH / 2 - code_width / 2, SHORT_CODE_BASELINE, code, "mono", SHORT_CODE_SIZE)
    return ops
