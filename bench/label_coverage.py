"""Do themes' words describe the tickets they count, and is any theme most of its window?

    python -m bench.label_coverage WAREHOUSE [WAREHOUSE ...]

Per ranked theme-week: the share of the tickets it counts (its ranked weeks) whose text for
meaning holds one of the theme's first three terms (c-TF-IDF, the words its label and summary are
made of; words counted as the terms count them, `summarize.described`). A theme of
one issue shares its words; a product's leftovers, or every tweet to a brand, do not
(docs/themes.md, 2026-12-05). Per week: the share of its window that the largest theme holds (a
theme of 85 % of every window is the product, not an issue). The reference is the bundled demo's
warehouse (`ticket-intel demo`), whose issues are clean banking questions: 0.89 on 2026-12-05.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from bench.common import per_warehouse
from ticket_intel.core.summarize import LEAD_TERMS, LOOSE_SHARE, described
from ticket_intel.warehouse import queries


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The warehouse's ranked theme-weeks, their mean described share, how many fall below `LOOSE_SHARE`,
    and the largest theme's share of a window (mean and most)."""
    ranked = queries.ranked_theme_texts(con)
    shares = [sum(described([t or "" for t in texts], list(terms)[:LEAD_TERMS])) / len(texts)
              for terms, texts in zip(ranked["terms"], ranked["texts"], strict=True)]
    largest = queries.largest_theme_shares(con)["share"].dropna()
    return {"ranked_theme_weeks": len(shares),
            "described_share": round(sum(shares) / len(shares), 3) if shares else None,
            f"below_{LOOSE_SHARE}": sum(s < LOOSE_SHARE for s in shares),
            "largest_theme_mean": round(float(largest.mean()), 3) if len(largest) else None,
            "largest_theme_max": round(float(largest.max()), 3) if len(largest) else None}


def main(argv: Sequence[str] | None = None) -> None:
    per_warehouse(figures, __doc__, argv)


if __name__ == "__main__":
    main()
