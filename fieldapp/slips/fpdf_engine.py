"""Render planned pages with fpdf2 (pure Python)."""

from collections.abc import Iterable
from typing import BinaryIO

from fpdf import FPDF

from fieldapp.slips.fonts import FONT_FILES, keep_glyph_bounds
from fieldapp.slips.layout import Fill, Line, Page, PageLayout, Text

# fpdf2 family and style of each fonts.FONT_FILES style.
FAMILIES = {"regular": ("DejaVuSans", ""), "bold": ("DejaVuSans", "B"), "mono": ("DejaVuSansMono", "B")}


def render(pages: Iterable[Page], layout: PageLayout, out: BinaryIO, title: str) -> int:
    """Write `pages` as one PDF to the binary file `out` and return the page count."""
    pdf = FPDF(unit="mm", format=(layout.page_width, layout.page_height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_lang("vi")
    pdf.set_creator("fieldapp")
    for style, (family, font_style) in FAMILIES.items():
        # add_font embeds the subset of glyphs used as a Unicode TrueType (CIDFontType2) font.
        pdf.add_font(family, font_style, FONT_FILES[style])
    keep_glyph_bounds(pdf)
    pdf.set_fill_color(0)

    count = 0
    for page in pages:
        pdf.add_page()
        count += 1
        font = None
        stroke = None
        for op in page.ops:
            if isinstance(op, Fill):
                for x, y, width, height in op.rects:
                    pdf.rect(x, y, width, height, style="F")
            elif isinstance(op, Text):
                if font != (op.style, op.size):
                    family, font_style = FAMILIES[op.style]
                    pdf.set_font(family, font_style, op.size)
                    font = (op.style, op.size)
                pdf.text(op.x, op.y, op.text)
            elif isinstance(op, Line):
                if stroke != (op.width, op.gray):
                    pdf.set_draw_color(round(op.gray * 255))
                    pdf.set_line_width(op.width)
                    stroke = (op.width, op.gray)
                pdf.line(op.x1, op.y1, op.x2, op.y2)
    out.write(pdf.output())
    return count
