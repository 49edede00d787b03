"""Files the bot writes hold clinical text: owner-only (0600), whatever the umask says."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE = 0o600


def write_private(path: str | Path, data: bytes) -> None:
    """Write `data` to `path`, created (or tightened) to 0600 before a byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # an existing file keeps its old mode through O_CREAT
        with os.fdopen(fd, "wb") as f:
            fd = -1
            f.write(data)
    finally:
        if fd != -1:
            os.close(fd)


def make_private(path: str | Path) -> None:
    """Create `path` empty at 0600 if it is missing; tighten it to 0600 if it exists."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)


def protect_log(path: str | Path) -> None:
    """The log and the WAL/SHM files SQLite keeps beside it (created with the log's mode)."""
    path = str(path)
    if path == ":memory:" or path.startswith("file:"):
        return
    make_private(path)
    for side in (path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(side):
            os.chmod(side, PRIVATE)
