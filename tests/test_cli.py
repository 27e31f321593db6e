"""The fieldapp command: import, export, accounts, the data folder, and that everything is documented."""

import csv
import re
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

from conftest import SAMPLE
from fieldapp.cli import main
from fieldapp.db import connect
from fieldapp.errors import CATALOGUE

ROOT = Path(__file__).parent.parent


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env, catch_exceptions=False)


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


@pytest.mark.parametrize("name", [name for name, _ in _commands(main)])
def test_command_has_help_and_docs(name):
    result = invoke(*name.split(), "--help")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert result.exit_code == 0
    assert "--data-dir" in result.output
    assert f"fieldapp {name}" in readme


def test_error_codes_documented():
    documented = set(re.findall(r"\| `([a-z_0-9]+)` \|", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")))

    assert set(CATALOGUE) - documented == set()
    assert documented - set(CATALOGUE) == set()


def test_import_prints_report(tmp_path):
    result = invoke("import", "--data-dir", tmp_path, "--as-of", "2025-10-15", SAMPLE / "tdp-07-tcvn3.xlsx")

    assert result.exit_code == 0
    assert "tdp-07-tcvn3.xlsx: đã nhập, 30 dòng." in result.output
    assert "Chuyển mã TCVN3/VNI sang Unicode ở 28 dòng" in result.output
    assert "Nhóm 2" in result.output


def test_import_uses_data_dir_variable(tmp_path):
    folder = tmp_path / "from-env"

    result = invoke("import", SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx", env={"FIELDAPP_DATA_DIR": str(folder)})

    assert result.exit_code == 0
    assert (folder / "site.db").is_file()


def test_import_group_option_applies(tmp_path):
    invoke("import", "--data-dir", tmp_path, "--group", "4", SAMPLE / "tre-duoi-2-tuoi.csv")

    db = connect(tmp_path / "site.db")
    groups = {row[0] for row in db.execute("SELECT groups FROM source_row").fetchall()}
    db.conn.close()
    assert groups == {"4"}


def test_import_bad_file_writes_nothing(tmp_path):
    bad = tmp_path / "danh-sach.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a list")

    result = invoke("import", "--data-dir", tmp_path / "site", SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx", bad)

    assert result.exit_code == 1
    assert "danh-sach.xlsx là tệp PDF" in result.output
    db = connect(tmp_path / "site" / "site.db")
    assert db.execute("SELECT count(*) FROM source_file").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM person").fetchone()[0] == 0
    db.conn.close()


def test_import_missing_file_named(tmp_path):
    result = invoke("import", "--data-dir", tmp_path, tmp_path / "khong-co.xlsx")

    assert result.exit_code == 1
    assert "Không tìm thấy tệp khong-co.xlsx" in result.output


def test_import_rejects_group_nine(tmp_path):
    result = invoke("import", "--data-dir", tmp_path, "--group", "9", SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx")

    assert result.exit_code == 2


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_export_csv_columns_and_rows(tmp_path):
    invoke("import", "--data-dir", tmp_path, "--as-of", "2025-10-15", SAMPLE / "tdp-02-nguoi-cao-tuoi.xlsx", SAMPLE / "ho-ngheo-can-ngheo.csv")

    result = invoke("roster", "export", "--data-dir", tmp_path, "--sources", tmp_path / "s.csv", "--people", tmp_path / "p.csv")

    assert result.exit_code == 0
    sources, people = _read_csv(tmp_path / "s.csv"), _read_csv(tmp_path / "p.csv")
    assert list(sources[0]) == ["file", "sheet", "row", "person_id"]
    assert list(people[0]) == ["person_id", "full_name", "sex", "birth_date", "cccd", "groups"]
    assert {row["person_id"] for row in sources} == {row["person_id"] for row in people}
    assert {row["sheet"] for row in sources if row["file"] == "ho-ngheo-can-ngheo.csv"} == {""}
    year_only = next(row for row in people if row["full_name"] == "Nguyễn Thị Nhung" and row["birth_date"] == "1945")
    assert year_only["cccd"] == ""
    assert all(re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", row["birth_date"]) for row in people if row["birth_date"])
    assert all(re.fullmatch(r"[1-8](;[1-8])*", row["groups"]) for row in people)


def test_export_xlsx_keeps_leading_zeros(tmp_path):
    invoke("import", "--data-dir", tmp_path, SAMPLE / "bao-tro-xa-hoi.xlsx")

    invoke("roster", "export", "--data-dir", tmp_path, "--people", tmp_path / "p.xlsx")

    rows = list(openpyxl.load_workbook(tmp_path / "p.xlsx").active.iter_rows(values_only=True))
    assert rows[0] == ("person_id", "full_name", "sex", "birth_date", "cccd", "groups")
    assert all(isinstance(row[4], str) and len(row[4]) == 12 for row in rows[1:] if row[4])


def test_export_unknown_extension_refused(tmp_path):
    result = invoke("roster", "export", "--data-dir", tmp_path, "--people", tmp_path / "p.json")

    assert result.exit_code == 1
    assert "chỉ hỗ trợ .csv và .xlsx" in result.output


def test_user_add_rejects_short_pin(tmp_path):
    result = invoke("user", "add", "--data-dir", tmp_path, "an", "--role", "reception", "--pin", "12")

    assert result.exit_code == 2
    assert "4 đến 12 chữ số" in result.output
