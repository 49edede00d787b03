"""Online backup and restore of the log, encrypted or not, while the bot keeps answering.

Backup reads one consistent snapshot (SQLite's backup API; for an encrypted log
`sqlcipher_export` into a copy under the same key, so a backup is never less protected than the
log) into a temporary owner-only file, checks it, then renames it into place. Restore refuses a
log that a running bot holds, checks the backup first, and replaces the log and its stale WAL/SHM.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import crypto
from .files import make_private, protect_log
from .instance import InstanceLock, held_by_another


class BackupError(RuntimeError):
    """One line for the operator: what went wrong and what to do."""


def _integrity(path: Path, key: str | None) -> list[str]:
    conn = crypto.connect(path, key, use_env=False)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        tables = conn.execute("select count(*) from sqlite_master where type = 'table'").fetchone()[0]
    finally:
        conn.close()
    return problems + ([] if tables else ["no tables: not a NeuroLadder log"])


def _sidecars(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]


def backup(log: str | Path, target: str | Path, key: str | None = None) -> int:
    """Copy the live log to `target`; returns the number of tables copied."""
    log, target = Path(log), Path(target)
    if not log.exists():
        raise BackupError(f"there is no log at {log}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name (a backup never overwrites)")
    tmp = Path(f"{target}.partial")
    for leftover in (tmp, *_sidecars(tmp)):
        leftover.unlink(missing_ok=True)
    source = crypto.connect(log, key, use_env=False)
    try:
        make_private(tmp)
        if key:
            source.execute("ATTACH DATABASE ? AS target KEY ?", [str(tmp), key])
            source.execute("BEGIN")  # one snapshot while the bot goes on writing
            source.execute("SELECT sqlcipher_export('target')")
            version = source.execute("PRAGMA main.user_version").fetchone()[0]
            source.execute(f"PRAGMA target.user_version = {int(version)}")
            source.execute("COMMIT")
            source.execute("DETACH DATABASE target")
        else:
            dest = crypto.connect(tmp, None, use_env=False)
            try:
                source.backup(dest)  # the backup API copies a consistent snapshot, page by page
            finally:
                dest.close()
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    problems = _integrity(tmp, key)
    if problems:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check ({problems[0]}); the log is unchanged")
    os.replace(tmp, target)
    for side in _sidecars(tmp):
        side.unlink(missing_ok=True)
    return _table_count(target, key)


def restore(backup_file: str | Path, log: str | Path, key: str | None = None) -> int:
    """Replace `log` by `backup_file` (checked first); refused while a bot runs on the log."""
    backup_file, log = Path(backup_file), Path(log)
    if not backup_file.exists():
        raise BackupError(f"there is no backup at {backup_file}")
    if held_by_another(log):
        raise BackupError(f"a running bot holds {log}; stop it before restoring")
    with InstanceLock(log):  # and no bot starts on it while the file is swapped
        problems = _integrity(backup_file, key)
        if problems:
            raise BackupError(f"{backup_file} failed its integrity check ({problems[0]}); the log is unchanged")
        tmp = Path(f"{log}.restoring")
        tmp.unlink(missing_ok=True)
        make_private(tmp)
        tmp.write_bytes(backup_file.read_bytes())
        os.replace(tmp, log)
        for side in _sidecars(log):  # the old log's WAL would be replayed onto the restored file
            side.unlink(missing_ok=True)
        protect_log(log)
        problems = _integrity(log, key)
        if problems:
            raise BackupError(f"the restored log failed its integrity check ({problems[0]})")
    return _table_count(log, key)


def _table_count(path: Path, key: str | None) -> int:
    conn = crypto.connect(path, key, use_env=False)
    try:
        return conn.execute("select count(*) from sqlite_master where type = 'table'").fetchone()[0]
    finally:
        conn.close()
