"""What a clinician's message means for this consult, before anything is stored: the facts it
states (each checked for type and range), the ones refused, and any that contradict an earlier
answer (asked about, never settled silently)."""

from __future__ import annotations

from typing import Any

from neuroladder.rules.data import Knowledge
from neuroladder.rules.facts import FactError, check

# A changed tried/not-tried answer is a contradiction to ask about, unless the clinician marks
# it as a correction ("actually...", "no, ...").
CORRECTION_WORDS = ("actually", "correction", "sorry", "i meant", "instead", "should be", "update", "change")


def checked(facts: dict[str, Any], knowledge: Knowledge) -> tuple[dict[str, Any], list[str]]:
    """The facts that pass their schema, and one message for each that does not."""
    accepted, rejected = {}, []
    for name, value in facts.items():
        try:
            accepted[name] = check(name, value, knowledge)
        except FactError as exc:
            rejected.append(str(exc))
    return accepted, rejected


def contradictions(before: dict[str, Any], new: dict[str, Any], text: str) -> list[tuple[str, Any, Any]]:
    """'never tried duloxetine' then 'duloxetine 60 mg': (fact, earlier, now) for each to ask about."""
    lowered = text.lower().strip()
    if lowered.startswith("no,") or any(word in lowered for word in CORRECTION_WORDS):
        return []
    out = []
    for name, value in new.items():
        if (
            name.endswith(".tried")
            and before.get(name) in ("yes", "no")
            and value in ("yes", "no")
            and before[name] != value
        ):
            out.append((name, before[name], value))
    return out
