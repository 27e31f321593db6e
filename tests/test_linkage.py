"""Tests for deciding which source rows are the same person, and for officer decisions in link()."""

import pytest

from fieldapp.birthdates import BirthDate
from fieldapp.linkage import MATCH_CCCD, MATCH_CONTEXT, MATCH_EXACT, LinkRow, link, verdict


def make_row(row_id: str, name: str, birth: BirthDate | None = None, sheet: str = "", **fields) -> LinkRow:
    """Build a link row whose signature is its id, on its own sheet unless one is given."""
    return LinkRow(id=row_id, sheet_key=sheet or f"sheet-{row_id}", signature=row_id, name=name, birth=birth, **fields)


PHONE = frozenset({"0912345678"})

PAIRS = {
    "same cccd with tone variant": (
        make_row("a", "Nguyễn Văn Hoà", BirthDate(1958, 3, 5), cccd="031058012345"),
        make_row("b", "Nguyễn Văn Hòa", BirthDate(1958, 3, 5), cccd="031058012345"),
        (MATCH_CCCD, None),
    ),
    "same cccd without marks": (
        make_row("a", "Nguyễn Văn Hoà", BirthDate(1958), cccd="031058012345"),
        make_row("b", "NGUYEN VAN HOA", None, cccd="031058012345"),
        (MATCH_CCCD, None),
    ),
    "same cmnd": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958), cmnd="123456789"),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5), cmnd="123456789"),
        (MATCH_CCCD, None),
    ),
    "same cccd other person": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958), cccd="031058012345"),
        make_row("b", "Trần Thị Bình", BirthDate(1958, 3, 5), cccd="031058012345"),
        (0, "same_id_other_name"),
    ),
    "different cccds": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), cccd="031058012345", tdp="3"),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5), cccd="031058099999", tdp="3"),
        (0, None),
    ),
    "father and son": (
        make_row("a", "Trần Văn Hùng", BirthDate(1958), tdp="3", phones=PHONE),
        make_row("b", "Trần Văn Hùng", BirthDate(1985), tdp="3", phones=PHONE),
        (0, None),
    ),
    "father and son same day": (
        make_row("a", "Trần Văn Hùng", BirthDate(1958, 3, 5), tdp="3"),
        make_row("b", "Trần Văn Hùng", BirthDate(1985, 3, 5), tdp="3"),
        (0, None),
    ),
    "different sexes": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), sex="M"),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5), sex="F"),
        (0, None),
    ),
    "twins an and ân": (
        make_row("a", "Vũ Bảo Ân", BirthDate(2018, 6, 1), tdp="3", phones=PHONE),
        make_row("b", "Vũ Bảo An", BirthDate(2018, 6, 1), tdp="3", phones=PHONE),
        (0, "same_birth_similar_name"),
    ),
    "twins on one sheet": (
        make_row("a", "Vũ Bảo Ân", BirthDate(2018, 6, 1), sheet="lop-1a", tdp="3"),
        make_row("b", "Vũ Bảo An", BirthDate(2018, 6, 1), sheet="lop-1a", tdp="3"),
        (0, None),
    ),
    "year only in other tdps": (
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950), tdp="7"),
        (0, "same_name_birth_unclear"),
    ),
    "year only nothing else": (
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950)),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950)),
        (0, "same_name_birth_unclear"),
    ),
    "year only same tdp": (
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
        (MATCH_CONTEXT, None),
    ),
    "dropped middle name same tdp": (
        make_row("a", "Trần Thị Hương", BirthDate(1958, 3, 5), tdp="3"),
        make_row("b", "Trần Hương", BirthDate(1958, 3, 5), tdp="3"),
        (MATCH_EXACT, None),
    ),
    "dropped middle name alone": (
        make_row("a", "Trần Thị Hương", BirthDate(1958, 3, 5)),
        make_row("b", "Trần Hương", BirthDate(1958, 3, 5)),
        (0, "same_birth_similar_name"),
    ),
    "first of january same phone": (
        make_row("a", "Lê Văn Tám", BirthDate(1945, 1, 1), phones=PHONE),
        make_row("b", "Lê Văn Tám", BirthDate(1945, 7, 20), phones=PHONE),
        (MATCH_CONTEXT, None),
    ),
    "first of january alone": (
        make_row("a", "Lê Văn Tám", BirthDate(1945, 1, 1)),
        make_row("b", "Lê Văn Tám", BirthDate(1945, 7, 20)),
        (0, "same_name_birth_unclear"),
    ),
    "day and month swapped": (
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950, 3, 5), tdp="3"),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950, 5, 3), tdp="3"),
        (MATCH_CONTEXT, None),
    ),
    "same name and date": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
        (MATCH_EXACT, None),
    ),
    "duplicate on one sheet": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), sheet="tdp-3"),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5), sheet="tdp-3"),
        (MATCH_EXACT, None),
    ),
    "other names on one sheet": (
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), sheet="tdp-3", cccd="031058012345"),
        make_row("b", "Nguyễn Văn Anh", BirthDate(1958, 3, 5), sheet="tdp-3", cccd="031058012345"),
        (0, "same_id_other_name"),
    ),
    "tone variant on one sheet": (
        make_row("a", "Nguyễn Văn Hoà", BirthDate(1958, 3, 5), sheet="tdp-3", tdp="3"),
        make_row("b", "Nguyễn Văn Hòa Bình", BirthDate(1958, 3, 5), sheet="tdp-3", tdp="3"),
        (0, None),
    ),
}


