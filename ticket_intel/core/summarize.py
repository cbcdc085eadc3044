"""Per-theme summaries: the offline extractive summariser and the shared summary schema.

Both summarisers (this one and `llm.py`) fill `ThemeSummary`, so ranking and the report never
care which produced a summary. The extractive one labels a theme by its class-based TF-IDF
terms (what is frequent in this theme and rare in the others), picks representative tickets
nearest the centroid, diverse phrasings by maximal marginal relevance, and severity / signal
type by transparent keyword rules that a reviewer can read and argue with.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
SIGNAL_TYPES = ("bug", "feature_gap", "ux_friction", "docs_gap", "expectation_mismatch", "billing", "other")
_PLACEHOLDER_WORDS = {"email", "phone", "card_number", "person", "order", "url", "iban", "ssn", "ip_address"}


class BacklogItem(BaseModel):
    title: str
    user_story: str
    severity: str
    deflection_per_week: float = Field(ge=0)


class ThemeSummary(BaseModel):
    label: str
    shared_issue: str
    phrasings: list[str]
    severity: str
    severity_rationale: str
    signal_type: str
    backlog: BacklogItem
    example_ticket_ids: list[str]
    terms: list[str] = []
    summarizer: str = "extractive"


@dataclass
class ThemeDocs:
    """What a summariser gets for one theme: its tickets (redacted), vectors and volume."""

    theme_id: str
    ticket_ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    tickets_per_week: float
    terms: list[str] = field(default_factory=list)


# Transparent rules: (pattern, severity, why). First match wins; escalation bumps one level.
_SEVERITY_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\b(hack(ed)?|fraud|stolen|unauthori[sz]ed|security|data (leak|breach)|outage)\b", re.I),
     "P0", "mentions fraud, theft or a security problem"),
    (re.compile(r"\b(lost|can'?t|cannot|unable|blocked|locked out|declined|failed|not working|"
                r"doesn'?t work|missing|never arrived|charged twice|wrong amount)\b", re.I),
     "P1", "customers are blocked from a core task"),
    (re.compile(r"\b(error|problem|issue|pending|delay(ed)?|still|waiting|slow|fee|charge[ds]?)\b", re.I),
     "P2", "a degraded experience customers notice"),
    (re.compile(r"\b(how (do|can|to)|what|where|when|is it possible|can i)\b", re.I),
     "P3", "a question about how the product works"),
]
_ESCALATION = re.compile(r"\b(cancel|close my account|refund|chargeback|lawyer|legal|complain|ombudsman)\b", re.I)

_SIGNAL_RULES: dict[str, re.Pattern[str]] = {
    "bug": re.compile(r"\b(error|not working|doesn'?t work|isn'?t working|broken|crash|failed|fails|bug|declined|won'?t)\b", re.I),
    "billing": re.compile(r"\b(charged?|fee|refund|invoice|billing|payment|exchange rate|top.?up)\b", re.I),
    "feature_gap": re.compile(r"\b(is it possible|can i|could you add|would like|wish|support for|do you (offer|support)|option to)\b", re.I),
    "ux_friction": re.compile(r"\b(confus\w*|hard to|where (is|do|can)|can'?t find|how do i change|too many steps)\b", re.I),
    "docs_gap": re.compile(r"\b(how (do|can|to)|what is|what are|explain|documentation|guide|requirements?)\b", re.I),
    "expectation_mismatch": re.compile(r"\b(why|expected|supposed to|still|haven'?t|not yet)\b", re.I),
}
_BACKLOG_VERB = {
    "bug": "Fix", "billing": "Clarify", "feature_gap": "Add support for", "ux_friction": "Simplify",
    "docs_gap": "Document", "expectation_mismatch": "Set expectations for", "other": "Investigate",
}
_DEFLECTION_RATE = {
    "bug": 0.8, "billing": 0.5, "feature_gap": 0.3, "ux_friction": 0.5, "docs_gap": 0.6,
    "expectation_mismatch": 0.5, "other": 0.2,
}


def _tokenize_placeholders(text: str) -> str:
    """[CARD] etc. are redaction artefacts, not themes: keep them out of the vocabulary."""
    return re.sub(r"\[[A-Z_]+\]", " ", text)


def class_tfidf_terms(docs_by_theme: dict[str, list[str]], top_n: int = 8) -> dict[str, list[str]]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in a theme and rare across themes."""
    from sklearn.feature_extraction.text import CountVectorizer

    theme_ids = list(docs_by_theme)
    joined = [_tokenize_placeholders(" ".join(docs_by_theme[t])) for t in theme_ids]
    if not theme_ids or not any(j.strip() for j in joined):
        return {t: [] for t in theme_ids}
    vectorizer = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b")
    try:
        counts = vectorizer.fit_transform(joined).toarray().astype(float)
    except ValueError:
        return {t: [] for t in theme_ids}
    vocab = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    avg_words = counts.sum() / len(theme_ids)
    idf = np.log(1 + avg_words / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    out = {}
    for i, t in enumerate(theme_ids):
        ranked = [vocab[j] for j in np.argsort(-scores[i]) if scores[i, j] > 0]
        terms: list[str] = []
        for term in ranked:
            if term in _PLACEHOLDER_WORDS:
                continue
            # Skip a unigram already covered by a chosen bigram, and vice versa.
            if any(term in chosen.split() or chosen in term.split() for chosen in terms):
                continue
            terms.append(term)
            if len(terms) == top_n:
                break
        out[t] = terms
    return out


def representatives(vectors: np.ndarray, k: int) -> list[int]:
    """Rows nearest the theme centroid."""
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return list(np.argsort(-(vectors @ centroid), kind="stable")[:k])


def mmr(vectors: np.ndarray, k: int, diversity: float = 0.5) -> list[int]:
    """Maximal marginal relevance: central but mutually different rows."""
    if len(vectors) == 0:
        return []
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    relevance = vectors @ centroid
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(k, len(vectors)):
        redundancy = (vectors @ vectors[chosen].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def severity_of(texts: Sequence[str]) -> tuple[str, str]:
    """The most common rule-based severity, bumped one level if many tickets escalate."""
    votes: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for text in texts:
        for pattern, level, why in _SEVERITY_RULES:
            if pattern.search(text):
                votes[level] += 1
                reasons[level] = why
                break
        else:
            votes["P4"] += 1
            reasons["P4"] = "no sign of impact on the customer"
    level = min(votes, key=lambda lv: (-votes[lv], lv))
    why = reasons[level]
    escalating = sum(bool(_ESCALATION.search(t)) for t in texts)
    if texts and escalating / len(texts) >= 0.2 and level != "P0":
        level = SEVERITIES[SEVERITIES.index(level) - 1]
        why += f"; {escalating} tickets threaten to cancel, ask for refunds or escalate"
    return level, why


def signal_type_of(texts: Sequence[str]) -> str:
    votes: Counter[str] = Counter()
    for text in texts:
        for kind, pattern in _SIGNAL_RULES.items():
            if pattern.search(text):
                votes[kind] += 1
    if not votes:
        return "other"
    return min(votes, key=lambda k: (-votes[k], SIGNAL_TYPES.index(k)))


def label_from_terms(terms: Sequence[str]) -> str:
    if not terms:
        return "Unlabelled theme"
    head = terms[:3]
    return (head[0][:1].upper() + head[0][1:]) + (f" ({', '.join(head[1:])})" if len(head) > 1 else "")


def extractive_summary(doc: ThemeDocs, n_examples: int = 3, n_phrasings: int = 4) -> ThemeSummary:
    reps = representatives(doc.vectors, n_examples)
    phrasings = [doc.texts[i] for i in mmr(doc.vectors, n_phrasings)]
    severity, why = severity_of(doc.texts)
    signal = signal_type_of(doc.texts)
    label = label_from_terms(doc.terms)
    topic = ", ".join(doc.terms[:3]) or "this theme"
    central = doc.texts[reps[0]] if reps else ""
    return ThemeSummary(
        label=label,
        shared_issue=(
            f"{len(doc.texts)} tickets are about {topic}. "
            f"The most typical one reads: \u201c{_shorten(central, 160)}\u201d"
        ),
        phrasings=[_shorten(p, 200) for p in phrasings],
        severity=severity,
        severity_rationale=why,
        signal_type=signal,
        backlog=BacklogItem(
            title=_shorten(f"{_BACKLOG_VERB[signal]} {doc.terms[0] if doc.terms else 'this issue'}", 60),
            user_story=(
                f"As a customer I want {topic} to work the way I expect "
                f"so that I do not need to contact support"
            ),
            severity=severity,
            deflection_per_week=round(doc.tickets_per_week * _DEFLECTION_RATE[signal], 1),
        ),
        example_ticket_ids=[doc.ticket_ids[i] for i in reps],
        terms=list(doc.terms),
        summarizer="extractive",
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
