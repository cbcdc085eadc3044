"""ticket_intel: weekly, evidence-backed product themes from a support queue."""

import os
from pathlib import Path

# Set before any heavy import: the model must load from disk, litellm must not fetch its
# cost map, and numba must reuse compiled UMAP kernels across processes.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "ticket_intel" / "numba"))

PROJECT_ROOT = Path(__file__).resolve().parent.parent
