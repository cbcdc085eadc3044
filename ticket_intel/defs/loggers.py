"""A compact console logger for runs started from the command line: one short line per message,
progress lines redrawn in place on a terminal; Dagster's own event chatter stays in the event log."""

import logging
import shutil
import sys
from typing import TextIO

import dagster as dg

from ticket_intel.core.progress import MARK

CLEAR_TO_END = "\x1b[K"  # the terminal's erase-in-line


class CompactFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        step = meta.get("step_key") or "run"
        message = meta.get("orig_message") or record.getMessage()
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"  {level}{step}: {message}"


class RedrawingHandler(logging.StreamHandler):
    """On a terminal, a progress line replaces the previous one instead of scrolling: cut to the
    terminal's width, as a carriage return goes back to the start of the last row of a wrapped line
    only (each update of a 100-column line took two new rows on 80 columns), and clearing what a
    longer line before it left."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self.redrawing = False

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        progress = MARK in line and self.stream.isatty()
        if progress:
            line = line[:shutil.get_terminal_size().columns - 1] + CLEAR_TO_END
        prefix = "\r" if progress and self.redrawing else ("\n" if self.redrawing else "")
        self.stream.write(prefix + line + ("" if progress else "\n"))
        self.stream.flush()
        self.redrawing = progress


@dg.logger(
    {"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="One short line per message; progress bars redrawn in place on a terminal.",
)
def compact_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("ticket_intel.run")
    logger.setLevel(init_context.logger_config["log_level"])
    handler = RedrawingHandler()
    handler.setFormatter(CompactFormatter())
    logger.handlers = [handler]
    logger.propagate = False
    return logger


@dg.definitions
def loggers() -> dg.Definitions:
    return dg.Definitions(loggers={"console": dg.colored_console_logger, "compact": compact_console})
