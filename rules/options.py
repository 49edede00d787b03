"""The status of one treatment option for this consult ("can she have SCS?"), from the ruleset's
own findings: rules/options.toml says which findings mean "advised now", "not yet" and "caution"
for each option. Nothing here concludes anything the rules did not: an option whose findings are
not concluded gets what the seed says of it and "no conclusion yet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .data import Knowledge, read_toml
from .engine import Evaluation, Finding
from .ranking import next_step


@dataclass
class OptionStatus:
    key: str
    label: str
    verdict: str  # next | not_yet | done | open | silent | unknown
    verdict_text: str  # the verdict in words ("not yet")
    lines: list[str]  # why: finding texts, cautions, what the seed says - each with its sources
    codes: list[str]  # the finding codes the answer rests on
    findings: list[Finding] = field(default_factory=list)  # those findings (for /how numbers)


@lru_cache(maxsize=1)
def options() -> dict:
    return read_toml(__package__, "options.toml")


def known_options() -> list[str]:
    return list(options()["options"])


def _threshold(value: Any, knowledge: Knowledge) -> float | None:
    """A number, or a dotted path into thresholds.toml (None when the path is not there)."""
    if isinstance(value, (int, float)):
        return value
    node: Any = knowledge.thresholds
    for part in str(value).split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) else None


def _matches(fact: dict, pattern: dict, knowledge: Knowledge) -> bool:
    for name, want in pattern.items():
        for prefix in ("not_", "at_least_", "below_"):
            if name.startswith(prefix):
                field_name = name[len(prefix) :]
                have = fact.get(field_name)
                if prefix == "not_":
                    if have == want:
                        return False
                else:
                    limit = _threshold(want, knowledge)
                    if limit is None or not isinstance(have, (int, float)):
                        return False
                    if (have < limit) if prefix == "at_least_" else (have >= limit):
                        return False
                break
        else:
            have = fact.get(name)
            if (have not in want) if isinstance(want, list) else (have != want):
                return False
    return True


def facts_hold(patterns: list[dict], ev: Evaluation, knowledge: Knowledge) -> bool:
    """Does every pattern match at least one of the consult's facts (as the engine saw them)?"""
    return all(any(_matches(fact, p, knowledge) for fact in ev.base.values()) for p in patterns)


def _about_class(finding: Finding, classes: list[str], knowledge: Knowledge) -> bool:
    """A finding about one drug counts for an option only when the drug is of the option's classes."""
    agent = finding.params.get("agent")
    if not classes or agent is None:
        return True
    by_label = {spec["label"]: spec["class"] for spec in knowledge.agents.values()}
    cls = knowledge.agents[agent]["class"] if agent in knowledge.agents else by_label.get(agent)
    return cls in classes


def option_status(key: str, evaluation: Evaluation, knowledge: Knowledge) -> OptionStatus:
    data = options()
    spec = data["options"].get(key)
    words = dict(data["verdicts"])
    if spec is None:
        return OptionStatus(key, key, "unknown", words.get("unknown", "not an option I know"), [], [])
    words.update(spec.get("verdict", {}))
    classes = spec.get("classes", [])

    def concluded(codes: list[str]) -> list[Finding]:
        wanted = set(codes)
        return [f for f in evaluation.findings if f.code in wanted and _about_class(f, classes, knowledge)]

    nexts, not_yet, done = (
        concluded(spec.get("next", [])),
        concluded(spec.get("not_yet", [])),
        concluded(spec.get("done", [])),
    )
    cautions = concluded(spec.get("cautions", []))
    said = {f.code for f in evaluation.findings}
    conditional = [
        w["text"]
        for w in spec.get("when", [])
        if not said & set(w.get("unless", [])) and facts_hold(w["facts"], evaluation, knowledge)
    ]

    if "silent" in spec:
        verdict, reasons = "silent", []
    elif not_yet:
        verdict, reasons = "not_yet", not_yet
    elif nexts:
        lead = next_step(evaluation.findings, knowledge)
        verdict, reasons = ("next_now" if lead is not None and lead in nexts else "next"), nexts
    elif done:
        verdict, reasons = "done", done
    else:
        verdict, reasons = "open", []

    lines = [f.text for f in reasons]
    if verdict == "silent":
        lines.append(spec["silent"]["text"])
    elif verdict not in ("next", "next_now") and "about" in spec:
        lines.append(spec["about"]["text"])
    shown = reasons + [f for f in cautions if f not in reasons]
    lines += [f.text for f in cautions if f not in reasons]
    lines += conditional
    if verdict == "silent" and not (cautions or conditional):
        lines.append(data["texts"]["no_caution"])
    word = spec.get("verdict_by_code", {}).get(reasons[0].code) if reasons else None
    return OptionStatus(
        key,
        spec["label"],
        "next" if verdict == "next_now" else verdict,
        word or words[verdict],
        lines,
        [f.code for f in shown],
        shown,
    )
