"""Central reports on a real central store fed by two real sites: coverage, findings, follow-up, Excel, CSV, FHIR.

Site A is the ward of test_sheets (five elderly people on a list of group 2, two pupils of class 2A)
with its round; site B imported the elderly Ánh again (the same CCCD) and one more person, and
examined Ánh a day later. Every value goes through the site's own stores; the sites' outbox records
are applied to a SQLite central store with the store's apply_batch, as a push would.

Hand-counted expectations for 2026:
- people: 7 at A + 2 at B, Ánh twice = 8; invited: all 8; examined: Ánh, Ưng, Khôi = 3.
- blood pressure (adults, latest exam that measured it): Ánh 185/125 grade 3, Ưng 118/76 optimal.
- glucose: Ánh's fasting 7.8 mmol/L at B, diabetes suspected. BMI: Ánh 50 kg / 1.55 m = 20.8, normal.
- referrals among people with a conclusion: Ưng and Khôi referred, Ánh not.
- follow-up: Ánh (red), then Khôi and Ưng (referrals), in list order of given names.
"""

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import PERSONAS, sign_in
from pgserver import postgres_url  # noqa: F401  (the fixture)
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from test_sheets import (
    SCHOOL_SITE,
    STATION_SITE,
    arrive,
    conclude,
    make_ward_file,
    person_id,
    record,
)

from fieldapp import create_app, invitations
from fieldapp.auth import add_staff
from fieldapp.central import charts, excel, fhir, reports, store, tables
from fieldapp.central.schema import central_site
from fieldapp.central.ward import build_ward, load
from fieldapp.checkin import get_person
from fieldapp.cli import main
from fieldapp.clinical.bands import rules
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.groups import guess_list_group
from fieldapp.importer import import_files
from fieldapp.rounds import SiteSpec, create_round, find_site
from fieldapp.sync import batches, outbox
from fieldapp.visits import Consent, Desk, check_in

YEAR = 2026
SITE_B_DAY = dt.date(2026, 12, 13)
SITE_B_CSV = """Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Tổ dân phố
Nguyễn Thị Ngọc Ánh,05/03/1958,Nữ,031158012345,0912345678,Tổ dân phố 3
Vũ Văn Bình,12/08/1950,Nam,031050099887,0988777666,Tổ dân phố 9
"""
ANH, UNG, KHOI = "Nguyễn Thị Ngọc Ánh", "Đặng Quốc Ưng", "Lê Minh Khôi"
NOT_EXAMINED = {"Tôn Nữ Thị Hoàng Phương Uyên Nguyễn Ngọc Bảo Trâm", "Huỳnh Văn Ổn", "Lý Thị Kiều Oanh", "Phạm Thu Hà",
                "Vũ Văn Bình"}


def _site_a(folder: Path) -> Path:
    path = make_ward_file(folder)
    db = connect(path)
    with write(db):
        add_staff(db, "doc", "BS. Trần Thị Hoa", "doctor", "4444")
        round_id = db.execute("SELECT id FROM exam_round").fetchone()[0]
        invitations.invite(db, round_id, find_site(db, round_id, STATION_SITE.name)["id"], "group", "2")
        invitations.invite(db, round_id, find_site(db, round_id, SCHOOL_SITE.name)["id"], "class", "2A")

    anh = arrive(db, ANH)
    record(db, anh, {"bp_systolic": 185, "bp_diastolic": 125, "height_cm": 155.0, "weight_kg": 50.0,
                     "vision_right": 10, "vision_left": 7})
    conclude(db, anh, diagnoses=[{"code": "I10", "label": "Tăng huyết áp vô căn (nguyên phát)"}])
    ung = arrive(db, UNG)
    record(db, ung, {"bp_systolic": 118, "bp_diastolic": 76})
    conclude(db, ung, referral_place="Bệnh viện Mắt Hải Phòng", referral_reason="đục thủy tinh thể")
    khoi = arrive(db, KHOI, SCHOOL_SITE)
    record(db, khoi, {"height_cm": 125.0, "weight_kg": 24.0, "vision_right": 10, "vision_left": 5})
    conclude(db, khoi, referral_place="Bệnh viện Mắt Hải Phòng", referral_reason="thị lực mắt trái 5/10")
    db.conn.close()
    return path


