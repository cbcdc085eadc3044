"""deploy/Dockerfile: what it copies exists, its build steps run against this code, and the image holds
the configuration files the settings name by default (a refactor moved two modules the build
imported, and the image lacked triage.yaml and routing.yaml: every run failed at ticket_triage)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from ticket_intel import PROJECT_ROOT, settings

DOCKERFILE = (PROJECT_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
LINES = re.sub(r"\\\n", " ", DOCKERFILE).splitlines()  # continuation lines joined, as Docker reads them


def _copied() -> set[str]:
    return {src for line in LINES if line.startswith("COPY ") and "--from" not in line
            for src in shlex.split(line)[1:-1]}


def test_every_path_the_image_copies_exists():
    assert _copied() and all((PROJECT_ROOT / src).exists() for src in _copied()), _copied()


def test_the_image_holds_the_configuration_files_named_by_default():
    defaults = {s.default for s in settings.SETTINGS if s.shapes == settings.FILE and s.default}
    assert defaults == {"taxonomy.yaml", "triage.yaml", "routing.yaml"}
    assert defaults <= _copied()


def test_the_build_s_python_steps_run_against_this_code():
    """Each `python -c` of a RUN step, run here: the image's warm-up of extensions and the model."""
    steps = [shlex.split(part.strip())[2] for line in LINES if line.startswith("RUN ")
             for part in line[4:].split("&&") if part.strip().startswith("python -c")]
    assert len(steps) == 2
    for step in steps:
        done = subprocess.run([sys.executable, "-c", step], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
