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
# no_benefit / partial / good: judged on efficacy; waned: helped at first, then stopped working
# (a failure of efficacy); side_effects: STOPPED for side effects (a failure of tolerability).
# A side effect while still taking the drug is `trial.X.adverse`, never this outcome.
OUTCOMES = ("no_benefit", "partial", "good", "waned", "side_effects", "unknown")
FOCAL_CAUSES = ("postherpetic", "post_surgical", "entrapment", "post_traumatic", "other", "unknown")

# name pattern -> allowed values (a tuple) or a kind: "int" / "number" (>= 0), "flags" (a list of
# red-flag keys, legacy), "adverse" (a list of adverse-effect keys, [] = none), "agents" (a list
# of agent keys). docs/facts.md says what each fact means and who fills it.
SCHEMA: dict[str, Any] = {
    "age": "int",
    "crcl": "number",  # creatinine clearance, mL/min (measured or Cockcroft-Gault)
    "egfr": "number",  # eGFR, mL/min/1.73 m2: not the same as CrCl (clinical notes)
    "pain_pattern": ("focal", "diffuse", "unknown"),
    "focal_cause": FOCAL_CAUSES,  # a known cause of focal pain (asymmetry is then no red flag)
    "weakness_fatigue": YES_NO_UNKNOWN,
    "falls": YES_NO_UNKNOWN,  # a history of falls
    "hepatic": YES_NO_UNKNOWN,  # hepatic impairment
    "combination": YES_NO_UNKNOWN,
    "combination.agents": "agents",  # which drugs were combined
    "combination.weeks": "number",
    "combination.outcome": OUTCOMES,
    "diabetes": ("no", "controlled", "uncontrolled", "unknown"),
    "hba1c": "number",  # percent (DCCT); mmol/mol is converted on reading [L8]
    "b12": ("normal", "low", "treated", "unknown"),  # treated: was low, replaced, now normal
    "b12_level": "number",  # pmol/L; pg/mL is converted on reading [L9]
    "paraprotein": ("normal", "abnormal", "unknown"),
    r"flag\.\w+": YES_NO_UNKNOWN,  # one red flag each (keys: rules/findings.toml [red_flags])
    "red_flags": "flags",  # legacy (logs and files before flag.*): read, never written
    r"trial\.\w+\.tried": YES_NO_UNKNOWN,
    r"trial\.\w+\.dose": "number",  # total mg/day
    r"trial\.\w+\.doses_per_day": "int",
    r"trial\.\w+\.weeks": "number",  # total duration of the trial
    r"trial\.\w+\.weeks_at_max": "number",  # weeks at the highest dose reached
    r"trial\.\w+\.max_tolerated": YES_NO_UNKNOWN,  # raised until side effects stopped it (or usual max)
    r"trial\.\w+\.outcome": OUTCOMES,
    r"trial\.\w+\.current": YES_NO_UNKNOWN,  # still taking it now
    r"trial\.\w+\.adverse": "adverse",  # side effects reported on it ([] = none)
    # cannot be given (contraindicated, unsuitable): says nothing of whether it was ever tried
    r"trial\.\w+\.contraindicated": YES_NO_UNKNOWN,
}


def other_units(name: str, value: Any, knowledge: Knowledge) -> dict[str, str]:
    """HbA1c and B12 are shown in both units; the conversions are data (rules/thresholds.toml)."""
    if not isinstance(value, (int, float)):
        return {}
    if name == "hba1c":
        h = knowledge.thresholds["hba1c"]
        return {"mmol_mol": f"{(value - h['mmol_offset']) * h['mmol_factor']:.0f}"}
    if name == "b12_level":
        return {"pg_ml": f"{value / knowledge.thresholds['b12']['pmol_per_pg']:.0f}"}
    return {}


class FactError(ValueError):
    """A value that does not fit its fact's declared type."""


