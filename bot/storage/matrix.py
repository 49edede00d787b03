"""What the Matrix channel keeps in the log beside the shared inbox/outbox (tables from m008 and m006).

- `matrix_sync`: the sync position (`next_batch`) and this log's transaction-id prefix. The
  position is written in the same transaction as the inbox rows of the events it covers, so a
  crash never skips an event: a restart syncs again from the last committed position and the
  inbox ignores what it already holds.
- `matrix_sent`: the bot's messages that offered choices, so a reaction (1️⃣ on a message) maps to
  that message's choice (stored as [label, value] pairs).
- `matrix_rooms`: rooms where the "not end-to-end encrypted" refusal was already said.
- `matrix_devices`: the pinned devices of allowed users (trust on first use, then an admin).
Nothing is stored about invites that were declined.
"""

from __future__ import annotations

import json
import secrets

from .store import Store, now

CHANNEL = "matrix"


class MatrixState:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    # -- sync position and transaction ids ------------------------------------------------------
    def sync_token(self) -> str | None:
        row = self.db.execute("select value from matrix_sync where key = 'next_batch'").fetchone()
        return row[0] if row else None

    def save_sync_token(self, token: str) -> None:
        self.db.execute(
            "insert into matrix_sync (key, value) values ('next_batch', ?) "
            "on conflict(key) do update set value = excluded.value",
            [token],
        )

    def txn_prefix(self) -> str:
        """Transaction ids must not repeat across logs that share one device: a random prefix per log."""
        row = self.db.execute("select value from matrix_sync where key = 'txn_prefix'").fetchone()
        if row:
            return row[0]
        prefix = "nl" + secrets.token_hex(4)
        with self.store.transaction():
            self.db.execute("insert into matrix_sync (key, value) values ('txn_prefix', ?)", [prefix])
        return prefix

    # -- choices offered, and which message offered them --------------------------------------
    def record_sent(self, event_id: str, room_id: str, outbox_id: int, choices: list[tuple[str, str]]) -> None:
        self.db.execute(
            "insert or replace into matrix_sent (event_id, room_id, outbox_id, choices) values (?, ?, ?, ?)",
            [event_id, room_id, outbox_id, json.dumps([list(c) for c in choices])],
        )

    def sent_choices(self, event_id: str) -> list[tuple[str, str]] | None:
        row = self.db.execute("select choices from matrix_sent where event_id = ?", [event_id]).fetchone()
        return [(label, value) for label, value in json.loads(row[0])] if row else None

    def latest_replies(self, room_id: str) -> list[dict]:
        """The replies (stored JSON) of the bot's latest answer in this room, in order."""
        rows = self.db.execute(
            "select reply from outbox where channel = ? and chat_id = ? and inbox_id is "
            "(select inbox_id from outbox where channel = ? and chat_id = ? order by id desc limit 1) order by id",
            [CHANNEL, room_id, CHANNEL, room_id],
        ).fetchall()
        return [json.loads(reply) for (reply,) in rows]

    # -- rooms ---------------------------------------------------------------------------------
    def refused(self, room_id: str) -> bool:
        return (
            self.db.execute(
                "select 1 from matrix_rooms where room_id = ? and refused_at is not null", [room_id]
            ).fetchone()
            is not None
        )

    def mark_refused(self, room_id: str) -> None:
        self.db.execute(
            "insert into matrix_rooms (room_id, refused_at) values (?, ?) "
            "on conflict(room_id) do update set refused_at = excluded.refused_at",
            [room_id, now()],
        )

    def room_pending(self, room_id: str) -> list[dict]:
        return list(
            self.db["inbox"].rows_where(
                "channel = ? and chat_id = ? and done_at is null", [CHANNEL, room_id], order_by="id"
            )
        )

    def rooms_with_work(self) -> list[str]:
        rows = self.db.execute(
            "select chat_id from inbox where channel = ? and done_at is null union "
            "select chat_id from outbox where channel = ? and sent_at is null",
            [CHANNEL, CHANNEL],
        ).fetchall()
        return [r[0] for r in rows]

    def update_key_of(self, inbox_id: int | None) -> str | None:
        if inbox_id is None:
            return None
        row = self.db.execute("select update_key from inbox where id = ?", [inbox_id]).fetchone()
        return row[0] if row else None

    # -- device pins ---------------------------------------------------------------------------
    def pins(self, user_id: str) -> dict[str, dict]:
        """The pinned devices of a user, by device id."""
        cur = self.store.conn.execute("select * from matrix_devices where user_id = ?", [user_id])
        cols = [d[0] for d in cur.description]
        return {row[1]: dict(zip(cols, row)) for row in cur.fetchall()}

    def pin(self, user_id: str, device_id: str, ed25519: str, trusted: bool) -> None:
        self.store.conn.execute(
            "insert or replace into matrix_devices (user_id, device_id, ed25519, trusted, first_seen, "
            "decided_by, decided_at, announced) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                user_id,
                device_id,
                ed25519,
                int(trusted),
                now(),
                "first use" if trusted else None,
                now() if trusted else None,
                0,
            ],
        )

    def mark_announced(self, user_id: str, device_id: str) -> None:
        self.store.conn.execute(
            "update matrix_devices set announced = 1 where user_id = ? and device_id = ?", [user_id, device_id]
        )

    def devices(self) -> list[tuple[str, str, int, str | None]]:
        """(user, device, trusted, decided by) for every pinned device, by user then first seen."""
        return [
            tuple(r)
            for r in self.store.conn.execute(
                "select user_id, device_id, trusted, decided_by from matrix_devices order by user_id, first_seen"
            )
        ]

    def trust(self, device_id: str, by: str) -> bool:
        """An admin's decision: the device may read replies. False when no such device is pinned."""
        return (
            self.store.conn.execute(
                "update matrix_devices set trusted = 1, decided_by = ?, decided_at = ? where device_id = ?",
                [by, now(), device_id],
            ).rowcount
            > 0
        )
