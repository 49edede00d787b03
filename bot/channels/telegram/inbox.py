"""What the Telegram channel keeps of an update, and how a button press finds its choice.

An update is reduced to a small `Inbound` record before it is stored: the chat, the member's
numeric id, the text (or which button), the message id to reply to. Names, usernames and the
rest of the update are never stored. In a group only what is addressed to the bot is kept:
commands, replies to the bot's messages and @mentions.

Buttons carry `k<outbox id>.<choice index>` (Telegram allows 64 bytes of callback data): the
choice's value is read back from the stored reply, so a value of any length works, and a press
on a question that was already answered is recognised and ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from telegram import Update, User

from neuroladder.bot.storage import telegram as telegram_log
from neuroladder.bot.storage.telegram import CHANNEL  # the channel's name in the log's rows
from neuroladder.bot.views.reply import Reply

GROUP_TYPES = ("group", "supergroup")
CALLBACK_RE = re.compile(r"^k(\d{1,18})\.(\d{1,3})$")


def is_command(value: str) -> bool:
    """`/summary`, `/why` ...: a command, not an answer to a question."""
    return value.startswith("/")


@dataclass
class Inbound:
    """One stored inbound event (the inbox payload)."""

    kind: str  # "text" | "button" | "unsupported"
    chat_id: int
    chat_type: str
    author: int | None
    message_id: int | None = None  # the member's message (text) or the message holding the buttons
    text: str = ""
    query_id: str | None = None  # callback query to answer
    outbox_id: int | None = None  # which reply's buttons were pressed
    index: int | None = None  # which choice
    edit: bool = False  # an edited message: it belongs to the consult of the original (same message_id)

    @property
    def origin(self) -> str | None:
        """The message this event is or edits, across channels (Service.handle's `origin`)."""
        return None if self.message_id is None or self.kind == "button" else str(self.message_id)

    @property
    def is_group(self) -> bool:
        return self.chat_type in GROUP_TYPES

    @property
    def is_command(self) -> bool:
        return self.kind == "text" and is_command(self.text)

    def to_payload(self) -> dict:
        # every field is a plain value: a shallow copy is dataclasses.asdict without its deep copy
        return {**vars(self), "origin": self.origin}

    @classmethod
    def from_payload(cls, payload: dict | str) -> Inbound:
        if isinstance(payload, str):
            payload = json.loads(payload)
        return cls(**{k: v for k, v in payload.items() if k in cls.__dataclass_fields__})


def callback_data(outbox_id: int, index: int) -> str:
    return f"k{outbox_id}.{index}"


def parse_callback_data(data: str | None) -> tuple[int, int] | None:
    m = CALLBACK_RE.match(data or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def update_key(update: Update) -> str:
    """A key that is the same for a re-delivered update and differs for a new one.

    The update id alone is not enough: Telegram may restart its numbering after a long pause, so
    the chat and message (or callback query) ids are part of the key.
    """
    if update.callback_query is not None:
        return f"{update.update_id}:q{update.callback_query.id}"
    msg = update.message
    if msg is not None:
        return f"{update.update_id}:{msg.chat_id}:{msg.message_id}"
    edited = update.edited_message
    if edited is not None:
        return f"{update.update_id}:{edited.chat_id}:{edited.message_id}:edit"
    return str(update.update_id)


def sent_time(update: Update) -> float | None:
    """When the member sent it (epoch seconds); None for a button press (it has no date)."""
    msg = update.message or update.edited_message
    if msg is None or msg.date is None:
        return None
    return (msg.edit_date or msg.date).timestamp() if update.edited_message else msg.date.timestamp()


def chat_migration(update: Update) -> tuple[int, int] | None:
    """(old id, new id) when the update says a group became a supergroup, else None."""
    msg = update.message
    if msg is None:
        return None
    if msg.migrate_to_chat_id:
        return msg.chat_id, msg.migrate_to_chat_id
    if msg.migrate_from_chat_id:
        return msg.migrate_from_chat_id, msg.chat_id
    return None


def sender_and_chat(update: Update) -> tuple[int | None, int | None]:
    """(user id, chat id) of an update, or (None, None) when it has no chat we serve."""
    if update.callback_query is not None:
        q = update.callback_query
        chat_id = q.message.chat.id if q.message is not None else None
        return q.from_user.id, chat_id
    msg = update.message or update.edited_message
    if msg is not None:
        user = msg.from_user
        return (user.id if user else None), msg.chat_id
    return None, None


def addressed_text(update: Update, me: User) -> str | None:
    """The text meant for the bot, or None when a group message is not addressed to it.

    Private chats: every text. Groups: `/command` (with `@thisbot` removed; another bot's
    command is ignored), a reply to one of the bot's messages, or a message mentioning the bot
    (the mention is removed).
    """
    msg = update.message or update.edited_message
    if msg is None or msg.text is None:
        return None
    text = msg.text.strip()
    if is_command(text):
        return _own_command(text, me)
    if msg.chat.type not in GROUP_TYPES:
        return text
    username = (me.username or "").lower()
    mentioned = False
    for entity, value in msg.parse_entities(["mention", "text_mention"]).items():
        if (entity.type == "mention" and value.lstrip("@").lower() == username) or (
            entity.type == "text_mention" and entity.user and entity.user.id == me.id
        ):
            mentioned = True
    if mentioned:
        stripped = re.sub(rf"@{re.escape(me.username or '')}\b", "", text, flags=re.IGNORECASE) if username else text
        return re.sub(r"\s+", " ", stripped).strip(" ,:") or None
    reply_to = msg.reply_to_message
    if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == me.id:
        return text
    return None


def _own_command(text: str, me: User) -> str | None:
    """`/cmd@thisbot args` -> `/cmd args`; None when the command names another bot."""
    head, _, rest = text.partition(" ")
    command, _, target = head.partition("@")
    if target and target.lower() != (me.username or "").lower():
        return None
    return (command + (" " + rest if rest else "")).strip()


def inbound_from_update(update: Update, me: User) -> Inbound | None:
    """Reduce an update to what is stored, or None when there is nothing for the bot in it."""
    q = update.callback_query
    if q is not None:
        if q.message is None:
            return None
        parsed = parse_callback_data(q.data)
        chat = q.message.chat
        return Inbound(
            kind="button",
            chat_id=chat.id,
            chat_type=chat.type,
            author=q.from_user.id,
            message_id=q.message.message_id,
            query_id=q.id,
            outbox_id=parsed[0] if parsed else None,
            index=parsed[1] if parsed else None,
        )
    # An edited message is read as a new one: a clinician who fixes "300 tid" to "600 tid" gets
    # the correction applied (and told what changed), not silently ignored.
    msg = update.message or update.edited_message
    if msg is None or msg.chat.type == "channel":
        return None
    author = msg.from_user.id if msg.from_user else None
    if msg.text is None:
        if msg.chat.type in GROUP_TYPES:
            return None  # pictures and stickers in a team chat are not for the bot
        if msg.new_chat_members or msg.left_chat_member or msg.group_chat_created:
            return None
        return Inbound(
            kind="unsupported", chat_id=msg.chat_id, chat_type=msg.chat.type, author=author, message_id=msg.message_id
        )
    text = addressed_text(update, me)
    if text is None:
        return None
    return Inbound(
        kind="text",
        chat_id=msg.chat_id,
        chat_type=msg.chat.type,
        author=author,
        message_id=msg.message_id,
        text=text,
        edit=update.edited_message is not None,
    )


# -- a press, resolved against the log (synchronous: called on the event loop thread) -------------
def live_reply(store, chat_id: int, outbox_id: int, inbox_id: int) -> Reply | None:
    """The stored reply whose buttons were pressed, or None when its buttons are stale.

    They are stale when the row is not this chat's, when a newer reply with buttons was sent in
    the chat, or when the question was answered since: by a press of one of these buttons or by
    free text. Commands do not answer a question, typed (/summary) or pressed (a "why?" button).
    `inbox_id` is the press being resolved: only what came before it counts.
    """
    found = telegram_log.pressed_reply(store, chat_id, outbox_id)
    if found is None:
        return None
    answered_inbox, stored = found
    reply = Reply.from_json(stored)
    if not reply.choices or telegram_log.newer_reply_with_choices(store, chat_id, outbox_id):
        return None
    for kind, text, index in telegram_log.answers_between(store, chat_id, answered_inbox or 0, inbox_id, outbox_id):
        if kind == "text" and not is_command(text or ""):
            return None
        if (
            kind == "button"
            and index is not None
            and 0 <= index < len(reply.choices)
            and not is_command(reply.choices[index].value)
        ):
            return None
    return reply


def pending_by_chat(store) -> dict[int, list[dict]]:
    """Unprocessed inbox rows, in arrival order, grouped by chat."""
    chats: dict[int, list[dict]] = {}
    for row in store.inbox_pending(CHANNEL):
        chats.setdefault(int(row["chat_id"]), []).append(row)
    return chats
