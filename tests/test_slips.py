"""Printed invitation slips: render real PDFs with both engines, then scan them back with zxing-cpp."""

import datetime as dt
import io
import math
import unicodedata
from collections import Counter

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageFilter

from fieldapp.slips import ENGINES, LAYOUTS, Bundle, Slip, render_slips
from fieldapp.slips.codes import qr_symbol, qr_symbols
from fieldapp.slips.cover import COVER_TITLE, SIGN_COLUMN
from fieldapp.slips.slip_design import QR_SIZE
from fieldapp.tokens import new_token, short_code

NAMES = [
    "Nguyễn Thị Ngọc Ánh", "Đặng Quốc Ưng", "Huỳnh Thị Thủy", "Lê Văn Ẩn", "Trần Thị Bích Ngọc",
    "Phạm Văn Đức", "Hoàng Thị Hương", "Vũ Đình Dũng", "Võ Thị Yến", "Bùi Quang Huy",
    "Đỗ Thị Lụa", "Hồ Văn Ổn", "Ngô Thị Hằng", "Dương Văn Sửu", "Lý Thị Kiều Oanh",
    "Đinh Công Tráng", "Trương Thị Mỹ Dung", "Lâm Văn Út", "Tôn Nữ Thị Hoàng Phương Uyên", "Phan Bội Ngữ",
    "Nguyễn Văn Bảy", "Trần Thị Thu Trang", "Lê Thị Ẩm", "Phạm Thị Ỷ", "Hoàng Văn Ước",
    "Huỳnh Tấn Phát", "Đặng Thị Ỏn", "Vũ Thị Nguyệt", "Võ Văn Kiệt", "Bùi Thị Xuân",
    "Đỗ Quang Đẩu", "Hồ Thị Kỷ", "Ngô Văn Chiến", "Dương Thị Ửng", "Lý Công Uẩn",
    "Đinh Bộ Lĩnh", "Trương Văn Thắng", "Lâm Thị Mỹ Dạ", "Nguyễn Hữu Cảnh", "Trần Quốc Toản",
    "Lê Thị Riêng", "Phạm Ngũ Lão", "Hoàng Hoa Thám", "Huỳnh Thúc Kháng", "Đặng Thùy Trâm",
    "Vũ Trọng Phụng", "Võ Thị Sáu", "Bùi Viện", "Đỗ Nhuận", "Hồ Xuân Hương",
    "Ngô Sĩ Liên", "Dương Quảng Hàm", "Lý Tự Trọng", "Đinh Tiên Hoàng", "Trương Định",
    "Lâm Quang Thự", "Nguyễn Thị Định", "Trần Hưng Đạo", "Lê Lợi", "Phạm Thị Ngọc Diễm",
]
AREAS = ["Tổ dân phố 3", "Tổ dân phố 7", "Lớp 6A"]
DPI = 150
MM_PER_INCH = 25.4


def make_bundles() -> list[Bundle]:
    bundles = []
    for number, area in enumerate(AREAS):
        slips = []
        for index in range(20):
            token = new_token()
            start_minute = 7 * 60 + 30 * (index % 8)
            slips.append(Slip(
                token=token,
                short_code=short_code(token),
                full_name=NAMES[number * 20 + index],
                birth_year=str(1940 + index * 3),
                area=area,
                group_label="Nhóm 2: Người cao tuổi",
                date=dt.date(2026, 12, 12),
                slot_start=f"{start_minute // 60:02d}:{start_minute % 60:02d}",
                slot_end=f"{(start_minute + 30) // 60:02d}:{(start_minute + 30) % 60:02d}",
                site_name="Trường THCS Lê Quý Đôn",
                site_address="số 12 đường Nguyễn Trãi, khu phố 4",
                ward="Phường An Lạc",
                station="Trạm Y tế phường An Lạc",
                title="GIẤY MỜI KHÁM SỨC KHỎE MIỄN PHÍ NĂM 2026",
                bring=["Căn cước công dân (CCCD)", "Thẻ bảo hiểm y tế (nếu có)"],
                fasting=index % 3 == 0,
            ))
        leader = "Giáo viên chủ nhiệm" if area.startswith("Lớp") else "Tổ trưởng tổ dân phố"
        bundles.append(Bundle(area=area, leader_title=leader, slips=slips))
    return bundles


def render(bundles: list[Bundle], engine: str, layout: str = "a4-8") -> tuple[pdfium.PdfDocument, int]:
    buffer = io.BytesIO()
    pages = render_slips(bundles, buffer, layout=layout, engine=engine)
    return pdfium.PdfDocument(buffer.getvalue()), pages


def page_images(document: pdfium.PdfDocument, dpi: int) -> list[Image.Image]:
    return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]


def decode(images: list[Image.Image], formats) -> list[zxingcpp.Barcode]:
    return [barcode for image in images for barcode in zxingcpp.read_barcodes(image, formats=formats)]


def cells(image: Image.Image, layout_name: str, dpi: int) -> list[Image.Image]:
    """Crop the slip cells out of a page image, because zxing-cpp misses some of 8 Code128 symbols on a whole page."""
    layout = LAYOUTS[layout_name]
    pixels = dpi / MM_PER_INCH
    crops = []
    for index in range(layout.per_page):
        row, column = divmod(index, layout.columns)
        left = (layout.margin_x + column * layout.cell_width) * pixels
        top = (layout.margin_y + row * layout.cell_height) * pixels
        box = (round(left), round(top), round(left + layout.cell_width * pixels), round(top + layout.cell_height * pixels))
        crops.append(image.crop(box))
    return crops


