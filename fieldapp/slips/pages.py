"""The order of pages in a print run: each bundle's cover list, then its slips."""

from collections.abc import Iterator

from fieldapp.slips.codes import qr_symbols, worker_count
from fieldapp.slips.cover import cover_pages
from fieldapp.slips.layout import Page, PageLayout, cut_marks
from fieldapp.slips.model import Bundle
from fieldapp.slips.slip_design import slip_ops


def plan_pages(bundles: list[Bundle], layout: PageLayout) -> Iterator[Page]:
    """Yield every page: for each bundle its cover list, then its slips, `layout.per_page` to a page.

    Pages are built one at a time as the engine requests them, so the drawing operations of
    only one page are held at once.
    """
    marks = cut_marks(layout)
    tokens = [slip.token for bundle in bundles for slip in bundle.slips]
    symbols = qr_symbols(tokens, worker_count(len(tokens)))
    done = 0
    for bundle in bundles:
        for ops in cover_pages(bundle, layout.page_width, layout.page_height):
            yield Page(ops, done)
        for first in range(0, len(bundle.slips), layout.per_page):
            page = Page(list(marks))
            for index, slip in enumerate(bundle.slips[first:first + layout.per_page]):
                x, y = layout.cell_origin(index)
                page.ops.extend(slip_ops(slip, x, y, layout.scale, next(symbols)))
                done += 1
            page.slips_done = done
            yield page
