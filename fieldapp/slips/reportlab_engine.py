"""Render planned pages with ReportLab's canvas."""

from collections.abc import Iterable
from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from fieldapp.slips.fonts import FONT_FILES
from fieldapp.slips.layout import Fill, Line, Page, PageLayout, Text

# ReportLab's font name of each fonts.FONT_FILES style. The names are global in ReportLab's
# registry, so they carry a prefix that no other part of a process is likely to use.
FONT_NAMES = {style: f"fieldapp-{path.stem}" for style, path in FONT_FILES.items()}


def _register_fonts() -> None:
    registered = set(pdfmetrics.getRegisteredFontNames())
    for style, name in FONT_NAMES.items():
        if name not in registered:
            # A TTFont is embedded as a subset TrueType font with a ToUnicode map, so text extracts.
            pdfmetrics.registerFont(TTFont(name, str(FONT_FILES[style])))


def render(pages: Iterable[Page], layout: PageLayout, out: BinaryIO, title: str) -> int:
    """Write `pages` as one PDF to the binary file `out` and return the page count."""
    _register_fonts()
    height = layout.page_height
    canvas = Canvas(out, pagesize=(layout.page_width * mm, height * mm), pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("fieldapp")

    count = 0
    for page in pages:
        count += 1
        font = None
        stroke = None
        canvas.setFillGray(0)
        for op in page.ops:
            if isinstance(op, Fill):
                path = canvas.beginPath()
                for x, y, width, rect_height in op.rects:
                    path.rect(x * mm, (height - y - rect_height) * mm, width * mm, rect_height * mm)
                canvas.drawPath(path, stroke=0, fill=1)
            elif isinstance(op, Text):
                if font != (op.style, op.size):
                    canvas.setFont(FONT_NAMES[op.style], op.size)
                    font = (op.style, op.size)
                canvas.drawString(op.x * mm, (height - op.y) * mm, op.text)
            elif isinstance(op, Line):
                if stroke != (op.width, op.gray):
                    canvas.setStrokeGray(op.gray)
                    canvas.setLineWidth(op.width * mm)
                    stroke = (op.width, op.gray)
                canvas.line(op.x1 * mm, (height - op.y1) * mm, op.x2 * mm, (height - op.y2) * mm)
        canvas.showPage()
    canvas.save()
    return count
