"""What a consult remembers between turns besides its facts, as stored in `consults.state` (JSON).

Facts live in their own table; this is the dialogue's own position: the open question, the
questions skipped, the answers that /undo can take back, whether the intake has finished, and a
contradiction waiting for the clinician to settle. Each write also carries a random `mark`
(bot/dialogue/kept.py: how a process knows the state it wrote last is still the log's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    """One step /undo can take back: the facts set at `turn`, or the question skipped then."""

    turn: int
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.turn, "skipped": self.skipped} if self.skipped else {"turn": self.turn}


@dataclass
class ConsultState:
    current: str | None = None  # the open question's id
    skipped: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    finished: bool = False  # the intake ran out of questions (summary shown)
    conflict: dict[str, Any] | None = None  # facts held back until a contradiction is settled

    @classmethod
    def from_json(cls, raw: str | None) -> ConsultState:
        data = json.loads(raw or "{}")
        return cls(
            current=data.get("current"),
            skipped=list(data.get("skipped", [])),
            changes=[Change(c["turn"], c.get("skipped")) for c in data.get("changes", [])],
            finished=bool(data.get("finished")),
            conflict=(data.get("conflict") or {}).get("facts"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "skipped": self.skipped,
            "changes": [c.to_dict() for c in self.changes],
            "current": self.current,
        }
        if self.finished:
            out["finished"] = True
        if self.conflict is not None:
            out["conflict"] = {"facts": self.conflict}
        return out
