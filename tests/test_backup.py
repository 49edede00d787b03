"""`neuroladder db backup PATH` / `db restore PATH`: an online copy of a live log (plain or
encrypted, keeping its encryption) while consultations go on, and a checked restore that refuses
a log a running bot holds."""

from __future__ import annotations

import threading

import pytest

from neuroladder.bot.cli.main import main
from neuroladder.bot.service import Service
from neuroladder.bot.storage import crypto
from neuroladder.bot.storage.backup import BackupError, backup, restore
from neuroladder.bot.storage.instance import InstanceLock
from neuroladder.bot.storage.store import Store


def consult_count(path, key=None) -> int:
    conn = crypto.connect(path, key, use_env=False)
    try:
        return conn.execute("select count(*) from consults").fetchone()[0]
    finally:
        conn.close()


def test_backup_while_consultations_go_on_then_restore(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    log, copy = tmp_path / "log.db", tmp_path / "backup.db"
    store = Store(log)
    service = Service(store, admins=set())
    service.handle("console", "c0", "gabapentin 300 mg tid x 3 mo, no help")
    stop = threading.Event()
    errors: list[Exception] = []

    def keep_consulting() -> None:  # a second process would do the same; a thread keeps the test short
        writer = Store(log)
        other = Service(writer, admins=set())
        i = 0
        try:
            while not stop.is_set():
                i += 1
                other.handle("console", f"w{i}", "duloxetine 60 mg for 8 weeks, partial")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            writer.close()

    lock = InstanceLock(log).acquire()  # as `neuroladder run` holds it
    worker = threading.Thread(target=keep_consulting)
    worker.start()
    try:
        assert main(["db", "backup", str(copy), "--db", str(log)]) == 0
    finally:
        stop.set()
        worker.join(30)
    assert not errors
    assert "integrity ok" in capsys.readouterr().out
    backed_up = consult_count(copy)
    assert backed_up >= 1 and copy.stat().st_mode & 0o077 == 0

    # restore refuses while the bot holds the log, and leaves it untouched
    assert main(["db", "restore", str(copy), "--db", str(log)]) == 2
    assert "stop it before restoring" in capsys.readouterr().err
    store.close()
    lock.release()
    total = consult_count(log)
    assert total >= backed_up
    assert main(["db", "restore", str(copy), "--db", str(log)]) == 0
    assert consult_count(log) == backed_up
    assert main(["db", "check", "--db", str(log)]) == 0


def test_a_backup_never_overwrites_and_a_damaged_backup_is_not_restored(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    log = tmp_path / "log.db"
    Store(log).close()
    (tmp_path / "taken.db").write_bytes(b"x")
    with pytest.raises(BackupError, match="never overwrites"):
        backup(log, tmp_path / "taken.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises((BackupError, crypto.DatabaseOpenError)):
        restore(bad, log)
    assert consult_count(log) == 0  # the log is still the original, readable


@pytest.mark.slow  # each encrypted open runs SQLCipher's key derivation; other encryption tests stay fast
def test_an_encrypted_log_is_backed_up_encrypted_with_the_same_key(tmp_path, monkeypatch):
    pytest.importorskip("sqlcipher3")
    monkeypatch.setenv(crypto.KEY_ENV, "s3cret-key")
    log, copy = tmp_path / "log.db", tmp_path / "copy.db"
    store = Store(log)
    Service(store, admins=set()).handle("console", "c1", "pregabalin 300 mg bd, nothing readable here")
    assert main(["db", "backup", str(copy), "--db", str(log)]) == 0
    store.close()
    assert crypto.file_state(copy) == "encrypted"
    assert b"pregabalin" not in copy.read_bytes()
    assert consult_count(copy, "s3cret-key") == 1
    assert main(["db", "restore", str(copy), "--db", str(log)]) == 0
    assert consult_count(log, "s3cret-key") == 1
