"""Cost model of a whole run: each stage's seconds, peak RSS and growth with volume, next to embedding alone.

    python -m bench.pipeline [--sizes 10000,50000,200000,1000000] [--embed-up-to 10000] [--weeks 10]
                             [--incremental 100000,10000] [--workdir /tmp/ticket_intel_bench/pipeline]
    python -m bench.pipeline --workdir COPY --rerun WEEK

What runs is the real thing: a generated inbox of weekly Freshdesk CSV exports (real customer texts from
../shared/datasets through `bench.synthetic.tickets`, spread over --weeks weeks with weekday and office-hour
peaks, customers with a long tail) goes through `ticket-intel run`'s own steps (`runner.inbox_weeks` inside
`staging.parse_once`, `runner.plan_weeks`, `cli.execute`: the real `weekly_job` on a real Dagster instance,
in-process, as a single-run backfill of every week) in a fresh process. Each stage is one Dagster step; its seconds come from
the run's event log, and its peak RSS from a thread that samples and resets the process's high-water mark
(`/proc/self/clear_refs`), so each stage's peak is its own.

Embedding: "embedding alone" is `adapters.encoder.encode` of the same texts the stage embeds (its redacted
texts for meaning), in a fresh process with the model loaded before timing. Up to --embed-up-to tickets the
run starts from an empty embedding cache and embeds everything (all measured). Above it, embedding that many
texts would take hours on this shared machine, so the run is split: ingest and redaction run, then the
embedding cache is filled with perturbed real vectors (`bench.synthetic`: a ticket's source text's real
vector, plus noise for perturbed copies; timed as `cache fill`), then the rest of the job runs and finds every
vector cached. Embedding alone is then extrapolated as texts / the rate measured on a sample of those texts
in the same run, and the embedding stage as its measured cached run + the cache fill + that extrapolation.

Incremental: the cold run's warehouse of that size (or, when the run made none, one built the split way)
gets one more week's export of new tickets (texts it does not hold); one run of that week alone, whose texts
are embedded for real, against embedding those texts alone.

The growth exponent is the least-squares slope of log seconds on log tickets across the sizes.
"""

from __future__ import annotations

import argparse
import gc
import html
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import SHARED, cached_embed, in_fresh_process, skipped_without, table
from bench.scale import growth_exponent
from bench.synthetic import VECTORS_CACHE, real_vectors, vectors_file

START = date(2025, 1, 6)  # a Monday; the partitions start here
PRODUCT = "Acme"
END_TO_END_MAX = 1.1  # cold end to end / embedding alone
INCREMENTAL_MAX = 1.2  # weekly run / embedding its new tickets alone
RATE_SAMPLE = 5_000  # texts embedded to measure the rate at sizes past --embed-up-to
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "ticket_intel_bench" / "pipeline"
FIRST_ID = 100_001  # Freshdesk ticket id of the first ticket
WEEKDAY_WEIGHT = np.array([1.2, 1.15, 1.1, 1.05, 1.0, 0.4, 0.35])  # Monday first: a business helpdesk


# --- the generated inbox -----------------------------------------------------------------------

