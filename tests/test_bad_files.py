"""Tests for files that cannot be imported, CSV encodings, hidden content, footers and bad rows."""

import datetime as dt
import os
import unicodedata
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest

from fieldapp.columns import detect_layout
from fieldapp.errors import FileProblem, render
from fieldapp.importer import parse_file
from fieldapp.spreadsheet import MAX_FILE_BYTES, read_workbook

ON = dt.date(2025, 10, 15)
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính"]
PEOPLE = [
    [1, "Nguyễn Văn Đức", "05/03/1958", "Nam"],
    [2, "Trần Thị Thuỷ", "1960", "Nữ"],
]
CSV_TEXT = "Họ và tên,Ngày sinh,Giới tính\nNguyễn Văn Đức,05/03/1958,Nam\nTrần Thị Thuỷ,1960,Nữ\n"
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def write_book(path: Path, rows: list[list[object]]) -> Path:
    """Save rows as the only sheet of an .xlsx file."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def encode_cp1258(text: str) -> bytes:
    """Encode text as Windows-1258 does: letters ă â ê ô ơ ư đ precomposed, tone marks combining."""
    characters = []
    for character in text:
        decomposed = unicodedata.normalize("NFD", character)
        tones = "".join(mark for mark in decomposed if mark in _TONE_MARKS)
        letter = unicodedata.normalize("NFC", "".join(mark for mark in decomposed if mark not in _TONE_MARKS))
        characters.append(letter + tones)
    return "".join(characters).encode("cp1258")


def make_empty(folder: Path) -> Path:
    path = folder / "danh-sach.xlsx"
    path.write_bytes(b"")
    return path


def make_pdf(folder: Path) -> Path:
    path = folder / "danh-sach.xlsx"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return path


def make_plain_zip(folder: Path) -> Path:
    path = folder / "danh-sach.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "Danh sách gửi kèm")
    return path


def make_text_named_xlsx(folder: Path) -> Path:
    path = folder / "danh-sach.xlsx"
    path.write_text(CSV_TEXT, encoding="utf-8")
    return path


def make_encrypted(folder: Path) -> Path:
    plain = write_book(folder / "plain.xlsx", [HEADER, *PEOPLE])
    path = folder / "co-mat-khau.xlsx"
    with plain.open("rb") as source, path.open("wb") as target:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("1234", target)
    return path


def make_shift_jis(folder: Path) -> Path:
    # Shift-JIS Japanese is not valid UTF-8, has no BOM and no NUL bytes, and its Windows-1258
    # decoding does not read as Vietnamese, so the reader rejects it as an unknown encoding.
    path = folder / "danh-sach.csv"
    path.write_bytes("氏名,生年月日,性別\n山田太郎,1958/03/05,男\n佐藤花子,1960/01/01,女\n".encode("shift_jis"))
    return path


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (make_empty, "file_empty"),
        (make_pdf, "file_is_pdf"),
        (make_plain_zip, "file_not_spreadsheet"),
        (make_text_named_xlsx, "file_not_spreadsheet"),
        (make_encrypted, "file_encrypted"),
        (make_shift_jis, "csv_encoding_unknown"),
    ],
)
def test_unreadable_file_rejected(tmp_path, make, code):
    path = make(tmp_path)

    with pytest.raises(FileProblem) as caught:
        read_workbook(path)

    assert caught.value.code == code
    assert path.name in caught.value.message


def test_message_uses_upload_name(tmp_path):
    path = make_pdf(tmp_path)

    with pytest.raises(FileProblem) as caught:
        read_workbook(path, display_name="DS người cao tuổi TDP 3.xlsx")

    assert caught.value.code == "file_is_pdf"
    assert "DS người cao tuổi TDP 3.xlsx" in caught.value.message


@pytest.mark.parametrize("name", ["random.xlsx", "random.csv"])
def test_random_bytes_rejected(tmp_path, name):
    path = tmp_path / name
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(1024 * 1024))
    assert path.stat().st_size < MAX_FILE_BYTES, "50 MB must stay under the size limit to test content sniffing"

    with pytest.raises(FileProblem) as caught:
        read_workbook(path)

    assert caught.value.code == "file_not_spreadsheet"
    assert name in caught.value.message


def test_oversized_file_rejected(tmp_path):
    path = tmp_path / "video.csv"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)

    with pytest.raises(FileProblem) as caught:
        read_workbook(path)

    assert caught.value.code == "file_too_large"
    assert "video.csv" in caught.value.message


def test_missing_file_rejected(tmp_path):
    path = tmp_path / "khong-co.xlsx"

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON)

    assert caught.value.code == "file_not_found"
    assert "khong-co.xlsx" in caught.value.message


def test_blank_workbook_is_empty(tmp_path):
    path = write_book(tmp_path / "trong.xlsx", [])

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON)

    assert caught.value.code == "file_empty"
    assert "trong.xlsx" in caught.value.message


def test_sheet_without_header_rejected(tmp_path):
    path = write_book(tmp_path / "khong-tieu-de.xlsx", PEOPLE)

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON)

    assert caught.value.code == "no_header"
    assert "khong-tieu-de.xlsx" in caught.value.message


def test_header_without_rows_rejected(tmp_path):
    path = write_book(tmp_path / "chi-tieu-de.xlsx", [HEADER])

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON)

    assert caught.value.code == "no_rows"
    assert "chi-tieu-de.xlsx" in caught.value.message


def test_name_column_removed_rejected(tmp_path):
    path = write_book(tmp_path / "bo-cot-ten.xlsx", [HEADER, *PEOPLE])
    signature = detect_layout(read_workbook(path).sheets[0]).signature()

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON, overrides={signature: {1: None}})

    assert caught.value.code == "no_name_column"
    assert "bo-cot-ten.xlsx" in caught.value.message


def test_list_without_name_column_rejected(tmp_path):
    path = write_book(
        tmp_path / "khong-cot-ten.xlsx",
        [["STT", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ"], [1, "05/03/1958", "Nam", "031058012345", "Số 1"]],
    )

    with pytest.raises(FileProblem) as caught:
        parse_file(path, ON)

    assert caught.value.code == "no_name_column"
    assert "khong-cot-ten.xlsx" in caught.value.message


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (CSV_TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (encode_cp1258(CSV_TEXT), "cp1258"),
        (encode_cp1258(CSV_TEXT.replace(",", ";")), "cp1258"),
    ],
)
def test_csv_encoding_read(tmp_path, data, encoding):
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(data)

    parsed = parse_file(path, ON)

    assert parsed.workbook.encoding == encoding
    assert [record.full_name for _, record in parsed.records] == ["Nguyễn Văn Đức", "Trần Thị Thuỷ"]
    assert [record.sex for _, record in parsed.records] == ["M", "F"]
    assert [record.birth.iso() for _, record in parsed.records] == ["1958-03-05", "1960"]


def test_cp1258_fixture_has_combining_tones():
    data = encode_cp1258("Nguyễn")

    decoded = data.decode("cp1258")

    assert decoded == unicodedata.normalize("NFD", "Nguyễn").replace("e\u0302", "ê")


def _write_hidden_book(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "DS"
    for row in [
        ["STT", "Họ và tên", "Số CCCD", "Ngày sinh"],
        [1, "Nguyễn Văn An", "031058012345", "05/03/1958"],
        [2, "Người Trên Dòng Ẩn", "031060012345", "1960"],
        [3, "Trần Thị Bình", "031161012345", "1961"],
    ]:
        sheet.append(row)
    sheet.column_dimensions["C"].hidden = True
    sheet.row_dimensions[3].hidden = True

    hidden = book.create_sheet("Bản cũ")
    hidden.append(["Họ và tên", "Ngày sinh"])
    hidden.append(["Người Trong Trang Ẩn", "1950"])
    hidden.sheet_state = "hidden"
    book.save(path)
    return path


def test_hidden_content_skipped(tmp_path):
    path = _write_hidden_book(tmp_path / "an.xlsx")

    parsed = parse_file(path, ON)

    assert [sheet.name for sheet in parsed.sheets] == ["DS"]
    assert parsed.workbook.skipped_sheets == ["Bản cũ"]
    assert [record.full_name for _, record in parsed.records] == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert [record.row for _, record in parsed.records] == [2, 4]
    assert [record.cccd for _, record in parsed.records] == [None, None]


def test_hidden_column_counted(tmp_path):
    path = _write_hidden_book(tmp_path / "an.xlsx")

    workbook = read_workbook(path)

    assert workbook.sheets[0].hidden_columns == 1
    assert workbook.sheets[0].rows[0][1] == ["STT", "Họ và tên", "Ngày sinh"]


FOOTERS = {
    "totals in first column": ["Tổng cộng: 25 người"],
    "totals in name column": [None, "Tổng cộng: 25 người"],
    "count in name column": [None, "Tổng số: 25 người, trong đó 12 nam"],
    "totals with count": ["Tổng cộng: 25 người", None, None, "12 nam"],
    "date line": [None, None, "Ngày 15 tháng 10 năm 2025"],
    "signature alone": [None, "Người lập biểu"],
    "signature in caps": [None, "NGƯỜI LẬP BIỂU"],
    "dotted line": [None, "..............."],
}


@pytest.mark.parametrize("footer", FOOTERS.values(), ids=FOOTERS.keys())
def test_footer_row_skipped(tmp_path, footer):
    path = write_book(tmp_path / "chan-trang.xlsx", [HEADER, *PEOPLE, footer])

    parsed = parse_file(path, ON)

    assert [record.full_name for _, record in parsed.records] == ["Nguyễn Văn Đức", "Trần Thị Thuỷ"]
    assert parsed.problems == []


BROKEN_FOOTERS = {
    "signer title in sex column": [None, "XÁC NHẬN CỦA TỔ TRƯỞNG", None, "NGƯỜI LẬP BIỂU"],
    "signer title in date column": [None, "Người lập biểu", "Tổ trưởng TDP"],
    "count in date column": [None, "Tổng cộng", "25 người"],
}


@pytest.mark.parametrize("footer", BROKEN_FOOTERS.values(), ids=BROKEN_FOOTERS.keys())
def test_wide_footer_row_skipped(tmp_path, footer):
    path = write_book(tmp_path / "chan-trang.xlsx", [HEADER, *PEOPLE, footer])

    parsed = parse_file(path, ON)

    assert [record.full_name for _, record in parsed.records] == ["Nguyễn Văn Đức", "Trần Thị Thuỷ"]
    assert parsed.problems == []


def test_signer_name_skipped(tmp_path):
    rows = [HEADER, *PEOPLE, [], [None, "Người lập biểu"], [], [], [None, "Lê Thị Hồng"]]
    path = write_book(tmp_path / "chan-trang.xlsx", rows)

    parsed = parse_file(path, ON)

    assert [record.full_name for _, record in parsed.records] == ["Nguyễn Văn Đức", "Trần Thị Thuỷ"]


def test_bad_rows_reported_others_imported(tmp_path):
    rows = [
        ["DANH SÁCH NGƯỜI CAO TUỔI TỔ DÂN PHỐ 3"],
        [],
        HEADER,
        [1, "Nguyễn Văn An", "05/03/1958", "Nam"],
        [2, None, "1960", "Nữ"],
        [3, "Lê Văn Cường", "31/02/1960", "Nam"],
        [4, "Trần Thị Bình", "1961", "Nữ"],
        [5, "Phạm Văn Dũng", "15/13/1950", "Nam"],
        [6, "Hồ Thị Em", "2030", "Nữ"],
        ["Tổng cộng: 6 người"],
    ]
    path = write_book(tmp_path / "tdp-03.xlsx", rows)

    parsed = parse_file(path, ON)

    assert [(record.row, record.full_name) for _, record in parsed.records] == [
        (4, "Nguyễn Văn An"),
        (7, "Trần Thị Bình"),
    ]
    assert [(problem.row, problem.code, problem.value) for _, problem in parsed.problems] == [
        (5, "row_no_name", ""),
        (6, "row_birth_date_invalid", "31/02/1960"),
        (8, "row_birth_date_invalid", "15/13/1950"),
        (9, "row_birth_date_invalid", "2030"),
    ]


def test_formulas_without_values_counted(tmp_path):
    path = tmp_path / "cong-thuc.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["STT", "Họ đệm", "Tên", "Họ và tên", "Ngày sinh"])
    sheet.append([1, "Nguyễn Văn", "An", '=B2&" "&C2', "05/03/1958"])
    sheet.append([2, "Trần Thị", "Bình", '=B3&" "&C3', "01/01/1960"])
    book.save(path)

    workbook = read_workbook(path)

    assert workbook.uncached_formulas == 2
    assert render("formulas_without_values", file=path.name, value=2).startswith("Tệp cong-thuc.xlsx có 2 ô công thức")


def test_plain_workbook_has_no_formulas(tmp_path):
    path = tmp_path / "danh-sach.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Họ và tên", "Ngày sinh"])
    book.active.append(["Nguyễn Văn An", "05/03/1958"])
    book.save(path)

    assert read_workbook(path).uncached_formulas == 0
