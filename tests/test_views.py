"""The site's pages through the Flask test client, each test on its own SQLite data folder."""

import html
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from conftest import SAMPLE, SAMPLE_DATE
from fieldapp.crosscheck import disagreements
from fieldapp.exports import crosscheck_rows, people_rows
from fieldapp.importer import import_files
from fieldapp.text import fold
from fieldapp.web import birth_filter

TCVN3_LIST = SAMPLE / "tdp-07-tcvn3.xlsx"
POPULATION = SAMPLE / "cong-an-dan-cu.csv"
SAMPLE_LISTS = sorted(path for path in SAMPLE.glob("*.*") if path != POPULATION)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormFields(HTMLParser):
    """Collect the values a browser would submit from one form: inputs, checked radios, selected options."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and attributes.get("name") and attributes.get("type") != "file":
            if attributes.get("type") in ("radio", "checkbox") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value") or ""
        elif tag == "select":
            self.select = attributes["name"]
        elif tag == "option" and self.select:
            # The first option is the default, and a later option marked selected replaces it.
            if self.select not in self.fields or "selected" in attributes:
                self.fields[self.select] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def form_fields(page: str, action: str) -> dict[str, str]:
    """Return the fields the form posting to action would submit, as a browser fills them."""
    parser = FormFields(action)
    parser.feed(page)
    return parser.fields


def selected_field(page: str, select_name: str) -> str:
    """Return the option value a select on the page starts with."""
    return form_fields(page, "/imports/confirm")[select_name]


def listed_names(page: str) -> list[str]:
    """Return the people's names in a roster page or fragment, in the order shown."""
    people = page.split('<ol class="people">', 1)[-1]
    return [html.unescape(name) for name in re.findall(r"<strong>(.*?)</strong>", people)]


def table_count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


LIST_HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"]


def write_list(path: Path, rows: list[list[object]], headers: list[str] = LIST_HEADERS) -> Path:
    """Write a one-sheet .xlsx list with a header row and numbered rows; return its path."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    book.save(path)
    return path


def preview(client, path: Path, name: str | None = None, **form):
    """Upload a file to the preview page."""
    with path.open("rb") as handle:
        data = {"csrf_token": client.csrf, "kind": "list", "group": "", **form, "file": (handle, name or path.name)}
        return client.post("/imports/preview", data=data, content_type="multipart/form-data")


def confirm(client, preview_page: str, **changes):
    """Submit the preview's form as the browser would, with some fields changed."""
    fields = form_fields(preview_page, "/imports/confirm")
    fields.update(changes)
    return client.post("/imports/confirm", data=fields)


def column_index(preview_page: str, header: str) -> str:
    """Return the select name of the mapping row for a header shown in the preview."""
    found = re.search(rf"<td>{re.escape(header)}</td>\s*<td>\s*<select name=\"(map-\d+-\d+)\"", preview_page)
    return found.group(1)


@pytest.fixture
def sample_roster(db):
    import_files(db, SAMPLE_LISTS, SAMPLE_DATE)
    return db


@pytest.fixture
def crosschecked(sample_roster):
    import_files(sample_roster, [POPULATION], SAMPLE_DATE, kind="population")
    return sample_roster


# Signing in and request checks.


@pytest.mark.parametrize(
    "url",
    [
        "/roster/",
        "/roster/0190d000-0000-7000-8000-000000000000",
        "/roster/export.xlsx",
        "/imports/",
        "/imports/0190d000-0000-7000-8000-000000000000",
        "/review/",
        "/crosscheck/",
        "/crosscheck/export.xlsx",
    ],
)
def test_page_without_session_redirects_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_unknown_person_is_404(officer, db):
    response = officer.get("/roster/0190d000-0000-7000-8000-000000000000")

    assert response.status_code == 404
    assert "Không tìm thấy trang hoặc bản ghi này." in response.get_data(as_text=True)
    assert table_count(db, "person") == 0


def test_unknown_import_file_is_404(officer, db):
    response = officer.get("/imports/0190d000-0000-7000-8000-000000000000")

    assert response.status_code == 404
    assert "Không tìm thấy trang hoặc bản ghi này." in response.get_data(as_text=True)
    assert table_count(db, "source_file") == 0


def test_wrong_pin_is_401_with_message(client, db):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)

    response = client.post("/login", data={"username": "officer", "pin": "0000", "csrf_token": token})

    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mã PIN không đúng" in response.get_data(as_text=True)
    assert client.get("/roster/").status_code == 302
    failed = db.execute("SELECT count(*) FROM audit_event WHERE action = 'sign_in_failed'").fetchone()[0]
    assert failed == 1


