"""Printed invitation slips: A4 or A5 sheets of slips with a QR code and a barcode, and a cover list per bundle.

`render_slips` draws with either of two engines from the same page plan (see layout.py),
so both print the same pages and pass the same tests. DEFAULT is fpdf2 because it rendered
5,000 slips (a4-8, 875 pages) in a median 10.3 s against ReportLab's 12.9 s on a 2-core
AMD EPYC, and wrote a smaller PDF (5.1 against 6.7 MB). ReportLab peaked about 13 %
lower in memory (232 against 265 MB), and both are well under the 500 MB target.
Figures and command: BENCHMARKS.md, bench/slips_bench.py.
"""

import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from fieldapp.slips.layout import LAYOUTS, Page
from fieldapp.slips.model import Bundle, Slip
from fieldapp.slips.pages import plan_pages

ENGINES = ("fpdf2", "reportlab")
DEFAULT = "fpdf2"

__all__ = ["DEFAULT", "ENGINES", "LAYOUTS", "Bundle", "Slip", "render_slips"]


def render_slips(
    bundles: list[Bundle],
    out: str | os.PathLike | BinaryIO,
    layout: str = "a4-8",
    engine: str = DEFAULT,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the bundles' cover lists and slips as one PDF to `out` and return its page count.

    `out` is a path or a binary file object. Each bundle starts on a new page with its
    cover list. `progress(done, total)` is called with the number of slips drawn after
    each page of slips, in increasing order, ending at the total (once with (0, 0) when
    there are no slips). Raises ValueError for an unknown layout or engine or an empty
    list of bundles.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown slip layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if engine not in ENGINES:
        raise ValueError(f"unknown PDF engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if not bundles:
        raise ValueError("no bundles to print; pass at least one Bundle")
    if engine == "fpdf2":
        from fieldapp.slips.fpdf_engine import render
    else:
        from fieldapp.slips.reportlab_engine import render

    total = sum(len(bundle.slips) for bundle in bundles)
    page_layout = LAYOUTS[layout]
    pages = plan_pages(bundles, page_layout)
    if progress is not None:
        pages = _report_progress(pages, progress, total)
    title = next((bundle.slips[0].title for bundle in bundles if bundle.slips), "Giấy mời")
    if isinstance(out, (str, os.PathLike)):
        with open(out, "wb") as file:
            return render(pages, page_layout, file, title)
    return render(pages, page_layout, out, title)


def _report_progress(pages: Iterator[Page], progress: Callable[[int, int], None], total: int) -> Iterator[Page]:
    """Pass pages through, calling `progress` once the engine has drawn each page of slips."""
    reported = 0
    for page in pages:
        yield page
        # The engine requests the next page only after drawing this one.
        if page.slips_done > reported:
            reported = page.slips_done
            progress(reported, total)
    if total == 0:
        progress(0, 0)
