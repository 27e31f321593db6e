"""Tests for mapping Vietnamese column headers to roster fields and finding a sheet's header row."""

import pytest

from fieldapp.columns import detect_layout, field_for_header
from fieldapp.spreadsheet import Sheet


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Họ và tên", "full_name"),
        ("Họ tên", "full_name"),
        ("Họ đệm", "family_middle"),
        ("Tên", "given_name"),
        ("Ngày sinh", "birth_date"),
        ("Ngày tháng năm sinh", "birth_date"),
        ("Ngày, tháng, năm sinh", "birth_date"),
        ("Năm sinh", "birth_date"),
        ("Giới tính", "sex"),
        ("Nam", "male_mark"),
        ("Nữ", "female_mark"),
        ("Số CCCD", "cccd"),
        ("CCCD", "cccd"),
        ("Số CCCD (12 số)", "cccd"),
        ("Số định danh", "cccd"),
        ("Số định danh cá nhân", "cccd"),
        ("Số CMND", "cccd"),
        ("Điện thoại", "phone"),
        ("Số điện thoại", "phone"),
        ("SĐT", "phone"),
        ("Địa chỉ", "address"),
        ("Tổ dân phố", "tdp"),
        ("Lớp", "class_name"),
        ("Họ tên phụ huynh", "parent_name"),
        ("Họ và tên mẹ", "parent_name"),
        ("SĐT phụ huynh", "parent_phone"),
        ("Số điện thoại phụ huynh", "parent_phone"),
        ("Ghi chú", "notes"),
    ],
)
def test_header_maps_to_field(header, field):
    result = field_for_header(header)

    assert result == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("HỌ VÀ TÊN", "full_name"),
        ("họ và tên", "full_name"),
        ("  Họ   và  tên ", "full_name"),
        ("Họ và tên\n(chữ in hoa)", "full_name"),
        ("Họ và tên:", "full_name"),
        ("NGÀY SINH", "birth_date"),
        ("Giới\ntính", "sex"),
        ("SỐ CCCD", "cccd"),
        ("S\u00d0T", "phone"),
        ("\u00d0iện thoại", "phone"),
        ("sđt phụ huynh", "parent_phone"),
        ("GHI CHÚ", "notes"),
    ],
)
def test_header_ignores_case_and_spacing(header, field):
    result = field_for_header(header)

    assert result == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # TCVN3 (.VnTime font) bytes read as Windows-1252 characters.
        ("Hä tªn", "full_name"),
        ("Hä vµ tªn", "full_name"),
        ("Hä ®Öm", "family_middle"),
        ("Tªn", "given_name"),
        ("Ngµy sinh", "birth_date"),
        ("N¨m sinh", "birth_date"),
        ("Giíi tÝnh", "sex"),
        ("N÷", "female_mark"),
        ("Sè CCCD", "cccd"),
        ("Sè ®Þnh danh", "cccd"),
        ("§iÖn tho¹i", "phone"),
        ("Sè §T", "phone"),
        ("§Þa chØ", "address"),
        ("Tæ d©n phè", "tdp"),
        ("Hä tªn phô huynh", "parent_name"),
        ("S§T phô huynh", "parent_phone"),
        # VNI-Windows (VNI-Times font).
        ("Hoï vaø teân", "full_name"),
        ("Ngaøy sinh", "birth_date"),
        ("Giôùi tính", "sex"),
        ("Ghi chuù", "notes"),
        ("SÑT phuï huynh", "parent_phone"),
    ],
)
def test_legacy_header_maps_to_field(header, field):
    result = field_for_header(header)

    assert result == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("S§T", "phone"),
        ("Líp", "class_name"),
        ("Ghi chó", "notes"),
    ],
)
def test_short_tcvn3_header_maps(header, field):
    result = field_for_header(header)

    assert result == field


@pytest.mark.parametrize("header", ["STT", "TT", "Nghề nghiệp", "Chữ ký", "", "   ", None, 1])
def test_unknown_header_maps_to_none(header):
    result = field_for_header(header)

    assert result is None


def _build_sheet(*rows: list[object], numbers: list[int] | None = None) -> Sheet:
    """Build a sheet from rows of values, numbered from 1 unless numbers are given."""
    numbers = numbers or list(range(1, len(rows) + 1))
    return Sheet("Danh sách", list(zip(numbers, [list(row) for row in rows])))


def _first_data_row(sheet: Sheet, data_start: int) -> int:
    """Return the sheet row number where a layout's data begins."""
    return sheet.rows[data_start][0]


