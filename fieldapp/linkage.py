"""Decide which source rows are the same human: explainable rules over ID number, name, birth and context.

Rules, strongest first:
- The same CCCD (or old CMND) and a compatible name make the same person.
- Compatible names and the same full birth date make the same person, unless nothing else
  (place, phone, parent) agrees and something disagrees.
- Compatible names with the same birth year known less exactly (year only, 01/01, day and
  month swapped) make the same person when something else agrees. Otherwise they are a review pair.
Hard stops keep look-alikes apart: two different CCCDs, two different birth years, two sexes,
two different given names, and two rows of one sheet that are not word-for-word duplicates
(a list names each person once, so near-identical rows there are twins or siblings).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from .birthdates import BirthDate
from .text import clean, fold, modern_tones

MATCH_CCCD, MATCH_EXACT, MATCH_CONTEXT = 3, 2, 1
# A block bigger than this (a very common name with no birth year) yields review noise, not links.
_MAX_BLOCK = 60


@dataclass
class LinkRow:
    """The parts of a source row that matching looks at."""

    id: str
    sheet_key: str
    signature: str
    name: str
    birth: BirthDate | None = None
    sex: str | None = None
    cccd: str | None = None
    cmnd: str | None = None
    phones: frozenset = frozenset()
    parent: str = ""
    tdp: str = ""
    household: str = ""
    school: str = ""  # the file of a school list, for pupils
    kin: frozenset = frozenset()  # folded names of the other members of the row's household
    kin_phones: frozenset = frozenset()
    exact_name: str = field(init=False)
    folded: str = field(init=False)
    words: list[str] = field(init=False)

    def __post_init__(self):
        self.exact_name = modern_tones(clean(self.name)).lower()
        self.folded = fold(self.exact_name)
        self.words = self.folded.split()


@dataclass
class LinkResult:
    """Clusters of row ids (one per person) and the pairs left for the officer to decide."""

    clusters: list[list[str]]
    review: list[tuple[str, str, str]]


def _name_relation(a: LinkRow, b: LinkRow) -> str:
    if a.exact_name == b.exact_name:
        return "exact"
    if a.folded == b.folded:
        # "An" and "Ân", "Hùng" and "Hưng" are different given names, often of twins. A slip in
        # a middle name ("Thi" for "Thị") is a typing error.
        return "tones" if a.exact_name.split()[-1:] == b.exact_name.split()[-1:] else "given_tones"
    if len(a.words) < 2 or len(b.words) < 2:
        return "different"
    if a.words[0] != b.words[0] or a.words[-1] != b.words[-1]:
        return "different"
    shorter, longer = sorted((a.words[1:-1], b.words[1:-1]), key=len)
    # A dropped middle name ("Trần Hương" for "Trần Thị Hương") keeps the rest in order.
    position = 0
    for word in longer:
        if position < len(shorter) and shorter[position] == word:
            position += 1
    return "partial" if position == len(shorter) else "different"


def _birth_relation(a: BirthDate | None, b: BirthDate | None) -> str:
    if a is None or b is None:
        return "missing"
    if a.year != b.year:
        return "different"
    exact_a = a.precision == "day" and not a.is_first_of_january
    exact_b = b.precision == "day" and not b.is_first_of_january
    if exact_a and exact_b:
        if (a.month, a.day) == (b.month, b.day):
            return "exact"
        if (a.month, a.day) == (b.day, b.month):
            return "swapped"
        return "close"
    if a.precision == b.precision == "day" and (a.month, a.day) == (b.month, b.day):
        return "exact"
    if a.month and b.month and not (a.is_first_of_january or b.is_first_of_january) and a.month != b.month:
        return "close"
    return "year"


def _agreements(a: LinkRow, b: LinkRow) -> tuple[int, int]:
    """Count the context fields that agree and those that disagree."""
    agree = disagree = 0
    if a.tdp and b.tdp:
        if a.tdp == b.tdp:
            agree += 1
        else:
            disagree += 1
    if a.phones & b.phones:
        agree += 1
    if a.parent and a.parent == b.parent:
        agree += 1
    if a.household and a.household == b.household:
        agree += 1
    # A pupil is on one school's list; two schools' lists mean two children.
    if a.school and b.school and a.school != b.school:
        disagree += 1
    # A pupil's parent named at school is a member of the pupil's household in a household list.
    if (a.parent and a.parent in b.kin) or (b.parent and b.parent in a.kin):
        agree += 1
    elif (a.phones & b.kin_phones) or (b.phones & a.kin_phones):
        agree += 1
    return agree, disagree


def conflict(a: LinkRow, b: LinkRow) -> bool:
    """True if two rows cannot be one person whatever else agrees."""
    if a.cccd and b.cccd and a.cccd != b.cccd:
        return True
    same_id = bool(a.cccd and a.cccd == b.cccd) or bool(a.cmnd and a.cmnd == b.cmnd)
    if a.sheet_key == b.sheet_key and not (a.exact_name == b.exact_name and _birth_relation(a.birth, b.birth) in ("exact", "year", "missing")):
        return True
    if same_id:
        return False
    if a.sex and b.sex and a.sex != b.sex:
        return True
    return bool(a.birth and b.birth and a.birth.year != b.birth.year)


def verdict(a: LinkRow, b: LinkRow) -> tuple[int, str | None]:
    """Return (match strength 0-3, review reason or None) for a pair of rows."""
    if a.sheet_key == b.sheet_key and a.cccd and a.cccd == b.cccd and a.exact_name != b.exact_name:
        # One list giving one CCCD to two names: a typing error the officer must settle.
        return 0, "same_id_other_name"
    if conflict(a, b):
        return 0, None
    names = _name_relation(a, b)

    if (a.cccd and a.cccd == b.cccd) or (a.cmnd and a.cmnd == b.cmnd):
        if names != "different" or (a.words[-1:] == b.words[-1:]):
            return MATCH_CCCD, None
        return 0, "same_id_other_name"
    if names == "different":
        return 0, None

    births = _birth_relation(a.birth, b.birth)
    agree, disagree = _agreements(a, b)
    if names == "given_tones":
        return 0, "same_birth_similar_name" if births == "exact" else None
    if births == "exact":
        if (names == "exact" and not (disagree and not agree)) or (agree and not disagree):
            return MATCH_EXACT, None
        return 0, "same_birth_similar_name"
    if births in ("year", "swapped", "missing") and names in ("exact", "tones"):
        if agree and not disagree:
            return MATCH_CONTEXT, None
        if births != "missing" or names == "exact":
            return 0, "same_name_birth_unclear"
    if births == "close" and names in ("exact", "tones") and agree and not disagree:
        return 0, "same_name_birth_differs"
    return 0, None


def _blocks(rows: list[LinkRow]):
    keys = defaultdict(list)
    for index, row in enumerate(rows):
        if row.cccd:
            keys["c" + row.cccd].append(index)
        if row.cmnd:
            keys["m" + row.cmnd].append(index)
        year = row.birth.year if row.birth else ""
        keys[f"n{row.folded}|{year}"].append(index)
        if len(row.words) >= 2:
            keys[f"g{row.words[0]} {row.words[-1]}|{year}"].append(index)
        keys["f" + row.folded].append(index)
    for key, members in keys.items():
        if len(members) < 2:
            continue
        if key[0] == "f":
            # Names alone pair only rows that lack a birth date with the rest.
            if len(members) > _MAX_BLOCK:
                continue
            for i, j in combinations(members, 2):
                if rows[i].birth is None or rows[j].birth is None:
                    yield i, j
            continue
        yield from combinations(members, 2)


def link(rows: list[LinkRow], decisions: dict[tuple[str, str], str] | None = None) -> LinkResult:
    """Group rows into people; officer decisions keyed by sorted signature pairs override the rules."""
    decisions = decisions or {}
    scored: dict[tuple[int, int], tuple[int, str | None]] = {}
    for i, j in [*_blocks(rows), *_decided_pairs(rows, decisions)]:
        if (i, j) in scored:
            continue
        pair = tuple(sorted((rows[i].signature, rows[j].signature)))
        decided = decisions.get(pair)
        if decided == "same":
            scored[(i, j)] = (4, None)
        elif decided == "different":
            scored[(i, j)] = (0, None)
        else:
            scored[(i, j)] = verdict(rows[i], rows[j])

    parent = list(range(len(rows)))
    members = {i: [i] for i in range(len(rows))}
    forbidden = {pair for pair, (strength, _) in scored.items() if strength == 0 and _decided_apart(rows, pair, decisions)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def compatible(x: int, y: int) -> bool:
        for i in members[x]:
            for j in members[y]:
                key = (min(i, j), max(i, j))
                if key in forbidden or conflict(rows[i], rows[j]):
                    return False
        return True

    for (i, j), (strength, _) in sorted(scored.items(), key=lambda item: -item[1][0]):
        if strength == 0:
            break
        x, y = root(i), root(j)
        if x == y or not (strength == 4 or compatible(x, y)):
            continue
        if len(members[x]) < len(members[y]):
            x, y = y, x
        parent[y] = x
        members[x].extend(members.pop(y))

    review = []
    for (i, j), (strength, reason) in scored.items():
        if reason and root(i) != root(j):
            review.append((rows[i].id, rows[j].id, reason))
    clusters = [[rows[i].id for i in group] for group in members.values()]
    return LinkResult(clusters, review)


def _decided_pairs(rows: list[LinkRow], decisions: dict):
    """Yield the row pairs an officer decided on, which blocking might not bring together."""
    by_signature = defaultdict(list)
    for index, row in enumerate(rows):
        by_signature[row.signature].append(index)
    for first, second in decisions:
        for i in by_signature.get(first, []):
            for j in by_signature.get(second, []):
                yield min(i, j), max(i, j)


def _decided_apart(rows: list[LinkRow], pair: tuple[int, int], decisions: dict) -> bool:
    i, j = pair
    key = tuple(sorted((rows[i].signature, rows[j].signature)))
    return decisions.get(key) == "different"
