"""Themes count issues, not entity values: banking77 with names, order numbers, amounts and dates filled in.

    python -m bench.entity_themes [--per-intent 30] [--seed 0] [--intents 27] [--copies 1,4]

Each sampled banking77 text is wrapped in a template drawn at random, with values from Faker
(seeded): "{text} I was charged {amount} on {date}.", "Hi, this is {name}. {text}", ... (one in ten
keeps the bare text). The same texts are then clustered (the pipeline's `cluster.cluster` with
its size-scaled defaults) as:

- `original`: the bare banking77 texts (the reference);
- `with values`: the templated texts as a customer writes them;
- `redacted`: after the pipeline's redaction (names, order references -> [PERSON], [ORDER]);
  what was embedded before `meaning.meaning_text`;
- `redacted + masked (tokens kept)`: then `entities.mask_entities` (amounts, dates, times, codes,
  numbers -> [AMOUNT], [DATE], ...);
- `redacted, placeholders dropped`: redaction placeholders removed, values kept;
- `redacted, values dropped`: `drop_entities` (here): values, their tokens and placeholders
  removed (the text for meaning this bench proposed).

Printed per variant: themes, outlier share, ARI and NMI against the 77 intents, and the ARI of
KMeans given the true number of intents on the same vectors (what the vectors allow when the
count is known).

A second table asks whether the number of themes follows the number of issues when each issue is
written in many templated phrasings (the shape of generated support corpora: a few dozen intents,
hundreds of templated requests each). --intents intents are drawn (seeded), every banking77 text of
each is wrapped --copies times in templates with fresh values, and the texts for meaning (redacted,
then `meaning.meaning_text`, as the pipeline embeds them) are clustered whole. Printed per number of
copies: themes against intents, ARI against KMeans given the true count, and the window's
duplication (`cluster.duplication`, the factor the fit scales by). Four copies of every wording
should give about the themes of one.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bench.common import SHARED, cached_embed, skipped_without, table

DATASET = SHARED / "banking77"
TEMPLATES = (
    "{text} My order number is {order}.",
    "Hi, this is {name}. {text}",
    "{text} I was charged {amount} on {date}.",
    "{text} Reference {code}.",
    "Hello, {name} here, account {account}. {text}",
    "{text} It happened on {date} at {time}.",
    "{text} The amount was {amount}.",
    "{name}: {text} (order {order}, {amount})",
    "{text} Thanks, {name}",
    "{text}",
)


def values(rng: np.random.Generator, fake: object) -> dict[str, str]:
    """One set of entity values in the formats customers use."""
    amount = float(rng.uniform(1, 2500))
    day = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 700)))
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    code = "".join(rng.choice(list(letters + "0123456789"), 3)) + str(rng.integers(10000, 99999))
    return {
        "name": fake.name(),  # type: ignore[attr-defined]
        "order": str(rng.choice([f"#{rng.integers(100000, 999999)}", f"{rng.integers(10**9, 10**10)}",
                                 "".join(str(rng.choice(list(letters))) + str(rng.integers(0, 10)) for _ in range(3))])),
        "amount": str(rng.choice([f"${amount:,.2f}", f"{amount:.2f} EUR", f"£{amount:.0f}", f"{amount:.0f} dollars"])),
        "date": day.strftime(str(rng.choice(["%d %B", "%B %d, %Y", "%Y-%m-%d", "%d/%m/%Y"]))),
        "time": str(rng.choice([f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}", f"{rng.integers(1, 13)}pm"])),
        "code": code,
        "account": str(rng.integers(10**7, 10**8)),
    }


def build(per_intent: int, seed: int) -> pd.DataFrame:
    """A per-intent sample of banking77 with each text templated with entity values."""
    from faker import Faker

    frame = pd.concat([pd.read_csv(DATASET / f) for f in ("train.csv", "test.csv")], ignore_index=True)
    frame = frame.groupby("category", group_keys=False).sample(per_intent, random_state=seed).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    fake = Faker()
    fake.seed_instance(seed)
    templated = [str(rng.choice(TEMPLATES)).format(text=t, **values(rng, fake)) for t in frame["text"]]
    return frame.assign(with_values=templated)


def templated(intents: int, copies: int, seed: int) -> pd.DataFrame:
    """Every banking77 text of `intents` seeded intents, each wrapped `copies` times in templates with
    fresh values (distinct results only), with its text for meaning as the pipeline stores it."""
    from faker import Faker

    from ticket_intel.core.meaning import meaning_text
    from ticket_intel.core.redact import redact

    frame = pd.concat([pd.read_csv(DATASET / f) for f in ("train.csv", "test.csv")], ignore_index=True)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(sorted(frame["category"].unique()), intents, replace=False)
    frame = pd.concat([frame[frame["category"].isin(chosen)]] * copies, ignore_index=True)
    fake = Faker()
    fake.seed_instance(seed)
    frame["with_values"] = [str(rng.choice(TEMPLATES)).format(text=t, **values(rng, fake)) for t in frame["text"]]
    frame = frame.drop_duplicates("with_values", ignore_index=True)
    return frame.assign(meaning=[meaning_text(redact(t).text) for t in frame["with_values"]])


def follows_issues(intents: int, copies: Sequence[int], seed: int) -> list[dict[str, object]]:
    """Per number of copies, the themes of the templated corpus against its intents."""
    from ticket_intel.core import cluster

    rows = []
    for c in copies:
        frame = templated(intents, c, seed)
        x, _ = cached_embed(frame["meaning"].tolist(), progress=True)
        found = cluster.neighbours(x, cluster.default_params(len(x)).n_neighbors)
        scored = score(x, frame["category"].to_numpy(), 42)
        rows.append({"copies": c, "tickets": len(frame), "intents": intents, **scored,
                     "themes_per_intent": round(int(scored["themes"]) / intents, 2),
                     "duplication": round(cluster.duplication(1.0 - found[1][:, 1:]), 2)})
    return rows


_TOKEN = re.compile(r"\s*\[[A-Z_]+\]")


def drop_entities(text: str) -> str:
    """The text without entity values, their tokens or redaction placeholders: the variant this bench
    measured before `meaning.meaning_text` shipped (which drops placeholders and `drop_values`' values)."""
    from ticket_intel.core.entities import mask_entities

    return " ".join(_TOKEN.sub(" ", mask_entities(text)).split())


def variants(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The texts each variant embeds."""
    from ticket_intel.core.entities import mask_entities
    from ticket_intel.core.redact import PLACEHOLDER, redact

    redacted = [redact(t).text for t in frame["with_values"]]
    return {
        "original": frame["text"].tolist(),
        "with values": frame["with_values"].tolist(),
        "redacted (embedded before meaning_text)": redacted,
        "redacted + masked (tokens kept)": [mask_entities(t) for t in redacted],
        "redacted, placeholders dropped": [" ".join(PLACEHOLDER.sub(" ", t).split()) for t in redacted],
        "redacted, values dropped (drop_entities)": [drop_entities(t) for t in redacted],
    }


def score(x: np.ndarray, truth: np.ndarray, seed: int) -> dict[str, object]:
    from ticket_intel.core import cluster

    labels = cluster.cluster(x, cluster.default_params(len(x), seed)).labels
    kmeans = KMeans(len(set(truth)), n_init=4, random_state=seed).fit_predict(x)
    return {
        "themes": len(set(labels.tolist()) - {cluster.OUTLIER}),
        "outlier_pct": round(100 * float((labels == cluster.OUTLIER).mean()), 1),
        "ari": round(float(adjusted_rand_score(truth, labels)), 3),
        "nmi": round(float(normalized_mutual_info_score(truth, labels)), 3),
        "ari_kmeans_true_k": round(float(adjusted_rand_score(truth, kmeans)), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-intent", type=int, default=30, help="texts sampled per intent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--intents", type=int, default=27, help="intents of the templated corpus")
    parser.add_argument("--copies", default="1,4", help="templated phrasings of each text, per run")
    args = parser.parse_args(argv)
    if skipped_without(DATASET):
        return
    frame = build(args.per_intent, args.seed)
    truth = frame["category"].to_numpy()
    rows = []
    for name, texts in variants(frame).items():
        x, _ = cached_embed(texts, progress=True)
        rows.append({"variant": name, **score(x, truth, 42)})
    print(f"{len(frame)} banking77 texts, {len(set(truth))} intents, {args.per_intent} each; examples:")
    for t in frame["with_values"].head(3):
        print(f"  {t}")
    print(table(rows))
    print(f"\nThemes against issues: {args.intents} intents, every text of each in templated phrasings")
    print(table(follows_issues(args.intents, [int(c) for c in args.copies.split(",")], args.seed)))


if __name__ == "__main__":
    main()
