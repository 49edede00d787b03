"""Load the ruleset's knowledge files (thresholds, findings, sources, drugs) from package data."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


def read_toml(package: str, name: str) -> dict:
    return tomllib.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True, eq=False)
class Knowledge:
    thresholds: dict[str, Any]
    findings: dict[str, dict]  # code -> spec, in ladder order
    steps: dict[str, str]
    sources: dict[str, dict]
    agents: dict[str, dict]
    classes: dict[str, str]
    ambiguous: dict[str, dict]
    red_flags: dict[str, str]
    rungs: list[dict]
    adverse_effects: dict[str, str]
    phrases: dict[str, str] = None  # sentences rules put into findings (findings.toml [phrases])
    red_flag_names: dict[str, str] = None  # the red flags in short, for lists
    ladder: dict = None  # ladder.toml: trial problems -> states, the states' words and colours

    def fingerprint(self) -> dict:
        """What the registered ruleset depends on (a changed threshold is a new ruleset)."""
        return {"thresholds": self.thresholds, "agents": {a: v["class"] for a, v in self.agents.items()}}

    def agent_label(self, agent: str) -> str:
        return self.agents[agent]["label"]


def load_knowledge(threshold_overrides: dict | None = None) -> Knowledge:
    base = _base_knowledge()
    if not threshold_overrides:
        return base
    return Knowledge(
        _merge(base.thresholds, threshold_overrides),
        base.findings,
        base.steps,
        base.sources,
        base.agents,
        base.classes,
        base.ambiguous,
        base.red_flags,
        base.rungs,
        base.adverse_effects,
        base.phrases,
        base.red_flag_names,
        base.ladder,
    )


def _sources(table: dict) -> dict:
    """Each source with its claims by id (`claim`) and as a list of texts (`claims`, for display)."""
    return {key: {**spec, "claims": list(spec.get("claim", {}).values())} for key, spec in table.items()}


@lru_cache(maxsize=1)
def _base_knowledge() -> Knowledge:
    pkg = __package__
    findings = read_toml(pkg, "findings.toml")
    drugs = read_toml(pkg, "drugs.toml")
    ladder = read_toml(pkg, "ladder.toml")
    return Knowledge(
        thresholds=read_toml(pkg, "thresholds.toml"),
        findings=findings["findings"],
        steps=findings["steps"],
        sources=_sources(read_toml(pkg, "sources.toml")["sources"]),
        agents=drugs["agents"],
        classes=drugs["classes"],
        ambiguous=drugs.get("ambiguous", {}),
        red_flags=findings["red_flags"],
        rungs=ladder["rungs"],
        adverse_effects=drugs["adverse_effects"],
        phrases={name: spec["text"] for name, spec in findings["phrases"].items()},
        red_flag_names=findings["red_flag_names"],
        ladder={key: value for key, value in ladder.items() if key != "rungs"},
    )
