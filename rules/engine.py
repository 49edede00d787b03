"""The one adapter around durable_rules: build the ruleset, evaluate facts, record the firings.

Nothing else in NeuroLadder touches the engine. Each evaluation takes an empty session (sid),
asserts the consult's facts, then asserts the phase facts one after another, and retracts every
fact again, leaving the session empty for the next evaluation: the engine is a pure function of
the facts, so findings never go stale, never depend on the order the clinician typed things in,
and the engine's 1024-session limit never surfaces however many consultations are open. (A new
session per evaluation gave the same findings, but creating one clears the memory of every join of
every rule: measured, a third of an evaluation's instructions.)

Why phases: a rule with a `none(...)` condition fires as soon as its positive part matches. Every
rule here joins a `phase` fact, and the phases are asserted in order after all facts are in, so a
`none(...)` is only ever judged once everything it could see is present.

The rules are written in durable_rules' own language (rules/dsl.py, rules/modules/) and compiled
by its C core; the evaluation drives that core directly, with the same calls in the same order as
durable's Python host makes them, but without the host's per-firing bookkeeping (closures,
timestamps, a JSON copy per call) and without its timer threads, which wake five times a second
to look for work this adapter never leaves behind. That bookkeeping was most of an evaluation's
cost. The engine is given only what its conditions test, a comparison with a fixed word as a
property it finds by name (rules/conditions.py: engine_form); consequents read the facts whole, in
Python, by id.
"""

from __future__ import annotations

import hashlib
import itertools
import json

import durable_rules_engine as core
import orjson
from durable import lang

from .conditions import KindForm, engine_form, kinds_only_absent
from .data import Knowledge, load_knowledge
from .dsl import PHASES, Collector, Ctx
from .evaluation import Evaluation, Finding
from .ranking import rank

__all__ = ["Evaluation", "Finding", "LadderRules", "PHASES", "RuleError"]

_encode_definition = json.JSONEncoder(ensure_ascii=False).encode  # the ruleset, once, as durable encodes it


def _encode(message) -> str:
    """A message to the C core as JSON text: orjson, at a tenth of the json module's cost. The core
    takes its compact separators and UTF-8 text as it is; it writes floats in plain decimals from
    1e-5 to 1e16, as json does from 1e-4 (the consult's floats are rounded to 4 places: `_as_read`)."""
    return orjson.dumps(message).decode()


_PHASE_IDS = [f"phase:{name}" for name in PHASES]
# Consult facts met before, as the rules read them and as the core is given them (see `_prepare`):
# most facts of a turn were in the consult's last turn, and many are the same in every consult (a
# first-line drug not yet asked about). The bound only keeps the memo small.
KNOWN_FACTS = 4096


class RuleError(RuntimeError):
    """A consequent raised: a broken rule must fail loudly, never give silently less advice."""


def _as_read(fact: dict) -> dict:
    """A consult fact as the rules read it. The engine's JSON parser rejects exponent notation
    (1e-05) with ERR_PARSE_OBJECT (204): every float is kept in plain decimal range, in what the
    engine matches and in what consequents read alike. `src` (the answers a fact came from) is
    read from the evaluation's base facts, never by a rule."""
    read = dict(fact)
    del read["src"]
    for name, value in read.items():  # a copy and a pass: half the cost of one comprehension
        if type(value) is float:
            read[name] = round(value, 4)
    return read


