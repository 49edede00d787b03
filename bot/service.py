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

from neuroladder.rules.data import Knowledge, load_knowledge
from neuroladder.bot.text import privacy
from neuroladder.bot.dialogue import admin
from neuroladder.bot.storage import retention
from neuroladder.bot.dialogue.consult import Consult, Toolkit
from neuroladder.bot.views.reply import Reply
from neuroladder.bot.storage.store import Store
from neuroladder.bot.tutor.mode import Tutor

log = logging.getLogger(__name__)

COMMANDS: list[tuple[str, str]] = [
    ("start", "Begin a new consultation"),
    ("summary", "The next step and the findings on one screen"),
    ("findings", "Every finding, ranked, with steps and sources"),
    ("unknowns", "What is still unknown"),
    ("why", "Why the current question matters"),
    ("how", "How a recommendation was reached"),
    ("undo", "Take back the last answer"),
    ("edit", "Correct a fact"),
    ("skip", "Skip the current question"),
    ("ladder", "The ladder as a picture"),
    ("export", "The consult note as a file"),
    ("sources", "The numbered sources"),
    ("tutor", "Practise on cases"),
    ("restart", "Start again"),
    ("help", "What I can do"),
]
COMMAND_RE = re.compile(r"^/(?P<cmd>[a-z_]+)(?:@\S+)?(?:\s+(?P<arg>.*))?$", re.S | re.I)
EDIT_OF_CLOSED = ("That edit is to a message of an earlier consultation, which is closed, so I have not applied it "
                  "to the one open now. Type the correction here if it is meant for this patient.")
ERROR_TEXT = ("Sorry - something went wrong while handling that message. Your earlier answers are safe; "
              "please send it again, or /summary.")


class Service:
    def __init__(self, store: Store, knowledge: Knowledge | None = None, *, admins=None):
        self.store = store
        # author ids allowed /purge and /exportconsult (default: $NEUROLADDER_ADMINS)
        self.admins = retention.admins_from_env() if admins is None else frozenset(str(a) for a in admins)
        self.tk = Toolkit.load(knowledge or load_knowledge())
        self.tutor = Tutor(store, self.tk)  # tests may give it another cases folder

    @staticmethod
    def commands() -> list[tuple[str, str]]:
        return list(COMMANDS)

    def handle(self, channel: str, chat_id: str, text: str, *, author: str | None = None,
               inbox_id: int | None = None, private: bool = False, origin: str | None = None,
               edit: bool = False) -> list[Reply]:
        """Process one message (free text, a command such as /summary, or a choice's value).
        `private`: the chat is the author's one-to-one chat with the bot (exports go only there).
        `origin`: the channel's key of the message this is (or, with `edit`, the one it edits)."""
        guarded = privacy.guard(text)  # identifiers redacted before anything is stored or parsed
        notice = guarded.warning
        if guarded.truncated:   # a message past the bound: say what was not read
            cut = self.tk.parser.lx.messages["truncated"].format(
                total=len(text), read=privacy.MAX_CHARS, tail=guarded.text[-30:].strip())   # the redacted part only
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

    def _edit_of_closed(self, channel: str, chat_id: str, text: str, author: str | None, inbox_id: int | None,
                        origin: str) -> Reply | None:
        """An edit belongs to the consult of the message it edits: never to whichever is open now.
        When that consult is closed (a /restart since), the edit is refused and kept with it."""
        owner = self.store.consult_of_origin(channel, chat_id, origin)
        if owner is None or owner["status"] == "open":
            return None
        reply = Reply().line(EDIT_OF_CLOSED)
        self.store.add_turn(owner["id"], "in", text, author, inbox_id, origin)
        self.store.add_turn(owner["id"], "out", reply.plain(), None, inbox_id)
        return reply

    def _handle(self, channel: str, chat_id: str, text: str, author: str | None, inbox_id: int | None,
                notice: str | None = None, private: bool = False, origin: str | None = None) -> Reply:
        match = COMMAND_RE.match(text)
        cmd = match.group("cmd").lower() if match else None
        arg = (match.group("arg") or "").strip() if match else ""
        row = self.store.open_consult(channel, chat_id)
        if self.tutor.routes(row, cmd):  # /tutor, and every message of a chat in tutor mode
            return self.tutor.handle(channel, chat_id, row, text, cmd, arg, author, inbox_id, notice=notice)
        fresh = row is None or cmd in ("start", "restart")
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
        elif cmd in admin.ADMIN_COMMANDS:
            reply = admin.admin_command(self.store, cmd, arg, author, self.admins, keep=consult.id,
                                        private=private)
        else:
            reply = self._command(consult, cmd, arg, turn_id, fresh)
        if notice:
            reply = Reply().line(notice, "b").line().extend(reply)
        self.store.add_turn(consult.id, "out", reply.plain(), None, inbox_id)
        return reply

    def _command(self, consult: Consult, cmd: str, arg: str, turn_id: int, fresh: bool) -> Reply:
        texts = self.tk.render.texts
        if cmd in ("start", "restart"):
            reply = Reply().line(texts["welcome"]).line().line(texts["disclaimer"], "i").line()
            return reply.extend(consult.ask_next(turn_id))
        if cmd == "help":
            return Reply().line(texts["help"]).line(texts["disclaimer"], "i")
        if cmd == "summary":
            return consult.summary()
        if cmd == "findings":
            return consult.findings()
        if cmd == "unknowns":
            return consult.unknowns_reply()
        if cmd == "sources":
            return self.tk.render.sources()
        if cmd == "why":
            return consult.why()
        if cmd == "undo":
            return consult.undo(turn_id)
        if cmd == "skip":
            return consult.skip(turn_id)
        if cmd == "how":
            return consult.how(arg)
        if cmd == "edit":
            return consult.edit(arg, turn_id)
        if cmd == "export":
            return consult.export()
        if cmd == "ladder":
            return consult.ladder()
        if cmd == "resolve":
            return consult.resolve_conflict(arg.lower(), turn_id)
        known = ", ".join(f"/{c}" for c, _ in COMMANDS)
        return Reply().line(f"I do not know /{cmd}. Commands: {known}.")
