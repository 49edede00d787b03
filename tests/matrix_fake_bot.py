"""`neuroladder matrix` with a stand-in consult, for transport tests that must not depend on the
clinical content: it echoes each message, offers two choices on "/choices", sends a PNG on
"/picture", and records every turn and one fact per message in the real store.

Usage (as the tests run it): python tests/matrix_fake_bot.py --db DB --store DIR [--allow-unencrypted]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys

from neuroladder.bot.channels.matrix import app as matrix
from neuroladder.bot.views.reply import Attachment, Choice, Reply

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


class EchoService:
    def __init__(self, store):
        self.store = store

    def handle(self, channel, chat_id, text, *, author=None, inbox_id=None, private=False, origin=None, edit=False):
        if text == "/boom":
            raise RuntimeError("the consult broke")
        with self.store.transaction():
            consult = self.store.open_consult(channel, chat_id) or self.store.new_consult(channel, chat_id, "echo")
            turn = self.store.add_turn(consult["id"], "in", text, author=author, inbox_id=inbox_id)
            n = self.store.db.execute(
                "select count(*) from turns where consult_id = ? and direction = 'in'", [consult["id"]]
            ).fetchone()[0]
            self.store.set_fact(consult["id"], f"message_{n}", text, turn)
        if text == "/choices":
            return [Reply(parts=[("", "Pick one:")], choices=[Choice("Yes", "yes"), Choice("No", "no")])]
        if text == "/picture":
            return [Reply(parts=[("", "The picture:")], attachments=[Attachment("ladder.png", "image/png", PNG)])]
        return [Reply().add("echo: ").add(text, "b")]


def main() -> int:
    parser = matrix.configure_parser(argparse.ArgumentParser())
    args = parser.parse_args()
    matrix._setup_logging()
    try:
        settings = matrix.settings_from(args)
        asyncio.run(matrix.serve(settings, service_factory=EchoService))
    except matrix.ConfigError as exc:
        print(f"neuroladder matrix: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
