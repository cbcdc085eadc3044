"""Offline triage of single tickets: category, urgency, sentiment, escalation and routing.

Category: keyword rule families (`triage_rules`) vote for the categories that list them in
`triage.yaml`, and the first category in the file's precedence order wins; a ticket no rule
speaks for goes to the category whose descriptions its embedding is closest to (zero-shot, with
the same encoder as the tickets). The subcategory is the first whose rules match, else the
nearest by embedding. Sentiment is VADER's compound score (its lexicon ships in the package);
severity, escalation signals and frustration are rules; urgency follows from severity and
escalation; routing from `routing.yaml`. Confidence is high when rules and embedding agree;
`needs_review` marks low confidence and conflicting signals, and tickets outside the rules' first
language (English): the escalation signals (escalation.yaml) and the theft and lost-card severity
also read German, French, Spanish, Italian, Portuguese and Dutch, and the rule families and the P1
and P2 severity rules German, French and Spanish (families.yaml), each in its own tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core import triage_fallback as learned_model
from ticket_intel.core import triage_rules as rules
from ticket_intel.core.meaning import unread
from ticket_intel.core.parallel import forked_map
from ticket_intel.core.triage_config import Category, Routing, TriageTaxonomy, load_taxonomy
from ticket_intel.core.vocabulary import FRUSTRATION_LEVELS

Encode = Callable[[Sequence[str]], np.ndarray]
# Softmax temperature over cosine similarities: MiniLM cosines of one text to different
# descriptions differ by hundredths, so 0.05 turns a 0.1 lead into a clear preference.
TEMPERATURE = 0.05
REVIEW_BELOW = 0.5
# A ticket no rule speaks for has no problem, question or request in it: that is evidence for
# the fallback category, worth this much cosine similarity (chosen on the labelled dev split).
FALLBACK_PRIOR = 0.08
RULE_LANGUAGES = frozenset({"en", "eng", "english"})
# Tickets per worker below which forking workers for the rules costs more than it saves: a ticket's
# rules take about 0.35 ms (a week of 10,000: 3.6 s in one process, 2.3 s on two forked workers),
# against 0.15-0.9 s to start and stop two forks of a pipeline's process.
POOL_MIN_TICKETS = 5_000
OUTPUT_COLUMNS = [
    "ticket_id", "category", "subcategory", "signal_type", "severity", "urgency", "sentiment",
    "frustration", "escalation", "escalation_signals", "churn_risk", "language", "product_area",
    "assigned_team", "sla_hours", "escalated", "confidence", "needs_review", "triage_source",
]


@dataclass(frozen=True)
class ZeroShot:
    """Unit vectors of every description sentence, the (category, subcategory) each belongs to, and
    the learned model for tickets no rule speaks for when it fits this encoder and taxonomy."""

    keys: list[tuple[str, str]]
    vectors: np.ndarray
    fallback: learned_model.Fallback | None = None

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(self.keys))

    @cached_property
    def columns(self) -> list[np.ndarray]:
        """Per pair, the rows of `vectors` that describe it (found once, not per ticket: a server
        scores one ticket at a time)."""
        owner = np.array([self.pairs.index(k) for k in self.keys])
        return [np.flatnonzero(owner == j) for j in range(len(self.pairs))]


def zero_shot_index(
    taxonomy: TriageTaxonomy, encode: Encode, artefact: Path | None = learned_model.ARTEFACT,
) -> ZeroShot:
    """Embed the descriptions once: each subcategory's sentences plus its category's; attach the
    learned fallback at `artefact` (None: none) when it fits this encoder and taxonomy."""
    keys, sentences = [], []
    for cat in taxonomy.categories:
        for sub in cat.subcategories:
            for sentence in [*sub.description, *cat.description]:
                keys.append((cat.name, sub.name))
                sentences.append(sentence)
    fallback = learned_model.load(artefact) if artefact is not None else None
    return ZeroShot(keys, np.asarray(encode(sentences), dtype=np.float32),
                    learned_model.usable(fallback, encode, [c.name for c in taxonomy.categories]))


def learned_scores(index: ZeroShot, vectors: np.ndarray) -> list[dict[str, float]] | None:
    """Per ticket, the learned fallback's probability of each category (None without one)."""
    if index.fallback is None:
        return None
    return [dict(zip(index.fallback.classes, row.tolist(), strict=True)) for row in index.fallback.proba(vectors)]


def pair_scores(index: ZeroShot, vectors: np.ndarray) -> np.ndarray:
    """Cosine of each ticket to its closest sentence of each (category, subcategory) pair."""
    sims = np.asarray(vectors, dtype=np.float32) @ index.vectors.T
    out = np.full((len(sims), len(index.pairs)), -1.0, dtype=np.float32)
    for j, rows in enumerate(index.columns):
        out[:, j] = sims[:, rows].max(axis=1)
    return out


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = np.exp((scores - scores.max()) / TEMPERATURE)
    return z / z.sum()


@dataclass(frozen=True)
class Choice:
    category: str
    subcategory: str
    confidence: float
    conflict: bool


