"""ICD-10 codes with Vietnamese titles: the code list, a search without tone marks, and loading a new list.

The package ships a curated list of the codes most used at ward periodic exams and in primary care
(fieldapp/data/icd10_vi.csv). `fieldapp codes load-icd10 FILE` checks a full list, such as the Ministry
of Health's (Decision 4469/QĐ-BYT, 2020), and stores it in the site's data folder, where it replaces the
shipped list. Nothing here imports Flask, so the command and the pages share it.
"""

import csv
import dataclasses
import functools
import logging
import os
import re
from pathlib import Path

from .errors import FieldappError, FileProblem
from .spreadsheet import read_workbook
from .text import clean, fold

log = logging.getLogger(__name__)
FILE_NAME = "icd10_vi.csv"
BUILT_IN = Path(__file__).parent / "data" / FILE_NAME
# A category (I10) or a subcategory with one or two characters after the dot (E11.9, S72.00).
CODE_PATTERN = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,2})?")
# Dagger and asterisk mark dual coding in the printed lists; the code itself is the same.
_CODE_MARKS = "†*+"
TITLE_MAX = 300
# Column names accepted in a list's header row, compared without tone marks.
CODE_COLUMNS = {"code", "ma", "ma benh", "ma icd", "ma icd10", "ma icd-10", "icd10", "icd-10"}
TITLE_COLUMNS = {"title", "ten", "ten benh", "ten tieng viet", "ten benh tieng viet"}
HEADER_SEARCH_ROWS = 20
_WORD = re.compile(r"[a-z0-9]+")
# A query word is a code (kept whole, with its dot) or a run of letters and digits.
_QUERY_WORD = re.compile(r"[a-z][0-9]{2}\.?[0-9a-z]{0,2}|[a-z0-9]+")
_CODE_LIKE = re.compile(r"[a-z][0-9]")


@dataclasses.dataclass(frozen=True)
class Code:
    """One ICD-10 code with its Vietnamese title and its search keys.

    words is the title without tone marks, each word preceded by a space (" tang huyet ap"), so a word
    beginning is found with one substring test. compact is the code in lower case without its dot ("e119"),
    as claims files write it and as people often type it.
    """

    code: str
    title: str
    words: str = dataclasses.field(default="", compare=False, repr=False)
    compact: str = dataclasses.field(default="", compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class CodeList:
    """A loaded list: codes in file order and an index by code."""

    codes: tuple[Code, ...]
    by_code: dict[str, Code]
    built_in: bool

    def title(self, code: str) -> str | None:
        """Return a code's Vietnamese title, or None when the list does not have the code."""
        entry = self.by_code.get(code)
        return entry.title if entry else None


def make_code(code: str, title: str) -> Code:
    """Return a Code with its search keys."""
    words = "".join(f" {word}" for word in _WORD.findall(fold(title)))
    return Code(code, title, words, code.replace(".", "").lower())


def normalise_code(raw: object) -> str | None:
    """Return a code in the standard form (upper case, with its dot), or None when it is not an ICD-10 code.

    Accepts the forms lists use: "e11.9", "E119" (claims files drop the dot) and "A17.0†".
    """
    text = clean(raw).upper().replace(" ", "").rstrip(_CODE_MARKS)
    if re.fullmatch(r"[A-Z][0-9]{2}[0-9A-Z]{1,2}", text):
        text = f"{text[:3]}.{text[3:]}"
    return text if CODE_PATTERN.fullmatch(text) else None


# Reading and storing a list.

def _header(rows: list[tuple[int, list[object]]]) -> tuple[int, int, int] | None:
    """Return (row index, code column, title column) of the first row naming both columns, or None."""
    for index, (_number, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [fold(str(value)) if value is not None else "" for value in values]
        code_column = next((i for i, name in enumerate(names) if name in CODE_COLUMNS), None)
        title_column = next((i for i, name in enumerate(names) if name in TITLE_COLUMNS), None)
        if code_column is not None and title_column is not None:
            return index, code_column, title_column
    return None


def _cell(values: list[object], column: int) -> str:
    return clean(values[column]) if column < len(values) and values[column] is not None else ""


def read_list(path: Path, display_name: str | None = None) -> tuple[list[Code], list[FieldappError]]:
    """Read a code list from a .csv or .xlsx file and return its codes and the problems found, by row.

    The header row names a code column and a title column (code and title, or Mã bệnh and Tên bệnh).
    Rows with neither a code nor a title are skipped. Raises FileProblem when the file cannot be read
    as a table at all.
    """
    name = display_name or path.name
    if not path.is_file():
        raise FileProblem("file_not_found", file=name)
    workbook = read_workbook(path, name)
    rows = workbook.sheets[0].rows if workbook.sheets else []
    header = _header(rows)
    if header is None:
        return [], [FieldappError("icd10_columns_missing", file=name)]

    start, code_column, title_column = header
    codes: dict[str, Code] = {}
    problems: list[FieldappError] = []
    for number, values in rows[start + 1:]:
        raw_code, title = _cell(values, code_column), _cell(values, title_column)
        if not raw_code and not title:
            continue
        code = normalise_code(raw_code)
        if code is None:
            problems.append(FieldappError("icd10_code_invalid", row=number, value=raw_code))
        elif not title or len(title) > TITLE_MAX:
            problems.append(FieldappError("icd10_title_invalid", row=number, value=code))
        elif code in codes and codes[code].title != title:
            problems.append(FieldappError("icd10_code_duplicate", row=number, value=code))
        else:
            codes.setdefault(code, make_code(code, title))
    if not codes and not problems:
        problems.append(FieldappError("icd10_file_empty", file=name))
    return list(codes.values()), problems


def site_file(data_dir: Path) -> Path:
    """Return where a site keeps the list loaded with `fieldapp codes load-icd10`."""
    return Path(data_dir) / FILE_NAME


def store(data_dir: Path, codes: list[Code]) -> Path:
    """Write a checked list as the site's code list (UTF-8 CSV, code and title) and return its path.

    The file is written beside the old one and then renamed over it, so pages never read half a list.
    """
    target = site_file(data_dir)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "title"])
        writer.writerows([entry.code, entry.title] for entry in codes)
    os.replace(partial, target)
    return target


