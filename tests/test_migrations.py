"""Schema migrations: a log written by an older NeuroLadder is upgraded in place, nothing lost.

`V1_SCHEMA` is the schema exactly as the first release wrote it (only `m001_initial` applied),
frozen here on purpose: if someone edits m001 instead of adding a migration, old files and this
test part ways.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage import store as store_mod
from neuroladder.bot.storage.store import MIGRATIONS, Store

V1_SCHEMA = """
CREATE TABLE "migrations" ("name" TEXT PRIMARY KEY, "applied_at" TEXT);
CREATE TABLE "consults" ("id" INTEGER PRIMARY KEY, "channel" TEXT NOT NULL, "chat_id" TEXT NOT NULL, "mode" TEXT,
   "status" TEXT NOT NULL, "created_at" TEXT, "updated_at" TEXT, "ruleset_version" TEXT, "state" TEXT);
CREATE INDEX "idx_consults_channel_chat_id_status" ON "consults" ("channel", "chat_id", "status");
CREATE TABLE "turns" ("id" INTEGER PRIMARY KEY, "consult_id" INTEGER REFERENCES "consults"("id"), "seq" INTEGER,
   "direction" TEXT, "author" TEXT, "text" TEXT, "created_at" TEXT, "inbox_id" INTEGER);
CREATE INDEX "idx_turns_consult_id_seq" ON "turns" ("consult_id", "seq");
CREATE TABLE "facts" ("id" INTEGER PRIMARY KEY, "consult_id" INTEGER REFERENCES "consults"("id"), "name" TEXT,
   "value" TEXT, "turn_id" INTEGER REFERENCES "turns"("id"), "asserted_at" TEXT, "retracted_at" TEXT,
   "retracted_turn_id" INTEGER);
CREATE INDEX "idx_facts_consult_id_retracted_at" ON "facts" ("consult_id", "retracted_at");
CREATE TABLE "findings" ("id" INTEGER PRIMARY KEY, "consult_id" INTEGER REFERENCES "consults"("id"),
   "turn_id" INTEGER REFERENCES "turns"("id"), "code" TEXT, "severity" TEXT, "step" TEXT, "sources" TEXT,
   "rule" TEXT, "text" TEXT, "created_at" TEXT);
CREATE INDEX "idx_findings_consult_id_turn_id" ON "findings" ("consult_id", "turn_id");
CREATE TABLE "inbox" ("id" INTEGER PRIMARY KEY, "channel" TEXT, "update_key" TEXT, "chat_id" TEXT, "payload" TEXT,
   "received_at" TEXT, "done_at" TEXT);
CREATE UNIQUE INDEX "idx_inbox_channel_update_key" ON "inbox" ("channel", "update_key");
CREATE INDEX "idx_inbox_done_at" ON "inbox" ("done_at");
CREATE TABLE "outbox" ("id" INTEGER PRIMARY KEY, "channel" TEXT, "chat_id" TEXT, "reply" TEXT, "created_at" TEXT,
   "sent_at" TEXT, "inbox_id" INTEGER);
CREATE INDEX "idx_outbox_sent_at" ON "outbox" ("sent_at");
CREATE TABLE "refusals" ("channel" TEXT PRIMARY KEY, "count" INTEGER);
CREATE TABLE "audit" ("id" INTEGER PRIMARY KEY, "at" TEXT, "action" TEXT, "detail" TEXT);
INSERT INTO migrations VALUES ('m001_initial', '2026-01-05T09:00:00.000+00:00');
"""

V1_DATA = """
INSERT INTO consults VALUES (1, 'telegram', '2001', 'consult', 'closed', '2026-01-05T09:01:00.000+00:00',
  '2026-01-05T09:05:00.000+00:00', 'old-ruleset', '{"skipped": [], "changes": [{"turn": 1}], "finished": true}');
INSERT INTO consults VALUES (2, 'console', 'console-abc', 'consult', 'open', '2026-01-06T10:00:00.000+00:00',
  '2026-01-06T10:02:00.000+00:00', 'old-ruleset', '{"skipped": [], "changes": [{"turn": 3}]}');
