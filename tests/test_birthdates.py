"""Tests for birth-date parsing with precision, two-digit years, impossible dates, ages and age groups."""

import datetime as dt

import pytest

from fieldapp.birthdates import BirthDate, BirthDateError, parse_birth_date
from fieldapp.groups import groups_by_age

# Import date for every case. Dates after it or more than 120 years before it are impossible.
ON = dt.date(2025, 10, 15)


@pytest.mark.parametrize(
    ("value", "precision", "iso"),
    [
        ("05/03/1958", "day", "1958-03-05"),
        ("5/3/1958", "day", "1958-03-05"),
        ("05-03-1958", "day", "1958-03-05"),
        ("05.03.1958", "day", "1958-03-05"),
        (" 05 / 03 / 1958 ", "day", "1958-03-05"),
        ("1958-03-05", "day", "1958-03-05"),
        ("1958-03-05 00:00:00", "day", "1958-03-05"),
        ("19580305", "day", "1958-03-05"),
        ("05031958", "day", "1958-03-05"),
        ("03/1958", "month", "1958-03"),
        ("3-1958", "month", "1958-03"),
        ("1958", "year", "1958"),
        (1958, "year", "1958"),
        (1958.0, "year", "1958"),
        ("1958.0", "year", "1958"),
        (dt.date(1958, 3, 5), "day", "1958-03-05"),
        (dt.datetime(1958, 3, 5, 0, 0), "day", "1958-03-05"),
        # Excel stores dates as days since 1899-12-30, so 21249 is 5 March 1958.
        (21249, "day", "1958-03-05"),
        (21249.0, "day", "1958-03-05"),
        ("21249", "day", "1958-03-05"),
        ("15/10/2025", "day", "2025-10-15"),
    ],
)
def test_layout_parses_with_precision(value, precision, iso):
    birth = parse_birth_date(value, ON)

    assert birth.precision == precision
    assert birth.iso() == iso


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_cell_returns_none(value):
    birth = parse_birth_date(value, ON)

    assert birth is None


@pytest.mark.parametrize(
    ("birth", "display"),
    [
        (BirthDate(1958, 3, 5), "05/03/1958"),
        (BirthDate(1958, 3), "03/1958"),
        (BirthDate(1958), "1958"),
    ],
)
def test_display_keeps_precision(birth, display):
    text = birth.display()

    assert text == display


@pytest.mark.parametrize("value", ["1945", 1945, 1945.0, "1945.0"])
def test_year_only_stays_year(value):
    birth = parse_birth_date(value, ON)

    assert birth == BirthDate(1945)
    assert birth.month is None
    assert birth.day is None
    assert not birth.is_first_of_january


def test_written_first_of_january_kept():
    birth = parse_birth_date("01/01/1945", ON)

    assert birth == BirthDate(1945, 1, 1)
    assert birth.is_first_of_january


@pytest.mark.parametrize(
    ("value", "century_hint", "year"),
    [
        ("5/3/58", None, 1958),
        ("05/03/58", None, 1958),
        ("5/3/99", None, 1999),
        ("5/3/20", None, 2020),
        ("5/3/25", None, 2025),
        # 2026 would be in the future, so "26" falls back to the 1900s.
        ("5/3/26", None, 1926),
        ("5/3/20", 1900, 1920),
        ("5/3/05", 1900, 1905),
        ("5/3/05", 2000, 2005),
        ("5/3/58", 1900, 1958),
    ],
)
def test_two_digit_year_gets_century(value, century_hint, year):
    birth = parse_birth_date(value, ON, century_hint=century_hint)

    assert birth.year == year
    assert birth.two_digit_year


def test_four_digit_year_not_flagged():
    birth = parse_birth_date("05/03/1958", ON)

    assert not birth.two_digit_year


def test_century_hint_into_future_rejected():
    with pytest.raises(BirthDateError):
        parse_birth_date("5/3/58", ON, century_hint=2000)


@pytest.mark.parametrize(
    "value",
    [
        "31/02/1960",
        "29/02/1961",
        "30/02/2000",
        "32/01/1960",
        "15/13/1960",
        "1960-13-05",
        "16/10/2025",
        "01/01/2030",
        "2030",
        "06/2030",
        "01/01/1895",
        "1895",
        "1904",
        "không rõ",
        "abc",
        "05/03",
        "5/3/958",
        "99999999",
        True,
        0,
        -5,
        100000,
    ],
)
def test_impossible_date_raises(value):
    with pytest.raises(BirthDateError):
        parse_birth_date(value, ON)


@pytest.mark.parametrize("value", ["31/00/1960", "1960-00-15"])
def test_month_zero_raises(value):
    with pytest.raises(BirthDateError):
        parse_birth_date(value, ON)


@pytest.mark.parametrize("value", [1895, 1900, 2030])
def test_year_number_out_of_range_raises(value):
    with pytest.raises(BirthDateError):
        parse_birth_date(value, ON)


def test_oldest_allowed_year_accepted():
    birth = parse_birth_date("1905", ON)

    assert birth == BirthDate(1905)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (BirthDate(1965, 10, 15), dt.date(2025, 10, 15), 60),
        (BirthDate(1965, 10, 16), dt.date(2025, 10, 15), 59),
        (BirthDate(1964, 2, 29), dt.date(2025, 2, 28), 60),
        (BirthDate(1964, 2, 29), dt.date(2025, 3, 1), 61),
        (BirthDate(1965, 10), dt.date(2025, 10, 1), 60),
        (BirthDate(1965, 10), dt.date(2025, 9, 30), 59),
        # A year-only birth gives the age reached during the calendar year.
        (BirthDate(1965), dt.date(2025, 1, 1), 60),
        (BirthDate(1965), dt.date(2025, 12, 31), 60),
        (BirthDate(2025, 10, 15), dt.date(2025, 10, 15), 0),
    ],
)
def test_age_on_counts_completed_years(birth, on, age):
    result = birth.age_on(on)

    assert result == age


@pytest.mark.parametrize(
    ("birth", "groups"),
    [
        (BirthDate(1965, 10, 15), {2}),
        (BirthDate(1965, 10, 16), set()),
        (BirthDate(1930, 1, 1), {2}),
        # Someone born in 1965 turns 60 some day in 2025, so a year-only birth is in the group all year.
        (BirthDate(1965), {2}),
        (BirthDate(1966), set()),
        (BirthDate(1965, 11), set()),
        (BirthDate(1965, 10), {2}),
        (BirthDate(2023, 10, 16), {8}),
        (BirthDate(2023, 10, 15), set()),
        (BirthDate(2025, 10, 15), {8}),
        (BirthDate(2024, 1, 31), {8}),
        (BirthDate(2023, 11), {8}),
        # Year only cannot show that a child is under 24 months.
        (BirthDate(2024), set()),
        (BirthDate(2000, 5, 5), set()),
        (None, set()),
    ],
)
def test_groups_by_age_on_exam_day(birth, groups):
    result = groups_by_age(birth, ON)

    assert result == groups
