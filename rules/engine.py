"""The one adapter around durable_rules: build the ruleset, evaluate facts, record the firings.

Nothing else in NeuroLadder touches the engine's global API. Each evaluation uses a fresh
session (sid), asserts the consult's facts, then asserts the phase facts one after another, and
deletes the session: the engine is a pure function of the facts, so findings never go stale,
never depend on the order the clinician typed things in, and the engine's 1024-session limit
never surfaces however many consultations are open.

Why phases: a rule with a `none(...)` condition fires as soon as its positive part matches. Every
rule here joins a `phase` fact, and the phases are asserted in order after all facts are in, so a
`none(...)` is only ever judged once everything it could see is present.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from durable import lang

from .data import Knowledge, load_knowledge
from .ranking import rank

PHASES = ("classify", "target", "assess", "status", "ladder", "conclude")


class RuleError(RuntimeError):
    """A consequent raised: a broken rule must fail loudly, never give silently less advice."""


@dataclass
class Finding:
    code: str
    severity: str
    step: str
    text: str
    sources: list[str]
    rule: str
    facts: list[str]                 # ids of the facts the rule matched (base or derived)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Identity across evaluations: the same code with the same parameters."""
        cached = self.__dict__.get("_key")
        if cached is None:
            cached = self.__dict__["_key"] = (self.code, json.dumps(self.params, sort_keys=True, default=str))
        return cached

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "step": self.step, "text": self.text,
                "sources": self.sources, "rule": self.rule, "facts": self.facts, "params": self.params}


@dataclass
class Evaluation:
    findings: list[Finding]
    derived: dict[str, dict]          # derived fact id -> {"fact", "rule", "from"}
    base: dict[str, dict]             # base fact id -> engine fact

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


class _Collector:
    def __init__(self, knowledge: Knowledge):
        self.k = knowledge
        self.findings: dict[tuple, Finding] = {}
        self.derived: dict[str, dict] = {}
        self.errors: list[str] = []
        self.base_ids: list[str] = []
        self.base: list[dict] = []
        self.counter = itertools.count(1)


class Ctx:
    """What a rule's consequent sees: the matched facts, and ways to conclude."""

    def __init__(self, c, collector: _Collector, rule: str):
        self._c = c
        self._col = collector
        self.rule = rule
        self.k = collector.k

    def fact(self, name: str) -> dict:
        return dict(getattr(self._c, name)._d)

    def finding(self, code: str, *matched: str, **params: Any) -> None:
        self.finding_because(code, [self.fact(n)["id"] for n in matched], **params)

    def finding_because(self, code: str, ids: list[str], **params: Any) -> None:
        """A finding resting on facts given by id: for rules whose `none(...)` matched nothing, the
        facts that closed every alternative are what the conclusion rests on."""
        spec = self.k.findings[code]
        text = spec["text"].format(**params, th=self.k.thresholds)  # {th[...]}: numbers from thresholds.toml
        # A source entry may be a parameter holding several labels ("L1, 4") or none ("").
        sources = list(dict.fromkeys(part.strip() for s in spec["sources"] for part in s.format(**params).split(",")
                                     if part.strip()))
        key = (code, json.dumps(params, sort_keys=True, default=str))
        if key in self._col.findings:
            old = self._col.findings[key]
            old.facts = sorted(set(old.facts) | set(ids))
            return
        self._col.findings[key] = Finding(code, spec["severity"], spec["step"], text, sources,
                                          self.rule, ids, params)

    def base_ids(self) -> list[str]:
        """Ids of every fact the consult asserted (not derived, not phases)."""
        return list(self._col.base_ids)

    def base(self, kind: str) -> list[dict]:
        """The consult's own facts of one kind (read in a consequent, never matched: no callback)."""
        return [f for f in self._col.base if f["kind"] == kind]

    def derived_of(self, kind: str) -> list[dict]:
        """Derived facts of one kind concluded so far in this evaluation."""
        return [d for d in self._col.derived.values() if d["fact"]["kind"] == kind]

    def derive(self, kind: str, *matched: str, **fields: Any) -> None:
        fid = f"{kind}#{next(self._col.counter)}"
        fact = {"kind": kind, "id": fid, **fields}
        self._col.derived[fid] = {"fact": fact, "rule": self.rule, "from": [self.fact(n)["id"] for n in matched]}
        self._c.assert_fact(fact)