def _message(fact: dict, form: KindForm) -> dict:
    """What the core is given of `fact`: its id, the fields some condition tests other than against
    a fixed value, and a flag property for each fixed value it has that some condition asks about
    (rules/conditions.py: engine_form)."""
    message = {"id": fact["id"]}
    for name in form.raw:
        if name in fact:
            message[name] = fact[name]
    for name, values, kinds in form.flags:
        value = fact.get(name)
        if value is None:  # null equals no word (the core's comparison too)
            continue
        flag = values.get(value)  # a word only equals that word; True equals 1 here as in the core
        if flag is not None:
            message[flag] = 1
        elif type(value) not in kinds:  # the core compares "true" with True, 5 with "5": never met
            raise RuleError(f"{fact['kind']}.{name} = {value!r}: the rules compare it with {sorted(values)!r}")
    return message


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
        self._idle: list[str] = []  # sessions emptied after an evaluation, ready for the next
        self._known: dict[bytes, tuple[dict, str | None]] = {}  # fact as JSON -> _prepare(fact)
        from . import modules  # the rule modules, one per part of the ladder

        with lang.ruleset(self.name):
            for module in modules.ALL:
                module.define(knowledge)

        # Compiled here rather than by durable's host (lang.get_host), which would start its timer
        # threads; taken out of lang's pending list so such a host never compiles it a second time.
        _, definition = lang._rulesets.pop(self.name).define()
        self._actions = {rule: spec.pop("run") for rule, spec in definition.items()}
        self._only_absent = kinds_only_absent(definition)
        for_core, self._forms = engine_form(definition)
        self._handle = core.create_ruleset(self.name, _encode_definition(for_core))
        # The phase facts as JSON, made once (plain words): only the session id varies.
        self._phase_json = [
            _encode({**_message({"kind": "phase", "name": name, "id": fid}, self._forms["phase"]), "sid": "%s"})
            for name, fid in zip(PHASES, _PHASE_IDS)
        ]
        cls._registered[digest] = self
        return self

    def evaluate(self, facts: list[dict]) -> Evaluation:
        """Assert `facts` (engine facts, each with kind and id) and run every phase."""
        sid = self._idle.pop() if self._idle else f"e{next(self._sids)}"
        col = Collector(self.knowledge, facts)
        read = col.read
        forms = self._forms
        handle = self._handle
        in_engine: list[str] = []  # ids of the facts the session holds, to empty it afterwards
        only_absent = self._only_absent
        # A fact of a kind that only `none(...)` conditions name can change what matches only by
        # being there: one the engine cannot tell from a fact it already holds (the same tested
        # fields: "open" has none but its kind) is kept in Python only. (~7 "open" facts an
        # evaluation, each one costing the core as much as any other fact.)
        present: set[tuple] = set()

        def assert_derived(fact: dict) -> None:
            fid = fact["id"]
            read[fid] = fact
            form = forms.get(fact["kind"])
            if form is not None:  # a kind no condition names is kept in Python only
                message = _message(fact, form)
                if fact["kind"] in only_absent:
                    tested = tuple(item for item in message.items() if item[0] != "id")
                    if tested in present:
                        return
                    present.add(tested)
                message["sid"] = sid
                in_engine.append(fid)
                # Asserted from inside a consequent: what it makes ready fires once that one is complete.
                if core.assert_fact(handle, _encode(message))[0] == 2:
                    raise RuleError(f"the engine had already observed {message!r}")

        ctx = Ctx(col, assert_derived)
        try:
            known = self._known
            heads = []
            for fact in facts:
                try:  # the fact as JSON is its key: 1, 1.0 and true are not the same fact here
                    key = orjson.dumps(fact)
                except TypeError:  # a value JSON cannot hold (none is today): prepared afresh
                    key = None
                if key is not None and b"null" in key:  # None, and NaN, which orjson also writes null
                    key = None
                prepared = known.get(key) if key is not None else None
                if prepared is None:
                    prepared = self._prepare(fact)
                    if key is not None:
                        if len(known) >= KNOWN_FACTS:
                            known.clear()
                        known[key] = prepared
                fid = fact["id"]
                read[fid], head = prepared
                if head is not None:
                    heads.append(head)
                    in_engine.append(fid)
            if heads:  # one batch: each engine call costs a JSON round trip
                tail = f'"sid":"{sid}"}}'
                batch = "[" + (tail + ",").join(heads) + tail + "]"
                self._fire(self._result(core.assert_facts(handle, batch), batch), ctx)
            for encoded in self._phase_json:
                fact = encoded % sid
                self._fire(self._result(core.assert_fact(handle, fact), fact), ctx)
        except BaseException:
            self._delete(sid)
            raise
        self._empty(sid, in_engine)
        if col.errors:
            raise RuleError("; ".join(col.errors))
        # Ranked: severity, actions before status cards, then the ladder's order (rules/ranking.toml).
        return Evaluation(rank(col.findings.values(), self.knowledge), col.derived, {f["id"]: f for f in facts})

    def _prepare(self, fact: dict) -> tuple[dict, str | None]:
        """A consult fact as the rules read it (`_as_read`: shared by every evaluation that meets it,
        so never changed: consequents read copies), and its message to the core as JSON up to the
        session id (`{"id":...,` ... `,`), or None for a kind no condition names. Made once."""
        as_read = _as_read(fact)
        form = self._forms.get(fact["kind"])
        if form is None:
            return as_read, None
        return as_read, _encode(_message(as_read, form))[:-1] + ","

    def _empty(self, sid: str, ids: list[str]) -> None:
        """Retract every fact of a finished evaluation and keep its session for the next one: a new
        session costs the C core more than all of an evaluation's facts (it allocates and clears the
        memory of every join of every rule). The phases go first, so that no rule can match while
        the other facts go (every rule joins a phase)."""
        retract = [{"sid": sid, "id": i} for i in _PHASE_IDS + ids]
        state_handle = self._result(core.retract_facts(self._handle, _encode(retract)), retract)
        if core.start_action_for_state(self._handle, state_handle):  # never expected: start afresh
            core.abandon_action(self._handle, state_handle)
            self._delete(sid)
            return
        self._idle.append(sid)

    def _delete(self, sid: str) -> None:
        try:
            core.delete_state(self._handle, sid)
        except Exception:  # a session that never started has no state to delete
            pass

    @staticmethod
    def _result(result, message):
        """The session handle of an assertion's result (durable's own reading of the codes). A fact
        that no condition matches is not stored and changes nothing (1, "not handled")."""
        if result[0] == 2:
            raise RuleError(f"the engine had already observed {message!r}")
        if result[0] == 3:
            return 0
        return result[1]

    def _fire(self, state_handle, ctx: Ctx) -> None:
        """Run every firing the last assertion made ready, one at a time, as durable's host does:
        take the next action, call its consequent, complete it. The host also stores the session
        state after each consequent; no consequent here changes it, so that step is left out."""
        handle = self._handle
        started = core.start_action_for_state(handle, state_handle)
        if not started:
            return
        actions = self._actions
        following = started[1]
        while True:
            rule, matched = next(iter(orjson.loads(following).items()))  # one firing per message, as durable reads it
            try:
                actions[rule](ctx, matched)
                following = core.complete_and_start_action(handle, state_handle)
            except BaseException:
                # As durable's host does: an action left open must be abandoned before its session
                # is deleted (deleting a session with an action in flight corrupts the C heap).
                core.abandon_action(handle, state_handle)
                raise
            if not following:
                return
