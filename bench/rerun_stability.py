"""How far a window's themes move when it is clustered again after a small change to the inbox.

    python -m bench.rerun_stability [--products vercel_next.js microsoft_PowerToys] [--weeks 8] [--runs 3]

A user who edits a mapping, or whose next export holds a few tickets more or fewer, runs a window
again: its themes should be the same themes. Each window (the last `--weeks` of a GitHub product's
bug titles, the twcs first messages, a sample of banking77 test queries; their texts for meaning) is
clustered as the pipeline clusters a window (`cluster.cluster`), seeded, and then again:

- `another seed`: the same tickets, the next seed. UMAP's layout depends on its seed, and any
  change to the tickets changes the layout as much as a new seed does, so this is the floor of
  what any change costs;
- `0.5 % / 2 % fewer`: that share of the tickets left out (seeded), seed unchanged.

Each against the first clustering, on the tickets both hold: ARI (outliers as one group), and the
share of the first clustering's themes (and of their tickets) that have a counterpart sharing at
least `SAME_THEME` of their members (Jaccard): a theme a reader would call the same theme, whatever
its label; and the share with one sharing at least half (`OVERLAPPING`). Means over `--runs` seeds.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from bench.common import SHARED, cached_embed, skipped_without, table
from ticket_intel.core import cluster
from ticket_intel.core.weeks import week_start

SAME_THEME = 0.8
OVERLAPPING = 0.5  # most of the theme is still together, beside its counterpart's other members
FEWER = (0.005, 0.02)
BANKING_SAMPLE = 3000


def windows(products: Sequence[str], weeks: int) -> dict[str, list[str]]:
    """Window name -> its texts: each product's last `weeks` of titles, twcs first messages, banking77."""
    out: dict[str, list[str]] = {}
    for product in products:
        frame = pd.read_csv(SHARED / "github_bug_issues" / f"{product}.csv", usecols=["title", "created_at"])
        week = week_start(frame["created_at"])
        last = sorted(set(week))[-weeks - 1:-1]  # full weeks only
        out[product] = frame.loc[week.isin(last), "title"].fillna("").astype(str).tolist()
    tweets = pd.read_csv(SHARED / "twcs_sample" / "twcs_small.csv")
    roots = tweets["inbound"].astype(str).str.lower().eq("true") & tweets["in_response_to_tweet_id"].isna()
    out["twcs first messages"] = tweets.loc[roots, "text"].astype(str).tolist()
    banking = pd.read_csv(SHARED / "banking77" / "test.csv").sample(BANKING_SAMPLE, random_state=0)
    out["banking77 test sample"] = banking["text"].tolist()
    return {name: said for name, texts in out.items() if (said := meanings(texts))}


def meanings(texts: Sequence[str]) -> list[str]:
    """The texts for meaning the pipeline clusters (no handles, links or greetings); none left empty."""
    from ticket_intel.core.meaning import meaning_text
    from ticket_intel.core.normalize import clean_message

    return [said for said in (meaning_text(clean_message(t)) for t in texts) if said]


def best_matches(base: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per theme of `base`: the largest Jaccard of its members with a theme of `other` (over the same
    tickets), and its size."""
    themes = [t for t in np.unique(base) if t != cluster.OUTLIER]
    best = [max((((base == t) & (other == u)).sum() / ((base == t) | (other == u)).sum()
                 for u in np.unique(other[base == t]) if u != cluster.OUTLIER), default=0.0) for t in themes]
    return np.array(best), np.array([(base == t).sum() for t in themes])


def compared(x: np.ndarray, seed: int) -> list[dict[str, object]]:
    """One row per change: the clustering after it against the seeded clustering of the window."""
    base = cluster.cluster(x, cluster.default_params(len(x), seed)).labels
    rng = np.random.default_rng(seed)
    changes = {"another seed": (np.arange(len(x)), seed + 1)}
    changes.update({f"{share:.1%} fewer": (np.sort(rng.choice(len(x), len(x) - round(share * len(x)), replace=False)),
                                           seed) for share in FEWER})
    rows = []
    for name, (kept, variant_seed) in changes.items():
        labels = cluster.cluster(x[kept], cluster.default_params(len(kept), variant_seed)).labels
        best, sizes = best_matches(base[kept], labels)
        rows.append({"change": name, "ari": adjusted_rand_score(base[kept], labels),
                     "same_themes": float(np.mean(best >= SAME_THEME)),
                     "their_tickets": float(sizes[best >= SAME_THEME].sum() / max(sizes.sum(), 1)),
                     "overlapping": float(np.mean(best >= OVERLAPPING))})
    return rows


def window_rows(name: str, texts: list[str], runs: int) -> list[dict[str, object]]:
    """One row per change of one window: its figures' means over `runs` seeds."""
    x, _ = cached_embed(texts)
    measured = pd.DataFrame([r for seed in range(42, 42 + runs) for r in compared(x, seed)])
    print(f"  {name}: done", flush=True)
    return [{"window": name, "tickets": len(texts), "change": change,
             **{k: round(float(g[k].mean()), 3) for k in ("ari", "same_themes", "their_tickets", "overlapping")}}
            for change, g in measured.groupby("change", sort=False)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", nargs="+", default=["vercel_next.js", "microsoft_PowerToys"])
    parser.add_argument("--weeks", type=int, default=8, help="weeks of each product's window (the pipeline's)")
    parser.add_argument("--runs", type=int, default=3, help="seeds per window: 42, 43, ...")
    args = parser.parse_args(argv)
    if any(skipped_without(SHARED / d) for d in ("github_bug_issues", "twcs_sample", "banking77")):
        return 0
    rows = [row for name, texts in windows(args.products, args.weeks).items()
            for row in window_rows(name, texts, args.runs)]
    heading = (f"Themes clustered again after a small change (means of {args.runs} seeds; on the tickets both "
               f"runs hold, same theme: Jaccard >= {SAME_THEME}, overlapping: >= {OVERLAPPING})")
    print(f"\n{heading}\n{table(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
