"""A small bank's Zendesk export, in the shapes its helpdesk receives, for `ticket-intel run` end to end.

    python -m bench.helpdesk_export --out DIR/zendesk_tickets.json [--tickets 1800] [--seed 11]
    ticket-intel run --inbox DIR --warehouse W
    python -m bench.helpdesk_export --out DIR/zendesk_tickets.json --score W

Each banking77 test query (seeded) is one ticket, about 33 minutes apart (six weeks for 1,800), as a
plain message or in one of the shapes of `bench.message_shapes` (contact forms, signed business mail,
forwards), as a Zendesk Chat transcript (a trigger's greeting, "Hi", the question, an agent joining
and answering from a macro), under Zendesk's follow-up note, or as a Zendesk Talk voicemail (the
call's record as a voice comment, the question as its transcription); an agent answers each,
signing off. Calls answered live leave only their record ("Talk call": no question, no transcription),
and a payment service's receipts come from its no-reply address ("no-reply mail").
Each ticket carries its intent and shape (`_intent`, `_shape`) for `--score`, which prints, per
week, the ARI of the pipeline's themes (`staging.ticket_clusters`, outliers as one group) against
the intents (calls without words and receipts left out), how many of those are in a theme, and the
themes ranked in the last week.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import SHARED, test_queries
from bench.message_shapes import CITIES, NAMES, SHAPES, filled

DATASET = SHARED / "banking77"
START = pd.Timestamp("2026-09-07T08:00:00Z")  # a Monday
SPACING = pd.Timedelta(minutes=33.6)
MIX = {"plain": 0.16, "no-reply mail": 0.04, "Label: answer": 0.12, "HTML table": 0.08, "signed mail": 0.25,
       "forwarded mail": 0.05, "chat": 0.10, "follow-up": 0.05, "Talk voicemail": 0.08, "Talk call": 0.07}
CALL = ("Call from: +44 20 7946 0{i:03d}\nTime of call: {at:%B %-d, %Y at %-I:%M:%S %p}\nCalled: +44 20 7946 0999\n"
        "Location: {city}\nLength of phone call: {minutes} minutes, {seconds} seconds\nAnswered by: Sam")
SUBJECTS = {"Label: answer": "New contact form submission", "HTML table": "Website enquiry"}
MACROS = ("Thanks for reaching out! Let me check that for you.", "Sorry to hear that. I have looked into your account.",
          "Happy to help. Please try again now and let me know.")
AGENT = 900
TALK = ("Talk voicemail", "Talk call")
SENDERS = {"no-reply mail": "Example Pay <no-reply@pay.example>"}
UNWORDED = ("Talk call", "no-reply mail")  # no question in them: left out of the ARI
CHANNELS = {"chat": "chat", "Talk voicemail": "voice", "Talk call": "voice"}


def message(shape: str, query: str, wrapped: str, name: str, i: int) -> tuple[str, str]:
    """(subject, body) of one ticket; `wrapped` is the query in `shape` when that is a message shape."""
    if shape == "chat":
        return f"Chat with {name}", (
            "Chat started: 2026-09-07 08:00 AM UTC\n\n(08:00:05 AM) Example Bank: Hi! What can we help you with?\n"
            f"(08:00:20 AM) {name}: Hi\n(08:00:40 AM) {name}: {query}\n(08:01:00 AM) *** Sam joined the chat ***\n"
            f"(08:01:30 AM) Sam: {MACROS[i % len(MACROS)]}\n(08:03:00 AM) {name}: ok thanks")
    if shape == "follow-up":
        return query[:40], f'This is a follow-up to your previous request #{1000 + i} "Re: my account"\n\n{query}'
    if shape == "no-reply mail":  # a service's receipt, one of many sent alike
        return f"Your receipt from Example Pay #{1000 + i}", (
            f"Receipt #{1000 + i}-{i % 97:04d}\nAmount paid: £{5 + i % 40}.00\nDate paid: September {1 + i % 28}, 2026\n"
            "Payment method: Visa - 4242\n\nIf you have any questions, contact us at support@pay.example.")
    if shape in TALK:
        record = CALL.format(i=i % 1000, at=START + i * SPACING, city=CITIES[i % len(CITIES)], minutes=1 + i % 9,
                             seconds=i % 60)
        return ("Voicemail" if shape == "Talk voicemail" else "Call") + f" from: +44 20 7946 0{i % 1000:03d}", record
    return SUBJECTS.get(shape, query[:40]), query if shape == "plain" else wrapped


def export(queries: pd.DataFrame, seed: int) -> dict:
    """The Zendesk export: tickets with the customer's comment and the agent's answer, and the agent."""
    rng = np.random.default_rng(seed)
    shapes = rng.choice(list(MIX), size=len(queries), p=list(MIX.values()))
    texts = queries["text"].tolist()
    wrapped = {shape: filled(SHAPES[shape], texts) for shape in set(shapes) & set(SHAPES)}
    tickets = []
    for i, (query, intent, shape) in enumerate(zip(texts, queries["category"], shapes, strict=True)):
        subject, body = message(shape, query, wrapped.get(shape, texts)[i], NAMES[i % len(NAMES)], i)
        at = START + i * SPACING
        answer = f"Hi,\n\n{MACROS[(i + 1) % len(MACROS)]}\n\nBest regards,\nSam\nExample Bank Support"
        first = {"id": 10 * i, "author_id": 10_000 + i, "public": True, "body": body, "created_at": _iso(at)}
        if shape in TALK:  # Talk writes the call's comment as the agent who took it
            first.update(type="VoiceComment", author_id=AGENT, public=False,
                         data={"transcription_text": query if shape == "Talk voicemail" else None})
        tickets.append({
            "id": i + 1, "created_at": _iso(at), "requester_id": 10_000 + i, "subject": subject, "status": "solved",
            "via": {"channel": CHANNELS.get(str(shape), "email"), "source": {"from": {"address": SENDERS.get(
                str(shape), f"customer{i}@mail.example")}}}, "description": body,
            "comments": [first, {"id": 10 * i + 1, "author_id": AGENT, "public": True, "body": answer,
                                 "created_at": _iso(at + pd.Timedelta(minutes=90))}],
            "_intent": intent, "_shape": str(shape)})
    return {"tickets": tickets, "users": [{"id": AGENT, "role": "agent", "name": "Sam"}]}


def _iso(at: pd.Timestamp) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%SZ}"


def score(export_file: Path, warehouse: Path) -> str:
    """Per week, ARI of the themes against the intents; the last week's ranked themes."""
    import duckdb
    from sklearn.metrics import adjusted_rand_score

    tickets = json.loads(export_file.read_text())["tickets"]
    intents = {f"zendesk:{t['id']}": t["_intent"] for t in tickets if t["_shape"] not in UNWORDED}
    con = duckdb.connect(str(warehouse), read_only=True)
    clusters = con.execute("""SELECT week_start, ticket_id, coalesce(theme_id, 'outlier') AS theme
                              FROM staging.ticket_clusters""").df()
    lines = []
    for shape in UNWORDED:
        ids = {f"zendesk:{t['id']}" for t in tickets if t["_shape"] == shape}
        themed = clusters["ticket_id"].isin(ids) & (clusters["theme"] != "outlier")
        lines.append(f"{shape}: {len(ids)} tickets, in a theme {clusters.loc[themed, 'ticket_id'].nunique()}")
    for week, g in clusters[clusters["ticket_id"].isin(intents)].groupby("week_start"):
        ari = adjusted_rand_score(g["ticket_id"].map(intents), g["theme"])
        lines.append(f"{week:%Y-%m-%d}  ARI {ari:.3f}  ({len(g)} tickets)")
    ranked = con.execute("""SELECT label, tickets FROM marts.ranked_themes WHERE rank IS NOT NULL
                            AND week_start = (SELECT max(week_start) FROM marts.ranked_themes) ORDER BY rank""").fetchall()
    return "\n".join([*lines, "last week: " + "; ".join(f"{label} ({n})" for label, n in ranked)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the export's path (a .json in an inbox folder)")
    parser.add_argument("--tickets", type=int, default=1800)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--score", type=Path, help="a warehouse `ticket-intel run` made of the export")
    args = parser.parse_args()
    if args.score:
        print(score(args.out, args.score))
        return 0
    if (queries := test_queries(DATASET, args.tickets, args.seed)) is None:
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = export(queries, args.seed)
    args.out.write_text(json.dumps(doc))
    shapes = pd.Series([t["_shape"] for t in doc["tickets"]]).value_counts()
    print(f"{len(doc['tickets'])} tickets in {args.out}: " + ", ".join(f"{n} {s}" for s, n in shapes.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