INSERT INTO turns VALUES (1, 1, 1, 'in', '2001', 'pregabalin 300 mg bd x 3 mo, no help', '2026-01-05T09:01:00.000+00:00', 1);
INSERT INTO turns VALUES (2, 1, 2, 'out', NULL, 'Noted: pregabalin 600 mg/day', '2026-01-05T09:01:01.000+00:00', 1);
INSERT INTO turns VALUES (3, 2, 1, 'in', 'console', 'gabapentin 600 mg tid x 3 mo, no help', '2026-01-06T10:00:00.000+00:00', NULL);
INSERT INTO turns VALUES (4, 2, 2, 'out', NULL, 'Noted: gabapentin 1800 mg/day', '2026-01-06T10:00:01.000+00:00', NULL);
INSERT INTO facts VALUES (1, 1, 'trial.pregabalin.tried', '"yes"', 1, '2026-01-05T09:01:00.000+00:00', NULL, NULL);
INSERT INTO facts VALUES (2, 1, 'trial.pregabalin.dose', '600', 1, '2026-01-05T09:01:00.000+00:00', NULL, NULL);
INSERT INTO facts VALUES (3, 2, 'trial.gabapentin.tried', '"yes"', 3, '2026-01-06T10:00:00.000+00:00', NULL, NULL);
INSERT INTO facts VALUES (4, 2, 'trial.gabapentin.dose', '1800', 3, '2026-01-06T10:00:00.000+00:00', NULL, NULL);
INSERT INTO facts VALUES (5, 2, 'trial.gabapentin.outcome', '"no_benefit"', 3, '2026-01-06T10:00:00.000+00:00', NULL, NULL);
INSERT INTO findings VALUES (1, 1, 1, 'renal_unknown', 'warning', 'step1', '["1"]', 'renal_unknown', 'Renal function unknown.',
  '2026-01-05T09:01:00.000+00:00');
INSERT INTO inbox VALUES (1, 'telegram', '10001', '2001', '{"kind": "text", "text": "pregabalin 300 mg bd"}',
  '2026-01-05T09:01:00.000+00:00', '2026-01-05T09:01:01.000+00:00');
INSERT INTO outbox VALUES (1, 'telegram', '2001', '{"parts": [["", "Noted"]], "choices": [], "attachments": []}',
  '2026-01-05T09:01:01.000+00:00', '2026-01-05T09:01:02.000+00:00', 1);
