"""Birth dates as Vietnamese lists write them, kept with their precision."""

import datetime as dt
import re
from dataclasses import dataclass

# Excel's day 0 is 1899-12-30 once its 1900 leap-year bug is accounted for.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_OLDEST_AGE = 120

_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_MY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_DIGITS8 = re.compile(r"^\d{8}$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")


@dataclass(frozen=True)
class BirthDate:
    """A birth date known to the day, the month or only the year."""

    year: int
    month: int | None = None
    day: int | None = None
    two_digit_year: bool = False

    @property
    def precision(self) -> str:
        if self.day:
            return "day"
        return "month" if self.month else "year"

    @property
    def is_first_of_january(self) -> bool:
        """True for 01/01, which lists often write when only the year is known."""
        return self.month == 1 and self.day == 1

    def iso(self) -> str:
        """Return yyyy-mm-dd, yyyy-mm or yyyy, as precise as the source was."""
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def display(self) -> str:
        """Return dd/mm/yyyy, mm/yyyy or yyyy."""
        if self.day:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.year:04d}"

    def age_on(self, on: dt.date) -> int:
        """Return the age in completed years; for a year-only date, the age reached this calendar year."""
        month, day = self.month or 1, self.day or 1
        if self.precision == "year":
            return on.year - self.year
        return on.year - self.year - ((on.month, on.day) < (month, day))


class BirthDateError(ValueError):
    """A birth date that is missing a part, impossible, or in the future."""


def parse_iso(text: str) -> BirthDate:
    """Read a stored yyyy, yyyy-mm or yyyy-mm-dd back into a BirthDate."""
    parts = [int(p) for p in text.split("-")]
    return BirthDate(*parts)


def parse_birth_date(value: object, on: dt.date, century_hint: int | None = None) -> BirthDate | None:
    """Parse a birth date cell: a real date, an Excel serial, a year, or text in the usual layouts.

    `on` is the import date: dates after it or more than 120 years before it are impossible.
    `century_hint` (1900 or 2000), e.g. from the citizen ID number, resolves two-digit years.
    Returns None for an empty cell and raises BirthDateError for anything it cannot accept.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None

    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _checked(BirthDate(value.year, value.month, value.day), on)
    if isinstance(value, bool):
        raise BirthDateError(str(value))
    if isinstance(value, (int, float)):
        return _from_number(float(value), on)

    text = str(value).strip()
    if _SERIAL.match(text) and not _YEAR.match(text):
        return _from_number(float(text), on)
    return _from_text(text, on, century_hint)


def _from_number(number: float, on: dt.date) -> BirthDate:
    # 1800-2100 is a year typed as a number; such Excel serials would be births in 1904-1905.
    if number.is_integer() and 1800 <= number <= 2100:
        return _checked(BirthDate(int(number)), on)
    if 1 <= number < 100000:
        day = _EXCEL_EPOCH + dt.timedelta(days=int(number))
        return _checked(BirthDate(day.year, day.month, day.day), on)
    raise BirthDateError(str(number))


def _from_text(text: str, on: dt.date, century_hint: int | None) -> BirthDate:
    if match := _YEAR.match(text):
        return _checked(BirthDate(int(match.group(1))), on)

    if match := _YMD.match(text):
        year, month, day = (int(g) for g in match.groups())
        return _checked(BirthDate(year, month, day), on)

    if match := _DMY.match(text):
        day, month, year_text = match.groups()
        two_digit = len(year_text) == 2
        year = _full_year(int(year_text), on, century_hint) if two_digit else int(year_text)
        return _checked(BirthDate(year, int(month), int(day), two_digit_year=two_digit), on)

    if match := _MY.match(text):
        month, year = (int(g) for g in match.groups())
        return _checked(BirthDate(year, month), on)

    if _DIGITS8.match(text):
        # 19600131 (yyyymmdd, the claims-XML layout) or 31011960 (ddmmyyyy, the citizen-card QR layout).
        for year, month, day in ((text[:4], text[4:6], text[6:]), (text[4:], text[2:4], text[:2])):
            try:
                return _checked(BirthDate(int(year), int(month), int(day)), on)
            except BirthDateError:
                continue
    raise BirthDateError(text)


def _full_year(two_digits: int, on: dt.date, century_hint: int | None) -> int:
    if century_hint:
        return century_hint + two_digits
    year = 2000 + two_digits
    return year if year <= on.year else year - 100


def _checked(date: BirthDate, on: dt.date) -> BirthDate:
    if date.month == 0 or date.day == 0:
        raise BirthDateError(date.iso())
    try:
        dt.date(date.year, date.month or 1, date.day or 1)
    except ValueError as error:
        raise BirthDateError(date.iso()) from error

    if date.year < on.year - _OLDEST_AGE or (date.year, date.month or 1, date.day or 1) > (on.year, on.month, on.day):
        raise BirthDateError(date.iso())
    return date
