"""Tests for TCVN3 and VNI-Windows detection, decoding and encoding."""

import shutil
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from fieldapp import legacy
from fieldapp.text import modern_tones
from fieldapp.legacy import (
    decode_tcvn3,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    fix_legacy,
    guess_encoding,
    is_vietnamese_word,
    vietnamese_score,
)

DATA = Path(__file__).parent / "data"


def _given_names() -> list[str]:
    """Read the given-name lists (duyet/vietnamese-namedb, MIT), one name a line."""
    folder = DATA / "vn-given-names"
    lines = (folder / "boy.txt").read_text("utf-8").splitlines() + (folder / "girl.txt").read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


GIVEN_NAMES = _given_names()
# Some lines of the lists type U+00D0 (Ð) for Đ. Legacy fonts have only Đ, so round trips use Đ.
GIVEN_NAMES_WITH_DJ = [name.replace("Ð", "Đ") for name in GIVEN_NAMES]

TCVN3_EXAMPLES = [
    ("NguyÔn V¨n An", "Nguyễn Văn An"),
    ("§ång Tó NguyÖt", "Đồng Tú Nguyệt"),
    ("Hä tªn", "Họ tên"),
    ("Ngµy th¸ng n¨m sinh", "Ngày tháng năm sinh"),
    ("Giíi tÝnh", "Giới tính"),
    ("§iÖn tho¹i", "Điện thoại"),
    ("§Þa chØ", "Địa chỉ"),
    ("N÷", "Nữ"),
    ("NG¦êI CAO TUæI", "NGƯỜI CAO TUỔI"),
    ("T\xadêng", "Tường"),
    ("ng\xadêi", "người"),
    ("DANH S¸CH NG¦êI CAO TUæI TDP 7", "DANH SÁCH NGƯỜI CAO TUỔI TDP 7"),
    ("Sè nhµ 319, ®\xadêng B¹ch §»ng", "Số nhà 319, đường Bạch Đằng"),
    ("S§T ng\xadêi nhµ", "SĐT người nhà"),
]

VNI_EXAMPLES = [
    ("Nguyeãn Vaên An", "Nguyễn Văn An"),
    ("Ñoàng Tuù Nguyeät", "Đồng Tú Nguyệt"),
    ("Tröôøng Ñaïi hoïc", "Trường Đại học"),
    ("Ngöôøi cao tuoåi", "Người cao tuổi"),
    ("Nöõ", "Nữ"),
    ("Quyønh Nhö", "Quỳnh Như"),
    ("Hoà Thò Kyø", "Hồ Thị Kỳ"),
    ("NGUYEÃN THÒ AÙNH", "NGUYỄN THỊ ÁNH"),
]

# Row in tdp-07-tcvn3.xlsx (column B), the person's true name, and whether the row is TCVN3
# (False: the cell was pasted as Unicode and must stay as it is).
SAMPLE_ROWS = [
    (4, "Nguyễn Lâm Tường", True),
    (5, "Nguyễn Thi Xuân", True),
    (6, "Trần Khánh Hoàn", False),
    (7, "Hoàng Thị Vân", True),
    (8, "Nguyễn Văn Vinh", True),
    (9, "Nguyễn Thái Chi", True),
    (10, "Phạm Văn Hiếu", True),
    (11, "Nguyễn Thị Hợp", True),
    (12, "Mai Thị Mai", True),
    (13, "Lý Văn Hưng", True),
    (14, "Đặng Thị Hoa", True),
    (15, "Nguyễn Thị Trang", True),
    (16, "Dương Xuân Thắng", True),
    (17, "Nguyễn Uyên Vi", True),
    (18, "Nguyễn Văn Thiện Khiêm", True),
    (19, "Đồng Tú Nguyệt", True),
    (20, "Nguyễn Văn Sơn", True),
    (21, "Đinh Công Hưng", True),
    (22, "Nguyễn Thị Hồng", True),
    (23, "Nguyễn Chí Công", True),
    (24, "Hoàng Văn Đức", True),
    (25, "Phan Văn Vinh", True),
    (26, "Nguyễn Thị Hạnh Vi", True),
    (27, "Phan Văn Lân", True),
    (28, "Phạm Văn Sơn", True),
    (29, "Nguyễn Văn Lộc", True),
    (30, "Đặng Thị Oanh", True),
    (31, "Phạm Thị Hồng", False),
    (32, "Lê Mạnh Bình", True),
    (33, "Phạm Anh Hương", True),
]


@pytest.fixture(scope="module")
def sample_sheet():
    return openpyxl.load_workbook(DATA / "tdp-07-tcvn3.xlsx").active


