"""Synthetic ward generator: messy invitation lists, a police extract and the truth behind them."""

from __future__ import annotations

from pathlib import Path

from fieldapp.synthetic.lists import write_elderly_lists, write_employers, write_poor, write_social, write_under2
from fieldapp.synthetic.schools import write_schools
from fieldapp.synthetic.truth import TruthLog, write_population, write_truth
from fieldapp.synthetic.ward import WardBuilder, apply_variants, assign_groups

__all__ = ["MIN_RESIDENTS", "generate"]

# A ward under about 15 residents can lack a school-age child for its twin pair, so it comes out
# one resident short, and a ward of 1 resident ends up empty. 100 leaves a wide margin.
MIN_RESIDENTS = 100


def generate(residents: int, seed: int, out: Path) -> dict:
    """Build a ward and write its invitation lists, police extract and truth files under out.

    out/lists/ gets the invitation lists: elderly workbooks per residential group (TDP),
    one of them in TCVN3, and school workbooks with one sheet per class. It also gets an
    under-2 CSV in UTF-8 with BOM and a poor/near-poor households CSV in Windows-1258
    with decomposed tone marks. The social-protection workbook has split name columns,
    and each employer sends its own workbook.

    out/population.csv is the police extract of residents aged 14+. out/truth/ contains
    truth.csv, people.csv, lookalikes.csv and summary.json, and the returned dict is the
    content of summary.json.

    Every person, ID number and phone number is synthetic. The output depends only on
    residents and seed. Raises ValueError when residents is below MIN_RESIDENTS.
    """
    if residents < MIN_RESIDENTS:
        raise ValueError(f"residents must be at least {MIN_RESIDENTS}, got {residents}")
    out = Path(out)
    ward = WardBuilder(residents, seed)
    ward.build()
    assign_groups(ward)
    apply_variants(ward)
    lists = out / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    truth = TruthLog()
    write_elderly_lists(ward, lists, truth)
    write_schools(ward, lists, truth)
    write_under2(ward, lists, truth)
    write_poor(ward, lists, truth)
    write_social(ward, lists, truth)
    write_employers(ward, lists, truth)
    disagreements = write_population(ward, out, truth)
    return write_truth(ward, out, truth, seed, disagreements)
