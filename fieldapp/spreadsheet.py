"""Read .xlsx and .csv files into sheets of rows, refusing anything that is not one of them."""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .errors import FileProblem
from .legacy import vietnamese_score

# A ward's population extract of 50,000 people is about 7 MB as CSV; 64 MB leaves room for
# a city-sized file while refusing a stray video or disk image at once.
MAX_FILE_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 256 * 1024
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A cell whose formula is followed by no value, or an empty one, before the cell's end.
_FORMULA_WITHOUT_VALUE = re.compile(r"(?:</f>|<f\b[^>]*/>)(?:<v\s*/>|<v></v>)?</c>")


@dataclass
class Sheet:
    """One sheet's visible cells: (1-based row number, values) pairs, hidden columns and rows left out."""

    name: str
    rows: list[tuple[int, list[object]]]
    hidden_columns: int = 0


@dataclass
class Workbook:
    """The sheets of one file, with what was noticed while reading it."""

    file_name: str
    kind: str
    sheets: list[Sheet]
    encoding: str | None = None
    skipped_sheets: list[str] = field(default_factory=list)
    uncached_formulas: int = 0  # formula cells saved without their value, which read as empty


def read_workbook(path: Path, display_name: str | None = None) -> Workbook:
    """Read a file as a spreadsheet, deciding the format from its content rather than its name."""
    name = display_name or path.name
    size = path.stat().st_size
    if size == 0:
        raise FileProblem("file_empty", file=name)
    if size > MAX_FILE_BYTES:
        raise FileProblem("file_too_large", file=name, value=f"{size / 1024 / 1024:.0f} MB")

    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)

    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, name)
    if head.startswith(_OLE2_MAGIC):
        raise FileProblem(_ole2_problem(path), file=name)
    if head.startswith(b"%PDF"):
        raise FileProblem("file_is_pdf", file=name)
    if Path(name).suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        raise FileProblem("file_not_spreadsheet", file=name)
    return _read_csv(path, name, head)


def _ole2_problem(path: Path) -> str:
    """Tell a password-protected .xlsx (an encrypted OLE2 package) from an old binary .xls."""
    import msoffcrypto

    with path.open("rb") as handle:
        try:
            office_file = msoffcrypto.OfficeFile(handle)
            return "file_encrypted" if office_file.is_encrypted() else "file_old_xls"
        except Exception:  # noqa: BLE001 - any failure here means it is no file we can read
            return "file_not_spreadsheet"


def _read_xlsx(path: Path, name: str) -> Workbook:
    # A file object, not the path: openpyxl judges paths by their extension, and uploads have none.
    try:
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileProblem("file_not_spreadsheet", file=name) from error

    sheets, skipped = [], []
    for worksheet in book.worksheets:
        if worksheet.sheet_state != "visible":
            skipped.append(worksheet.title)
            continue
        sheets.append(_visible_cells(worksheet))
    return Workbook(name, "xlsx", sheets, skipped_sheets=skipped, uncached_formulas=_uncached_formulas(path))


def _uncached_formulas(path: Path) -> int:
    """Count formula cells stored without a value, as files written by programs other than Excel have them.

    openpyxl reads such a cell as empty, so a name made with =CONCATENATE(...) would look missing.
    """
    count = 0
    with zipfile.ZipFile(path) as package:
        for member in package.namelist():
            if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                xml = package.read(member).decode("utf-8", errors="replace")
                if "<f" in xml:
                    count += len(_FORMULA_WITHOUT_VALUE.findall(xml))
    return count


def _visible_cells(worksheet) -> Sheet:
    hidden_columns = set()
    for letter, dimension in worksheet.column_dimensions.items():
        if dimension.hidden:
            first = dimension.min or openpyxl.utils.column_index_from_string(letter)
            hidden_columns.update(range(first - 1, dimension.max or first))
    hidden_rows = {index for index, dimension in worksheet.row_dimensions.items() if dimension.hidden}

    rows = []
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number in hidden_rows:
            continue
        visible = [value for index, value in enumerate(values) if index not in hidden_columns]
        rows.append((number, visible))
    return Sheet(worksheet.title, rows, hidden_columns=len(hidden_columns))


def _read_csv(path: Path, name: str, head: bytes) -> Workbook:
    data = path.read_bytes()
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("file_not_spreadsheet", file=name)

    text, encoding = _decode(data, name)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = max(",;\t", key=sample.count)

    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next_line = 1
    try:
        for values in reader:
            rows.append((next_line, [value if value != "" else None for value in values]))
            next_line = reader.line_num + 1
    except csv.Error as error:
        raise FileProblem("file_not_spreadsheet", file=name, value=str(error)) from error
    return Workbook(name, "csv", [Sheet("", rows)], encoding=encoding)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1258."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError as error:
        raise FileProblem("csv_encoding_unknown", file=name) from error

    # Windows-1258 decodes almost any byte string; keep it only if the result reads as Vietnamese.
    if any(ch < " " and ch not in "\r\n\t" for ch in text[:_SNIFF_BYTES]) or vietnamese_score(unicodedata.normalize("NFC", text[:_SNIFF_BYTES])) < 0.8:
        raise FileProblem("csv_encoding_unknown", file=name)
    return text, "cp1258"
