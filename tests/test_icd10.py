"""The ICD-10 code list: the shipped list, code forms, search without tone marks, and loading a full list."""

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from test_bad_files import encode_cp1258

from fieldapp import icd10, suggestions
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect


@pytest.fixture(scope="module")
def shipped() -> icd10.CodeList:
    return icd10.load()


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


# The shipped list.


def test_shipped_list_reads_without_problems():
    codes, problems = icd10.read_list(icd10.BUILT_IN)

    assert problems == []
    assert len(codes) > 300
    assert all(icd10.normalise_code(entry.code) == entry.code for entry in codes)


def test_shipped_list_has_every_suggested_code(shipped):
    rules = suggestions.rules()["diagnoses"]
    suggested = {code for rule in rules for code in rule.get("codes", [])}
    suggested |= {code for rule in rules for codes in rule.get("values", {}).values() for code in codes}

    assert {code for code in suggested if shipped.title(code) is None} == set()


@pytest.mark.parametrize(("code", "title"), [
    ("I10", "Tăng huyết áp vô căn (nguyên phát)"),
    ("E11", "Đái tháo đường không phụ thuộc insulin (týp 2)"),
    ("E66.9", "Béo phì, không xác định"),
    ("H52.1", "Cận thị"),
    ("M41.9", "Vẹo cột sống, không xác định"),
    ("K02.9", "Sâu răng, không xác định"),
    ("E45", "Chậm phát triển do suy dinh dưỡng protein - năng lượng (thấp còi do dinh dưỡng)"),
    ("Z00.0", "Khám sức khỏe tổng quát"),
])
def test_shipped_list_titles(shipped, code, title):
    assert shipped.title(code) == title


# Code forms.


@pytest.mark.parametrize(("raw", "expected"), [
    ("I10", "I10"),
    ("i10", "I10"),
    (" E11.9 ", "E11.9"),
    ("E119", "E11.9"),
    ("A17.0†", "A17.0"),
    ("G01*", "G01"),
    ("S72.00", "S72.00"),
    ("E11.", None),
    ("E1", None),
    ("11.9", None),
    ("E11.123", None),
    ("tăng", None),
    ("", None),
])
def test_normalise_code(raw, expected):
    assert icd10.normalise_code(raw) == expected


# Search.


@pytest.mark.parametrize(("query", "first", "also"), [
    ("tang huyet ap", "I10", {"I15.9", "R03.0"}),
    ("Tăng Huyết Áp", "I10", {"I11.9"}),
    ("huyet ap tang", "I10", {"I15.9"}),
    ("dai thao duong", "E10", {"E11", "E11.9", "E14.9"}),
    ("đái tháo đường týp 2", "E11", set()),
    ("E11", "E11", {"E11.2", "E11.9"}),
    ("e11.9", "E11.9", set()),
    ("K02 sau", "K02", {"K02.9"}),
    ("viem hong", "J02", {"J02.9", "J31.2"}),
    ("suy dinh duong nang", "E43", set()),
])
def test_search_finds(shipped, query, first, also):
    found, count = icd10.search(shipped, query)

    codes = [entry.code for entry in found]
    assert codes[0] == first
    assert also <= set(codes)
    assert count == len(codes)


def test_search_limits_results(shipped):
    found, count = icd10.search(shipped, "khong xac dinh", limit=5)

    assert len(found) == 5
    assert count > 100


@pytest.mark.parametrize("query", ["", "   ", "!!!", "xyzzy"])
def test_search_without_match(shipped, query):
    assert icd10.search(shipped, query) == ([], 0)


# Reading a list.


def test_read_list_vietnamese_headers_and_semicolons(tmp_path):
    path = write_csv(tmp_path / "icd.csv", [["STT", "Mã bệnh", "Tên bệnh"], ["1", "I10", "Bệnh tăng huyết áp"],
                                           ["2", "E119", "Đái tháo đường týp 2"]], delimiter=";")

    codes, problems = icd10.read_list(path)

    assert problems == []
    assert [(entry.code, entry.title) for entry in codes] == [("I10", "Bệnh tăng huyết áp"),
                                                              ("E11.9", "Đái tháo đường týp 2")]


def test_read_list_windows_1258(tmp_path):
    path = tmp_path / "icd.csv"
    path.write_bytes(encode_cp1258("code,title\r\nI10,Tăng huyết áp vô căn\r\n"))

    codes, problems = icd10.read_list(path)

    assert problems == []
    assert codes[0].title == "Tăng huyết áp vô căn"