def spread(n: int, weeks: int, seed: int, first_week: int = 0) -> pd.Series:
    """n creation times over `weeks` weeks from START (+ `first_week`): volume growing ~2% a week with
    noise, weekday and office-hour peaks, as a business helpdesk's queue looks."""
    rng = np.random.default_rng(seed)
    volume = np.clip(1 + 0.02 * np.arange(weeks) + rng.normal(0, 0.05, weeks), 0.5, None)
    day_weight = (volume[:, None] * WEEKDAY_WEIGHT[None, :]).ravel()
    day = first_week * 7 + rng.choice(len(day_weight), size=n, p=day_weight / day_weight.sum())
    seconds = np.clip(rng.normal(13.5 * 3600, 3.5 * 3600, n), 0, 86_399).astype(int)
    return pd.Series(pd.Timestamp(START) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s"))


def freshdesk_rows(tickets: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Freshdesk's ticket CSV export of these tickets: HTML descriptions, a long tail of customers (a few
    write often, most once or twice), companies of a few customers each."""
    rng = np.random.default_rng(seed + 1)
    n = len(tickets)
    pool = max(50, n // 3)
    customer = (pool * rng.random(n) ** 2).astype(int)
    text = tickets["text"].astype(str)
    return pd.DataFrame({
        "Ticket ID": tickets["source_id"], "Subject": [" ".join(t.split()[:6]) for t in text],
        "Description": ["<div>" + html.escape(t) + "</div>" for t in text], "Status": "Open",
        "Priority": rng.choice(["Low", "Medium", "High", "Urgent"], n, p=[0.3, 0.45, 0.2, 0.05]),
        "Source": rng.choice(["Email", "Portal", "Chat"], n), "Type": "Question",
        "Created time": tickets["created"].dt.strftime("%Y-%m-%d %H:%M:%S"), "Tags": "",
        "Contact ID": 80_000_000 + customer, "Company Name": [f"Company {c // 4}" for c in customer],
        "Product": PRODUCT,
    })


@dataclass(frozen=True)
class Inbox:
    folder: Path
    weeks: list[date]
    tickets: pd.DataFrame  # in ticket id order: source_id, created, week, text, corpus_row, perturbed


def build_inbox(created: pd.Series, seed: int, folder: Path, corpus: pd.DataFrame, after: Inbox | None = None,
                texts: pd.DataFrame | None = None) -> Inbox:
    """Real-text tickets at these creation times (texts in random order over time, ids in time order),
    written as one export file per week, as a helpdesk's weekly export job leaves them. `after`: the
    inbox these tickets join (ids continue from it, none of its texts repeats). `texts`: the tickets'
    texts (`synthetic.tickets` rows) when the caller drew them, else drawn here."""
    from bench.synthetic import tickets

    taken = set() if after is None else set(after.tickets["text"])
    frame = tickets(len(created) + len(taken), seed, corpus) if texts is None else texts
    frame = frame[~frame["text"].isin(taken)].head(len(created))
    if len(frame) < len(created):
        raise ValueError(f"only {len(frame)} texts left that the inbox does not hold; {len(created)} asked")
    order = np.random.default_rng(seed + 2).permutation(len(frame))
    frame = frame.iloc[order].assign(created=created.sort_values().to_numpy()).reset_index(drop=True)
    frame["source_id"] = np.arange(len(frame)) + FIRST_ID + len(taken)
    frame["week"] = (frame["created"] - pd.to_timedelta(frame["created"].dt.weekday, unit="D")).dt.date
    folder.mkdir(parents=True, exist_ok=True)
    rows = freshdesk_rows(frame, seed)
    for w, part in rows.groupby(frame["week"]):
        part.to_csv(folder / f"freshdesk_{w.isoformat()}.csv", index=False)
    frame = frame if after is None else pd.concat([after.tickets, frame], ignore_index=True)
    return Inbox(folder, sorted(set(frame["week"])), frame)


# --- one run in a fresh process ------------------------------------------------------------------

class PeakSampler:
    """Peak RSS per interval: every `every` seconds read VmHWM, then reset it to the current RSS
    (Linux `clear_refs` 5), so each sample is the true peak since the previous one."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.samples, self._stop = every, [(time.time(), _hwm_mb())], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append((time.time(), _hwm_mb()))
            Path("/proc/self/clear_refs").write_text("5")

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), _hwm_mb()))

    def peak(self, start: float, end: float) -> float:
        """Highest RSS between two times: samples taken inside, and the first one after (it covers the end)."""
        after = [mb for t, mb in self.samples if t >= end][:1]
        return max([mb for t, mb in self.samples if start <= t < end] + after)


