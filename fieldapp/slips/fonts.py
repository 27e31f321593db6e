"""The bundled DejaVu fonts (version 2.37) and their advance widths, shared by both PDF engines.

Both engines place each string from widths computed here, so text wraps and shrinks the
same way in either. Neither engine kerns or shapes text by default, so a string's drawn
width is the sum of its glyphs' advance widths.
"""

from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
# Style name -> file. DejaVu Sans covers every precomposed Vietnamese letter (U+1EA0-U+1EF9).
# NOTE: DejaVu Sans Mono Bold lacks some of those letters, so it prints digits only (the short code).
FONT_FILES = {
    "regular": FONT_DIR / "DejaVuSans-2.37.ttf",
    "bold": FONT_DIR / "DejaVuSans-Bold-2.37.ttf",
    "mono": FONT_DIR / "DejaVuSansMono-Bold-2.37.ttf",
}
# The result sheets use DejaVu Sans cut down to these characters (tools/subset_fonts.py writes the files):
# Latin with every Vietnamese letter, combining marks, punctuation, units and a few symbols.
SHEET_RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0300, 0x036F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
    (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2190, 0x2199), (0x2211, 0x2212),
    (0x2215, 0x2215), (0x221A, 0x221A), (0x221E, 0x221E), (0x2248, 0x2248), (0x2260, 0x2265),
    (0x25A0, 0x25A1), (0x25CB, 0x25CF), (0x2610, 0x2612), (0x2713, 0x2718),
)
SHEET_CHARACTERS = frozenset(code for first, last in SHEET_RANGES for code in range(first, last + 1))
SHEET_FONT_FILES = {
    "regular": FONT_DIR / "DejaVuSans-vi-2.37.ttf",
    "bold": FONT_DIR / "DejaVuSans-Bold-vi-2.37.ttf",
}
MM_PER_PT = 25.4 / 72


class FontMetrics:
    """Advance widths of one TrueType font, in em units."""

    def __init__(self, path: Path):
        font = TTFont(path, lazy=True)
        units_per_em = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        self._widths = {
            code: metrics[glyph][0] / units_per_em for code, glyph in font.getBestCmap().items()
        }
        self._missing_width = metrics[".notdef"][0] / units_per_em
        font.close()

    def width_mm(self, text: str, size_pt: float) -> float:
        """Return the width of `text` set at `size_pt` points, in millimetres."""
        widths = self._widths
        missing = self._missing_width
        ems = sum(widths.get(ord(char), missing) for char in text)
        return ems * size_pt * MM_PER_PT


@cache
def metrics(style: str) -> FontMetrics:
    """Return the cached metrics of one of FONT_FILES' styles."""
    return FontMetrics(FONT_FILES[style])


def text_width(text: str, style: str, size_pt: float) -> float:
    """Return the width of `text` in millimetres."""
    return metrics(style).width_mm(text, size_pt)


def fit_size(text: str, style: str, size_pt: float, max_width: float, min_size_pt: float) -> float:
    """Return the largest size, from `size_pt` down to `min_size_pt`, at which `text` fits `max_width` mm."""
    width = text_width(text, style, size_pt)
    if width <= max_width:
        return size_pt
    return max(min_size_pt, size_pt * max_width / width)


def wrap(text: str, style: str, size_pt: float, max_width: float) -> list[str]:
    """Split `text` into lines no wider than `max_width` mm, breaking between words.

    A single word wider than the line stays whole on its own line.
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, style, size_pt) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


@cache
def sheet_coverage() -> frozenset[int]:
    """Return the code points that both cut-down sheet fonts can print."""
    covered = None
    for path in SHEET_FONT_FILES.values():
        font = TTFont(path, lazy=True)
        codes = frozenset(font.getBestCmap())
        font.close()
        covered = codes if covered is None else covered & codes
    return covered


def keep_glyph_bounds(pdf) -> None:
    """Make an fpdf2 document embed its TrueType fonts with each glyph's stored bounding box.

    fpdf2 embeds the subset of glyphs a document uses. By default fontTools unpacks and recompiles
    every glyph of that subset to recompute bounds that subsetting does not change: about a fifth of
    a result sheet's time. Call it again after adding a font.
    """
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.recalcBBoxes = False
