"""Real processes for fault tests: Python snippets and `ticket-intel` commands in children of
this test, with the worktree on their path, and a way to wait for what they do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from ticket_intel import PROJECT_ROOT


def child_env(**extra: str | Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def python(code: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """Start `code` in a fresh interpreter, in its own process group; its stdout and stderr are
    pipes of text."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env or child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            **kwargs)


TICKET_INTEL = [sys.executable, "-m", "ticket_intel.cli"]


def cli(args: list[str], env: dict[str, str], cwd: Path, **kwargs) -> subprocess.Popen:
    """Start `ticket-intel ARGS` as a user would, in its own process group."""
    return subprocess.Popen([*TICKET_INTEL, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.2) -> object:
    """Poll until `condition()` is truthy; fails the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, as the OOM killer or `kill -9` would, and reap the child.

    Its process group goes too: a run killed between starting Dagster's compute-log `tail -F` and
    that tail's orphan watcher leaves the tail holding the child's stdout forever (seen in CI: the
    pipes never closed and the suite hung)."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


def cli_errors(stderr: str) -> list[str]:
    """The one-line errors `ticket-intel` printed; a traceback is never one of them."""
    assert "Traceback" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if line.startswith("ticket-intel: error:")]