_collectors: dict[str, _Collector] = {}


def _engine_safe(fact: dict) -> dict:
    """The engine's JSON parser rejects exponent notation (1e-05) with ERR_PARSE_OBJECT (204):
    keep every float in plain decimal range."""
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in fact.items()}


def consequent(rule_name: str) -> Callable[[Callable[[Ctx], None]], Callable]:
    """Wrap a rule body: give it a Ctx, and catch what it raises so evaluate() can re-raise it."""

    def wrap(body: Callable[[Ctx], None]) -> Callable:
        def action(c) -> None:
            col = _collectors[c.s.sid]
            try:
                body(Ctx(c, col, rule_name))
            except Exception as exc:  # the engine would swallow it; we re-raise after the run
                col.errors.append(f"{rule_name}: {exc!r}")

        action.__name__ = rule_name
        return action

    return wrap


def any_of(field: str, values) -> Any:
    """The condition "fact.field is one of values" (durable_rules has no `in`)."""
    values = list(values)
    cond = getattr(lang.m, field) == values[0]
    for value in values[1:]:
        cond = cond | (getattr(lang.m, field) == value)
    return cond


def phase(name: str):
    """The condition that gates a rule on one evaluation phase."""
    assert name in PHASES, name
    return lang.c.phase << ((lang.m.kind == "phase") & (lang.m.name == name))


class LadderRules:
    """A registered durable_rules ruleset built from the knowledge files (thresholds, findings)."""

    _registered: dict[str, "LadderRules"] = {}

    def __new__(cls, knowledge: Knowledge | None = None):
        knowledge = knowledge or load_knowledge()
        digest = hashlib.sha256(json.dumps(knowledge.fingerprint(), sort_keys=True).encode()).hexdigest()[:12]
        if digest in cls._registered:      # rulesets live in a process-global host: define once
            return cls._registered[digest]
        self = super().__new__(cls)
        self.knowledge = knowledge
        self.version = digest
        self.name = f"neuroladder_{digest}"
        self._sids = itertools.count(1)
        from . import modules  # the rule modules, one per part of the ladder

        with lang.ruleset(self.name):
            for module in modules.ALL:
                module.define(knowledge)

            # Every fact kind is observed so the engine never refuses one (MessageNotHandled)
            # and never drops a derived fact. It joins a fact that is never asserted, so it never
            # completes: no Python callback per fact (measured: half the cost of an evaluation).
            @lang.when_all(lang.c.any << (+lang.m.kind), lang.c.never << (lang.m.kind == "__never__"))
            def observe(c):
                pass

        cls._registered[digest] = self
        return self

    def evaluate(self, facts: list[dict]) -> Evaluation:
        """Assert `facts` (engine facts, each with kind and id) and run every phase."""
        sid = f"e{next(self._sids)}"
        col = _Collector(self.knowledge)
        col.base_ids = [f["id"] for f in facts]
        col.base = facts
        _collectors[sid] = col
        try:
            if facts:  # one batch: each engine call costs a JSON round trip
                lang.assert_facts(self.name, [{**_engine_safe(fact), "sid": sid} for fact in facts])
            for name in PHASES:
                lang.assert_fact(self.name, {"sid": sid, "kind": "phase", "name": name, "id": f"phase:{name}"})
        finally:
            _collectors.pop(sid, None)
            try:
                lang.delete_state(self.name, sid)
            except Exception:  # a session that never started has no state to delete
                pass
        if col.errors:
            raise RuleError("; ".join(col.errors))
        # Ranked: severity, actions before status cards, then the ladder's order (rules/ranking.toml).
        return Evaluation(rank(col.findings.values(), self.knowledge), col.derived, {f["id"]: f for f in facts})
