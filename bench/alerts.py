"""Spike alerts on real weekly series: recall of injected spikes and false alerts on the rest.

Series come from ../shared/datasets/github_bug_issues (real bug reports, the author's login as
the customer): one weekly series per product, and one per PowerToys module (issues whose
title names the module: a theme-sized series of a few tickets a week). A module is born at its
first issue, as the pipeline treats a theme born without an ancestor. `swift-ci` (a bot that
migrated old JIRA issues) is left out.

False alerts: every week that has a baseline (>= `min_baseline_weeks` eligible weeks) is tested
on the untouched series; each alert counts as false, so real bursts in the data count against
us too and the rate is an upper bound. The baseline is the pipeline's: the window's weeks that did
not spike; `paged` leaves out the alerts that continue an earlier spike's event, which are
reported but not paged again. Quiet weeks cannot alert (2x a baseline of 1 is below
`min_count`) and would flatter the rate, so it is also given over the busy weeks alone: those
whose baseline x `min_ratio` reaches `min_count`. Recall: at every `stride`-th such week a spike of size m
is injected in two ways, each tested alone on an otherwise untouched series: `exact` sets the
week to round(m x baseline) (a spike of exactly m x), `added` adds round((m - 1) x baseline)
issues to the week's own count (m x on average; a quiet week makes it smaller). Only spikes of
at least `min_count` issues count: smaller ones are below the alerting floor by design. Both
tails run on the same weeks; Poisson, which the issue names, is the reference.

A week whose PowerToys queue surged (the product's issues spike against its usual weeks by the same
test) is one `queue_surge` alert: a module spike that week whose count does not also spike against
its baseline scaled by the queue around it (the other modules and the issues of none,
`anomalies.beyond_queue`) rose with the queue, reported in the surge but not paged on its own.
`paged` figures leave those out (`paged before`: the continuing weeks alone, as before surges were
told); recall is given as reported/paged. A product is a queue of its own, so its rows are unchanged.
A surge scenario multiplies the whole PowerToys queue by a factor drawn in `SURGE` at every
`stride`-th week, every module with it (every alert there is false), then adds a real
`SURGE_SPIKE`x spike on top. (A surge that is the paged modules' own, the queue less them not
spiking, is told as no surge in the pipeline; here every module and the rest surge together.)

Then two real weeks go through `anomalies.detect` itself, with distinct authors as customers:
PowerToys 2021-06-28 (a broad spike) and TensorFlow 2023-01-16 (84 issues, 72 from one account).

Last, new patterns next to old ones: 10-week scenarios from banking77's most similar intent pairs,
run week by week through clustering, identity, ranking and alerts, today's path against new groups
and split families in the same run (bench/adjacent.py).

    .venv/bin/python -m bench.alerts [--stride 3] [--pairs 12]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from bench import adjacent
from bench.common import SHARED, skipped_without, table
from ticket_intel.core import anomalies
from ticket_intel.core.context import make_context
from ticket_intel.core.review import ReviewState
from ticket_intel.core.weeks import week_start, window

DATASET = SHARED / "github_bug_issues"
BOTS = {"swift-ci"}
SIZES = (1.5, 2.0, 3.0, 5.0)
MODES = ("exact", "added")
RECALL_TARGET = 0.95  # for spikes of 3x and more
FALSE_TARGET = 5.0  # per 100 theme-weeks (1 in 20)
WINDOW_WEEKS = 8  # the pipeline's default clustering window
# PowerToys modules, as users name them in issue titles (module names from the PowerToys docs).
MODULES = {
    "FancyZones": r"fancy ?zones?|\bfz\b",
    "PowerToys Run": r"powertoys run|pt run|\[run\]|launcher",
    "Color Picker": r"colou?r ?picker",
    "Keyboard Manager": r"keyboard manager|\bkbm\b|remap",
    "PowerRename": r"power ?rename",
    "Image Resizer": r"image ?resizer",
    "Peek": r"\bpeek\b",
    "Awake": r"\bawake\b",
    "Settings": r"\bsettings\b",
    "File Explorer add-ons": r"preview pane|previewer|thumbnail|file explorer",
    "Shortcut Guide": r"shortcut guide",
    "Text Extractor": r"text extractor|\bocr\b",
    "Mouse utilities": r"find my mouse|mouse highlighter|crosshairs|mouse jump|mouse without borders",
    "Always On Top": r"always on top",
    "Hosts File Editor": r"hosts file|\bhosts editor\b",
    "Crashes": r"crash|watson|exception",
    "Installer and updates": r"\bupdate|install",
}
SURGE = (1.5, 2.5)  # the whole queue's factor in a surge week, drawn uniformly per week
SURGE_SPIKE = 3.0  # a real spike on top of a surge: this many times the module's own rate, times the surge
REAL_CASES = (("microsoft_PowerToys", date(2021, 6, 28)), ("TensorFlow_tensorflow", date(2023, 1, 16)))


def load() -> pd.DataFrame:
    frames = []
    for path in sorted(DATASET.glob("*.csv")):
        frame = pd.read_csv(path, usecols=["number", "title", "created_at", "creator_name"])
        frames.append(frame.assign(product=path.stem))
    issues = pd.concat(frames, ignore_index=True)
    issues = issues[~issues["creator_name"].isin(BOTS)]
    return issues.assign(week=week_start(issues["created_at"]), ticket_id=issues["product"] + "#" + issues["number"].astype(str))


def weekly(frame: pd.DataFrame, first: date, last: date) -> np.ndarray:
    """Counts for every week from `first` to `last` (zeros where nothing was filed)."""
    n = (last - first).days // 7 + 1
    counts = frame.groupby("week").size()
    return np.array([int(counts.get(first + timedelta(weeks=k), 0)) for k in range(n)])


def series(issues: pd.DataFrame) -> list[dict[str, object]]:
    """(name, kind, counts, index of the birth week or 0, the queue: its scope's total and the series
    around it) for products and PowerToys modules; a product is a queue of its own."""
    out = []
    for product, frame in issues.groupby("product"):
        first, last = frame["week"].min(), frame["week"].max()
        total = weekly(frame, first, last)
        out.append({"name": product, "kind": "product", "counts": total, "born": 0, "total": total,
                    "around": np.zeros((0, len(total)), dtype=int)})
        if product != "microsoft_PowerToys":
            continue
        titles = frame["title"].str.lower()
        matched = {m: titles.str.contains(p, regex=True, flags=re.IGNORECASE) for m, p in MODULES.items()}
        table_of = {m: weekly(frame[hit], first, last) for m, hit in matched.items()}
        rest = weekly(frame[~np.logical_or.reduce(list(matched.values()))], first, last)
        for module, hit in matched.items():
            born = (frame.loc[hit, "week"].min() - first).days // 7
            around = np.array([*(c for m, c in table_of.items() if m != module), rest])
            out.append({"name": module, "kind": "module", "counts": table_of[module], "born": born, "total": total,
                        "around": around})
    return out


def baseline_of(counts: np.ndarray, t: int, born: int, settings: anomalies.AlertSettings
                ) -> tuple[list[int], bool, list[int]]:
    """The baseline weeks before week index t as the pipeline takes them: the window's weeks since
    birth (first week = 0) that did not spike (`anomalies.spiked`); whether a spike at t continues
    an event (`anomalies.event_start`), not paged again; and those weeks' indices."""
    lo = max(born, t - WINDOW_WEEKS + 1, 0)
    history = [int(v) for v in counts[lo:t]]
    flags = anomalies.spiked(history, settings)
    kept = [lo + k for k, spiked in enumerate(flags) if not spiked][-settings.baseline_weeks:]
    return [int(counts[k]) for k in kept], anomalies.event_start(flags) is not None, kept