class CollectorTime:
    """Seconds the cyclic garbage collector ran in an interval (`gc.callbacks`): time a stage spent
    walking the process's objects rather than doing its work."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.time()
        else:
            self.spans.append((self._start, time.time()))

    def __enter__(self) -> CollectorTime:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def seconds(self, start: float, end: float) -> float:
        return sum(e - s for s, e in self.spans if start <= s < end)


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _environment(workdir: Path, inbox: Path) -> None:
    """Settings of a bench run: everything under workdir, partitions from START, nothing read from the repo."""
    os.environ.update({
        "TICKET_INTEL_CONFIG": "",
        "TICKET_INTEL_PARTITIONS_START": START.isoformat(),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        "TICKET_INTEL_INBOX": str(inbox),
    })


def run_stages(workdir: str, inbox: str, weeks: list[str], only: list[str] | None, skip: list[str]
               ) -> list[dict[str, Any]]:
    """In the child: `ticket-intel run`'s steps over `weeks` (first..last), the job's assets limited to
    `only` (None: all) minus `skip`. One row per stage: name, seconds, the collector's seconds, peak
    RSS; the process's imports and the plan included."""
    began = time.time()
    with PeakSampler() as sampler, CollectorTime() as collector:
        _environment(Path(workdir), Path(inbox))
        from ticket_intel import cli, runner
        from ticket_intel.defs.partitions import weekly
        from ticket_intel.warehouse.staging import parse_once

        warehouse = Path(workdir) / "warehouse.duckdb"
        runner.configure(warehouse, Path(inbox))
        imported = time.time()
        with parse_once():  # as `ticket-intel run`: the plan's staged inbox is the run's ingest
            counts = runner.configured_inbox_weeks(Path(inbox))[0]
            plan = runner.plan_weeks(f"{weeks[0]}..{weeks[-1]}", counts, set(weekly.get_partition_keys()))
            planned = time.time()
            result = cli.execute(warehouse, plan.start, plan.end, _assets(only, skip))
        done = time.time()
    steps = step_times(result.run_id)
    rows = [{"stage": "process start (imports)", "start": began, "end": imported},
            {"stage": "plan (run reads the inbox)", "start": imported, "end": planned}]
    rows += [{"stage": k, "start": s, "end": e} for k, (s, e) in steps.items()]
    rows.append({"stage": "dagster (between steps)", "seconds": (done - planned) - sum(e - s for s, e in steps.values()),
                 "gc_seconds": collector.seconds(planned, done) - sum(collector.seconds(s, e) for s, e in steps.values()),
                 "start": planned, "end": done})
    for r in rows:
        r.setdefault("seconds", r["end"] - r["start"])
        r.setdefault("gc_seconds", collector.seconds(r["start"], r["end"]))
        r["peak_rss_mb"] = sampler.peak(r["start"], r["end"])
    return rows


def _assets(only: list[str] | None, skip: list[str]) -> list[str] | None:
    """The weekly job's assets selected by `only` and `skip`; None for the whole job."""
    if only is None and not skip:
        return None
    from ticket_intel.definitions import defs

    job = defs().resolve_job_def("weekly_job")
    keys = sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)
    return [k for k in keys if (only is None or k in only) and k not in skip]


def step_times(run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) unix time of each step of a run, from the instance's event log, in execution order."""
    import dagster as dg

    starts, ends = {}, {}
    for entry in dg.DagsterInstance.get().all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[event.step_key] = entry.timestamp
    return {k: (starts[k], ends[k]) for k in sorted(starts, key=starts.get) if k in ends}


def embedding_alone(texts: list[str]) -> dict[str, float]:
    """In the child: load the model, then time `encoder.encode` of the texts alone."""
    from ticket_intel.adapters import encoder
    from ticket_intel.settings import value

    model, backend = value("TICKET_INTEL_EMBEDDING_MODEL"), value("TICKET_INTEL_EMBEDDING_BACKEND")
    start = time.perf_counter()
    encoder.load_encoder(model, backend)
    loaded = time.perf_counter()
    encoder.encode(texts, model, int(value("TICKET_INTEL_EMBEDDING_BATCH_SIZE")), backend)
    return {"load_s": loaded - start, "encode_s": time.perf_counter() - loaded, "texts": len(texts)}


