"""The spike, queue-surge and new-pattern alerts the code at hand raises on a warehouse's stored weeks, read-only.

    python -m bench.alert_replay WAREHOUSE [WAREHOUSE ...]

Each ranked week's alerts are computed again from the clustering and ranking the warehouse stores
(`load_week_context`, the week's `ranked_themes`, `families.detect`, as `theme_alerts` does, without
the release fields) under the spike rule a run resolves (`TICKET_INTEL_SPIKE_*` and the theme size, set or
the defaults: `configured`), one line per alert: week, kind, theme, label, tickets, baseline, ratio, p, since,
and whether it is paged (`paged`; `continuing` an event; `with queue`, told in the week's surge).
Run it with the code before and after a change to the alert statistics and compare the two outputs:
a re-run would cluster again, and its moved clusters would hide what the change alone did. A setting
replays the same way: `TICKET_INTEL_SPIKE_MIN_COUNT=0 python -m bench.alert_replay W` is the spike
test without its count floor on the weeks W stores.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import duckdb

from ticket_intel import settings
from ticket_intel.core import anomalies, families
from ticket_intel.core.anomalies import AlertSettings
from ticket_intel.defs.resources import AlertConfig, RankingConfig
from ticket_intel.warehouse import queries
from ticket_intel.warehouse.context import load_week_context


def configured() -> AlertSettings:
    """The spike rule and new-pattern size a run resolves: the configured settings, else the defaults."""
    settings.apply()
    ranking, alerts = (r.process_config_and_initialize() for r in (RankingConfig(), AlertConfig()))
    return alerts.settings(ranking)


def replay(con: duckdb.DuckDBPyConnection, rule: AlertSettings) -> list[str]:
    """One tab-separated line per alert of every ranked week, oldest week first, under `rule`."""
    window = settings.number("TICKET_INTEL_WINDOW_WEEKS")
    lines = []
    for week in queries.weeks_ranked(con):
        ctx = load_week_context(con, week, window)
        themes = anomalies.week_themes(ctx, queries.week_rows(con, "marts.ranked_themes", week, order="rank")
                                       .to_dict("records"))
        for a in families.detect(ctx, themes, rule):
            ratio = "" if a["ratio"] is None else f"{a['ratio']:.2f}"
            p = "" if a["p_value"] is None else f"{a['p_value']:.1e}"
            paged = "continuing" if anomalies.continuing(a) else "with queue" if a.get("with_queue") else "paged"
            related = ", ".join(map(str, a["related_theme_ids"])) if a["kind"] == "queue_surge" else ""
            lines.append("\t".join(map(str, (week, a["kind"], a["theme_id"], a["label"], a["tickets"],
                                             f"{a['baseline']:.1f}", ratio, p, a["since"] or "", paged, related))))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    rule = configured()
    for path in argv if argv is not None else sys.argv[1:]:
        with duckdb.connect(path, read_only=True) as con:
            print(f"# {path}", *replay(con, rule), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
