"""The one entry point every channel calls: a user's message in, the bot's replies out.

Channels (console, Telegram, Matrix) are transport only. They call `Service.handle` with their
channel name, a chat id (a consult belongs to a chat or room) and the author, and render the
returned `Reply` objects. `handle` runs in one SQLite transaction; a channel that keeps an inbox
wraps it in its own `store.transaction()` with its inbox/outbox writes, so the turn, the replies
and the "done" mark commit together.
"""

from __future__ import annotations

import logging
import re

from neuroladder.bot.dialogue.commands import Call, Commands, Message, Mode
from neuroladder.bot.dialogue.consult import Consult, Toolkit
from neuroladder.bot.storage import retention
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text import privacy
from neuroladder.bot.tutor.mode import Tutor
from neuroladder.bot.views.reply import Reply
from neuroladder.rules.data import Knowledge, load_knowledge

log = logging.getLogger(__name__)

COMMAND_RE = re.compile(r"^/(?P<cmd>[a-z_]+)(?:@\S+)?(?:\s+(?P<arg>.*))?$", re.S | re.I)


def command_of(text: str) -> tuple[str | None, str]:
    """("ladder", "") for "/ladder@NeuroLadderBot", ("how", "2") for "/how 2"; (None, "") for free text."""
    match = COMMAND_RE.match(text)
    if match is None:
        return None, ""
    return match.group("cmd").lower(), (match.group("arg") or "").strip()


EDIT_OF_CLOSED = (
    "That edit is to a message of an earlier consultation, which is closed, so I have not applied it "
    "to the one open now. Type the correction here if it is meant for this patient."
)
ERROR_TEXT = (
    "Sorry - something went wrong while handling that message. Your earlier answers are safe; "
    "please send it again, or /summary."
)


class Service:
    def __init__(self, store: Store, knowledge: Knowledge | None = None, *, admins=None):
        self.store = store
        # author ids allowed /purge and /exportconsult (default: $NEUROLADDER_ADMINS)
        self.admins = retention.admins_from_env() if admins is None else frozenset(str(a) for a in admins)
        self.tk = Toolkit.load(knowledge or load_knowledge())
        self.tutor = Tutor(store, self.tk)  # tests may give it another cases folder
        self.registry = Commands()

    def commands(self) -> list[tuple[str, str]]:
        """(name, menu line) of every listed command: what Telegram's command menu shows."""
        return self.registry.menu()

    def sends_file(self, text: str) -> str:
        """ "photo" or "document" when `text` is a command whose answer carries a file (the channel
        may show an upload notice while it is made), else ""."""
        command = self.registry.get(command_of(text.strip())[0])
        return command.sends if command is not None else ""

    def modes(self) -> list[Mode]:
        return [self.tutor]

    def handle(
        self,
        channel: str,
        chat_id: str,
        text: str,
        *,
        author: str | None = None,
        inbox_id: int | None = None,
        private: bool = False,
        origin: str | None = None,
        edit: bool = False,
    ) -> list[Reply]:
        """Process one message (free text, a command such as /summary, or a choice's value).
        `private`: the chat is the author's one-to-one chat with the bot (exports go only there).
        `origin`: the channel's key of the message this is (or, with `edit`, the one it edits)."""
        guarded = privacy.guard(text)  # identifiers redacted before anything is stored or parsed
        notice = guarded.warning
        if guarded.truncated:  # a message past the bound: say what was not read
            cut = self.tk.parser.lx.messages["truncated"].format(
                total=len(text), read=privacy.MAX_CHARS, tail=guarded.text[-30:].strip()
            )  # the redacted part only
            notice = f"{notice}\n{cut}" if notice else cut
        text = guarded.text.strip()
        chat_id = str(chat_id)
        try:
            with self.store.transaction():
                if edit and origin is not None:
                    refused = self._edit_of_closed(channel, chat_id, text, author, inbox_id, origin)
                    if refused is not None:
                        return [refused]
                return [self._handle(channel, chat_id, text, author, inbox_id, notice, private, origin)]
        except Exception:
            log.exception("message handling failed (channel=%s)", channel)
            with self.store.transaction():
                row = self.store.open_consult(channel, chat_id) or self._new(channel, chat_id)
                self.store.add_turn(row["id"], "in", text, author, inbox_id)
                self.store.add_turn(row["id"], "out", ERROR_TEXT, None, inbox_id)
            return [Reply().line(ERROR_TEXT)]

    # -- internals ------------------------------------------------------------------------------
    def _new(self, channel: str, chat_id: str) -> dict:
        return self.store.new_consult(channel, chat_id, self.tk.version)

    def _edit_of_closed(
        self, channel: str, chat_id: str, text: str, author: str | None, inbox_id: int | None, origin: str
    ) -> Reply | None:
        """An edit belongs to the consult of the message it edits: never to whichever is open now.
        When that consult is closed (a /restart since), the edit is refused and kept with it."""
        owner = self.store.consult_of_origin(channel, chat_id, origin)
        if owner is None or owner["status"] == "open":
            return None
        reply = Reply().line(EDIT_OF_CLOSED)
        self.store.add_turn(owner["id"], "in", text, author, inbox_id, origin)
        self.store.add_turn(owner["id"], "out", reply.plain(), None, inbox_id)
        return reply

    def _handle(
        self,
        channel: str,
        chat_id: str,
        text: str,
        author: str | None,
        inbox_id: int | None,
        notice: str | None = None,
        private: bool = False,
        origin: str | None = None,
    ) -> Reply:
        cmd, arg = command_of(text)
        row = self.store.open_consult(channel, chat_id)
        mode = next((m for m in self.modes() if m.routes(row, cmd)), None)
        if mode is not None:  # /tutor, and every message of a chat in tutor mode
            return mode.handle(row, Message(channel, chat_id, text, cmd, arg, author, inbox_id, notice))
        command = self.registry.get(cmd)
        fresh = row is None or (command is not None and command.opens_consult)
        if fresh:
            row = self._new(channel, chat_id)
        consult = Consult(self.tk, self.store, row)
        turn_id = self.store.add_turn(consult.id, "in", text, author, inbox_id, origin)
        if not text:
            reply = Reply().line("That message was empty. Type a fact, answer the question, or /help.")
        elif cmd is None:
            reply = Reply()
            if fresh:
                reply.line(self.tk.render.texts["disclaimer"], "i")
            reply.extend(consult.answer(text, author, turn_id))
        else:
            call = Call(consult, arg, turn_id, author, private, self.registry)
            reply = self.registry.run(cmd, call, self.store, self.admins)
        if notice:
            reply = Reply().line(notice, "b").line().extend(reply)
        self.store.add_turn(consult.id, "out", reply.plain(), None, inbox_id)
        return reply
