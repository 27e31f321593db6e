"""Find the header row of a list and map its columns to roster fields by their Vietnamese names."""

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .legacy import decode_tcvn3, decode_vni, fix_legacy, guess_encoding, is_vietnamese_word
from .spreadsheet import Sheet
from .text import clean, fold

# Roster fields a column can feed, with the label shown in the preview's mapping menus.
FIELDS = {
    "full_name": _l("Họ và tên"),
    "family_middle": _l("Họ đệm"),
    "family_name": _l("Họ"),
    "middle_name": _l("Tên đệm"),
    "given_name": _l("Tên"),
    "birth_date": _l("Ngày sinh"),
    "sex": _l("Giới tính"),
    "male_mark": _l("Nam (đánh dấu x)"),
    "female_mark": _l("Nữ (đánh dấu x)"),
    "cccd": _l("Số CCCD / định danh"),
    "phone": _l("Điện thoại"),
    "address": _l("Địa chỉ"),
    "tdp": _l("Tổ dân phố"),
    "class_name": _l("Lớp"),
    "parent_name": _l("Họ tên phụ huynh"),
    "parent_phone": _l("SĐT phụ huynh"),
    "household": _l("Mã hộ"),
    "relation": _l("Quan hệ với chủ hộ"),
    "bhyt": _l("Số thẻ BHYT"),
    "notes": _l("Ghi chú / đối tượng"),
}

# Header texts after fold() and punctuation removal, exactly as lists write them.
_EXACT = {
    "stt": None, "tt": None, "so tt": None, "so thu tu": None,
    "ho va ten": "full_name", "ho ten": "full_name", "ten hoc sinh": "full_name", "ten tre": "full_name",
    "ho dem": "family_middle", "ho va dem": "family_middle", "ho va ten dem": "family_middle",
    "ho va chu dem": "family_middle", "ho lot": "family_middle", "ho va ten lot": "family_middle",
    "ho": "family_name", "ten dem": "middle_name", "chu dem": "middle_name", "ten lot": "middle_name",
    "ten": "given_name",
    "ngay sinh": "birth_date", "ngay thang nam sinh": "birth_date", "sinh ngay": "birth_date", "ns": "birth_date",
    "nam sinh": "birth_date", "dob": "birth_date",
    "gioi tinh": "sex", "gioi": "sex", "phai": "sex", "gt": "sex", "nam nu": "sex",
    "nam": "male_mark", "nu": "female_mark",
    "cccd": "cccd", "so cccd": "cccd", "so dinh danh": "cccd", "so dinh danh ca nhan": "cccd",
    "ma dinh danh": "cccd", "so can cuoc": "cccd", "can cuoc": "cccd", "cmnd": "cccd", "so cmnd": "cccd",
    "dien thoai": "phone", "so dien thoai": "phone", "sdt": "phone", "dt": "phone", "di dong": "phone", "so dt": "phone",
    "dia chi": "address", "noi o": "address", "noi o hien nay": "address", "cho o hien nay": "address",
    "noi cu tru": "address",
    "to dan pho": "tdp", "tdp": "tdp", "to": "tdp", "khu pho": "tdp", "to dp": "tdp", "thon": "tdp",
    "lop": "class_name",
    "phu huynh": "parent_name", "nguoi giam ho": "parent_name",
    "ghi chu": "notes", "doi tuong": "notes", "phan loai ho": "notes", "loai ho": "notes",
    "dien uu tien": "notes", "dien": "notes", "nhom doi tuong": "notes", "chinh sach": "notes",
    "dang khuyet tat": "notes", "muc do khuyet tat": "notes", "loai doi tuong": "notes",
    "ma ho": "household", "so ho": "household", "ma ho gia dinh": "household", "ma so ho": "household",
    "quan he": "relation", "quan he voi chu ho": "relation", "quan he chu ho": "relation",
    "bhyt": "bhyt", "so the bhyt": "bhyt", "ma the bhyt": "bhyt", "the bhyt": "bhyt", "so bhxh": "bhyt",
}

# Longer or decorated headers ("Họ tên mẹ (người chăm sóc)", "Số CCCD (12 số)"), tried in order.
_PATTERNS = [
    (re.compile(r"\b(sdt|dien thoai|so dt)\b.*\b(phu huynh|bo|me|cha|giam ho|gia dinh)\b"), "parent_phone"),
    (re.compile(r"\bho\b.*\bten\b.*\b(phu huynh|bo|me|cha|giam ho|nguoi cham soc)\b"), "parent_name"),
    (re.compile(r"^(ho va ten|ho ten|ten hoc sinh)\b"), "full_name"),
    (re.compile(r"\b(cccd|can cuoc|dinh danh|cmnd)\b"), "cccd"),
    (re.compile(r"\bngay\b.*\bsinh\b|\bnam sinh\b"), "birth_date"),
    (re.compile(r"\bgioi tinh\b"), "sex"),
    (re.compile(r"\b(dien thoai|sdt)\b"), "phone"),
    (re.compile(r"\bdia chi\b"), "address"),
    (re.compile(r"\bto dan pho\b"), "tdp"),
    (re.compile(r"\b(bhyt|bao hiem y te)\b"), "bhyt"),
    (re.compile(r"\b(ghi chu|doi tuong)\b"), "notes"),
]