def with_queue(s: dict[str, object], count: int, t: int, kept: list[int], settings: anomalies.AlertSettings,
               total: np.ndarray | None = None, around: np.ndarray | None = None) -> bool:
    """Whether a spike of `count` at week t rose with a surge of its queue: the scope's total spiked
    against its usual weeks (`anomalies.against_usual`) and the count not against its baseline scaled
    by the queue around it (`anomalies.beyond_queue`); `total`, `around`: a surged copy of the series'."""
    total = s["total"] if total is None else total  # type: ignore[assignment]
    around = s["around"] if around is None else around  # type: ignore[assignment]
    history = [int(v) for v in total[max(t - WINDOW_WEEKS + 1, 0):t]]  # type: ignore[index]
    if not anomalies.against_usual(int(total[t]), history, settings)[0].is_spike:  # type: ignore[index]
        return False
    usual = [int(s["counts"][k]) for k in kept]  # type: ignore[index]
    return not anomalies.beyond_queue(count, usual, around[:, t], around[:, kept], settings)  # type: ignore[index]


def evaluate(all_series: list[dict[str, object]], settings: anomalies.AlertSettings, stride: int,
             ) -> dict[str, dict[str, object]]:
    """Per kind of series: theme-weeks tested, false alerts (those continuing an event, and those that
    rose with a surge of the queue), and hits/injections per (mode, size), reported and paged."""
    out: dict[str, dict[str, object]] = {}
    for kind in ("product", "module"):
        tested = alerts = continued = queued = busy = busy_alerts = 0
        hits = {(mode, m): 0 for mode in MODES for m in SIZES}
        injected, paged = dict(hits), dict(hits)
        for s in (s for s in all_series if s["kind"] == kind):
            counts, born = s["counts"], int(s["born"])  # type: ignore[call-overload]
            for t in range(born + 1, len(counts)):
                history, continues, kept = baseline_of(counts, t, born, settings)
                if len(history) < settings.min_baseline_weeks:
                    continue
                tested += 1
                fired = anomalies.spike_test(int(counts[t]), history, settings).is_spike
                alerts += fired
                continued += fired and continues
                queued += fired and not continues and with_queue(s, int(counts[t]), t, kept, settings)
                if np.mean(history) * settings.min_ratio >= settings.min_count:
                    busy += 1
                    busy_alerts += fired
                if t % stride:
                    continue
                base = float(np.mean(history))
                for m in SIZES:
                    if round(m * base) < settings.min_count:
                        continue
                    for mode, count in (("exact", round(m * base)), ("added", int(counts[t]) + round((m - 1) * base))):
                        injected[mode, m] += 1
                        hit = anomalies.spike_test(count, history, settings).is_spike
                        hits[mode, m] += hit
                        paged[mode, m] += hit and not with_queue(s, count, t, kept, settings, *_with(s, t, count))
        out[kind] = {"tested": tested, "alerts": alerts, "continued": continued, "queued": queued, "busy": busy,
                     "busy_alerts": busy_alerts, "hits": hits, "paged": paged, "injected": injected}
    return out


