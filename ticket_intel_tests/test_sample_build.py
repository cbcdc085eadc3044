"""The sample builder (scripts/build_sample) rebuilds the committed sample byte for byte, and its verifier
rejects a sample that breaks a promise. Needs banking77 from ../shared; skipped without it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel_tests.conftest import PLANTED, SAMPLE_DIR

BUILT_TRUTH = Path("sample_truth") / "planted.json"


@pytest.fixture(scope="module")
def built(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build through the documented command, into a temporary root (exports in ``sample/``)."""
    root = tmp_path_factory.mktemp("sample_build")
    command = [
        sys.executable, "-m", "scripts.build_sample",
        "--banking77", str(shared_datasets / "banking77"),
        "--out", str(root / "sample"),
        "--truth", str(root / BUILT_TRUTH),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return root


def digests(files: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}


def files_under(root: Path) -> dict[str, Path]:
    """Built files by path relative to `root` (the help center is a folder)."""
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".csv")}


def test_build_matches_the_committed_sample_byte_for_byte(built):
    committed = files_under(SAMPLE_DIR)
    committed[str(BUILT_TRUTH)] = PLANTED
    fresh = files_under(built / "sample")
    fresh[str(BUILT_TRUTH)] = built / BUILT_TRUTH
    assert sorted(fresh) == sorted(committed)
    assert digests(fresh) == digests(committed)


def drop_a_card_number(out: Path, truth: dict) -> None:
    """Rewrite a planted card number in its export, so the truth names a value the file lacks."""
    card = next(p for p in truth["pii"] if p["type"] == "card" and p["source"] == "zendesk")
    path = out / "zendesk_tickets.json"
    text = path.read_text(encoding="utf-8")
    assert card["value"] in text
    path.write_text(text.replace(card["value"], "0000 0000 0000 0000"), encoding="utf-8")


def reassign_a_conversation(out: Path, truth: dict) -> None:
    """Give a valid Intercom conversation another contact than the one planted.json records."""
    planted = next(t for t in truth["valid_tickets"] if t["source"] == "intercom")
    path = out / "intercom_conversations.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    conversation = next(c for c in document["conversations"] if c["id"] == planted["source_id"])
    conversation["contacts"]["contacts"][0]["id"] = "f" * 24
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("damage", [drop_a_card_number, reassign_a_conversation])
def test_verifier_rejects_a_damaged_sample(built, tmp_path, damage):
    from scripts.build_sample.common import BuildError
    from scripts.build_sample.verify import verify

    out = tmp_path / "sample"
    shutil.copytree(built / "sample", out)
    truth = json.loads((built / BUILT_TRUTH).read_text(encoding="utf-8"))
    verify(out, truth, [])
    damage(out, truth)
    with pytest.raises(BuildError):
        verify(out, truth, [])


@pytest.mark.parametrize(
    ("files", "message"),
    [({}, "train.csv not found"), ({"train.csv": "a,b\n1,2\n", "test.csv": "a,b\n"}, "needs the columns")],
)
def test_a_wrong_banking77_folder_is_named_in_the_error(tmp_path, files, message):
    from scripts.build_sample.texts import SourceError, read_banking77

    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        read_banking77(tmp_path)
