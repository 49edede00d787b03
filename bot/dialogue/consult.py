"""One consultation: a user's turn in, the reply out. Knows nothing of any channel.

Each turn: parse the text into facts (or interpret a short reply to the current question),
check each fact's type and range, store it against the turn, recompute the findings from all
live facts, and reply with what was understood, what changed, and the next question.
SQLite holds everything (facts with the turn that set them and when they were retracted), so a
consult can be resumed by any process at any time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from neuroladder.rules import provenance
from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation, LadderRules
from neuroladder.rules.facts import FactError, check, engine_facts
from neuroladder.rules.options import option_status
from neuroladder.rules.ranking import next_step
from .intake import Intake, Question
from neuroladder.bot.text.parse import Parsed, Parser
from neuroladder.bot.views.render import Renderer
from . import changes
from neuroladder.bot.views import explain
from neuroladder.bot.views import first_screen
from neuroladder.bot.views import ladder
from neuroladder.bot.views import note
from neuroladder.bot.text import short_answer
from neuroladder.bot.views.reply import Attachment, Choice, Reply
from neuroladder.bot.storage.store import Store

# A changed tried/not-tried answer is a contradiction to ask about, unless the clinician marks
# it as a correction ("actually...", "no, ...").
CORRECTION_WORDS = ("actually", "correction", "sorry", "i meant", "instead", "should be", "update", "change")


EVALUATION_CACHE = 4096
_evaluations: dict[tuple[str, str], Evaluation] = {}


@dataclass
class Toolkit:
    """Everything a consult needs that is shared between consults (loaded once per process)."""

    knowledge: Knowledge
    rules: LadderRules
    parser: Parser
    intake: Intake
    render: Renderer
    version: str = ""   # the ruleset and clinical data (rules/provenance.py), on every findings row

    @classmethod
    def load(cls, knowledge: Knowledge) -> "Toolkit":
        return cls(knowledge, LadderRules(knowledge), Parser(knowledge), Intake(), Renderer(knowledge),
                   provenance.version(knowledge))


class Consult:
    def __init__(self, tk: Toolkit, store: Store, row: dict):
        self.tk = tk
        self.store = store
        self.row = row
        self.id = row["id"]
        self.state: dict[str, Any] = json.loads(row.get("state") or "{}")
        self.state.setdefault("skipped", [])
        self.state.setdefault("changes", [])
        self._answers: dict[str, Any] | None = None

    # -- facts and findings --------------------------------------------------------------------
    def answers(self) -> dict[str, Any]:
        """The live facts as name -> value (read once per turn; writes call _facts_changed)."""
        if self._answers is None:
            self._answers = {f["name"]: f["value"] for f in self.store.live_facts(self.id)}
        return dict(self._answers)

    def _facts_changed(self) -> None:
        self._answers = None

    def evaluate(self, answers: dict[str, Any] | None = None) -> Evaluation:
        """Findings are a pure function of the answers: the last turn's evaluation is reused
        (each turn needs the findings before and after it; this halves the engine's work)."""
        answers = self.answers() if answers is None else answers
        key = (self.tk.version or self.tk.rules.version, json.dumps(answers, sort_keys=True))
        cached = _evaluations.get(key)
        if cached is None:
            cached = self.tk.rules.evaluate(engine_facts(answers, self.tk.knowledge))
            _evaluations[key] = cached
            while len(_evaluations) > EVALUATION_CACHE:
                _evaluations.pop(next(iter(_evaluations)))
        return cached

    def next_question(self, answers: dict[str, Any], ev: Evaluation) -> Question | None:
        return self.tk.intake.next_question(answers, set(self.state["skipped"]), ev.codes())

    def unknowns(self, answers: dict[str, Any], ev: Evaluation) -> list[Question]:
        """What the intake still lacks (skipped and 'unknown' answers included)."""
        return self.tk.intake.unknowns(answers, set(self.state["skipped"]), ev.codes())

    def current_question(self) -> Question | None:
        qid = self.state.get("current")
        return self.tk.intake.by_id.get(qid) if qid else None

    def save(self) -> None:
        self.store.save_state(self.id, self.state)

    # -- a turn of free text ----------------------------------------------------------------------
    def answer(self, text: str, author: str | None, turn_id: int) -> Reply:
        reply = Reply()
        q = self.current_question()
        parsed = short_answer.read_turn(self.tk.parser, self.tk.knowledge, q, text)
        if parsed.queries and not parsed.facts:
            return self._queries(parsed, turn_id)
        if parsed.answer == "skip" and q is not None:
            return self.skip(turn_id)

        before = self.answers()
        accepted, rejected = self._checked(parsed.facts)
        conflicts = self._conflicts(before, accepted, text)
        if conflicts:
            return self._ask_conflict(conflicts, accepted, reply)
        return self._apply(accepted, rejected, parsed, before, turn_id, reply, text)

    def _checked(self, facts: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        accepted, rejected = {}, []
        for name, value in facts.items():
            try:
                accepted[name] = check(name, value, self.tk.knowledge)
            except FactError as exc:
                rejected.append(str(exc))
        return accepted, rejected

    def _conflicts(self, before: dict[str, Any], new: dict[str, Any], text: str) -> list[tuple[str, Any, Any]]:
        """'never tried duloxetine' then 'duloxetine 60 mg': ask, never resolve silently."""
        lowered = text.lower().strip()
        if lowered.startswith("no,") or any(word in lowered for word in CORRECTION_WORDS):
            return []
        out = []
        for name, value in new.items():
            if name.endswith(".tried") and before.get(name) in ("yes", "no") and value in ("yes", "no") \
                    and before[name] != value:
                out.append((name, before[name], value))
        return out

    def _ask_conflict(self, conflicts, accepted, reply: Reply) -> Reply:
        self.state["conflict"] = {"facts": accepted}
        for name, old, new in conflicts:
            agent = self.tk.knowledge.agent_label(name.split(".")[1])
            reply.line(f"That contradicts an earlier answer: {agent} was recorded as "
                       f"{'tried' if old == 'yes' else 'not tried'}; now {'tried' if new == 'yes' else 'not tried'}.")
        reply.line("Which is right?", "b")
        reply.choices.extend([Choice("Use the new answer", "/resolve new"), Choice("Keep the earlier one", "/resolve old")])
        self.save()
        return reply

    def resolve_conflict(self, choice: str, turn_id: int) -> Reply:
        pending = self.state.pop("conflict", None)
        if not pending:
            return Reply().line("There is no contradiction waiting to be resolved.")
        if choice != "new":
            return self._continue(Reply().line("Kept the earlier answer."), turn_id)
        before = self.answers()
        return self._apply(pending["facts"], [], Parsed(), before, turn_id, Reply(), "")

    def _apply(self, accepted, rejected, parsed: Parsed, before, turn_id: int, reply: Reply, text: str) -> Reply:
        prev = self.evaluate(before)
        changed = {n: (before[n], v) for n, v in accepted.items() if n in before and before[n] != v}
        fresh = {n: v for n, v in accepted.items() if before.get(n) != v}
        for name, value in fresh.items():
            self.store.set_fact(self.id, name, value, turn_id)
        self._facts_changed()
        if fresh:
            self.state["changes"].append({"turn": turn_id})
            # a short reply says which question it answered: "Noted (gabapentin dose): 1800 mg/day"
            noted = f"Noted ({parsed.answered}): " if parsed.answered else "Noted: "
            reply.add(noted, "b").line("; ".join(self.tk.render.describe(fresh)))
        if parsed.truncated:
            total, read, tail = parsed.truncated
            reply.line(self.tk.parser.lx.messages["truncated"].format(total=total, read=read, tail=tail.strip()[:30]), "i")
        for typed, name in parsed.respelled:
            reply.line(f'(Read "{typed}" as {name}.)', "i")
        for bad in parsed.questioned:
            reply.line(self._questioned_text(bad))
        for msg in rejected:
            reply.line(f"Not stored: {msg}.")
        for key in parsed.ambiguous:
            spec = self.tk.knowledge.ambiguous[key]
            reply.line(spec["question"], "b")
            reply.choices.extend(Choice(label, value) for label, value in spec["choices"])
        for ask in parsed.clarify:   # the reader was not sure: it asks, it stored no guess
            reply.line(ask.question, "b")
            reply.choices.extend(Choice(label, value) for label, value in ask.choices)
        if not (fresh or parsed.questioned or parsed.ambiguous or parsed.clarify or rejected):
            if accepted:
                reply.line("Already noted - nothing new in that.")
            else:
                reply.line(self.tk.render.texts["not_understood"])
        now_ev = self.evaluate()
        lead = bool(parsed.ambiguous) or not self._finishes(now_ev)
        if changed:
            self._report_changes(reply, changed, prev, now_ev, lead=lead)
        else:
            self._report_new(reply, prev, now_ev, set(fresh), lead=lead)
        if parsed.queries:  # "... - can I add tramadol?": answered on the facts just noted
            reply.extend(self.answer_query(parsed.queries, lead=False))
        if parsed.ambiguous or parsed.clarify:
            self.store.add_findings(self.id, turn_id, [f.to_dict() for f in now_ev.findings], self.tk.version)
            self.save()
            return reply
        return self._continue(reply, turn_id, now_ev)

    # -- questions the clinician asks ("can she have SCS?") ---------------------------------------
    def _queries(self, parsed: Parsed, turn_id: int) -> Reply:
        """A message that asks about options and states no fact ("can she have SCS?", "more oxy?"):
        the ruleset's status of each option, then the open question again."""
        reply = self.answer_query(parsed.queries)
        q = self.current_question()
        if q is not None:
            self.tk.render.question(q, reply)
        self.store.add_findings(self.id, turn_id, [f.to_dict() for f in self.evaluate().findings], self.tk.version)
        self.save()
        return reply

    def _questioned_text(self, item: str) -> str:
        name, _, value = item.partition(":")
        if name == "number":
            return f"Please check: {value} is not a number I can read, so I have not stored anything from it."
        if name.startswith("trial."):
            _, agent, attr = name.split(".", 2)
            what = f"{self.tk.knowledge.agent_label(agent)} {attr.replace('_', ' ')}"
        else:
            what = {"age": "age", "crcl": "CrCl", "egfr": "eGFR", "hba1c": "HbA1c", "b12_level": "B12"}.get(name, name)
        return f"Please check: {what} {value} is outside the plausible range, so I have not stored it."

    def _report_changes(self, reply: Reply, changed, prev: Evaluation, now: Evaluation, *, lead: bool = True) -> None:
        """After a correction: what changed in the facts, then in the advice - whole findings,
        the next step first, and a milestone (Step 4 reached / no longer) only when it changed."""
        for name, (old, new) in changed.items():
            old_s = "; ".join(self.tk.render.describe({name: old}))
            new_s = "; ".join(self.tk.render.describe({name: new}))
            reply.line(f"Changed: {old_s} -> {new_s}.")
        d = changes.delta(prev.findings, now.findings)
        if not d.any():
            reply.line("The advice is unchanged.", "i")
            return
        for text in d.milestones:
            reply.line(text, "b")
        step = self._lead_with_next_step(reply, prev, now, lead=lead)
        added = [f for f in d.added if f is not step]
        updated = [f for f in d.updated if f is not step]
        if added:
            reply.line("Now:", "b")
            for f in added:
                self.tk.render.finding_whole(reply, f, "+ ")
        if updated:
            reply.line("Updated:", "b")
            for f in updated:
                self.tk.render.finding_whole(reply, f, "~ ")
        if d.gone:
            reply.line("No longer:", "b")
            for f in d.gone:
                self.tk.render.finding_gone(reply, f)

    def _report_new(self, reply: Reply, prev: Evaluation, now: Evaluation, fresh: set[str], *,
                    lead: bool = True) -> None:
        """After new facts: the next step first (whole when it is new), then new warnings that rest
        on what was just said (a dose just typed is judged at once) and new critical findings,
        whole. The full ranked list stays in /summary and /findings."""
        old = {p.key for p in prev.findings}
        shown = []
        for f in now.findings:
            if f.key in old or f.severity == "info":
                continue
            names = {n for fid in now.base_facts_behind(f) for n in now.base[fid].get("src", "").split(",")}
            if f.severity == "critical" or names & fresh:
                shown.append(f)
        if not shown and changes.same_next_step(prev, now, self.tk.knowledge):
            return
        step = self._lead_with_next_step(reply, prev, now, lead=lead)
        for f in shown:
            if f is not step:
                self.tk.render.finding_whole(reply, f)

    def _lead_with_next_step(self, reply: Reply, prev: Evaluation, now: Evaluation, *, lead: bool):
        """The single next step, whole when it is new. Returned when shown whole here or in the
        summary that follows (`lead` False), so the caller does not show it twice."""
        step = next_step(now.findings, self.tk.knowledge)
        if step is None or not lead:
            return step
        is_new = step.key not in {f.key for f in prev.findings}
        self.tk.render.next_step(reply, step, now.findings.index(step) + 1, whole=is_new)
        return step if is_new else None

    def _finishes(self, ev: Evaluation) -> bool:
        """Will this turn end the intake (so the summary, led by the next step, follows)?"""
        return not self.state.get("finished") and self.next_question(self.answers(), ev) is None

    def ask_next(self, turn_id: int) -> Reply:
        """The next open question (or the summary when none is left): how a consult starts."""
        return self._continue(Reply(), turn_id)

    def _continue(self, reply: Reply, turn_id: int, ev: Evaluation | None = None) -> Reply:
        answers = self.answers()
        ev = ev or self.evaluate(answers)
        self.store.add_findings(self.id, turn_id, [f.to_dict() for f in ev.findings], self.tk.version)
        q = self.next_question(answers, ev)
        self.state["current"] = q.id if q else None
        if q:
            self.tk.render.question(q, reply)
        elif not self.state.get("finished"):
            self.state["finished"] = True
            reply.line(self.tk.render.texts["done"], "i")
            reply.extend(self.summary(ev, answers))
        self.save()
        return reply

    # -- commands ---------------------------------------------------------------------------------
    def summary(self, ev: Evaluation | None = None, answers: dict[str, Any] | None = None) -> Reply:
        """One phone screen, led by the single next step; the rest behind its buttons."""
        answers = self.answers() if answers is None else answers
        ev = ev or self.evaluate(answers)
        return first_screen.first_screen(answers, ev, self.unknowns(answers, ev), self.tk.render)

    def findings(self) -> Reply:
        return first_screen.all_findings(self.evaluate(), self.tk.render)

    def unknowns_reply(self) -> Reply:
        answers = self.answers()
        return first_screen.unknowns(self.unknowns(answers, self.evaluate(answers)), self.tk.render)

    def answer_query(self, keys: list[str], lead: bool = True) -> Reply:
        """A clinician's question about options ("can she have SCS?", "more oxy?"): for each, whether
        it is the next step, not yet (and why), or where the seed is silent - from this consult's
        findings, with their sources - then the single next step. Facts are not changed."""
        ev = self.evaluate()
        k = self.tk.knowledge
        reply = Reply()
        covered: set[tuple] = set()
        said: set[str] = set()
        for key in dict.fromkeys(keys):
            status = option_status(key, ev, k)
            reply.add(f"{status.label}: ", "b").line(f"{status.verdict_text}.")
            repeated = [line for line in status.lines if line in said]
            for line in status.lines:
                if line not in said:
                    reply.line(line)
            if repeated:  # two options asked at once often share their reason
                reply.line(self.tk.render.texts["as_above"], "i")
            said.update(status.lines)
            numbers = [ev.findings.index(f) + 1 for f in status.findings]
            if numbers:
                reply.line("How: " + ", ".join(f"/how {n}" for n in numbers), "i")
            covered |= {f.key for f in status.findings}
        step = next_step(ev.findings, k) if lead else None
        if step is not None and step.key not in covered:
            self.tk.render.next_step(reply, step, ev.findings.index(step) + 1, whole=False)
        return reply

    def undo(self, turn_id: int) -> Reply:
        if not self.state["changes"]:
            return Reply().line("Nothing to undo.")
        before = self.answers()
        prev = self.evaluate(before)
        change = self.state["changes"].pop()
        if change.get("skipped"):
            self.state["skipped"] = [q for q in self.state["skipped"] if q != change["skipped"]]
        else:
            self.store.undo_turn(self.id, change["turn"], turn_id)
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
        self.state.pop("finished", None)
        now = self.evaluate(after)
        if changed:
            self._report_changes(reply, {}, prev, now, lead=not self._finishes(now))
        return self._continue(reply, turn_id, now)

    # -- explain and correct (/how, /edit, /export, /ladder) -----------------------------------------
    def how(self, arg: str) -> Reply:
        ev = self.evaluate()
        if not ev.findings:
            return Reply().line("No recommendation yet.")
        number = int(arg) if arg.strip().isdecimal() else 1
        if not 1 <= number <= len(ev.findings):
            return Reply().line(f"There are {len(ev.findings)} recommendations; try /how 1 to /how {len(ev.findings)}.")
        return explain.how(self.store, self.id, ev, ev.findings[number - 1], number, self.tk.render)

    def edit(self, arg: str, turn_id: int) -> Reply:
        facts = self.store.live_facts(self.id)
        if arg.strip().isdecimal() and 1 <= int(arg) <= len(facts):
            row = facts[int(arg) - 1]
            before = self.answers()
            self.store.retract_fact(self.id, row["name"], turn_id)
            self._facts_changed()
            self.state["changes"].append({"turn": turn_id})
            self.state.pop("finished", None)
            reply = Reply().line(f"Removed: {'; '.join(self.tk.render.describe({row['name']: row['value']}))}.")
            now = self.evaluate()
            self._report_changes(reply, {}, self.evaluate(before), now, lead=not self._finishes(now))
            return self._continue(reply, turn_id, now)
        if not facts:
            return Reply().line("No facts yet to correct.")
        turns = {t["id"]: t["seq"] for t in self.store.turns(self.id)}
        reply = Reply().line(self.tk.render.texts["edit_intro"], "b")
        for i, row in enumerate(facts, 1):
            said = "; ".join(self.tk.render.describe({row["name"]: row["value"]}))
            reply.line(f"{i}. {said} (turn {turns.get(row['turn_id'], '?')})")
        return reply

    def export(self) -> Reply:
        answers = self.answers()
        ev = self.evaluate(answers)
        unknown = [q.label for q in self.unknowns(answers, ev)]
        text = note.consult_note(answers, ev, unknown, self.tk.render, self.tk.version,
                                 self.store.finding_versions(self.id))
        reply = Reply().line("The consult note, ready to paste into a record (no identifiers).")
        reply.attachments.append(Attachment(f"neuroladder-note-{self.id}.md", "text/markdown", text.encode("utf-8")))
        return reply

    def ladder_model(self) -> list:
        return ladder.ladder_model(self.evaluate(), self.tk.knowledge)

    def ladder(self) -> Reply:
        rungs = self.ladder_model()
        png = ladder.draw_png(rungs, self.tk.knowledge)
        reply = Reply().line("The ladder for this consult: green done, orange not adequate, yellow open, "
                             "grey unknown, red blocked by a pitfall.")
        reply.attachments.append(Attachment(f"neuroladder-ladder-{self.id}.png", "image/png", png))
        return reply

    def why(self) -> Reply:
        q = self.current_question()
        if q is None:
            return Reply().line("No question is open. /summary shows each recommendation with its step and source; "
                                "/how explains one.")
        return self.tk.render.why(q)

    def skip(self, turn_id: int) -> Reply:
        q = self.current_question()
        if q is None:
            return Reply().line("No question is open.")
        self.state["skipped"].append(q.id)
        self.state["changes"].append({"turn": turn_id, "skipped": q.id})
        return self._continue(Reply().line(f"Skipped: {q.label} (still listed as unknown).", "i"), turn_id)
