"""What the rule modules write rules with: phase gates, `any_of`, and `consequent`, which gives a
rule's body a `Ctx` to conclude findings and derive facts.

The rule modules import this and durable_rules' condition language (`c`, `m`, `none`,
`when_all`), never rules/engine.py: the engine imports the modules, not the other way round.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from durable import lang

from .data import Knowledge
from .evaluation import Finding

PHASES = ("classify", "target", "assess", "status", "ladder", "conclude")


_quote = json.encoder.encode_basestring_ascii  # a JSON string, as json.dumps writes it


def _params_key(params: dict[str, Any]) -> str:
    """A finding's parameters as its key (Finding.key): `json.dumps(params, sort_keys=True,
    default=str)`, written out directly for text and whole numbers (what findings have; half the
    cost of json's encoder); anything else goes through json."""
    parts = []
    for name in sorted(params):
        value = params[name]
        if type(value) is str:
            parts.append(f"{_quote(name)}: {_quote(value)}")
        elif type(value) is int:
            parts.append(f"{_quote(name)}: {value!r}")
        else:
            return json.dumps(params, sort_keys=True, default=str)
    return "{" + ", ".join(parts) + "}"


# id(knowledge) -> (knowledge, code -> what every finding of that code gets): see _fixed_parts
_fixed: dict[int, tuple[Knowledge, dict[str, tuple[str | None, tuple[str, ...] | None]]]] = {}


def _fixed_parts(knowledge: Knowledge, code: str) -> tuple[str | None, tuple[str, ...] | None]:
    """A finding code's text when it is given no parameters, and its source labels when no entry
    names a parameter: the same for every such finding (half of them), so made once per knowledge.
    None where they depend on the parameters (or the text needs some: it is then formatted, and
    fails, as any other)."""
    known = _fixed.get(id(knowledge))
    if known is None or known[0] is not knowledge:
        if len(_fixed) >= 8:  # a few knowledge variants at most (tests build some with other thresholds)
            _fixed.clear()
        known = _fixed[id(knowledge)] = (knowledge, {})
    parts = known[1].get(code)
    if parts is None:
        spec = knowledge.findings[code]
        try:
            text = spec["text"].format(th=knowledge.thresholds)
        except (KeyError, IndexError):
            text = None
        entries = spec["sources"]
        static = not any("{" in entry or "}" in entry for entry in entries)
        parts = known[1][code] = (text, tuple(_labels(entries, {})) if static else None)
    return parts


def _labels(entries: list[str], params: dict) -> list[str]:
    """A finding's source labels, in order, once each. An entry may be a parameter holding several
    labels ("L1, 4") or none ("")."""
    return list(dict.fromkeys(part.strip() for s in entries for part in s.format(**params).split(",") if part.strip()))


class Collector:
    """What one evaluation concludes, filled by the consequents that fire in it."""

    def __init__(self, knowledge: Knowledge, base: list[dict]):
        self.k = knowledge
        self.findings: dict[tuple, Finding] = {}
        self.derived: dict[str, dict] = {}
        self.derived_by_kind: dict[str, list[dict]] = {}  # the same entries, by their fact's kind
        self.errors: list[str] = []
        self.base: list[dict] = base
        self.base_by_kind: dict[str, list[dict]] | None = None  # made when a consequent first asks
        self.read: dict[str, dict] = {}  # fact id -> the fact as consequents read it (base and derived)
        self.counter = itertools.count(1)


class Ctx:
    """What a rule's consequent sees: the matched facts, and ways to conclude. One per evaluation,
    pointed at each firing in turn (`firing`): the matched facts are as the engine hands them over
    (name -> the fields conditions test, and the id); a derived fact goes into the same session
    through `assert_fact`."""

    __slots__ = ("_facts", "_col", "_assert_fact", "rule", "k")

    def __init__(self, collector: Collector, assert_fact: Callable[[dict], None]):
        self._facts: dict[str, dict] = {}
        self._col = collector
        self._assert_fact = assert_fact
        self.rule = ""
        self.k = collector.k

    def firing(self, rule: str, facts: dict[str, dict]) -> Ctx:
        self.rule = rule
        self._facts = facts
        return self

    def fact(self, name: str) -> dict:
        """A matched fact whole (the engine holds only the fields conditions test)."""
        return dict(self._col.read[self._facts[name]["id"]])

    def finding(self, code: str, *matched: str, **params: Any) -> None:
        self.finding_because(code, [self._facts[n]["id"] for n in matched], **params)

    def finding_because(self, code: str, ids: list[str], **params: Any) -> None:
        """A finding resting on facts given by id: for rules whose `none(...)` matched nothing, the
        facts that closed every alternative are what the conclusion rests on."""
        key = (code, _params_key(params))
        findings = self._col.findings
        if key in findings:  # the same finding again: its text and sources are already made
            old = findings[key]
            old.facts = sorted(set(old.facts) | set(ids))
            return
        k = self.k
        spec = k.findings[code]
        text, sources = _fixed_parts(k, code)
        if params or text is None:
            text = spec["text"].format(**params, th=k.thresholds)  # {th[...]}: numbers from thresholds.toml
        sources = list(sources) if sources is not None else _labels(spec["sources"], params)
        finding = Finding(code, spec["severity"], spec["step"], text, sources, self.rule, ids, params)
        finding.__dict__["_key"] = key  # Finding.key, already encoded here
        findings[key] = finding

    def base_ids(self) -> list[str]:
        """Ids of every fact the consult asserted (not derived, not phases)."""
        return [f["id"] for f in self._col.base]

    def base(self, kind: str) -> list[dict]:
        """The consult's own facts of one kind (read in a consequent, never matched: no callback)."""
        col = self._col
        if col.base_by_kind is None:
            col.base_by_kind = {}
            for fact in col.base:
                col.base_by_kind.setdefault(fact["kind"], []).append(fact)
        return list(col.base_by_kind.get(kind, ()))

    def derived_of(self, kind: str) -> list[dict]:
        """Derived facts of one kind concluded so far in this evaluation."""
        return list(self._col.derived_by_kind.get(kind, ()))

    def derive(self, kind: str, *matched: str, **fields: Any) -> None:
        col = self._col
        fid = f"{kind}#{next(col.counter)}"
        fact = {"kind": kind, "id": fid, **fields}
        entry = col.derived[fid] = {"fact": fact, "rule": self.rule, "from": [self._facts[n]["id"] for n in matched]}
        col.derived_by_kind.setdefault(kind, []).append(entry)
        self._assert_fact(fact)


def consequent(rule_name: str) -> Callable[[Callable[[Ctx], None]], Callable]:
    """Wrap a rule body: give it a Ctx, and catch what it raises so the evaluation can re-raise it."""

    def wrap(body: Callable[[Ctx], None]) -> Callable:
        def action(ctx: Ctx, facts: dict[str, dict]) -> None:
            try:
                body(ctx.firing(rule_name, facts))
            except Exception as exc:  # the engine would swallow it; re-raised after the run
                ctx._col.errors.append(f"{rule_name}: {exc!r}")

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
