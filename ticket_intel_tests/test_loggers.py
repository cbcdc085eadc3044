"""The command line's compact logger: progress lines redrawn in place on a terminal."""

import io
import logging

from ticket_intel.core.progress import MARK
from ticket_intel.defs.loggers import CLEAR_TO_END, CompactFormatter, RedrawingHandler


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_line_fits_the_terminal_so_a_redraw_replaces_it(monkeypatch):
    """On 80 columns each update of a 100-column progress line took two new rows: a carriage return
    goes back to the start of a wrapped line's last row only."""
    monkeypatch.setenv("COLUMNS", "80")
    terminal = Terminal()
    handler = RedrawingHandler(terminal)
    handler.setFormatter(CompactFormatter())

    def say(message: str) -> None:
        handler.emit(logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None))

    for done in (10, 20):
        say(f"{MARK}ticket_embeddings: {done}%|███ | {done}0/1000 [00:10<00:12, 45.00 tickets/s] " + "x" * 40)
    say("done")
    written = terminal.getvalue()
    progress, rest = written.rsplit("\n", 2)[0], written.rsplit("\n", 2)[1:]
    draws = progress.split("\r")
    assert len(draws) == 2 and all(d.endswith(CLEAR_TO_END) and len(d) - len(CLEAR_TO_END) < 80 for d in draws)
    assert rest == ["  run: done", ""]