def _site_b(folder: Path) -> Path:
    listed = folder / "nguoi-cao-tuoi-b.csv"
    listed.write_text(SITE_B_CSV, encoding="utf-8")
    path = folder / DATABASE_NAME
    db = connect(path)
    import_files(db, [listed], SITE_B_DAY, 2)
    site = SiteSpec("Nhà văn hóa tổ dân phố 9", "9 Trần Phú", 30, kind="community")
    with write(db):
        round_id = create_round(db, "Đợt 2 - 2026", SITE_B_DAY, 1, [site], ward="Phường An Lạc")
        invitations.invite(db, round_id, find_site(db, round_id, site.name)["id"], "all")
    desk = Desk(round_id, find_site(db, round_id, site.name)["id"], SITE_B_DAY.isoformat())
    visit, _ = check_in(db, desk, get_person(db, person_id(db, ANH)), Consent())
    record(db, visit, {"glucose_fasting_mmol": 7.8})
    db.conn.close()
    return path


def _push(engine, site_id: str, path: Path) -> None:
    """Apply a site's whole outbox to the central store in batches of 50, as `fieldapp sync push` sends them."""
    db = connect(path)
    records = outbox.pending(db, 0, 100_000)
    db.conn.close()
    with store.write(engine) as connection:
        connection.execute(insert(central_site).values(id=site_id, name=site_id, created_at="2026-12-01T00:00:00+00:00",
                                                      acknowledged_through=0))
        for start in range(0, len(records), 50):
            store.apply_batch(connection, {"id": site_id}, batches.make_batch(site_id, records[start:start + 50]))


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sites")
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    return {"site-a": _site_a(folder / "a"), "site-b": _site_b(folder / "b")}


