"""Write roster tables to .csv or .xlsx, chosen by the file name's extension."""

import csv
from pathlib import Path

import openpyxl
import sqlite_utils

from .crosscheck import disagreements
from .errors import FieldappError

SOURCE_COLUMNS = ["file", "sheet", "row", "person_id"]
PEOPLE_COLUMNS = ["person_id", "full_name", "sex", "birth_date", "cccd", "groups"]
CROSSCHECK_COLUMNS = [
    "person_id", "cccd", "fields", "full_name", "birth_date", "sex",
    "population_name", "population_birth_date", "population_sex", "population_file", "population_row",
]


def source_rows(db: sqlite_utils.Database) -> list[list]:
    """Return one row per imported data row: file, sheet, row number, person id."""
    return [
        list(row)
        for row in db.execute(
            "SELECT file_name, sheet, row_no, person_id FROM source_row ORDER BY file_name, sheet, row_no"
        ).fetchall()
    ]


def people_rows(db: sqlite_utils.Database) -> list[list]:
    """Return one row per person in Vietnamese name order, groups joined by ";"."""
    return [
        list(row)
        for row in db.execute(
            "SELECT id, full_name, sex, birth_date, cccd, groups FROM person ORDER BY sort_key, birth_date"
        ).fetchall()
    ]


def crosscheck_rows(db: sqlite_utils.Database) -> list[list]:
    """Return the cross-check disagreements as rows of CROSSCHECK_COLUMNS."""
    rows = []
    for item in disagreements(db):
        item = dict(item, fields=";".join(item["fields"]))
        rows.append([item[column] for column in CROSSCHECK_COLUMNS])
    return rows


def write_table(path: Path, columns: list[str], rows: list[list]) -> None:
    """Write a header and rows to path as CSV (UTF-8 with BOM, which Excel opens correctly) or .xlsx."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(["" if value is None else value for value in row] for row in rows)
        return
    if suffix == ".xlsx":
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(columns)
        for row in rows:
            # Text cells keep ID numbers' leading zeros.
            sheet.append(["" if value is None else value for value in row])
        book.save(path)
        return
    raise FieldappError("export_format", file=path.name)
