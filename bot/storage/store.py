"""The consultation log: one SQLite file (WAL) through sqlite-utils.

SQLite is the truth; the rules engine is only a cache recomputed from the facts stored here.
Schema changes are named migrations recorded in the `migrations` table, applied in order, so an
older file is upgraded in place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from . import crypto
from .migrations import MIGRATIONS

DEFAULT_DB = "neuroladder.db"
# SQLite checkpoints its WAL inside the COMMIT that crosses 1,000 pages, so about one turn in a
# hundred paid for it (bench/README.md). The channels checkpoint between turns instead
# (`checkpoint_when_idle`, after CHECKPOINT_EVERY_COMMITS commits: a turn writes a few pages, so
# about as often as SQLite would). A commit checkpoints at once only when a checkpoint is due that
# no idle step took and the WAL file has passed WAL_HARD_LIMIT_PAGES, so a process that never
# idles cannot grow it without bound. (The WAL file keeps its size after a checkpoint and is
# written again from its start, so its size tells the most ever pending, not what is pending now:
# hence the count first.)
CHECKPOINT_EVERY_COMMITS = 50
WAL_HARD_LIMIT_PAGES = 10_000


def default_db_path() -> str:
    return os.environ.get("NEUROLADDER_DB") or DEFAULT_DB


# A findings row's sources as JSON, by the labels themselves: a turn's evaluation makes new
# findings whose few distinct source lists recur turn after turn, so each is encoded once.
_SOURCES_ENCODED: dict[tuple, str] = {}
SOURCES_ENCODED_MAX = 4096


def _sources_json(sources: list) -> str:
    key = tuple(sources)
    if not all(label.__class__ is str for label in key):  # 1, 1.0 and True are one key: not memoised
        return json.dumps(sources)
    encoded = _SOURCES_ENCODED.get(key)
    if encoded is None:
        if len(_SOURCES_ENCODED) >= SOURCES_ENCODED_MAX:  # bounded whatever the rules cite
            _SOURCES_ENCODED.clear()
        encoded = _SOURCES_ENCODED[key] = json.dumps(sources)
    return encoded


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Store:
    """Owns the SQLite connection. One thread uses it (the event loop), see `transaction`."""

    def __init__(
        self, path: str | Path | None = None, *, conn: sqlite3.Connection | None = None, key: str | None = None
    ):
        self.path = str(path or default_db_path())
        if conn is None:
            # plain sqlite3, or SQLCipher when a key is given or NEUROLADDER_DB_KEY is set (bot/storage/crypto.py)
            conn = crypto.connect(self.path, key)
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._depth = 0
        self._after_commit: list[Callable[[], None]] = []
        self._stamp: str | None = None  # the open transaction's time (see _now)
        self.conn.execute("PRAGMA busy_timeout = 5000")
        self._wal = None
        self._commits_since_checkpoint = 0
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY_COMMITS
            self._wal = self.path + "-wal"
            self._page_size = int(self.conn.execute("PRAGMA page_size").fetchone()[0])  # SQLCipher: a str
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.migrate()

    # -- plumbing ----------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        if "migrations" not in self.db.table_names():
            self.db["migrations"].create({"name": str, "applied_at": str}, pk="name")
        done = {r["name"] for r in self.db["migrations"].rows}
        applied = []
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                fn(self.db)
                self.db["migrations"].insert({"name": name, "applied_at": now()})
            applied.append(name)
        return applied

    @property
    def schema_version(self) -> int:
        return self.db["migrations"].count

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit. A nested call is a SAVEPOINT: if it fails, only its own writes are
        undone and the outer unit (e.g. a channel's inbox transaction) can still record the error
        turn and commit."""
        with self._lock:
            depth = self._depth
            self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp_{depth}")
            self._depth += 1
            try:
                yield self.db
            except BaseException:
                self._depth -= 1
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO sp_{depth}")
                    self.conn.execute(f"RELEASE sp_{depth}")
                raise
            else:
                self._depth -= 1
                self.conn.execute("COMMIT" if depth == 0 else f"RELEASE sp_{depth}")
                if depth == 0:
                    self._commits_since_checkpoint += 1
                    if (
                        self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS
                        and self.wal_pages() >= WAL_HARD_LIMIT_PAGES
                    ):
                        self._checkpoint()
                    self._run_after_commit()
            finally:
                if depth == 0:
                    self._after_commit.clear()  # a rolled-back unit's follow-ups never run
                    self._stamp = None

    def _now(self) -> str:
        """One time for every row a transaction writes (a turn's rows are one instant in the log),
        read once instead of once per row; the clock's own outside a transaction."""
        if self._depth == 0:
            return now()
        if self._stamp is None:
            self._stamp = now()
        return self._stamp

    def wal_pages(self) -> int:
        """The size of the write-ahead log file, in pages (0 for a log in memory)."""
        try:
            return os.stat(self._wal).st_size // self._page_size if self._wal else 0
        except FileNotFoundError:
            return 0

    def checkpoint_when_idle(self) -> bool:
        """Between turns (a channel with nothing left to do): fold the WAL back into the log once
        CHECKPOINT_EVERY_COMMITS commits wait in it. Returns whether it did."""
        if self._depth or not self._wal or self._commits_since_checkpoint < CHECKPOINT_EVERY_COMMITS:
            return False
        self._checkpoint()
        return True

    def _checkpoint(self) -> None:
        # PASSIVE: never waits for readers; what it cannot copy now is copied next time.
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._commits_since_checkpoint = 0

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the outermost transaction has committed (now, if none is open): work that
        cannot run inside one, such as the WAL checkpoint after a purge."""
        if self._depth == 0:
            fn()
        else:
            self._after_commit.append(fn)

    def _run_after_commit(self) -> None:
        pending, self._after_commit = self._after_commit, []
        for fn in pending:
            fn()

    def close(self) -> None:
        self.conn.close()

    def audit(self, action: str, detail: dict[str, Any]) -> None:
        self.db["audit"].insert({"at": self._now(), "action": action, "detail": json.dumps(detail)})

    # -- consults ----------------------------------------------------------------------------
    def _rows(self, sql: str, args: list) -> list[dict]:
        """Rows as dicts by plain SQL: sqlite-utils' rows_where() lists the tables and views first,
        on every call (the outbox is read before every send)."""
        cur = self.conn.execute(sql, args)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def open_consult(self, channel: str, chat_id: str) -> dict | None:
        cur = self.conn.execute(
            "select * from consults where channel = ? and chat_id = ? and status = 'open' order by id desc limit 1",
            [channel, chat_id],
        )
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def new_consult(self, channel: str, chat_id: str, ruleset_version: str, mode: str = "consult") -> dict:
        with self.transaction():
            self.db.execute(
                "update consults set status = 'closed', updated_at = ? where channel = ? and chat_id = ? and status = 'open'",
                [self._now(), channel, chat_id],
            )
            row = {
                "channel": channel,
                "chat_id": chat_id,
                "mode": mode,
                "status": "open",
                "created_at": self._now(),
                "updated_at": self._now(),
                "ruleset_version": ruleset_version,
                "state": "{}",
            }
            # plain SQL: sqlite-utils' insert() inspects the table on every call (~0.4 ms of a first turn)
            row["id"] = self.conn.execute(
                f"insert into consults ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values())
            ).lastrowid
        return row

    def save_state(self, consult_id: int, state: dict) -> str:
        """Returns the state as written (JSON)."""
        raw = json.dumps(state)
        self.conn.execute("update consults set state = ?, updated_at = ? where id = ?", [raw, self._now(), consult_id])
        return raw

    def add_turn(
        self,
        consult_id: int,
        direction: str,
        text: str,
        author: str | None = None,
        inbox_id: int | None = None,
        origin: str | None = None,
    ) -> int:
        # Plain SQL on the hot path: sqlite-utils' insert() inspects the table on every call.
        return self.conn.execute(
            "insert into turns (consult_id, seq, direction, author, text, created_at, inbox_id, origin) values "
            "(?, (select coalesce(max(seq), 0) + 1 from turns where consult_id = ?), ?, ?, ?, ?, ?, ?)",
            [consult_id, consult_id, direction, author, text, self._now(), inbox_id, origin],
        ).lastrowid

    def turns(self, consult_id: int) -> list[dict]:
        return list(self.db["turns"].rows_where("consult_id = ?", [consult_id], order_by="seq"))

    # -- facts ---------------------------------------------------------------------------------
    def live_facts(self, consult_id: int) -> list[dict]:
        return self._facts("consult_id = ? and retracted_at is null", [consult_id])

    def live_answers(self, consult_id: int) -> dict[str, Any]:
        """The live facts as name -> value, in the order of `live_facts` (read on every turn)."""
        rows = self.conn.execute(
            "select name, value from facts where consult_id = ? and retracted_at is null order by id", [consult_id]
        ).fetchall()
        return {name: json.loads(value) for name, value in rows}

    def _facts(self, where: str, args: list) -> list[dict]:
        cur = self.conn.execute(f"select * from facts where {where} order by id", args)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row), value=json.loads(row[cols.index("value")])) for row in cur.fetchall()]

    def all_facts(self, consult_id: int) -> list[dict]:
        return self._facts("consult_id = ?", [consult_id])

    def set_fact(self, consult_id: int, name: str, value: Any, turn_id: int) -> None:
        """Record `name = value`, retracting any live value it replaces."""
        self.set_facts(consult_id, {name: value}, turn_id)

    def set_facts(self, consult_id: int, facts: dict[str, Any], turn_id: int) -> None:
        """Record each `name = value` of `facts`, in order, retracting the live values they replace:
        the rows `set_fact` of each would write (same ids, same times: one transaction has one
        time), in two statements instead of two per fact (a long message states ~30 facts)."""
        if not facts:
            return
        at = self._now()
        names = list(facts)
        self.conn.execute(
            "update facts set retracted_at = ?, retracted_turn_id = ? where consult_id = ? and retracted_at is null "
            f"and name in ({', '.join('?' * len(names))})",
            [at, turn_id, consult_id, *names],
        )
        self.conn.executemany(
            "insert into facts (consult_id, name, value, turn_id, asserted_at) values (?, ?, ?, ?, ?)",
            [(consult_id, name, json.dumps(value), turn_id, at) for name, value in facts.items()],
        )

    def retract_fact(self, consult_id: int, name: str, turn_id: int) -> None:
        self.conn.execute(
            "update facts set retracted_at = ?, retracted_turn_id = ? where consult_id = ? and name = ? "
            "and retracted_at is null",
            [self._now(), turn_id, consult_id, name],
        )

    def undo_turn(self, consult_id: int, turn_id: int, undo_turn_id: int) -> None:
        """Take back what `turn_id` did to the facts: retract what it set, restore what it replaced.
        Both values stay in the log with their turns."""
        replaced = [
            r["id"]
            for r in self.db["facts"].rows_where("consult_id = ? and retracted_turn_id = ?", [consult_id, turn_id])
        ]
        self.db.execute(
            "update facts set retracted_at = ?, retracted_turn_id = ? where consult_id = ? "
            "and turn_id = ? and retracted_at is null",
            [self._now(), undo_turn_id, consult_id, turn_id],
        )
        for fact_id in replaced:
            row = self.db["facts"].get(fact_id)
            self.db["facts"].insert(
                {k: row[k] for k in ("consult_id", "name", "value", "turn_id")} | {"asserted_at": self._now()}
            )

    # -- findings ------------------------------------------------------------------------------
    def add_findings(
        self,
        consult_id: int,
        turn_id: int,
        findings: list,
        version: str | None = None,
        *,
        logged: list[tuple] | None = None,
    ) -> list[tuple]:
        """Log the findings in force after turn `turn_id`, unless they are the very rows this consult
        last logged (same findings, same order, same `version`): most turns leave the advice as it
        was, and logging it again told nothing new. So a turn's rows hold from that turn until the
        consult's next turn with rows (docs/datasette.md). Returns the rows now in force.

        `findings`: dicts, or Findings (rules/evaluation.py); each row is (code, severity, step,
        sources as JSON, rule, text, version), a list of sources encoded once per process. `version`: the ruleset and
        clinical data that concluded them (rules/provenance.py). `logged`: what this returned last
        time for this consult, when the caller knows that nothing was logged for it since
        (bot/dialogue/kept.py); read from the log otherwise."""
        rows = [
            (f.code, f.severity, f.step, _sources_json(f.sources), f.rule, f.text, version)
            if hasattr(f, "row")
            else (f["code"], f["severity"], f["step"], json.dumps(f["sources"]), f["rule"], f["text"], version)
            for f in findings
        ]
        if rows == (self.last_findings(consult_id) if logged is None else logged):
            return rows
        at = self._now()
        self.conn.executemany(
            "insert into findings (consult_id, turn_id, code, severity, step, sources, rule, text, "
            "ruleset_version, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(consult_id, turn_id, *row, at) for row in rows],
        )
        return rows

    def last_findings(self, consult_id: int) -> list[tuple]:
        """The findings in force as last logged: (code, severity, step, sources, rule, text,
        ruleset_version) rows of the consult's latest turn with findings, in their order."""
        return self.conn.execute(
            "select code, severity, step, sources, rule, text, ruleset_version from findings "
            "where consult_id = ? and turn_id = (select max(turn_id) from findings where consult_id = ?) order by id",
            [consult_id, consult_id],
        ).fetchall()

    def finding_versions(self, consult_id: int) -> list[str]:
        """The versions that produced this consult's findings, oldest first."""
        rows = self.conn.execute(
            "select ruleset_version from findings where consult_id = ? and ruleset_version is not null "
            "group by ruleset_version order by min(id)",
            [consult_id],
        ).fetchall()
        return [r[0] for r in rows]

    # -- maintenance ---------------------------------------------------------------------------
    def integrity_problems(self) -> list[str]:
        """Problems found by integrity_check and foreign_key_check (empty when the file is sound)."""
        try:
            problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
            problems += [f"foreign key: {tuple(r)}" for r in self.conn.execute("PRAGMA foreign_key_check").fetchall()]
        except Exception as exc:  # "database disk image is malformed" (sqlite3's or SQLCipher's class)
            problems = [str(exc)]
        return problems

    def applied_migrations(self) -> list[str]:
        """The migrations this log has had, in the order they ran."""
        return [r["name"] for r in self.db["migrations"].rows_where(order_by="rowid")]

    # -- tutor mode's consult ------------------------------------------------------------------
    def consult(self, consult_id: int) -> dict | None:
        rows = list(self.db["consults"].rows_where("id = ?", [consult_id]))
        return rows[0] if rows else None

    def set_consult_status(self, consult_id: int, status: str) -> None:
        """Open or close a consult (tutor mode parks the open consultation while a case is practised)."""
        self.db["consults"].update(consult_id, {"status": status, "updated_at": self._now()})

    # -- inbox / outbox (no message lost between a channel and the consult) -------------------------
    def inbox_add(self, channel: str, update_key: str, chat_id: str, payload: dict) -> int | None:
        """Store an inbound update, as the channel hands it over: with identifiers already redacted
        (bot/text/privacy.py). None when it was stored before (a re-delivery)."""
        cur = self.db.execute(
            "insert or ignore into inbox (channel, update_key, chat_id, payload, received_at) values (?, ?, ?, ?, ?)",
            [channel, str(update_key), str(chat_id), json.dumps(payload), self._now()],
        )
        return cur.lastrowid if cur.rowcount else None

    def move_chat(self, channel: str, old: str, new: str) -> None:
        """Everything of chat `old` now belongs to chat `new` (consults, inbox, outbox, tutoring)."""
        with self.transaction():
            for table in ("consults", "inbox", "outbox", "tutor_rounds"):
                self.conn.execute(
                    f"update [{table}] set chat_id = ? where channel = ? and chat_id = ?", [str(new), channel, str(old)]
                )
            self.conn.execute(
                "insert or replace into chat_moves (channel, old_chat_id, new_chat_id, moved_at) values (?, ?, ?, ?)",
                [channel, str(old), str(new), self._now()],
            )

    def chat_moves(self, channel: str) -> dict[str, str]:
        """old chat id -> new chat id, for every chat of `channel` that moved."""
        return dict(
            self.conn.execute("select old_chat_id, new_chat_id from chat_moves where channel = ?", [channel]).fetchall()
        )

    def consult_of_origin(self, channel: str, chat_id: str, origin: str) -> dict | None:
        """The consult that holds the turn of message `origin` (a channel's message key), for an
        edit of that message; None if the bot never read it."""
        cur = self.conn.execute(
            "select c.* from turns t join consults c on c.id = t.consult_id where t.origin = ? "
            "and t.direction = 'in' and c.channel = ? and c.chat_id = ? order by t.id limit 1",
            [str(origin), channel, str(chat_id)],
        )
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def inbox_pending(self, channel: str) -> list[dict]:
        return self._rows("select * from inbox where channel = ? and done_at is null order by id", [channel])

    # inbox_done, outbox_add, outbox_sent: plain SQL on the hot path (sqlite-utils' update() and
    # insert() inspect the table on every call; bench/e2e.py measured it).
    def inbox_done(self, inbox_id: int) -> None:
        self.conn.execute("update inbox set done_at = ? where id = ?", [self._now(), inbox_id])

    def outbox_add(self, channel: str, chat_id: str, reply: dict, inbox_id: int | None = None) -> int:
        return self.conn.execute(
            "insert into outbox (channel, chat_id, reply, created_at, inbox_id) values (?, ?, ?, ?, ?)",
            [channel, str(chat_id), json.dumps(reply), self._now(), inbox_id],
        ).lastrowid

    def outbox_pending(self, channel: str, chat_id: str | None = None) -> list[dict]:
        where, args = "channel = ? and sent_at is null", [channel]
        if chat_id is not None:
            where, args = where + " and chat_id = ?", args + [str(chat_id)]
        return [
            dict(r, reply=json.loads(r["reply"]))
            for r in self._rows(f"select * from outbox where {where} order by id", args)
        ]

    def outbox_sent(self, outbox_id: int) -> None:
        # Once delivered, a file (an exported transcript, the ladder picture) is not kept: the
        # row stays for its text and buttons, and the log never holds a second copy of a consult.
        self.conn.execute(
            "update outbox set sent_at = ?, reply = case when json_array_length(reply, '$.attachments') > 0 "
            "then json_set(reply, '$.attachments', json('[]')) else reply end where id = ?",
            [self._now(), outbox_id],
        )

    def count_refusal(self, channel: str) -> None:
        self.db.execute(
            "insert into refusals (channel, count) values (?, 1) on conflict(channel) do update set count = count + 1",
            [channel],
        )
