"""Redaction quality and speed on real ticket texts, with and without the pre-filter.

Base texts are real customer language from ../shared (banking77 queries, inbound TWCS tweets,
GitHub bug titles). PII values come from Faker (emails, phones, cards, IBANs, SSNs, IPs, with
several locales and formats) and person names from Mimesis, a different library from the
Faker name lists the recognizer uses, across 30+ locales, so the test does not grade the
gazetteer on its own vocabulary. Real text that already holds personal data (names in
tweets) counts against precision: the figures are a lower bound.

Street addresses (Mimesis, eleven locales, alone or with city and postcode) are inserted into
another copy of the texts and scored per locale, so the corpus above stays as it was.

Both paths run in the same process on the same texts: the full analyzer (every recognizer on
every text, the path before the pre-filter) and the production path (`redact_tickets`, what the
`redacted_tickets` stage runs: cleaning, the pre-filter, the analyzer only where a recognizer
could find something, and the text for meaning). Speed is measured on
the real texts as they are (real traffic), on the labelled corpus (60% of texts carry inserted
PII, a stress case), and on a weekly batch of 12,000 distinct real tickets (large enough for
`redact_tickets`' worker processes; the old path's per-ticket cost does not depend on batch size, so
it is timed on the first two only), against spaCy's blank tokenizer as the in-run reference.

    .venv/bin/python -m bench.redaction [--n 600] [--seed 7] [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from bench.common import SHARED, skipped_without
from ticket_intel.core.redact import (
    ENTITIES,
    RedactionSettings,
    candidate_entities,
    detect,
    redact,
    redact_tickets,
)

TICKETS_PER_S_TARGET = 5_000
TARGETS = {"EMAIL": 0.99, "PHONE": 0.99, "CARD": 0.99, "IBAN": 0.99, "SSN": 0.99, "IP_ADDRESS": 0.99, "PERSON": 0.90}
PRECISION_TARGET = 0.95
TEMPLATES = {
    "EMAIL": ("My email is {v}.", "Please reply to {v}", "{v}", "contact: {v}", "I changed it to {v} last week."),
    "PHONE": ("Call me on {v}.", "My number is {v}", "{v}", "Reach me at {v} after 5pm.", "tel {v}"),
    "CARD": ("My card number is {v}.", "{v} was charged twice.", "{v}", "the number on it is {v}"),
    "IBAN": ("My IBAN is {v}.", "Please refund to {v}", "{v}", "send it to {v} instead"),
    "SSN": ("My SSN is {v}.", "social security number {v}", "SSN: {v}", "{v}"),
    "IP_ADDRESS": ("My IP is {v}.", "Login attempts from {v}", "{v}", "the server at {v} times out"),
    "URL": ("Reset link: {v}", "I clicked {v} and got an error", "{v}"),
    "PERSON": (
        "My name is {v}.", "{v} here.", "Thanks, {v}", "I spoke to {v} on the phone.", "Regards, {v}",
        "{v} from your team said it was fixed.", "Account holder: {v}.", "Please ask {v} to call me back.",
        "Cc {v}", "{v}", "\n{v}: my card was charged twice.",
    ),
    "ORDER": ("Order {v} never arrived.", "Regarding {v}.", "{v}"),
}  # fmt: skip
FAKER_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "pl_PL", "en_AU")
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "fi_FI", "no_NO")
CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb15", "jcb16", "maestro")
# Every Mimesis locale whose names are written in an alphabet with capital letters.
NAME_LOCALES = (
    "en", "en-gb", "en-au", "en-ca", "de", "de-at", "de-ch", "fr", "es", "es-mx", "it", "pt", "pt-br", "nl",
    "nl-be", "pl", "tr", "sv", "da", "no", "fi", "is", "et", "hu", "cs", "sk", "hr", "az", "ru", "uk", "kk", "el",
)  # fmt: skip


@dataclass
class Sample:
    text: str
    gold: list[tuple[int, int, str]]


def base_texts(datasets: Path, n: int, rng: random.Random) -> dict[str, list[str]]:
    banking = pd.read_csv(datasets / "banking77" / "test.csv")["text"].tolist()
    twcs = pd.read_csv(datasets / "twcs_sample" / "twcs_small.csv")
    tweets = twcs.loc[twcs["inbound"].astype(str) == "True", "text"].tolist()
    titles = [t for f in sorted((datasets / "github_bug_issues").glob("*.csv"))
              for t in pd.read_csv(f, usecols=["title"])["title"].dropna().tolist()]
    return {name: [" ".join(str(t).split()) for t in rng.sample(texts, n)] for name, texts in
            {"banking77": banking, "twcs": tweets, "github": titles}.items()}


class ValueMaker:
    """Realistic PII values in several formats per type, from fixed seeds."""

    def __init__(self, seed: int):
        from faker import Faker
        from mimesis import Person
        from mimesis.locales import Locale

        self.rng = random.Random(seed)
        self.fakers = {loc: Faker(loc) for loc in sorted(set(FAKER_LOCALES + IBAN_LOCALES))}  # sorted: seeds must not follow hash order
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed + i)
        self.people = [Person(Locale(loc), seed=seed + i) for i, loc in enumerate(NAME_LOCALES)]

    def faker(self, locales: tuple[str, ...] = FAKER_LOCALES):
        return self.fakers[self.rng.choice(locales)]

    def make(self, kind: str) -> str:
        rng, fk = self.rng, self.faker()
        if kind == "EMAIL":
            value = rng.choice([fk.email, fk.free_email, fk.company_email])()
            if rng.random() < 0.15:
                user, domain = value.split("@")
                value = f"{user}+{rng.choice(['shop', 'bank', '2024'])}@{domain}"
            return value.upper() if rng.random() < 0.05 else value
        if kind == "PHONE":
            if rng.random() < 0.3:
                return self.faker(("en_GB", "de_DE", "fr_FR", "en_IN", "es_ES", "en_AU", "it_IT")).phone_number()
            return fk.phone_number()
        if kind == "CARD":
            number = fk.credit_card_number(card_type=rng.choice(CARD_TYPES))
            if len(number) == 16 and rng.random() < 0.6:
                sep = rng.choice([" ", "-"])
                return sep.join(number[i:i + 4] for i in range(0, 16, 4))
            if len(number) == 15 and number[0] == "3" and rng.random() < 0.5:
                return f"{number[:4]} {number[4:10]} {number[10:]}"
            return number
        if kind == "IBAN":
            iban = self.faker(IBAN_LOCALES).iban()
            return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban
        if kind == "SSN":
            ssn = self.fakers["en_US"].ssn()
            return ssn.replace("-", rng.choice([" ", ""])) if rng.random() < 0.2 else ssn
        if kind == "IP_ADDRESS":
            return rng.choice([fk.ipv4_public, fk.ipv4_private, fk.ipv4, fk.ipv6])()
        if kind == "URL":
            domain = fk.domain_name()
            return rng.choice([
                f"https://{domain}/reset?token={fk.sha1()[:rng.randint(20, 40)]}",
                f"https://{domain}/verify?email={quote(fk.email())}",
                f"https://{domain}/account/{fk.uuid4()}",
                f"http://{domain}/login?session={fk.md5()}&lang=en",
                f"https://{domain}/unsubscribe?u={fk.email()}",
            ])
        if kind == "PERSON":
            person = rng.choice(self.people)
            return person.full_name() if rng.random() < 0.8 else person.first_name()
        return rng.choice([f"ORD-{rng.randint(10_000, 9_999_999)}", f"order #{rng.randint(100_000, 99_999_999)}",
                           f"order number {rng.randint(100_000, 99_999_999)}"])


def build_corpus(real: dict[str, list[str]], rng: random.Random, seed: int,
                 pii_share: float = 0.6) -> tuple[list[Sample], list[str]]:
    """The real texts with PII inserted into `pii_share` of them (rng: the one that sampled them)."""
    maker = ValueMaker(seed)
    samples, sources = [], []
    for source, texts in real.items():
        for text in texts:
            gold = []
            if rng.random() < pii_share:
                for kind in rng.sample(list(TEMPLATES), rng.choice([1, 1, 2])):
                    value = maker.make(kind)
                    sentence = rng.choice(TEMPLATES[kind])
                    if sentence == "{v}" and kind in ("PERSON",) and " " not in value:
                        sentence = "Thanks, {v}"  # a lone given name with no cue is not identifying
                    before, _ = sentence.split("{v}")
                    if rng.random() < 0.5:
                        offset = len(text) + 1
                        text = f"{text} {sentence.format(v=value)}"
                    else:
                        offset = 0
                        shift = len(sentence.format(v=value)) + 1
                        gold = [(s + shift, e + shift, k) for s, e, k in gold]
                        text = f"{sentence.format(v=value)} {text}"
                    start = offset + len(before)
                    gold.append((start, start + len(value), kind))
            samples.append(Sample(text, gold))
            sources.append(source)
    return samples, sources


# Street addresses from Mimesis (not the Faker vocabularies the recognizer reads), alone or with their
# city and postcode, per locale: scored apart, so the corpus above, and its figures, stay as they were.
ADDRESS_LOCALES = ("en", "en-gb", "en-au", "en-ca", "de", "nl", "fr", "es", "it", "pt", "pt-br")
ADDRESS_TEMPLATES = ("I live at {v}.", "Please ship it to {v}", "My address is {v}", "Delivery address: {v}",
                     "{v}", "we moved to {v} last month")


def address_corpus(real: dict[str, list[str]], seed: int, per_locale: int = 60) -> list[tuple[str, Sample]]:
    """(locale, sample) pairs: real texts each with one inserted address."""
    from mimesis import Address
    from mimesis.locales import Locale

    rng, texts = random.Random(seed), [t for ts in real.values() for t in ts]
    out = []
    for i, locale in enumerate(ADDRESS_LOCALES):
        maker = Address(Locale(locale), seed=seed + i)
        for _ in range(per_locale):
            value = maker.address() if rng.random() < 0.5 else f"{maker.address()}, {maker.city()} {maker.postal_code()}"
            sentence, text = rng.choice(ADDRESS_TEMPLATES), rng.choice(texts)
            start = len(text) + 1 + sentence.index("{v}")
            out.append((locale, Sample(f"{text} {sentence.format(v=value)}", [(start, start + len(value), "ADDRESS")])))
    return out


def address_quality(corpus: list[tuple[str, Sample]]) -> pd.DataFrame:
    """Per locale: addresses whose every letter and digit a redacted region covers, and how many were
    found in part (a region over some of it)."""
    rows = []
    for locale in ADDRESS_LOCALES:
        samples = [s for loc, s in corpus if loc == locale]
        regions = [_regions(detect(s.text)) for s in samples]
        whole = sum(_covered(s, r)["ADDRESS"] for s, r in zip(samples, regions, strict=True))
        part = sum(any(rs < e and s < re_ for rs, re_, _ in r for s, e, _ in sample.gold)
                   for sample, r in zip(samples, regions, strict=True))
        rows.append({"locale": locale, "addresses": len(samples), "whole": whole / len(samples),
                     "in part": part / len(samples)})
    return pd.DataFrame(rows)


def _regions(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str]]:
    """Merge overlapping predictions (the anonymizer replaces their union), typed by the best score."""
    out: list[list] = []
    for s, e, k, sc in sorted(spans):
        if out and s < out[-1][1]:
            out[-1][1] = max(e, out[-1][1])
            if sc > out[-1][3]:
                out[-1][2], out[-1][3] = k, sc
        else:
            out.append([s, e, k, sc])
    return [(s, e, k) for s, e, k, _ in out]


def _covered(sample: Sample, regions: list[tuple[int, int, str]]) -> Counter[str]:
    """Inserted values of each type whose every letter/digit a region covers (ORDER: its digits,
    since the label stays on purpose: "order [ORDER]")."""
    out: Counter[str] = Counter()
    for s, e, kind in sample.gold:
        keep = str.isdigit if kind == "ORDER" else str.isalnum
        needed = [i for i in range(s, e) if keep(sample.text[i])]
        if all(any(rs <= i < re_ for rs, re_, _ in regions) for i in needed):
            out[kind] += 1
    return out


def score(samples: list[Sample], prefilter: bool) -> pd.DataFrame:
    gold_n, covered, pred_n, pred_tp = Counter(), Counter(), Counter(), Counter()
    for sample in samples:
        regions = _regions(detect(sample.text, prefilter=prefilter))
        gold_n.update(kind for _, _, kind in sample.gold)
        covered += _covered(sample, regions)
        for rs, re_, kind in regions:
            pred_n[kind] += 1
            if any(rs < e and s < re_ for s, e, _ in sample.gold):
                pred_tp[kind] += 1
    rows = []
    for kind in ENTITIES:
        rows.append({"type": kind, "inserted": gold_n[kind],
                     "recall": covered[kind] / gold_n[kind] if gold_n[kind] else float("nan"),
                     "predicted": pred_n[kind],
                     "precision": pred_tp[kind] / pred_n[kind] if pred_n[kind] else float("nan")})
    total_pred = sum(pred_n.values())
    rows.append({"type": "ALL", "inserted": sum(gold_n.values()),
                 "recall": sum(covered.values()) / max(1, sum(gold_n.values())),
                 "predicted": total_pred, "precision": sum(pred_tp.values()) / max(1, total_pred)})
    return pd.DataFrame(rows)


def quality(samples: list[Sample]) -> pd.DataFrame:
    """Recall and precision per type for the full analyzer (old) and the pre-filtered one (new)."""
    old, new = score(samples, prefilter=False), score(samples, prefilter=True)
    out = pd.DataFrame({"type": old["type"], "inserted": old["inserted"], "recall_old": old["recall"],
                        "recall_new": new["recall"], "recall_target": old["type"].map(TARGETS),
                        "precision_old": old["precision"], "precision_new": new["precision"]})
    out["ok"] = [
        ("yes" if r >= t and n == r else "NO") if kind in TARGETS else
        ("yes" if p >= PRECISION_TARGET and n == r else "NO") if kind == "ALL" else
        ("" if n == r or (pd.isna(n) and pd.isna(r)) else "NO")  # ADDRESS: scored on its own corpus
        for kind, r, n, t, p in zip(out["type"], out["recall_old"], out["recall_new"], out["recall_target"],
                                    out["precision_new"], strict=True)
    ]
    return out


def false_positives(samples: list[Sample], sources: list[str], limit: int = 15) -> list[str]:
    out = []
    for sample, source in zip(samples, sources, strict=True):
        for rs, re_, kind in _regions(detect(sample.text)):
            if not any(rs < e and s < re_ for s, e, _ in sample.gold):
                out.append(f"{source:9s} {kind:10s} {sample.text[rs:re_]!r}")
    return out[:limit]


def skipped(real: dict[str, list[str]]) -> pd.DataFrame:
    """Per source: the share of texts the pre-filter skips, and how often each recognizer must run."""
    rows = []
    for source, texts in real.items():
        kinds = [candidate_entities(t) for t in texts]
        counts = Counter(k for ks in kinds for k in ks)
        rows.append({"source": source, "texts": len(texts), "skipped": sum(not ks for ks in kinds) / len(texts),
                     **{kind: counts[kind] / len(texts) for kind in ENTITIES}})
    return pd.DataFrame(rows)


def _seconds(fn, texts: list[str]) -> float:
    t0 = time.perf_counter()
    fn(texts)
    return time.perf_counter() - t0


def weekly_batch(datasets: Path, size: int, seed: int) -> list[str]:
    """A week's worth of distinct real tickets: every inbound tweet, the rest split between banking77
    queries and GitHub titles. Large enough that `redact_tickets` shares it among worker processes."""
    rng = random.Random(seed)
    twcs = pd.read_csv(datasets / "twcs_sample" / "twcs_small.csv")
    tweets = list(dict.fromkeys(twcs.loc[twcs["inbound"].astype(str) == "True", "text"].astype(str)))
    banking = list(dict.fromkeys(pd.concat([pd.read_csv(f)["text"] for f in sorted((datasets / "banking77").glob("*.csv"))])))
    titles = list(dict.fromkeys(t for f in sorted((datasets / "github_bug_issues").glob("*.csv"))
                                for t in pd.read_csv(f, usecols=["title"])["title"].dropna().astype(str)))
    rest = (size - len(tweets)) // 2
    return [" ".join(t.split()) for t in tweets + rng.sample(banking, rest) + rng.sample(titles, rest)]


def as_tickets(texts: list[str]) -> pd.DataFrame:
    """Raw tickets holding `texts` as their messages, the columns `redact_tickets` reads."""
    return pd.DataFrame({
        "ticket_id": [f"bench:{i}" for i in range(len(texts))], "week_start": pd.Timestamp("2026-01-05"),
        "created_at": pd.Timestamp("2026-01-05 10:00"), "source": "bench", "customer_id": "bench",
        "account_id": None, "plan": None, "monthly_revenue": None, "channel": "email",
        "tags": [[]] * len(texts), "priority": None, "message": texts, "subject": None,
    })


def throughput(corpora: dict[str, list[str]], old_path: set[str]) -> pd.DataFrame:
    """Tickets/s of the new path (`redact_tickets`: cleaning, pre-filter, analyzer where needed, the
    text for meaning, a worker per CPU for large batches) and, on the corpora in `old_path`, of the old one (full analyzer on every
    text, one process), against spaCy's blank tokenizer on the same texts in this run."""
    import spacy

    nlp = spacy.blank("en")
    paths = {"reference: spaCy blank tokenizer": lambda ts: [nlp(t) for t in ts],
             "new: the stage's redaction (redact_tickets)": lambda ts: redact_tickets(as_tickets(ts),
                                                                                       RedactionSettings()),
             "old: full analyzer on every text": lambda ts: [redact(t, prefilter=False) for t in ts]}
    # One-off costs (engines, name lists, wordfreq's table, the tokenizer's first call) are paid
    # before timing, by every path.
    for fn in paths.values():
        fn(["Thanks, Olga Mensah: order #12345678, call +44 7700 900542 or jane.doe@example.com"])
    rows = []
    for corpus, texts in corpora.items():
        seconds = {step: _seconds(fn, texts) for step, fn in paths.items()
                   if corpus in old_path or not step.startswith("old")}
        reference = seconds["reference: spaCy blank tokenizer"]
        for step, secs in seconds.items():
            rate = len(texts) / secs
            rows.append({"corpus": corpus, "step": step, "tickets": len(texts), "seconds": secs,
                         "tickets_per_s": rate, "x_reference_time": secs / reference,
                         "target_5000_per_s": ("met" if rate >= TICKETS_PER_S_TARGET else "NOT met")
                         if step.startswith("new") else ""})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="base texts per source (3 sources)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=12_000,
                        help="distinct real tickets in the weekly batch (the new path only; workers start at 10,000)")
    parser.add_argument("--datasets", type=Path, default=SHARED, help="folder holding banking77, twcs_sample, ...")
    args = parser.parse_args()
    if skipped_without(args.datasets):
        return
    rng = random.Random(args.seed)
    real = base_texts(args.datasets, args.n, rng)
    samples, sources = build_corpus(real, rng, args.seed)
    pd.set_option("display.width", 160)
    fmt = {"float_format": lambda v: f"{v:.3f}", "index": False}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs, "
          f"nice {os.nice(0)}")
    print(f"labelled corpus: {len(samples)} real ticket texts ({args.n} each from banking77, twcs, github titles), "
          f"{sum(len(s.gold) for s in samples)} inserted PII values, seed {args.seed}\n")
    print(quality(samples).to_string(**fmt))
    print(f"\nstreet addresses (Mimesis, {len(ADDRESS_LOCALES)} locales), inserted into real texts:")
    print(address_quality(address_corpus(real, args.seed)).to_string(**fmt))
    print("\nfalse positives (first 15):")
    for line in false_positives(samples, sources):
        print("  " + line)
    print("\nreal texts the pre-filter skips (no recognizer could match), and how often each recognizer runs:")
    print(skipped(real).to_string(**fmt))
    corpora = {"real traffic": [t for texts in real.values() for t in texts],
               "labelled (60% with PII)": [s.text for s in samples],
               f"real traffic, weekly batch of {args.batch:,}": weekly_batch(args.datasets, args.batch, args.seed)}
    print()
    table = throughput(corpora, old_path={"real traffic", "labelled (60% with PII)"})
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
