"""Results typed later: `fieldapp results import` and `export` on real files and a real SQLite database."""

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from test_observations import add_person

from fieldapp import observations
from fieldapp.cli import main
from fieldapp.db import write
from fieldapp.errors import FileProblem
from fieldapp.results_io import export_results, import_results
from fieldapp.rounds import SiteSpec, create_round

DAY = dt.date(2026, 10, 15)


@pytest.fixture
def people(db) -> dict[str, dict]:
    with write(db):
        create_round(db, "Đợt 1", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
    return {"an": add_person(db, "Nguyễn Văn An", "M", "1960-05-01"),
            "binh": add_person(db, "Trần Thị Bình", "F", "1975-02-11")}


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def values(db, person_id: str) -> dict[tuple[str, int], float | str]:
    rows = db.execute("SELECT id FROM visit WHERE person_id = ?", [person_id]).fetchall()
    found = {}
    for (visit_id,) in rows:
        for row in observations.current(db, visit_id):
            found[(row["item"], row["reading"])] = observations.value_of(row)
    return found


def lab_file(tmp_path: Path, people: dict) -> Path:
    an, binh = people["an"]["id"], people["binh"]["id"]
    return write_csv(tmp_path / "ket-qua.csv", [
        ["person_id", "item", "value", "unit", "measured_at"],
        [an, "bp_systolic", "128", "mmHg", "2026-10-15 08:30"],
        [an, "bp_diastolic", "82", "", "2026-10-15 08:30"],
        [an, "bp_systolic", "124", "", "2026-10-15 08:35"],
        [an, "bp_diastolic", "80", "", "2026-10-15 08:35"],
        [an, "weight_kg", "65,5", "kg", ""],
        [an, "height_cm", "165", "cm", ""],
        [binh, "glucose_fasting_mmol", "110", "mg/dL", "15/10/2026"],
        ["khong-co-nguoi-nay", "pulse", "72", "", ""],
        [an, "huyet_ap", "120", "", ""],
        [an, "bmi", "24", "", ""],
        [binh, "pulse", "400", "", ""],
        [binh, "temperature_c", "37", "", "hôm qua"],
        [binh, "weight_kg", "50", "lb", ""],
    ])


def test_import_stores_checked_rows(db, people, tmp_path):
    report = import_results(db, lab_file(tmp_path, people), today=DAY)

    assert report.stored == 7
    assert report.visits_created == 2
    an = values(db, people["an"]["id"])
    assert an[("bp_systolic", 1)] == 128.0
    assert an[("bp_systolic", 2)] == 124.0
    assert an[("bp_diastolic", 2)] == 80.0
    assert an[("weight_kg", 1)] == 65.5
    assert values(db, people["binh"]["id"])[("glucose_fasting_mmol", 1)] == 6.1


def test_import_lists_refused_rows(db, people, tmp_path):
    report = import_results(db, lab_file(tmp_path, people), today=DAY)

    refused = {problem.row: problem.code for problem in report.refused}
    assert refused == {9: "results_person_unknown", 10: "results_item_unknown", 11: "results_item_derived",
                       12: "results_value_refused", 13: "results_date_invalid", 14: "results_unit_wrong"}
    messages = {problem.row: problem.message for problem in report.refused}
    assert "Dòng 9" in messages[9]
    assert "khong-co-nguoi-nay" in messages[9]
    assert "400" in messages[12]


def test_import_same_file_twice_changes_nothing(db, people, tmp_path):
    path = lab_file(tmp_path, people)
    import_results(db, path, today=DAY)
    count = db.execute("SELECT count(*) FROM observation").fetchone()[0]

    again = import_results(db, path, today=DAY)

    assert again.stored == 0
    assert again.unchanged == 7
    assert again.visits_created == 0
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == count


def test_import_changed_value_is_correction(db, people, tmp_path):
    an = people["an"]["id"]
    import_results(db, write_csv(tmp_path / "a.csv", [["person_id", "item", "value"], [an, "weight_kg", "56"]]),
                   today=DAY)

    report = import_results(db, write_csv(tmp_path / "b.csv", [["person_id", "item", "value"],
                                                              [an, "weight_kg", "65"]]), today=DAY)

    assert report.corrected == 1
    visit_id = db.execute("SELECT id FROM visit WHERE person_id = ?", [an]).fetchone()[0]
    versions = observations.history(db, visit_id, "weight_kg")
    assert [v["value_num"] for v in versions] == [56.0, 65.0]
    assert versions[1]["reason"] == "b.csv, dòng 2"


def test_import_xlsx_with_title_rows(db, people, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["KẾT QUẢ XÉT NGHIỆM ĐƯỜNG HUYẾT"])
    sheet.append([])
    sheet.append(["Person_ID", "Item", "Value"])
    sheet.append([people["binh"]["id"], "glucose_fasting_mmol", 5.2])
    path = tmp_path / "duong-huyet.xlsx"
    workbook.save(path)

    report = import_results(db, path, today=DAY)

    assert report.stored == 1
    assert values(db, people["binh"]["id"])[("glucose_fasting_mmol", 1)] == 5.2


def test_import_missing_columns_rejected(db, people, tmp_path):
    path = write_csv(tmp_path / "sai.csv", [["ma", "muc"], ["1", "pulse"]])

    with pytest.raises(FileProblem) as raised:
        import_results(db, path, today=DAY)

    assert raised.value.code == "results_columns_missing"
    assert "value" in raised.value.message
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 0


def test_export_has_derived_values_and_bands(db, people, tmp_path):
    import_results(db, lab_file(tmp_path, people), today=DAY)
    out = tmp_path / "export.csv"

    export_results(db, out)

    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0].keys()) == ["person_id", "item", "value", "unit", "flag", "class"]
    an = {(row["item"], row["value"]): row for row in rows if row["person_id"] == people["an"]["id"]}
    assert ("bmi", "24.1") in an
    assert an[("bmi", "24.1")]["class"] == "overweight"
    assert ("bp_systolic_mean", "126") in an
    binh = {row["item"]: row for row in rows if row["person_id"] == people["binh"]["id"]}
    assert binh["glucose_fasting_mmol"]["flag"] == "abnormal"
    assert binh["glucose_fasting_mmol"]["class"] == "prediabetes"


