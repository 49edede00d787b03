"""Encryption at rest (SQLCipher, the `neuroladder[encrypted]` extra) with NEUROLADDER_DB_KEY.

A consultation's words never appear in the bytes of the file or its WAL; a wrong or missing key is
one line on stderr (exit 2), never a traceback and never a fresh empty log over the old one;
`neuroladder db encrypt` then `db decrypt` gives back every row.
"""

from __future__ import annotations

import sqlite3
import sys

import pytest

from neuroladder.bot.cli.main import main
from neuroladder.bot.service import Service
from neuroladder.bot.storage import crypto, retention
from neuroladder.bot.storage.store import Store

KEY = "correct horse battery staple"
WORDS = ["gabapentin", "duloxetine", "amitriptyline", "grandmother", "sciatica", "Neurontin"]
CONVERSATION = [
    "/start",
    "gabapentin 600 mg tid x 3 mo, no help - my grandmother's sciatica",
    "no",
    "duloxetine 60 mg for 8 weeks, partial",
    "amitriptyline 25 mg nocte 6 weeks, side effects",
    "diffuse",
    "78 yo",
    "eGFR 35",
    "/summary",
]


def consult(path, key=None) -> None:
    store = Store(path, key=key)
    service = Service(store, admins=set())
    for text in CONVERSATION:
        service.handle("console", "c1", text)
    store.close()


def raw(path) -> bytes:
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            out += p.read_bytes()
    return out


def dump(store: Store) -> dict[str, list[tuple]]:
    names = [
        r[0]
        for r in store.conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"
        )
    ]
    return {n: [tuple(r) for r in store.conn.execute(f"select * from [{n}] order by rowid")] for n in names}


