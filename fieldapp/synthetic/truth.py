"""Truth log, police population extract and the truth files of a synthetic ward."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fieldapp.synthetic.people import GROUP_ORDER, REFERENCE_DATE, Person
from fieldapp.synthetic.ward import WardBuilder, change_tone

class TruthLog:
    """Collects truth rows and per-file row counts."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.rows_per_file: dict[str, int] = {}
        self.rows_per_sheet: dict[str, dict[str, int]] = {}

    def add(self, file: str, sheet: str, row: int, person: Person, tags: list) -> None:
        groups = ";".join(g for g in GROUP_ORDER if g in person.groups)
        self.rows.append((file, sheet, row, person.pid, groups, ";".join(tags)))
        self.rows_per_file[file] = self.rows_per_file.get(file, 0) + 1
        if sheet:
            per_sheet = self.rows_per_sheet.setdefault(file, {})
            per_sheet[sheet] = per_sheet.get(sheet, 0) + 1


def write_population(ward: WardBuilder, out: Path, truth: TruthLog) -> int:
    """Write the police extract of residents aged 14+, with some absent and a few disagreeing."""
    rng = ward.rng
    file = "population.csv"
    disagreements = 0
    with open(out / file, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Số CCCD", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"])
        line = 1
        for household in ward.households:
            for p in household:
                if p.age < 14:
                    continue
                # Residents away for study or work are often missing from the extract.
                if rng.random() < (0.17 if p.age < 30 else 0.03):
                    continue
                tags = []
                name, birth, address = p.full_name, p.birth_text, p.address
                if not p.lookalike and rng.random() < 0.005:
                    kind = rng.choice(["police_dob_day", "police_name_tone", "police_old_address"])
                    if kind == "police_dob_day" and not p.year_only:
                        birth = p.birth.replace(day=rng.choice([d for d in range(1, 29) if d != p.birth.day])).isoformat()
                    elif kind == "police_name_tone" and change_tone(rng, name) != name:
                        name = change_tone(rng, name)
                    elif kind == "police_old_address":
                        other = ward.make_address(rng.randint(1, ward.tdp_count))
                        address = other[4]
                    else:
                        kind = None
                    if kind:
                        tags.append(kind)
                        disagreements += 1
                birth_cell = birth if len(birth) == 4 else "/".join(reversed(birth.split("-")))
                writer.writerow([p.cccd, name, birth_cell, "Nam" if p.sex == "M" else "Nữ", address])
                line += 1
                truth.add(file, "", line, p, tags)
    return disagreements


def write_truth(ward: WardBuilder, out: Path, truth: TruthLog, seed: int, police_disagreements: int) -> dict:
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    with open(truth_dir / "truth.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sheet", "row", "true_person_id", "groups", "noise"])
        writer.writerows(truth.rows)

    with open(truth_dir / "people.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "full_name", "sex", "birth", "cccd", "groups", "resident", "household_id", "tdp",
                         "relation_to_head", "phone", "parent_name", "parent_phone", "address", "name_in_lists",
                         "birth_in_lists", "variant"])
        for p in ward.people:
            writer.writerow([
                p.pid, p.full_name, p.sex, p.birth_text, p.cccd, ";".join(g for g in GROUP_ORDER if g in p.groups),
                int(p.resident), p.household_id, p.tdp or "", p.relation, p.phone, p.parent_name, p.parent_phone,
                p.address, p.name_in_lists, p.birth_in_lists.isoformat() if p.birth_in_lists else "", p.variant,
            ])

    with open(truth_dir / "lookalikes.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "person_a", "person_b", "name_a", "name_b"])
        for kind, a, b in ward.lookalikes:
            writer.writerow([kind, a.pid, b.pid, a.full_name, b.full_name])

    people = {p.pid: p for p in ward.people}
    list_rows = [r for r in truth.rows if r[0] != "population.csv"]
    listed = {}
    for r in list_rows:
        listed.setdefault(r[3], set()).add(r[0])
    persons_per_group = {g: sum(1 for pid in listed if g in people[pid].groups) for g in GROUP_ORDER}
    residents = [p for p in ward.people if p.resident]
    by_count: dict[str, int] = {}
    for files in listed.values():
        by_count[str(len(files))] = by_count.get(str(len(files)), 0) + 1
    kinds: dict[str, int] = {}
    for kind, _, _ in ward.lookalikes:
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = {
        "seed": seed,
        "residents": len(residents),
        "reference_date": REFERENCE_DATE.isoformat(),
        "to_dan_pho": ward.tdp_count,
        "households": len(ward.households),
        "rows_per_file": dict(sorted(truth.rows_per_file.items())),
        "rows_per_sheet": {f: s for f, s in sorted(truth.rows_per_sheet.items()) if len(s) > 1},
        "rows_total": len(truth.rows),
        "rows_in_invitation_lists": len(list_rows),
        "police_rows": len(truth.rows) - len(list_rows),
        "persons_total": len(ward.people),
        "non_residents": len(ward.people) - len(residents),
        "unique_persons_in_invitation_lists": len(listed),
        "persons_per_group": persons_per_group,
        "population_per_group": {g: sum(1 for p in residents if g in p.groups) for g in GROUP_ORDER},
        "persons_by_number_of_invitation_lists": dict(sorted(by_count.items())),
        "within_file_duplicate_rows": sum(1 for r in list_rows if r[5].startswith("dup_in_file")),
        "cross_list_error_rows": sum(1 for r in list_rows if "xerr_" in r[5]),
        "variant_persons": sum(1 for p in ward.people if p.variant),
        "police_disagreements": police_disagreements,
        "lookalike_pairs": kinds,
        "lookalike_pairs_total": len(ward.lookalikes),
        "age_shares": {
            "under_2": round(sum(1 for p in residents if p.age < 2) / len(residents), 4),
            "3_to_14": round(sum(1 for p in residents if 3 <= p.age <= 14) / len(residents), 4),
            "60_plus": round(sum(1 for p in residents if p.age >= 60) / len(residents), 4),
            "male": round(sum(1 for p in residents if p.sex == "M") / len(residents), 4),
        },
    }
    (truth_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary
