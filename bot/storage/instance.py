"""One running bot per log: an exclusive lock on a file beside it.

Two `neuroladder run` (or `matrix`) processes on one log would answer the same messages twice and
race on the outbox. The lock is an OS file lock (flock), so a process killed with kill -9 leaves
no stale lock behind: the kernel releases it with the process.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .files import PRIVATE


class AlreadyRunning(RuntimeError):
    """Another process holds the log: the message names its pid."""


class InstanceLock:
    def __init__(self, db_path: str | Path):
        self.path = Path(f"{db_path}.lock")
        self.fd: int | None = None

    def acquire(self, what: str = "neuroladder") -> InstanceLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another {what} (pid {other}) is already running on this log "
                f"({self.path.with_suffix('')}); stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def held_by_another(db_path: str | Path) -> bool:
    """True while a running bot holds the lock of this log (restore refuses such a log)."""
    try:
        InstanceLock(db_path).acquire().release()
    except AlreadyRunning:
        return True
    return False
