"""Read lists into cleaned records with a report, then store them: all files of a run, or none."""

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import roster
from .columns import Layout, apply_override, detect_layout, has_name_column
from .db import new_id, now, write
from .errors import FileProblem
from .groups import format_groups, guess_list_group
from .records import FOOTER, Context, Record, RowProblem, build_record, is_blank
from .spreadsheet import Workbook, read_workbook
from .text import clean, fold

PREVIEW_ROWS = 10
# Rows listed per warning kind in a report; a 50,000-row list with one habit would otherwise repeat it 50,000 times.
MAX_REPORTED_WARNINGS = 500


@dataclass
class SheetResult:
    """One sheet's layout, its clean records and the rows left out."""

    name: str
    layout: Layout
    detected: dict[int, str] = field(default_factory=dict)  # the mapping before the officer's corrections
    records: list[Record] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    sex_convention: str = "1_0"


@dataclass
class ParsedFile:
    """A file read and cleaned but not yet stored."""

    path: Path
    name: str
    sha256: str
    kind: str
    workbook: Workbook
    list_group: int | None
    group_guessed: bool
    sheets: list[SheetResult]
    status: str = "new"
    same_as: str | None = None  # an imported file with the same bytes
    renamed_from: str | None = None  # another list had this name, so this one was stored as `name`

    @property
    def records(self) -> list[tuple[str, Record]]:
        return [(sheet.name, record) for sheet in self.sheets for record in sheet.records]

    @property
    def problems(self) -> list[tuple[str, RowProblem]]:
        return [(sheet.name, problem) for sheet in self.sheets for problem in sheet.problems]

    def converted_rows(self) -> list[tuple[str, int, str]]:
        """Return (sheet, row, encoding) for every row converted from TCVN3 or VNI."""
        return [(sheet, record.row, record.legacy) for sheet, record in self.records if record.legacy]


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sex_convention(values: list[object]) -> str:
    """Return "1_2" when a sex column's digits include 2 (claims XML coding), else "1_0"."""
    digits = {clean(value) for value in values} & {"0", "1", "2"}
    return "1_2" if "2" in digits else "1_0"


def parse_file(
    path: Path,
    on: dt.date,
    list_group: int | None = None,
    kind: str = "list",
    display_name: str | None = None,
    overrides: dict[str, dict[int, str | None]] | None = None,
) -> ParsedFile:
    """Read and clean one file; raise FileProblem if no sheet of it can be imported."""
    name = display_name or path.name
    if not path.is_file():
        raise FileProblem("file_not_found", file=name)

    workbook = read_workbook(path, name)
    sha = file_digest(path)
    overrides = overrides or {}

    layouts = [(sheet, detect_layout(sheet)) for sheet in workbook.sheets]
    found = [(sheet, layout) for sheet, layout in layouts if layout]
    if not found:
        has_content = any(not is_blank(values) for sheet in workbook.sheets for _, values in sheet.rows)
        raise FileProblem("no_header" if has_content else "file_empty", file=name)

    group_guessed = False
    if list_group is None and kind == "list":
        titles = [layout.title for _, layout in found]
        list_group = guess_list_group(Path(name).stem.replace("-", " ").replace("_", " "), *titles, *(s.name for s, _ in found))
        group_guessed = list_group is not None

    sheets = []
    for sheet, detected in found:
        layout = apply_override(detected, overrides.get(detected.signature(), {}))
        if not has_name_column(layout.mapping):
            raise FileProblem("no_name_column", file=name, sheet=sheet.name if len(workbook.sheets) > 1 else "")
        result = _clean_sheet(sheet, layout, name, on, list_group)
        result.detected = dict(detected.mapping)
        sheets.append(result)

    if not any(result.records or result.problems for result in sheets):
        raise FileProblem("no_rows", file=name)
    return ParsedFile(path, name, sha, kind, workbook, list_group, group_guessed, sheets)


def _clean_sheet(sheet, layout: Layout, file_name: str, on: dt.date, list_group: int | None) -> SheetResult:
    sex_columns = [index for index, name in layout.mapping.items() if name == "sex"]
    data_rows = sheet.rows[layout.data_start:]
    convention = _sex_convention([values[i] for _, values in data_rows for i in sex_columns if i < len(values)])
    context = Context(file_name, sheet.name, on, list_group, layout.title, convention)

    result = SheetResult(sheet.name, layout, sex_convention=convention)
    household = ""
    after_footer = False
    for number, values in data_rows:
        if is_blank(values):
            continue
        built = build_record(number, values, layout.mapping, context)
        if built == FOOTER:
            after_footer = True
        elif isinstance(built, RowProblem):
            if not after_footer:
                result.problems.append(built)
        elif built is not None:
            # Under a totals or signature line, a bare name is the signer, not a person to invite.
            if after_footer and not (built.birth or built.cccd or built.cmnd or built.phone):
                continue
            household = _household(built, household, sheet.name)
            result.records.append(built)
    return result


