"""A scripted `Service` for the Telegram transport tests: replies whose exact text they know.

It keeps the contract the Telegram adapter relies on: it writes the user's turn (with the author
and inbox id), one fact per answer and the bot's turn through the store, inside the caller's
transaction, and returns `Reply` objects with choices and files. No clinical content. Whole
consultations are tested with the real Service (test_telegram_consult.py).
"""

from __future__ import annotations

from neuroladder.bot.storage.store import Store
from neuroladder.bot.views.reply import Attachment, Choice, Reply

QUESTIONS = [
    ("Question one?", [Choice("Yes", "yes"), Choice("No", "no"), Choice("Not sure", "unknown")]),
    ("Question two?", []),
    ("Question three?", [Choice("Option A", "a"), Choice("Option B", "b")]),
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
COMMANDS = [("start", "Start a new consultation"), ("help", "What I can do"), ("summary", "Answers so far")]


class FakeService:
    def __init__(self, store: Store):
        self.store = store

    @staticmethod
    def commands():
        return list(COMMANDS)

    @staticmethod
    def sends_file(text: str) -> str:
        return "document" if text.startswith("/files") else ""

    def handle(self, channel, chat_id, text, *, author=None, inbox_id=None, private=False, origin=None, edit=False):
        with self.store.transaction():
            consult = self.store.open_consult(channel, chat_id)
            if text.startswith("/start") or consult is None:
                consult = self.store.new_consult(channel, chat_id, "fake")
            cid = consult["id"]
            turn = self.store.add_turn(cid, "in", text, author=author, inbox_id=inbox_id)
            answered = [f for f in self.store.live_facts(cid)]
            replies = []
            if text.startswith("/summary"):
                r = Reply().line("Summary", "b")
                for f in answered:
                    r.line(f"{f['name']}: {f['value']}")
                replies.append(r)
            elif text.startswith("/files"):
                replies.append(
                    Reply(
                        attachments=[
                            Attachment("ladder.png", "image/png", PNG),
                            Attachment("note.txt", "text/plain", b"note"),
                        ]
                    ).add("Files:")
                )
            elif text.startswith("/echo"):
                replies.append(Reply().line("You wrote:", "b").add(text[len("/echo ") :]))
            elif not text.startswith("/"):
                if len(answered) < len(QUESTIONS):
                    self.store.set_fact(cid, f"q{len(answered) + 1}", text, turn)
                    answered.append(None)
                replies.append(Reply().add("Noted: ").add(text[:200], "i"))
            if not text.startswith(("/summary", "/echo", "/files")):
                if len(answered) < len(QUESTIONS):
                    question, choices = QUESTIONS[len(answered)]
                    replies.append(Reply(choices=list(choices), expects_answer=True).add(question))
                else:
                    replies.append(Reply().add("All questions answered. Send /summary."))
            for r in replies:
                self.store.add_turn(cid, "out", r.plain(), inbox_id=inbox_id)
            return replies