def test_header_found_under_title():
    sheet = _build_sheet(
        ["DANH SÁCH NGƯỜI CAO TUỔI", None, None, None],
        ["TỔ DÂN PHỐ 3", None, None, None],
        [None, None, None, None],
        [None, None, None, None],
        ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"],
        [1, "Nguyễn Văn An", "05/03/1958", "Nam", "Số 1"],
    )

    layout = detect_layout(sheet)

    assert layout.header_row == 5
    assert _first_data_row(sheet, layout.data_start) == 6
    assert layout.mapping == {1: "full_name", 2: "birth_date", 3: "sex", 4: "address"}
    assert layout.title == "DANH SÁCH NGƯỜI CAO TUỔI TỔ DÂN PHỐ 3"


def test_header_row_keeps_sheet_number():
    sheet = _build_sheet(
        ["DANH SÁCH"],
        ["STT", "Họ và tên", "Năm sinh"],
        [1, "Nguyễn Văn An", 1958],
        numbers=[1, 4, 5],
    )

    layout = detect_layout(sheet)

    assert layout.header_row == 4
    assert _first_data_row(sheet, layout.data_start) == 5


def test_split_name_columns_mapped():
    sheet = _build_sheet(
        ["STT", "Họ đệm", "Tên", "Ngày sinh", "SĐT"],
        [1, "Nguyễn Văn", "An", "05/03/1958", "0912345678"],
    )

    layout = detect_layout(sheet)

    assert layout.mapping == {1: "family_middle", 2: "given_name", 3: "birth_date", 4: "phone"}


def test_two_row_header_reads_marks():
    # "Giới tính" is merged over two columns, so the cell to its right is empty in row 2.
    sheet = _build_sheet(
        ["DANH SÁCH TRẺ DƯỚI 2 TUỔI", None, None, None, None, None],
        ["STT", "Họ và tên", "Ngày sinh", "Giới tính", None, "Địa chỉ"],
        [None, None, None, "Nam", "Nữ", None],
        [1, "Nguyễn Văn An", "05/03/2024", "x", None, "Số 1"],
    )

    layout = detect_layout(sheet)

    assert layout.header_row == 2
    assert _first_data_row(sheet, layout.data_start) == 4
    assert layout.mapping[3] == "male_mark"
    assert layout.mapping[4] == "female_mark"
    assert layout.mapping[1] == "full_name"
    assert layout.mapping[2] == "birth_date"
    assert layout.mapping[5] == "address"


def test_data_row_not_sub_header():
    sheet = _build_sheet(
        ["STT", "Họ và tên", "Nam", "Nữ"],
        [1, "Nguyễn Văn An", 1958, None],
    )

    layout = detect_layout(sheet)

    assert _first_data_row(sheet, layout.data_start) == 2


@pytest.mark.parametrize(
    "numbering",
    [
        ["(1)", "(2)", "(3)", "(4)"],
        [1, 2, 3, 4],
        ["1", "2", "3", "4"],
    ],
)
def test_numbering_row_skipped(numbering):
    sheet = _build_sheet(
        ["STT", "Họ và tên", "Ngày sinh", "Giới tính"],
        numbering,
        [1, "Nguyễn Văn An", "05/03/1958", "Nam"],
    )

    layout = detect_layout(sheet)

    assert _first_data_row(sheet, layout.data_start) == 3


def test_numbering_after_sub_header_skipped():
    sheet = _build_sheet(
        ["STT", "Họ và tên", "Năm sinh", "Giới tính", None],
        [None, None, None, "Nam", "Nữ"],
        ["(1)", "(2)", "(3)", "(4)", "(5)"],
        [1, "Nguyễn Văn An", 1958, "x", None],
    )

    layout = detect_layout(sheet)

    assert _first_data_row(sheet, layout.data_start) == 4


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [[None, None], [None, None]],
        [[1, "Nguyễn Văn An", "05/03/1958", "Nam"], [2, "Trần Thị Bình", "1960", "Nữ"]],
        [["DANH SÁCH NGƯỜI CAO TUỔI"], [1, "Nguyễn Văn An", 1958]],
    ],
)
def test_sheet_without_header_returns_none(rows):
    sheet = _build_sheet(*rows)

    layout = detect_layout(sheet)

    assert layout is None


def test_tcvn3_header_row_detected():
    sheet = _build_sheet(
        ["DANH S¸CH NG¦êI CAO TUæI TDP 7"],
        ["STT", "Hä vµ tªn", "Ngµy sinh", "Giíi tÝnh", "§Þa chØ"],
        [1, "NguyÔn V¨n An", "05/03/1958", "Nam", "Sè 1"],
    )

    layout = detect_layout(sheet)

    assert layout.header_row == 2
    assert layout.mapping == {1: "full_name", 2: "birth_date", 3: "sex", 4: "address"}
    assert layout.headers[1] == "Họ và tên"
    assert layout.title == "DANH SÁCH NGƯỜI CAO TUỔI TDP 7"
