"""The embedder: cache keys per backend, order-preserving length-sorted encoding, the ONNX int8
backend's closeness to torch, and the DuckDB cache that makes a re-run embed nothing."""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ticket_intel import warehouse as wh
from ticket_intel.adapters import encoder
from ticket_intel.core import embed

TEXTS = [
    "My card was declined at the supermarket this morning.",
    "How long does a transfer to another bank take?",
    "refund",
    "I was charged twice for the same purchase and want my money back as soon as possible, "
    "the second payment appeared yesterday evening on my statement.",
    "Where can I see my PIN?",
]


def test_backend_is_part_of_the_cache_key_except_for_the_torch_reference():
    assert embed.cache_key("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"
    keys = {embed.cache_key("all-MiniLM-L6-v2", b) for b in embed.BACKENDS}
    assert len(keys) == len(embed.BACKENDS)
    with pytest.raises(ValueError, match="unknown embedding backend"):
        embed.cache_key("all-MiniLM-L6-v2", "tensorrt")


@pytest.mark.parametrize("backend", embed.BACKENDS)
def test_vectors_are_unit_length_and_in_input_order(backend):
    vectors = encoder.encode(TEXTS, backend=backend, batch_size=2)
    assert vectors.shape == (len(TEXTS), encoder.embedding_dim(backend=backend))
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    reordered = encoder.encode(TEXTS[::-1], backend=backend, batch_size=2)[::-1]
    np.testing.assert_allclose(vectors, reordered, atol=1e-5)


def test_onnx_backends_stay_close_to_torch():
    reference = encoder.encode(TEXTS, backend="torch")
    fp32 = (encoder.encode(TEXTS, backend="onnx") * reference).sum(axis=1)
    int8 = (encoder.encode(TEXTS, backend="onnx-int8") * reference).sum(axis=1)
    assert fp32.min() > 0.9999
    assert int8.min() >= 0.98  # worst case measured on banking77 by bench.embed: 0.986


def test_onnx_export_is_built_once_cached_and_only_as_asked(tmp_path):
    files = encoder.onnx_file(embed.DEFAULT_MODEL, quantized=False, cache_dir=tmp_path)
    assert all(f.exists() and f.parent.parent == tmp_path for f in files)
    assert not (files[0].parent / "model_int8.onnx").exists()  # int8 only when asked for
    stamps = [f.stat().st_mtime_ns for f in files]
    again = encoder.onnx_file(embed.DEFAULT_MODEL, quantized=False, cache_dir=tmp_path)
    assert [f.stat().st_mtime_ns for f in again] == stamps
    int8, _ = encoder.onnx_file(embed.DEFAULT_MODEL, quantized=True, cache_dir=tmp_path)
    assert int8.name == "model_int8.onnx" and files[0].stat().st_mtime_ns == stamps[0]


def test_a_damaged_export_is_built_again_and_an_unwritable_home_is_no_failure(tmp_path, monkeypatch):
    """A cut model file failed every run at triage with a traceback, never rebuilt; a read-only
    home failed the run too."""
    import shutil

    monkeypatch.setattr(encoder, "ONNX_CACHE", tmp_path / "cache")
    built = encoder.onnx_file(embed.DEFAULT_MODEL, quantized=False, cache_dir=encoder.ONNX_CACHE)[0]
    whole = built.read_bytes()
    built.write_bytes(whole[: len(whole) // 2])
    fresh = encoder._onnx_encoder(embed.DEFAULT_MODEL, quantized=False, threads=1)
    assert built.stat().st_size > len(whole) // 2 and fresh.encode_batch(TEXTS[:2]).shape == (2, fresh.dim)
    (tmp_path / "home").write_text("a file where the cache's parent should be")
    monkeypatch.setattr(encoder, "ONNX_CACHE", tmp_path / "home" / "cache")
    assert encoder._cache_dir().parent == Path(tempfile.gettempdir())
    shutil.rmtree(tmp_path / "cache")


def test_onnx_backend_refuses_models_it_cannot_reproduce(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ValueError, match="mean-pooled"):
        encoder.onnx_file(str(tmp_path), quantized=False, cache_dir=tmp_path / "cache")


def test_warm_cache_embeds_nothing_and_backends_do_not_share_vectors():
    con = duckdb.connect(":memory:")
    wh.migrate(con)
    texts = [*TEXTS, TEXTS[0]]  # a duplicate text is embedded once

    def cached(hashes, texts, backend):
        store = wh.EmbeddingStore(con, embed.cache_key(embed.DEFAULT_MODEL, backend))
        return embed.embed_cached(hashes, texts, store, partial(encoder.encode, backend=backend, batch_size=4))

    hashes = [embed.text_hash(t) for t in texts]
    first, n_first = cached(hashes, texts, "onnx-int8")
    again, n_again = cached(hashes, texts, "onnx-int8")
    _, n_other = cached(hashes[:2], texts[:2], "torch")
    assert (n_first, n_again, n_other) == (len(TEXTS), 0, 2)
    for h in hashes:
        np.testing.assert_allclose(first[h], again[h], atol=1e-6)
    stored = con.execute("SELECT model, count(*) FROM ops.embedding_cache GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    assert stored == [("all-MiniLM-L6-v2", 2), ("all-MiniLM-L6-v2@onnx-int8", len(TEXTS))]


def test_a_warm_cache_never_loads_the_encoder():
    con = duckdb.connect(":memory:")
    wh.migrate(con)
    store = wh.EmbeddingStore(con, "model@onnx")
    hashes = [embed.text_hash(t) for t in TEXTS]
    store.put(hashes, np.eye(len(TEXTS), 8, dtype=np.float32))

    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the encoder was asked for cached texts")

    vectors, embedded = embed.embed_cached(hashes, TEXTS, store, refuse)
    assert embedded == 0 and len(vectors) == len(TEXTS)


def test_a_backfill_has_one_embedding_meter_with_its_total_known_up_front(tmp_path, instance):
    """Two weeks of texts (four both weeks hold, one each of their own): one meter of the step's
    texts to embed, not a finished meter per week; a text the cache holds is not counted."""
    import dagster as dg
    import pandas as pd

    from ticket_intel import settings
    from ticket_intel.core.progress import MARK
    from ticket_intel.defs.embeddings import ticket_embeddings
    from ticket_intel.defs.resources import EmbeddingConfig, Warehouse

    week = pd.Timestamp("2026-01-05")
    rows = [{"ticket_id": f"z:{w}:{i}", "week_start": (week + pd.Timedelta(weeks=w)).date(),
             "created_at": week + pd.Timedelta(weeks=w), "customer_id": f"c{i}", "text": text,
             "meaning_text": text, "text_hash": embed.text_hash(text)}
            for w in range(2) for i, text in enumerate([*TEXTS[:4], f"{TEXTS[4]} (week {w})"])]
    path = tmp_path / "w.duckdb"
    store = partial(wh.EmbeddingStore, key=embed.cache_key(settings.value("TICKET_INTEL_EMBEDDING_MODEL"),
                                                            settings.value("TICKET_INTEL_EMBEDDING_BACKEND")))
    with wh.open_warehouse(path) as con:
        wh.replace(con, [wh.Replace("staging.redacted_tickets", pd.DataFrame(rows))])
        assert store(con).missing([r["week_start"] for r in rows]) == 6
        store(con).put([embed.text_hash(TEXTS[0])], np.ones((1, 384), dtype=np.float32))
        assert store(con).missing([r["week_start"] for r in rows]) == 5
    result = dg.materialize([ticket_embeddings], instance=instance,
                            resources={"warehouse": Warehouse(database=str(path)), "embedding": EmbeddingConfig()},
                            tags={"dagster/asset_partition_range_start": "2026-01-05",
                                  "dagster/asset_partition_range_end": "2026-01-12"})
    meters = [e.user_message for e in instance.all_logs(result.run_id) if MARK in (e.user_message or "")]
    assert len(meters) == 1 and "5/5" in meters[0], meters

