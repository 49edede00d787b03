"""What an evaluation of the ladder's rules yields: findings, and the facts between them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Finding:
    code: str
    severity: str
    step: str
    text: str
    sources: list[str]
    rule: str
    facts: list[str]  # ids of the facts the rule matched (base or derived)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Identity across evaluations: the same code with the same parameters."""
        cached = self.__dict__.get("_key")
        if cached is None:
            cached = self.__dict__["_key"] = (self.code, json.dumps(self.params, sort_keys=True, default=str))
        return cached

    def row(self) -> tuple:
        """The findings table's columns of this finding (bot/storage/store.py), encoded once."""
        cached = self.__dict__.get("_row")
        if cached is None:
            cached = self.__dict__["_row"] = (
                self.code,
                self.severity,
                self.step,
                json.dumps(self.sources),
                self.rule,
                self.text,
            )
        return cached

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "step": self.step,
            "text": self.text,
            "sources": self.sources,
            "rule": self.rule,
            "facts": self.facts,
            "params": self.params,
        }


@dataclass
class Evaluation:
    findings: list[Finding]
    derived: dict[str, dict]  # derived fact id -> {"fact", "rule", "from"}
    base: dict[str, dict]  # base fact id -> engine fact

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def explain(self, finding: Finding) -> list[dict]:
        """The chain behind a finding: every rule and fact it rests on, derived facts unfolded."""
        chain: list[dict] = [{"rule": finding.rule, "facts": finding.facts}]
        seen: set[str] = set()
        queue = list(finding.facts)
        while queue:
            fid = queue.pop(0)
            if fid in seen or fid not in self.derived:
                continue
            seen.add(fid)
            d = self.derived[fid]
            chain.append({"rule": d["rule"], "facts": d["from"], "derives": fid})
            queue.extend(d["from"])
        return chain

    def base_facts_behind(self, finding: Finding) -> list[str]:
        ids = {fid for step in self.explain(finding) for fid in step["facts"]}
        return sorted(fid for fid in ids if fid in self.base)
