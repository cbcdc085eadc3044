"""Is a process still alive? What the operating system says about run workers.

A pid alone is not an identity: after a crash the number may be reused by an unrelated process.
A process is identified by its pid, its host and its start time together.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class ProcessId:
    pid: int
    host: str
    started: float

    @classmethod
    def current(cls) -> ProcessId:
        return cls(os.getpid(), socket.gethostname(), psutil.Process().create_time())

    def is_local(self) -> bool:
        return self.host == socket.gethostname()

    def is_current(self) -> bool:
        """Whether this is the process asking (a pid is reused: its start time tells)."""
        return self.is_local() and self.pid == os.getpid() and abs(psutil.Process().create_time() - self.started) < 1.0

    def alive(self) -> bool:
        """True while this very process runs (a zombie, killed but not yet reaped, is gone)."""
        try:
            process = psutil.Process(self.pid)
            return abs(process.create_time() - self.started) < 1.0 and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
