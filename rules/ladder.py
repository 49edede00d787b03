"""The patient's position on the ladder: one state per rung, from the same Evaluation as the
findings, so the picture (/ladder) and the note's table say what the findings say.

Which problem makes a trial "not adequate", "details missing" or "not judged", which trial a rung
shows, and each state's words and colour are data (rules/ladder.toml); this module applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .data import Knowledge
from .engine import Evaluation, Finding


@dataclass
class Rung:
    id: str
    step: str
    label: str
    state: str
    detail: str = ""
    reached: float | None = None  # dose (mg/day) or weeks reached
    needed: float | None = None  # what an adequate trial needs, same unit
    unit: str = ""


def state_words(state: str, knowledge: Knowledge) -> str:
    return knowledge.ladder["states"].get(state, {}).get("words", state)


def state_colour(state: str, knowledge: Knowledge, default: str = "#9e9e9e") -> str:
    return knowledge.ladder["states"].get(state, {}).get("colour", default)


def dark_text(state: str, knowledge: Knowledge) -> bool:
    return bool(knowledge.ladder["states"].get(state, {}).get("dark_text"))


def is_pitfall(finding: Finding, knowledge: Knowledge) -> bool:
    """A finding the note lists under "Pitfalls flagged" rather than with the next steps."""
    return finding.step in knowledge.ladder["ladder"]["pitfall_steps"] and finding.severity != "info"


def in_note_table(rung: Rung, knowledge: Knowledge) -> bool:
    return rung.step == knowledge.ladder["ladder"]["note_step"]


def trial_state(problems: set[str], status: str | None, knowledge: Knowledge) -> str:
    """A tried first-line trial's state: its status when the ruleset gave one (adequate, or failed
    on tolerability), else what its problems make of it (rules/ladder.toml [trial_problems])."""
    if status == "not_tolerated":
        return "not_tolerated"
    if status:
        return "done"
    for problem, state in knowledge.ladder["trial_problems"].items():
        if problem in problems:
            return state
    return "unknown"


def _agent_state(ev: Evaluation, agent: str, knowledge: Knowledge) -> tuple[str, str, float | None, float | None, str]:
    trial = ev.base.get(f"trial.{agent}")
    if trial is not None and trial.get("tried") != "yes" and trial.get("contra") == "yes":
        return "contraindicated", "", None, None, ""
    if trial is None or trial.get("tried") != "yes":
        return ("not_tried" if trial is not None and trial.get("tried") == "no" else "unknown"), "", None, None, ""
    derived = [d["fact"] for d in ev.derived.values() if d["fact"].get("agent") == agent]
    status = next((f for f in derived if f["kind"] == "status"), None)
    problems = {f["type"] for f in derived if f["kind"] == "problem"}
    target = next((f for f in derived if f["kind"] == "target"), None)
    duration = next((d for d in knowledge.thresholds["durations"].values() if agent in d["agents"]), None)
    if "weeks" in (target or {}):
        reached, needed, unit = trial.get("weeks"), target["weeks"], "weeks"
    elif "duration" in problems and "dose" not in problems and duration:
        reached, needed, unit = trial.get("weeks"), duration["min_weeks"], "weeks"
    else:
        reached, needed, unit = trial.get("dose"), (target or {}).get("dose"), "mg/day"
    state = trial_state(problems, status["how"] if status else None, knowledge)
    detail = f"{reached:g} of {needed:g} {unit}" if reached is not None and needed is not None else ""
    return state, detail, reached, needed, unit


def ladder_model(ev: Evaluation, knowledge: Knowledge) -> list[Rung]:
    codes = ev.codes()
    best_first = knowledge.ladder["ladder"]["best_first"]
    rungs: list[Rung] = []
    for spec in knowledge.rungs:
        pitfall = next((state for code, state in spec.get("findings", {}).items() if code in codes), None)
        if "agents" in spec:
            states = [(agent, *_agent_state(ev, agent, knowledge)) for agent in spec["agents"]]
            # The rung shows its best trial: an adequate one over an inadequate one over none.
            agent, state, detail, reached, needed, unit = min(
                states, key=lambda s: best_first.index(s[1]) if s[1] in best_first else len(best_first)
            )
            if detail:
                detail = f"{knowledge.agent_label(agent)} {detail}"
            rung = Rung(spec["id"], spec["step"], spec["label"], pitfall or state, detail, reached, needed, unit)
            if pitfall:
                rung.detail = (rung.detail + "; " if rung.detail else "") + "pitfall flagged"
        else:
            tried = spec.get("tried")
            if tried and ev.base.get(f"trial.{tried}", {}).get("tried") == "yes":
                state = "done"
            elif tried and ev.base.get(f"trial.{tried}", {}).get("contra") == "yes":
                state = "contraindicated"
            else:
                state = pitfall or spec.get("otherwise", "unknown")
            rung = Rung(spec["id"], spec["step"], spec["label"], state)
        rungs.append(rung)
    return rungs
