"""One consultation: a user's turn in, the reply out. Knows nothing of any channel.

Each turn: parse the text into facts (or interpret a short reply to the current question),
check each fact's type and range, store it against the turn, recompute the findings from all
live facts, and reply with what was understood, what changed, and the next question.
SQLite holds everything (facts with the turn that set them and when they were retracted), so a
consult can be resumed by any process at any time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from neuroladder.bot.storage.store import Store
from neuroladder.bot.text import short_answer
from neuroladder.bot.text.parse import Parsed, Parser
from neuroladder.bot.views import first_screen
from neuroladder.bot.views.options import option_answers
from neuroladder.bot.views.render import Renderer
from neuroladder.bot.views.reply import Choice, Reply
from neuroladder.rules import provenance
from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation, LadderRules
from neuroladder.rules.facts import engine_facts

from . import kept, reading
from .intake import Intake, Question
from .report import ChangeReport
from .state import Change, ConsultState

# The last few evaluations of each recently active consult (a turn needs the findings before it,
# which are the last turn's, and after it). Kept per consult, not shared between consults: two
# patients rarely have the same facts, and a shared cache made the benches measure reuse that
# real consultations do not get.
EVALUATIONS_PER_CONSULT = 3
CONSULTS_CACHED = 1024
_evaluations: dict[int, dict[tuple[str, tuple], Evaluation]] = {}


_JSON_SCALARS = (str, int, float, bool, type(None))  # read back from JSON as they were written


def _answers_key(answers: dict[str, Any]) -> tuple:
    """The answers as a cache key, exact as their JSON would be (35 and 35.0, 1 and True differ)
    but cheaper to build. In the store's order: a turn's answers are read back in the order the
    previous turn left them, so the same facts give the same key."""
    return tuple([(name, v.__class__, tuple(v) if v.__class__ is list else v) for name, v in answers.items()])


@dataclass
class Toolkit:
    """Everything a consult needs that is shared between consults (loaded once per process)."""

    knowledge: Knowledge
    rules: LadderRules
    parser: Parser
    intake: Intake
    render: Renderer
    version: str = ""  # the ruleset and clinical data (rules/provenance.py), on every findings row
    # The findings of no answers at all: the same for every consult (its first turn needs them as
    # the "before"), so evaluated once per toolkit, and the only evaluation consults share.
    _no_answers: Evaluation | None = field(default=None, init=False, repr=False)

    def no_answers(self) -> Evaluation:
        if self._no_answers is None:
            self._no_answers = self.rules.evaluate(engine_facts({}, self.knowledge))
        return self._no_answers

    @classmethod
    def load(cls, knowledge: Knowledge) -> Toolkit:
        return cls(
            knowledge,
            LadderRules(knowledge),
            Parser(knowledge),
            Intake(),
            Renderer(knowledge),
            provenance.version(knowledge),
        )


class Consult:
    """The dialogue's state machine: a turn's facts in, the findings recomputed, the reply and the
    next question out. What a message means is `reading`'s; what changed in the advice is
    `ChangeReport`'s; the commands that only show something are handlers in `commands`."""

    def __init__(self, tk: Toolkit, store: Store, row: dict):
        self.tk = tk
        self.store = store
        self.row = row
        self.id = row["id"]
        self.report = ChangeReport(tk.render)
        self._next_memo: tuple | None = None
        self._answers: dict[str, Any] | None = None
        self._logged: list[tuple] | None = None  # the findings rows in force in the log, when known
        own = kept.take(store, row)  # what this process wrote last turn, if it is still the log's
        if own is not None:
            self.state, self._answers, self._logged = own.state, own.answers, own.logged
        else:
            self.state = ConsultState.from_json(row.get("state"))

    # -- facts and findings --------------------------------------------------------------------
    def answers(self) -> dict[str, Any]:
        """The live facts as name -> value (read once per turn; writes call _facts_changed)."""
        if self._answers is None:
            self._answers = self.store.live_answers(self.id)
        return dict(self._answers)

    def _facts_changed(self) -> None:
        self._answers = None

    def _facts_set(self, fresh: dict[str, Any]) -> None:
        """The live facts after `store.set_facts(fresh)`, without reading them back: as the store
        lists them (by row id), a replaced value moves to the end. Values go through JSON as they
        do in the store, so both readings are the same."""
        if self._answers is None:
            return
        for name, value in fresh.items():
            self._answers.pop(name, None)
            self._answers[name] = value if value.__class__ in _JSON_SCALARS else json.loads(json.dumps(value))

    def evaluate(self, answers: dict[str, Any] | None = None) -> Evaluation:
        """Findings are a pure function of the answers: this consult's last evaluations are reused
        (each turn needs the findings before and after it; this halves the engine's work)."""
        answers = self.answers() if answers is None else answers
        if not answers:
            return self.tk.no_answers()
        key = (self.tk.version or self.tk.rules.version, _answers_key(answers))
        mine = _evaluations.pop(self.id, None) or {}
        _evaluations[self.id] = mine  # most recently used last
        cached = mine.pop(key, None)
        if cached is None:
            cached = self.tk.rules.evaluate(engine_facts(answers, self.tk.knowledge))
        mine[key] = cached
        while len(mine) > EVALUATIONS_PER_CONSULT:
            mine.pop(next(iter(mine)))
        while len(_evaluations) > CONSULTS_CACHED:
            _evaluations.pop(next(iter(_evaluations)))
        return cached

    def next_question(self, answers: dict[str, Any], ev: Evaluation) -> Question | None:
        """A turn asks this twice (will the intake end? then: what to ask): searched once."""
        skipped = set(self.state.skipped)
        memo = self._next_memo
        if memo is not None and memo[0] is ev and memo[1] == skipped and memo[2] == answers:
            return memo[3]
        q = self.tk.intake.next_question(answers, skipped, ev.codes())
        self._next_memo = (ev, skipped, dict(answers), q)
        return q

    def unknowns(self, answers: dict[str, Any], ev: Evaluation) -> list[Question]:
        """What the intake still lacks (skipped and 'unknown' answers included)."""
        return self.tk.intake.unknowns(answers, set(self.state.skipped), ev.codes())

    def current_question(self) -> Question | None:
        qid = self.state.current
        return self.tk.intake.by_id.get(qid) if qid else None

    def _log_findings(self, turn_id: int, ev: Evaluation) -> None:
        """The findings into the log when they differ from the set it holds (Store.add_findings)."""
        self._logged = self.store.add_findings(self.id, turn_id, ev.findings, self.tk.version, logged=self._logged)

    def save(self) -> None:
        """The dialogue's state into the log, marked so the next turn can tell its own copy is current."""
        raw = self.store.save_state(self.id, self.state.to_dict() | {"mark": kept.mark()})
        kept.keep(self.store, self.id, kept.Kept(raw, self.state, self._answers, self._logged))

    # -- a turn of free text ----------------------------------------------------------------------
    def answer(self, text: str, author: str | None, turn_id: int) -> Reply:
        q = self.current_question()
        parsed = short_answer.read_turn(self.tk.parser, self.tk.knowledge, q, text)
        if parsed.queries and not parsed.facts:
            return self._queries(parsed, turn_id)
        if parsed.answer == "skip" and q is not None:
            return self.skip(turn_id)
        before = self.answers()
        accepted, rejected = reading.checked(parsed.facts, self.tk.knowledge)
        conflicts = reading.contradictions(before, accepted, text)
        if conflicts:
            return self._ask_conflict(conflicts, accepted)
        return self._apply(accepted, rejected, parsed, before, turn_id, Reply())

    def _ask_conflict(self, conflicts: list[tuple[str, Any, Any]], accepted: dict[str, Any]) -> Reply:
        reply = Reply()
        self.state.conflict = accepted
        for name, old, new in conflicts:
            agent = self.tk.knowledge.agent_label(name.split(".")[1])
            reply.line(
                f"That contradicts an earlier answer: {agent} was recorded as "
                f"{'tried' if old == 'yes' else 'not tried'}; now {'tried' if new == 'yes' else 'not tried'}."
            )
        reply.line("Which is right?", "b")
        reply.choices.extend(
            [Choice("Use the new answer", "/resolve new"), Choice("Keep the earlier one", "/resolve old")]
        )
        self.save()
        return reply

    def resolve_conflict(self, choice: str, turn_id: int) -> Reply:
        pending, self.state.conflict = self.state.conflict, None
        if not pending:
            return Reply().line("There is no contradiction waiting to be resolved.")
        if choice != "new":
            return self._continue(Reply().line("Kept the earlier answer."), turn_id)
        before = self.answers()
        return self._apply(pending, [], Parsed(), before, turn_id, Reply())

    def _apply(
        self,
        accepted: dict[str, Any],
        rejected: list[str],
        parsed: Parsed,
        before: dict[str, Any],
        turn_id: int,
        reply: Reply,
    ) -> Reply:
        prev = self.evaluate(before)
        changed = {n: (before[n], v) for n, v in accepted.items() if n in before and before[n] != v}
        fresh = {n: v for n, v in accepted.items() if before.get(n) != v}
        self.store.set_facts(self.id, fresh, turn_id)
        self._facts_set(fresh)
        if fresh:
            self.state.changes.append(Change(turn_id))
            # a short reply says which question it answered: "Noted (gabapentin dose): 1800 mg/day"
            noted = f"Noted ({parsed.answered}): " if parsed.answered else "Noted: "
            reply.add(noted, "b").line("; ".join(self.tk.render.describe(fresh)))
        if parsed.truncated:
            total, read, tail = parsed.truncated
            reply.line(
                self.tk.parser.lx.messages["truncated"].format(total=total, read=read, tail=tail.strip()[:30]), "i"
            )
        for typed, name in parsed.respelled:
            reply.line(f'(Read "{typed}" as {name}.)', "i")
        for bad in parsed.questioned:
            reply.line(self.tk.render.questioned(bad))
        for msg in rejected:
            reply.line(f"Not stored: {msg}.")
        for said in parsed.not_given:
            reply.line(self.tk.parser.lx.messages["not_given"].format(said=said[:60]), "i")
        for key in parsed.ambiguous:
            spec = self.tk.knowledge.ambiguous[key]
            reply.line(spec["question"], "b")
            reply.choices.extend(Choice(label, value) for label, value in spec["choices"])
        for ask in parsed.clarify:  # the reader was not sure: it asks, it stored no guess
            reply.line(ask.question, "b")
            reply.choices.extend(Choice(label, value) for label, value in ask.choices)
        if not (fresh or parsed.questioned or parsed.ambiguous or parsed.clarify or rejected or parsed.not_given):
            if accepted:
                reply.line("Already noted - nothing new in that.")
            else:
                reply.line(self.tk.render.texts["not_understood"])
        now_ev = self.evaluate()
        lead = bool(parsed.ambiguous) or not self._finishes(now_ev)
        if changed:
            self.report.corrected(reply, changed, prev, now_ev, lead=lead)
        else:
            self.report.added(reply, prev, now_ev, set(fresh), lead=lead)
        if parsed.queries:  # "... - can I add tramadol?": answered on the facts just noted
            reply.extend(self.answer_query(parsed.queries, lead=False))
        if parsed.ambiguous or parsed.clarify:
            self._log_findings(turn_id, now_ev)
            self.save()
            return reply
        return self._continue(reply, turn_id, now_ev)

    # -- questions the clinician asks ("can she have SCS?") ---------------------------------------
    def _queries(self, parsed: Parsed, turn_id: int) -> Reply:
        """A message that asks about options ("can she have SCS?", "more oxy?") and states no fact:
        the ruleset's status of each option, then the open question again."""
        reply = self.answer_query(parsed.queries)
        q = self.current_question()
        if q is not None:
            self.tk.render.question(q, reply)
        self._log_findings(turn_id, self.evaluate())
        self.save()
        return reply

    def answer_query(self, keys: list[str], lead: bool = True) -> Reply:
        """Each option asked about, judged on this consult's findings; facts are not changed."""
        return option_answers(self.evaluate(), keys, self.tk.render, lead=lead)

    # -- where the dialogue goes next ---------------------------------------------------------------
    def _finishes(self, ev: Evaluation) -> bool:
        """Will this turn end the intake (so the summary, led by the next step, follows)?"""
        return not self.state.finished and self.next_question(self.answers(), ev) is None

    def ask_next(self, turn_id: int) -> Reply:
        """The next open question (or the summary when none is left): how a consult starts."""
        return self._continue(Reply(), turn_id)

    def _continue(self, reply: Reply, turn_id: int, ev: Evaluation | None = None) -> Reply:
        answers = self.answers()
        ev = ev or self.evaluate(answers)
        self._log_findings(turn_id, ev)
        q = self.next_question(answers, ev)
        self.state.current = q.id if q else None
        if q:
            self.tk.render.question(q, reply)
        elif not self.state.finished:
            self.state.finished = True
            reply.line(self.tk.render.texts["done"], "i")
            reply.extend(self.summary(ev, answers))
        self.save()
        return reply

    def summary(self, ev: Evaluation | None = None, answers: dict[str, Any] | None = None) -> Reply:
        """One phone screen, led by the single next step; the rest behind its buttons."""
        answers = self.answers() if answers is None else answers
        ev = ev or self.evaluate(answers)
        return first_screen.first_screen(answers, ev, self.unknowns(answers, ev), self.tk.render)

    # -- taking answers back (/undo, /edit N, /skip) ---------------------------------------------------
    def undo(self, turn_id: int) -> Reply:
        if not self.state.changes:
            return Reply().line("Nothing to undo.")
        before = self.answers()
        prev = self.evaluate(before)
        change = self.state.changes.pop()
        if change.skipped:
            self.state.skipped = [q for q in self.state.skipped if q != change.skipped]
        else:
            self.store.undo_turn(self.id, change.turn, turn_id)
            self._facts_changed()
        reply = Reply().line("Took back the last answer.", "b")
        after = self.answers()
        changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
        removed = {n: before[n] for n in changed if n in before}
        restored = {n: after[n] for n in changed if n in after}
        if removed:
            reply.add("Taken back: ").line("; ".join(self.tk.render.describe(removed)))
        if restored:
            reply.add("Restored: ").line("; ".join(self.tk.render.describe(restored)))
        self.state.finished = False
        now = self.evaluate(after)
        if changed:
            self.report.corrected(reply, {}, prev, now, lead=not self._finishes(now))
        return self._continue(reply, turn_id, now)

    def remove_fact(self, row: dict, turn_id: int) -> Reply:
        """/edit N: the fact retracted, and what that changes in the advice."""
        before = self.answers()
        self.store.retract_fact(self.id, row["name"], turn_id)
        self._facts_changed()
        self.state.changes.append(Change(turn_id))
        self.state.finished = False
        reply = Reply().line(f"Removed: {'; '.join(self.tk.render.describe({row['name']: row['value']}))}.")
        now = self.evaluate()
        self.report.corrected(reply, {}, self.evaluate(before), now, lead=not self._finishes(now))
        return self._continue(reply, turn_id, now)

    def skip(self, turn_id: int) -> Reply:
        q = self.current_question()
        if q is None:
            return Reply().line("No question is open.")
        self.state.skipped.append(q.id)
        self.state.changes.append(Change(turn_id, q.id))
        return self._continue(Reply().line(f"Skipped: {q.label} (still listed as unknown).", "i"), turn_id)