# --- Tables ---------------------------------------------------------------------------------------

def _glibc_tcvn_to_unicode(code: str) -> str | None:
    result = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=code.encode("latin-1"), capture_output=True)
    return unicodedata.normalize("NFC", result.stdout.decode()) if result.returncode == 0 else None


@pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv is not installed")
def test_tcvn3_table_matches_glibc():
    if _glibc_tcvn_to_unicode("a") is None:
        pytest.skip("iconv has no TCVN5712-1 converter")
    mismatches = [
        (code, letter, _glibc_tcvn_to_unicode(code))
        for code, letter in zip(legacy._TCVN3_CODES, legacy._TCVN3_LETTERS)
        if _glibc_tcvn_to_unicode(code) != letter
    ]
    assert mismatches == []


def test_tcvn3_table_is_one_to_one():
    assert len(set(legacy._TCVN3_CODES)) == len(legacy._TCVN3_LETTERS)
    assert len(set(legacy._TCVN3_LETTERS)) == len(legacy._TCVN3_LETTERS)


# --- Decoding and encoding ------------------------------------------------------------------------

@pytest.mark.parametrize(("encoded", "expected"), TCVN3_EXAMPLES)
def test_decode_tcvn3_examples(encoded, expected):
    assert decode_tcvn3(encoded) == expected


@pytest.mark.parametrize(("encoded", "expected"), VNI_EXAMPLES)
def test_decode_vni_examples(encoded, expected):
    assert decode_vni(encoded) == expected


@pytest.mark.parametrize(("encoded", "expected"), TCVN3_EXAMPLES)
def test_fix_legacy_finds_tcvn3(encoded, expected):
    assert fix_legacy(encoded) == (expected, "tcvn3")


@pytest.mark.parametrize(("encoded", "expected"), VNI_EXAMPLES)
def test_fix_legacy_finds_vni(encoded, expected):
    assert fix_legacy(encoded) == (expected, "vni")


@pytest.mark.parametrize(
    ("text", "tcvn3", "vni"),
    [
        ("Nguyễn Văn An", "NguyÔn V¨n An", "Nguyeãn Vaên An"),
        ("Đồng Tú Nguyệt", "§ång Tó NguyÖt", "Ñoàng Tuù Nguyeät"),
        ("Trường", "Tr\xadêng", "Tröôøng"),
    ],
)
def test_encode_examples(text, tcvn3, vni):
    assert encode_tcvn3(text) == tcvn3
    assert encode_vni(text) == vni


@pytest.mark.parametrize(
    ("encode", "decode"), [(encode_tcvn3, decode_tcvn3), (encode_vni, decode_vni)], ids=["tcvn3", "vni"]
)
def test_round_trip_every_given_name(encode, decode):
    failures = [(name, encode(name), decode(encode(name))) for name in GIVEN_NAMES_WITH_DJ if decode(encode(name)) != name]
    assert failures == []


def test_round_trip_lower_case_alphabet():
    letters = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ"
    assert decode_tcvn3(encode_tcvn3(letters)) == letters
    assert decode_vni(encode_vni(letters)) == letters
    assert decode_vni(encode_vni(letters.upper())) == letters.upper()


def test_tcvn3_capitals_without_code_restored_in_names():
    # VN3 has no Á, so "Công Án" is typed "C«ng ¸n" and the name context restores the capital.
    assert decode_tcvn3("C«ng ¸n") == "Công Án"
    assert decode_tcvn3("¸nh s¸ng") == "ánh sáng"


def test_decoded_text_is_nfc():
    decoded = decode_vni("Nguyeãn") + decode_tcvn3("NguyÔn")
    assert unicodedata.is_normalized("NFC", decoded)


# --- The sample roster ----------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "name", "is_tcvn3"), SAMPLE_ROWS)
def test_sample_roster_names(sample_sheet, row, name, is_tcvn3):
    cell = sample_sheet.cell(row, 2).value
    fixed, encoding = fix_legacy(cell)
    if is_tcvn3:
        assert fixed.strip() == name
        assert encoding == "tcvn3"
    else:
        assert fixed == cell
        assert encoding is None


def test_sample_roster_header(sample_sheet):
    headers = [fix_legacy(cell.value)[0] for cell in sample_sheet[3] if cell.value]
    assert headers[:7] == ["STT", "Họ tên", "Ngày tháng năm sinh", "Giới tính", "CCCD", "Điện thoại", "Địa chỉ"]


