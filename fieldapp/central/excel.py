"""The yearly Excel report of the central store: coverage, findings with native Excel charts, follow-up, not examined.

Headers are Vietnamese, for the ward's staff. The charts are Excel's own (openpyxl.chart), drawn from
the cells beside them, so they stay right when someone corrects a number in the workbook.
"""

import datetime as dt
from pathlib import Path
from typing import BinaryIO

import openpyxl
from flask_babel import force_locale
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..followup import COLUMN_WIDTHS as FOLLOW_UP_WIDTHS
from . import reports, tables
from .charts import COVERAGE_COLORS, class_colors
from .ward import Ward

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="E0F2F1")
WRAP = Alignment(wrap_text=True, vertical="top")
COVERAGE_SHEETS = {"group": "Bao phủ theo nhóm", "tdp": "Bao phủ theo tổ dân phố", "school": "Bao phủ theo trường",
                   "class": "Bao phủ theo lớp"}
FINDING_SHEETS = {"group": "Kết quả theo nhóm", "tdp": "Kết quả theo tổ dân phố", "school": "Kết quả theo trường"}
SUMMARY_LABELS = ("Số người trong danh sách", "Đã mời năm nay", "Đã khám năm nay", "Chưa khám", "Tỷ lệ đã khám (%)",
                  "Số người cần theo dõi")
# Rows a chart takes per bar, and at least, so that the labels of a long table do not overlap.
CHART_ROW_CM = 0.8
CHART_MIN_CM = 6.0


def write_report(ward: Ward, out: str | Path | BinaryIO) -> None:
    """Write the year's report: summary, coverage and findings per dimension, follow-up and not-examined lists."""
    with force_locale("vi"):
        book = openpyxl.Workbook()
        follow_up = reports.follow_up(ward)
        _summary(book.active, ward, len(follow_up))
        for by, title in COVERAGE_SHEETS.items():
            _coverage_sheet(book.create_sheet(title), ward, by)
        for by in tables.FINDING_DIMENSIONS:
            _findings_sheet(book.create_sheet(FINDING_SHEETS[by]), ward, by)
        _list_sheet(book.create_sheet("Cần theo dõi"), tables.FOLLOW_UP_COLUMNS, tables.follow_up_rows(follow_up),
                    FOLLOW_UP_WIDTHS)
        _list_sheet(book.create_sheet("Chưa khám"), tables.NOT_EXAMINED_COLUMNS,
                    tables.not_examined_rows(reports.not_examined(ward)),
                    [5, 28, 11, 8, 14, 13, 30, 16, 8, 24, 13, 40, 10])
        book.save(out)


def _header(sheet: Worksheet, row: int, columns: list[str]) -> None:
    for index, text in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=index, value=text)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = WRAP


def _summary(sheet: Worksheet, ward: Ward, follow_up_count: int) -> None:
    sheet.title = "Tổng hợp"
    sheet["A1"] = f"Báo cáo khám sức khỏe định kỳ năm {ward.year}"
    sheet["A1"].font = TITLE
    made = dt.datetime.now().astimezone().strftime("%H:%M ngày %d/%m/%Y")
    sheet["A2"] = f"Lập lúc {made} từ kho dữ liệu trung tâm"
    _, total = reports.coverage(ward, "group")
    values = (total.people, total.invited, total.examined, total.not_examined, total.examined_percent, follow_up_count)
    for offset, (label, value) in enumerate(zip(SUMMARY_LABELS, values)):
        sheet.cell(row=4 + offset, column=1, value=label).font = BOLD
        sheet.cell(row=4 + offset, column=2, value=value)
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 14


def _coverage_sheet(sheet: Worksheet, ward: Ward, by: str) -> None:
    rows, total = reports.coverage(ward, by)
    columns = tables.coverage_columns(by)
    _header(sheet, 1, columns)
    for row in tables.coverage_rows(rows, total):
        sheet.append(row)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    sheet.column_dimensions["A"].width = 44
    for letter in "BCDEF":
        sheet.column_dimensions[letter].width = 14
    sheet.freeze_panes = "A2"
    if rows:
        # Examined and not examined (columns D and E) stacked, one bar per row without the total.
        chart = _bar_chart(f"Đã khám và chưa khám theo {str(reports.DIMENSIONS[by]).lower()}", len(rows), "stacked")
        chart.add_data(Reference(sheet, min_col=4, max_col=5, min_row=1, max_row=len(rows) + 1), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(rows) + 1))
        for series, color in zip(chart.series, (COVERAGE_COLORS["examined"], COVERAGE_COLORS["not_invited"])):
            series.graphicalProperties.solidFill = color.lstrip("#")
        sheet.add_chart(chart, "H2")


def _findings_sheet(sheet: Worksheet, ward: Ward, by: str) -> None:
    row = 1
    sheet.column_dimensions["A"].width = 44
    sheet.column_dimensions["B"].width = 14
    for table in reports.findings(ward, by):
        sheet.cell(row=row, column=1, value=str(table.category.label)).font = TITLE
        row += 1
        if not table.total.measured:
            sheet.cell(row=row, column=1, value="Chưa có số liệu")
            row += 2
            continue
        header = row
        _header(sheet, header, tables.finding_columns(table, by))
        for values in tables.finding_rows(table):
            row += 1
            for column, value in enumerate(values, start=1):
                sheet.cell(row=row, column=column, value=value)
        for cell in sheet[row]:
            cell.font = BOLD
        _findings_chart(sheet, table, header, row)
        # The chart sits to the right of the table; the next table starts below whichever is longer.
        chart_rows = max(int(CHART_MIN_CM / 0.5), int((row - header) * CHART_ROW_CM / 0.5)) + 2
        row = max(row + 3, header + chart_rows)
    for column in range(3, 12):
        sheet.column_dimensions[get_column_letter(column)].width = 16


def _findings_chart(sheet: Worksheet, table: reports.FindingTable, header: int, last: int) -> None:
    """Chart each row's classes as shares of 100%, the total row included, from the table's own cells."""
    classes = table.classes
    bars = last - header
    chart = _bar_chart(str(table.category.label), bars, "percentStacked")
    chart.add_data(Reference(sheet, min_col=3, max_col=2 + len(classes), min_row=header, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=header + 1, max_row=last))
    colors = class_colors(classes)
    for series, code in zip(chart.series, classes):
        series.graphicalProperties.solidFill = colors[code].lstrip("#")
    sheet.add_chart(chart, f"{get_column_letter(len(classes) + 4)}{header}")


def _bar_chart(title: str, bars: int, grouping: str) -> BarChart:
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = grouping
    chart.overlap = 100
    chart.title = title
    # The legend goes below the bars, so long class names are not cut off at the chart's right edge.
    chart.legend.position = "b"
    chart.width = 18
    chart.height = max(CHART_MIN_CM, bars * CHART_ROW_CM + 4)
    chart.y_axis.majorGridlines = None
    # openpyxl 3.1 leaves the axes' delete flag unset, and some Excel and LibreOffice versions then hide them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    # Rows read top to bottom as in the table.
    chart.x_axis.scaling.orientation = "maxMin"
    return chart


def _list_sheet(sheet: Worksheet, columns: list[str], rows: list[list], widths: list[int]) -> None:
    _header(sheet, 1, columns)
    for values in rows:
        # Telephone and ID numbers stay text, so Excel keeps their leading zeros.
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.alignment = WRAP
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
