"""Benchmark fieldapp's roster import against a Splink baseline on a synthetic ward.

Usage:
    python bench/roster_bench.py [--residents 50000] [--seed 1] [--skip-splink]

The script generates a ward with bench/make_ward.py in a temporary folder and
imports its invitation lists and population extract with fieldapp in a child
process. It then links the same cleaned rows with bench/splink_linker.py in a
second child process and scores both against the ward's truth. It prints a
side-by-side table, whether each target is met, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
IMPORT_DATE = dt.date(2025, 10, 15)  # make_ward's REFERENCE_DATE, so ages match the lists
TARGET_SECONDS = 60.0
TARGET_PEAK_MB = 1024.0
TARGET_CORES = 2
ROW_QUERY = """SELECT file_name, sheet, row_no, person_id, full_name, birth_date, sex, cccd,
                      phone, parent_phone, parent_name, tdp
               FROM source_row"""


def row_key(file_name: str, sheet: str, row_no: int | str) -> str:
    """Build the key that identifies one list row in both truth.csv and source_row."""
    # NFC on both sides, so a decomposed sheet name cannot make a row look missing.
    return unicodedata.normalize("NFC", f"{file_name}|{sheet or ''}|{row_no}")


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process and its waited-for children, in MiB."""
    # Linux reports ru_maxrss in KiB.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# ---------------------------------------------------------------------------
# Child processes: each one measures its own time and peak memory


def child_fieldapp(ward_dir: Path, db_path: Path, result_path: Path) -> None:
    """Import the ward's lists and population extract into a new fieldapp database."""
    from fieldapp import roster
    from fieldapp.db import connect
    from fieldapp.importer import import_files

    # Splink only links, while import_files also reads and cleans the files, so time
    # roster.relink on its own as well. import_files looks it up on the module at each call.
    link_seconds = []
    relink = roster.relink

    def timed_relink(*args, **kwargs):
        link_started = time.perf_counter()
        try:
            return relink(*args, **kwargs)
        finally:
            link_seconds.append(time.perf_counter() - link_started)

    roster.relink = timed_relink

    started = time.perf_counter()
    db = connect(db_path)
    import_files(db, sorted((ward_dir / "lists").glob("*")), on=IMPORT_DATE)
    import_files(db, [ward_dir / "population.csv"], on=IMPORT_DATE, kind="population")
    seconds = time.perf_counter() - started

    persons = db.execute("SELECT count(*) FROM person").fetchone()[0]
    db.conn.close()
    # None means relink was never called through the module, so its time is unknown.
    result = {"seconds": seconds, "link_seconds": sum(link_seconds) if link_seconds else None,
              "peak_mb": peak_rss_mb(), "persons": persons}
    result_path.write_text(json.dumps(result), encoding="utf-8")


def splink_record(row: sqlite3.Row) -> dict:
    """Convert one cleaned source_row into the record dict that link_with_splink expects."""
    from splink_linker import normalise_name

    birth = row["birth_date"] or ""
    parent_name = row["parent_name"] or ""
    return {
        "key": row_key(row["file_name"], row["sheet"], row["row_no"]),
        "name": normalise_name(row["full_name"]),
        # Splink compares full dates only, and partial dates still give the birth year.
        "birth_date": birth if len(birth) == 10 else None,
        "birth_year": int(birth[:4]) if birth else None,
        "sex": row["sex"] or None,
        "cccd": row["cccd"] or None,
        # Children have no phone of their own, so their parent's phone is used instead, as in splink_linker.
        "phone": row["phone"] or row["parent_phone"] or None,
        "tdp": row["tdp"] or None,
        "parent_name": normalise_name(parent_name) if parent_name.strip() else None,
    }


def child_splink(db_path: Path, result_path: Path, seed: int) -> None:
    """Link the cleaned rows of a fieldapp database with Splink and store the clusters."""
    from splink_linker import link_with_splink

    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    records = [splink_record(row) for row in connection.execute(ROW_QUERY)]
    connection.close()

    started = time.perf_counter()
    clusters = link_with_splink(records, seed=seed)
    seconds = time.perf_counter() - started

    result = {"seconds": seconds, "peak_mb": peak_rss_mb(), "clusters": clusters}
    result_path.write_text(json.dumps(result), encoding="utf-8")


