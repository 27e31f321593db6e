"""Re-importing a list changes nothing; a corrected version updates its rows and keeps decisions."""

import shutil

import openpyxl

from conftest import SAMPLE, SAMPLE_DATE
from fieldapp.db import write
from fieldapp.importer import import_files
from fieldapp.roster import decide

ELDERLY = "tdp-03-nguoi-cao-tuoi.xlsx"


def _snapshot(db):
    people = db.execute("SELECT id, full_name, birth_date, cccd, groups FROM person ORDER BY id").fetchall()
    rows = db.execute("SELECT id, file_name, sheet, row_no, person_id FROM source_row ORDER BY id").fetchall()
    return people, rows


def test_same_file_twice_changes_nothing(db, tmp_path):
    files = [SAMPLE / ELDERLY, SAMPLE / "ho-ngheo-can-ngheo.csv"]
    import_files(db, files, SAMPLE_DATE)
    before = _snapshot(db)

    parsed = import_files(db, files, SAMPLE_DATE)

    assert [item.status for item in parsed] == ["unchanged", "unchanged"]
    assert _snapshot(db) == before


def _corrected_copy(tmp_path, row: int, column: int, value) -> object:
    target = tmp_path / ELDERLY
    shutil.copy(SAMPLE / ELDERLY, target)
    book = openpyxl.load_workbook(target)
    book.worksheets[0].cell(row=row, column=column, value=value)
    book.save(target)
    return target


def test_corrected_file_updates_its_rows(db, tmp_path):
    import_files(db, [SAMPLE / ELDERLY], SAMPLE_DATE)
    kept_ids = dict(db.execute("SELECT row_no, person_id FROM source_row WHERE row_no != 5").fetchall())
    corrected = _corrected_copy(tmp_path, row=5, column=2, value="Nguyễn Thị Hồng")

    parsed = import_files(db, [corrected], SAMPLE_DATE)

    assert parsed[0].status == "replaced"
    name = db.execute("SELECT full_name FROM source_row WHERE file_name = ? AND row_no = 5", [ELDERLY]).fetchone()[0]
    assert name == "Nguyễn Thị Hồng"
    assert db.execute("SELECT count(*) FROM source_file").fetchone()[0] == 1
    assert dict(db.execute("SELECT row_no, person_id FROM source_row WHERE row_no != 5").fetchall()) == kept_ids


def test_decision_survives_corrected_file(db, tmp_path):
    import_files(db, [SAMPLE / ELDERLY, SAMPLE / "tdp-04-nguoi-cao-tuoi.xlsx"], SAMPLE_DATE)
    first, second = db.execute(
        "SELECT id FROM source_row WHERE file_name = ? AND row_no IN (6, 7) ORDER BY row_no", [ELDERLY]
    ).fetchall()
    with write(db):
        decide(db, first[0], second[0], "same", None, SAMPLE_DATE)
    merged = db.execute("SELECT count(DISTINCT person_id) FROM source_row WHERE id IN (?, ?)", [first[0], second[0]]).fetchone()[0]
    corrected = _corrected_copy(tmp_path, row=20, column=5, value="031999999999")

    import_files(db, [corrected], SAMPLE_DATE)

    persons = db.execute(
        "SELECT count(DISTINCT person_id) FROM source_row WHERE file_name = ? AND row_no IN (6, 7)", [ELDERLY]
    ).fetchone()[0]
    assert merged == 1
    assert persons == 1


def test_file_replaced_by_name_not_duplicated(db, tmp_path):
    import_files(db, [SAMPLE / ELDERLY], SAMPLE_DATE)
    rows_before = db.execute("SELECT count(*) FROM source_row").fetchone()[0]
    corrected = _corrected_copy(tmp_path, row=8, column=3, value="01/02/1960")

    import_files(db, [corrected], SAMPLE_DATE)

    assert db.execute("SELECT count(*) FROM source_row").fetchone()[0] == rows_before
