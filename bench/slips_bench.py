"""Benchmark printing invitation slips with each PDF engine (fpdf2 and ReportLab).

Usage:
    python bench/slips_bench.py [--slips 5000] [--seed 1] [--layout a4-8]

The script renders the same synthetic slips with each engine in a fresh child process,
which times only `render_slips` and reports its peak memory (see peak_rss_mb). Slips come in bundles
of 40, each with its cover list. It prints a side-by-side table, whether each engine
meets the target, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NAMES_DIR = REPO / "fieldapp" / "data" / "vn-given-names"
ENGINES = ("fpdf2", "reportlab")
TARGET_SECONDS = 20.0
TARGET_PEAK_MB = 500.0
TARGET_CORES = 2
BUNDLE_SIZE = 40
FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Tôn Nữ",
)
MIDDLE_NAMES = {"boy": ("Văn", "Hữu", "Đức", "Quốc", "Minh", "Công"), "girl": ("Thị", "Ngọc", "Thị Kim", "Thu", "Mỹ")}
GROUPS = ("Nhóm 1: Trẻ em dưới 6 tuổi", "Nhóm 2: Người cao tuổi", "Nhóm 3: Người bệnh mạn tính")
BRING = ("Căn cước công dân hoặc giấy khai sinh", "Thẻ bảo hiểm y tế (nếu có)", "Đơn thuốc đang dùng (nếu có)")


def load_given_names() -> dict[str, list[str]]:
    return {
        sex: [line.strip() for line in (NAMES_DIR / f"{sex}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        for sex in ("boy", "girl")
    }


def make_bundles(count: int, seed: int) -> list:
    """Build `count` synthetic slips in bundles of BUNDLE_SIZE.

    Names and slots follow `seed`, but tokens are random.
    """
    from fieldapp.slips import Bundle, Slip
    from fieldapp.tokens import new_token, short_code

    rng = random.Random(seed)
    given_names = load_given_names()
    exam_day = dt.date(2026, 12, 12)
    bundles = []
    for first in range(0, count, BUNDLE_SIZE):
        area = f"Tổ dân phố {first // BUNDLE_SIZE + 1}"
        slips = []
        for index in range(first, min(count, first + BUNDLE_SIZE)):
            sex = rng.choice(("boy", "girl"))
            name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES[sex])} {rng.choice(given_names[sex])}"
            start = dt.datetime(2026, 1, 1, 7, 0) + dt.timedelta(minutes=30 * (index % 16))
            end = start + dt.timedelta(minutes=30)
            token = new_token()
            slips.append(Slip(
                token=token,
                short_code=short_code(token),
                full_name=name,
                birth_year=str(rng.randint(1930, 2024)),
                area=area,
                group_label=rng.choice(GROUPS),
                date=exam_day,
                slot_start=f"{start:%H:%M}",
                slot_end=f"{end:%H:%M}",
                site_name="Trường Tiểu học An Lạc",
                site_address="số 25 đường Hồ Học Lãm, khu phố 3",
                ward="Phường An Lạc",
                station="Trạm Y tế phường An Lạc",
                title="GIẤY MỜI KHÁM SỨC KHỎE MIỄN PHÍ NĂM 2026",
                bring=list(BRING),
                fasting=rng.random() < 0.4,
            ))
        bundles.append(Bundle(area=area, leader_title="Tổ trưởng tổ dân phố", slips=slips))
    return bundles


def peak_rss_mb() -> float:
    """Return this process's peak resident set size plus the largest of its finished children's, in MiB.

    The children are the processes that build QR codes in parallel. Adding one child's
    peak overstates the total when they peaked at different times and understates it
    when two ran at their peak together, so it is an estimate. Linux reports ru_maxrss in KiB.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def child_render(engine: str, count: int, seed: int, layout: str, result_path: Path) -> None:
    """Render the synthetic slips with one engine and store its time, peak memory and page count."""
    from fieldapp.slips import render_slips

    bundles = make_bundles(count, seed)
    with tempfile.TemporaryDirectory() as folder:
        pdf_path = Path(folder) / "slips.pdf"
        started = time.perf_counter()
        pages = render_slips(bundles, pdf_path, layout=layout, engine=engine)
        seconds = time.perf_counter() - started
        size_mb = pdf_path.stat().st_size / 1024 / 1024
    result = {"seconds": seconds, "peak_mb": peak_rss_mb(), "pages": pages, "pdf_mb": size_mb}
    result_path.write_text(json.dumps(result), encoding="utf-8")


def run_child(engine: str, count: int, seed: int, layout: str, result_path: Path) -> dict:
    """Run this script as a fresh interpreter that renders with `engine`, and return its result."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child", engine, "--slips", str(count),
        "--seed", str(seed), "--layout", layout, "--result", str(result_path),
    ]
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{engine} child process failed with exit code {completed.returncode}. "
                         "See its traceback above.")
    return json.loads(result_path.read_text(encoding="utf-8"))


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


def meets_target(figures: dict) -> bool:
    return figures["seconds"] < TARGET_SECONDS and figures["peak_mb"] < TARGET_PEAK_MB


def print_table(results: dict[str, dict], count: int, layout: str) -> None:
    fpdf, reportlab = results["fpdf2"], results["reportlab"]
    print(f"Slips: {count} ({layout}, bundles of {BUNDLE_SIZE})   Machine: {describe_machine()}")
    print(f"Target: under {TARGET_SECONDS:.0f} s and {TARGET_PEAK_MB:.0f} MB on {TARGET_CORES} cores")
    print()
    print(f"{'':<16}{'fpdf2':>12}{'reportlab':>12}{'fpdf2 / reportlab':>20}")
    for key, label, pattern in (
        ("seconds", "seconds", "{:.2f}"),
        ("peak_mb", "peak MB", "{:.0f}"),
        ("pages", "pages", "{:d}"),
        ("pdf_mb", "PDF MB", "{:.1f}"),
    ):
        ratio = fpdf[key] / reportlab[key] if reportlab[key] else float("nan")
        print(f"{label:<16}{pattern.format(fpdf[key]):>12}{pattern.format(reportlab[key]):>12}{ratio:>20.2f}")
    print(f"{'meets target':<16}{'yes' if meets_target(fpdf) else 'NO':>12}"
          f"{'yes' if meets_target(reportlab) else 'NO':>12}")
    print()


def parse_arguments() -> argparse.Namespace:
    """Parse the command line, including the hidden options that the script passes to its children."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slips", type=int, default=5000, help="number of slips to render (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for names and slots (default 1)")
    parser.add_argument("--layout", default="a4-8", help="slip layout, a4-8 or a5-2 (default a4-8)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.slips < 1:
        parser.error(f"--slips must be at least 1, got {arguments.slips}")
    return arguments


def main() -> None:
    arguments = parse_arguments()
    if arguments.child:
        child_render(arguments.child, arguments.slips, arguments.seed, arguments.layout, arguments.result)
        return

    from fieldapp.slips import DEFAULT

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for engine in ENGINES:
            results[engine] = run_child(engine, arguments.slips, arguments.seed, arguments.layout,
                                        Path(folder) / f"{engine}.json")
    print_table(results, arguments.slips, arguments.layout)
    summary = {
        "slips": arguments.slips,
        "engines": {
            engine: {
                "seconds": round(figures["seconds"], 2),
                "peak_mb": round(figures["peak_mb"], 1),
                "pages": figures["pages"],
            }
            for engine, figures in results.items()
        },
        "default": DEFAULT,
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