_SCHEMA_PATTERNS = [(re.compile(pattern), kind) for pattern, kind in SCHEMA.items()]
# name -> kind, filled as names are met: a long message checks ~30 facts, each of which matched
# every pattern in turn. Names come from the reader and the data files, not from what is typed, so
# the memo stays small; the bound is only a guard.
_KIND_OF: dict[str, Any] = {}
KINDS_REMEMBERED = 4096


def schema_kind(name: str) -> Any:
    """The schema's type of a fact name ("trial.tca.dose" -> "number"), None for an unknown name."""
    try:
        return _KIND_OF[name]
    except KeyError:
        pass
    kind = next((kind for pattern, kind in _SCHEMA_PATTERNS if pattern.fullmatch(name)), None)
    if len(_KIND_OF) < KINDS_REMEMBERED:
        _KIND_OF[name] = kind
    return kind


def check(name: str, value: Any, knowledge: Knowledge) -> Any:
    """Validate one answer against the schema (and the sanity ranges); return it normalised."""
    kind = schema_kind(name)
    if kind is None:
        raise FactError(f"unknown fact {name!r}")
    if name.startswith("trial.") and name.split(".")[1] not in knowledge.agents:
        raise FactError(f"unknown agent in {name!r}")
    if name.startswith("flag.") and name[5:] not in knowledge.red_flags:
        raise FactError(f"unknown red flag in {name!r}")
    if isinstance(kind, tuple):
        if value not in kind:
            raise FactError(f"{name} must be one of {', '.join(kind)}")
        return value
    if kind == "flags":
        if value == "unknown":
            return value
        if isinstance(value, list):
            value = [LEGACY_FLAGS.get(flag, flag) for flag in value]
        if not isinstance(value, list) or any(flag not in knowledge.red_flags for flag in value):
            raise FactError(f"{name} must be a list of red flags or 'unknown'")
        return sorted(set(value))
    if kind in ("adverse", "agents"):
        known = knowledge.adverse_effects if kind == "adverse" else knowledge.agents
        if not isinstance(value, list) or any(item not in known for item in value):
            raise FactError(f"{name} must be a list of known {'side effects' if kind == 'adverse' else 'drugs'}")
        return sorted(set(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FactError(f"{name} must be a number")
    if value < 0:
        raise FactError(f"{name} cannot be negative")
    return int(value) if kind == "int" else value


FIRST_LINE_CLASSES = ("gabapentinoid", "snri", "tca")
# The parts of a trial, in the schema's order ("tried", "dose", ... "adverse"): trial.<agent>.<part>.
TRIAL_PARTS = tuple(name.rsplit("\\.", 1)[1] for name in SCHEMA if name.startswith("trial\\.\\w+\\."))
TRIAL_DETAILS = {"dose": "dose", "doses_per_day": "dpd", "weeks": "weeks", "weeks_at_max": "weeks_at_max"}


def engine_facts(answers: dict[str, Any], knowledge: Knowledge) -> list[dict]:
    """The engine's view of a consult. Subjects with no answer yet are asserted as unknown (absent
    and "unknown" alike are *not known*, never "no")."""
    facts: list[dict] = []

    def add(kind: str, fid: str, src: list[str], **fields: Any) -> None:
        facts.append({"kind": kind, "id": fid, "src": ",".join(n for n in src if n in answers), **fields})

    if "age" in answers:
        add("age", "age", ["age"], known=True, years=answers["age"])
    else:
        add("age", "age", [], known=False)
    # The [L1]/[L2] bands are creatinine clearance; eGFR stands in only when no clearance is given,
    # and the rules then say that the band rests on eGFR.
    if "crcl" in answers:
        add("renal", "renal", ["crcl"], known=True, crcl=answers["crcl"], basis="crcl")
    elif "egfr" in answers:
        add("renal", "renal", ["egfr"], known=True, crcl=answers["egfr"], basis="egfr")
    else:
        add("renal", "renal", [], known=False)
    for name in (
        "pain_pattern",
        "focal_cause",
        "weakness_fatigue",
        "falls",
        "hepatic",
        "diabetes",
        "b12",
        "paraprotein",
    ):
        add(name, name, [name], value=answers.get(name, "unknown"))
    for name in ("hba1c", "b12_level"):
        if name in answers:
            add(name, name, [name], value=answers[name])

    combo = {"value": answers.get("combination", "unknown"), "outcome": answers.get("combination.outcome", "unknown")}
    if "combination.agents" in answers:
        classes = {knowledge.agents[a]["class"] for a in answers["combination.agents"]}
        seed = "gabapentinoid" in classes and bool(classes & {"snri", "tca"})
        combo.update(agents=",".join(answers["combination.agents"]), pair="seed" if seed else "other")
    else:
        combo["pair"] = "unknown"
    if "combination.weeks" in answers:
        combo["weeks"] = answers["combination.weeks"]
    add(
        "combination",
        "combination",
        ["combination", "combination.agents", "combination.weeks", "combination.outcome"],
        **combo,
    )

    # Present flags one fact each; the flags not yet checked in one fact (one rule firing lists them).
    flags = red_flag_answers(answers, knowledge)
    unknown = [flag for flag in knowledge.red_flags if flags.get(flag, "unknown") == "unknown"]
    add(
        "red_flags",
        "red_flags",
        [n for n in answers if n.startswith("flag.")] + ["red_flags"],
        unknown=",".join(unknown),
    )
    for flag in knowledge.red_flags:
        if flags.get(flag) == "yes":
            add("red_flag", f"red_flag.{flag}", [f"flag.{flag}", "red_flags"], flag=flag, value="yes")

    trials = _trial_answers(answers)
    for agent, spec in knowledge.agents.items():
        prefix = f"trial.{agent}."
        given = trials.get(agent, {})
        if not given and spec["class"] not in FIRST_LINE_CLASSES:
            continue
        details = {k: v for k, v in given.items() if k in TRIAL_DETAILS}
        implied = details or "outcome" in given or "adverse" in given or "max_tolerated" in given
        tried = given.get("tried", "yes" if implied else "unknown")
        fields = {
            "agent": agent,
            "cls": spec["class"],
            "tried": tried,
            "outcome": given.get("outcome", "unknown"),
            "current": given.get("current", "unknown"),
            "max_tolerated": given.get("max_tolerated", "unknown"),
        }
        if "contraindicated" in given:  # cannot be given; never "tried" (absent when not answered)
            fields["contra"] = given["contraindicated"]
        if tried == "yes":
            fields.update({TRIAL_DETAILS[k]: v for k, v in details.items()})
        add("trial", f"trial.{agent}", [prefix + k for k in given], **fields)
        if tried == "yes":
            for effect in given.get("adverse", []):
                add(
                    "adverse",
                    f"adverse.{agent}.{effect}",
                    [prefix + "adverse"],
                    agent=agent,
                    cls=spec["class"],
                    effect=effect,
                )
    return facts


def _trial_answers(answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """agent -> {part: value} of the `trial.<agent>.<part>` answers, in the answers' order: one pass
    over the answers rather than one per agent."""
    trials: dict[str, dict[str, Any]] = {}
    for name, value in answers.items():
        if name.startswith("trial."):
            agent, dot, part = name[6:].partition(".")
            if dot:
                trials.setdefault(agent, {})[part] = value
    return trials


# The legacy single answer (a list of present flags, [] for none) in the per-flag form.
LEGACY_FLAGS = {"progression": "progressive_weakness"}


def red_flag_answers(answers: dict[str, Any], knowledge: Knowledge) -> dict[str, str]:
    """flag key -> yes/no/unknown, from `flag.*` answers (and a legacy `red_flags` answer)."""
    out: dict[str, str] = {}
    legacy = answers.get("red_flags")
    if legacy == "unknown":
        out = {flag: "unknown" for flag in knowledge.red_flags}
    elif isinstance(legacy, list):
        present = {LEGACY_FLAGS.get(f, f) for f in legacy}
        out = {flag: ("yes" if flag in present else "no") for flag in knowledge.red_flags}
    for name, value in answers.items():
        if name.startswith("flag."):
            out[name[5:]] = value
    return out