def one_line_failure(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ERROR CORE" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.fixture
def env_key(monkeypatch):
    pytest.importorskip("sqlcipher3")
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    return KEY


def test_a_consultation_leaves_no_readable_word_in_the_file_or_wal(tmp_path, env_key):
    path = tmp_path / "enc.db"
    store = Store(path)
    service = Service(store, admins=set())
    for text in CONVERSATION:
        service.handle("console", "c1", text)
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the words are in the WAL right now, if anywhere
    blob = raw(path)
    for word in WORDS + ["trial.gabapentin", "SQLite format 3"]:
        assert word.encode() not in blob and word.lower().encode() not in blob, word
    assert "grandmother" in store.turns(1)[2]["text"]  # ...and the log itself reads fine with the key
    store.close()
    blob = raw(path)
    assert path.stat().st_size > 4096
    for word in WORDS:
        assert word.encode() not in blob, word
    assert crypto.file_state(path) == "encrypted"


def test_the_key_reopens_it_and_the_consult_continues(tmp_path, env_key):
    path = tmp_path / "enc.db"
    consult(path)
    store = Store(path)
    reply = Service(store, admins=set()).handle("console", "c1", "/summary")[0].plain()
    assert "duloxetine" in reply.lower()
    assert retention.purge(store, 0)["consults"] == 1  # maintenance works through SQLCipher too
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


@pytest.mark.slow  # each encrypted open runs SQLCipher's key derivation; other encryption tests stay fast
def test_a_wrong_key_is_one_clear_line_and_the_file_is_untouched(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "enc.db"
    consult(path)
    before = path.read_bytes()
    monkeypatch.setenv(crypto.KEY_ENV, "not the key")
    with pytest.raises(crypto.DatabaseKeyError, match="wrong NEUROLADDER_DB_KEY"):
        Store(path)
    line = one_line_failure(capsys, ["db", "check", "--db", str(path)])
    assert line == f"neuroladder: cannot open {path}: wrong NEUROLADDER_DB_KEY (or the file is damaged)"
    one_line_failure(capsys, ["purge", "--older-than", "0", "--db", str(path)])
    assert path.read_bytes() == before


def test_a_missing_key_is_refused_never_a_new_empty_log(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "enc.db"
    consult(path)
    before = path.read_bytes()
    monkeypatch.delenv(crypto.KEY_ENV)
    with pytest.raises(crypto.DatabaseKeyError, match="is encrypted"):
        Store(path)
    line = one_line_failure(capsys, ["export", "--consult", "1", "--db", str(path)])
    assert "set NEUROLADDER_DB_KEY" in line
    assert path.read_bytes() == before


def test_the_chat_refuses_to_start_on_a_wrong_key(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "enc.db"
    consult(path)
    monkeypatch.setenv(crypto.KEY_ENV, "nope")
    line = one_line_failure(capsys, ["chat", "--db", str(path)])
    assert "wrong NEUROLADDER_DB_KEY" in line


def test_a_key_on_a_plain_file_says_how_to_encrypt_it(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "plain.db"
    monkeypatch.delenv(crypto.KEY_ENV)
    consult(path)
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    line = one_line_failure(capsys, ["db", "check", "--db", str(path)])
    assert "neuroladder db encrypt" in line


@pytest.mark.slow  # each encrypted open runs SQLCipher's key derivation; other encryption tests stay fast
def test_encrypt_then_decrypt_round_trips_every_row(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "log.db"
    monkeypatch.delenv(crypto.KEY_ENV)
    consult(path)
    store = Store(path)
    original = dump(store)
    store.close()
    assert b"grandmother" in raw(path)

    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    assert main(["db", "encrypt", "--db", str(path)]) == 0
    assert "encrypted in place" in capsys.readouterr().out
    assert crypto.file_state(path) == "encrypted"
    for word in WORDS:
        assert word.encode() not in raw(path), word
    store = Store(path)
    assert dump(store) == original
    store.close()
    one_line_failure(capsys, ["db", "encrypt", "--db", str(path)])  # already encrypted: said, not done twice

    assert main(["db", "decrypt", "--db", str(path)]) == 0
    assert crypto.file_state(path) == "plain"
    monkeypatch.delenv(crypto.KEY_ENV)
    store = Store(path)
    assert dump(store) == original
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert not path.with_name(path.name + ".converting").exists()


@pytest.mark.slow  # each encrypted open runs SQLCipher's key derivation; other encryption tests stay fast
def test_decrypt_with_the_wrong_key_loses_nothing(tmp_path, env_key, monkeypatch, capsys):
    path = tmp_path / "enc.db"
    consult(path)
    before = path.read_bytes()
    monkeypatch.setenv(crypto.KEY_ENV, "wrong")
    one_line_failure(capsys, ["db", "decrypt", "--db", str(path)])
    assert path.read_bytes() == before


def test_without_the_extra_a_key_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sqlcipher3", None)  # import fails as if not installed
    monkeypatch.setenv(crypto.KEY_ENV, KEY)
    with pytest.raises(crypto.DatabaseKeyError, match=r"pip install 'neuroladder\[encrypted\]'"):
        Store(tmp_path / "new.db")
    assert not (tmp_path / "new.db").exists()  # no unencrypted log was started instead


def test_plain_logs_still_work_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    path = tmp_path / "plain.db"
    consult(path)
    assert crypto.file_state(path) == "plain"
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from turns").fetchone()[0] == 2 * len(CONVERSATION)
    conn.close()


@pytest.mark.parametrize("examples", [30, pytest.param(300, marks=pytest.mark.slow)])
def test_hostile_messages_through_an_encrypted_log(tmp_path, env_key, examples):
    """The fuzzer's messages through SQLCipher (its own exception classes, not sqlite3's)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from test_fuzz import ErrorLog, check_log, messages, send_and_check

    store = Store(tmp_path / "enc.db")
    service = Service(store, admins=set())
    errors = ErrorLog()

    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(messages(), st.integers(0, 3))
    def one(text, chat):
        send_and_check(store, service, errors, f"chat{chat}", text)

    import logging

    logging.getLogger("neuroladder").addHandler(errors)
    try:
        one()
    finally:
        logging.getLogger("neuroladder").removeHandler(errors)
    check_log(store)
    store.close()