INSERT INTO refusals VALUES ('matrix', 2);
INSERT INTO audit VALUES (1, '2026-01-05T09:00:00.000+00:00', 'start', '{}');
"""
V1_TABLES = ["migrations", "consults", "turns", "facts", "findings", "inbox", "outbox", "refusals", "audit"]


@pytest.fixture
def v1_file(tmp_path):
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA + V1_DATA)
    conn.commit()
    conn.close()
    return path


def dump(path, tables) -> dict[str, list[tuple]]:
    """Every row of `tables` in the columns the first release wrote (later migrations may add columns)."""
    conn = sqlite3.connect(path)
    v1 = sqlite3.connect(":memory:")
    v1.executescript(V1_SCHEMA)
    try:
        out = {}
        for t in tables:
            columns = ", ".join(f"[{row[1]}]" for row in v1.execute(f"pragma table_info([{t}])"))
            out[t] = conn.execute(f"select {columns} from [{t}] order by rowid").fetchall()
        return out
    finally:
        conn.close()
        v1.close()


def test_an_older_file_is_upgraded_in_place_with_nothing_lost(v1_file):
    before = dump(v1_file, V1_TABLES)
    store = Store(v1_file)
    names = [r["name"] for r in store.db["migrations"].rows_where(order_by="rowid")]
    assert names == [name for name, _ in MIGRATIONS]  # every migration recorded, in order, once
    assert store.schema_version == len(MIGRATIONS) > 1
    store.close()
    after = dump(v1_file, V1_TABLES)
    after["migrations"] = after["migrations"][:1]
    assert after == before  # every old row, byte for byte
    conn = sqlite3.connect(v1_file)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_an_open_consult_from_the_older_file_carries_on(v1_file):
    store = Store(v1_file)
    service = Service(store, admins=set())
    reply = service.handle("console", "console-abc", "/summary")[0].plain()
    assert "gabapentin" in reply.lower() and "1800" in reply  # the facts written by the old version
    service.handle("console", "console-abc", "duloxetine 60 mg x 8 weeks, partial")
    seqs = [r[0] for r in store.conn.execute("select seq from turns where consult_id = 2 order by seq")]
    assert seqs == [1, 2, 3, 4, 5, 6]  # same consult, numbering continues
    assert store.conn.execute("select count(*) from consults").fetchone()[0] == 2
    store.close()


def test_opening_an_upgraded_file_again_changes_nothing(v1_file):
    Store(v1_file).close()
    first = dump(v1_file, V1_TABLES)
    store = Store(v1_file)
    assert store.migrate() == []
    store.close()
    assert dump(v1_file, V1_TABLES) == first


def test_a_failing_migration_leaves_the_file_as_it_was(v1_file, monkeypatch):
    def m999_broken(db):
        db["half_done"].create({"id": int}, pk="id")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS + [("m999_broken", m999_broken)])
    with pytest.raises(RuntimeError):
        Store(v1_file)
    conn = sqlite3.connect(v1_file)
    names = [r[0] for r in conn.execute("select name from migrations order by rowid")]
    assert "m999_broken" not in names and names == [n for n, _ in MIGRATIONS]  # the good ones stuck
    assert conn.execute("select count(*) from sqlite_master where name = 'half_done'").fetchone()[0] == 0
    conn.close()
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
    store = Store(v1_file)
    assert json.loads(store.db["facts"].get(4)["value"]) == 1800
    store.close()


def test_db_check_reports_a_sound_file(v1_file, capsys):
    from neuroladder.bot.cli.main import main

    assert main(["db", "check", "--db", str(v1_file)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"{v1_file}: ok; plain; migrations {', '.join(n for n, _ in MIGRATIONS)}"


def test_db_check_reports_a_damaged_file_without_a_traceback(tmp_path, capsys):
    from neuroladder.bot.cli.main import main

    path = tmp_path / "damaged.db"
    store = Store(path)
    service = Service(store, admins=set())
    for i in range(40):
        service.handle("console", f"c{i}", "gabapentin 300 mg tid x 3 mo, no help " + "words " * 200)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 12 * page
    data[6 * page : 10 * page] = b"\xff" * (4 * page)  # a run of pages overwritten with garbage
    path.write_bytes(bytes(data))
    assert main(["db", "check", "--db", str(path)]) == 1
    captured = capsys.readouterr()
    assert "DAMAGED" in captured.out and "Traceback" not in captured.out + captured.err


def test_findings_rows_record_the_version_that_produced_them(v1_file):
    """m007: older rows keep NULL (their producer is unknown); new rows carry the ruleset and data version."""
    store = Store(v1_file)
    service = Service(store, admins=set())
    service.handle("console", "console-abc", "duloxetine 60 mg x 8 weeks, partial")
    rows = store.conn.execute("select id, ruleset_version from findings order by id").fetchall()
    assert rows[0] == (1, None)
    assert {v for _, v in rows[1:]} == {service.tk.version} and len(service.tk.version) == 12
    store.close()


def test_matrix_tables_come_from_a_migration_and_survive_an_older_matrix_log(tmp_path):
    """m008: a fresh log has the Matrix channel's tables; a log where an older `neuroladder matrix`
    created them itself keeps its sync position (no event is synced twice or skipped)."""
    fresh = Store(tmp_path / "fresh.db")
    assert {"matrix_sync", "matrix_sent", "matrix_rooms", "matrix_devices"} <= set(fresh.db.table_names())
    conn = sqlite3.connect(tmp_path / "older.db")
    conn.executescript(V1_SCHEMA)
    conn.execute("CREATE TABLE [matrix_sync] ([key] TEXT PRIMARY KEY, [value] TEXT)")
    conn.execute("INSERT INTO matrix_sync VALUES ('next_batch', 's72_older')")
    conn.commit()
    conn.close()
    from neuroladder.bot.storage.matrix import MatrixState

    assert MatrixState(Store(tmp_path / "older.db")).sync_token() == "s72_older"
