"""What a week's results follow from besides its own tickets: the settings that shape them, the files
those settings name, the inbox's help center and releases, and the code.

`raw_tickets` records this digest beside each week's ticket digest, and `ticket-intel run` re-runs a
week only when either changed since its last complete run (or an earlier week's did: each week's
themes follow from the weeks before). Operational settings (where things live, timeouts,
credentials, the alert channel) are left out: changing them changes no week's themes.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from ticket_intel import settings
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.product_inputs import side_inputs_digest
from ticket_intel.core.sources.parse_cache import installed
from ticket_intel.core.week_config import Value

PACKAGE = Path(__file__).parent
# raw_tickets metadata: {week: ticket digest} of the weeks it ran (`Stage.week_digests`, "" for a
# quiet week), and the run's inputs digest: a week whose tickets changed is told from one whose
# settings, files or code did by comparing each.
WEEK_TICKETS, RUN_INPUTS = "week_tickets", "inputs_digest"


def week_tickets(tickets: Mapping[date, str], weeks: Iterable[date]) -> dict[str, str]:
    """Per week (ISO date) of a run, its ticket digest as the run's metadata records it."""
    return {w.isoformat(): tickets.get(w, "") for w in weeks}


def inputs_digest(inbox: Path) -> str:
    """One digest of everything but the tickets that shapes a week's results."""
    digest = hashlib.sha256()
    for s in settings.SETTINGS:
        if s.shapes == settings.VALUE:
            digest.update(f"{s.env}={settings.value(s.env)}\0".encode())
        elif s.shapes == settings.FILE:
            digest.update(f"{s.env}={_content_digest(settings.value(s.env))}\0".encode())
    side = side_inputs_digest(settings.value("TICKET_INTEL_HELP_CENTER"), settings.value("TICKET_INTEL_RELEASES"), inbox)
    digest.update(f"side={side}\0code={code_digest()}".encode())
    return digest.hexdigest()[:16]


def theme_config() -> dict[str, Value]:
    """The settings that shape a week's themes and their areas (`Setting.themes`) as this process has
    them, as each week records them: a file by its content digest and absolute path."""
    def value(s: settings.Setting) -> Value:
        named = settings.value(s.env)
        if s.shapes != settings.FILE or not named:
            return Value(named)
        return Value(_content_digest(named), str(tax.locate(named).resolve()))
    return {s.env: value(s) for s in settings.SETTINGS if s.themes}


def _content_digest(named: str) -> str:
    """The bytes of the file (`taxonomy.content_hash`), or of every file under the folder, a setting
    names ("" when none)."""
    if not named:
        return ""
    path = tax.locate(named)
    if not path.is_dir():
        return tax.content_hash(path)
    digest = hashlib.sha256()
    for f in sorted(f for f in path.rglob("*") if f.is_file()):
        digest.update(f.relative_to(path).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The package's own files (code, templates, shipped mappings and models), Python and every
    installed distribution's version (as the parse cache names them: an hdbscan or encoder upgrade
    moves themes too), read once per process: an upgrade re-runs the weeks it may change."""
    digest = hashlib.sha256("\0".join([sys.version, *installed()]).encode())
    for f in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f.relative_to(PACKAGE).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]
