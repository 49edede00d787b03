"""The WAL is folded back into the log between turns, not inside a turn's COMMIT (a turn in a
hundred used to wait for it), and never grows without bound when a process never idles."""

from __future__ import annotations

import sqlite3

from neuroladder.bot.storage import store as store_mod
from neuroladder.bot.storage.store import CHECKPOINT_EVERY_COMMITS, Store


def _commit_one(store: Store, i: int) -> None:
    with store.transaction():
        store.audit("test", {"i": i})


def _pending_frames(path) -> int:
    """Frames in the WAL not yet copied into the log, as a second reader sees them."""
    conn = sqlite3.connect(path)
    try:
        _, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log - done
    finally:
        conn.close()


def test_commits_leave_the_checkpoint_to_the_idle_step(tmp_path):
    Store(tmp_path / "log.db").close()  # created and migrated: what follows are turns' commits only
    store = Store(tmp_path / "log.db")
    for i in range(CHECKPOINT_EVERY_COMMITS - 1):
        _commit_one(store, i)
    assert not store.checkpoint_when_idle()  # not due yet: nothing done
    _commit_one(store, -1)
    assert store.checkpoint_when_idle()
    assert not store.checkpoint_when_idle()  # done once, then due again only after more commits
    row = store.conn.execute("select count(*) from audit where action = 'test'").fetchone()
    assert row[0] == CHECKPOINT_EVERY_COMMITS
    store.close()


def test_a_process_that_never_idles_still_checkpoints_past_the_hard_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "WAL_HARD_LIMIT_PAGES", 4)
    store = Store(tmp_path / "log.db")
    for i in range(30):
        with store.transaction():
            store.audit("test", {"i": i, "pad": "x" * 3000})
    assert store.wal_pages() >= 4
    # the last commit found the file past the limit and checkpointed: nothing waits for a reader
    assert _pending_frames(tmp_path / "log.db") == 0
    store.close()
