"""Chat that opens with "Hi": themes from the customer's first message alone, and from its opening turn.

    python -m bench.opening_turn [--conversations 1500] [--greeted 0.3] [--seed 3]

An Intercom conversations export is built from banking77 test queries (seeded): a `--greeted` share
of the conversations open with a bare greeting ("Hi 👋", "Hello team!"), half of those with a bot's
"What can we help with?" next, and ask the query in the customer's next part; an admin answers each.
It is read by the Intercom profile (`core/sources`), which joins a first message that says nothing
to the customer's next parts before the admin answers (`base.opening_turn`). Compared with what
that first part alone gives (the reference, as ingest read it before):

- `nothing to read`: tickets whose text for meaning is empty, which themes leave out;
- the pipeline's clustering (`cluster.cluster`) of the texts for meaning, tickets with nothing to read
  counted as outliers: themes, outlier share, and ARI against the 77 intents (outliers as one group).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from bench.common import SHARED, cached_embed, skipped_without, table

DATASET = SHARED / "banking77"
GREETINGS = ("Hi", "Hello", "Hi there 👋", "hey", "Good morning", "Hello team!", "hi?", "Hey there")
START = 1788134400  # 2026-08-31, a Monday


def conversations(queries: pd.DataFrame, greeted: float, seed: int) -> list[dict]:
    """One Intercom conversation per query, a `greeted` share opening with a bare greeting."""
    rng = np.random.default_rng(seed)
    out = []
    for i, text in enumerate(queries["text"]):
        at, user = START + i * 600, {"type": "user", "id": f"u{i}"}
        parts = []
        first = text
        if rng.random() < greeted:
            first = str(rng.choice(GREETINGS))
            if rng.random() < 0.5:
                parts.append({"id": f"b{i}", "part_type": "comment", "author": {"type": "bot", "id": "bot"},
                              "body": "<p>Hi! What can we help with?</p>", "created_at": at + 5})
            parts.append({"id": f"q{i}", "part_type": "comment", "author": user, "body": f"<p>{text}</p>",
                          "created_at": at + 30})
        parts.append({"id": f"a{i}", "part_type": "comment", "author": {"type": "admin", "id": "a1"},
                      "body": "<p>Thanks, looking into it.</p>", "created_at": at + 300})
        out.append({"type": "conversation", "id": f"c{i}", "created_at": at, "state": "closed",
                    "source": {"type": "conversation", "body": f"<p>{first}</p>", "author": user},
                    "conversation_parts": {"conversation_parts": parts}})
    return out


def meanings(convs: list[dict]) -> tuple[list[str], list[str]]:
    """Texts for meaning per conversation: of its first part alone, and of the ticket ingest makes."""
    from ticket_intel.core.meaning import meaning_text
    from ticket_intel.core.normalize import clean_message
    from ticket_intel.core.sources import parse_bytes

    tickets = parse_bytes("chats.json", json.dumps({"conversations": convs}).encode()).tickets
    first = [meaning_text(clean_message(c["source"]["body"])) for c in convs]
    return first, [meaning_text(clean_message(t["message"])) for t in tickets]


def scored(texts: list[str], truth: np.ndarray, seed: int) -> dict[str, object]:
    from ticket_intel.core import cluster

    said = np.array([bool(t) for t in texts])
    x, _ = cached_embed([t for t in texts if t])
    labels = np.full(len(texts), cluster.OUTLIER)
    labels[said] = cluster.cluster(x, cluster.default_params(len(x), seed)).labels
    return {"nothing_to_read": int((~said).sum()), "themes": len(set(labels.tolist()) - {cluster.OUTLIER}),
            "outlier_pct": round(100 * float((labels == cluster.OUTLIER).mean()), 1),
            "ari": round(float(adjusted_rand_score(truth, labels)), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1500)
    parser.add_argument("--greeted", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if skipped_without(DATASET):
        return 0
    queries = pd.read_csv(DATASET / "test.csv").sample(args.conversations, random_state=args.seed)
    convs = conversations(queries, args.greeted, args.seed)
    first, opening = meanings(convs)
    truth = queries["category"].to_numpy()
    print(f"\n{len(convs)} chats, {args.greeted:.0%} opening with a bare greeting (banking77 test, seed {args.seed})")
    print(table([{"message": "first part alone (reference)", **scored(first, truth, args.seed)},
                 {"message": "opening turn (shipped)", **scored(opening, truth, args.seed)}]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
