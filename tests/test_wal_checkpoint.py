"""The WAL is folded back into the log between turns, not inside a turn's COMMIT (a turn in a
hundred used to wait for it), and never grows without bound when a process never idles."""

from __future__ import annotations

import shutil
import sqlite3

from neuroladder.bot.storage import store as store_mod
from neuroladder.bot.storage.store import CHECKPOINT_EVERY_COMMITS, Store


def _commit_one(store: Store, i: int, pad: str = "") -> None:
    with store.transaction():
        store.audit("test", {"i": i, "pad": pad})


def _rows_in_the_log_file(path, tmp_path) -> int:
    """Test rows the log file itself holds (checkpointed), read from a copy without its WAL, so
    that looking does not checkpoint."""
    copy = tmp_path / "without-wal.db"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return conn.execute("select count(*) from audit where action = 'test'").fetchone()[0]
    finally:
        conn.close()


def test_commits_leave_the_checkpoint_to_the_idle_step(tmp_path):
    log = tmp_path / "log.db"
    Store(log).close()  # created and migrated: what follows are turns' commits only
    store = Store(log)
    for i in range(CHECKPOINT_EVERY_COMMITS - 1):
        _commit_one(store, i)
    assert not store.checkpoint_when_idle()  # not due yet: nothing done
    assert _rows_in_the_log_file(log, tmp_path) == 0
    _commit_one(store, -1)
    assert _rows_in_the_log_file(log, tmp_path) == 0  # no commit checkpointed on its own
    assert store.checkpoint_when_idle()
    assert _rows_in_the_log_file(log, tmp_path) == CHECKPOINT_EVERY_COMMITS
    assert not store.checkpoint_when_idle()  # done once, then due again only after more commits
    store.close()


def test_a_process_that_never_idles_still_checkpoints_past_the_hard_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "WAL_HARD_LIMIT_PAGES", 4)
    log = tmp_path / "log.db"
    Store(log).close()
    store = Store(log)
    for i in range(CHECKPOINT_EVERY_COMMITS):
        _commit_one(store, i, "x" * 3000)
    assert store.wal_pages() >= 4
    # the last commit found a checkpoint due and the file past the limit: it checkpointed
    assert _rows_in_the_log_file(log, tmp_path) == CHECKPOINT_EVERY_COMMITS
    # ... and the file, which keeps its size, does not make every later commit checkpoint too
    _commit_one(store, -1)
    assert _rows_in_the_log_file(log, tmp_path) == CHECKPOINT_EVERY_COMMITS
    store.close()
