"""Messages as helpdesks receive them: themes of their whole text, and of what the customer wrote.

    python -m bench.message_shapes [--tickets 1500] [--seed 3] [--runs 3]

Small helpdesks get much of their mail from a website's contact form, whose notification holds the
form's labels, the contact details and a choice from a list around the customer's message; business
customers sign their mail with a name, a title, their company and phones; a colleague forwards a
customer's mail; a phone system opens a ticket with its record of a call, which holds a voicemail's
transcription. Each banking77 test query (seeded) is wrapped in five common notification shapes
("Label: answer" lines, the same under a preamble, WordPress Contact Form 7's mail, an HTML table,
Markdown bold labels), in a mail signed by one of eight companies' staff, in a forward, and in a
voicemail's record. Every message is cleaned (`normalize.clean_message`: a form read to its
free-text answers without its preamble, `form_answers`; a signature block below a sign-off cut; a
forward's header dropped; a call's record read to its transcription, `call_words`) and redacted,
and its text for meaning clustered by the pipeline (`cluster.cluster`):

- `same as query`: share of tickets whose text for meaning is the query's own;
- themes, outlier share, and ARI against the 77 intents (outliers as one group), means of `--runs`
  clusterings.

The reference rows: the queries alone, and each message's whole text (HTML made text, nothing cut).
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.common import SHARED, add_clustering_args, clustering_seeds, table, test_queries, themes_against

DATASET = SHARED / "banking77"
NAMES = ("Jane Doe", "Mark Peters", "Ana Silva", "Tom Baker", "Priya Shah", "Lee Wong")
TOPICS = ("General enquiry", "Cards", "Payments", "My account", "Other")
COMPANIES = ("Globex Corporation", "Initech GmbH", "Hooli Inc.", "Umbrella Logistics", "Stark Industries",
             "Wayne Enterprises", "Vandelay Imports", "Soylent Foods")
TITLES = ("Finance Lead", "Senior Data Engineer", "Office Manager", "Head of Operations")
CITIES = ("London, England, United Kingdom", "Leeds, England, United Kingdom", "Dublin, Leinster, Ireland")
SHAPES = {
    "Label: answer": "Name: {name}\nEmail: {email}\nPhone: +44 7700 900{i:03d}\nTopic: {topic}\nMessage: {query}",
    "form with a preamble": "You have received a new submission from the Contact us form on Example Bank.\n\n"
                            "Name: {name}\nEmail: {email}\nTopic: {topic}\nMessage: {query}",
    "Contact Form 7": "From: {name} <{email}>\nSubject: Website enquiry\n\nMessage Body:\n{query}\n\n-- \n"
                      "This e-mail was sent from a contact form on Example Bank (https://bank.example)",
    "HTML table": "<table><tr><td>Your name</td><td>{name}</td></tr><tr><td>Your email</td><td>{email}</td></tr>"
                  "<tr><td>Topic</td><td>{topic}</td></tr><tr><td>How can we help?</td><td>{query}</td></tr></table>",
    "Markdown labels": "**Name**\n{name}\n\n**Email**\n{email}\n\n**What do you need help with?**\n{query}\n\n"
                       "**Preferred contact method**\nEmail",
    "signed mail": "Hello,\n\n{query}\n\nBest regards,\n{name}\n{title} | {company}\nT: +1 555 0100 {i:03d}\n"
                   "www.{domain}.example",
    "forwarded mail": "FYI, see below\n\n---------- Forwarded message ---------\nFrom: {name} <{email}>\n"
                      "Date: Mon, 31 Aug 2026 at 10:02\nSubject: Question\nTo: Accounts <accounts@{domain}.example>\n\n{query}",
    "voicemail": "Voicemail from: +44 20 7946 0{i:03d}\nTime of call: August 31, 2026 at 10:{s:02d}:41 AM\n"
                 "Location: {city}\nLength of phone call: 1 minute, {s} seconds\n\nTranscription:\n{query}",
}


def filled(form: str, queries: list[str]) -> list[str]:
    """The message for each query, from one of a few customers, topics, titles and companies."""
    out = []
    for i, query in enumerate(queries):
        name, company = NAMES[i % len(NAMES)], COMPANIES[i % len(COMPANIES)]
        out.append(form.format(query=query, name=name, email=f"{name.split()[0].lower()}{i}@mail.com",
                               topic=TOPICS[i % len(TOPICS)], title=TITLES[i % len(TITLES)], company=company,
                               domain=company.split()[0].lower(), i=i % 1000, city=CITIES[i % len(CITIES)], s=i % 60))
    return out


def meanings(messages: list[str], whole: bool) -> list[str]:
    """Texts for meaning, as ingest and redaction make them; `whole`: the message's whole text."""
    from ticket_intel.core.meaning import meaning_text
    from ticket_intel.core.normalize import clean_message, collapse_whitespace, html_to_text
    from ticket_intel.core.redact import RedactionSettings, redact_many

    clean = ((lambda m: collapse_whitespace(html_to_text(m))) if whole else clean_message)
    return [meaning_text(red.text) for red in redact_many([clean(m) for m in messages], RedactionSettings())]


def scored(texts: list[str], own: list[str], truth: np.ndarray, seeds: range) -> dict[str, object]:
    same = float(np.mean([t == o for t, o in zip(texts, own, strict=True)]))
    return {"same as query": round(same, 3), **themes_against(texts, truth, seeds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1500)
    add_clustering_args(parser)
    args = parser.parse_args()
    if (sample := test_queries(DATASET, args.tickets, args.seed)) is None:
        return 0
    queries, truth = sample["text"].tolist(), sample["category"].to_numpy()
    seeds = clustering_seeds(args)
    own = meanings(queries, whole=True)
    rows = [{"message": "the queries alone (reference)", "read as": "", **scored(own, own, truth, seeds)}]
    for name, form in SHAPES.items():
        messages = filled(form, queries)
        for whole in (True, False):
            rows.append({"message": name, "read as": "whole text" if whole else "cleaned (shipped)",
                         **scored(meanings(messages, whole), own, truth, seeds)})
    print(f"\n{args.tickets} banking77 test queries in the shapes helpdesks receive (seed {args.seed}; "
          f"means of {args.runs} clusterings)")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
