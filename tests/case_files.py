"""The consultation cases in conversations/cases/*.toml, shared by test_cases and test_order."""

from __future__ import annotations

import tomllib
from importlib import resources

from neuroladder.bot.dialogue.consult import Consult
from neuroladder.bot.service import ERROR_TEXT, Service

CHANNEL = "test"
KEYS = {"title", "narrative", "turns", "facts", "expect"}


def load_cases() -> dict[str, dict]:
    """case id (file stem) -> the parsed case."""
    folder = resources.files("neuroladder.conversations").joinpath("cases")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text(encoding="utf-8"))
    return out


CASES = load_cases()


def replay(service: Service, case: dict, chat_id: str = "case") -> Consult:
    """Send every turn through the real Service; return the consult as it stands afterwards."""
    for turn in case["turns"]:
        replies = service.handle(CHANNEL, chat_id, turn, author="clinician")
        text = "\n".join(r.plain() for r in replies)
        assert ERROR_TEXT not in text, f"turn {turn!r} failed inside the service"
    row = service.store.open_consult(CHANNEL, chat_id)
    return Consult(service.tk, service.store, row)
