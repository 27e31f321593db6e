"""The personal-data scanner that the end-to-end test runs over URLs and logs (tests/pii_scan.py)."""

import pytest
from pii_scan import Leak, find_leaks, forbidden_strings

from fieldapp.db import write


@pytest.fixture
def forbidden(db):
    with write(db):
        db["person"].insert_all([
            {"id": "p1", "full_name": "Nguyễn Văn An", "sort_key": "", "search_key": "", "groups": "", "cccd": "031058122729",
             "phone": "0984866387", "updated_at": "2026-01-01"},
            {"id": "p2", "full_name": "Lê An", "sort_key": "", "search_key": "", "groups": "", "cmnd": "123456789",
             "parent_phone": "0912 345 678", "updated_at": "2026-01-01"},
        ])
    return forbidden_strings(db, ["55,8", "128/84", "72"])


# (text, what the scanner reports)
CASES = [
    ("/checkin/search?q=Nguy%E1%BB%85n+V%C4%83n+An", [("name", "nguyen van an")]),
    ("/roster/?q=nguyen+van+an+1958", [("name", "nguyen van an")]),
    ("GET /people/LÊ AN", [("name", "le an")]),
    ("/roster/?q=le+anh", []),
    ("sent to +84984866387", [("number", "+84984866387")]),
    ("phone 984866387 without its zero", [("number", "984866387")]),
    ("id=31058122729", [("number", "31058122729")]),
    ("cmnd 123456789", [("number", "123456789")]),
    ("parent 0912345678", [("number", "0912345678")]),
    ("token 9031058122729123", []),
    ("/entry?weight=55.8", [("value", "55.8")]),
    ("weight 55,8 kg", [("value", "55,8")]),
    ("bp=128%2F84", [("value", "128/84")]),
    ("2026-12-05 02:08:55,812 INFO fieldapp.jobs: job finished", []),
    ("height 155,85", []),
    ("pulse 72 on port 47272", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_find_leaks(forbidden, text, expected):
    leaks = find_leaks({"text": text}, forbidden)

    assert leaks == [Leak(kind, found, "text") for kind, found in expected]


def test_short_values_not_forbidden(forbidden):
    assert forbidden["value"] == {"55,8", "55.8", "128/84"}
