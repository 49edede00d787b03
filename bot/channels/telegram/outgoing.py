"""A stored reply's Telegram parts as Bot API parameters, and the call that sends a text.

The keyboard, the forced reply and the reply-to are written as the JSON python-telegram-bot's own
objects serialise to (`InlineKeyboardMarkup.to_json()` and the like, byte for byte: the tests
compare), without building those objects first: a reply with buttons made ~10 of them per turn.

`send_text` goes through `Bot._post`, the step every `Bot.send_*` method ends in: the same
AIORateLimiter (with its 429 retries), the same transport, timeouts and errors (`BadRequest`,
`ChatMigrated`, `RetryAfter` ...). What it leaves out is parsing Telegram's answer into a
`Message` (with its chat, user and keyboard objects) that the channel never reads: about a
tenth of the channel's own CPU per turn (bench/README.md). `Bot.do_api_request`, the public
spelling of the same call, warns for every endpoint PTB has a method for.
"""

from __future__ import annotations

import json

from .inbox import callback_data

LABEL_LIMIT = 64  # characters of a button's label kept


def keyboard_rows(choices) -> list[list[int]]:
    """The choices' indexes row by row: short labels side by side, long ones one per row."""
    indexes = list(range(len(choices)))
    if len(choices) <= 4 and sum(len(c.label) for c in choices) <= 28:
        return [indexes]
    if all(len(c.label) <= 14 for c in choices):
        return [indexes[i : i + 2] for i in range(0, len(indexes), 2)]
    return [[i] for i in indexes]


def keyboard_markup(outbox_id: int, choices) -> str:
    """An inline keyboard for a reply's choices; each button carries its outbox row and index."""
    rows = [
        [{"callback_data": callback_data(outbox_id, i), "text": choices[i].label[:LABEL_LIMIT] or "?"} for i in row]
        for row in keyboard_rows(choices)
    ]
    return json.dumps({"inline_keyboard": rows})


def force_reply_markup(selective: bool) -> str:
    return json.dumps({"force_reply": True, "selective": selective})


def reply_parameters(message_id: int) -> str:
    """Reply to a member's message, and still send if it was deleted meanwhile."""
    return json.dumps({"allow_sending_without_reply": True, "message_id": message_id})


async def send_text(
    bot,
    chat_id: int,
    text: str,
    *,
    parse_mode: str | None = None,
    reply_markup: str | None = None,
    reply_to: str | None = None,
) -> None:
    """sendMessage with these parameters (None ones left out), its answer not parsed."""
    params = {"chat_id": chat_id, "text": text}
    if parse_mode is not None:
        params["parse_mode"] = parse_mode
    if reply_markup is not None:
        params["reply_markup"] = reply_markup
    if reply_to is not None:
        params["reply_parameters"] = reply_to
    await bot._post("sendMessage", params)
