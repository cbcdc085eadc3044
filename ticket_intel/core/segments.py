"""Is it only Enterprise customers? Segments over-represented in a theme.

For each theme and each value of a segment field (plan, account, channel, tag, product,
language) the share of the theme's tickets with that value is compared with its share among
all tickets of the period (the theme's included). Under "the theme draws its tickets at
random from the period", the theme's count with the value is hypergeometric; the upper tail
is the one-sided p-value. Tickets whose field is unknown count on neither side; a ticket
carries each of its tags, and a ticket without tags carries none. An undetermined language
(`und`: too short to tell) is unknown, not a language.

When themes are formed within each product (core/theme_week.py `Scopes`), a theme is compared
with its product's tickets (`scope`), not the whole queue's: every theme then holds one product by
construction, so "100% about prisma_prisma vs 18% of all tickets" restated how the themes were
formed (every claim on twcs and the GitHub issues was such a one), and "62% Enterprise" means
against that product's customers.

Many values are tested per theme and many themes per week, so p-values are adjusted with
Benjamini-Hochberg across the whole period (the false-discovery rate of every claim in the
report is held at `max_p_value`). The family holds only the tests that could support a claim
(Tarone's rule for discrete tests): at least `min_tickets` theme tickets could carry the
value, and the smallest p-value the test can reach is below the level. Tests that can never
succeed would only dilute the correction. A claim also needs `min_tickets` theme tickets in
the segment itself: no segment statement rests on three tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom

from ticket_intel.core.language import UNDETERMINED
from ticket_intel.core.vocabulary import NO_PRODUCT

# Segment field -> ticket column. Columns absent from the tickets are skipped.
FIELDS: Mapping[str, str] = {
    "plan": "plan", "account": "account_id", "channel": "channel", "tag": "tags", "product": "product",
    "language": "language",
}
COLUMNS = ["theme_id", "field", "value", "tickets", "theme_tickets", "share", "baseline_share", "p_value",
           "raw_p_value", "scope"]


@dataclass(frozen=True)
class SegmentSettings:
    min_tickets: int = 5  # theme tickets in the segment needed for a claim (as for a theme itself)
    max_p_value: float = 0.05  # false-discovery rate of the claims


def _long(tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per (ticket, field, value) with a known value; tags exploded."""
    parts = []
    for field, column in FIELDS.items():
        if column not in tickets:
            continue
        values = tickets[["ticket_id", "theme_id", "scope", column]].rename(columns={column: "value"})
        if field == "tag":
            values = values.explode("value")
        known = values["value"].map(lambda v: isinstance(v, str) and v.strip() not in ("", UNDETERMINED))
        values = values.loc[known.astype(bool)]  # a mask of no rows is an object Series, read as columns
        parts.append(values.assign(field=field, value=values["value"].str.strip()).drop_duplicates())
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["ticket_id", "theme_id", "scope", "value", "field"])


def _known(tickets: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Tickets whose field is known, per field, in the scope (`population`) and per theme (`theme_tickets`)."""
    per_field = long[["ticket_id", "theme_id", "scope", "field"]].drop_duplicates()
    if "tags" in tickets:  # every ticket is "known" for tags: no tag means it carries none
        per_field = pd.concat([per_field[per_field["field"] != "tag"],
                               tickets[["ticket_id", "theme_id", "scope"]].assign(field="tag")], ignore_index=True)
    population = per_field.groupby(["scope", "field"]).size().rename("population")
    in_theme = per_field.groupby(["theme_id", "scope", "field"]).size().rename("theme_tickets")
    return in_theme.reset_index().join(population, on=["scope", "field"])


def segment_tests(tickets: pd.DataFrame, settings: SegmentSettings = SegmentSettings()) -> pd.DataFrame:
    """Every testable (theme, field, value) of the period, with raw and BH-adjusted p-values.

    `tickets`: all tickets of the period with `ticket_id`, `theme_id` (None: unthemed, still
    part of the baseline), any of the FIELDS columns and, when themes are formed within products,
    `scope` (the ticket's product; a theme's tickets share one).
    """
    tickets = tickets if "scope" in tickets else tickets.assign(scope=NO_PRODUCT)
    long = _long(tickets)
    if not len(long):
        return pd.DataFrame(columns=COLUMNS)
    value_total = long.groupby(["scope", "field", "value"]).size().rename("value_total")
    themed = long[long["theme_id"].notna()]
    tests = (themed.groupby(["theme_id", "scope", "field", "value"]).size().rename("tickets").reset_index()
             .join(value_total, on=["scope", "field", "value"])
             .merge(_known(tickets, long), on=["theme_id", "scope", "field"]))
    most = np.minimum(tests["theme_tickets"], tests["value_total"])
    tests, most = tests[most >= settings.min_tickets], most[most >= settings.min_tickets]  # before the costly bound
    best_p = hypergeom.sf(most - 1, tests["population"], tests["value_total"], tests["theme_tickets"])
    tests = tests[best_p < settings.max_p_value].copy()
    if not len(tests):
        return pd.DataFrame(columns=COLUMNS)
    tests["raw_p_value"] = hypergeom.sf(tests["tickets"] - 1, tests["population"], tests["value_total"],
                                        tests["theme_tickets"])
    tests["p_value"] = false_discovery_control(tests["raw_p_value"].to_numpy(), method="bh")
    tests["share"] = tests["tickets"] / tests["theme_tickets"]
    tests["baseline_share"] = tests["value_total"] / tests["population"]
    return tests[COLUMNS].reset_index(drop=True)


def over_represented(tickets: pd.DataFrame, settings: SegmentSettings = SegmentSettings()) -> pd.DataFrame:
    """The segment claims of the period: adjusted p below the level, at least `min_tickets`
    theme tickets in the segment, strongest first within each theme."""
    tests = segment_tests(tickets, settings)
    claims = tests[(tests["p_value"] < settings.max_p_value) & (tests["tickets"] >= settings.min_tickets)
                   & (tests["share"] > tests["baseline_share"])]
    return claims.sort_values(["theme_id", "p_value", "share"], ascending=[True, True, False]).reset_index(drop=True)


def segment_records(claims: pd.DataFrame, theme_id: str) -> list[dict[str, Any]]:
    """A theme's claims as `{field, value, share, baseline_share, p_value, scope}` (the JSON contract)."""
    rows = claims[claims["theme_id"] == theme_id]
    return [{"field": r.field, "value": r.value, "share": float(r.share), "baseline_share": float(r.baseline_share),
             "p_value": float(r.p_value), "scope": r.scope} for r in rows.itertuples()]


_PHRASE = {"plan": "{value}", "account": "from account {value}", "channel": "via {value}",
           "tag": "tagged {value}", "product": "about {value}", "language": "in {value}"}


def segment_sentence(record: Mapping[str, Any]) -> str:
    """'62% Enterprise vs 18% of all tickets, p = 0.0003' ('of all Acme Pay tickets' within a product)."""
    value = str(record["value"])
    what = _PHRASE[record["field"]].format(value=value.title() if record["field"] == "plan" else value)
    scope = record.get("scope") or NO_PRODUCT
    of = f"all {scope} tickets" if scope != NO_PRODUCT else "all tickets"
    return f"{record['share']:.0%} {what} vs {record['baseline_share']:.0%} of {of}, p = {record['p_value']:.2g}"
