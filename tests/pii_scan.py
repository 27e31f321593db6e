"""Find personal data in texts that must not contain any: requested URLs, server logs, command output.

The forbidden strings come from the site database (every person's name, ID numbers and phones) and
from the exam values a test typed. Matching is tolerant of how a leak would look:
- Texts are percent-decoded first, so a name sent as "Nguy%E1%BB%85n" is found.
- Names are compared as whole words without tone marks and case (fieldapp.text.fold), so
  "nguyen van an" in a search URL counts as a leak of "Nguyễn Văn An".
- ID numbers and phones are found as whole digit runs, also without their leading zero and after
  "84" or "+84", the ways spreadsheets and phones rewrite them.
- Exam values are found only where no digit touches them, so "63,8" is not found inside "163,85".
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from fieldapp.text import fold

# A pulse of "72" or a height of "158" also occurs in ports, ids and timestamps, so a value shorter
# than this proves nothing when found. Blood pressure pairs ("128/84") and decimals ("63,8") are longer.
MIN_VALUE_CHARS = 4
# Old 9-digit CMND numbers are the shortest ID numbers kept.
MIN_NUMBER_DIGITS = 9


@dataclass(frozen=True)
class Leak:
    """A forbidden string found in a text: what kind it is, the text found, and where."""

    kind: str
    found: str
    where: str


def forbidden_strings(db, typed_values: list[str]) -> dict[str, set[str]]:
    """Return the folded names, ID and phone numbers, and exam values that no URL or log may contain."""
    names, numbers = set(), set()
    for full_name, cccd, cmnd, phone, parent_phone in db.execute(
            "SELECT full_name, cccd, cmnd, phone, parent_phone FROM person").fetchall():
        if full_name and len(full_name.split()) >= 2:
            names.add(fold(full_name))
        for number in (cccd, cmnd, phone, parent_phone):
            digits = re.sub(r"\D", "", number or "")
            if len(digits) >= MIN_NUMBER_DIGITS:
                numbers.update({digits, digits.lstrip("0")})

    values = set()
    for value in typed_values:
        if len(value) >= MIN_VALUE_CHARS:
            # A decimal typed with a comma is stored and sent with a point.
            values.update({value, value.replace(",", ".")})
    return {"name": names, "number": numbers, "value": values}


def _alternation(strings: set[str]) -> str:
    # Longest first, so a number is reported whole rather than as the shorter form without its zero.
    return "|".join(re.escape(text) for text in sorted(strings, key=len, reverse=True))


def find_leaks(texts: dict[str, str], forbidden: dict[str, set[str]]) -> list[Leak]:
    """Return every forbidden string found in texts, a mapping from where a text came from to the text."""
    patterns = {
        "name": (re.compile(rf"\b(?:{_alternation(forbidden['name'])})\b"), True),
        "number": (re.compile(rf"(?<!\d)(?:\+?84)?(?:{_alternation(forbidden['number'])})(?!\d)"), False),
        "value": (re.compile(rf"(?<![\d.,])(?:{_alternation(forbidden['value'])})(?!\d)"), False),
    }
    leaks = []
    for where, text in texts.items():
        for kind, (pattern, folded) in patterns.items():
            if not forbidden[kind]:
                continue
            # A "+" in a query string is a space between words, but elsewhere it may start a phone number.
            haystack = fold(unquote_plus(text)) if folded else unquote(text)
            leaks += [Leak(kind, match.group(0), where) for match in pattern.finditer(haystack)]
    return leaks
