"""Retention and export on a real log file: `neuroladder purge` / `export` and the admin chat commands."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from neuroladder.bot.cli.main import main
from neuroladder.bot.service import Service
from neuroladder.bot.storage import retention
from neuroladder.bot.storage.store import Store

OLD_WORDS = "lighthousekeeper"  # appears only in the old consult's turns


def backdate(store: Store, consult_id: int, days: int) -> None:
    at = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    store.conn.execute("update consults set created_at = ?, updated_at = ? where id = ?", [at, at, consult_id])


@pytest.fixture
def log(tmp_path):
    """A file with an old consult (400 days, with a tutoring round and a handled inbox/outbox row) and a
    recent one (10 days)."""
    path = tmp_path / "log.db"
    store = Store(path)
    service = Service(store, admins={"42"})
    service.handle("console", "old", f"gabapentin 300 mg tid x 3 mo, no help; retired {OLD_WORDS}")
    service.handle("console", "old", "duloxetine 60 mg 8 weeks partial")
    service.handle("console", "new", "pregabalin 300 mg bd x 3 mo, side effects")
    old = store.open_consult("console", "old")["id"]
    new = store.open_consult("console", "new")["id"]
    round_id = (
        store.db["tutor_rounds"]
        .insert({"channel": "console", "chat_id": "old", "consult_id": old, "case_id": "c1"})
        .last_pk
    )
    store.db["tutor_attempts"].insert({"round_id": round_id, "learner": "l1", "text": f"{OLD_WORDS} guess"})
    long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    store.db["inbox"].insert(
        {
            "channel": "telegram",
            "update_key": "1",
            "chat_id": "old",
            "received_at": long_ago,
            "done_at": long_ago,
            "payload": json.dumps({"text": OLD_WORDS}),
        }
    )
    store.db["outbox"].insert(
        {
            "channel": "telegram",
            "chat_id": "old",
            "created_at": long_ago,
            "sent_at": long_ago,
            "reply": json.dumps({"parts": [["", OLD_WORDS]]}),
        }
    )
    backdate(store, old, 400)
    backdate(store, new, 10)
    yield path, store, service, old, new
    store.close()


def count(path, sql, args=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchone()[0]
    finally:
        conn.close()


def test_purge_deletes_whole_old_consults_and_keeps_recent_ones(log, capsys):
    path, store, _, old, new = log
    store.close()
    assert main(["purge", "--older-than", "365", "--db", str(path)]) == 0
    assert "deleted 1 consult(s)" in capsys.readouterr().out
    for table in ("turns", "facts", "findings", "tutor_rounds"):
        assert count(path, f"select count(*) from {table} where consult_id = ?", [old]) == 0, table
        assert table == "tutor_rounds" or count(path, f"select count(*) from {table} where consult_id = ?", [new]) > 0
    assert count(path, "select count(*) from consults where id = ?", [old]) == 0
    assert count(path, "select count(*) from consults where id = ?", [new]) == 1
    assert count(path, "select count(*) from tutor_attempts") == 0
    assert count(path, "select count(*) from inbox") == 0 and count(path, "select count(*) from outbox") == 0
    detail = json.loads(count(path, "select detail from audit where action = 'purge'"))
    assert detail["consult_ids"] == [old] and detail["by"] == "cli" and detail["rows"]["turns"] == 4
    assert count(path, "PRAGMA integrity_check") == "ok"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_purged_words_are_gone_from_the_file_bytes(log):
    """secure_delete and a WAL checkpoint: the deleted text is not left in free pages or the WAL."""
    path, store, _, old, _ = log
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert OLD_WORDS.encode() in path.read_bytes()
    retention.purge(store, 365, by="test")
    store.close()
    wal = path.with_name(path.name + "-wal")
    blob = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert OLD_WORDS.encode() not in blob


def test_dry_run_counts_and_deletes_nothing(log, capsys):
    path, store, _, old, _ = log
    store.close()
    assert main(["purge", "--older-than", "365", "--dry-run", "--db", str(path)]) == 0
    assert "would delete 1 consult(s)" in capsys.readouterr().out
    assert count(path, "select count(*) from turns where consult_id = ?", [old]) == 4
    assert count(path, "select count(*) from audit where action = 'purge'") == 0


def test_purge_age_counts_from_the_last_activity(log):
    path, store, service, old, _ = log
    service.handle("console", "old", "78 yo")  # the old consult is in use again today
    assert retention.purge(store, 365)["consults"] == 0


def test_export_writes_one_consult_as_json(log, tmp_path, capsys):
    path, store, _, old, _ = log
    store.close()
    out = tmp_path / "consult.json"
    assert main(["export", "--consult", str(old), "--db", str(path), "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["consult"]["id"] == old and data["consult"]["chat_id"] == "old"
    assert [t["seq"] for t in data["turns"]] == [1, 2, 3, 4]
    assert OLD_WORDS in data["turns"][0]["text"] and data["turns"][1]["direction"] == "out"
    facts = {f["name"]: f["value"] for f in data["facts"] if f["retracted_at"] is None}
    assert facts["trial.gabapentin.dose"] == 900 and facts["trial.duloxetine.outcome"] == "partial"
    assert data["findings"] and all(isinstance(f["sources"], list) for f in data["findings"])
    assert data["tutor_attempts"][0]["learner"] == "l1"
    assert "pregabalin" not in json.dumps(data["facts"])  # the other consult is not in it
    assert json.loads(count(path, "select detail from audit where action = 'export'"))["consult"] == old
    # to stdout
    assert main(["export", "--consult", str(old), "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["consult"]["id"] == old


def test_export_of_a_missing_consult_is_one_line(log, capsys):
    path, store, *_ = log
    store.close()
    assert main(["export", "--consult", "999", "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "neuroladder: there is no consult 999"


def test_maintenance_never_creates_a_log(tmp_path, capsys):
    missing = tmp_path / "nope.db"
    assert main(["purge", "--older-than", "30", "--db", str(missing)]) == 2
    assert main(["export", "--consult", "1", "--db", str(missing)]) == 2
    assert not missing.exists()
    assert capsys.readouterr().err.count("there is no log at") == 2


# -- admin chat commands --------------------------------------------------------------------------------
def test_non_admins_cannot_purge_or_export(log):
    path, store, service, old, _ = log
    for cmd in ("/purge 1", f"/exportconsult {old}"):
        reply = service.handle("telegram", "999", cmd, author="7")[0]
        assert "administrators only" in reply.plain() and not reply.attachments
    assert store.conn.execute("select count(*) from consults where id = ?", [old]).fetchone()[0] == 1
    assert store.conn.execute("select count(*) from audit where action = 'denied'").fetchone()[0] == 2


def test_admin_purges_from_the_chat_and_keeps_the_asking_consult(log):
    path, store, service, old, new = log
    reply = service.handle("telegram", "999", "/purge 0", author="42")[0].plain()
    assert "Purged 2 consult(s)" in reply
    left = [r[0] for r in store.conn.execute("select chat_id from consults")]
    assert left == ["999"]  # the admin's own consult, which is in use
    assert json.loads(store.conn.execute("select detail from audit where action = 'purge'").fetchone()[0])["by"] == "42"
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_an_in_chat_purge_leaves_no_deleted_text_in_the_wal_while_the_bot_runs(log):
    """The purge runs inside the channel's transaction; its checkpoint runs after that commits, so
    the WAL is emptied at once, not at shutdown."""
    path, store, service, old, _ = log
    wal = path.with_name(path.name + "-wal")
    assert OLD_WORDS.encode() in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with store.transaction():  # as a channel wraps Service.handle with its inbox/outbox writes
        reply = service.handle("telegram", "999", "/purge 365", author="42")[0].plain()
    assert "Purged 1 consult(s)" in reply
    blob = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")  # the store is still open
    assert OLD_WORDS.encode() not in blob


def test_admin_exports_a_consult_as_a_file(log):
    path, store, service, old, _ = log
    reply = service.handle("telegram", "999", f"/exportconsult {old}", author="42", private=True)[0]
    (att,) = reply.attachments
    assert att.filename == f"consult-{old}.json" and att.mime == "application/json"
    assert json.loads(att.data)["turns"][0]["text"].endswith(OLD_WORDS)
    assert (
        "Not exported" in service.handle("telegram", "999", "/exportconsult 9999", author="42", private=True)[0].plain()
    )
    assert "Usage" in service.handle("telegram", "999", "/purge soon", author="42")[0].plain()


def test_admins_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROLADDER_ADMINS", "42, 43")
    store = Store(tmp_path / "a.db")
    assert Service(store).admins == {"42", "43"}
    store.close()