def test_read_list_xlsx_with_title_rows(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH MỤC MÃ BỆNH ICD-10"])
    sheet.append([])
    sheet.append(["Mã bệnh", "Tên tiếng Việt"])
    sheet.append(["A00", "Bệnh tả"])
    sheet.append([None, None])
    sheet.append(["A00.0", "Bệnh tả do Vibrio cholerae 01, typ sinh học cholerae"])
    book.save(tmp_path / "icd.xlsx")

    codes, problems = icd10.read_list(tmp_path / "icd.xlsx")

    assert problems == []
    assert [entry.code for entry in codes] == ["A00", "A00.0"]


def test_read_list_same_row_twice_kept_once(tmp_path):
    path = write_csv(tmp_path / "icd.csv", [["code", "title"], ["I10", "Tăng huyết áp"], ["I10", "Tăng huyết áp"]])

    codes, problems = icd10.read_list(path)

    assert problems == []
    assert len(codes) == 1


@pytest.mark.parametrize(("rows", "messages"), [
    ([["code", "title"], ["I10", "Tăng huyết áp"], ["X1", "Sai"], ["E11", ""], ["I10", "Tên khác"]],
     ["Dòng 3: mã ICD-10 'X1' không hợp lệ.",
      "Dòng 4: mã E11 chưa có tên bệnh, hoặc tên dài quá 300 ký tự.",
      "Dòng 5: mã I10 đã có ở dòng trước với tên bệnh khác."]),
    ([["code", "title"], ["", "Không có mã"]], ["Dòng 2: mã ICD-10 '' không hợp lệ."]),
    ([["code", "title"], ["I10", "x" * 301]], ["Dòng 2: mã I10 chưa có tên bệnh, hoặc tên dài quá 300 ký tự."]),
    ([["ma", "ten"], ["I10", "Tăng huyết áp"]], []),
    ([["id", "name"], ["I10", "Tăng huyết áp"]], ["Tệp icd.csv không có cột mã và cột tên bệnh."]),
    ([["code", "title"]], ["Tệp icd.csv không có mã ICD-10 nào dưới dòng tiêu đề."]),
])
def test_read_list_problems_name_rows(tmp_path, rows, messages):
    path = write_csv(tmp_path / "icd.csv", rows)

    _codes, problems = icd10.read_list(path)

    assert [problem.message for problem in problems] == messages


# Loading a list into a site.


def test_load_command_replaces_list(tmp_path):
    path = write_csv(tmp_path / "full.csv", [["code", "title"], ["A00", "Bệnh tả"], ["I10", "Tăng huyết áp vô căn"]])

    result = invoke("codes", "load-icd10", "--data-dir", tmp_path / "site", path)

    loaded = icd10.load(tmp_path / "site")
    assert result.exit_code == 0
    assert "Đã nạp 2 mã ICD-10" in result.output
    assert not loaded.built_in
    assert [entry.code for entry in loaded.codes] == ["A00", "I10"]
    assert icd10.search(loaded, "benh ta")[0][0].code == "A00"
    db = connect(tmp_path / "site" / DATABASE_NAME)
    assert db.execute("SELECT action, detail FROM audit_event").fetchall() == [("icd10_loaded", '{"codes": 2}')]
    db.conn.close()


def test_load_command_bad_file_changes_nothing(tmp_path):
    good = write_csv(tmp_path / "good.csv", [["code", "title"], ["A00", "Bệnh tả"]])
    invoke("codes", "load-icd10", "--data-dir", tmp_path / "site", good)
    bad = write_csv(tmp_path / "bad.csv", [["code", "title"], ["I10", "Tăng huyết áp"], ["1O0", "Gõ nhầm"]])

    result = invoke("codes", "load-icd10", "--data-dir", tmp_path / "site", bad)

    assert result.exit_code == 1
    assert "Dòng 3: mã ICD-10 '1O0' không hợp lệ." in result.output
    assert "Chưa nạp danh mục nào" in result.output
    assert [entry.code for entry in icd10.load(tmp_path / "site").codes] == ["A00"]


def test_load_command_missing_file(tmp_path):
    result = invoke("codes", "load-icd10", "--data-dir", tmp_path / "site", tmp_path / "khong-co.csv")

    assert result.exit_code == 1
    assert "Không tìm thấy tệp khong-co.csv" in result.output


def test_site_without_list_uses_shipped(tmp_path):
    assert icd10.load(tmp_path).built_in


def test_hand_edited_site_list_falls_back(tmp_path):
    (tmp_path / icd10.FILE_NAME).write_text("code,title\nI10,Tăng huyết áp\nXX,Sai\n", encoding="utf-8")

    loaded = icd10.load(tmp_path)

    assert loaded.built_in
    assert loaded.title("E11.9") is not None