def _household(record: Record, current: str, sheet: str) -> str:
    """Give members the household of the head above them, as merged cells in household lists mean."""
    is_head = fold(record.relation) in ("chu ho", "chu ho gia dinh")
    if record.household:
        return record.household
    if is_head:
        record.household = f"{sheet}:{record.row}"
    elif record.relation and current:
        record.household = current
    return record.household or current


def import_files(
    db: sqlite_utils.Database,
    paths: list[Path],
    on: dt.date,
    list_group: int | None = None,
    kind: str = "list",
    overrides: dict | None = None,
    names: list[str] | None = None,
) -> list[ParsedFile]:
    """Parse every file first, then store them all in one transaction and relink the roster.

    Raises FileProblem for the first file that cannot be read; nothing is written then.
    """
    parsed = [
        parse_file(path, on, list_group, kind, display_name=names[index] if names else None, overrides=overrides)
        for index, path in enumerate(paths)
    ]

    with write(db):
        for item in parsed:
            item.status = store_file(db, item, on)
        if kind == "list" and any(item.status != "unchanged" for item in parsed):
            roster.relink(db, on)
    return parsed


def store_file(db: sqlite_utils.Database, item: ParsedFile, on: dt.date) -> str:
    """Store one parsed file, replacing an earlier version of the same list; return what happened.

    The same bytes under any name change nothing. A file named like an imported one is its
    corrected version if most of its people are in the old one; otherwise it is another list
    (lists from chat apps are often all called "Danh sách.xlsx") and is stored under a new name.
    """
    same_bytes = db.execute("SELECT name FROM source_file WHERE sha256 = ?", [item.sha256]).fetchone()
    if same_bytes:
        item.same_as = same_bytes[0]
        return "unchanged"

    previous = db.execute("SELECT id FROM source_file WHERE name = ?", [item.name]).fetchone()
    if previous and not _is_correction(db, previous[0], item):
        item.renamed_from, item.name = item.name, _free_name(db, item.name)
        previous = None

    file_id = previous[0] if previous else new_id()
    earlier = _earlier_people(db, file_id)
    if previous:
        db.execute("DELETE FROM population_row WHERE file_id = ?", [file_id])
        db.execute("DELETE FROM source_row WHERE file_id = ?", [file_id])
        db.execute("DELETE FROM source_file WHERE id = ?", [file_id])

    db["source_file"].insert(
        {
            "id": file_id,
            "name": item.name,
            "sha256": item.sha256,
            "kind": item.kind,
            "list_group": item.list_group,
            "encoding": item.workbook.encoding,
            "imported_at": now(),
            "report": json.dumps(report_of(item, on), ensure_ascii=False),
        }
    )
    if item.kind == "population":
        db["population_row"].insert_all(_population_rows(item, file_id))
    else:
        db["source_row"].insert_all(_source_rows(item, file_id, earlier), batch_size=500)
    return "replaced" if previous else "imported"


def _person_key(name: str, birth: str | None) -> str:
    return f"{fold(name)}|{(birth or '')[:4]}"


def _is_correction(db: sqlite_utils.Database, file_id: str, item: ParsedFile) -> bool:
    """True if at least half the people of the new file are in the stored file of the same name."""
    table = "population_row" if item.kind == "population" else "source_row"
    old = {_person_key(name, birth) for name, birth in
           db.execute(f"SELECT full_name, birth_date FROM {table} WHERE file_id = ?", [file_id]).fetchall()}
    new = [_person_key(record.full_name, record.birth.iso() if record.birth else None) for _, record in item.records]
    return bool(new) and sum(key in old for key in new) >= len(new) / 2