def test_post_without_csrf_token_is_400(officer, db, tmp_path):
    book = write_list(tmp_path / "a.xlsx", [["Trần Văn Bình", "1950", "Nam", ""]])

    with book.open("rb") as handle:
        response = officer.post(
            "/imports/preview", data={"kind": "list", "file": (handle, "a.xlsx")}, content_type="multipart/form-data"
        )

    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)
    assert table_count(db, "source_file") == 0


def test_review_decision_without_csrf_is_400(officer, db):
    response = officer.post("/review/decide", data={"row_a": "a", "row_b": "b", "decision": "same"})

    assert response.status_code == 400
    assert table_count(db, "link_decision") == 0


# The roster list.


def test_search_ignores_tones_and_case(officer, sample_roster):
    expected = {row[0] for row in sample_roster.execute("SELECT full_name FROM person WHERE full_name LIKE 'Nguyễn Văn %'")}

    response = officer.post("/roster/", data={"q": "nguyen van", "csrf_token": officer.csrf})

    names = set(listed_names(response.get_data(as_text=True)))
    assert response.status_code == 200
    assert expected
    assert expected <= names


def test_search_treats_d_as_đ(officer, sample_roster):
    response = officer.post("/roster/", data={"q": "DUC", "csrf_token": officer.csrf})

    names = listed_names(response.get_data(as_text=True))
    assert any("Đức" in name.split() for name in names)
    assert all("duc" in fold(name) for name in names)


def test_search_count_matches_database(officer, sample_roster):
    expected = sum(
        1 for (key,) in sample_roster.execute("SELECT search_key FROM person") if re.search(r"(^| )duc", key)
    )

    response = officer.post("/roster/", data={"q": "đức", "csrf_token": officer.csrf})

    assert f"{expected} kết quả" in response.get_data(as_text=True)


def test_roster_sorts_by_given_name(officer, db, tmp_path):
    names = ["Hoàng Văn Đạt", "Đỗ Văn Ân", "Trần Văn Bình", "Lê Văn Anh", "Phạm Văn Dũng", "Nguyễn Thị An"]
    book = write_list(tmp_path / "tdp-01.xlsx", [[name, f"{1950 + i}", "", ""] for i, name in enumerate(names)])
    import_files(db, [book], SAMPLE_DATE)

    response = officer.get("/roster/")

    expected = ["Nguyễn Thị An", "Lê Văn Anh", "Đỗ Văn Ân", "Trần Văn Bình", "Phạm Văn Dũng", "Hoàng Văn Đạt"]
    assert listed_names(response.get_data(as_text=True)) == expected
    assert table_count(db, "person") == 6


def test_group_filter_lists_only_group(officer, sample_roster):
    in_group = [row[0] for row in sample_roster.execute("SELECT groups FROM person") if "7" in row[0].split(";")]

    response = officer.get("/roster/", query_string={"group": 7})

    page = response.get_data(as_text=True)
    people = page.split('<ol class="people">', 1)[1].split("</ol>", 1)[0]
    assert f"{len(in_group)} kết quả" in page
    assert people.count("<li>") == min(len(in_group), 100)
    assert people.count("<li>") == people.count(">N7</abbr>")


