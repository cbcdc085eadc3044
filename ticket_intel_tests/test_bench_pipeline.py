"""The generated inbox of bench.pipeline (weekly export files, and a later week that joins it), and its run:
`ticket-intel run`'s own steps (plan, parse once, execute, the run's event log), which the cost model must
not fall behind, as it once did silently."""

from __future__ import annotations

import pandas as pd

from bench.common import in_fresh_process
from bench.pipeline import FIRST_ID, _steady_texts, build_inbox, run_stages, spread
from bench.synthetic import vectors_file

CORPUS = pd.DataFrame({"text": [f"my card number {i} was declined at the shop today" for i in range(40)]})


def test_spread_puts_every_ticket_in_its_weeks_with_quiet_weekends():
    created = spread(2_000, weeks=3, seed=1)
    days = (created - pd.Timestamp("2025-01-06")).dt.days
    assert days.between(0, 20).all()
    assert (created.dt.weekday >= 5).mean() < 2 / 7


def test_a_later_week_continues_the_ids_and_repeats_no_text(tmp_path):
    base = build_inbox(spread(60, weeks=2, seed=1), 1, tmp_path, CORPUS)
    both = build_inbox(spread(30, weeks=1, seed=2, first_week=2), 2, tmp_path, CORPUS, after=base)
    assert both.tickets["text"].is_unique and len(both.tickets) == 90
    assert list(both.tickets["source_id"]) == list(range(FIRST_ID, FIRST_ID + 90))
    assert len(both.weeks) == 3 and both.tickets["week"].iloc[60:].eq(both.weeks[-1]).all()
    files = sorted(p.name for p in tmp_path.glob("freshdesk_*.csv"))
    assert files == [f"freshdesk_{w.isoformat()}.csv" for w in both.weeks]
    last = pd.read_csv(tmp_path / files[-1])
    assert sorted(last["Ticket ID"]) == list(range(FIRST_ID + 60, FIRST_ID + 90))


def test_a_later_week_past_the_corpus_mixes_real_and_resampled_texts_as_the_earlier_weeks(tmp_path):
    """40 distinct texts, 120 tickets: two thirds are resamples in the warehouse and in its next week alike
    (drawn apart, the next week would be resamples only, and its themes would look grown)."""
    texts = _steady_texts(120, 1, CORPUS)
    base = build_inbox(spread(90, weeks=3, seed=1), 1, tmp_path, CORPUS, texts=texts.iloc[:90])
    both = build_inbox(spread(30, weeks=1, seed=2, first_week=3), 2, tmp_path, CORPUS, after=base,
                       texts=texts.iloc[90:])
    assert both.tickets["text"].is_unique and len(both.tickets) == 120
    new = both.tickets["perturbed"].iloc[90:]
    assert (~new).sum() > 0 and abs(new.mean() - both.tickets["perturbed"].iloc[:90].mean()) < 0.25
    old = build_inbox(spread(90, weeks=3, seed=1), 1, tmp_path / "apart", CORPUS)
    apart = build_inbox(spread(30, weeks=1, seed=2, first_week=3), 2, tmp_path / "apart", CORPUS, after=old)
    assert apart.tickets["perturbed"].iloc[90:].all()


def test_a_bench_run_times_the_plan_and_each_step_of_the_real_job(tmp_path):
    inbox = build_inbox(spread(40, weeks=2, seed=1), 1, tmp_path / "inbox", CORPUS)
    rows, _, _ = in_fresh_process(run_stages, str(tmp_path / "work"), str(inbox.folder),
                                  [w.isoformat() for w in inbox.weeks], ["raw_tickets"], [])
    assert [r["stage"] for r in rows][:3] == ["process start (imports)", "plan (run reads the inbox)", "raw_tickets"]
    assert all(r["seconds"] >= 0 and r["peak_rss_mb"] > 0 for r in rows)
    # a collection is counted in the interval it starts in, so it may end a moment after it
    assert all(0 <= r["gc_seconds"] <= r["seconds"] + 0.1 for r in rows)


def test_the_collector_s_time_is_counted_in_the_interval_it_ran_in():
    import gc
    import time

    from bench.pipeline import CollectorTime

    garbage = [[] for _ in range(200_000)]
    for item in garbage:
        item.append(item)  # a cycle: only the collector frees it
    with CollectorTime() as collector:
        before = time.time()
        del garbage
        gc.collect()
        after = time.time()
    assert collector.seconds(before, after) > 0
    assert collector.seconds(after, after + 60) == 0
    assert collector not in gc.callbacks


def test_each_corpus_keeps_its_vectors_in_its_own_file(tmp_path):
    """bench.scale on a limited corpus once overwrote the vectors a running bench.pipeline read."""
    cache = tmp_path / "real_vectors.npy"
    whole, part = vectors_file(cache, CORPUS), vectors_file(cache, CORPUS.iloc[:10])
    assert whole != part and whole.parent == part.parent == tmp_path
    assert vectors_file(cache, CORPUS.copy()) == whole