def load(data_dir: Path | None = None) -> CodeList:
    """Return the site's code list when it has one, else the shipped list; re-read when the file changes.

    A site list that no longer reads cleanly (edited by hand after loading) is logged and the shipped list
    is used, so the doctor's page keeps working.
    """
    path = site_file(data_dir) if data_dir is not None else BUILT_IN
    if path != BUILT_IN and path.is_file():
        stat = path.stat()
        try:
            return _load(str(path), stat.st_mtime_ns, stat.st_size)
        except (ValueError, FieldappError) as error:
            log.warning("ICD-10 list %s is unusable, using the shipped list: %s", path, error)
    stat = BUILT_IN.stat()
    return _load(str(BUILT_IN), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load(path: str, _mtime_ns: int, _size: int) -> CodeList:
    codes, problems = read_list(Path(path))
    if problems:
        # The stored list was checked when it was loaded, so a problem here means the file was edited by hand.
        raise ValueError(f"{path}: {problems[0].message}")
    return CodeList(tuple(codes), {entry.code: entry for entry in codes}, Path(path) == BUILT_IN)


# Searching.

def _rank(entry: Code, phrase: str, code_word: str | None) -> tuple:
    if code_word is not None and entry.compact.startswith(code_word):
        place = 0
    elif entry.words.startswith(phrase):
        place = 1
    elif phrase in entry.words:
        place = 2
    else:
        place = 3
    return place, entry.code


def search(code_list: CodeList, query: str, limit: int = 30) -> tuple[list[Code], int]:
    """Find codes whose code or title contains every word of the query; return the best `limit` and the count.

    Words are compared without tone marks and as word beginnings, so "tang huyet ap" finds "Tăng huyết áp
    vô căn (nguyên phát)". A word that looks like a code ("e11", "E11.9", "e119") also matches codes that
    start with it. Codes whose title starts with the query come first.
    """
    words = _QUERY_WORD.findall(fold(query))
    if not words:
        return [], 0
    # Each word is (code form or None, " word") so that the loop below does no string work of its own.
    keys = [(word.replace(".", "") if _CODE_LIKE.match(word) else None, f" {word}") for word in words]
    found = [entry for entry in code_list.codes
             if all((code is not None and entry.compact.startswith(code)) or spaced in entry.words
                    for code, spaced in keys)]
    phrase = "".join(spaced for _code, spaced in keys)
    found.sort(key=lambda entry: _rank(entry, phrase, keys[0][0]))
    return found[:limit], len(found)
