"""Page geometry shared by both PDF engines: page sizes, the slip grid, cut marks, page order.

Everything is measured in millimetres from the page's top left corner. Pages are lists of
drawing operations (`Text`, `Fill`, `Line`) that each engine only executes, so both
engines print the same page.
"""

from dataclasses import dataclass, field

# The slip design is drawn for a box of this size and scaled to fit each layout's cell.
SLIP_WIDTH = 100.0
SLIP_HEIGHT = 71.25
CUT_MARK_LENGTH = 3.0
CUT_MARK_GAP = 1.0  # between a mark in the page margin and the slip it points at
CUT_MARK_WIDTH = 0.15
CUT_MARK_GRAY = 0.35


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; `y` is its baseline."""

    x: float
    y: float
    text: str
    style: str  # a key of fonts.FONT_FILES
    size: float  # points


@dataclass(frozen=True, slots=True)
class Fill:
    """Black rectangles filled as one path: QR modules or barcode bars."""

    rects: list[tuple[float, float, float, float]]  # x, y, width, height


@dataclass(frozen=True, slots=True)
class Line:
    """A straight stroke."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float  # millimetres
    gray: float = 0.0  # 0 black, 1 white


Op = Text | Fill | Line


@dataclass
class Page:
    """One page's drawing operations, and how many slips are drawn once it is finished."""

    ops: list[Op] = field(default_factory=list)
    slips_done: int = 0


@dataclass(frozen=True)
class PageLayout:
    """A grid of equal slip cells on a page, with the page margin left around the grid."""

    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    margin_x: float
    margin_y: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def cell_width(self) -> float:
        return (self.page_width - 2 * self.margin_x) / self.columns

    @property
    def cell_height(self) -> float:
        return (self.page_height - 2 * self.margin_y) / self.rows

    @property
    def scale(self) -> float:
        """Factor from the slip design's millimetres to this layout's."""
        return min(self.cell_width / SLIP_WIDTH, self.cell_height / SLIP_HEIGHT)

    def cell_origin(self, index: int) -> tuple[float, float]:
        """Return the top left corner of the slip drawn in cell `index` (row by row)."""
        row, column = divmod(index, self.columns)
        slack_x = (self.cell_width - SLIP_WIDTH * self.scale) / 2
        slack_y = (self.cell_height - SLIP_HEIGHT * self.scale) / 2
        return (
            self.margin_x + column * self.cell_width + slack_x,
            self.margin_y + row * self.cell_height + slack_y,
        )


# The margins keep every mark inside the printable area of ordinary office printers
# (about 4-5 mm), so an a4-8 slip is 100 x 71.25 mm, not a full A7 (105 x 74 mm).
LAYOUTS = {
    "a4-8": PageLayout("a4-8", 210.0, 297.0, columns=2, rows=4, margin_x=5.0, margin_y=6.0),
    "a5-2": PageLayout("a5-2", 148.0, 210.0, columns=1, rows=2, margin_x=5.0, margin_y=6.0),
}


def cut_marks(layout: PageLayout) -> list[Line]:
    """Return crop marks in the page margin at every cut line, and crosses where inner cut lines meet."""
    marks = []
    left = layout.margin_x
    right = layout.page_width - layout.margin_x
    top = layout.margin_y
    bottom = layout.page_height - layout.margin_y
    xs = [left + column * layout.cell_width for column in range(layout.columns + 1)]
    ys = [top + row * layout.cell_height for row in range(layout.rows + 1)]

    def mark(x1: float, y1: float, x2: float, y2: float) -> None:
        marks.append(Line(x1, y1, x2, y2, CUT_MARK_WIDTH, CUT_MARK_GRAY))

    for x in xs:
        mark(x, top - CUT_MARK_GAP, x, top - CUT_MARK_GAP - CUT_MARK_LENGTH)
        mark(x, bottom + CUT_MARK_GAP, x, bottom + CUT_MARK_GAP + CUT_MARK_LENGTH)
    for y in ys:
        mark(left - CUT_MARK_GAP, y, left - CUT_MARK_GAP - CUT_MARK_LENGTH, y)
        mark(right + CUT_MARK_GAP, y, right + CUT_MARK_GAP + CUT_MARK_LENGTH, y)
    half = CUT_MARK_LENGTH / 2
    for x in xs:
        for y in ys:
            inner_x = left < x < right
            inner_y = top < y < bottom
            if inner_x and (top <= y <= bottom):
                mark(x, max(top, y - half), x, min(bottom, y + half))
            if inner_y and (left <= x <= right):
                mark(max(left, x - half), y, min(right, x + half), y)
    return marks