def _with(s: dict[str, object], t: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The series' scope total with week t's count at `count` (an injected spike is the queue's too)."""
    total = s["total"].copy()  # type: ignore[attr-defined]
    total[t] += count - int(s["counts"][t])  # type: ignore[index]
    return total, s["around"]  # type: ignore[return-value]


def surges(all_series: list[dict[str, object]], settings: anomalies.AlertSettings, stride: int, seed: int = 0
           ) -> dict[str, object]:
    """A week whose whole PowerToys queue is `SURGE` times its size (drawn per week), every module and the
    rest with it: at every `stride`-th week each module with a baseline is tested on its surged count
    (any alert is false), then with a real `SURGE_SPIKE`x spike on top (the module's own rate x the
    surge, added to its surged count; counted when it reaches `min_count`); reported and paged."""
    modules = [s for s in all_series if s["kind"] == "module"]
    weeks = len(modules[0]["counts"])  # type: ignore[arg-type]
    factors = np.random.default_rng(seed).uniform(*SURGE, size=weeks)
    tested = false = false_paged = injected = found = found_paged = 0
    for s in modules:
        counts, born = s["counts"], int(s["born"])  # type: ignore[call-overload]
        for t in range(born + 1, weeks, stride):
            surged, around, total = counts.copy(), s["around"].copy(), s["total"].copy()  # type: ignore[attr-defined]
            surged[t], around[:, t] = round(counts[t] * factors[t]), np.round(around[:, t] * factors[t])  # type: ignore[index]
            total[t] = round(total[t] * factors[t])
            history, _, kept = baseline_of(surged, t, born, settings)
            if len(history) < settings.min_baseline_weeks:
                continue
            tested += 1
            fired = anomalies.spike_test(int(surged[t]), history, settings).is_spike
            false += fired
            false_paged += fired and not with_queue({**s, "counts": surged}, int(surged[t]), t, kept, settings,
                                                    total, around)
            own = float(np.mean(counts[max(born, t - settings.baseline_weeks):t]))  # type: ignore[index]
            extra = round((SURGE_SPIKE - 1) * own * factors[t])
            if int(surged[t]) + extra < settings.min_count:
                continue
            injected += 1
            total[t] += extra
            hit = anomalies.spike_test(int(surged[t]) + extra, history, settings).is_spike
            found += hit
            found_paged += hit and not with_queue({**s, "counts": surged}, int(surged[t]) + extra, t, kept, settings,
                                                  total, around)
    return {"surged module-weeks": tested, "false /100 reported": 100 * false / tested if tested else 0.0,
            "false /100 paged": 100 * false_paged / tested if tested else 0.0,
            f"spikes {SURGE_SPIKE:g}x on top": injected,
            "recall reported": found / injected if injected else float("nan"),
            "recall paged": found_paged / injected if injected else float("nan")}


def rows(results: dict[str, dict[str, dict[str, object]]], mode: str) -> list[dict[str, object]]:
    """One row per (series kind, tail); false alerts also as a ratio to the Poisson reference."""
    out = []
    for kind in ("product", "module"):
        ref = results[anomalies.POISSON][kind]
        for tail, by_kind in results.items():
            r = by_kind[kind]
            rate = 100 * r["alerts"] / r["tested"]  # type: ignore[operator]
            row: dict[str, object] = {
                "series": kind, "tail": tail, "theme-weeks": r["tested"], "false /100": rate,
                "paged /100 before": 100 * (r["alerts"] - r["continued"]) / r["tested"],  # type: ignore[operator]
                "paged /100": 100 * (r["alerts"] - r["continued"] - r["queued"]) / r["tested"],  # type: ignore[operator]
                "false vs poisson": r["alerts"] / ref["alerts"] if ref["alerts"] else float("nan"),
                "busy weeks": r["busy"], "false /100 busy": 100 * r["busy_alerts"] / r["busy"] if r["busy"] else float("nan"),
            }
            for m in SIZES:
                n, hit, paged = r["injected"][mode, m], r["hits"][mode, m], r["paged"][mode, m]  # type: ignore[index]
                row[f"recall {m:g}x rep/paged (n)"] = f"{hit / n:.3f}/{paged / n:.3f} ({n})" if n else "-"
            out.append(row)
    return out


def real_case(issues: pd.DataFrame, product: str, week: date, settings: anomalies.AlertSettings) -> dict[str, object]:
    """Run the product's window ending at `week` through `detect`, the product as one theme."""
    frame = issues[issues["product"] == product]
    weeks = window(week, WINDOW_WEEKS)
    win = frame[frame["week"].isin(weeks)].rename(columns={"week": "ticket_week", "creator_name": "customer_id"})
    ctx = make_context(week, WINDOW_WEEKS, win.assign(theme_id=product), ReviewState(),
                       tracking_start=frame["week"].min())
    now = ctx.this_week
    theme = {"theme_id": product, "label": product, "tickets": len(now), "customers": now["customer"].nunique(),
             "example_ticket_ids": sorted(now["ticket_id"])[:3]}
    found = anomalies.detect(ctx, [theme], settings)
    spike = next((a for a in found if a["kind"] == anomalies.SPIKE), None)
    return {
        "week": f"{product} {week}", "tickets": theme["tickets"], "customers": theme["customers"],
        "alert": "spike" if spike else "none",
        "baseline": spike["baseline"] if spike else float("nan"),
        "ratio": spike["ratio"] if spike else float("nan"),
        "p": f"{spike['p_value']:.1e}" if spike else "-",
        "customer baseline": spike["customer_baseline"] if spike else float("nan"),
        "top customer": spike["top_customer_tickets"] if spike else "-",
        "concentrated": spike["concentrated"] if spike else "-",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=3, help="inject a spike at every n-th testable week")
    parser.add_argument("--pairs", type=int, default=adjacent.PAIRS,
                        help="adjacent banking77 intent pairs for the new-pattern scenarios (0 skips them)")
    parser.add_argument("--seeds", default=",".join(map(str, adjacent.SEEDS)),
                        help="comma-separated seeds of the adjacent-pair scenarios; the summary gives each and their mean")
    args = parser.parse_args(argv)
    if skipped_without(DATASET):
        return 0
    issues = load()
    all_series = series(issues)
    chosen = anomalies.AlertSettings()
    print(f"{len(issues)} issues; {sum(s['kind'] == 'product' for s in all_series)} product series, "
          f"{sum(s['kind'] == 'module' for s in all_series)} PowerToys module series; settings: ratio >= "
          f"{chosen.min_ratio}, p < {chosen.max_p_value}, count >= {chosen.min_count}, baseline = mean of the "
          f"last {chosen.baseline_weeks} eligible weeks (at least {chosen.min_baseline_weeks})\n")
    results = {tail: evaluate(all_series, replace(chosen, distribution=tail), args.stride)
               for tail in anomalies.DISTRIBUTIONS}
    print("Injected week set to m x its baseline (the spike is exactly m x):")
    print(table(rows(results, "exact"), "{:.2f}"))
    print("\nInjected issues added on top of the week's own count (the week is m x its baseline on average):")
    print(table(rows(results, "added"), "{:.2f}"))
    print(f"\ntargets: recall >= {RECALL_TARGET:.0%} for 3x and 5x, false alerts <= {FALSE_TARGET:g} per 100 "
          f"theme-weeks; shipped tail: {chosen.distribution}\n")
    print(f"\nA surge of the whole PowerToys queue ({SURGE[0]:g}-{SURGE[1]:g}x in one week, every module with it), "
          f"with and without a real {SURGE_SPIKE:g}x spike on top ({chosen.distribution}; 'reported' is the spike "
          "test alone, as before surges were told):")
    print(table([surges(all_series, chosen, args.stride)], "{:.2f}"))
    print()
    print(table([real_case(issues, product, week, chosen) for product, week in REAL_CASES], "{:.1f}"))
    if args.pairs:
        adjacent.report(args.pairs, [int(v) for v in args.seeds.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
