"""The central reports as tables with Vietnamese headers: the same rows feed the pages, CSV files and Excel.

The not-yet-examined list is written in the layout `fieldapp import` reads (fieldapp/columns.py maps
its headers), so a ward can import it as the invitation list of its next round. Its title row names
the group in words the importer recognises (fieldapp/groups.py), so a list of one group imports
into that group. Each person's groups are also written in the notes, where the importer finds
groups 1 to 3.
"""

import csv
import io
from pathlib import Path

from flask_babel import force_locale

from ..birthdates import parse_iso
from ..followup import COLUMNS as FOLLOW_UP_COLUMNS
from ..followup import table_rows as follow_up_rows
from ..groups import GROUPS
from .reports import (
    DIMENSIONS,
    CoverageRow,
    Filter,
    FindingTable,
    area_label,
    coverage,
    findings,
    follow_up,
    not_examined,
)
from .ward import Person, Ward

__all__ = ["FOLLOW_UP_COLUMNS", "follow_up_rows"]

SEX_TEXT = {"M": "Nam", "F": "Nữ"}
# Group names the importer's list rules recognise in a title (checked for all eight by a test).
GROUP_TITLES = {
    1: "người có công", 2: "người cao tuổi", 3: "hộ nghèo, cận nghèo, bảo trợ xã hội", 4: "người lao động, công chức",
    5: "công an, quân đội", 6: "sinh viên", 7: "học sinh, trẻ mầm non", 8: "trẻ dưới 2 tuổi và người khác",
}
# Findings are counted per group and per area; a class is too small a unit to read shares from.
FINDING_DIMENSIONS = ("group", "tdp", "school")
NOT_EXAMINED_COLUMNS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Địa chỉ", "Tổ dân phố",
                        "Lớp", "Họ tên phụ huynh", "SĐT phụ huynh", "Ghi chú", "Đã mời năm nay"]


def coverage_columns(by: str) -> list[str]:
    return [str(DIMENSIONS[by]), "Số người trong danh sách", "Đã mời", "Đã khám", "Chưa khám", "Tỷ lệ đã khám (%)"]


def coverage_rows(rows: list[CoverageRow], total: CoverageRow) -> list[list]:
    return [[row.label, row.people, row.invited, row.examined, row.not_examined, row.examined_percent]
            for row in [*rows, total]]


def finding_columns(table: FindingTable, by: str) -> list[str]:
    return [str(DIMENSIONS[by]), "Số người được đánh giá", *(table.class_label(code) for code in table.classes)]


def finding_rows(table: FindingTable) -> list[list]:
    return [[row.label, row.measured, *(row.counts.get(code, 0) for code in table.classes)]
            for row in [*table.rows, table.total]]


def list_title(year: int, chosen: Filter) -> str:
    """Return the not-yet-examined list's title: the year and the filter, in words the importer reads."""
    parts = [f"Danh sách chưa khám sức khỏe năm {year}"]
    if chosen.group is not None:
        parts.append(f"Nhóm {chosen.group}: {GROUP_TITLES[chosen.group]}")
    if chosen.tdp is not None:
        parts.append(area_label(chosen.tdp))
    if chosen.school is not None:
        parts.append(chosen.school)
    if chosen.class_name is not None:
        parts.append(f"Lớp {chosen.class_name}")
    return " - ".join(parts)


def not_examined_rows(people: list[Person]) -> list[list]:
    """Return one row per person in NOT_EXAMINED_COLUMNS; the CCCD column has the old CMND when there is no CCCD."""
    rows = []
    for number, person in enumerate(people, start=1):
        shown = person.payload
        birth = parse_iso(shown["birth_date"]).display() if shown.get("birth_date") else ""
        notes = "; ".join(f"Nhóm {group}: {GROUPS[group]}" for group in sorted(person.groups))
        rows.append([
            number, shown.get("full_name") or "", birth, SEX_TEXT.get(shown.get("sex") or "", ""),
            shown.get("cccd") or shown.get("cmnd") or "", shown.get("phone") or "", shown.get("address") or "",
            person.tdp, person.class_name, shown.get("parent_name") or "", shown.get("parent_phone") or "", notes,
            "Có" if person.invited else "Không",
        ])
    return rows


def write_csv(target: str | Path | io.TextIOBase, columns: list[str], rows: list[list], title: str = "") -> None:
    """Write a table as CSV in UTF-8 with a BOM (Excel opens it correctly), with an optional title row first."""
    if isinstance(target, (str, Path)):
        with Path(target).open("w", encoding="utf-8-sig", newline="") as handle:
            write_csv(handle, columns, rows, title)
        return
    writer = csv.writer(target)
    if title:
        writer.writerow([title])
    writer.writerow(columns)
    writer.writerows(["" if value is None else value for value in row] for row in rows)


def csv_bytes(columns: list[str], rows: list[list], title: str = "") -> bytes:
    """Return a table as CSV bytes for a download, UTF-8 with a BOM."""
    buffer = io.StringIO()
    write_csv(buffer, columns, rows, title)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_csv_folder(ward: Ward, folder: Path) -> list[Path]:
    """Write the report's tables as CSV files in folder, one per table; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with force_locale("vi"):
        for by in DIMENSIONS:
            rows, total = coverage(ward, by)
            written.append(_csv(folder / f"bao-phu-{by}.csv", coverage_columns(by), coverage_rows(rows, total)))
        for by in FINDING_DIMENSIONS:
            for table in findings(ward, by):
                written.append(_csv(folder / f"ket-qua-{table.category.code}-{by}.csv",
                                    finding_columns(table, by), finding_rows(table)))
        written.append(_csv(folder / "can-theo-doi.csv", FOLLOW_UP_COLUMNS,
                            follow_up_rows(follow_up(ward))))
        written.append(_csv(folder / "chua-kham.csv", NOT_EXAMINED_COLUMNS,
                            not_examined_rows(not_examined(ward)),
                            list_title(ward.year, Filter())))
    return written


def _csv(path: Path, columns: list[str], rows: list[list], title: str = "") -> Path:
    write_csv(path, columns, rows, title)
    return path
