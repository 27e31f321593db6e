"""Generate a synthetic ward with fieldapp.synthetic: messy invitation lists, a police extract and the truth."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

# Re-exported so that benchmarks can keep calling make_ward.generate after putting bench/ on sys.path.
from fieldapp.synthetic import generate

__all__ = ["generate", "main"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="DIR/lists/ gets the invitation lists, DIR/population.csv the police extract of residents "
               "aged 14+ and DIR/truth/ the truth files (truth.csv, people.csv, lookalikes.csv, summary.json).",
    )
    parser.add_argument("--residents", type=int, default=3000, help="number of residents in the ward (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same files")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory, created if missing")
    args = parser.parse_args()
    if args.residents < 500:
        parser.error(f"--residents must be at least 500, got {args.residents}")
    started = time.perf_counter()
    summary = generate(args.residents, args.seed, args.out)
    print(f"wrote {summary['rows_in_invitation_lists']} list rows and {summary['police_rows']} police rows "
          f"for {summary['residents']} residents to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
