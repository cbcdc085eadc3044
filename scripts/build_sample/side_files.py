"""Files of the sample beside the three helpdesk exports. Adding one is a module with a ``SideFile`` and an
entry in ``SIDE_FILES``; the build writes each entry, adds its truth to planted.json and verifies it.
"""

from pathlib import Path
from typing import Protocol

from .accounts import ACCOUNTS
from .common import JSONDict
from .help_center import HELP_CENTER
from .model import World
from .releases import RELEASES_FILE


class SideFile(Protocol):
    """One file derived from the world, with its share of planted.json and its own checks."""

    @property
    def name(self) -> str:
        """The file's name inside the sample folder."""

    def render(self, world: World) -> str:
        """The file's whole text."""

    def truth(self, world: World) -> JSONDict:
        """Entries to add to planted.json (none when the file plants nothing)."""

    def verify(self, out: Path, truth: JSONDict) -> None:
        """Raise ``BuildError`` unless the written file keeps its promises."""


SIDE_FILES: tuple[SideFile, ...] = (ACCOUNTS, RELEASES_FILE, HELP_CENTER)