def _free_name(db: sqlite_utils.Database, name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    base, ending = (stem, dot + suffix) if dot else (name, "")
    number = 2
    while db.execute("SELECT 1 FROM source_file WHERE name = ?", [f"{base} ({number}){ending}"]).fetchone():
        number += 1
    return f"{base} ({number}){ending}"


def _earlier_people(db: sqlite_utils.Database, file_id: str) -> dict:
    """Return the stored rows' people by row id, and by (sheet, row) with the row's CCCD and birth date."""
    rows = db.execute("SELECT id, sheet, row_no, person_id, cccd, birth_date FROM source_row WHERE file_id = ?",
                      [file_id]).fetchall()
    return {
        "by_id": {row_id: person for row_id, _, _, person, _, _ in rows},
        "by_place": {(sheet, row_no): (person, cccd, birth) for _, sheet, row_no, person, cccd, birth in rows},
    }


def _earlier_person(earlier: dict, row_id: str, sheet: str, record: Record) -> str | None:
    """Return the person a stored row belonged to: the same content, or a corrected row in the same place."""
    if row_id in earlier["by_id"]:
        return earlier["by_id"][row_id]
    person, cccd, birth = earlier["by_place"].get((sheet, record.row), (None, None, None))
    # A row corrected in place (a name fixed) is the same person if its CCCD or birth date stayed.
    same_birth = birth is not None and record.birth is not None and birth == record.birth.iso()
    if person and ((cccd and cccd == record.cccd) or same_birth):
        return person
    return None


def report_of(item: ParsedFile, on: dt.date) -> dict:
    """Return what the import report keeps about a file: layouts, conversions, bad rows, warnings."""
    warnings: dict[str, list] = {}
    for sheet, record in item.records:
        for code, value in record.warnings:
            rows = warnings.setdefault(code, [])
            if len(rows) < MAX_REPORTED_WARNINGS:
                rows.append([sheet, record.row, value])
    return {
        "renamed_from": item.renamed_from,
        "same_as": item.same_as,
        "as_of": on.isoformat(),
        "encoding": item.workbook.encoding,
        "list_group": item.list_group,
        "group_guessed": item.group_guessed,
        "skipped_sheets": item.workbook.skipped_sheets,
        "uncached_formulas": item.workbook.uncached_formulas,
        "sheets": [
            {
                "name": sheet.name,
                "header_row": sheet.layout.header_row,
                "headers": sheet.layout.headers,
                "mapping": {str(index): name for index, name in sorted(sheet.layout.mapping.items())},
                "rows": len(sheet.records),
                "sex_convention": sheet.sex_convention,
            }
            for sheet in item.sheets
        ],
        "converted": [[sheet, row, encoding] for sheet, row, encoding in item.converted_rows()],
        "problems": [[sheet, problem.row, problem.code, problem.value] for sheet, problem in item.problems],
        "warnings": warnings,
    }


def signature_of(record: Record) -> str:
    """Return the key that officer decisions about this row are stored under."""
    birth = record.birth.iso() if record.birth else ""
    return "|".join((fold(record.full_name), birth, record.tdp, record.class_name.lower(), record.cccd or ""))


def _source_rows(item: ParsedFile, file_id: str, earlier: dict):
    seen: Counter = Counter()
    raw_by_row = {(sheet.name, number): values for sheet in item.workbook.sheets for number, values in sheet.rows}
    for sheet, record in item.records:
        signature = signature_of(record)
        seen[(sheet, signature)] += 1
        # The same content keeps the same id when a corrected file is imported again.
        row_id = hashlib.sha256(f"{item.name}|{sheet}|{signature}|{seen[(sheet, signature)]}".encode()).hexdigest()[:32]
        yield {
            "id": row_id,
            "file_id": file_id,
            "file_name": item.name,
            "sheet": sheet,
            "row_no": record.row,
            "signature": signature,
            "full_name": record.full_name,
            "name_key": fold(record.full_name),
            "birth_date": record.birth.iso() if record.birth else None,
            "sex": record.sex,
            "cccd": record.cccd,
            "cmnd": record.cmnd,
            "phone": record.phone,
            "address": record.address,
            "tdp": record.tdp,
            "class_name": record.class_name,
            "parent_name": record.parent_name,
            "parent_phone": record.parent_phone,
            "household": record.household,
            "relation": record.relation,
            "bhyt": record.bhyt,
            "notes": record.notes,
            "groups": format_groups(record.groups),
            "legacy": record.legacy,
            "warnings": json.dumps(record.warnings, ensure_ascii=False),
            "raw": json.dumps([_jsonable(v) for v in raw_by_row.get((sheet, record.row), [])], ensure_ascii=False),
            "person_id": _earlier_person(earlier, row_id, sheet, record),
        }


def _population_rows(item: ParsedFile, file_id: str):
    for _, record in item.records:
        yield {
            "id": new_id(),
            "file_id": file_id,
            "row_no": record.row,
            "cccd": record.cccd,
            "full_name": record.full_name,
            "birth_date": record.birth.iso() if record.birth else None,
            "sex": record.sex,
            "address": record.address,
        }


def _jsonable(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