def test_sample_roster_guess_encoding(sample_sheet):
    assert guess_encoding(sample_sheet.cell(row, 2).value for row, _, _ in SAMPLE_ROWS) == "tcvn3"


# --- Unicode text stays as it is ------------------------------------------------------------------

def test_unicode_given_names_unchanged():
    changed = [(name, fix_legacy(name)) for name in GIVEN_NAMES if fix_legacy(name) != (name, None)]
    assert changed == []


@pytest.mark.parametrize(
    "text",
    [
        "Tô Thị Ánh",
        "Hà Văn Lý",
        "Đỗ Thị Huệ",
        "Võ Minh Tâm",
        "Lê Ý Nhi",
        "Ðức Ân",
        "Số nhà 30, ngõ 163, Tổ dân phố số 7",
        "SĐT của con",
        "Hoà Thuỷ",
        "Hòa Thủy",
        "Nguyễn Thị Ngọc Ánh",
    ],
)
def test_fix_legacy_keeps_unicode(text):
    assert fix_legacy(text) == (text, None)


def test_every_given_name_word_is_vietnamese():
    rejected = sorted({word for name in GIVEN_NAMES for word in name.split() if not is_vietnamese_word(word)})
    assert rejected == []


# --- Text that is neither ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "Müller", "José", "Straße", "façade", "naïve", "Ærø", "Zoë", "São Paulo", "Björk",
        "½", "1½ kg", "38°C", "©2024", "£50", "§12", "×3", "¸", "µg", "±5", "",
        "12/03/1960", "031062850274",
    ],
)
def test_fix_legacy_leaves_garbage(text):
    assert fix_legacy(text) == (text, None)


# --- Choosing between the encodings ---------------------------------------------------------------

def test_ambiguous_text_defaults_to_vni():
    # "Nhö Khang" is TCVN3 "Nhử Khang" or VNI "Như Khang", and ư is the more common letter.
    assert fix_legacy("Nhö Khang") == ("Như Khang", "vni")


def test_prefer_settles_ambiguous_text():
    assert fix_legacy("Nhö Khang", prefer="tcvn3") == ("Nhử Khang", "tcvn3")


def test_tie_rejects_broken_name_case():
    # VNI would read TCVN3 "LÖ Chi" as "LƯ Chi", a capital inside a title-case name.
    assert fix_legacy("LÖ Chi") == ("Lệ Chi", "tcvn3")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Hoµng ThÞ V©n", "Trần Văn An", "N÷"], "tcvn3"),
        (["Nguyeãn Vaên An", "Tröôøng", "Hà Nội"], "vni"),
        (["Nguyễn Văn An", "12", None], None),
    ],
)
def test_guess_encoding(texts, expected):
    assert guess_encoding(texts) == expected


# --- Syllable check and score ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "word",
    ["Nguyễn", "hoà", "hòa", "thuỷ", "thủy", "khoẻ", "khỏe", "Quỳnh", "quý", "giữ", "gì", "nghiêng",
     "khuya", "khuỷu", "tuyết", "người", "ăn", "Ðức", "ĐỨC", "xoong", "moóc", "Kiên", "John"],
)
def test_vietnamese_word_accepted(word):
    assert is_vietnamese_word(word)


@pytest.mark.parametrize(
    "word",
    ["Nguyeãn", "Vaên", "Hång", "NguyÔn", "Müller", "hàt", "ngì", "kà", "ghà", "qúa", "hóà", "ă", "bâ",
     "tín9", "an-ninh", "", "Coõng", "Ỹn", "Tuyêt"],
)
def test_vietnamese_word_rejected(word):
    assert not is_vietnamese_word(word)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Nguyễn Văn An", 1.0),
        ("Le Van An", 1.0),
        ("", 1.0),
        ("NguyÔn V¨n An", 0.0),
        ("Nguyễn Müller", 0.5),
        ("SĐT", 1.0),
    ],
)
def test_vietnamese_score(text, score):
    assert vietnamese_score(text) == score


# --- Tone placement -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("hoá", "hóa"),
        ("Hoà", "Hòa"),
        ("THUỶ", "THỦY"),
        ("Nguyễn Thị Thuỵ", "Nguyễn Thị Thụy"),
        ("Xoà", "Xòa"),
    ],
)
def test_normalize_tones_old_to_new(old, new):
    assert modern_tones(old) == new


@pytest.mark.parametrize("word", ["hòa", "thủy", "quý", "Quỳnh", "hoàng", "toán", "khuya", "hoài", "ngoài", "Nguyễn"])
def test_normalize_tones_leaves_other_words(word):
    assert modern_tones(word) == word