def choose(
    taxonomy: TriageTaxonomy, found: frozenset[str], pair_sims: dict[tuple[str, str], float] | None,
    learned: dict[str, float] | None = None,
) -> Choice:
    """Category and subcategory of one ticket from its rule families and (optionally) similarities;
    a ticket no rule speaks for takes the learned fallback's category when there is one, else the
    most similar description's."""
    voted = [c for c in taxonomy.categories if found & set(c.rules)]
    names = [c.name for c in taxonomy.categories]
    embed = None
    if pair_sims:
        per_category = _best_by_category(pair_sims)
        best = np.array([per_category[name] for name in names])
        embed = _softmax(best)
    if voted:
        cat = voted[0]
        agree = embed is None or names[int(np.argmax(embed))] == cat.name
        p = 1.0 if embed is None else float(embed[names.index(cat.name)])
        confidence = 0.55 + 0.3 * p + 0.15 * agree - 0.1 * (len(voted) > 1)
        conflict = embed is not None and not agree and float(embed.max()) >= 0.6 and p < 0.1
    elif learned:
        allowed = np.array([c.zero_shot for c in taxonomy.categories])
        probs = np.where(allowed, [learned.get(name, 0.0) for name in names], 0.0)
        cat = taxonomy.category(names[int(np.argmax(probs))])
        confidence, conflict = 0.8 * float(probs.max() / max(probs.sum(), 1e-12)), False
    elif embed is not None:
        allowed = np.array([c.zero_shot for c in taxonomy.categories])
        prior = FALLBACK_PRIOR * (np.array(names) == taxonomy.fallback)
        unvoted = _softmax(np.where(allowed, best + prior, -np.inf))
        cat = taxonomy.category(names[int(np.argmax(unvoted))])
        confidence, conflict = 0.8 * float(unvoted.max()), False
    else:
        cat, confidence, conflict = taxonomy.category(taxonomy.fallback), 0.3, False
    return Choice(cat.name, _subcategory(cat, found, pair_sims), round(min(confidence, 1.0), 3), conflict)


def _best_by_category(pair_sims: dict[tuple[str, str], float]) -> dict[str, float]:
    """Each category's highest similarity over its subcategories, in one pass over the pairs (triage
    runs this for every ticket)."""
    best: dict[str, float] = {}
    for (category, _), sim in pair_sims.items():
        if category not in best or sim > best[category]:
            best[category] = sim
    return best


def _subcategory(cat: Category, found: frozenset[str], pair_sims: dict[tuple[str, str], float] | None) -> str:
    """First subcategory whose rules match; else the category's catch-all (a subcategory without
    rules); else the nearest by embedding; else the first."""
    for sub in cat.subcategories:
        if found & set(sub.rules):
            return sub.name
    catch_all = next((s.name for s in cat.subcategories if not s.rules), None)
    if catch_all is None and pair_sims:
        return max(cat.subcategories, key=lambda s: pair_sims[(cat.name, s.name)]).name
    return catch_all or cat.subcategories[0].name


@lru_cache(maxsize=1)
def default_taxonomy() -> TriageTaxonomy:
    """The shipped triage.yaml: what theme summaries use when no triage results are passed in."""
    return load_taxonomy()


def signal_and_severity(text: str, taxonomy: TriageTaxonomy | None = None,
                        escalation: rules.Escalation = rules.ESCALATION_RULES) -> tuple[str, str, str]:
    """(signal type, severity, reason) of one ticket from rules alone, as triage would give them
    without embeddings; `escalation`: the signals' rules triage reads (`triage_rules.load_escalation`)."""
    taxonomy = taxonomy or default_taxonomy()
    words = rules.clean(text)
    choice = choose(taxonomy, rules.families(words), None)
    signal = taxonomy.signal_type(choice.category, choice.subcategory)
    mood = sentiment(words)
    escalating = bool(rules.escalation_signals(words, mood, escalation))
    return (signal, *rules.severity(words, signal, mood, escalating))


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


# A word VADER scores this positive on its own (happy 2.7, great 3.1, love 3.2; free 2.3, help 1.7
# stay below) praises; it says how customers feel, never what they write about.
STRONG_PRAISE = 2.5


