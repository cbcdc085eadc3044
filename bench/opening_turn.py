"""Chats: themes from the customer's first message alone, and from its opening turn.

    python -m bench.opening_turn [--conversations 1500] [--greeted 0.3] [--seed 3] [--runs 3]

An Intercom conversations export is built from banking77 test queries (seeded): a `--greeted` share
of the conversations open with a bare greeting ("Hi 👋", "Hello team!"), half of those with a bot's
"What can we help with?" next, and ask the query in the customer's next part; an admin answers each.
It is read by the Intercom profile (`core/sources`), which joins a first message that says nothing
to the customer's next parts before the admin answers (`base.opening_turn`). Compared with what
that first part alone gives (the reference, as ingest read it before):

- `nothing to read`: tickets whose text for meaning is empty, which themes leave out;
- the pipeline's clustering (`cluster.cluster`) of the texts for meaning, tickets with nothing to read
  counted as outliers: themes, outlier share, and ARI against the 77 intents (outliers as one group),
  means of `--runs` clusterings.

The same chats as Zendesk Chat tickets, each a transcript in one comment ("(08:00:14 AM) Visitor 7:
Hi"), with the account's trigger greeting, an agent joining and answering from a few macros, and the
customer's thanks: read whole (the reference), and split into the customer's turns
(`transcripts.transcript_turns`).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from bench.common import SHARED, add_clustering_args, clustering_seeds, table, test_queries, themes_against

DATASET = SHARED / "banking77"
GREETINGS = ("Hi", "Hello", "Hi there 👋", "hey", "Good morning", "Hello team!", "hi?", "Hey there")
MACROS = ("Thanks for reaching out! Let me check that for you.", "Sorry to hear that. I have looked into your account.",
          "Happy to help. Please try again now and let me know.", "I have passed this to our specialist team.")
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


def transcripts(convs: list[dict], seed: int) -> list[dict]:
    """The same chats as Zendesk Chat tickets: one comment by the visitor holding the transcript."""
    rng = np.random.default_rng(seed)
    tickets = []
    for i, conv in enumerate(convs):
        parts = [conv["source"], *conv["conversation_parts"]["conversation_parts"]]
        asked = [part["body"][3:-4] for part in parts if part["author"]["type"] == "user"]  # "<p>...</p>"
        said = [("Example Bank", "Hi there, welcome! What can we help you with?"), *((f"Visitor {i}", a) for a in asked)]
        lines = [f"(08:{k:02d}:00 AM) {who}: {text}" for k, (who, text) in enumerate(said)]
        k = len(said)
        lines += [f"(08:{k:02d}:30 AM) *** Sam joined the chat ***", f"(08:{k + 1:02d}:00 AM) Sam: {rng.choice(MACROS)}",
                  f"(08:{k + 2:02d}:00 AM) Visitor {i}: ok thanks"]
        comment = {"id": i, "author_id": i, "public": True, "created_at": "2026-09-02T08:00:00Z",
                   "body": "Chat started: 2026-09-02 08:00 AM UTC\n\n" + "\n".join(lines)}
        tickets.append({"id": i, "created_at": "2026-09-02T08:00:00Z", "requester_id": i,
                        "subject": f"Chat with Visitor {i}", "via": {"channel": "chat"}, "comments": [comment]})
    return tickets


def meanings(convs: list[dict]) -> tuple[list[str], list[str]]:
    """Texts for meaning per conversation: of its first part alone, and of the ticket ingest makes."""
    from ticket_intel.core.meaning import meaning_text
    from ticket_intel.core.normalize import clean_message
    from ticket_intel.core.sources import parse_bytes

    if "comments" in convs[0]:  # Zendesk Chat: the transcript read whole, and the ticket ingest makes
        tickets = parse_bytes("chats.json", json.dumps({"tickets": convs}).encode()).tickets
        whole = [meaning_text(clean_message(c["comments"][0]["body"])) for c in convs]
        return whole, [meaning_text(clean_message(t["message"])) for t in tickets]
    tickets = parse_bytes("chats.json", json.dumps({"conversations": convs}).encode()).tickets
    first = [meaning_text(clean_message(c["source"]["body"])) for c in convs]
    return first, [meaning_text(clean_message(t["message"])) for t in tickets]


def scored(texts: list[str], truth: np.ndarray, seeds: range) -> dict[str, object]:
    return {"nothing_to_read": sum(not t for t in texts), **themes_against(texts, truth, seeds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1500)
    parser.add_argument("--greeted", type=float, default=0.3)
    add_clustering_args(parser)
    args = parser.parse_args()
    if (queries := test_queries(DATASET, args.conversations, args.seed)) is None:
        return 0
    convs = conversations(queries, args.greeted, args.seed)
    first, opening = meanings(convs)
    whole, split = meanings(transcripts(convs, args.seed))
    truth, seeds = queries["category"].to_numpy(), clustering_seeds(args)
    print(f"\n{len(convs)} chats, {args.greeted:.0%} opening with a bare greeting (banking77 test, seed {args.seed}; "
          f"means of {args.runs} clusterings)")
    rows = [("Intercom", "first part alone (reference)", first), ("Intercom", "opening turn (shipped)", opening),
            ("Zendesk Chat transcripts", "whole transcript (reference)", whole),
            ("Zendesk Chat transcripts", "opening turn (shipped)", split)]
    print(table([{"chats as": shape, "message": read, **scored(texts, truth, seeds)} for shape, read, texts in rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