def _own_database(server_url: str, name: str) -> str:
    """Create an empty database on the test cluster and return its URL, so no other test's records mix in."""
    engine = create_engine(store.database_url("", server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(request, sites, tmp_path_factory) -> str:
    """Return the URL of a central store, SQLite or PostgreSQL, holding both sites' records."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('central') / 'central.db'}"
    else:
        url = _own_database(request.getfixturevalue("postgres_url"), "central_reports")
    engine = store.connect(store.database_url("", url))
    for site_id, path in sites.items():
        _push(engine, site_id, path)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def ward(central):
    engine = store.connect(store.database_url("", central))
    with engine.connect() as connection:
        loaded = load(connection, YEAR)
    engine.dispose()
    return loaded


def by_name(ward, full_name: str):
    return next(person for person in ward.people if person.payload["full_name"] == full_name)


# The ward.


def test_ward_merges_people_by_cccd(ward):
    names = [person.payload["full_name"] for person in ward.people]

    assert len(names) == 8
    assert names.count(ANH) == 1


def test_ward_keeps_exams_of_both_sites(ward):
    anh = by_name(ward, ANH)

    assert [exam.day for exam in anh.exams] == ["2026-12-12", "2026-12-13"]
    assert [exam.site["name"] for exam in anh.exams] == [STATION_SITE.name, "Nhà văn hóa tổ dân phố 9"]


def test_ward_of_other_year_has_no_exams(central):
    engine = store.connect(store.database_url("", central))
    with engine.connect() as connection:
        other = load(connection, 2025)
    engine.dispose()

    assert len(other.people) == 8
    assert not any(person.examined or person.invited for person in other.people)


def test_ward_judges_corrections_current_value():
    visit = {"id": "v1", "person_id": "p1", "day": "2026-12-12", "site_id": None}
    first = {"id": "o1", "visit_id": "v1", "item": "glucose_fasting_mmol", "reading": 1, "value_num": 78.0,
             "value_text": None, "unit": "mmol/L", "confirmed": 0, "supersedes": None, "measured_at": "2026-12-12"}
    fixed = {**first, "id": "o2", "value_num": 7.8, "supersedes": "o1"}

    built = build_ward(YEAR, people=[{"id": "p1", "full_name": "A", "sex": "F", "birth_date": "1960"}], rounds=[],
                       sites=[], invitations=[], visits=[visit], observations=[first, fixed], conclusions=[],
                       central_of={})

    results = built.people[0].exams[0].results
    assert [(r.item, r.value, r.corrected) for r in results] == [("glucose_fasting_mmol", 7.8, True)]


def test_ward_leaves_out_removed_people():
    built = build_ward(YEAR, people=[{"id": "p1", "full_name": "A"}, {"id": "p2", "removed": True}], rounds=[],
                       sites=[], invitations=[], visits=[], observations=[], conclusions=[], central_of={})

    assert [person.id for person in built.people] == ["p1"]


# Coverage.


@pytest.mark.parametrize(("by", "expected"), [
    ("group", [("1. Người có công với cách mạng", 0, 0, 0), ("2. Người cao tuổi (từ 60 tuổi)", 6, 6, 2),
               ("3. Bảo trợ xã hội, người khuyết tật, hộ nghèo, cận nghèo", 0, 0, 0),
               ("4. Người lao động, công chức, học nghề", 0, 0, 0), ("5. Công an, quân đội", 0, 0, 0),
               ("6. Sinh viên", 0, 0, 0), ("7. Học sinh, trẻ mầm non", 2, 2, 1),
               ("8. Người khác (trẻ dưới 2 tuổi, lao động tự do...)", 0, 0, 0), ("Tổng cộng", 8, 8, 3)]),
    ("tdp", [("Tổ dân phố 1", 1, 1, 0), ("Tổ dân phố 3", 2, 2, 2), ("Tổ dân phố 7", 2, 2, 0),
             ("Tổ dân phố 9", 1, 1, 0), ("Chưa rõ tổ dân phố", 2, 2, 1), ("Tổng cộng", 8, 8, 3)]),
    ("school", [(SCHOOL_SITE.name, 2, 2, 1), ("Tổng cộng", 8, 8, 3)]),
    ("class", [(f"2A – {SCHOOL_SITE.name}", 2, 2, 1), ("Tổng cộng", 8, 8, 3)]),
])
def test_coverage_counts_people_invited_examined(ward, by, expected):
    rows, total = reports.coverage(ward, by)

    assert [(row.label, row.people, row.invited, row.examined) for row in [*rows, total]] == expected


def test_coverage_filter_narrows_people(ward):
    rows, total = reports.coverage(ward, "tdp", reports.Filter(group=2, tdp="Tổ dân phố 3"))

    assert [(row.label, row.people, row.examined) for row in rows] == [("Tổ dân phố 3", 2, 2)]
    assert (total.people, total.not_examined, total.examined_percent) == (2, 0, 100.0)


def test_not_examined_lists_the_rest(ward):
    people = reports.not_examined(ward)

    assert {person.payload["full_name"] for person in people} == NOT_EXAMINED
    assert all(person.invited for person in people)


# Findings.


def test_categories_cover_every_class_in_thresholds():
    classified = {rule["item"]: {band["class"] for band in rule["bands"]} for rule in rules() if "item" in rule}
    pressure = next(rule for rule in rules() if rule.get("kind") == "blood_pressure")

    for category in reports.CATEGORIES:
        expected: set[str] = set()
        for item in category.items:
            expected |= classified.get(item, set())
            for other in rules():
                if other.get("item") == item:
                    expected |= {band["class"] for band in other["bands"]}
        if category.code == "blood_pressure":
            expected = {band["grade"] for band in pressure["systolic"]} | {pressure["isolated_systolic"]["class"],
                                                                          pressure["low"]["class"]}
        if category.code == "referral":
            expected = {reports.REFERRED, reports.NOT_REFERRED}
        assert set(category.classes) == expected, category.code


def _counts(ward, code: str, by: str = "group") -> list[tuple]:
    table = next(table for table in reports.findings(ward, by) if table.category.code == code)
    return [(row.label, row.measured, {key: value for key, value in row.counts.items()})
            for row in [*table.rows, table.total]]


@pytest.mark.parametrize(("code", "expected"), [
    ("blood_pressure", [("2. Người cao tuổi (từ 60 tuổi)", 2, {"hypertension_grade_3": 1, "bp_optimal": 1}),
                        ("Tổng cộng", 2, {"hypertension_grade_3": 1, "bp_optimal": 1})]),
    ("glucose", [("2. Người cao tuổi (từ 60 tuổi)", 1, {"diabetes_suspected": 1}),
                 ("Tổng cộng", 1, {"diabetes_suspected": 1})]),
    ("bmi", [("2. Người cao tuổi (từ 60 tuổi)", 1, {"normal_weight": 1}), ("Tổng cộng", 1, {"normal_weight": 1})]),
    ("bmi_for_age", [("7. Học sinh, trẻ mầm non", 1, {"normal_weight": 1}), ("Tổng cộng", 1, {"normal_weight": 1})]),
    ("referral", [("2. Người cao tuổi (từ 60 tuổi)", 2, {"referred": 1, "not_referred": 1}),
                  ("7. Học sinh, trẻ mầm non", 1, {"referred": 1}),
                  ("Tổng cộng", 3, {"referred": 2, "not_referred": 1})]),
    ("weight_for_age", [("Tổng cộng", 0, {})]),
])
def test_findings_count_classes_per_group(ward, code, expected):
    assert _counts(ward, code) == expected


def test_findings_per_residential_group(ward):
    assert _counts(ward, "blood_pressure", "tdp") == [
        ("Tổ dân phố 3", 2, {"hypertension_grade_3": 1, "bp_optimal": 1}),
        ("Tổng cộng", 2, {"hypertension_grade_3": 1, "bp_optimal": 1}),
    ]


def test_findings_chart_draws_each_class(ward):
    table = next(table for table in reports.findings(ward, "group") if table.category.code == "blood_pressure")

    picture = str(charts.findings_chart(table, "Huyết áp"))

    assert picture.startswith("<svg") and picture.endswith("</svg>")
    assert "Tăng huyết áp độ 3: 1" in picture
    assert "Huyết áp tối ưu: 1" in picture
    assert "<script" not in picture


# Follow-up.


def test_follow_up_orders_across_sites(ward):
    entries = reports.follow_up(ward)

    assert [(entry.full_name, entry.level) for entry in entries] == [
        (ANH, "red"), (KHOI, "referral"), (UNG, "referral")]


def test_follow_up_gives_reasons_in_vietnamese(ward):
    anh = reports.follow_up(ward)[0]

    assert "Huyết áp: 185/125 mmHg (Tăng huyết áp độ 3)" in anh.reasons
    assert "Chẩn đoán: I10 – Tăng huyết áp vô căn (nguyên phát)" in anh.reasons
    assert anh.phone == "0912345678"


def test_follow_up_calls_pupils_parent(ward):
    khoi = next(entry for entry in reports.follow_up(ward) if entry.full_name == KHOI)

    assert (khoi.phone, khoi.contact) == ("0987654321", "Lê Văn Hùng")
    assert khoi.reasons[-1] == "Chuyển khám: Bệnh viện Mắt Hải Phòng (thị lực mắt trái 5/10)"


# The not-yet-examined list as the next round's invitation list.


@pytest.mark.parametrize("group", range(1, 9))
def test_list_title_names_group_for_importer(group):
    title = tables.list_title(YEAR, reports.Filter(group=group))

    assert guess_list_group(title) == group


def test_not_examined_csv_reimports(ward, tmp_path):
    chosen = reports.Filter(group=2)
    people = reports.not_examined(ward, chosen)
    listed = tmp_path / "chua-kham-2026.csv"
    listed.write_bytes(tables.csv_bytes(tables.NOT_EXAMINED_COLUMNS, tables.not_examined_rows(people),
                                        tables.list_title(YEAR, chosen)))

    result = CliRunner().invoke(main, ["import", "--data-dir", str(tmp_path / "next"), "--as-of", "2027-01-10",
                                       str(listed)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    db = connect(tmp_path / "next" / DATABASE_NAME)
    imported = {row[0]: row[1:] for row in db.execute(
        "SELECT full_name, birth_date, sex, cccd, phone, tdp, groups FROM person").fetchall()}
    db.conn.close()
    assert set(imported) == NOT_EXAMINED - {"Phạm Thu Hà"}
    assert imported["Vũ Văn Bình"] == ("1950-08-12", "M", "031050099887", "0988777666", "Tổ dân phố 9", "2")
    assert imported["Lý Thị Kiều Oanh"][:3] == ("1959-02-14", "F", None)
    assert {row[-1] for row in imported.values()} == {"2"}


def test_not_examined_csv_keeps_leading_zeros(ward):
    data = tables.csv_bytes(tables.NOT_EXAMINED_COLUMNS, tables.not_examined_rows(reports.not_examined(ward)))

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == tables.NOT_EXAMINED_COLUMNS
    binh = next(row for row in rows if row[1] == "Vũ Văn Bình")
    assert (binh[4], binh[5]) == ("031050099887", "0988777666")


# The Excel report.


def _database_totals(url: str) -> dict[str, int]:
    """Count people, invited and examined straight from the store's tables, without the report code."""
    engine = store.connect(store.database_url("", url))
    postgres = engine.dialect.name == "postgresql"

    def field(table: str, key: str) -> str:
        return f"({table}.payload::json ->> '{key}')" if postgres else f"json_extract({table}.payload, '$.{key}')"

    with engine.connect() as connection:
        central_people = connection.execute(text(
            "SELECT count(DISTINCT central_person_id) FROM person_link")).scalar_one()
        invited = connection.execute(text(f"""
            SELECT count(DISTINCT l.central_person_id) FROM record i
            JOIN record r ON r.kind = 'exam_round' AND r.id = {field('i', 'round_id')}
            JOIN person_link l ON l.person_id = {field('i', 'person_id')}
            WHERE i.kind = 'invitation' AND {field('i', 'status')} = 'active'
              AND substr({field('r', 'start_date')}, 1, 4) = '2026'""")).scalar_one()
        examined = connection.execute(text(f"""
            SELECT count(DISTINCT l.central_person_id) FROM record v
            JOIN person_link l ON l.person_id = {field('v', 'person_id')}
            WHERE v.kind = 'visit' AND substr({field('v', 'day')}, 1, 4) = '2026'
              AND EXISTS (SELECT 1 FROM record o WHERE o.kind IN ('observation', 'conclusion')
                          AND {field('o', 'visit_id')} = v.id)""")).scalar_one()
    engine.dispose()
    return {"people": central_people, "invited": invited, "examined": examined}


def test_excel_totals_match_database(central, ward, tmp_path):
    out = tmp_path / "bao-cao-2026.xlsx"

    excel.write_report(ward, out)

    book = openpyxl.load_workbook(out)
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(min_row=4, values_only=True) if row[0]}
    totals = _database_totals(central)
    assert summary["Số người trong danh sách"] == totals["people"] == 8
    assert summary["Đã mời năm nay"] == totals["invited"] == 8
    assert summary["Đã khám năm nay"] == totals["examined"] == 3
    assert summary["Chưa khám"] == 5
    assert summary["Số người cần theo dõi"] == 3


def test_excel_has_sheets_and_native_charts(ward, tmp_path):
    out = tmp_path / "bao-cao-2026.xlsx"

    excel.write_report(ward, out)

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", *excel.COVERAGE_SHEETS.values(), *excel.FINDING_SHEETS.values(),
                               "Cần theo dõi", "Chưa khám"]
    coverage = [row for row in book["Bao phủ theo nhóm"].iter_rows(values_only=True)]
    assert coverage[0][:4] == ("Nhóm đối tượng", "Số người trong danh sách", "Đã mời", "Đã khám")
    assert coverage[-1][:4] == ("Tổng cộng", 8, 8, 3)
    # openpyxl reads charts back as drawings: one coverage chart, and one per measured category by group.
    assert len(book["Bao phủ theo nhóm"]._charts) == 1
    measured = [table for table in reports.findings(ward, "group") if table.total.measured]
    assert len(book["Kết quả theo nhóm"]._charts) == len(measured)
    follow_up = list(book["Cần theo dõi"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in follow_up] == [ANH, KHOI, UNG]
    assert {row[1] for row in book["Chưa khám"].iter_rows(min_row=2, values_only=True)} == NOT_EXAMINED


def test_report_command_writes_excel_and_csv(central, tmp_path):
    data_dir = tmp_path / "central-data"
    out, folder = tmp_path / "bao-cao.xlsx", tmp_path / "csv"

    result = _central_command("report", "--data-dir", data_dir, "--database", central, "--year", YEAR, "--out", out,
                              "--csv", folder)

    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Tổng hợp"]["B6"].value == 3
    assert (folder / "chua-kham.csv").read_text(encoding="utf-8-sig").startswith("Danh sách chưa khám")
    assert len(list(folder.glob("ket-qua-*.csv"))) == len(reports.CATEGORIES) * len(tables.FINDING_DIMENSIONS)


def _central_command(*args):
    from fieldapp.cli import main as cli

    return CliRunner().invoke(cli, ["central", *(str(arg) for arg in args)], catch_exceptions=False)


# FHIR.


def test_fhir_bundles_validate(ward):
    found = fhir.bundles(ward)

    assert len(found) == 4
    for _visit_id, bundle in found:
        fhir.validate(bundle)


def _bundle_of(ward, full_name: str, index: int = 0) -> dict:
    exam = by_name(ward, full_name).exams[index]
    return fhir.visit_bundle(by_name(ward, full_name), exam)


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_fhir_patient_has_cccd_identifier(ward):
    patient = _resources(_bundle_of(ward, ANH), "Patient")[0]

    assert {"system": fhir.CCCD_SYSTEM, "value": "031158012345"}.items() <= patient["identifier"][0].items()
    assert (patient["birthDate"], patient["gender"], patient["name"][0]["family"]) == ("1958-03-05", "female", "Nguyễn")


def test_fhir_observations_carry_loinc_and_ucum(ward):
    bundle = _bundle_of(ward, ANH)
    observations = _resources(bundle, "Observation")
    codes = {resource["code"]["coding"][0]["code"]: resource for resource in observations}

    panel = codes[fhir.BP_PANEL]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in panel["component"]] == [
        ("8480-6", 185.0), ("8462-4", 125.0)]
    assert panel["component"][0]["interpretation"][0]["coding"][0]["code"] == "AA"
    assert codes["39156-5"]["valueQuantity"] == {"value": 20.8, "unit": "kg/m²", "system": fhir.UCUM, "code": "kg/m2"}
    assert {ref["reference"] for ref in codes["39156-5"]["derivedFrom"]} == {
        f"urn:uuid:{codes['8302-2']['id']}", f"urn:uuid:{codes['29463-7']['id']}"}
    assert codes["98498-9"]["valueRatio"] == {"numerator": {"value": 7.0}, "denominator": {"value": 10}}
    assert all(entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in bundle["entry"])