def praises(word: str) -> bool:
    """Whether a lower-case word is strong praise on its own (`STRONG_PRAISE`)."""
    return float(_vader().lexicon.get(word, 0.0)) >= STRONG_PRAISE


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1] (negative = unhappy)."""
    return round(float(_vader().polarity_scores(text)["compound"]), 4)


def _emotion(words: str, score: float) -> float:
    """Sentiment of the words around the problem (`rules.without_problem_words`). When no word names
    a problem that is the same text, so `score` (the sentiment of all the words) is reused: a VADER
    call costs as much as all the rules of a ticket."""
    calm = rules.without_problem_words(words)
    return score if calm == words else sentiment(calm)


def route(routing: Routing, category: str, urgency: str, signals: Sequence[str], frustration: str) -> dict:
    """assigned_team, sla_hours and escalated: escalated when P1, an escalation signal, or angry."""
    lane = routing.route(category)
    angry = FRUSTRATION_LEVELS.index(frustration) >= FRUSTRATION_LEVELS.index(routing.escalate_at_frustration)
    escalated = urgency == "P1" or bool(signals) or angry
    return {"assigned_team": lane.escalation_team if escalated else lane.team,
            "sla_hours": float(lane.sla_hours[urgency]), "escalated": escalated}


def triage_one(
    text: str, taxonomy: TriageTaxonomy, routing: Routing,
    pair_sims: dict[tuple[str, str], float] | None = None, language: str | None = None,
    learned: dict[str, float] | None = None, words: str | None = None, unread: bool = False,
    escalation: rules.Escalation = rules.ESCALATION_RULES,
) -> dict:
    """Every triage field of one redacted ticket (without ids), from rules, optional similarities
    and the optional learned fallback's category probabilities (`learned_scores`); `words` is
    `rules.clean(text)` when the caller has it. `unread`: the ticket has nothing to read (a bare
    greeting, a chat's placeholder, a call's record without its words; its text for meaning is
    empty), where the rules' reading is no finding and a person has to look. `escalation`: the
    signals' rules (`triage_rules.load_escalation`)."""
    words = rules.clean(text) if words is None else words
    choice = choose(taxonomy, rules.families(words, language), pair_sims, learned)
    signal_type = taxonomy.signal_type(choice.category, choice.subcategory)
    score = sentiment(words)
    signals = rules.escalation_signals(words, score, escalation)
    level, _ = rules.severity(words, signal_type, score, bool(signals), language)
    mood = rules.frustration(text, _emotion(words, score), signals)
    urgency = rules.urgency_of(level, bool(signals))
    foreign = language is not None and str(language).lower() not in RULE_LANGUAGES
    mixed = score >= 0.5 and bool(set(signals) & {"strong_negative", "legal_threat", "public_complaint"})
    confidence = min(choice.confidence, 0.4) if foreign else choice.confidence
    return {
        "category": choice.category, "subcategory": choice.subcategory,
        "signal_type": signal_type,
        "severity": level, "urgency": urgency, "sentiment": score, "frustration": mood,
        "escalation": bool(signals), "escalation_signals": signals,
        "churn_risk": rules.churn_risk(signals, mood), "language": language,
        **route(routing, choice.category, urgency, signals, mood),
        "confidence": confidence,
        "needs_review": confidence < REVIEW_BELOW or choice.conflict or mixed or foreign or unread,
        "triage_source": "offline",
    }


def triage(
    frame: pd.DataFrame, taxonomy: TriageTaxonomy, routing: Routing,
    encode: Encode | None = None, vectors: np.ndarray | None = None,
    area_of: Callable[[str, list[str], str | None], str] | None = None, index: ZeroShot | None = None,
    escalation: rules.Escalation = rules.ESCALATION_RULES,
) -> pd.DataFrame:
    """One triage row per ticket of `frame` (ticket_id, text; optional language, tags, product, and
    meaning_text: a ticket with nothing to read needs review).

    `encode` embeds the category descriptions (unless `index` holds them already, as a server
    keeps it) and the texts, unless `vectors` has the tickets' embeddings (row-aligned); without
    `encode`, categories come from rules alone. `area_of(text, tags, product)`: the product-area
    hook (e.g. the taxonomy.yaml matcher); `escalation`: the signals' rules.
    """
    texts = frame["text"].fillna("").astype(str).tolist()
    words = [rules.clean(t) for t in texts]
    nothing = unread(frame).tolist()
    sims = learned = None
    if encode is not None:
        index = index or zero_shot_index(taxonomy, encode)
        vectors = vectors if vectors is not None else encode(words)
        sims = [dict(zip(index.pairs, row.tolist(), strict=True)) for row in pair_scores(index, vectors)]
        learned = learned_scores(index, vectors)
    languages = frame["language"].tolist() if "language" in frame else [None] * len(frame)
    tags = frame["tags"].tolist() if "tags" in frame else [None] * len(frame)
    products = frame["product"].tolist() if "product" in frame else [None] * len(frame)
    rules.judge_swearing(words)

    def rows_of(start: int, stop: int) -> list[dict]:
        rows = []
        for i in range(start, stop):
            row = triage_one(texts[i], taxonomy, routing, sims[i] if sims else None, languages[i],
                             learned[i] if learned else None, words[i], nothing[i], escalation)
            row["product_area"] = area_of(texts[i], list(tags[i]) if tags[i] is not None else [],
                                          products[i] if isinstance(products[i], str) else None) if area_of else None
            rows.append(row)
        return rows
    rows = forked_map(rows_of, len(texts), POOL_MIN_TICKETS)
    out = pd.DataFrame(rows, columns=[c for c in OUTPUT_COLUMNS if c != "ticket_id"])
    out.insert(0, "ticket_id", frame["ticket_id"].tolist() if "ticket_id" in frame else range(len(frame)))
    return out
