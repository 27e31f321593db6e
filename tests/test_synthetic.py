"""Tests for the synthetic-ward generator that `fieldapp serve --demo` uses."""

from pathlib import Path

import pytest

from fieldapp.synthetic import MIN_RESIDENTS, generate
from fieldapp.synthetic.people import load_given_names


def test_generate_small_ward_files(tmp_path):
    summary = generate(300, 1, tmp_path)

    assert summary["residents"] == 300
    assert summary["rows_in_invitation_lists"] > 0
    assert (tmp_path / "population.csv").is_file()
    assert (tmp_path / "truth" / "truth.csv").is_file()


def test_generate_same_seed_same_files(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    generate(300, 7, first)
    generate(300, 7, second)

    files = sorted(path.relative_to(first) for path in first.rglob("*.csv"))
    assert Path("population.csv") in files
    assert Path("truth/truth.csv") in files
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_generate_rejects_tiny_ward(tmp_path):
    with pytest.raises(ValueError, match=f"at least {MIN_RESIDENTS}"):
        generate(MIN_RESIDENTS - 1, 1, tmp_path)


def test_given_names_from_package_data():
    boys, girls = load_given_names("boy"), load_given_names("girl")

    assert len(boys) > 100
    assert len(girls) > 100
    # U+00D0 (Ð) in the published lists is read as U+0110 (Đ).
    assert not any("\u00d0" in name for name in boys + girls)