def embedded_texts(workdir: str, weeks: list[str], exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The distinct texts the embedding stage embeds for these weeks (hash, text, first ticket), minus `exclude`."""
    from ticket_intel import warehouse as wh
    from ticket_intel.core.redact import EMBED_CHARS

    with wh.open_warehouse(Path(workdir) / "warehouse.duckdb", read_only=True) as con:
        frame = wh.redacted_texts(con, [date.fromisoformat(w) for w in weeks])
    frame = frame.drop_duplicates("text_hash")
    frame = frame[~frame["text_hash"].isin(set(exclude))]
    return pd.DataFrame({"text_hash": frame["text_hash"], "text": frame["meaning_text"].str[:EMBED_CHARS],
                         "ticket_id": frame["ticket_id"]}).reset_index(drop=True)


def fill_cache(workdir: str, texts_path: str, vectors_path: str, seed: int, sigma: float) -> dict[str, float]:
    """In the child: put a vector for every text into the embedding cache, as the stage would after encoding.

    `vectors_path` holds each text's source vector (row-aligned with the texts); a perturbed copy's
    gets Gaussian noise of `sigma` per dimension on top, as `perturbed_vectors` does."""
    from ticket_intel import warehouse as wh
    from ticket_intel.core.embed import cache_key
    from ticket_intel.settings import value

    texts, x = pd.read_parquet(texts_path), np.load(vectors_path)
    rng = np.random.default_rng(seed)
    out = x.astype(np.float64)
    copies = texts["perturbed"].to_numpy()
    out[copies] += rng.normal(scale=sigma, size=(int(copies.sum()), x.shape[1]))
    out = (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
    key = cache_key(value("TICKET_INTEL_EMBEDDING_MODEL"), value("TICKET_INTEL_EMBEDDING_BACKEND"))
    with wh.open_warehouse(Path(workdir) / "warehouse.duckdb") as con:
        start = time.perf_counter()
        wh.EmbeddingStore(con, key).put(texts["text_hash"].tolist(), out)
        return {"seconds": time.perf_counter() - start}


# --- the measurements --------------------------------------------------------------------------

BEFORE_EMBEDDING = ["raw_tickets", "redacted_tickets"]
EMBEDDING_STAGE = "ticket_embeddings"


@dataclass
class Measured:
    tickets: int
    rows: list[dict[str, Any]]  # stage, seconds, peak_rss_mb, how
    alone_s: float  # embedding the run's new texts alone
    alone_how: str

    def total(self) -> float:
        return float(sum(r["seconds"] for r in self.rows))


def _merge(parts: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Stage rows of a run split in parts, as one run: a process is started and plans once; the rest add up."""
    merged: dict[str, dict[str, Any]] = {}
    for rows in parts:
        for r in rows:
            if r["stage"] not in merged:
                merged[r["stage"]] = {k: r[k] for k in ("stage", "seconds", "gc_seconds", "peak_rss_mb")}
            elif r["stage"].startswith("dagster"):
                merged[r["stage"]]["seconds"] += r["seconds"]
                merged[r["stage"]]["gc_seconds"] += r["gc_seconds"]
                merged[r["stage"]]["peak_rss_mb"] = max(merged[r["stage"]]["peak_rss_mb"], r["peak_rss_mb"])
    return [{**r, "how": "measured"} for r in merged.values()]


def _run(workdir: Path, inbox: Inbox, weeks: Sequence[date], only: list[str] | None = None,
         skip: Sequence[str] = ()) -> list[dict[str, Any]]:
    rows, _, _ = in_fresh_process(run_stages, str(workdir), str(inbox.folder), [w.isoformat() for w in weeks],
                                  only, list(skip))
    return rows


def _alone(texts: list[str]) -> dict[str, float]:
    return in_fresh_process(embedding_alone, texts)[0]


def measured_cold(workdir: Path, inbox: Inbox) -> Measured:
    """Everything measured: one run from an empty warehouse and cache, then embedding its texts alone."""
    rows = _merge([_run(workdir, inbox, inbox.weeks)])
    texts = embedded_texts(str(workdir), [w.isoformat() for w in inbox.weeks])
    alone = _alone(texts["text"].tolist())
    return Measured(len(inbox.tickets), rows, alone["encode_s"],
                    f"measured: {len(texts)} texts at {len(texts) / alone['encode_s']:.1f}/s")


def prefilled(workdir: Path, inbox: Inbox, weeks: Sequence[date], vectors: Path, seed: int) -> tuple[list, float, float]:
    """A run split around a filled embedding cache: (merged stage rows, cache fill seconds and peak RSS)."""
    first = _run(workdir, inbox, weeks, BEFORE_EMBEDDING)
    texts = embedded_texts(str(workdir), [w.isoformat() for w in weeks])
    index = texts["ticket_id"].str.removeprefix("freshdesk:").astype(int).to_numpy() - FIRST_ID
    source = inbox.tickets.iloc[index]
    texts = texts.assign(corpus_row=source["corpus_row"].to_numpy(), perturbed=source["perturbed"].to_numpy())
    path, sources = workdir / "fill.parquet", workdir / "fill_vectors.npy"
    texts.drop(columns="text").to_parquet(path)
    x, sigma = _source_vectors(texts, np.load(vectors), seed)
    np.save(sources, x)
    out, _, rss = in_fresh_process(fill_cache, str(workdir), str(path), str(sources), seed, sigma)
    return _merge([first, _run(workdir, inbox, weeks, skip=BEFORE_EMBEDDING)]), out["seconds"], rss


def _source_vectors(texts: pd.DataFrame, raw: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """(each text's source vector, the resamples' noise sigma). A real text's is the embedding of the text
    the pipeline embeds (its redacted text for meaning, through the bench cache: embedded once per
    machine), and a resample's is its source's when the inbox holds it. From the corpus's raw texts
    (HTML, handles and placeholders kept) they were another distribution than the measured week's
    own embeddings, which placement saw as growth (docs/scale.md)."""
    from bench.synthetic import noise_scale

    real = ~texts["perturbed"].to_numpy()
    own, _ = cached_embed(texts.loc[real, "text"].tolist(), chunk=256, progress=True)
    by_row = dict(zip(texts.loc[real, "corpus_row"], own, strict=True))
    x = np.stack([by_row.get(r, raw[r]) for r in texts["corpus_row"]]).astype(np.float32)
    return x, noise_scale(own if len(own) > 1 else raw, seed=seed)


def extrapolated_cold(workdir: Path, inbox: Inbox, vectors: Path, seed: int) -> Measured:
    """Embedding extrapolated: the run finds every vector cached; embedding = texts / rate measured here."""
    rows, fill_s, fill_rss = prefilled(workdir, inbox, inbox.weeks, vectors, seed)
    texts = embedded_texts(str(workdir), [w.isoformat() for w in inbox.weeks])
    sample = texts["text"].sample(min(RATE_SAMPLE, len(texts)), random_state=seed).tolist()
    rate = len(sample) / _alone(sample)["encode_s"]
    alone = len(texts) / rate
    for r in rows:
        if r["stage"] == EMBEDDING_STAGE:
            r["seconds"] += fill_s + alone
            r["peak_rss_mb"] = max(r["peak_rss_mb"], fill_rss)
            r["how"] = f"cached run {r['seconds'] - fill_s - alone:.1f} s + cache fill {fill_s:.1f} s + encoding"
    return Measured(len(inbox.tickets), rows, alone,
                    f"extrapolated: {len(texts)} texts at {rate:.1f}/s measured on {len(sample)} of them")


def incremental(workdir: Path, inbox: Inbox) -> Measured:
    """One run of the inbox's last week alone on a warehouse that holds every earlier week."""
    weeks = inbox.weeks
    before = embedded_texts(str(workdir), [w.isoformat() for w in weeks[:-1]])["text_hash"]
    rows = _merge([_run(workdir, inbox, weeks[-1:])])
    texts = embedded_texts(str(workdir), [weeks[-1].isoformat()], exclude=before.tolist())
    alone = _alone(texts["text"].tolist())
    return Measured(int((inbox.tickets["week"] == weeks[-1]).sum()), rows, alone["encode_s"],
                    f"measured: {len(texts)} new texts at {len(texts) / alone['encode_s']:.1f}/s")


# --- tables --------------------------------------------------------------------------------------

def stage_rows(m: Measured) -> list[dict[str, object]]:
    rows = [{"tickets": m.tickets, "stage": r["stage"], "seconds": round(r["seconds"], 1),
             "x_embedding_alone": round(r["seconds"] / m.alone_s, 3), "gc_seconds": round(r["gc_seconds"], 1),
             "peak_rss_mb": round(r["peak_rss_mb"]), "how": r["how"]} for r in m.rows]
    rows.append({"tickets": m.tickets, "stage": "embedding alone (reference)", "seconds": round(m.alone_s, 1),
                 "x_embedding_alone": 1.0, "gc_seconds": "", "peak_rss_mb": "", "how": m.alone_how})
    return rows


def verdict(m: Measured, limit: float, what: str) -> str:
    ratio = m.total() / m.alone_s
    other = (m.total() - sum(r["seconds"] for r in m.rows if r["stage"] == EMBEDDING_STAGE)) / m.alone_s
    return (f"{what}, {m.tickets} tickets: {m.total():.1f} s = {ratio:.2f}x embedding alone ({m.alone_s:.1f} s); "
            f"all but the embedding stage {other:.1%} of it (target <= {limit:.1f}x: "
            f"{'met' if ratio <= limit else 'NOT met'})")


def growth_rows(cold: Sequence[Measured]) -> list[dict[str, object]]:
    """Per stage, its seconds at each size and the growth exponent across them."""
    stages = list(dict.fromkeys(r["stage"] for m in cold for r in m.rows))
    out = []
    for stage in [*stages, "end to end", "embedding alone"]:
        seconds = [_seconds(m, stage) for m in cold]
        row: dict[str, object] = {"stage": stage}
        row.update({f"s_at_{m.tickets}": round(s, 1) for m, s in zip(cold, seconds, strict=True)})
        sized = [m.tickets for m, s in zip(cold, seconds, strict=True) if s > 0]
        positive = [s for s in seconds if s > 0]
        row["growth_exponent"] = round(growth_exponent(sized, positive), 2) if len(sized) >= 2 else ""
        out.append(row)
    return out


def _seconds(m: Measured, stage: str) -> float:
    if stage == "end to end":
        return m.total()
    if stage == "embedding alone":
        return m.alone_s
    return float(sum(r["seconds"] for r in m.rows if r["stage"] == stage))


# --- main ----------------------------------------------------------------------------------------

def warm_up() -> None:
    """Compile UMAP's numba kernels into the cache once, so no measured run pays a first-ever compile."""
    in_fresh_process(_cluster_small)


def _cluster_small() -> None:
    from ticket_intel.core import cluster

    x = np.random.default_rng(0).normal(size=(600, 16)).astype(np.float32)
    cluster.cluster(x / np.linalg.norm(x, axis=1, keepdims=True))


def cold_run(n: int, args: argparse.Namespace, corpus: pd.DataFrame) -> tuple[Measured, Path, Inbox]:
    """A cold run of n tickets: (its measurements, its warehouse folder, its inbox)."""
    workdir = _fresh(args.workdir / f"cold_{n}")
    inbox = build_inbox(spread(n, args.weeks, args.seed), args.seed, workdir / "inbox", corpus)
    if n <= args.embed_up_to:
        return measured_cold(workdir, inbox), workdir, inbox
    real_vectors(args.vectors, corpus)  # the cache fill's source vectors, embedded once per machine
    return extrapolated_cold(workdir, inbox, vectors_file(args.vectors, corpus), args.seed), workdir, inbox


def incremental_run(base_n: int, new_n: int, args: argparse.Namespace, corpus: pd.DataFrame,
                    cold: dict[int, tuple[Path, Inbox]]) -> Measured:
    """The next week's new_n tickets on a base_n-ticket warehouse: the cold run of that size when this
    run made one (its warehouse goes on), else one built the split way (cache filled)."""
    created = spread(new_n, 1, args.seed + 1, first_week=args.weeks)
    if base_n in cold:
        workdir, base = cold[base_n]
        return incremental(workdir, build_inbox(created, args.seed + 1, base.folder, corpus, after=base))
    workdir = _fresh(args.workdir / f"incremental_{base_n}_{new_n}")
    both = _steady_texts(base_n + new_n, args.seed, corpus)
    base = build_inbox(spread(base_n, args.weeks, args.seed), args.seed, workdir / "inbox", corpus,
                       texts=both.iloc[:base_n])
    real_vectors(args.vectors, corpus)
    prefilled(workdir, base, base.weeks, vectors_file(args.vectors, corpus), args.seed)
    return incremental(workdir, build_inbox(created, args.seed + 1, base.folder, corpus, after=base,
                                            texts=both.iloc[base_n:]))


def _steady_texts(n: int, seed: int, corpus: pd.DataFrame) -> pd.DataFrame:
    """The texts of a warehouse and its next week, drawn together and shuffled, so the new week mixes as
    the earlier ones do. Past the corpus's distinct texts the rest are perturbed resamples: drawn
    apart, the next week of a 100k warehouse was all resamples, its themes stood at 1.3-1.56x their
    baselines, and with `TICKET_INTEL_REFIT_WEEKS=window` it was refit on growth nothing had caused."""
    from bench.synthetic import tickets

    frame = tickets(n, seed, corpus)
    return frame.iloc[np.random.default_rng(seed + 3).permutation(n)].reset_index(drop=True)


def _fresh(folder: Path) -> Path:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,50000,200000,1000000")
    parser.add_argument("--embed-up-to", type=int, default=10_000, help="largest size embedded for real")
    parser.add_argument("--incremental", default="100000,10000", help="warehouse tickets,new tickets ('' to skip)")
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--vectors", type=Path, default=VECTORS_CACHE, help=".npy cache of the corpus's real vectors")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rerun", type=date.fromisoformat, metavar="WEEK",
                        help="only run WEEK again in --workdir (a copy of a workdir an earlier run left, whose "
                             "inbox/ holds the week) and print its stages: two versions of the code on the same data")
    args = parser.parse_args(argv)
    if args.rerun:
        rows, _, _ = in_fresh_process(run_stages, str(args.workdir), str(args.workdir / "inbox"),
                                      [args.rerun.isoformat()], None, [])
        print(table([{k: r[k] for k in ("stage", "seconds", "gc_seconds", "peak_rss_mb")} for r in rows], "{:.2f}"))
        return
    if skipped_without(SHARED):
        return
    from bench.synthetic import real_corpus

    corpus = real_corpus()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(args.workdir / "numba"))
    warm_up()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    cold, warehouses = [], {}
    for n in sizes:
        measured, workdir, inbox = cold_run(n, args, corpus)
        cold.append(measured)
        warehouses[n] = (workdir, inbox)
        print(table(stage_rows(cold[-1])) + "\n" + verdict(cold[-1], END_TO_END_MAX, "cold end to end") + "\n", flush=True)
    weekly = None
    if args.incremental:
        base_n, new_n = (int(s) for s in args.incremental.split(","))
        weekly = incremental_run(base_n, new_n, args, corpus, warehouses)
        print(f"weekly run: {new_n} new tickets on a {base_n}-ticket warehouse")
        print(table(stage_rows(weekly)), flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end\n")
    if len(cold) > 1:
        print(table(growth_rows(cold)) + "\n")
    for m in cold:
        print(verdict(m, END_TO_END_MAX, "cold end to end"))
    if weekly is not None:
        print(verdict(weekly, INCREMENTAL_MAX, f"weekly run on a {args.incremental.split(',')[0]}-ticket warehouse"))


if __name__ == "__main__":
    main()
