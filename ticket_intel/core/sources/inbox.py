"""Finding the exports in an inbox folder and reading each one once, as a consistent snapshot.

A folder is walked by hand, not with `Path.rglob`, so that nothing is passed over in silence: a
symlinked folder is followed once (a link that leads back to a folder already walked, a loop, is
reported and skipped), and a link that leads nowhere or around in a circle is reported as a file
that cannot be read. Reading never raises for a file's own fault: the operating system's reason
(no permission, a loop, a file that vanished) becomes the file's one-line error.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO

from ticket_intel.core.sources.base import EXPORT_SUFFIXES, UNREAD_EXPORTS, FileError

HELP_CENTER_DIR = "help_center"  # an inbox's help-center articles (core/product_inputs.py) ...
RELEASE_FILES = ("releases.csv", "releases.json")  # ... and its releases file: no ticket exports


@dataclass
class InboxScan:
    """The export files to read, in a stable order, and what was passed over and why (path -> reason)."""

    files: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def is_side_input(relative: PurePath) -> bool:
    """Whether an inbox file (path relative to the inbox) is a help-center article or the releases file."""
    parts = relative.parts
    return bool(parts) and (parts[0] == HELP_CENTER_DIR or (len(parts) == 1 and parts[0].lower() in RELEASE_FILES))


def _is_export(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in EXPORT_SUFFIXES


def scan_inbox(inbox: Path) -> InboxScan:
    """Every export under `inbox` (hidden files and folders skipped), symlinked folders followed once;
    the help center and releases are not ticket exports (core/product_inputs.py)."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox folder not found: {inbox}")
    scan = InboxScan()
    _walk(inbox, scan, {os.path.realpath(inbox)})
    scan.files = sorted(p for p in scan.files if not is_side_input(p.relative_to(inbox)))
    return scan


def _walk(folder: Path, scan: InboxScan, walked: set[str]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        scan.skipped[str(folder)] = f"folder not readable: {exc.strerror or exc}"
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError as exc:  # a symlink loop (ELOOP) or an unreadable link
            if _is_export(entry.name):
                scan.skipped[str(path)] = f"not readable: {exc.strerror or exc}"
            continue
        if is_dir:
            real = os.path.realpath(path)
            if real in walked:
                scan.skipped[str(path)] = f"symlinked folder leads back to {real}, already read: skipped (a loop)"
                continue
            walked.add(real)
            _walk(path, scan, walked)
        elif _is_export(entry.name):
            if entry.is_symlink() and not path.exists():
                scan.skipped[str(path)] = f"broken symlink to {os.readlink(path)}"
            else:
                scan.files.append(path)
        elif (unread := UNREAD_EXPORTS.get(path.suffix.lower())) is not None:
            scan.skipped[str(path)] = f"not read: {unread}"


SPOOL_MEMORY = 8 << 20  # bytes of a file held in memory; beyond that its private copy is a temporary file
READ_PIECE = 1 << 20


@dataclass
class Spool:
    """A file's bytes as read once, copied through one handle into a private (seekable) temporary
    file, so a big export costs disk, not memory; `settled` is False when the file changed while it
    was read."""

    file: IO[bytes]
    sha256: str
    size: int
    settled: bool


def spool_snapshot(path: Path) -> Spool:
    """Read a file once, hashing it as it is copied; raises FileError with the system's reason."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (the caller closes it)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            while piece := fh.read(READ_PIECE):
                digest.update(piece)
                spool.write(piece)
            after = os.fstat(fh.fileno())
    except OSError as exc:
        spool.close()
        raise FileError(f"cannot read the file: {exc.strerror or exc}") from exc
    size = spool.tell()
    settled = after.st_size == size and after.st_mtime_ns == before.st_mtime_ns
    return Spool(spool, digest.hexdigest(), size, settled)


def file_sha256(path: Path) -> str | None:
    """The content hash of a file as it is now; None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def cut_incomplete(spool: Spool) -> bytes:
    """Remove and return the cut tail of a line-based export: while a file is being written its last
    line may be half written, so only bytes up to the last line break count; a settled file is whole."""
    fh = spool.file
    fh.seek(max(spool.size - 1, 0))
    if spool.settled or fh.read(1) == b"\n":
        return b""
    end = spool.size
    while end > 0:  # look back piece by piece for the last line break
        start = max(end - READ_PIECE, 0)
        fh.seek(start)
        if (found := fh.read(end - start).rfind(b"\n")) >= 0:
            cut = start + found + 1
            break
        end = start
    else:
        cut = 0
    fh.seek(cut)
    tail = fh.read()
    fh.truncate(cut)
    return tail
