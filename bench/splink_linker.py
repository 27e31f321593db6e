"""Link person records with Splink 5 on DuckDB, as a baseline for fieldapp's matcher.

Run `python bench/splink_linker.py --residents 50000` to generate a ward with
bench/make_ward.py, link its invitation-list rows and print pairwise precision,
recall, seconds and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import logging
import resource
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

RECORD_COLUMNS = ["key", "name", "birth_date", "birth_year", "sex", "cccd", "phone", "tdp", "parent_name"]


def build_settings() -> SettingsCreator:
    """Build the Fellegi-Sunter model: comparisons, blocking rules and a prior."""
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.DamerauLevenshteinLevel("name", 1),
            cll.JaroWinklerLevel("name", 0.92),
            cll.JaroWinklerLevel("name", 0.80),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth",
        comparison_levels=[
            cll.CustomLevel("birth_year_l IS NULL OR birth_year_r IS NULL").configure(is_null_level=True),
            cll.ExactMatchLevel("birth_date"),
            # Day and month swapped is a common typing error in d/m versus m/d dates.
            cll.CustomLevel(
                "birth_date_l IS NOT NULL AND birth_date_r IS NOT NULL "
                "AND substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
                label_for_charts="day and month swapped",
            ),
            # Lists often give only the year (or 01/01 of it), so the same year is its own level.
            cll.CustomLevel("birth_year_l = birth_year_r", label_for_charts="same birth year"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", label_for_charts="birth year within 1"),
            cll.ElseLevel(),
        ],
    )
    parent = cl.CustomComparison(
        output_column_name="parent_name",
        comparison_levels=[
            cll.NullLevel("parent_name"),
            cll.ExactMatchLevel("parent_name"),
            cll.JaroWinklerLevel("parent_name", 0.9),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="key",
        comparisons=[
            name,
            birth,
            cl.ExactMatch("sex"),
            cl.ExactMatch("cccd"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("tdp"),
            parent,
        ],
        blocking_rules_to_generate_predictions=[
            block_on("cccd"),
            block_on("name", "birth_year"),
            block_on("phone"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def link_with_splink(
    records: list[dict],
    threshold: float = 0.9,
    u_max_pairs: float = 2e6,
    seed: int = 1,
) -> dict[str, str]:
    """Cluster records with a Splink model and map each record key to a cluster id."""
    if not records:
        return {}
    keys = [r["key"] for r in records]
    if len(set(keys)) != len(keys):
        raise ValueError("record keys must be unique; found duplicate keys")
    rows = [{column: r.get(column) for column in RECORD_COLUMNS} for r in records]

    db_api = DuckDBAPI()
    table = db_api.register(rows, table_name="records")
    linker = Linker(table, build_settings(), log_level=logging.WARNING)
    training = linker.training

    # The prior comes from near-certain rules. Their recall of 0.6 is a guess, not a measurement.
    training.estimate_probability_two_random_records_match(
        [block_on("cccd"), block_on("name", "birth_date")], recall=0.6
    )
    training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    # Each EM pass leaves out the comparisons used for blocking, so two passes cover all of them.
    training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    training.estimate_parameters_using_expectation_maximisation(block_on("name"))

    predictions = linker.inference.predict(threshold_match_probability=min(threshold, 0.5))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    result = {str(row["key"]): str(row["cluster_id"]) for row in clusters.as_record_list()}
    # Records without any pair above the threshold still appear, as their own cluster.
    for key in keys:
        result.setdefault(key, key)
    return result


# ---------------------------------------------------------------------------
# Self-check against a generated ward


def normalise_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def strip_last_tone(name: str) -> str:
    words = unicodedata.normalize("NFD", name).split(" ")
    for i in range(len(words) - 1, -1, -1):
        stripped = "".join(c for c in words[i] if c not in "\u0300\u0301\u0303\u0309\u0323")
        if stripped != words[i]:
            words[i] = stripped
            break
    return unicodedata.normalize("NFC", " ".join(words))


def records_from_truth(ward_dir: Path) -> tuple[list[dict], dict[str, str]]:
    """Build link records for the invitation-list rows, applying each row's noise tags simply."""
    with open(ward_dir / "truth" / "people.csv", encoding="utf-8") as handle:
        people = {row["id"]: row for row in csv.DictReader(handle)}
    records, truth = [], {}
    with open(ward_dir / "truth" / "truth.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["file"] == "population.csv":
                continue
            person = people[row["true_person_id"]]
            tags = set(row["noise"].split(";")) - {""}
            key = f"{row['file']}|{row['sheet']}|{row['row']}"
            name = person["name_in_lists"] or person["full_name"]
            birth = person["birth_in_lists"] or person["birth"]
            if "xerr_tone_missing" in tags:
                name = strip_last_tone(name)
            if "unnamed_newborn" in tags:
                name = f"con bà {person['parent_name']}"
            birth_date = birth if len(birth) == 10 else None
            if birth_date and "xerr_date_swapped" in tags and int(birth[8:]) <= 12:
                birth_date = f"{birth[:4]}-{birth[8:]}-{birth[5:7]}"
            if tags & {"date_year_only", "xerr_year_only"}:
                birth_date = None
            if "jan1_for_year_only" in tags:
                birth_date = f"{birth[:4]}-01-01"
            child = bool(person["parent_phone"]) and not person["phone"]
            phone = person["parent_phone"] if child else person["phone"]
            if "phone_relative" in tags:
                phone = None
            cccd = person["cccd"] or None
            if tags & {"cccd_missing", "xerr_cccd_missing", "cmnd9"}:
                cccd = None
            if row["file"].startswith("truong-") or row["file"].startswith("tre-"):
                cccd = None
            sex = None if "sex_missing" in tags else person["sex"]
            records.append({
                "key": key,
                "name": normalise_name(name),
                "birth_date": birth_date,
                "birth_year": int(birth[:4]),
                "sex": sex,
                "cccd": cccd,
                "phone": phone or None,
                "tdp": person["tdp"] or None,
                "parent_name": normalise_name(person["parent_name"]) if person["parent_name"] else None,
            })
            truth[key] = person["id"]
    return records, truth


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    """Return pairwise precision and recall of a clustering against true person ids."""

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    predicted_pairs = pairs(Counter(predicted.values()))
    true_pairs = pairs(Counter(truth.values()))
    correct_pairs = pairs(Counter((predicted[k], truth[k]) for k in truth))
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    return precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description="Link a generated ward's list rows with Splink and score the result.")
    parser.add_argument("--residents", type=int, default=50000, help="ward size passed to make_ward (default 50000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the ward and for u sampling")
    parser.add_argument("--threshold", type=float, default=0.9, help="match probability for clustering (default 0.9)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_ward

    with tempfile.TemporaryDirectory() as tmp:
        ward_dir = Path(tmp)
        make_ward.generate(args.residents, args.seed, ward_dir)
        records, truth = records_from_truth(ward_dir)

    peak_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    clusters = link_with_splink(records, threshold=args.threshold, seed=args.seed)
    seconds = time.perf_counter() - started
    precision, recall = pairwise_scores(clusters, truth)
    # ru_maxrss is in kilobytes on Linux and covers the whole process, generation included.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"records={len(records)} persons={len(set(truth.values()))} clusters={len(set(clusters.values()))}")
    print(f"pairwise precision={precision:.4f} recall={recall:.4f} seconds={seconds:.1f} "
          f"peak_rss_mb={peak_mb:.0f} (before linking {peak_before_mb:.0f})")


if __name__ == "__main__":
    main()
