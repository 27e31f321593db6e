"""Page setup and drawing helpers for the printed result sheets and referral notes (fpdf2).

One document contains one or more sheets. Each sheet starts on a new page, and its pages are numbered
on their own ("Trang 1/2"), so a batch for a whole day still reads as separate sheets. A sheet that
runs onto a second page repeats a short running head (the person's name) at the top of that page,
so a loose page can be matched to its sheet.
"""

import unicodedata
from dataclasses import dataclass
from typing import Self

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from fieldapp.slips.fonts import FONT_FILES, SHEET_FONT_FILES, fit_size, keep_glyph_bounds, sheet_coverage

FAMILY = "DejaVuSans"
# The whole DejaVu Sans, added to a document only when its text has a character the cut-down fonts lack.
FULL_FAMILY = "DejaVuSansFull"
GRAY_FILL = 225          # 0 black, 255 white: red-flag rows print light gray, visible without colour
HEADING_FILL = 240
RULE_GRAY = 140
MM_PER_PT = 25.4 / 72
LINE_SPACING = 1.3       # line height as a multiple of the font size
SIGNING_SPACE = 14.0     # mm left blank for the signature
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class PageSize:
    """A paper size in millimetres with its margin and body text size in points."""

    width: float
    height: float
    margin: float
    body_pt: float


# Explicit sizes: fpdf2 2.8.5 changed its built-in "A5" dimensions and warns when the name is used.
SIZES = {
    "A4": PageSize(210.0, 297.0, margin=15.0, body_pt=10.0),
    "A5": PageSize(148.0, 210.0, margin=9.0, body_pt=8.5),
}


def clean(text: object) -> str:
    """Return text as NFC with control characters replaced by spaces, ready to print."""
    normalized = unicodedata.normalize("NFC", "" if text is None else str(text))
    return "".join(" " if unicodedata.category(char) == "Cc" and char != "\n" else char for char in normalized)


class _Pages(FPDF):
    """fpdf2's document with a header hook: the running head atop a sheet's continuation pages."""

    def __init__(self, owner: "SheetDocument", paper: PageSize):
        super().__init__(unit="mm", format=(paper.width, paper.height))
        self.owner = owner

    def header(self) -> None:
        self.owner.draw_running_head()

    def normalize_text(self, text: str) -> str:
        # fpdf2 passes every string it draws or measures through here, before it picks fonts for it.
        if not self.owner.full_fonts and not sheet_coverage().issuperset(map(ord, text)):
            self.owner.add_full_fonts()
        return super().normalize_text(text)


class SheetDocument:
    """A PDF of one paper size with the bundled DejaVu fonts, per-sheet page numbers and drawing helpers."""

    def __init__(self, size: str, title: str):
        if size not in SIZES:
            raise ValueError(f"unknown sheet size {size!r}; expected one of {', '.join(SIZES)}")
        self.paper = SIZES[size]
        self.sheets: list[tuple[int, str]] = []     # (first page, footer text) per sheet
        self.running_head = ""
        self.full_fonts = False
        pdf = self.pdf = _Pages(self, self.paper)
        margin = self.paper.margin
        pdf.set_margins(margin, margin, margin)
        pdf.set_auto_page_break(True, margin=margin + self.line_height(0.8) + 2)
        # The title is the same for every sheet, so a PDF viewer's title bar never shows a name.
        pdf.set_title(title)
        pdf.set_lang("vi")
        pdf.set_creator("fieldapp")
        for style, font_style in (("regular", ""), ("bold", "B")):
            # add_font embeds the subset of glyphs used as a Unicode TrueType (CIDFontType2) font.
            pdf.add_font(FAMILY, font_style, SHEET_FONT_FILES[style])
        keep_glyph_bounds(pdf)
        pdf.set_draw_color(RULE_GRAY)

    def add_full_fonts(self) -> None:
        """Add the whole DejaVu Sans as the fallback for characters the cut-down sheet fonts lack."""
        self.full_fonts = True
        for style, font_style in (("regular", ""), ("bold", "B")):
            self.pdf.add_font(FULL_FAMILY, font_style, FONT_FILES[style])
        keep_glyph_bounds(self.pdf)
        self.pdf.set_fallback_fonts([FULL_FAMILY])

    # Fonts and sizes.

    def size(self, scale: float = 1.0) -> float:
        """Return the body text size times scale, in points."""
        return self.paper.body_pt * scale

    def line_height(self, scale: float = 1.0) -> float:
        """Return the line height in millimetres for text at body size times scale."""
        return self.size(scale) * MM_PER_PT * LINE_SPACING

    def use_font(self, bold: bool = False, scale: float = 1.0) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", self.size(scale))

    @property
    def text_width(self) -> float:
        return self.paper.width - 2 * self.paper.margin

    def ln(self, height: float) -> None:
        self.pdf.ln(height)

    # Sheets and pages.

    def start_sheet(self, footer: str, running_head: str) -> None:
        """Begin a sheet on a new page; the footer and running head must hold no health data."""
        self.running_head = ""
        self.pdf.add_page()
        self.sheets.append((self.pdf.page, clean(footer)))
        self.running_head = clean(running_head)

    def draw_running_head(self) -> None:
        """Write the running head at the top of a sheet's second and later pages."""
        pdf = self.pdf
        if not self.running_head or not self.sheets or pdf.page == self.sheets[-1][0]:
            return
        self.use_font(scale=0.8)
        pdf.cell(0, self.line_height(0.8), self.running_head, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def finish(self) -> bytes:
        """Write each sheet's footer with its own page numbers and return the PDF."""
        pdf = self.pdf
        pdf.set_auto_page_break(False)
        last = pdf.page
        starts = [first for first, _ in self.sheets] + [last + 1]
        for index, (first, footer) in enumerate(self.sheets):
            count = starts[index + 1] - first
            for number in range(1, count + 1):
                # fpdf2 draws on an earlier page when `page` is set back to it, but it still believes the
                # font of the page it left is selected, so the font must be written to this page again.
                pdf.page = first + number - 1
                self.use_font(scale=0.75)
                pdf.current_font_is_set_on_page = False
                pdf.set_xy(self.paper.margin, self.paper.height - self.paper.margin)
                pdf.cell(self.text_width, self.line_height(0.75), f"{footer} · Trang {number}/{count}", align="C")
        pdf.page = last
        return bytes(pdf.output())

    def close(self) -> None:
        """Close the font files, which fpdf2 opens lazily and leaves open, once the PDF is written or abandoned."""
        for font in self.pdf.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _break_unless_room(self, height: float) -> None:
        if self.pdf.will_page_break(height):
            self.pdf.add_page()

    def keep_together(self, height: float) -> None:
        """Start a new page unless a block of this height in mm fits on this one."""
        self._break_unless_room(height)

    def text_height(self, text: str, bold: bool = False, scale: float = 1.0, indent: float = 0.0) -> float:
        """Return the height in mm that text takes as a paragraph, measured without drawing it."""
        self.use_font(bold=bold, scale=scale)
        return self.pdf.multi_cell(self.text_width - indent, self.line_height(scale), clean(text), dry_run=True,
                                   output=MethodReturnValue.HEIGHT)

    def field_height(self, label: str, value: str, scale: float = 1.0) -> float:
        """Return the height of a field; measured all in bold, so never less than the drawn field."""
        return self.text_height(f"{clean(label)}: {clean(value) or '—'}", bold=True, scale=scale)

    def signature_height(self) -> float:
        """Return the height in mm of the signature block, the gap above it included."""
        return 3 + 3 * self.line_height() + self.line_height(0.8) + SIGNING_SPACE

    # Blocks.

    def letterhead(self, authority: str, station: str) -> None:
        """Draw the ward and health station at left and the national motto at right, as Vietnamese forms do."""
        pdf = self.pdf
        top = pdf.get_y()
        left_width = self.text_width * 0.42
        right_width = self.text_width - left_width
        right_x = self.paper.margin + left_width
        height = self.line_height(0.9)

        for text, style in ((clean(authority).upper(), "regular"), (clean(station).upper(), "bold")):
            self._fit_font(text, style, left_width - 1, 0.9)
            pdf.cell(left_width, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_xy(right_x, top)
        for text in (NATION, MOTTO):
            self._fit_font(text, "bold", right_width - 1, 0.9)
            pdf.cell(right_width, height, text, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        rule_y = pdf.get_y() + 0.6
        pdf.line(right_x + right_width * 0.3, rule_y, right_x + right_width * 0.7, rule_y)
        pdf.set_xy(self.paper.margin, top + 2 * height + 4)

    def _fit_font(self, text: str, style: str, width: float, scale: float) -> None:
        """Set the largest font, from body size times scale down to 0.6 times body size, at which text fits."""
        size = fit_size(text, style, self.size(scale), width, self.size(0.6))
        self.pdf.set_font(FAMILY, "B" if style == "bold" else "", size)

    def sheet_title(self, text: str, subtitle: str = "") -> None:
        """Write the sheet's title centred in capitals, shrunk to fit one line, and a subtitle under it."""
        pdf = self.pdf
        text = clean(text)
        self._fit_font(text, "bold", self.text_width, 1.45)
        pdf.cell(0, self.line_height(1.45), text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.use_font(scale=0.9)
            pdf.multi_cell(0, self.line_height(0.9), clean(subtitle), align="C", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
        pdf.ln(2)

    def heading(self, text: str) -> None:
        """Start a section: bold text over a thin rule, moved to a new page unless two lines fit under it."""
        pdf = self.pdf
        self._break_unless_room(self.line_height(1.05) + 2 * self.line_height() + 4)
        pdf.ln(1.5)
        self.use_font(bold=True, scale=1.05)
        pdf.cell(0, self.line_height(1.05), clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = pdf.get_y()
        pdf.line(self.paper.margin, y, self.paper.margin + self.text_width, y)
        pdf.ln(1)

    def field(self, label: str, value: str, bold_value: bool = True, scale: float = 1.0) -> None:
        """Write "label: value" as one paragraph that wraps under its start; an empty value prints as a dash."""
        pdf = self.pdf
        height = self.line_height(scale)
        pdf.set_x(self.paper.margin)
        self.use_font(scale=scale)
        pdf.write(height, clean(label) + ": ")
        self.use_font(bold=bold_value, scale=scale)
        pdf.write(height, clean(value) or "—")
        pdf.ln(height)

    def caption(self, label: str) -> None:
        """Write "label:" alone on a line, above a list."""
        self.paragraph(clean(label) + ":")

    def fields_row(self, pairs: list[tuple[str, str]]) -> None:
        """Write short "label: value" pairs on one line in equal columns, cutting a value that does not fit."""
        pdf = self.pdf
        width = self.text_width / len(pairs)
        height = self.line_height()
        pdf.set_x(self.paper.margin)
        for label, value in pairs:
            start = pdf.get_x()
            self.use_font()
            label_text = clean(label) + ": "
            label_width = pdf.get_string_width(label_text)
            pdf.cell(label_width, height, label_text)
            self.use_font(bold=True)
            room = width - label_width - 1
            pdf.cell(room, height, self._fitted(clean(value) or "—", room))
            pdf.set_x(start + width)
        pdf.ln(height)

    def _fitted(self, text: str, room: float) -> str:
        if self.pdf.get_string_width(text) <= room:
            return text
        while text and self.pdf.get_string_width(text + "…") > room:
            text = text[:-1]
        return text + "…"

    def paragraph(self, text: str, bold: bool = False, scale: float = 1.0, indent: float = 0.0) -> None:
        self.use_font(bold=bold, scale=scale)
        self.pdf.set_x(self.paper.margin + indent)
        self.pdf.multi_cell(self.text_width - indent, self.line_height(scale), clean(text), align="L",
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bullets(self, lines: list[str], scale: float = 1.0) -> None:
        """Write each line as an item after a dash, wrapped under its own text."""
        pdf = self.pdf
        indent = self.line_height(scale) * 1.2
        for line in lines:
            self.use_font(scale=scale)
            pdf.set_x(self.paper.margin + indent / 2)
            pdf.cell(indent / 2, self.line_height(scale), "–")
            pdf.multi_cell(self.text_width - indent, self.line_height(scale), clean(line), align="L",
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, headings: list[str], rows: list[tuple[list[str], str]], widths: tuple[float, ...],
              align: tuple[str, ...]) -> None:
        """Draw a table with a heading row repeated on each page.

        Each row is its cells and an emphasis: "" plain, "bold", or "strong" (bold on a gray fill).
        """
        styles = {"": FontFace(), "bold": FontFace(emphasis="BOLD"),
                  "strong": FontFace(emphasis="BOLD", fill_color=GRAY_FILL)}
        self.use_font(scale=0.95)
        with self.pdf.table(
            col_widths=widths, text_align=align, width=self.text_width, line_height=self.line_height(0.95),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES, padding=(0.4, 1.0), v_align="TOP",
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(clean(text))
            for cells, emphasis in rows:
                row = table.row()
                for text in cells:
                    row.cell(clean(text), style=styles[emphasis])
        self.pdf.ln(1)

    def closing(self, lines: list[tuple[str, str, float]], date_line: str, role: str, name: str) -> None:
        """Draw the last lines and the signature on one page, so the signature is never alone on a page.

        Each line is (label, text, scale): a field, or a plain paragraph when the label is empty.
        """
        heights = [self.field_height(label, text, scale) if label else self.text_height(text, scale=scale)
                   for label, text, scale in lines]
        self.keep_together(sum(heights) + self.signature_height())
        for label, text, scale in lines:
            if label:
                self.field(label, text, scale=scale)
            else:
                self.paragraph(text, scale=scale)
        self.signature(date_line, role, name)

    def signature(self, date_line: str, role: str, name: str) -> None:
        """Draw the place and date, the signer's role, room to sign and the signer's name at the right."""
        pdf = self.pdf
        self._break_unless_room(self.signature_height())
        pdf.ln(3)
        width = self.text_width * 0.55
        x = self.paper.margin + self.text_width - width
        pdf.set_x(x)
        self.use_font(scale=0.95)
        pdf.cell(width, self.line_height(), clean(date_line), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.use_font(bold=True)
        pdf.cell(width, self.line_height(), clean(role), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.use_font(scale=0.8)
        pdf.cell(width, self.line_height(0.8), "(Ký, ghi rõ họ tên)", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.ln(SIGNING_SPACE)
        pdf.set_x(x)
        self.use_font(bold=True)
        pdf.cell(width, self.line_height(), clean(name), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
