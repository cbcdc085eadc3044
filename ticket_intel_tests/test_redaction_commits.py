"""Redaction keeps its work (issue 12.7): each week is committed on its own, so a run killed with a
real SIGKILL while redacting its third week keeps the two weeks it finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

WEEKS = ["2026-08-31", "2026-09-07", "2026-09-14"]

RUN = """
import sys, time
import dagster as dg
import ticket_intel.defs.redaction as redaction
from ticket_intel.defs.ingest import raw_tickets
from ticket_intel.defs.resources import build_resources

real = redaction.redact_tickets
def stalling(raw, settings):
    if len(raw) and str(raw["week_start"].iloc[0]) == sys.argv[2]:
        print("stalled", flush=True)
        time.sleep(600)  # the test kills the process here
    return real(raw, settings)
redaction.redact_tickets = stalling
job = dg.define_asset_job("j", [raw_tickets, redaction.redacted_tickets]).resolve(
    asset_graph=dg.Definitions(assets=[raw_tickets, redaction.redacted_tickets],
                               resources=build_resources()).resolve_asset_graph())
with dg.instance_for_test(temp_dir=sys.argv[1]) as instance:
    dg.Definitions(assets=[raw_tickets, redaction.redacted_tickets], jobs=[job], resources=build_resources()
                   ).resolve_job_def("j").execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": sys.argv[3], "dagster/asset_partition_range_end": sys.argv[2]})
print("finished", flush=True)
"""


def test_sigkill_during_redaction_keeps_the_finished_weeks(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [fd_row(created=f"{week} 10:00:00", text=f"Call me on +1 415 555 01{i:02d}, my card was declined")
            for week in ("2026-09-01", "2026-09-08", "2026-09-15") for i in range(4)]
    (inbox / "fd.csv").write_text(fd_csv(rows))
    (tmp_path / "home").mkdir()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TICKET_INTEL_INBOX": str(inbox),
           "TICKET_INTEL_WAREHOUSE": str(tmp_path / "wh.duckdb"), "DAGSTER_HOME": str(tmp_path / "home")}
    run = subprocess.Popen([sys.executable, "-c", textwrap.dedent(RUN), str(tmp_path / "home"), WEEKS[2], WEEKS[0]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = run.stdout.readline().strip()
        assert line == "stalled", run.stderr.read()[-3000:]
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.kill()
        run.communicate(timeout=60)
    assert run.returncode == -signal.SIGKILL
    with wh.open_warehouse(tmp_path / "wh.duckdb") as con:
        done = con.execute("SELECT week_start::VARCHAR, count(*), count(*) FILTER (text LIKE '%[PHONE]%') "
                           "FROM staging.redacted_tickets GROUP BY 1 ORDER BY 1").fetchall()
    assert done == [(WEEKS[0], 4, 4), (WEEKS[1], 4, 4)]
