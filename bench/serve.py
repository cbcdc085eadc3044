"""`ticket-intel serve` under load: a real server process, many requests, 8 at a time.

The server's knowledge base is banking77's train set (10,003 real customer questions, embedded
once into bench.retrieval's .npy cache) stored as resolved tickets in a fresh warehouse; the requests are
banking77's test questions, sent as plain, Zendesk, Freshdesk and Intercom bodies in turn, each
signed with the shared secret (so size, signature, parsing, redaction, embedding, triage and
retrieval are all on the path). References in the same run, at the same concurrency, after the
server has stopped: `GET /health` (what the HTTP stack alone costs on this machine now) and the
same questions each embedded alone in threads with every core per pass (what embedding alone cost
per request before the server batched it). The load average is printed with the figures, and
CPU time per request (`cpu_ms`: the server's, or this process's for the embedding reference),
which other work on the machine moves less than latency.

`python -m bench.serve [--requests 2000] [--concurrency 8] [--cache-dir DIR]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from bench.common import SHARED, skipped_without, table
from bench.retrieval import npy_embed
from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.core.embed import DEFAULT_BACKEND, DEFAULT_MODEL, cache_key, text_hash
from ticket_intel.core.webhooks import sign

SECRET = "bench-secret"
WARM_UP = 40
WEEK = date(2026, 9, 7)


def build_warehouse(path: Path, cache_dir: Path) -> int:
    """banking77 train as the knowledge base: each question resolved with its intent's name."""
    train = pd.read_csv(SHARED / "banking77" / "train.csv")
    texts = train["text"].astype(str).tolist()
    vectors = npy_embed("banking77-train", train["text"].tolist(), cache_dir)  # bench.retrieval's cache
    key = cache_key(DEFAULT_MODEL, DEFAULT_BACKEND)
    hashes = [text_hash(t) for t in texts]
    rows = pd.DataFrame({"ticket_id": [f"bench:{i}" for i in range(len(texts))], "week_start": WEEK,
                         "status": "solved", "text": texts, "text_hash": hashes, "model": key,
                         "resolution": ["Answered as: " + c.replace("_", " ") for c in train["category"]],
                         "public_replies": 1})
    with wh.open_warehouse(path) as con:
        wh.EmbeddingStore(con, key).put(hashes, vectors)
        wh.replace(con, [wh.Replace("staging.resolved_tickets", rows, "week_start", [WEEK])])
    return len(rows)


def bodies(texts: list[str]) -> list[bytes]:
    """The test questions in the four accepted shapes, in turn."""
    shapes = [
        lambda i, t: {"text": t, "customer_id": f"c{i % 97}"},
        lambda i, t: {"type": "zen:event-type:ticket.created", "detail": {"id": str(i), "description": t,
                                                                          "requester_id": str(i % 97)}},
        lambda i, t: {"freshdesk_webhook": {"ticket_id": i, "ticket_subject": "Support request",
                                            "ticket_description": f"<div>{t}</div>"}},
        lambda i, t: {"type": "notification_event", "topic": "conversation.user.created",
                      "data": {"item": {"id": str(i), "source": {"body": f"<p>{t}</p>",
                                                                 "author": {"type": "user", "id": f"u{i}"}}}}},
    ]
    return [json.dumps(shapes[i % len(shapes)](i, t)).encode() for i, t in enumerate(texts)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(warehouse: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TICKET_INTEL_SERVE_SECRET": SECRET}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "ticket_intel.cli", "serve", "--warehouse", str(warehouse),
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str, proc: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text()}")
            try:
                if (await client.get(url + "/health", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
    raise RuntimeError(f"the server was not ready in {seconds:.0f} s")


async def load(url: str, path: str, payloads: list[bytes | None], concurrency: int,
               server: psutil.Process) -> tuple[np.ndarray, int, float, float]:
    """Send every payload (None: a GET) with `concurrency` in flight; (latencies in ms, errors,
    seconds, the server's CPU ms per request)."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(p)
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            start = time.perf_counter()
            try:
                if body is None:
                    r = await client.get(url + path, timeout=30)
                else:
                    r = await client.post(url + path, content=body, timeout=30, headers={
                        "content-type": "application/json", "X-Ticket-Intel-Signature": sign(SECRET, body)})
                errors += r.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append(1000 * (time.perf_counter() - start))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        started, cpu = time.perf_counter(), sum(server.cpu_times()[:2])
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    cpu_ms = 1000 * (sum(server.cpu_times()[:2]) - cpu) / len(payloads)
    return np.array(latencies), errors, time.perf_counter() - started, cpu_ms


def bare_embedding(texts: list[str], concurrency: int) -> tuple[np.ndarray, int, float, float]:
    """Each text embedded alone, `concurrency` at a time: one forward pass per request."""
    from concurrent.futures import ThreadPoolExecutor

    from ticket_intel.adapters import encoder

    encoder.encode(texts[:1])  # loaded before timing

    def one(text: str) -> float:
        start = time.perf_counter()
        encoder.encode([text])
        return 1000 * (time.perf_counter() - start)

    started, cpu = time.perf_counter(), time.process_time()  # this process's CPU, all threads
    with ThreadPoolExecutor(concurrency) as pool:
        ms = list(pool.map(one, texts))
    return np.array(ms), 0, time.perf_counter() - started, 1000 * (time.process_time() - cpu) / len(texts)


def row(what: str, ms: np.ndarray, errors: int, seconds: float, cpu_ms: float, concurrency: int) -> dict:
    return {"endpoint": what, "requests": len(ms), "concurrency": concurrency, "cpu_ms": round(cpu_ms, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "errors": errors,
            "requests_per_s": round(len(ms) / seconds, 1)}


async def run(requests: int, concurrency: int, root: Path, cache_dir: Path) -> list[dict]:
    kb = build_warehouse(root / "serve.duckdb", cache_dir)
    test = pd.read_csv(SHARED / "banking77" / "test.csv")["text"].astype(str).tolist()
    payloads = bodies([test[i % len(test)] for i in range(requests + WARM_UP)])
    port, log = free_port(), root / "server.log"
    proc = start_server(root / "serve.duckdb", port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc, log)
        server = psutil.Process(proc.pid)
        await load(url, "/triage", payloads[:WARM_UP], concurrency, server)
        triage = await load(url, "/triage", payloads[WARM_UP:], concurrency, server)
        health = await load(url, "/health", [None] * requests, concurrency, server)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    embedding = bare_embedding(test[:requests], concurrency)
    print(f"knowledge base: {kb:,} resolved tickets; {requests:,} requests after {WARM_UP} warm-up requests")
    rows = [row("POST /triage", *triage, concurrency), row("GET /health (reference)", *health, concurrency),
            row("embedding alone, unbatched (reference)", *embedding, concurrency)]
    for r in rows:
        r["x_health_p95"] = round(r["p95_ms"] / rows[1]["p95_ms"], 1)
        r["x_embedding_p95"] = round(r["p95_ms"] / rows[2]["p95_ms"], 2)
    return rows


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ticket_intel_retrieval",
                        help="where bench.retrieval keeps its .npy embeddings")
    args = parser.parse_args()
    if skipped_without(SHARED / "banking77" / "train.csv"):
        return
    print(f"load average at start (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="ticket_intel_serve_") as tmp:
        print(table(asyncio.run(run(args.requests, args.concurrency, Path(tmp), args.cache_dir))))
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
