"""Charts of the central reports as SVG drawn here: one stacked bar per row, with a legend.

The SVG is written here rather than by a charting library, because the charts are plain bars. The
browser draws the Vietnamese text with its own fonts, the page needs no script (the
Content-Security-Policy allows none from elsewhere), and nothing more is installed on Windows or
Linux. Excel reports get native Excel charts instead (excel.py).
"""

from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

from markupsafe import Markup

from ..clinical.bands import rules
from .reports import NOT_REFERRED, REFERRED, CoverageRow, FindingTable

WIDTH = 760
LABEL_WIDTH = 250
COUNT_WIDTH = 70
BAR_HEIGHT = 22
ROW_GAP = 8
LEGEND_ROW = 22
FONT = "font-family=\"system-ui, 'Segoe UI', Roboto, Arial, sans-serif\" font-size=\"13\""
# Shades from light to dark per flag; classes of the same flag take the next shade.
SHADES = {
    "normal": ("#2e7d32", "#66bb6a", "#a5d6a7"),
    "unusual": ("#f9a825", "#fdd835", "#ffb300"),
    "abnormal": ("#ef6c00", "#d84315", "#c62828", "#8e24aa", "#6a1b9a", "#4a148c"),
    "red": ("#b71c1c",),
    None: ("#90a4ae",),
}
COVERAGE_COLORS = {"examined": "#2e7d32", "invited": "#f9a825", "not_invited": "#b0bec5"}
MAX_LABEL_CHARS = 34


@dataclass(frozen=True)
class Segment:
    """One part of a bar: its legend key, count and colour."""

    key: str
    label: str
    count: int
    color: str


@cache
def class_flags() -> dict[str, str]:
    """Return the flag of every class code in thresholds.json, for colouring; referrals count as unusual."""
    flags = {REFERRED: "unusual", NOT_REFERRED: "normal"}
    for rule in rules():
        if rule.get("kind") == "blood_pressure":
            flags.update(rule["flags"])
            flags[rule["isolated_systolic"]["class"]] = rule["isolated_systolic"]["flag"]
            flags[rule["low"]["class"]] = rule["low"]["flag"]
            continue
        for band in rule["bands"]:
            flags.setdefault(band["class"], band["flag"])
    return flags


def class_colors(codes: list[str]) -> dict[str, str]:
    """Return a colour per class code: green for normal classes, amber for borderline ones, then darker reds."""
    used: dict[str | None, int] = {}
    colors = {}
    for code in codes:
        flag = class_flags().get(code)
        shades = SHADES.get(flag, SHADES[None])
        colors[code] = shades[min(used.get(flag, 0), len(shades) - 1)]
        used[flag] = used.get(flag, 0) + 1
    return colors


def findings_chart(table: FindingTable, title: str) -> Markup:
    """Draw a findings table: a bar per row, split into its classes as shares of the people assessed."""
    colors = class_colors(table.classes)
    bars = [(row.label, [Segment(code, table.class_label(code), row.counts.get(code, 0), colors[code])
                         for code in table.classes]) for row in [table.total, *table.rows]]
    legend = [Segment(code, table.class_label(code), table.total.counts.get(code, 0), colors[code])
              for code in table.classes]
    return stacked_bars(title, bars, legend)


def coverage_chart(rows: list[CoverageRow], total: CoverageRow, title: str, labels: dict[str, str]) -> Markup:
    """Draw coverage: per row, people examined, invited but not examined, and not invited."""

    def parts(row: CoverageRow) -> list[Segment]:
        waiting = row.invited_not_examined
        return [Segment("examined", labels["examined"], row.examined, COVERAGE_COLORS["examined"]),
                Segment("invited", labels["invited"], waiting, COVERAGE_COLORS["invited"]),
                Segment("not_invited", labels["not_invited"], row.people - row.examined - waiting,
                        COVERAGE_COLORS["not_invited"])]

    bars = [(row.label, parts(row)) for row in [total, *rows]]
    return stacked_bars(title, bars, parts(total))


def stacked_bars(title: str, bars: list[tuple[str, list[Segment]]], legend: list[Segment]) -> Markup:
    """Return an SVG element: one 100% bar per (label, segments), the count of people after it, a legend below.

    The title is the SVG's accessible name only; the page shows it as a heading.
    """
    plot = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    top = 4
    parts = []
    for index, (label, segments) in enumerate(bars):
        y = top + index * (BAR_HEIGHT + ROW_GAP)
        total = sum(segment.count for segment in segments)
        parts.append(_label(label, y, bold=index == 0))
        parts.extend(_segments(segments, total, y, plot))
        parts.append(f'<text x="{LABEL_WIDTH + plot + 8}" y="{y + 16}">n = {total}</text>')

    y = top + len(bars) * (BAR_HEIGHT + ROW_GAP) + 10
    for index, segment in enumerate(legend):
        row_y = y + index * LEGEND_ROW
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{row_y}" width="14" height="14" fill="{segment.color}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + 20}" y="{row_y + 12}">{escape(segment.label)}: {segment.count}</text>')
    height = y + len(legend) * LEGEND_ROW + 4
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" {FONT}><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def _label(label: str, y: int, bold: bool) -> str:
    shown = label if len(label) <= MAX_LABEL_CHARS else label[:MAX_LABEL_CHARS - 1] + "…"
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="0" y="{y + 16}"{weight}><title>{escape(label)}</title>{escape(shown)}</text>'


def _segments(segments: list[Segment], total: int, y: int, plot: int) -> list[str]:
    if not total:
        return [f'<rect x="{LABEL_WIDTH}" y="{y}" width="{plot}" height="{BAR_HEIGHT}" fill="#eceff1"/>']
    parts = []
    x = float(LABEL_WIDTH)
    for segment in segments:
        if not segment.count:
            continue
        width = plot * segment.count / total
        percent = round(100 * segment.count / total)
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{segment.color}">'
                     f'<title>{escape(segment.label)}: {segment.count} ({percent}%)</title></rect>')
        if width >= 36:
            parts.append(f'<text x="{x + width / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="{_ink(segment.color)}">'
                         f'{percent}%</text>')
        x += width
    return parts


def _ink(color: str) -> str:
    """Return black or white, whichever reads better on a fill colour (WCAG relative luminance)."""
    red, green, blue = (int(color[index:index + 2], 16) / 255 for index in (1, 3, 5))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return "#000000" if luminance > 0.179 else "#ffffff"