def degrade(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Imitate a cheap printer and a phone photo: blur, sensor noise, JPEG at quality 50 (on 100 dpi pages).

    All 60 QR codes still decoded with blur 1.2 px, noise 20 and quality 40, and 42 of 60 with
    1.5 px, 25 and 30, so these settings are realistic, not the limit.
    """
    blurred = image.filter(ImageFilter.GaussianBlur(0.7))
    pixels = np.asarray(blurred, dtype=np.float32) + rng.normal(0.0, 12.0, (blurred.height, blurred.width))
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    noisy.save(buffer, format="JPEG", quality=50)
    return Image.open(io.BytesIO(buffer.getvalue()))


def all_tokens(bundles: list[Bundle]) -> Counter:
    return Counter(slip.token for bundle in bundles for slip in bundle.slips)


@pytest.fixture(scope="module")
def bundles() -> list[Bundle]:
    return make_bundles()


@pytest.fixture(scope="module", params=ENGINES)
def rendered(request, bundles):
    document, pages = render(bundles, request.param)
    return document, pages, page_images(document, DPI)


@pytest.fixture(scope="module")
def text(rendered) -> str:
    document = rendered[0]
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_page_count_matches_pdf(rendered):
    document, pages, _ = rendered

    # Each bundle of 20: one cover page and 3 pages of 8 slips.
    assert pages == 12
    assert len(document) == pages


def test_qr_codes_decode_to_tokens(rendered, bundles):
    found = decode(rendered[2], zxingcpp.BarcodeFormat.QRCode)

    assert Counter(barcode.text for barcode in found) == all_tokens(bundles)


def test_barcodes_decode_to_tokens(rendered, bundles):
    crops = [crop for image in rendered[2][1:4] + rendered[2][5:8] + rendered[2][9:12] for crop in cells(image, "a4-8", DPI)]

    found = decode(crops, zxingcpp.BarcodeFormat.Code128)

    assert Counter(barcode.text for barcode in found) == all_tokens(bundles)


def test_degraded_qr_codes_mostly_decode(rendered, bundles):
    document = rendered[0]
    rng = np.random.default_rng(7)
    images = [degrade(image, rng) for image in page_images(document, 100)]

    found = Counter(barcode.text for barcode in decode(images, zxingcpp.BarcodeFormat.QRCode))

    expected = all_tokens(bundles)
    correct = sum(min(found[token], 1) for token in expected)
    assert correct >= math.ceil(0.99 * len(expected))
    assert set(found) <= set(expected)


def test_qr_symbol_at_least_22mm(rendered):
    found = decode(rendered[2][1:2], zxingcpp.BarcodeFormat.QRCode)

    widths_mm = [
        (barcode.position.top_right.x - barcode.position.top_left.x) / DPI * MM_PER_INCH for barcode in found
    ]
    assert len(widths_mm) == 8
    assert min(widths_mm) >= 22.0
    assert QR_SIZE * LAYOUTS["a4-8"].scale >= 22.0


def test_text_contains_full_names(text, bundles):
    names = [slip.full_name for bundle in bundles for slip in bundle.slips]

    missing = [name for name in names if name not in text]

    assert missing == []
    assert unicodedata.is_normalized("NFC", text)


def test_text_contains_short_codes(text, bundles):
    codes = [slip.short_code for bundle in bundles for slip in bundle.slips]

    missing = [code for code in codes if code not in text]

    assert missing == []


def test_cover_list_shows_title(text):
    titles = [f"{COVER_TITLE}: {area}" for area in AREAS]

    assert all(title in text for title in titles)
    assert text.count(SIGN_COLUMN) == 3
    assert "Thứ Bảy, 12/12/2026" in text
    assert "Nhịn ăn sáng (có xét nghiệm đường huyết)" in text


@pytest.mark.parametrize("engine", ENGINES)
def test_a5_layout_decodes_every_token(engine, bundles):
    document, pages = render(bundles, engine, layout="a5-2")
    images = page_images(document, DPI)

    found = decode(images, zxingcpp.BarcodeFormat.QRCode)

    # Each bundle of 20: two A5 cover pages, because 20 rows and the signature do not fit on one,
    # and 10 pages of 2 slips.
    assert pages == 3 * (2 + 10)
    assert Counter(barcode.text for barcode in found) == all_tokens(bundles)


def test_progress_counts_increase_to_total(bundles):
    calls = []

    render_slips(bundles, io.BytesIO(), progress=lambda done, total: calls.append((done, total)))

    counts = [done for done, _ in calls]
    assert counts == sorted(set(counts))
    assert counts[-1] == 60
    assert {total for _, total in calls} == {60}


def test_parallel_qr_matches_serial():
    tokens = [new_token() for _ in range(6)]

    parallel = list(qr_symbols(tokens, workers=2))

    assert parallel == [qr_symbol(token) for token in tokens]


def test_unknown_engine_rejected(bundles):
    with pytest.raises(ValueError, match="unknown PDF engine 'pdfkit'"):
        render_slips(bundles, io.BytesIO(), engine="pdfkit")


def test_unknown_layout_rejected(bundles):
    with pytest.raises(ValueError, match="unknown slip layout 'letter'"):
        render_slips(bundles, io.BytesIO(), layout="letter")


def test_path_output_writes_pdf(tmp_path, bundles):
    path = tmp_path / "slips.pdf"

    pages = render_slips(bundles[:1], path)

    assert pages == 4
    assert path.read_bytes().startswith(b"%PDF-")
