"""One week's insight stages, timed on a warehouse a run has built: the summaries, the ranking and
the alerts of the week's clustered window, each as its asset runs it for that week, against
loading the week's context (which every one of them reads) as the in-run reference.

Each stage writes the week's rows again, as re-materializing the week would (the writes replace
that week only; run it on a copy to keep a warehouse as it was). Without an LLM configured the
summaries are extractive, as offline.

    .venv/bin/python -m bench.week_stages --warehouse /tmp/b1m/cold_1000000/warehouse.duckdb --week 2025-03-10
"""

from __future__ import annotations

import argparse
from datetime import date

from bench.common import table, timed
from ticket_intel import settings
from ticket_intel import warehouse as wh
from ticket_intel.core import families
from ticket_intel.core import taxonomy as tax
from ticket_intel.defs.alerts import alerts_for_week
from ticket_intel.defs.ranking import product_inputs, rank_and_store
from ticket_intel.defs.resources import (
    AlertConfig,
    EmbeddingConfig,
    FindingsConfig,
    LLMConfig,
    RankingConfig,
    TriageConfig,
)
from ticket_intel.defs.summaries import summarize_week
from ticket_intel.run_inputs import theme_config

RUN_ID = "bench.week_stages"


def measure(path: str, week: date, window_weeks: int) -> list[tuple[str, float, str]]:
    """(stage, seconds, what it produced) for one week, the context load first."""
    settings.apply()  # the resources as a run resolves them: configured, or the defaults
    ranking, alerts, findings, llm, embedding, triage = (r.process_config_and_initialize() for r in (
        RankingConfig(), AlertConfig(), FindingsConfig(), LLMConfig(), EmbeddingConfig(), TriageConfig()))
    alerting, judged, escalation = alerts.settings(ranking), findings.settings(alerts), triage.escalation_rules()
    with wh.open_warehouse(path) as con:
        ctx, load = timed(lambda: wh.load_week_context(con, week, window_weeks))
        taxonomy = tax.load(ranking.taxonomy)
        summaries, summarize = timed(lambda: summarize_week(con, ctx, taxonomy, theme_config(), llm, llm.caller(), RUN_ID, ranking.min_week_tickets, escalation))
        inputs = product_inputs(con, embedding)
        ranked, rank = timed(lambda: rank_and_store(
            con, families.with_born_apart(ctx, alerting)[0], ranking.settings(), RUN_ID, inputs, judged, escalation))
        found, alert = timed(lambda: alerts_for_week(con, ctx, alerting, RUN_ID, judged.fix))
    return [("week context (reference)", load, f"{len(ctx.window):,} window tickets"),
            ("summaries", summarize, f"{len(summaries)} themes"),
            ("ranking", rank, f"{len(ranked.ranked)} ranked"),
            ("alerts", alert, f"{len(found)} alerts")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--week", required=True, type=date.fromisoformat, help="a clustered week (its Monday)")
    parser.add_argument("--window-weeks", type=int, default=int(settings.value("TICKET_INTEL_WINDOW_WEEKS")))
    args = parser.parse_args()
    rows = measure(args.warehouse, args.week, args.window_weeks)
    reference = rows[0][1]
    print(table([{"stage": name, "seconds": round(s, 1), "x context load": round(s / reference, 2), "output": what}
                 for name, s, what in rows]))


if __name__ == "__main__":
    main()