def test_htmx_search_returns_fragment(officer, sample_roster):
    response = officer.post("/roster/", data={"q": "nguyen", "csrf_token": officer.csrf}, headers={"HX-Request": "true"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page
    assert '<ol class="people">' in page
    assert "HX-Request" in response.headers["Vary"]


def test_full_roster_page_varies_on_htmx(officer, sample_roster):
    response = officer.post("/roster/", data={"q": "nguyen", "csrf_token": officer.csrf})

    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_person_page_shows_source_rows(officer, sample_roster):
    person_id, name = sample_roster.execute("SELECT id, full_name FROM person ORDER BY sort_key LIMIT 1").fetchone()
    files = {row[0] for row in sample_roster.execute("SELECT file_name FROM source_row WHERE person_id = ?", [person_id])}

    response = officer.get(f"/roster/{person_id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{html.escape(name)}</h1>" in page
    assert all(file_name in page for file_name in files)


def test_roster_export_lists_every_person(officer, sample_roster):
    response = officer.get("/roster/export.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert response.mimetype == XLSX_TYPE
    assert [row[:2] for row in rows] == [row[:2] for row in people_rows(sample_roster)]


# Uploading a list: preview, corrections, confirm.


def test_preview_shows_header_and_mapping(officer, db):
    response = preview(officer, TCVN3_LIST)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dòng tiêu đề: dòng 3." in page
    assert selected_field(page, column_index(page, "Họ tên")) == "full_name"
    assert selected_field(page, column_index(page, "Ngày tháng năm sinh")) == "birth_date"
    assert selected_field(page, column_index(page, "Điện thoại")) == "phone"


def test_preview_shows_rows_as_stored(officer, db):
    response = preview(officer, TCVN3_LIST)

    page = response.get_data(as_text=True)
    assert "<td>Nguyễn Lâm Tường <span class=\"tag\">TCVN3</span></td>" in page
    assert "<td>21/12/1962</td>" in page
    assert "<td>0767729718</td>" in page


def test_preview_notes_tcvn3_conversion(officer, db):
    response = preview(officer, TCVN3_LIST)

    assert "28 dòng được chuyển từ mã TCVN3/VNI sang Unicode." in response.get_data(as_text=True)


def test_preview_guesses_group(officer, db):
    response = preview(officer, TCVN3_LIST)

    page = response.get_data(as_text=True)
    assert selected_field(page, "group") == "2"
    assert "Nhóm được đoán từ tên tệp và tiêu đề" in page


def test_preview_writes_nothing(officer, db):
    preview(officer, TCVN3_LIST)

    assert table_count(db, "source_file") == 0
    assert table_count(db, "source_row") == 0
    assert table_count(db, "person") == 0


def test_confirm_imports_and_shows_report(officer, db):
    page = preview(officer, TCVN3_LIST).get_data(as_text=True)

    response = confirm(officer, page)

    file_id = db.execute("SELECT id FROM source_file WHERE name = 'tdp-07-tcvn3.xlsx'").fetchone()[0]
    assert response.status_code == 302
    assert response.headers["Location"] == f"/imports/{file_id}?status=imported"
    report = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập xong." in report
    assert "30 dòng đã nhập." in report
    assert table_count(db, "source_row") == 30
    assert db.execute("SELECT count(*) FROM person WHERE full_name = 'Nguyễn Lâm Tường'").fetchone()[0] == 1


def test_confirm_keeps_guessed_group(officer, db):
    page = preview(officer, TCVN3_LIST).get_data(as_text=True)

    confirm(officer, page)

    assert db.execute("SELECT list_group FROM source_file").fetchone()[0] == 2


def test_ignored_column_is_remembered(officer, db, tmp_path):
    page = preview(officer, TCVN3_LIST).get_data(as_text=True)
    phone = column_index(page, "Điện thoại")
    confirm(officer, page, **{phone: ""})
    copy = shutil.copy(TCVN3_LIST, tmp_path / "tdp-07-ban-sua.xlsx")

    second = preview(officer, Path(copy)).get_data(as_text=True)

    assert selected_field(second, phone) == ""
    assert db.execute("SELECT count(*) FROM source_row WHERE phone IS NOT NULL").fetchone()[0] == 0
    assert table_count(db, "column_mapping") == 1


def test_mapped_column_is_remembered(officer, db, tmp_path):
    headers = ["STT", "Họ và tên", "Ngày sinh", "Khu vực"]
    first = write_list(tmp_path / "dot-1.xlsx", [["Trần Văn Bình", "1950", "5"]], headers)
    page = preview(officer, first).get_data(as_text=True)
    area = column_index(page, "Khu vực")
    unmapped = selected_field(page, area)
    confirm(officer, page, **{area: "tdp"})
    second = write_list(tmp_path / "dot-2.xlsx", [["Lê Thị Hoa", "1961", "6"]], headers)

    again = preview(officer, second).get_data(as_text=True)

    assert unmapped == ""
    assert selected_field(again, area) == "tdp"
    assert db.execute("SELECT tdp FROM source_row").fetchall() == [("5",)]
    assert table_count(db, "column_mapping") == 1


def test_uncorrected_import_saves_no_mapping(officer, db):
    page = preview(officer, TCVN3_LIST).get_data(as_text=True)

    confirm(officer, page)

    assert table_count(db, "column_mapping") == 0


def test_tcvn3_notes_header_is_decoded(officer, db):
    response = preview(officer, TCVN3_LIST)

    page = response.get_data(as_text=True)
    assert "<td>Ghi chú</td>" in page
    assert selected_field(page, column_index(page, "Ghi chú")) == "notes"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "giay-moi.xlsx", "Tệp giay-moi.xlsx là tệp PDF, không phải bảng tính."),
        (b"", "trong.xlsx", "Tệp trong.xlsx trống."),
        (b"not a zip file at all", "hong.xlsx", "Tệp hong.xlsx không phải bảng tính Excel (.xlsx) hay CSV."),
    ],
)
def test_bad_upload_names_file_and_writes_nothing(officer, db, tmp_path, content, name, message):
    bad = tmp_path / name
    bad.write_bytes(content)

    response = preview(officer, bad)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "Chưa ghi gì vào danh sách." in page
    assert table_count(db, "source_file") == 0
    assert table_count(db, "person") == 0


def test_bad_upload_htmx_returns_problem_card(officer, db, tmp_path):
    bad = tmp_path / "giay-moi.xlsx"
    bad.write_bytes(b"%PDF-1.4\n")

    with bad.open("rb") as handle:
        response = officer.post(
            "/imports/preview",
            data={"csrf_token": officer.csrf, "kind": "list", "file": (handle, "giay-moi.xlsx")},
            content_type="multipart/form-data",
            headers={"HX-Request": "true"},
        )

    page = response.get_data(as_text=True)
    assert "<html" not in page
    assert "Tệp giay-moi.xlsx là tệp PDF" in page
    assert table_count(db, "source_file") == 0


def test_bad_upload_still_lists_imported_files(officer, db, tmp_path):
    confirm(officer, preview(officer, TCVN3_LIST).get_data(as_text=True))
    bad = tmp_path / "giay-moi.xlsx"
    bad.write_bytes(b"%PDF-1.4\n")

    response = preview(officer, bad)

    page = response.get_data(as_text=True)
    assert table_count(db, "source_file") == 1
    assert "Chưa nhập tệp nào." not in page
    assert "<strong>tdp-07-tcvn3.xlsx</strong>" in page


def test_bad_upload_leaves_no_file(officer, db, data_dir, tmp_path):
    bad = tmp_path / "giay-moi.xlsx"
    bad.write_bytes(b"%PDF-1.4\n")

    response = preview(officer, bad)

    assert response.status_code == 422
    assert list((data_dir / "uploads").iterdir()) == []


# Review pairs.


@pytest.fixture
def review_case(db, tmp_path):
    """Two lists naming Trần Văn Bình born in 1950, one with the full date. Nothing else agrees."""
    first = write_list(tmp_path / "bao-tro.xlsx", [["Trần Văn Bình", "1950", "Nam", "Số 3 Lê Lợi"]])
    second = write_list(tmp_path / "ho-ngheo.xlsx", [["Trần Văn Bình", "12/03/1950", "Nam", "Số 9 Trần Phú"]])
    import_files(db, [first, second], SAMPLE_DATE)
    return first, second


def pair_rows(db) -> tuple[str, str]:
    return db.execute("SELECT row_a, row_b FROM review_pair").fetchone()


def person_of(db, row_id: str) -> str:
    return db.execute("SELECT person_id FROM source_row WHERE id = ?", [row_id]).fetchone()[0]


def test_review_lists_unclear_pair(officer, db, review_case):
    response = officer.get("/review/")

    page = response.get_data(as_text=True)
    assert table_count(db, "review_pair") == 1
    assert page.count("<strong>Trần Văn Bình</strong>") == 2
    assert "Cùng họ tên, ngày sinh chưa rõ" in page


def test_review_same_merges_rows(officer, db, review_case):
    row_a, row_b = pair_rows(db)

    response = officer.post(
        "/review/decide", data={"row_a": row_a, "row_b": row_b, "decision": "same", "csrf_token": officer.csrf}
    )

    assert response.status_code == 302
    assert "Không còn cặp nào cần xem xét." in officer.get("/review/").get_data(as_text=True)
    assert table_count(db, "review_pair") == 0
    assert person_of(db, row_a) == person_of(db, row_b)
    assert table_count(db, "person") == 1


def test_review_decision_via_htmx_returns_list(officer, db, review_case):
    row_a, row_b = pair_rows(db)

    response = officer.post(
        "/review/decide",
        data={"row_a": row_a, "row_b": row_b, "decision": "different", "csrf_token": officer.csrf},
        headers={"HX-Request": "true"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page
    assert "Không còn cặp nào cần xem xét." in page
    assert db.execute("SELECT decision FROM link_decision").fetchall() == [("different",)]
    assert person_of(db, row_a) != person_of(db, row_b)


def test_review_decision_survives_reimport(officer, db, review_case, tmp_path):
    row_a, row_b = pair_rows(db)
    officer.post("/review/decide", data={"row_a": row_a, "row_b": row_b, "decision": "same", "csrf_token": officer.csrf})
    corrected = write_list(
        tmp_path / "ho-ngheo.xlsx",
        [["Trần Văn Bình", "12/03/1950", "Nam", "Số 9 Trần Phú"], ["Lê Thị Hoa", "05/06/1961", "Nữ", "Số 9 Trần Phú"]],
    )

    outcome = import_files(db, [corrected], SAMPLE_DATE)

    assert outcome[0].status == "replaced"
    assert table_count(db, "review_pair") == 0
    assert person_of(db, row_a) == person_of(db, row_b)
    assert table_count(db, "person") == 2


def test_review_decision_survives_upload_again(officer, db, review_case):
    first, _ = review_case
    row_a, row_b = pair_rows(db)
    officer.post("/review/decide", data={"row_a": row_a, "row_b": row_b, "decision": "same", "csrf_token": officer.csrf})
    write_list(first, [["Trần Văn Bình", "1950", "Nam", "Số 3 Lê Lợi"], ["Vũ Văn Nam", "1948", "Nam", ""]])

    page = preview(officer, first).get_data(as_text=True)
    response = confirm(officer, page)

    assert response.headers["Location"].endswith("?status=replaced")
    assert table_count(db, "review_pair") == 0
    assert person_of(db, row_a) == person_of(db, row_b)


def test_unknown_review_pair_is_404(officer, db, review_case):
    response = officer.post(
        "/review/decide", data={"row_a": "x", "row_b": "y", "decision": "same", "csrf_token": officer.csrf}
    )

    assert response.status_code == 404
    assert table_count(db, "link_decision") == 0


# Cross-check with the population extract.


def test_crosscheck_counts_disagreements(officer, crosschecked):
    expected = disagreements(crosschecked)

    response = officer.get("/crosscheck/")

    page = response.get_data(as_text=True)
    assert expected
    assert f"{len(expected)} người có họ tên, ngày sinh hoặc giới tính khác" in page
    assert page.count('<li class="card">') == len(expected)


def test_crosscheck_row_shows_both_values(officer, crosschecked):
    row = disagreements(crosschecked)[0]
    person_birth = crosschecked.execute("SELECT birth_date FROM person WHERE id = ?", [row["person_id"]]).fetchone()[0]

    response = officer.get("/crosscheck/")

    page = response.get_data(as_text=True)
    item = page.split(f'href="/roster/{row["person_id"]}"', 1)[1].split("</li>", 1)[0]
    assert row["cccd"] in item
    assert f"<td>{html.escape(row['population_name'])}</td>" in item
    assert f"<td>{birth_filter(person_birth)}</td>" in item
    assert f"<td>{birth_filter(row['population_birth_date'])}</td>" in item
    assert 'class="differs"' in item


def test_crosscheck_export_matches_rows(officer, crosschecked):
    expected = [["" if value is None else value for value in row] for row in crosscheck_rows(crosschecked)]

    response = officer.get("/crosscheck/export.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [["" if value is None else value for value in row] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert response.mimetype == XLSX_TYPE
    assert len(rows) == len(disagreements(crosschecked))
    assert rows == expected


def test_crosscheck_without_population_says_so(officer, sample_roster):
    response = officer.get("/crosscheck/")

    assert "Chưa nhập dữ liệu dân cư." in response.get_data(as_text=True)
    assert table_count(sample_roster, "population_row") == 0


# Language.


def test_language_switch_sets_html_lang(officer, db):
    response = officer.post("/lang", data={"lang": "en", "csrf_token": officer.csrf})

    roster = officer.get("/roster/")
    assert response.status_code == 302
    assert roster.status_code == 200
    assert '<html lang="en">' in roster.get_data(as_text=True)
    assert ">Tiếng Việt</button>" in roster.get_data(as_text=True)
    assert "<h1>Roster of invited people</h1>" in roster.get_data(as_text=True)


def test_unknown_language_falls_back_to_vietnamese(officer, db):
    officer.post("/lang", data={"lang": "fr", "csrf_token": officer.csrf})

    page = officer.get("/roster/").get_data(as_text=True)

    assert '<html lang="vi">' in page
    assert "<h1>Danh sách người được mời</h1>" in page


def test_english_preview_still_renders(officer, db):
    officer.post("/lang", data={"lang": "en", "csrf_token": officer.csrf})

    response = preview(officer, TCVN3_LIST)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert "Header row: row 3." in page
    assert "Nguyễn Lâm Tường" in page
    assert table_count(db, "source_file") == 0
