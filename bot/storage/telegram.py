"""The Telegram channel's questions to the log: the queries behind a button press.

The inbox payload is the channel's `Inbound` record (kind, text, outbox_id, index); the outbox
holds replies as JSON. The channel decides what the rows mean (channels/telegram/inbox.py).
"""

from __future__ import annotations

import json

from .store import Store

CHANNEL = "telegram"


def pressed_reply(store: Store, chat_id: int, outbox_id: int) -> tuple[int | None, dict] | None:
    """(the inbox row it answered, the stored reply) of this chat's outbox row, or None."""
    row = store.conn.execute(
        "select chat_id, inbox_id, reply from outbox where id = ? and channel = ?", [outbox_id, CHANNEL]
    ).fetchone()
    if row is None or row[0] != str(chat_id):
        return None
    return row[1], json.loads(row[2])


def newer_reply_with_choices(store: Store, chat_id: int, outbox_id: int) -> bool:
    """Was a reply with buttons sent in this chat after outbox row `outbox_id`?"""
    return (
        store.conn.execute(
            "select 1 from outbox where channel = ? and chat_id = ? and id > ? "
            "and json_array_length(json_extract(reply, '$.choices')) > 0 limit 1",
            [CHANNEL, str(chat_id), outbox_id],
        ).fetchone()
        is not None
    )


def answers_between(
    store: Store, chat_id: int, after_inbox: int, before_inbox: int, outbox_id: int
) -> list[tuple[str, str | None, int | None]]:
    """(kind, text, choice index) of the texts typed in this chat, and the presses on outbox row
    `outbox_id`, that arrived between two inbox rows."""
    return [
        tuple(r)
        for r in store.conn.execute(
            "select json_extract(payload, '$.kind'), json_extract(payload, '$.text'), json_extract(payload, '$.index') "
            "from inbox where channel = ? and chat_id = ? and id > ? and id < ? and ("
            "json_extract(payload, '$.kind') = 'text' or "
            "(json_extract(payload, '$.kind') = 'button' and json_extract(payload, '$.outbox_id') = ?))",
            [CHANNEL, str(chat_id), after_inbox, before_inbox, outbox_id],
        ).fetchall()
    ]


def inbox_payload(store: Store, inbox_id: int) -> str | None:
    row = store.conn.execute("select payload from inbox where id = ?", [inbox_id]).fetchone()
    return row[0] if row else None
