"""Retention and export: delete whole consults past an age; write one consult as JSON.

`purge` and `export_consult` are what `neuroladder purge` / `neuroladder export` and the
admin-only chat commands `/purge DAYS` and `/exportconsult ID` call. Both write an `audit` row.

A purge deletes a consult with every row that belongs to it: any table with a `consult_id`
column (turns, facts, findings, and whatever later features add), plus inbox and outbox rows
of the same age once handled. It runs with `secure_delete` on and checkpoints the WAL, so the
deleted text does not linger in free pages of the file or in its WAL.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .files import write_private
from .store import Store, now


class RetentionError(ValueError):
    """A purge or export that cannot be done; the message is one line for the operator."""


def admins_from_env(environ=None) -> frozenset[str]:
    """NEUROLADDER_ADMINS="123, 456": the author ids (as channels pass them) allowed to purge/export."""
    environ = os.environ if environ is None else environ
    raw = environ.get("NEUROLADDER_ADMINS") or ""
    return frozenset(p.strip() for p in raw.replace(";", ",").split(",") if p.strip())


def _owned_tables(store: Store) -> list[tuple[str, str]]:
    """Tables holding rows that belong to consults, parents before children, each with the SQL
    condition selecting the rows of the consults in the temporary table `_ids`: a `consult_id`
    column (turns, facts, findings, tutor rounds) or a foreign key into such a table (tutor attempts)."""
    tables = [t for t in store.db.table_names() if not t.startswith("sqlite_")]
    cond = {"consults": "id in (select id from temp._ids)"}
    order: list[tuple[str, str]] = []
    frontier = ["consults"]
    while frontier:
        parent = frontier.pop(0)
        for t in tables:
            if t in cond:
                continue
            columns = store.db[t].columns_dict
            if parent == "consults" and "consult_id" in columns:
                cond[t] = "consult_id in (select id from temp._ids)"
            else:
                fks = [fk for fk in store.db[t].foreign_keys if fk.other_table == parent]
                if not fks:
                    continue
                fk = fks[0]
                cond[t] = f"[{fk.column}] in (select [{fk.other_column}] from [{parent}] where {cond[parent]})"
            order.append((t, cond[t]))
            frontier.append(t)
    return order


def _with_ids(store: Store, ids: list[int]) -> None:
    store.conn.execute("create temp table if not exists _ids (id integer primary key)")
    store.conn.execute("delete from temp._ids")
    store.conn.executemany("insert into temp._ids (id) values (?)", [(i,) for i in ids])


MAX_DAYS = 36_600  # a century: any retention window an operator means; more overflows the calendar
MAX_ID = 2**63 - 1  # SQLite's largest integer


def cutoff(days: float, at: datetime | None = None) -> str:
    if not (isinstance(days, (int, float)) and math.isfinite(days) and 0 <= days <= MAX_DAYS):
        raise RetentionError(f"the age must be a number of days from 0 to {MAX_DAYS}")
    at = at or datetime.now(UTC)
    return (at - timedelta(days=days)).isoformat(timespec="milliseconds")


def purge(
    store: Store,
    older_than_days: float,
    *,
    by: str | None = None,
    dry_run: bool = False,
    at: datetime | None = None,
    keep: int | None = None,
) -> dict[str, Any]:
    """Delete consults whose last activity is older than `older_than_days` (never consult `keep`, the
    one asking). Returns the number of rows deleted per table."""
    limit = cutoff(older_than_days, at)
    counts: dict[str, int] = {}
    with store.transaction():
        ids = [
            r[0]
            for r in store.conn.execute(
                "select id from consults where coalesce(updated_at, created_at) < ? and id is not ?", [limit, keep]
            ).fetchall()
        ]
        counts["consults"] = len(ids)
        _with_ids(store, ids)
        owned = _owned_tables(store)
        secure = store.conn.execute("PRAGMA secure_delete").fetchone()[0]
        if not dry_run:
            store.conn.execute("PRAGMA defer_foreign_keys = ON")
            store.conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left readable
        for table, where in owned:
            counts[table] = store.conn.execute(f"select count(*) from [{table}] where {where}").fetchone()[0]
        if not dry_run:
            for table, where in reversed(owned):  # children first: their condition reads the parents
                store.conn.execute(f"delete from [{table}] where {where}")
            store.conn.execute("delete from consults where id in (select id from temp._ids)")
        store.conn.execute("delete from temp._ids")
        # handled channel traffic of the same age holds the same words
        for table, done, at_col in (("inbox", "done_at", "received_at"), ("outbox", "sent_at", "created_at")):
            if table not in store.db.table_names():
                continue
            where = f"{done} is not null and {at_col} < ?"
            if dry_run:
                counts[table] = store.conn.execute(f"select count(*) from {table} where {where}", [limit]).fetchone()[0]
            else:
                counts[table] = store.conn.execute(f"delete from {table} where {where}", [limit]).rowcount
        store.conn.execute(f"PRAGMA secure_delete = {int(secure)}")
        if not dry_run:
            store.audit(
                "purge",
                {"older_than_days": older_than_days, "cutoff": limit, "by": by, "consult_ids": ids, "rows": counts},
            )
    if not dry_run and store.path != ":memory:":
        # The WAL still holds the deleted pages until a checkpoint, which cannot run inside a
        # transaction: an in-chat /purge runs inside the channel's, so it waits for its commit.
        store.after_commit(lambda: store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    return counts


TRAFFIC_DAYS_ENV = "NEUROLADDER_TRAFFIC_DAYS"
DEFAULT_TRAFFIC_DAYS = 7.0


def traffic_days_from_env(environ=None) -> float:
    """How long handled inbox/outbox rows are kept (their text is in the turns; the rows are only
    needed for crash recovery and button presses)."""
    raw = (environ if environ is not None else os.environ).get(TRAFFIC_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_TRAFFIC_DAYS
    try:  # a malformed value is refused (the channels check it at start-up), never silently 7
        days = float(raw)
        cutoff(days)
    except (ValueError, RetentionError):
        raise RetentionError(f"{TRAFFIC_DAYS_ENV} must be a number of days from 0 to {MAX_DAYS}, not {raw!r}") from None
    return days


def prune_traffic(store: Store, older_than_days: float, at: datetime | None = None) -> dict[str, int]:
    """Delete handled inbox rows and delivered outbox rows older than the window: without this
    both tables grow with every message (and every picture) for ever."""
    limit = cutoff(older_than_days, at)
    counts: dict[str, int] = {}
    with store.transaction():
        counts["inbox"] = store.conn.execute(
            "delete from inbox where done_at is not null and done_at < ?", [limit]
        ).rowcount
        counts["outbox"] = store.conn.execute(
            "delete from outbox where sent_at is not null and sent_at < ?", [limit]
        ).rowcount
    return counts


class TrafficPruning:
    """Prune handled traffic at start, then at most once an hour: what every channel calls on its
    receive path (a time check, so the call is cheap when nothing is due)."""

    EVERY = 3600.0

    def __init__(self, days: float | None = None, clock=time.monotonic):
        self.days = traffic_days_from_env() if days is None else days
        self.clock = clock
        self.last: float | None = None

    def __call__(self, store: Store) -> None:
        if self.last is not None and self.clock() - self.last < self.EVERY:
            return
        self.last = self.clock()
        counts = prune_traffic(store, self.days)
        if any(counts.values()):
            logging.getLogger(__name__).info(
                "pruned %d inbox and %d outbox row(s) older than %g days", counts["inbox"], counts["outbox"], self.days
            )


def _row(row: dict) -> dict:
    out = dict(row)
    for key in ("value", "sources", "state", "detail", "payload", "reply"):
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                pass
    return out


def consult_record(store: Store, consult_id: int) -> dict[str, Any]:
    """One consult and every row that belongs to it, as plain data."""
    if not 0 < consult_id <= MAX_ID:
        raise RetentionError(f"there is no consult {consult_id}")
    rows = list(store.db["consults"].rows_where("id = ?", [consult_id]))
    if not rows:
        raise RetentionError(f"there is no consult {consult_id}")
    record: dict[str, Any] = {
        "format": "neuroladder-consult/1",
        "exported_at": now(),
        "schema": [r["name"] for r in store.db["migrations"].rows_where(order_by="rowid")],
        "consult": _row(rows[0]),
    }
    _with_ids(store, [consult_id])
    for table, where in _owned_tables(store):
        cols = store.db[table].columns_dict
        order = "seq" if "seq" in cols else "id" if "id" in cols else "rowid"
        record[table] = [_row(r) for r in store.db.query(f"select * from [{table}] where {where} order by {order}")]
    return record


def export_consult(store: Store, consult_id: int, out: str | Path | None = None, *, by: str | None = None) -> str:
    """Write one consult as JSON to `out` (or return it when out is None); audited."""
    text = json.dumps(consult_record(store, consult_id), indent=2, ensure_ascii=False)
    if out is not None:
        write_private(out, (text + "\n").encode("utf-8"))
    store.audit("export", {"consult": consult_id, "by": by, "to": None if out is None else str(out)})
    return text
