"""What this process last wrote for each consult (its dialogue state, live facts and findings), so that its
next turn need not read them back from SQLite and decode them again.

SQLite stays the record. The kept copy is used only while the consult's stored state is, character
for character, the one written with it; every write of the state carries a fresh random mark, so a
write by another process, a restart (a new Store keeps nothing), a rolled-back turn or a purge that
freed the consult's id is noticed, and the turn reads the log instead. A copy is taken, not shared:
the turn that takes it owns it, and only its own save keeps it again.
"""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass
from typing import Any

from neuroladder.bot.storage.store import Store

from .state import ConsultState

CONSULTS_KEPT = 1024  # the most recently saved consults of each store


@dataclass
class Kept:
    raw: str  # the state exactly as written to consults.state
    state: ConsultState
    answers: dict[str, Any] | None  # the live facts in the store's order; None: read them again
    logged: list[tuple] | None  # the findings rows in force (Store.add_findings); None: read them again


_by_store: weakref.WeakKeyDictionary[Store, dict[int, Kept]] = weakref.WeakKeyDictionary()


# Consonants only: a mark never spells a number, a date or a word that the log's privacy checks
# look for (tests/data/identifiers.toml), as hex digits did once in a while.
MARK_LETTERS = "bcdfghjklmnpqrstvwxz"
_LETTER_OF_BYTE = bytes(ord(MARK_LETTERS[b % len(MARK_LETTERS)]) for b in range(256))  # byte b -> letter b % 20


def mark() -> str:
    """A value no other write of a state will carry (16 random letters of 20: ~69 bits)."""
    return secrets.token_bytes(16).translate(_LETTER_OF_BYTE).decode("ascii")


def take(store: Store, row: dict) -> Kept | None:
    """The copy this process kept of the consult in `row`, when the log still holds its state."""
    mine = _by_store.get(store)
    kept = mine.pop(row["id"], None) if mine else None
    return kept if kept is not None and kept.raw == row.get("state") else None


def keep(store: Store, consult_id: int, kept: Kept) -> None:
    mine = _by_store.get(store)
    if mine is None:
        mine = _by_store[store] = {}
    mine.pop(consult_id, None)
    mine[consult_id] = kept  # most recently saved last
    while len(mine) > CONSULTS_KEPT:
        mine.pop(next(iter(mine)))
