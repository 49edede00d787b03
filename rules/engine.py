"""The one adapter around durable_rules: build the ruleset, evaluate facts, record the firings.

Nothing else in NeuroLadder touches the engine. Each evaluation uses a fresh session (sid),
asserts the consult's facts, then asserts the phase facts one after another, and deletes the
session: the engine is a pure function of the facts, so findings never go stale, never depend on
the order the clinician typed things in, and the engine's 1024-session limit never surfaces
however many consultations are open.

Why phases: a rule with a `none(...)` condition fires as soon as its positive part matches. Every
rule here joins a `phase` fact, and the phases are asserted in order after all facts are in, so a
`none(...)` is only ever judged once everything it could see is present.

The rules are written in durable_rules' own language (rules/dsl.py, rules/modules/) and compiled
by its C core; the evaluation drives that core directly, with the same calls in the same order as
durable's Python host makes them, but without the host's per-firing bookkeeping (closures,
timestamps, a JSON copy per call) and without its timer threads, which wake five times a second
to look for work this adapter never leaves behind. That bookkeeping was most of an evaluation's
cost.
"""

from __future__ import annotations

import hashlib
import itertools
import json

import durable_rules_engine as core
from durable import lang

from .data import Knowledge, load_knowledge
from .dsl import PHASES, Collector, Match
from .evaluation import Evaluation, Finding
from .ranking import rank

__all__ = ["Evaluation", "Finding", "LadderRules", "PHASES", "RuleError"]

_encode = json.JSONEncoder(ensure_ascii=False).encode  # as durable encodes; built once


# The phase facts as JSON, built once (phase names are plain words): only the session id varies.
_PHASE_JSON = [f'{{"sid": "%s", "kind": "phase", "name": "{name}", "id": "phase:{name}"}}' for name in PHASES]


class RuleError(RuntimeError):
    """A consequent raised: a broken rule must fail loudly, never give silently less advice."""


def _engine_fact(fact: dict, sid: str) -> dict:
    """A consult fact as the engine gets it. The engine's JSON parser rejects exponent notation
    (1e-05) with ERR_PARSE_OBJECT (204): every float is kept in plain decimal range. `src` (the
    answers a fact came from) is read in Python from the evaluation's base facts and no rule
    matches it: the engine is spared parsing and storing it."""
    out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in fact.items() if k != "src"}
    out["sid"] = sid
    return out


class LadderRules:
    """A registered durable_rules ruleset built from the knowledge files (thresholds, findings)."""

    _registered: dict[str, LadderRules] = {}

    def __new__(cls, knowledge: Knowledge | None = None):
        knowledge = knowledge or load_knowledge()
        digest = hashlib.sha256(json.dumps(knowledge.fingerprint(), sort_keys=True).encode()).hexdigest()[:12]
        if digest in cls._registered:  # rulesets live in the engine's process-global core: define once
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
            def observe(match):
                pass

        # Compiled here rather than by durable's host (lang.get_host), which would start its timer
        # threads; taken out of lang's pending list so such a host never compiles it a second time.
        _, definition = lang._rulesets.pop(self.name).define()
        self._actions = {rule: spec.pop("run") for rule, spec in definition.items()}
        self._handle = core.create_ruleset(self.name, _encode(definition))
        cls._registered[digest] = self
        return self

    def evaluate(self, facts: list[dict]) -> Evaluation:
        """Assert `facts` (engine facts, each with kind and id) and run every phase."""
        sid = f"e{next(self._sids)}"
        col = Collector(self.knowledge, facts)

        def assert_derived(fact: dict) -> None:
            self._result(core.assert_fact(self._handle, _encode({**fact, "sid": sid})), fact)

        try:
            if facts:  # one batch: each engine call costs a JSON round trip
                batch = [_engine_fact(fact, sid) for fact in facts]
                self._fire(self._result(core.assert_facts(self._handle, _encode(batch)), batch), col, assert_derived)
            for encoded in _PHASE_JSON:
                fact = encoded % sid
                self._fire(self._result(core.assert_fact(self._handle, fact), fact), col, assert_derived)
        finally:
            try:
                core.delete_state(self._handle, sid)
            except Exception:  # a session that never started has no state to delete
                pass
        if col.errors:
            raise RuleError("; ".join(col.errors))
        # Ranked: severity, actions before status cards, then the ladder's order (rules/ranking.toml).
        return Evaluation(rank(col.findings.values(), self.knowledge), col.derived, {f["id"]: f for f in facts})

    @staticmethod
    def _result(result, message):
        """The session handle of an assertion's result (durable's own reading of the codes)."""
        if result[0] == 1:
            raise RuleError(f"the engine could not handle {message!r}")
        if result[0] == 2:
            raise RuleError(f"the engine had already observed {message!r}")
        if result[0] == 3:
            return 0
        return result[1]

    def _fire(self, state_handle, col: Collector, assert_derived) -> None:
        """Run every firing the last assertion made ready, one at a time, as durable's host does:
        take the next action, call its consequent, store the session state, complete it."""
        started = core.start_action_for_state(self._handle, state_handle)
        if not started:
            return
        state, message = started[0], json.loads(started[1])
        while True:
            rule, matched = next(iter(message.items()))  # one firing per message, as durable reads it
            try:
                self._actions[rule](Match(col, matched, assert_derived))
                core.update_state(self._handle, state)
                following = core.complete_and_start_action(self._handle, state_handle)
            except BaseException:
                # As durable's host does: an action left open must be abandoned before its session
                # is deleted (deleting a session with an action in flight corrupts the C heap).
                core.abandon_action(self._handle, state_handle)
                raise
            if not following:
                return
            message = json.loads(following)
