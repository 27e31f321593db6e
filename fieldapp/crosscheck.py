"""Compare people with the population extract by ID number: name, birth date and sex."""

import sqlite_utils

from .birthdates import parse_iso
from .text import modern_tones


def _same_birth(ours: str | None, theirs: str | None) -> bool:
    if not ours or not theirs:
        return True
    a, b = parse_iso(ours), parse_iso(theirs)
    if a.year != b.year:
        return False
    if a.precision == b.precision == "day" and not (a.is_first_of_january or b.is_first_of_january):
        return (a.month, a.day) == (b.month, b.day)
    return True


def disagreements(db: sqlite_utils.Database) -> list[dict]:
    """Return one row per person whose name, birth date or sex differs from the extract's row for the same CCCD."""
    rows = db.execute(
        """SELECT p.id, p.full_name, p.birth_date, p.sex, p.cccd, p.sort_key,
                  r.full_name, r.birth_date, r.sex, f.name, r.row_no
           FROM person p
           JOIN population_row r ON r.cccd = p.cccd
           JOIN source_file f ON f.id = r.file_id
           WHERE p.cccd IS NOT NULL
           ORDER BY p.sort_key"""
    ).fetchall()

    found = []
    for person_id, name, birth, sex, cccd, _, pop_name, pop_birth, pop_sex, file_name, row_no in rows:
        fields = []
        if modern_tones(name).lower() != modern_tones(pop_name).lower():
            fields.append("name")
        if not _same_birth(birth, pop_birth):
            fields.append("birth_date")
        if sex and pop_sex and sex != pop_sex:
            fields.append("sex")
        if fields:
            found.append(
                {
                    "person_id": person_id,
                    "cccd": cccd,
                    "fields": fields,
                    "full_name": name,
                    "birth_date": birth,
                    "sex": sex,
                    "population_name": pop_name,
                    "population_birth_date": pop_birth,
                    "population_sex": pop_sex,
                    "population_file": file_name,
                    "population_row": row_no,
                }
            )
    return found
