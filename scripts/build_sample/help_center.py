"""help_center/articles.json: a Zendesk Guide articles export with known coverage of the sample's intents.

- ``covered``: the card-activation article, published the week the planted deflection starts (customers ask
  less from then on);
- ``unfound``: the PIN article, published mid-sample while PIN questions keep coming at the same rate;
- ``draft``: a card-delivery article still in draft, which customers cannot find, so that intent stays a gap;
- an Apple Pay article that answers no intent of the sample.

Every other intent (the planted spike, new pattern and Enterprise segment among them) has no article: a gap.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .common import JSONDict, check, week_start
from .model import World
from .patterns.deflected import DEFLECTED

BASE_URL = "https://help.example-bank.com/hc/en-gb/articles"


@dataclass(frozen=True)
class Article:
    """One Guide article; ``intent`` is the banking77 intent it answers ("" for none)."""

    article_id: int
    title: str
    paragraphs: tuple[str, ...]
    created: datetime
    intent: str
    coverage: str  # what the sample promises: covered, unfound, draft or none
    draft: bool = False

    def record(self) -> JSONDict:
        """The article as Zendesk Guide exports it (HTML body, ISO times, draft flag)."""
        slug = "-".join(self.title.lower().replace("?", "").split())
        return {
            "id": self.article_id,
            "html_url": f"{BASE_URL}/{self.article_id}-{slug}",
            "title": self.title,
            "body": "".join(f"<p>{p}</p>" for p in self.paragraphs),
            "locale": "en-gb",
            "draft": self.draft,
            "created_at": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "section_id": 360000100,
        }


ARTICLES = (
    Article(360001, "How do I activate my card?", (
        "Your new card arrives inactive, so activate it before you use it.",
        "In the app, open Cards, tap the card you received and choose <b>Activate card</b>, then enter the last "
        "four digits of the card number. The card works as soon as it is activated.",
        "If the activation fails, update the app and try again.",
    ), datetime.combine(week_start(DEFLECTED.article_week), datetime.min.time(), tzinfo=UTC).replace(hour=8),
        DEFLECTED.intent, "covered"),
    Article(360002, "How do I change my PIN?", (
        "You can change your card PIN at any ATM that offers PIN services: insert your card, choose PIN services "
        "and then Change PIN.",
        "Enter your current PIN, then your new PIN twice. To set a new PIN you need your current PIN. Your new PIN "
        "works straight away for chip and PIN payments.",
    ), datetime(2026, 10, 13, 10, 0, tzinfo=UTC), "change_pin", "unfound"),
    Article(360003, "When will my card arrive?", (
        "Cards are posted within two working days of ordering and usually arrive within a week.",
        "You can track the delivery of your card in the app.",
    ), datetime(2026, 11, 18, 9, 0, tzinfo=UTC), "card_arrival", "draft", draft=True),
    Article(360004, "Paying with Apple Pay and Google Pay", (
        "Add your card to Apple Pay or Google Pay from the Cards screen in the app: tap Add to Wallet and follow "
        "the steps.",
        "You can then pay contactless with your phone or watch wherever contactless payments are accepted.",
    ), datetime(2026, 8, 14, 12, 0, tzinfo=UTC), "", "none"),
)


@dataclass(frozen=True)
class HelpCenterFile:
    """The export, and which intent each article answers."""

    name: str

    def render(self, world: World) -> str:
        """A Guide export page holding every article."""
        records = [a.record() for a in ARTICLES]
        document = {"articles": records, "count": len(records), "next_page": None, "page": 1, "page_count": 1}
        return json.dumps(document, ensure_ascii=False, indent=1) + "\n"

    def truth(self, world: World) -> JSONDict:
        """Per article: its id, title, the intent it answers, its promised coverage and publication time."""
        return {"help_center": [
            {"article_id": str(a.article_id), "title": a.title, "intent": a.intent or None, "coverage": a.coverage,
             "published_at": a.created.strftime("%Y-%m-%dT%H:%M:%SZ")}
            for a in ARTICLES
        ]}  # fmt: skip

    def verify(self, out: Path, truth: JSONDict) -> None:
        """The export holds every article; the covered one is published the week its intent's volume drops."""
        document = json.loads((out / self.name).read_text(encoding="utf-8"))
        check([a["id"] for a in document["articles"]] == [a.article_id for a in ARTICLES], "help-center articles")
        covered = next(a for a in truth["help_center"] if a["coverage"] == "covered")
        check(covered["published_at"][:10] == truth[DEFLECTED.key]["article_week"], covered)


HELP_CENTER = HelpCenterFile("help_center/articles.json")