def test_fhir_condition_uses_icd10(ward):
    condition = _resources(_bundle_of(ward, ANH), "Condition")[0]

    assert condition["code"]["coding"] == [{"system": fhir.ICD10, "code": "I10",
                                            "display": "Tăng huyết áp vô căn (nguyên phát)"}]


def test_fhir_encounter_at_school_is_field(ward):
    encounter = _resources(_bundle_of(ward, KHOI), "Encounter")[0]

    assert encounter["class"]["code"] == "FLD"
    assert encounter["location"][0]["location"]["display"] == SCHOOL_SITE.name


def test_export_fhir_command_writes_valid_files(central, tmp_path):
    folder = tmp_path / "fhir"

    result = _central_command("export-fhir", "--data-dir", tmp_path / "central-data", "--database", central,
                              "--year", YEAR, "--out", folder)

    assert result.exit_code == 0, result.output
    files = sorted(folder.glob("*.json"))
    assert len(files) == 4
    for path in files:
        fhir.validate(json.loads(path.read_text(encoding="utf-8")))
    assert not any(re.search(r"[^0-9a-f\-.json]", path.name) for path in files)


# Pages.


@pytest.fixture
def central_app(central, tmp_path):
    folder = tmp_path / "central-data"
    folder.mkdir()
    app = create_app({"ROLE": "central", "DATA_DIR": str(folder), "CENTRAL_DATABASE": central, "TESTING": True})
    db = connect(folder / DATABASE_NAME)
    with write(db):
        for username, (role, pin) in PERSONAS.items():
            add_staff(db, username, username.title(), role, pin)
        add_staff(db, "coord", "Coord", "coordinator", "3333")
    db.conn.close()
    yield app
    if "central_engine" in app.extensions:
        app.extensions["central_engine"].dispose()