@pytest.mark.parametrize(("first", "second", "expected"), PAIRS.values(), ids=PAIRS.keys())
def test_verdict_for_pair(first, second, expected):
    result = verdict(first, second)

    assert result == expected


@pytest.mark.parametrize(("first", "second", "expected"), PAIRS.values(), ids=PAIRS.keys())
def test_verdict_is_symmetric(first, second, expected):
    forward = verdict(first, second)

    backward = verdict(second, first)

    assert forward == backward


def test_eth_matches_d_with_stroke():
    first = make_row("a", "\u00d0ặng Văn \u00d0ức", BirthDate(1958, 3, 5))
    second = make_row("b", "Đặng Văn Đức", BirthDate(1958, 3, 5))

    result = verdict(first, second)

    assert result == (MATCH_EXACT, None)


def _clusters(result) -> list[list[str]]:
    return sorted(sorted(cluster) for cluster in result.clusters)


def test_link_merges_matching_rows():
    rows = [
        make_row("a", "Nguyễn Văn Hoà", BirthDate(1958, 3, 5), cccd="031058012345"),
        make_row("b", "Nguyễn Văn Hòa", BirthDate(1958), cccd="031058012345"),
        make_row("c", "Trần Thị Bình", BirthDate(1960)),
    ]

    result = link(rows)

    assert _clusters(result) == [["a", "b"], ["c"]]
    assert result.review == []


def test_link_lists_review_pairs():
    rows = [
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950), tdp="7"),
    ]

    result = link(rows)

    assert _clusters(result) == [["a"], ["b"]]
    assert result.review == [("a", "b", "same_name_birth_unclear")]


def test_officer_same_merges_pair():
    rows = [
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950), tdp="7"),
    ]

    result = link(rows, decisions={("a", "b"): "same"})

    assert _clusters(result) == [["a", "b"]]
    assert result.review == []


def test_officer_different_splits_pair():
    rows = [
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
    ]

    result = link(rows, decisions={("a", "b"): "different"})

    assert _clusters(result) == [["a"], ["b"]]
    assert result.review == []


def test_decision_keyed_by_sorted_signatures():
    rows = [
        make_row("b", "Nguyễn Thị Lan", BirthDate(1950), tdp="7"),
        make_row("a", "Nguyễn Thị Lan", BirthDate(1950), tdp="3"),
    ]

    sorted_key = link(rows, decisions={("a", "b"): "same"})
    reversed_key = link(rows, decisions={("b", "a"): "same"})

    assert _clusters(sorted_key) == [["a", "b"]]
    assert _clusters(reversed_key) == [["a"], ["b"]]


def test_officer_different_blocks_chain():
    # a-b and b-c match on their own; the officer's "different" for a-c keeps c out of a's cluster.
    rows = [
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), cccd="031058012345"),
        make_row("b", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
        make_row("c", "Nguyễn Văn An", BirthDate(1958, 3, 5)),
    ]

    result = link(rows, decisions={("a", "c"): "different"})

    assert _clusters(result) == [["a", "b"], ["c"]]


def test_one_sheet_names_never_merge():
    # c matches a by CCCD and b by a dropped middle name, but a and b are two people on one sheet.
    rows = [
        make_row("a", "Nguyễn Văn An", BirthDate(1958, 3, 5), sheet="tdp-3", cccd="031058012345", tdp="3"),
        make_row("b", "Nguyễn An", BirthDate(1958, 3, 5), sheet="tdp-3", tdp="3"),
        make_row("c", "Nguyễn Văn An", BirthDate(1958, 3, 5), sheet="cong-an", cccd="031058012345", tdp="3"),
    ]

    result = link(rows)

    assert _clusters(result) == [["a", "c"], ["b"]]


def test_twins_stay_apart():
    rows = [
        make_row("a", "Vũ Bảo Ân", BirthDate(2018, 6, 1), sheet="lop-1a", tdp="3"),
        make_row("b", "Vũ Bảo An", BirthDate(2018, 6, 1), sheet="lop-1a", tdp="3"),
        make_row("c", "Vũ Bảo An", BirthDate(2018, 6, 1), sheet="tre-em", tdp="3"),
    ]

    result = link(rows)

    assert _clusters(result) == [["a"], ["b", "c"]]
