"""Typed consult facts, and their translation into the engine's facts.

A consult's answers are flat `name -> value` pairs (what the clinician said, as stored in SQLite).
Each name has a declared type checked before it is stored (like experta's Fact schemas), and
`engine_facts` turns the answers into the facts the rules match: one per subject, each with an
`id` and `src` (the answer names it came from) so a firing can be traced back to the turns.
"""
from __future__ import annotations

import re
from typing import Any

from .data import Knowledge

YES_NO_UNKNOWN = ("yes", "no", "unknown")
OUTCOMES = ("no_benefit", "partial", "good", "side_effects", "unknown")

# name pattern -> allowed values (a tuple) or a numeric kind ("int" / "number")
SCHEMA: dict[str, Any] = {
    "age": "int",
    "crcl": "number",
    "pain_pattern": ("focal", "diffuse", "unknown"),
    "weakness_fatigue": YES_NO_UNKNOWN,
    "combination": YES_NO_UNKNOWN,
    "diabetes": ("no", "controlled", "uncontrolled", "unknown"),
    "b12": ("normal", "low", "unknown"),
    "paraprotein": ("normal", "abnormal", "unknown"),
    "red_flags": "flags",
    r"trial\.\w+\.tried": YES_NO_UNKNOWN,
    r"trial\.\w+\.dose": "number",
    r"trial\.\w+\.doses_per_day": "int",
    r"trial\.\w+\.weeks": "number",
    r"trial\.\w+\.weeks_at_max": "number",
    r"trial\.\w+\.outcome": OUTCOMES,
}


class FactError(ValueError):
    """A value that does not fit its fact's declared type."""


def check(name: str, value: Any, knowledge: Knowledge) -> Any:
    """Validate one answer against the schema (and the sanity ranges); return it normalised."""
    for pattern, kind in SCHEMA.items():
        if re.fullmatch(pattern, name):
            break
    else:
        raise FactError(f"unknown fact {name!r}")
    if name.startswith("trial.") and name.split(".")[1] not in knowledge.agents:
        raise FactError(f"unknown agent in {name!r}")
    if isinstance(kind, tuple):
        if value not in kind:
            raise FactError(f"{name} must be one of {', '.join(kind)}")
        return value
    if kind == "flags":
        if value == "unknown":
            return value
        if not isinstance(value, list) or any(flag not in knowledge.red_flags for flag in value):
            raise FactError(f"{name} must be a list of red flags or 'unknown'")
        return sorted(set(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FactError(f"{name} must be a number")
    if value < 0:
        raise FactError(f"{name} cannot be negative")
    return int(value) if kind == "int" else value


def engine_facts(answers: dict[str, Any], knowledge: Knowledge) -> list[dict]:
    """The engine's view of a consult. Subjects with no answer yet are asserted as unknown."""
    facts: list[dict] = []

    def add(kind: str, fid: str, src: list[str], **fields: Any) -> None:
        facts.append({"kind": kind, "id": fid, "src": ",".join(n for n in src if n in answers), **fields})

    if "age" in answers:
        add("age", "age", ["age"], known=True, years=answers["age"])
    else:
        add("age", "age", [], known=False)
    if "crcl" in answers:
        add("renal", "renal", ["crcl"], known=True, crcl=answers["crcl"])
    else:
        add("renal", "renal", [], known=False)
    for name in ("pain_pattern", "weakness_fatigue", "combination", "diabetes", "b12", "paraprotein"):
        add(name, name, [name], value=answers.get(name, "unknown"))

    flags = answers.get("red_flags", "unknown")
    add("red_flags", "red_flags", ["red_flags"], status="unknown" if flags == "unknown" else
        ("present" if flags else "none"))
    if isinstance(flags, list):
        for flag in flags:
            add("red_flag", f"red_flag.{flag}", ["red_flags"], flag=flag)

    for agent, spec in knowledge.agents.items():
        prefix = f"trial.{agent}."
        given = {n[len(prefix):]: v for n, v in answers.items() if n.startswith(prefix)}
        if not given:
            continue
        details = {k: v for k, v in given.items() if k in ("dose", "doses_per_day", "weeks", "weeks_at_max")}
        tried = given.get("tried", "yes" if details or "outcome" in given else "unknown")
        fields = {"agent": agent, "cls": spec["class"], "tried": tried, "outcome": given.get("outcome", "unknown")}
        if tried == "yes":
            fields.update({("dpd" if k == "doses_per_day" else k): v for k, v in details.items()})
        add("trial", f"trial.{agent}", [prefix + k for k in given], **fields)
    return facts
