"""Every file the bot writes holds clinical text, so it is owner-only (0600) whatever the umask:
the log and its WAL/SHM, exported transcripts, converted (encrypted/decrypted) logs, and the
console's /export and /ladder files (written into --out)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask():
    old = os.umask(0o022)  # a typical umask: without care every file would be 0644
    yield
    os.umask(old)


def test_the_log_wal_and_shm_are_owner_only(tmp_path):
    path = tmp_path / "log.db"
    store = Store(path)
    Service(store, admins=set()).handle("console", "c1", "gabapentin 300 mg tid, no help")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("log.db")]
    assert {p.name for p in files} >= {"log.db", "log.db-wal", "log.db-shm"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    store.close()


def test_an_existing_loose_log_is_tightened_on_open(tmp_path):
    path = tmp_path / "log.db"
    Store(path).close()
    os.chmod(path, 0o644)
    Store(path).close()
    assert mode(path) == 0o600


@pytest.mark.slow  # starts the command as a process
def test_cli_export_writes_an_owner_only_file(tmp_path):
    db = tmp_path / "log.db"
    store = Store(db)
    Service(store, admins=set()).handle("console", "c1", "duloxetine 30 mg")
    consult = store.db["consults"].rows.__next__()["id"]
    store.close()
    out = tmp_path / "consult.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuroladder.bot.cli.main",
            "export",
            "--db",
            str(db),
            "--consult",
            str(consult),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert mode(out) == 0o600 and "duloxetine" in out.read_text()


@pytest.mark.slow  # starts the command as a process
def test_console_attachments_are_owner_only_in_the_out_folder(tmp_path):
    db, out = tmp_path / "log.db", tmp_path / "files"
    run = subprocess.run(
        [sys.executable, "-m", "neuroladder.bot.cli.main", "chat", "--db", str(db), "--out", str(out)],
        input="gabapentin 600 tid x 3 mo, no help\n/export\n/ladder\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    written = list(out.iterdir())
    assert {p.suffix for p in written} == {".md", ".png"}
    assert all(mode(p) == 0o600 for p in written) and mode(out) == 0o700
    assert not list(tmp_path.glob("neuroladder-*")), "nothing lands in the working directory"


@pytest.mark.slow  # each encrypted open runs SQLCipher's key derivation; other encryption tests stay fast
def test_encrypt_and_decrypt_keep_the_log_owner_only(tmp_path):
    pytest.importorskip("sqlcipher3")
    from neuroladder.bot.storage import crypto

    path = tmp_path / "log.db"
    Store(path).close()
    crypto.encrypt_file(path, "k3y")
    assert mode(path) == 0o600
    crypto.decrypt_file(path, "k3y")
    assert mode(path) == 0o600
