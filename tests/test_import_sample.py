"""Import the synthetic 3,000-resident ward and check people, merges, groups and names against its truth files."""

import csv
import json
import unicodedata
from collections import defaultdict
from itertools import combinations

import pytest

from fieldapp.birthdates import parse_iso
from fieldapp.db import connect
from fieldapp.groups import groups_by_age, parse_groups
from fieldapp.importer import import_files

from conftest import SAMPLE, SAMPLE_DATE

POPULATION = "cong-an-dan-cu.csv"
# The truth files name groups by kind of list; the ward plan numbers them 1-8.
PLAN_GROUP = {
    "merit": 1, "elderly": 2, "poor": 3, "near_poor": 3, "social_protection": 3, "disabled": 3,
    "worker": 4, "preschool": 7, "primary": 7, "secondary": 7, "under2": 8,
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Import every list of the sample ward, then its population extract, into one real SQLite file."""
    folder = tmp_path_factory.mktemp("ward")
    db = connect(folder / "site.db")
    lists = sorted(path for path in SAMPLE.iterdir() if path.is_file() and path.name != POPULATION)
    import_files(db, lists, SAMPLE_DATE)
    import_files(db, [SAMPLE / POPULATION], SAMPLE_DATE, kind="population")
    yield db
    db.conn.close()


@pytest.fixture(scope="module")
def truth():
    with (SAMPLE / "truth" / "truth.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["file"] != POPULATION]
    return {(row["file"], row["sheet"], int(row["row"])): row for row in rows}


@pytest.fixture(scope="module")
def people():
    with (SAMPLE / "truth" / "people.csv").open(encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def assigned(imported):
    rows = imported.execute("SELECT file_name, sheet, row_no, person_id FROM source_row").fetchall()
    return {(file, sheet, row): person for file, sheet, row, person in rows}


def _pairs(assignment: dict) -> set:
    clusters = defaultdict(list)
    for key, person in assignment.items():
        clusters[person].append(key)
    return {pair for members in clusters.values() for pair in combinations(sorted(members), 2)}


def test_every_list_row_imported(assigned, truth):
    missing = sorted(set(truth) - set(assigned))
    extra = sorted(set(assigned) - set(truth))

    assert missing == []
    assert extra == []


def test_person_count_within_half_percent(imported):
    summary = json.loads((SAMPLE / "truth" / "summary.json").read_text(encoding="utf-8"))
    expected = summary["unique_persons_in_invitation_lists"]

    persons = imported.execute("SELECT count(*) FROM person").fetchone()[0]

    assert abs(persons - expected) <= 0.005 * expected


def test_merge_precision_and_recall(assigned, truth):
    true_pairs = _pairs({key: row["true_person_id"] for key, row in truth.items()})
    our_pairs = _pairs(assigned)

    precision = len(true_pairs & our_pairs) / len(our_pairs)
    recall = len(true_pairs & our_pairs) / len(true_pairs)

    assert precision >= 0.995, sorted(our_pairs - true_pairs)[:5]
    assert recall >= 0.98, sorted(true_pairs - our_pairs)[:5]


def test_lookalikes_stay_apart(imported, assigned, truth):
    with (SAMPLE / "truth" / "lookalikes.csv").open(encoding="utf-8") as handle:
        lookalikes = list(csv.DictReader(handle))
    persons_of = defaultdict(set)
    for key, row in truth.items():
        persons_of[row["true_person_id"]].add(assigned[key])

    merged = [pair for pair in lookalikes if persons_of[pair["person_a"]] & persons_of[pair["person_b"]]]

    assert merged == []


def _expected_groups(truth, people) -> dict[int, int]:
    groups_of = defaultdict(set)
    for row in truth.values():
        groups_of[row["true_person_id"]] |= {PLAN_GROUP[name] for name in row["groups"].split(";") if name}
    counts = defaultdict(int)
    for person_id, groups in groups_of.items():
        birth = people[person_id]["birth"]
        groups |= groups_by_age(parse_iso(birth) if birth else None, SAMPLE_DATE)
        for group in groups:
            counts[group] += 1
    return counts


def test_group_counts_match_truth(imported, truth, people):
    expected = _expected_groups(truth, people)
    counts = defaultdict(int)
    for (groups,) in imported.execute("SELECT groups FROM person").fetchall():
        for group in parse_groups(groups):
            counts[group] += 1

    for group in range(1, 9):
        allowed = 1 if expected[group] < 100 else 0.01 * expected[group]
        assert abs(counts[group] - expected[group]) <= allowed, (group, counts[group], expected[group])


def test_legacy_names_decoded_exactly(imported, truth, people):
    rows = imported.execute("SELECT file_name, sheet, row_no, full_name, legacy FROM source_row").fetchall()
    decoded = {(file, sheet, row): (name, legacy) for file, sheet, row, name, legacy in rows}
    legacy_keys = [key for key, row in truth.items() if "tcvn3" in row["noise"].split(";")]
    cp1258_keys = [key for key in truth if key[0] == "ho-ngheo-can-ngheo.csv" and "variant_name" not in truth[key]["noise"]]

    for key in legacy_keys + cp1258_keys:
        name, _ = decoded[key]
        assert name == people[truth[key]["true_person_id"]]["full_name"], key

    assert len(legacy_keys) == 28
    assert all(decoded[key][1] == "tcvn3" for key in legacy_keys)


def _case_and_space_folded(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110")
    return " ".join(text.split()).casefold()


def test_other_names_unaltered_beyond_case(imported):
    rows = imported.execute(
        "SELECT file_name, sheet, row_no, full_name, raw FROM source_row WHERE legacy IS NULL"
    ).fetchall()
    changed = []
    for file, sheet, row, name, raw in rows:
        cells = [str(cell) for cell in json.loads(raw) if isinstance(cell, str)]
        joined = [_case_and_space_folded(cell) for cell in cells]
        split_name = _case_and_space_folded(" ".join(cells[:2]))
        if _case_and_space_folded(name) not in joined and _case_and_space_folded(name) not in split_name:
            changed.append((file, sheet, row, name))

    assert changed == []


def test_year_only_birth_kept_as_year(imported):
    rows = imported.execute(
        "SELECT birth_date FROM source_row WHERE file_name = 'tdp-02-nguoi-cao-tuoi.xlsx' AND row_no = 10"
    ).fetchone()

    assert rows[0] == "1945"


def test_bad_rows_none_in_sample(imported):
    reports = [json.loads(report) for (report,) in imported.execute("SELECT report FROM source_file").fetchall()]

    assert [problem for report in reports for problem in report["problems"]] == []
