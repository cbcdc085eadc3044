"""A real `dagster-daemon` over the project's workspace in a temporary DAGSTER_HOME: its sensors
tick through a real code server under Dagster's real 60-second deadline, and its run queue
launches real run workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef
from dagster._core.scheduler.instigation import InstigatorType

from ticket_intel import PROJECT_ROOT
from ticket_intel_tests.processes import child_env


def daemon_env(root: Path, **settings: str | Path) -> dict[str, str]:
    """A private instance, warehouse, inbox and reports under `root`, plus `settings`."""
    for folder in ("dagster_home", "inbox", "reports"):
        (root / folder).mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    return child_env(
        DAGSTER_HOME=root / "dagster_home", TICKET_INTEL_WAREHOUSE=root / "warehouse.duckdb",
        TICKET_INTEL_INBOX=root / "inbox", TICKET_INTEL_REPORTS_DIR=root / "reports",
        TICKET_INTEL_TAXONOMY=PROJECT_ROOT / "taxonomy.yaml", TICKET_INTEL_CONFIG="",
        **settings,
    )


@contextmanager
def running_daemon(root: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` in its own process group; the group (daemon, code server, run workers)
    is killed when the block ends. Its output goes to `root/daemon.log`."""
    with open(root / "daemon.log", "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield daemon
        finally:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


def instance_at(env: dict[str, str]) -> dg.DagsterInstance:
    """The daemon's instance, opened from this test process."""
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


def sensor_ticks(instance: dg.DagsterInstance, name: str) -> list:
    states = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR) if s.instigator_name == name]
    return [t for s in states for t in instance.get_ticks(s.instigator_origin_id, s.selector_id)]
