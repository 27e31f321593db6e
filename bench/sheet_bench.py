"""Result sheet drawing time: fonts embedded with their stored glyph bounds, against bounds recomputed.

Usage:
    .venv/bin/python bench/sheet_bench.py [--rounds 30]

The sheets are those of tests/test_sheets.py: an adult with raised blood pressure and glucose, 10
values and a referral (the person's A4 sheet), and a pupil of class 2A (the parents' A4 sheet). Their
content is read from the database once, and each round draws both sheets both ways in this process,
in turn, as a sheet worker draws them. "recomputed" is fpdf2's default: on saving each embedded font,
fontTools unpacks every glyph of the subset and recomputes its bounding box. "stored" keeps the bounds
stored in the font, as fieldapp does (`keep_glyph_bounds` in fieldapp/slips/fonts.py). The figures are medians in milliseconds of
wall time. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from flask_babel import force_locale
from test_sheets import make_adult_visit, make_app, make_pupil_visit, make_ward_file

from fieldapp.db import DATABASE_NAME, connect
from fieldapp.sheets import content as sheet_content
from fieldapp.sheets import document, draw_result_sheet


def timed(draw) -> float:
    started = time.perf_counter()
    draw()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="Times each sheet is drawn each way.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sheet-bench-") as folder:
        ward_file = make_ward_file(Path(folder))
        data_dir = Path(folder) / "site"
        data_dir.mkdir()
        app = make_app(data_dir, ward_file)
        with app.app_context():
            db = connect(data_dir / DATABASE_NAME)
            with force_locale("vi"):
                sheets = {"adult": (sheet_content.load(db, make_adult_visit(db)), False),
                          "pupil_parents": (sheet_content.load(db, make_pupil_visit(db)), True)}
            db.conn.close()

    keep_bounds = document.keep_glyph_bounds
    ways = {"stored": keep_bounds, "recomputed": lambda pdf: None}
    times = {(sheet, way): [] for sheet in sheets for way in ways}
    for _ in range(args.rounds):
        for sheet, (content, parents) in sheets.items():
            for way, keep in ways.items():
                document.keep_glyph_bounds = keep
                times[sheet, way].append(timed(lambda: draw_result_sheet(content, "A4", parents)))
    document.keep_glyph_bounds = keep_bounds

    figures = {}
    print(f"{'sheet':<16}{'stored ms':>10}{'recomputed ms':>15}{'ratio':>8}")
    for sheet in sheets:
        stored = statistics.median(times[sheet, "stored"])
        recomputed = statistics.median(times[sheet, "recomputed"])
        figures[sheet] = {"stored_ms": round(stored, 1), "recomputed_ms": round(recomputed, 1),
                          "ratio": round(stored / recomputed, 2)}
        print(f"{sheet:<16}{stored:>10.1f}{recomputed:>15.1f}{stored / recomputed:>8.2f}")
    print(json.dumps({"rounds": args.rounds, "sheets": figures}))


if __name__ == "__main__":
    main()
