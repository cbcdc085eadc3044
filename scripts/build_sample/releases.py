"""releases.csv: the product's releases (``released_at,version,notes``), two of them right before a planted
pattern: the new pattern starts two days after 4.2, and the declined-payments spike the day after 4.2.1."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .common import JSONDict, check
from .model import World
from .patterns.new_pattern import NEW_PATTERN
from .patterns.spike import SPIKE

HEADER = ("released_at", "version", "notes")
# (UTC time, version, notes), oldest first. Fixed in code like every date of the sample.
RELEASES = (
    (datetime(2026, 9, 2, 10, 0, tzinfo=UTC), "4.0", "New home screen; spending insights"),
    (datetime(2026, 9, 30, 10, 0, tzinfo=UTC), "4.1", "Faster transfers to saved beneficiaries"),
    (datetime(2026, 10, 21, 10, 0, tzinfo=UTC), "4.1.1", "Fixes for top-up notifications"),
    (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "4.2", "Virtual cards: new card tokens for online payments"),
    (datetime(2026, 11, 9, 7, 0, tzinfo=UTC), "4.2.1", "Card payments move to the new authorisation service"),
)
FOLLOWED_BY = {"4.2": NEW_PATTERN.intent, "4.2.1": SPIKE.intent}  # release -> the pattern that follows it


@dataclass(frozen=True)
class ReleasesFile:
    """The releases, and which planted pattern follows which release by how many whole days."""

    name: str

    def render(self, world: World) -> str:
        """One row per release, oldest first, times in ISO 8601 UTC."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for when, version, notes in RELEASES:
            writer.writerow((when.strftime("%Y-%m-%dT%H:%M:%SZ"), version, notes))
        return buffer.getvalue()

    def truth(self, world: World) -> JSONDict:
        """Per release followed by a pattern: its intent and the whole days from the release to the intent's
        first ticket after it."""
        released = {version: when for when, version, _ in RELEASES}
        follows = []
        for version, intent in FOLLOWED_BY.items():
            first = min(t.created for t in world.tickets if t.intent == intent and t.created >= released[version])
            follows.append({"version": version, "intent": intent, "days_after": (first - released[version]).days})
        return {"releases": follows}

    def verify(self, out: Path, truth: JSONDict) -> None:
        """Every release row as planned, and each followed pattern within the week after its release."""
        with (out / self.name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        check([r["version"] for r in rows] == [version for _, version, _ in RELEASES], rows)
        check(all(0 <= f["days_after"] < 7 for f in truth["releases"]), truth["releases"])


RELEASES_FILE = ReleasesFile("releases.csv")
