"""Tests for Vietnamese text cleaning, search keys, tone placement and official-list sort order."""

import random
import unicodedata
from pathlib import Path

import pytest

from fieldapp.text import clean, fold, modern_tones, name_sort_key, proper_case, sort_key_text

GIVEN_NAMES = Path(__file__).parent / "data" / "vn-given-names"
FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]


def nfd(text: str) -> str:
    """Return text with every accent as a separate combining mark, as macOS and some web forms send it."""
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (nfd("Nguyễn Văn Đức"), "Nguyễn Văn Đức"),
        (nfd("Trần Thị Thuỷ"), "Trần Thị Thuỷ"),
        ("\u00d0ặng Văn \u00d0ức", "Đặng Văn Đức"),
        ("ðỗ thị hà", "đỗ thị hà"),
        ("  Lê   Văn\tTám \n", "Lê Văn Tám"),
        ("Phạm\u00a0Thị\u00a0Lan", "Phạm Thị Lan"),
        (None, ""),
        ("", ""),
        (1958, "1958"),
    ],
)
def test_clean_normalises_text(raw, expected):
    cleaned = clean(raw)

    assert cleaned == expected


def test_clean_returns_composed_form():
    decomposed = nfd("Nguyễn Văn Đức")

    cleaned = clean(decomposed)

    assert unicodedata.is_normalized("NFC", cleaned)
    assert len(cleaned) == len("Nguyễn Văn Đức")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("TRẦN VĂN AN", "Trần Văn An"),
        ("nguyễn thị đào", "Nguyễn Thị Đào"),
        ("ĐẶNG ĐỨC", "Đặng Đức"),
        ("lÊ vĂN tÁM", "Lê Văn Tám"),
        ("ƯNG HOÀNG PHÚC", "Ưng Hoàng Phúc"),
        ("Hồ  Thị Ánh", "Hồ Thị Ánh"),
        ("", ""),
    ],
)
def test_proper_case_capitalises_words(name, expected):
    result = proper_case(name)

    assert result == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Văn Đức", "nguyen van duc"),
        (nfd("Nguyễn Văn Đức"), "nguyen van duc"),
        ("\u00d0ặng Văn \u00d0ức", "dang van duc"),
        ("TRẦN THỊ THUỶ", "tran thi thuy"),
        ("Ưng Ơn Ấn Ăn Ê Ô", "ung on an an e o"),
        ("  Lê   Văn  Tám ", "le van tam"),
        ("", ""),
    ],
)
def test_fold_drops_marks_and_case(text, expected):
    key = fold(text)

    assert key == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hoà", "Hòa"),
        ("THUỶ", "THỦY"),
        ("Thuý", "Thúy"),
        ("Thuỵ", "Thụy"),
        ("khoẻ", "khỏe"),
        ("xoè", "xòe"),
        ("hoạ", "họa"),
        ("Nguyễn Thị Hoà Bình", "Nguyễn Thị Hòa Bình"),
        (nfd("Hoà"), "Hòa"),
        ("quý", "quý"),
        ("QUÝ", "QUÝ"),
        ("Hoàng", "Hoàng"),
        ("Quỳnh", "Quỳnh"),
        ("Huỳnh", "Huỳnh"),
        ("Hòa", "Hòa"),
        ("Uyên", "Uyên"),
    ],
)
def test_modern_tones_moves_final_tone(text, expected):
    result = modern_tones(text)

    assert result == expected


# Pairs (earlier, later) in the order of an official list.
SORT_PAIRS = [
    # A word that is a prefix of another comes first.
    ("An", "Anh"),
    # Letters decide before tones: "Ánh" (a) sorts before "Ăn" (ă) despite its tone.
    ("Anh", "Ánh"),
    ("Ánh", "Ăn"),
    ("Hàng", "Hanh"),
    # The alphabet: a ă â, d đ, o ô ơ, u ư.
    ("An", "Ăn"),
    ("Ăn", "Ân"),
    ("Duy", "Đa"),
    ("Dũng", "Đức"),
    ("Đức", "Em"),
    ("Ong", "Ông"),
    ("Ông", "Ơn"),
    ("Ung", "Ưng"),
    # Tones: none, huyền, hỏi, ngã, sắc, nặng.
    ("Ma", "Mà"),
    ("Mà", "Mả"),
    ("Mả", "Mã"),
    ("Mã", "Má"),
    ("Má", "Mạ"),
    # Given name first, then middle names, then family name.
    ("Trần Văn An", "Nguyễn Văn Bình"),
    ("Lê Thị Hoa", "Nguyễn Văn Hoa"),
    ("Lê Văn An", "Nguyễn Văn An"),
    ("Trần Văn An", "Lê Thị Án"),
    ("Võ Thị Mai Anh", "Lê Văn Ánh"),
]


@pytest.mark.parametrize(("earlier", "later"), SORT_PAIRS)
def test_name_sort_key_orders_pair(earlier, later):
    earlier_key = name_sort_key(earlier)
    later_key = name_sort_key(later)

    assert earlier_key < later_key


@pytest.mark.parametrize(("earlier", "later"), SORT_PAIRS)
def test_sort_key_text_orders_pair(earlier, later):
    earlier_key = sort_key_text(earlier)
    later_key = sort_key_text(later)

    assert earlier_key < later_key


OFFICIAL_ORDER = [
    "Trần Văn An",
    "Nguyễn Thị Àn",
    "Lê Văn Án",
    "Phạm Minh Anh",
    "Vũ Ngọc Ánh",
    "Hồ Văn Ăn",
    "Vũ Bảo Ân",
    "Lê Thị Dung",
    "Nguyễn Văn Dũng",
    "Trần Văn Duy",
    "Bùi Văn Đa",
    "Đặng Thị Đào",
    "Lê Văn Đức",
    "Nguyễn Văn Đức",
    "Ngô Thị Em",
    "Phan Văn Ma",
    "Đỗ Thị Mạ",
]


def test_official_order_sorts_table():
    shuffled = OFFICIAL_ORDER[::-1]

    result = sorted(shuffled, key=name_sort_key)

    assert result == OFFICIAL_ORDER


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("\u00d0ặng Văn \u00d0ức", "Đặng Văn Đức"),
        (nfd("Nguyễn Văn Đức"), "Nguyễn Văn Đức"),
        ("NGUYỄN VĂN ĐỨC", "Nguyễn Văn Đức"),
        ("  Nguyễn  Văn Đức ", "Nguyễn Văn Đức"),
    ],
)
def test_sort_key_ignores_spelling_variants(variant, name):
    variant_key = name_sort_key(variant)

    assert variant_key == name_sort_key(name)


def _sample_names(count: int) -> list[str]:
    """Build full names from the given-name lists, some with Ð, upper case or decomposed marks."""
    lines = []
    for file_name in ("boy.txt", "girl.txt"):
        lines += (GIVEN_NAMES / file_name).read_text("utf-8").splitlines()
    given_names = [line.strip() for line in lines if line.strip()]

    generator = random.Random(20251015)
    names = []
    for index in range(count):
        name = f"{generator.choice(FAMILY_NAMES)} {generator.choice(given_names)}"
        if index % 7 == 0:
            name = name.upper()
        if index % 11 == 0:
            name = nfd(name)
        names.append(name)
    return names


def test_sort_key_text_agrees_with_tuple():
    names = _sample_names(400)
    assert any("\u00d0" in name for name in names), "sample must include names typed with Ð"

    by_text = sorted(names, key=sort_key_text)
    by_tuple = sorted(names, key=name_sort_key)

    assert by_text == by_tuple
