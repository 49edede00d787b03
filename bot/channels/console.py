"""The terminal channel: stdin lines in, replies out. Plain text when stdin is not a terminal.

Choices are listed as numbers; typing the number answers with that choice. Attachments (the
ladder picture, an exported note) are written to files and their paths printed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import TextIO

from neuroladder.bot.service import Service
from neuroladder.bot.storage.files import write_private
from neuroladder.bot.storage.store import Store, default_db_path
from neuroladder.bot.views.reply import Reply

CHANNEL = "console"
BOLD, ITALIC, RESET = "\033[1m", "\033[3m", "\033[0m"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, help="SQLite file (default: $NEUROLADDER_DB or ./neuroladder.db)")
    parser.add_argument("--out", default=".", help="folder for files the bot writes (/ladder, /export)")


def render(reply: Reply, colour: bool) -> str:
    if colour:
        styles = {"b": BOLD, "i": ITALIC, "code": BOLD}
        text = "".join(f"{styles[s]}{t}{RESET}" if s in styles else t for s, t in reply.parts).strip("\n")
    else:
        text = reply.plain()
    if reply.choices:
        text += "\n" + "  ".join(f"[{i}] {c.label}" for i, c in enumerate(reply.choices, 1))
    return text


class ConsoleChat:
    def __init__(self, service: Service, out_dir: Path, chat_id: str):
        self.service = service
        self.out_dir = out_dir
        self.chat_id = chat_id
        self.choices: list = []

    def send(self, text: str) -> list[Reply]:
        stripped = text.strip()
        if self.choices and stripped.isdecimal() and 1 <= int(stripped) <= len(self.choices):
            text = self.choices[int(stripped) - 1].value
        replies = self.service.handle(CHANNEL, self.chat_id, text, author="console", private=True)
        self.choices = [c for r in replies for c in r.choices]
        return replies

    def save_attachments(self, reply: Reply) -> list[Path]:
        paths = []
        for att in reply.attachments:
            self.out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.out_dir / att.filename
            write_private(path, att.data)
            paths.append(path)
        return paths


def run(args: argparse.Namespace, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    store = Store(args.db or default_db_path())
    service = Service(store)
    chat = ConsoleChat(service, Path(args.out), chat_id=f"console-{uuid.uuid4().hex[:12]}")
    tty = stdin.isatty() and stdout.isatty()

    def show(replies: list[Reply]) -> None:
        for reply in replies:
            print(render(reply, colour=tty), file=stdout)
            for path in chat.save_attachments(reply):
                print(f"(file written: {path})", file=stdout)
            print(file=stdout)

    show(chat.send("/start"))
    while True:
        if tty:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        if line.strip() in ("/quit", "/exit"):
            break
        if not line.strip():
            continue
        show(chat.send(line.rstrip("\n")))
    store.close()
    return 0
