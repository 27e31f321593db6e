"""One line of the `fieldapp check` report, and the number and time formats its messages use."""

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import format_decimal

OK = "ok"
WARNING = "warning"
ERROR = "error"
_SEVERITY = {OK: 0, WARNING: 1, ERROR: 2}

# Binary units, as Windows Explorer shows sizes (it labels 1024³ bytes "GB").
MB = 1024**2
GB = 1024**3


@dataclass(frozen=True)
class Result:
    """One check's finding: a stable id for scripts, its status, a title, what was found, and what to do unless OK.

    details contains the measured values (sizes in bytes, times in UTC ISO 8601) for the --json output.
    """

    check: str
    status: str
    title: str
    message: str
    hint: str = ""
    details: dict = field(default_factory=dict)


def worst(results: list[Result]) -> str:
    """Return the most severe status among the results (OK for none)."""
    return max((result.status for result in results), key=_SEVERITY.__getitem__, default=OK)


def format_size(size: int) -> str:
    """Return a size as "24,2 MB" or "3,5 GB" in the current locale's number format."""
    if size >= GB:
        return f"{format_decimal(size / GB, '#,##0.0')} GB"
    return f"{format_decimal(size / MB, '#,##0.0')} MB"


def format_time(moment: dt.datetime) -> str:
    """Return a UTC time as day/month/year hours:minutes on the laptop's clock, as Vietnamese forms write dates."""
    return moment.astimezone().strftime("%d/%m/%Y %H:%M")


def format_date(moment: dt.datetime | dt.date) -> str:
    """Return a date as day/month/year."""
    return moment.strftime("%d/%m/%Y")
