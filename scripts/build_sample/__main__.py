"""Command line: ``python -m scripts.build_sample [--banking77 DIR] [--out DIR] [--truth FILE]``."""

import argparse
import sys
from pathlib import Path

from .build import build_sample
from .summary import summarize
from .texts import SourceError

REPO_ROOT = Path(__file__).resolve().parents[2]


def parse_args() -> argparse.Namespace:
    """Paths default to the committed sample, built from ../shared next to the repository."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.build_sample",
        description="Build the demo sample (three helpdesk exports, accounts, planted truth) from banking77.",
    )
    parser.add_argument(
        "--banking77", type=Path, default=REPO_ROOT.parent / "shared" / "datasets" / "banking77"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "sample")
    # Kept outside the exports folder, which is a ready inbox: the truth is not an export.
    parser.add_argument("--truth", type=Path, default=REPO_ROOT / "data" / "sample_truth" / "planted.json")
    return parser.parse_args()


def main() -> None:
    """Build, write, verify and summarise the sample."""
    args = parse_args()
    try:
        truth, names = build_sample(args.banking77, args.out, args.truth)
    except SourceError as error:
        sys.exit(f"build_sample: {error}")
    summarize(args.out, truth, names)


if __name__ == "__main__":
    main()