def run_child(label: str, arguments: list[str], result_path: Path) -> dict:
    """Run this script as a child process in one role and return the result it stores."""
    # A fresh interpreter, not a fork, so the child's peak memory excludes the parent's ward data.
    command = [sys.executable, str(Path(__file__).resolve()), *arguments, "--result", str(result_path)]
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{label} child process failed with exit code {completed.returncode}. "
                         "See its traceback above.")
    return json.loads(result_path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Scoring


def read_truth(ward_dir: Path) -> dict[str, str]:
    """Map each invitation-list row key to its true person id, leaving out population.csv."""
    truth = {}
    with open(ward_dir / "truth" / "truth.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["file"] != "population.csv":
                truth[row_key(row["file"], row["sheet"], row["row"])] = row["true_person_id"]
    return truth


def read_assignment(db_path: Path) -> tuple[dict[str, str], int]:
    """Map each imported row key to its person id and count the rows."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = connection.execute("SELECT file_name, sheet, row_no, person_id FROM source_row").fetchall()
    connection.close()
    assignment = {}
    for file_name, sheet, row_no, person_id in rows:
        key = row_key(file_name, sheet, row_no)
        # An unlinked row is a person of its own.
        assignment[key] = person_id or f"unlinked:{key}"
    return assignment, len(rows)


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> dict:
    """Score a clustering pairwise against true person ids over the truth's rows."""

    def pair_count(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    # A truth row that was not imported counts as a cluster of its own, so it costs recall.
    labels = {key: predicted.get(key, f"missing:{key}") for key in truth}
    predicted_pairs = pair_count(Counter(labels.values()))
    true_pairs = pair_count(Counter(truth.values()))
    correct_pairs = pair_count(Counter((labels[key], truth[key]) for key in truth))

    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "missing_rows": sum(1 for key in truth if key not in predicted)}


# ---------------------------------------------------------------------------
# Report


def describe_machine() -> str:
    """Describe the CPU model, usable cores and total memory of this machine."""
    cores = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    memory_gb = 0.0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:"))
            memory_gb = kib / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cores} cores, {model}, {memory_gb:.1f} GiB RAM"


def print_table(ours: dict, splink: dict | None, true_persons: int) -> None:
    """Print the figures of fieldapp and Splink side by side."""
    print()
    print(f"{'':14}{'fieldapp':>12}{'Splink':>12}")
    lines = [
        ("rows", "rows", "{:d}"), ("persons", "persons", "{:d}"), ("seconds", "seconds", "{:.1f}"),
        ("peak MB", "peak_mb", "{:.0f}"), ("precision", "precision", "{:.4f}"),
        ("recall", "recall", "{:.4f}"), ("F1", "f1", "{:.4f}"),
    ]
    for label, field, form in lines:
        theirs = form.format(splink[field]) if splink and field in splink else "-"
        print(f"{label:14}{form.format(ours[field]):>12}{theirs:>12}")
    print(f"{'true persons':14}{true_persons:>12d}")
    link_seconds = ours["link_seconds"]
    if link_seconds is None:
        print("fieldapp seconds in roster.relink (linking only): not measured, relink was not called")
    else:
        print(f"fieldapp seconds in roster.relink (linking only): {link_seconds:.1f}")
    if splink:
        print(f"Splink seconds / fieldapp seconds: {splink['seconds'] / ours['seconds']:.2f}")
    if splink and link_seconds:
        print(f"Splink seconds / fieldapp linking seconds: {splink['seconds'] / link_seconds:.2f}")
    if splink:
        print(f"reading with fieldapp, then linking with Splink: {splink['pipeline_seconds']:.1f} s"
              f" ({splink['pipeline_seconds'] / ours['seconds']:.2f} x fieldapp's import)")


def print_targets(ours: dict, splink: dict | None) -> None:
    """Print whether each benchmark target is met, without failing the run."""
    cores = len(os.sched_getaffinity(0))
    checks = [
        (f"fieldapp under {TARGET_SECONDS:.0f} s", ours["seconds"] < TARGET_SECONDS),
        (f"fieldapp under {TARGET_PEAK_MB:.0f} MB peak", ours["peak_mb"] < TARGET_PEAK_MB),
    ]
    if splink:
        checks.append(("fieldapp F1 above Splink", ours["f1"] > splink["f1"]))
        checks.append(("fieldapp linking faster than Splink's", ours["link_seconds"] < splink["seconds"]))
        checks.append(("fieldapp import faster than reading with fieldapp and linking with Splink",
                       ours["seconds"] < splink["pipeline_seconds"]))
    print()
    for label, met in checks:
        print(f"target {label}: {'met' if met else 'NOT met'}")
    if cores != TARGET_CORES:
        print(f"note: the time and memory targets are set for {TARGET_CORES} cores; this machine has {cores}")


# ---------------------------------------------------------------------------
# Entry points


def run_benchmark(residents: int, seed: int, skip_splink: bool) -> dict:
    """Generate a ward, run both linkers in child processes and return the scored figures."""
    sys.path.insert(0, str(BENCH_DIR))
    import make_ward

    with tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        ward_dir = Path(tmp) / "ward"
        db_path = Path(tmp) / "site.db"
        print(f"generating a ward of {residents} residents with seed {seed}", flush=True)
        make_ward.generate(residents, seed, ward_dir)
        truth = read_truth(ward_dir)

        print("importing with fieldapp", flush=True)
        ours = run_child("fieldapp", ["--child", "fieldapp", "--ward", str(ward_dir), "--db", str(db_path)],
                         Path(tmp) / "fieldapp.json")
        assignment, ours["rows"] = read_assignment(db_path)
        ours.update(pairwise_scores(assignment, truth))

        splink = None
        if not skip_splink:
            print("linking the same rows with Splink", flush=True)
            splink = run_child("Splink", ["--child", "splink", "--db", str(db_path), "--seed", str(seed)],
                               Path(tmp) / "splink.json")
            clusters = splink.pop("clusters")
            splink["rows"] = len(clusters)
            splink["persons"] = len(set(clusters.values()))
            splink.update(pairwise_scores(clusters, truth))
            # Splink needs the same reading and cleaning first, which is the import minus its linking.
            splink["pipeline_seconds"] = ours["seconds"] - (ours["link_seconds"] or 0) + splink["seconds"]

    return {"ours": ours, "splink": splink, "true_persons": len(set(truth.values())), "truth_rows": len(truth)}


def summary_json(figures: dict, residents: int) -> str:
    """Format the figures as the single JSON line that ends the output."""
    ours, splink = figures["ours"], figures["splink"]
    digits = {"persons": 0, "seconds": 2, "peak_mb": 1, "precision": 4, "recall": 4, "f1": 4}

    def rounded(figures: dict) -> dict:
        return {field: round(figures[field], places) if places else figures[field]
                for field, places in digits.items()}

    summary = {"rows": ours["rows"], **rounded(ours), "link_seconds": round(ours["link_seconds"] or 0, 2)}
    summary["splink"] = rounded(splink) if splink else None
    if splink:
        summary["splink"]["pipeline_seconds"] = round(splink["pipeline_seconds"], 2)
    summary["residents"] = residents
    summary["machine"] = describe_machine()
    return json.dumps(summary, ensure_ascii=False)


def parse_arguments() -> argparse.Namespace:
    """Parse the command line, including the hidden --child options that the script passes to its children."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50000, help="ward size passed to make_ward (default 50000)")
    parser.add_argument("--seed", type=int, default=1,
                        help="random seed for the ward and Splink's u sampling (default 1)")
    parser.add_argument("--skip-splink", action="store_true", help="run only fieldapp's import")
    parser.add_argument("--child", choices=["fieldapp", "splink"], help=argparse.SUPPRESS)
    parser.add_argument("--ward", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.residents < 500:
        parser.error(f"--residents must be at least 500 (make_ward's minimum), got {arguments.residents}")
    return arguments


def main() -> None:
    arguments = parse_arguments()
    if arguments.child == "fieldapp":
        child_fieldapp(arguments.ward, arguments.db, arguments.result)
        return
    if arguments.child == "splink":
        child_splink(arguments.db, arguments.result, arguments.seed)
        return

    figures = run_benchmark(arguments.residents, arguments.seed, arguments.skip_splink)
    ours = figures["ours"]
    if ours["missing_rows"]:
        print(f"warning: {ours['missing_rows']} of {figures['truth_rows']} truth rows were not imported")
    print_table(ours, figures["splink"], figures["true_persons"])
    print_targets(ours, figures["splink"])
    print(summary_json(figures, arguments.residents))


if __name__ == "__main__":
    main()
