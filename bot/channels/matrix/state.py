"""What the Matrix channel keeps in the consultation database beside the shared inbox/outbox.

- `matrix_sync`: the sync position (`next_batch`). It is written in the same transaction as the
  inbox rows of the events it covers, so a crash never skips an event: a restart syncs again
  from the last committed position and the inbox ignores what it already holds.
- `matrix_sent`: the bot's messages that offered choices, so a reaction (1️⃣ on a message)
  maps to that message's choice.
- `matrix_rooms`: rooms where the "not end-to-end encrypted" refusal was already said.
Nothing is stored about invites that were declined.
"""
from __future__ import annotations

import json

from neuroladder.bot.views.reply import Choice, Reply
from neuroladder.bot.storage.store import Store, now

CHANNEL = "matrix"


def ensure_tables(store: Store) -> None:
    db = store.db
    with store.transaction():
        db["matrix_sync"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db["matrix_sent"].create({"event_id": str, "room_id": str, "outbox_id": int, "choices": str},
                                 pk="event_id", if_not_exists=True)
        db["matrix_rooms"].create({"room_id": str, "refused_at": str}, pk="room_id", if_not_exists=True)


def sync_token(store: Store) -> str | None:
    row = store.db.execute("select value from matrix_sync where key = 'next_batch'").fetchone()
    return row[0] if row else None


def save_sync_token(store: Store, token: str) -> None:
    store.db.execute("insert into matrix_sync (key, value) values ('next_batch', ?) "
                     "on conflict(key) do update set value = excluded.value", [token])


def record_sent(store: Store, event_id: str, room_id: str, outbox_id: int, choices: list[Choice]) -> None:
    store.db.execute("insert or replace into matrix_sent (event_id, room_id, outbox_id, choices) values (?, ?, ?, ?)",
                     [event_id, room_id, outbox_id, json.dumps([[c.label, c.value] for c in choices])])


def sent_choices(store: Store, event_id: str) -> list[Choice] | None:
    row = store.db.execute("select choices from matrix_sent where event_id = ?", [event_id]).fetchone()
    return [Choice(label, value) for label, value in json.loads(row[0])] if row else None


def current_choices(store: Store, room_id: str) -> list[Choice]:
    """The choices of the last reply with choices in the bot's latest answer in this room."""
    rows = store.db.execute(
        "select reply from outbox where channel = ? and chat_id = ? and inbox_id is "
        "(select inbox_id from outbox where channel = ? and chat_id = ? order by id desc limit 1) order by id",
        [CHANNEL, room_id, CHANNEL, room_id]).fetchall()
    choices: list[Choice] = []
    for (reply,) in rows:
        r = Reply.from_json(json.loads(reply))
        if r.choices:
            choices = r.choices
    return choices


def refused(store: Store, room_id: str) -> bool:
    return store.db.execute("select 1 from matrix_rooms where room_id = ? and refused_at is not null",
                            [room_id]).fetchone() is not None


def mark_refused(store: Store, room_id: str) -> None:
    store.db.execute("insert into matrix_rooms (room_id, refused_at) values (?, ?) "
                     "on conflict(room_id) do update set refused_at = excluded.refused_at", [room_id, now()])


def room_pending(store: Store, room_id: str) -> list[dict]:
    return list(store.db["inbox"].rows_where("channel = ? and chat_id = ? and done_at is null",
                                             [CHANNEL, room_id], order_by="id"))


def rooms_with_work(store: Store) -> list[str]:
    rows = store.db.execute(
        "select chat_id from inbox where channel = ? and done_at is null union "
        "select chat_id from outbox where channel = ? and sent_at is null", [CHANNEL, CHANNEL]).fetchall()
    return [r[0] for r in rows]


def update_key_of(store: Store, inbox_id: int | None) -> str | None:
    if inbox_id is None:
        return None
    row = store.db.execute("select update_key from inbox where id = ?", [inbox_id]).fetchone()
    return row[0] if row else None
