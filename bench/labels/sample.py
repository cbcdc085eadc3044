"""Draw the tickets of the labelled set from ../shared/datasets with a fixed seed.

150 banking77 test queries (all 77 intents), 300 first customer messages of twcs (inbound
tweets that reply to nothing: real traffic, and the richest in rare categories; the first 150
were the original draw, a longer draw with the same seed keeps them as its prefix) and 150 GitHub
bug titles spread over the 7 products (the `swift-ci` migration bot left out). Within each source every other ticket is held out
(`split` = test): rules are developed on `dev` only. Writes the unlabelled sample; labels are
added by hand (GUIDE.md) into `tickets.csv`.

    .venv/bin/python -m bench.labels.sample --out /tmp/sample.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from bench.common import SHARED, skipped_without

SEED = 14
PER_SOURCE = {"banking77": 150, "twcs": 300, "github": 150}
BOTS = frozenset({"swift-ci"})


def banking77(n: int) -> pd.DataFrame:
    frame = pd.read_csv(SHARED / "banking77" / "test.csv").reset_index(names="row")
    picked = frame.sample(n, random_state=SEED)
    return pd.DataFrame({"source": "banking77", "id": "test:" + picked["row"].astype(str),
                         "text": picked["text"]})


def _first_tweets() -> pd.DataFrame:
    frame = pd.read_csv(SHARED / "twcs_sample" / "twcs_small.csv", dtype=str)
    return frame[(frame["inbound"] == "True") & frame["in_response_to_tweet_id"].isna()]


def twcs(n: int) -> pd.DataFrame:
    picked = _first_tweets().sample(n, random_state=SEED)
    return pd.DataFrame({"source": "twcs", "id": picked["tweet_id"], "text": picked["text"]})


def github(n: int) -> pd.DataFrame:
    files = sorted((SHARED / "github_bug_issues").glob("*.csv"))
    parts = []
    for i, path in enumerate(files):
        frame = pd.read_csv(path, dtype={"number": str})
        frame = frame[~frame["creator_name"].isin(BOTS)]
        share = n // len(files) + (i < n % len(files))
        picked = frame.sample(share, random_state=SEED)
        parts.append(pd.DataFrame({"source": "github", "id": path.stem + "#" + picked["number"],
                                   "text": picked["title"]}))
    return pd.concat(parts).sample(frac=1, random_state=SEED)


def sample(per_source: dict[str, int] = PER_SOURCE) -> pd.DataFrame:
    """The unlabelled set: source, id, split, text; one text per line (newlines folded)."""
    parts = []
    for draw in (banking77, twcs, github):
        part = draw(per_source[draw.__name__]).reset_index(drop=True)
        part.insert(2, "split", ["dev" if i % 2 == 0 else "test" for i in range(len(part))])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.assign(text=one_line(out["text"]))


def one_line(texts: pd.Series) -> pd.Series:
    """Each text on one line, runs of whitespace folded to one space (the labelled files are CSVs
    read by people)."""
    return texts.str.split().str.join(" ")


ESCALATION_SEED = 2026
ESCALATION_DRAW = 200
# The third draw (2026-12-02), the fourth, fifth and sixth (2026-12-03): each labelled before any
# rule ran on it, all `test`. The latest is the held-out one: each draw's misses
# were read only once the next was labelled. The fifth and sixth are twice as large, since two draws
# of 120 differed by 27 points.
HELD_OUT_DRAWS = {3: (2027, 120), 4: (2028, 120), 5: (2029, 240), 6: (2030, 240),
                  7: (2031, 165)}  # draw -> (seed, tweets); the seventh took every first message left


def escalation_draw(taken: set[str], n: int = ESCALATION_DRAW, seed: int = ESCALATION_SEED,
                    dev_share: float = 0.5) -> pd.DataFrame:
    """An escalation-only set: n first tweets not in `taken` (twcs ids already labelled), in draw
    order; the first `dev_share` of them are `dev`, the rest `test`."""
    first = _first_tweets()
    picked = first[~first["tweet_id"].isin(taken)].sample(n, random_state=seed)
    return pd.DataFrame({"source": "twcs", "id": picked["tweet_id"].to_numpy(),
                         "split": ["dev" if i < n * dev_share else "test" for i in range(n)],
                         "text": one_line(picked["text"]).to_numpy()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if skipped_without(SHARED):
        return 0
    sample().to_csv(args.out, index=False)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
