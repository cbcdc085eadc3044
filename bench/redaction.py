"""Redaction quality and speed on real ticket texts with PII inserted at known spans.

Base texts are real customer language from ../shared (banking77 queries, inbound TWCS tweets,
GitHub bug titles). PII values come from Faker (emails, phones, cards, IBANs, SSNs, IPs, with
several locales and formats) and person names from Mimesis, a different library from the
Faker name lists the recognizer uses, across 30+ locales, so the test does not grade the
gazetteer on its own vocabulary. Real text that already holds personal data (names in
tweets) counts against precision: the figures are a lower bound.

    .venv/bin/python -m bench.redaction [--n 600] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.redact import ENTITIES, detect, redact

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
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
        "Cc {v}", "{v}",
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


def base_texts(n: int, rng: random.Random) -> dict[str, list[str]]:
    banking = pd.read_csv(DATASETS / "banking77" / "test.csv")["text"].tolist()
    twcs = pd.read_csv(DATASETS / "twcs_sample" / "twcs_small.csv")
    tweets = twcs.loc[twcs["inbound"].astype(str) == "True", "text"].tolist()
    titles = [t for f in sorted((DATASETS / "github_bug_issues").glob("*.csv"))
              for t in pd.read_csv(f, usecols=["title"])["title"].dropna().tolist()]
    return {name: rng.sample(texts, n) for name, texts in
            {"banking77": banking, "twcs": tweets, "github": titles}.items()}


class ValueMaker:
    """Realistic PII values in several formats per type, from fixed seeds."""

    def __init__(self, seed: int):
        from faker import Faker
        from mimesis import Person
        from mimesis.locales import Locale

        self.rng = random.Random(seed)
        self.fakers = {loc: Faker(loc) for loc in set(FAKER_LOCALES + IBAN_LOCALES)}
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


def build_corpus(n_per_source: int, seed: int, pii_share: float = 0.6) -> tuple[list[Sample], list[str]]:
    rng = random.Random(seed)
    maker = ValueMaker(seed)
    samples, sources = [], []
    for source, texts in base_texts(n_per_source, rng).items():
        for text in texts:
            text, gold = " ".join(str(text).split()), []
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


def score(samples: list[Sample]) -> pd.DataFrame:
    gold_n, covered, pred_n, pred_tp = Counter(), Counter(), Counter(), Counter()
    for sample in samples:
        regions = _regions(detect(sample.text))
        for s, e, kind in sample.gold:
            gold_n[kind] += 1
            # An order label stays on purpose ("order [ORDER]"): only its digits must go.
            keep = str.isdigit if kind == "ORDER" else str.isalnum
            needed = [i for i in range(s, e) if keep(sample.text[i])]
            if all(any(rs <= i < re_ for rs, re_, _ in regions) for i in needed):
                covered[kind] += 1
        for rs, re_, kind in regions:
            pred_n[kind] += 1
            if any(rs < e and s < re_ for s, e, _ in sample.gold):
                pred_tp[kind] += 1
    rows = []
    for kind in ENTITIES:
        recall = covered[kind] / gold_n[kind] if gold_n[kind] else float("nan")
        precision = pred_tp[kind] / pred_n[kind] if pred_n[kind] else float("nan")
        target = TARGETS.get(kind)
        rows.append({"type": kind, "inserted": gold_n[kind], "recall": recall, "recall_target": target,
                     "predicted": pred_n[kind], "precision": precision,
                     "ok": "" if target is None else ("yes" if recall >= target else "NO")})
    total_pred, total_tp = sum(pred_n.values()), sum(pred_tp.values())
    rows.append({"type": "ALL", "inserted": sum(gold_n.values()),
                 "recall": sum(covered.values()) / max(1, sum(gold_n.values())), "recall_target": None,
                 "predicted": total_pred, "precision": total_tp / max(1, total_pred),
                 "ok": "yes" if total_tp / max(1, total_pred) >= PRECISION_TARGET else "NO"})
    return pd.DataFrame(rows)


def false_positives(samples: list[Sample], sources: list[str], limit: int = 15) -> list[str]:
    out = []
    for sample, source in zip(samples, sources, strict=True):
        for rs, re_, kind in _regions(detect(sample.text)):
            if not any(rs < e and s < re_ for s, e, _ in sample.gold):
                out.append(f"{source:9s} {kind:10s} {sample.text[rs:re_]!r}")
    return out[:limit]


def throughput(texts: list[str]) -> pd.DataFrame:
    """Tickets/s of full redaction against a reference in the same run: spaCy's blank tokenizer."""
    import spacy

    redact("warm up the engines: jane.doe@example.com")
    nlp = spacy.blank("en")
    t0 = time.perf_counter()
    for t in texts:
        nlp(t)
    tokenize = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        redact(t)
    full = time.perf_counter() - t0
    return pd.DataFrame([
        {"step": "reference: spaCy blank tokenizer", "tickets": len(texts), "seconds": tokenize,
         "tickets_per_s": len(texts) / tokenize, "x_reference_time": 1.0},
        {"step": "redact (Presidio analyzer + anonymizer)", "tickets": len(texts), "seconds": full,
         "tickets_per_s": len(texts) / full, "x_reference_time": full / tokenize},
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="base texts per source (3 sources)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not DATASETS.is_dir():
        raise SystemExit(f"needs the shared datasets at {DATASETS}")
    samples, sources = build_corpus(args.n, args.seed)
    table = score(samples)
    pd.set_option("display.width", 140)
    print(f"labelled corpus: {len(samples)} real ticket texts ({args.n} each from banking77, twcs, github titles), "
          f"{sum(len(s.gold) for s in samples)} inserted PII values, seed {args.seed}\n")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nfalse positives (first 15):")
    for line in false_positives(samples, sources):
        print("  " + line)
    print()
    print(throughput([s.text for s in samples]).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