def test_cli_import_exits_2_and_names_rows(people, tmp_path, data_dir):
    runner = CliRunner()
    path = lab_file(tmp_path, people)

    result = runner.invoke(main, ["results", "import", str(path), "--data-dir", str(data_dir)])

    assert result.exit_code == 2
    assert "lưu 7 giá trị mới" in result.output
    assert "Dòng 12" in result.output


def test_cli_export_writes_file(people, tmp_path, data_dir):
    runner = CliRunner()
    runner.invoke(main, ["results", "import", str(lab_file(tmp_path, people)), "--data-dir", str(data_dir)])
    out = tmp_path / "out.csv"

    result = runner.invoke(main, ["results", "export", "--out", str(out), "--data-dir", str(data_dir)])

    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("person_id,item,value,unit,flag,class")


def test_import_pair_in_one_row_stores_both(db, people, tmp_path):
    an = people["an"]["id"]
    path = write_csv(tmp_path / "ha.csv", [["person_id", "item", "value"], [an, "bp_systolic", "135/85"]])

    report = import_results(db, path, today=DAY)

    assert report.stored == 2
    assert values(db, an)[("bp_systolic", 1)] == 135.0
    assert values(db, an)[("bp_diastolic", 1)] == 85.0


def test_import_cmhg_pair_rejected_with_hint(db, people, tmp_path):
    an = people["an"]["id"]
    path = write_csv(tmp_path / "ha.csv", [["person_id", "item", "value"], [an, "bp_systolic", "12/8"]])

    report = import_results(db, path, today=DAY)

    assert report.stored == 0
    assert [problem.code for problem in report.refused] == ["results_value_refused"]
    assert "120/80 mmHg" in report.refused[0].message
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 0