_PUNCTUATION = re.compile(r"[^a-z0-9]+")
_NUMBERING = re.compile(r"^\(?\d{1,2}\)?$")
_HEADER_SEARCH_ROWS = 30


@dataclass
class Layout:
    """A sheet's header position, the field each column feeds, and the title text above the header."""

    header_row: int
    data_start: int
    headers: list[str]
    mapping: dict[int, str]
    title: str = ""
    notes: list[str] = field(default_factory=list)

    def signature(self) -> str:
        """Return the folded header texts, which identify a sender's layout for remembered corrections."""
        return "|".join(header_key(header) for header in self.headers)


def header_key(text: object) -> str:
    """Return a header's text folded, without punctuation, for matching against known names."""
    decoded, _ = fix_legacy(clean(text))
    return _PUNCTUATION.sub(" ", fold(decoded)).strip()


def field_for_header(text: object) -> str | None:
    """Return the roster field a header names, or None."""
    key = header_key(text)
    found = _field_for_key(key)
    if found or not key:
        return found

    # Short legacy headers escape detection: "S§T" has no vowel and "Líp" is a word too.
    # Trying the decodings only when nothing else matched keeps real headers as they are.
    for decode in (decode_tcvn3, decode_vni):
        found = _field_for_key(header_key(decode(clean(text))))
        if found:
            return found
    return None


def _field_for_key(key: str) -> str | None:
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    for pattern, name in _PATTERNS:
        if pattern.search(key):
            return name
    return None


def detect_layout(sheet: Sheet) -> Layout | None:
    """Find the header row under any title and blank rows, and map its columns; None if there is none."""
    best, best_score = None, 1
    for position, (_, values) in enumerate(sheet.rows[:_HEADER_SEARCH_ROWS]):
        fields = [field_for_header(value) for value in values]
        named = {name for name in fields if name and name not in ("male_mark", "female_mark")}
        has_name = "full_name" in named or "given_name" in named
        score = len(named) + (2 if has_name else 0)
        # Three known columns make a header even without a name column, so the file gets
        # the clearer "no name column" message rather than "no header".
        if (has_name or len(named) >= 3) and score > best_score:
            best, best_score = position, score
    if best is None:
        return None
    return _layout_at(sheet, best)


def _layout_at(sheet: Sheet, position: int) -> Layout:
    number, values = sheet.rows[position]
    headers = _decoded_headers([clean(value) for value in values])
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = field_for_header(header)
        if name and (name in ("notes", "phone") or name not in mapping.values()):
            mapping[index] = name

    data_start = position + 1
    # A second header row under a merged cell: "Giới tính" over "Nam" and "Nữ".
    if data_start < len(sheet.rows):
        below = sheet.rows[data_start][1]
        subfields = {index: field_for_header(value) for index, value in enumerate(below)}
        marks = {index: name for index, name in subfields.items() if name in ("male_mark", "female_mark")}
        filled = [index for index, value in enumerate(below) if clean(value)]
        # Only a row of nothing but "Nam"/"Nữ" is a sub-header; a data row also has a name and more.
        if marks and len(filled) == len(marks):
            for index, name in marks.items():
                mapping[index] = name
                if index < len(headers):
                    headers[index] = " ".join(part for part in (headers[index], clean(below[index])) if part)
            data_start += 1

    # A numbering row such as "1 2 3 4" or "(1) (2) (3)" under the header.
    if data_start < len(sheet.rows):
        cells = [clean(value) for value in sheet.rows[data_start][1] if clean(value)]
        if len(cells) >= 3 and all(_NUMBERING.match(cell) for cell in cells):
            data_start += 1

    title = " ".join(
        clean(fix_legacy(clean(value))[0]) for _, row in sheet.rows[:position] for value in row if clean(value)
    )
    return Layout(number, data_start, headers, mapping, title=title)


def _decoded_headers(cells: list[str]) -> list[str]:
    """Decode a header row as a whole: in a TCVN3 row, "Ghi chó" is "Ghi chú" though "chó" is a word too."""
    encoding = guess_encoding(cells)
    decoders = {"tcvn3": decode_tcvn3, "vni": decode_vni}
    headers = []
    for cell in cells:
        fixed, found = fix_legacy(cell)
        if encoding and not found:
            candidate = decoders[encoding](cell)
            words = re.findall(r"[^\W\d_]+", candidate)
            if all(is_vietnamese_word(word) for word in words) or field_for_header(candidate):
                fixed = candidate
        headers.append(fixed)
    return headers


def apply_override(layout: Layout, override: dict[int, str | None]) -> Layout:
    """Return the layout with the officer's column choices applied (None means ignore the column)."""
    mapping = dict(layout.mapping)
    for index, name in override.items():
        mapping.pop(index, None)
        if name:
            mapping[index] = name
    return Layout(layout.header_row, layout.data_start, layout.headers, mapping, layout.title, layout.notes)


def has_name_column(mapping: dict[int, str]) -> bool:
    """True if the mapping has a full-name column or a given-name column."""
    return any(name in ("full_name", "given_name") for name in mapping.values())