ROUTES = ["/central/", "/central/coverage?year=2026", "/central/coverage.csv?year=2026&by=tdp",
          "/central/not-examined.csv?year=2026&group=2", "/central/findings?year=2026&by=tdp",
          "/central/findings.csv?year=2026&category=blood_pressure", "/central/followup?year=2026",
          "/central/followup.xlsx?year=2026", "/central/report.xlsx?year=2026"]


@pytest.mark.parametrize("persona", ["officer", "coord", "nurse", "reception", None])
def test_pages_allow_admin_and_coordinator(central_app, persona):
    client = central_app.test_client()
    if persona == "coord":
        response = client.post("/login", data={"username": "coord", "pin": "3333",
                                               "csrf_token": _token(client)})
        assert response.status_code == 302
    elif persona:
        sign_in(client, persona)

    statuses = {route: client.get(route).status_code for route in ROUTES}

    expected = 200 if persona in ("officer", "coord") else 403 if persona else 302
    assert statuses == {route: expected for route in ROUTES}


def _token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("route", ["/central/coverage?year=99", "/central/coverage?by=street",
                                   "/central/coverage?group=9", "/central/findings?by=class",
                                   "/central/findings.csv?category=teeth"])
def test_pages_reject_unknown_choices(central_app, route):
    client = central_app.test_client()
    sign_in(client, "officer")

    assert client.get(route).status_code == 404


