"""Write the bundled DejaVu Sans cut down to the characters of Vietnamese text, for the result sheets.

fpdf2 reads the whole font file for every document it makes, and DejaVu Sans has about 6,000 glyphs.
The cut-down files keep about 1,300, and a result sheet takes about 65 ms of CPU with them instead of 110.
Text with a character outside them still prints: fieldapp/sheets/document.py then adds the full fonts.

    python tools/subset_fonts.py

The script reads fieldapp/static/fonts/DejaVuSans*-2.37.ttf and writes the files of
fieldapp.slips.fonts.SHEET_FONT_FILES next to them. It downloads nothing.
"""

from fontTools import subset
from fontTools.ttLib import TTFont

from fieldapp.slips.fonts import FONT_FILES, SHEET_CHARACTERS, SHEET_FONT_FILES


def write_subset(source, target) -> int:
    """Write the glyphs of SHEET_CHARACTERS from source to target; return how many glyphs the file has."""
    options = subset.Options()
    # Keep the names (the licence notice is in the name table), hinting and every layout feature unchanged.
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    options.recalc_timestamp = False
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(SHEET_CHARACTERS))
    subsetter.subset(font)
    font.save(target)
    return len(font.getGlyphOrder())


def main() -> None:
    for style, target in SHEET_FONT_FILES.items():
        glyphs = write_subset(FONT_FILES[style], target)
        print(f"{target.name}: {glyphs} glyphs, {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