def test_coverage_page_shows_counts_and_chart(central_app):
    client = central_app.test_client()
    sign_in(client, "officer")

    page = client.get("/central/coverage?year=2026&by=group").get_data(as_text=True)

    assert "8 người trong danh sách: đã mời 8, đã khám 3, chưa khám 5." in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "Người chưa khám năm 2026 (5 người)" in page
    assert "Vũ Văn Bình" in page and ANH not in page.split("Người chưa khám")[1]


def test_findings_page_shows_a_chart_per_measured_category(central_app, ward):
    client = central_app.test_client()
    sign_in(client, "officer")

    page = client.get("/central/findings?year=2026").get_data(as_text=True)

    measured = [table for table in reports.findings(ward, "group") if table.total.measured]
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == len(measured)
    assert "Tăng huyết áp độ 3" in page


def test_followup_page_lists_and_audits(central_app):
    client = central_app.test_client()
    sign_in(client, "officer")

    page = client.get("/central/followup?year=2026").get_data(as_text=True)

    assert page.index(ANH) < page.index(KHOI) < page.index(UNG)
    db = connect(Path(central_app.config["DATA_DIR"]) / DATABASE_NAME)
    audited = db.execute("SELECT detail FROM audit_event WHERE action = 'central_followup_viewed'").fetchall()
    db.conn.close()
    assert len(json.loads(audited[0][0])["visits"]) == 3
    assert ANH not in audited[0][0]


def test_not_examined_download_is_importable_csv(central_app):
    client = central_app.test_client()
    sign_in(client, "officer")

    response = client.get("/central/not-examined.csv?year=2026&group=2")

    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Danh sách chưa khám sức khỏe năm 2026 - Nhóm 2: người cao tuổi"]
    assert rows[1] == tables.NOT_EXAMINED_COLUMNS
    assert len(rows) == 2 + 4


def test_report_command_rejects_csv_out(central, tmp_path):
    result = _central_command("report", "--data-dir", tmp_path / "central-data", "--database", central,
                              "--year", YEAR, "--out", tmp_path / "bao-cao.csv")

    assert result.exit_code == 2
    assert "phải kết thúc bằng .xlsx" in result.output
    assert not (tmp_path / "bao-cao.csv").exists()
