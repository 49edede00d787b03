"""Tutor mode: practise the ladder on cases, graded by the same ruleset that advises.

`/tutor` puts a chat in tutor mode: a consult row with mode "tutor" (the open consultation is
set aside and reopened by `/tutor stop`). Each case from conversations/cases/ is shown as its
narrative and its facts in plain words, then "What next?" with options as choices. Free text is
accepted too (an option's number, its words, or the action's keywords from findings.toml).

The answer is graded against what the ruleset concludes from the case's facts (see
questions.py), and explained with the finding's own text, step and sources. Scores are per
learner (storage/scores.py); `/tutor stats` shows them. Replies are plain `Reply` parts and
choices, so every channel renders them. No clinical wording lives here: it comes from rules/ and
conversations/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroladder.bot.dialogue.commands import Message
from neuroladder.bot.dialogue.consult import Consult, Toolkit
from neuroladder.bot.storage.scores import Scores
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text.parse import CONVERSATIONS
from neuroladder.bot.views.reply import Choice, Reply
from neuroladder.rules.data import read_toml
from neuroladder.rules.engine import Evaluation, Finding

from .casebook import CaseBook, casebook
from .cases import Case
from .questions import Question, build_question, match, ranked_actions

MODE = "tutor"
# Commands that keep their usual meaning in tutor mode (everything else goes to the tutor).
PASSTHROUGH = ("start", "restart", "help", "sources")
# /tutor sub-commands that put a chat in tutor mode.
ENTER = ("", "start", "next", "case")


@dataclass
class Turn:
    """One message in tutor mode: where it came from, the tutor row and its state (saved after)."""

    channel: str
    chat_id: str
    row: dict
    state: dict
    learner: str
    text: str
    rest: str = ""  # what follows a /tutor sub-command ("answer 3.2", "case a_duloxetine_30")


class Tutor:
    def __init__(self, store: Store, tk: Toolkit, cases_dir: str | Path | None = None):
        self.store = store
        self.tk = tk
        self.k = tk.knowledge
        self.cases_dir = Path(cases_dir) if cases_dir else None
        self.scores = Scores(store)
        self.texts = read_toml(CONVERSATIONS, "tutor.toml")
        # /tutor's sub-commands ("" and "start" resume the open case or present one)
        self.subcommands: dict[str, Callable[[Turn], Reply]] = {
            "": self._resume,
            "start": self._resume,
            "next": self._present,
            "case": self._named_case,
            "answer": self._pressed,
            "stop": self._stop,
        }

    # -- routing (the Service asks every registered mode) ------------------------------------------
    @staticmethod
    def routes(row: dict | None, cmd: str | None) -> bool:
        """Does this message belong to the tutor? /tutor always; anything but a few commands in tutor mode."""
        return cmd == "tutor" or (row is not None and row.get("mode") == MODE and cmd not in PASSTHROUGH)

    def handle(self, row: dict | None, msg: Message) -> Reply:
        sub, _, rest = msg.arg.strip().partition(" ")
        sub = sub.lower()
        in_tutor = row is not None and row.get("mode") == MODE
        if msg.cmd == "tutor" and not in_tutor and sub in ENTER:
            row = self._enter(msg.channel, msg.chat_id, row)
            in_tutor = True
        if row is None:
            row = self.store.new_consult(msg.channel, msg.chat_id, self.tk.rules.version)
        self.store.add_turn(row["id"], "in", msg.text, msg.author, msg.inbox_id)
        turn = Turn(
            msg.channel,
            msg.chat_id,
            row,
            json.loads(row.get("state") or "{}"),
            str(msg.author) if msg.author else "anonymous",
            msg.text,
            rest.strip(),
        )
        reply = self._handler(msg.cmd, sub, in_tutor)(turn)
        if turn.state.pop("intro_pending", False):
            reply = Reply().line(self.texts["intro"], "i").line().extend(reply)
        if msg.notice:  # the privacy guard's warning (identifiers redacted), as in a consultation
            reply = Reply().line(msg.notice, "b").line().extend(reply)
        if row.get("mode") == MODE and row.get("status") == "open":
            self.store.save_state(row["id"], turn.state)
        self.store.add_turn(row["id"], "out", reply.plain(), None, msg.inbox_id)
        return reply

    def _handler(self, cmd: str | None, sub: str, in_tutor: bool) -> Callable[[Turn], Reply]:
        if cmd == "tutor" and sub == "stats":  # scores can be seen from anywhere
            return lambda turn: self.stats(turn.channel, turn.learner)
        if cmd == "tutor" and sub not in self.subcommands:
            return self._saying("unknown_sub")
        if not in_tutor:
            return self._saying("not_in_tutor")
        if cmd == "tutor":
            return self.subcommands[sub]
        if cmd is not None:  # another command while practising
            return self._saying("in_tutor")
        return self._free_text

    def _saying(self, key: str) -> Callable[[Turn], Reply]:
        return lambda turn: Reply().line(self.texts[key])

    def _enter(self, channel: str, chat_id: str, row: dict | None) -> dict:
        resume = row["id"] if row is not None and row.get("status") == "open" else None
        tutor_row = self.store.new_consult(channel, chat_id, self.tk.rules.version, mode=MODE)
        tutor_row["state"] = json.dumps({"resume": resume, "seen": [], "intro_pending": True})
        self.store.save_state(tutor_row["id"], json.loads(tutor_row["state"]))
        return tutor_row

    def _stop(self, turn: Turn) -> Reply:
        row, state = turn.row, turn.state
        if self._open_round(state):
            self.scores.finish_round(state["round"], "abandoned")
        self.store.save_state(row["id"], state)
        self.store.set_consult_status(row["id"], "closed")
        row["status"] = "closed"
        reply = Reply().line(self.texts["stopped"], "b")
        resume = state.get("resume")
        resumed = self.store.consult(resume) if resume is not None else None
        if resumed is not None:
            self.store.set_consult_status(resume, "open")
            resumed["status"] = "open"
            reply.line(self.texts["resumed"])
            question = Consult(self.tk, self.store, resumed).current_question()
            if question is not None:
                self.tk.render.question(question, reply)
        else:
            reply.line(self.tk.render.texts["nothing_open"])
        return reply

    # -- cases and questions ---------------------------------------------------------------------
    def book(self) -> CaseBook:
        return casebook(
            self.cases_dir, self.tk.rules, self.k, self.tk.version or f"{self.tk.rules.version}:{id(self.k)}"
        )

    def cases(self) -> list[Case]:
        return self.book().cases

    def _evaluate(self, case: Case) -> Evaluation:
        return self.book().evaluation(case)

    def question_for(self, case: Case, seed: str) -> Question | None:
        return build_question(
            self._evaluate(case),
            self.k,
            seed=seed,
            size=int(self.texts["options"]),
            lure_steps=tuple(self.texts.get("lure_steps", ())),
        )

    def _teachable(self) -> list[Case]:
        book = self.book()
        if book.teachable is None:
            book.teachable = [c for c in book.cases if self.question_for(c, c.id) is not None]
        return book.teachable

    @staticmethod
    def _open_round(state: dict) -> bool:
        return bool(state.get("round")) and not state.get("finished")

    def _resume(self, turn: Turn) -> Reply:
        """/tutor: the open case again, or a new one."""
        return self._show_case(turn.state) if self._open_round(turn.state) else self._present(turn)

    def _named_case(self, turn: Turn) -> Reply:
        return self._present(turn, name=turn.rest)

    def _present(self, turn: Turn, name: str | None = None) -> Reply:
        channel, state, learner = turn.channel, turn.state, turn.learner
        reply = Reply()
        cases = self._teachable()
        if not cases:
            return reply.line(self.texts["no_cases"])
        if self._open_round(state):
            self.scores.finish_round(state["round"], "skipped")
        if name:
            by_id = {c.id: c for c in cases}
            case = by_id.get(name) or next((c for c in cases if c.title.lower() == name.lower()), None)
            if case is None:
                return reply.line(self.texts["unknown_case"].format(name=name, names=", ".join(by_id)))
        else:
            seen = set(state.get("seen", []))
            fresh = [c for c in cases if c.id not in seen]
            if not fresh:
                reply.line(self.texts["all_done"], "i")
                state["seen"] = []
                fresh = cases
            done = self.scores.cases_done(channel, learner)
            case = next((c for c in fresh if c.id not in done), fresh[0])
        round_id = self.scores.new_round(
            channel, turn.chat_id, turn.row["id"], case.id, case.title, self.tk.rules.version
        )
        q = self.question_for(case, seed=f"{case.id}:{round_id}")
        self.scores.set_question(round_id, q.answer, q.options, q.concluded)
        if case.id not in state.setdefault("seen", []):
            state["seen"].append(case.id)
        state.update(
            round=round_id,
            case=case.id,
            title=case.title,
            answer=q.answer,
            options=q.options,
            concluded=q.concluded,
            tries=0,
            wrong=[],
            finished=False,
            number=len(state["seen"]),
            total=len(cases),
        )
        return reply.extend(self._show_case(state, case))

    def _case(self, state: dict) -> Case | None:
        return self.book().by_id.get(state.get("case"))

    def _show_case(self, state: dict, case: Case | None = None) -> Reply:
        case = case or self._case(state)
        reply = Reply()
        t = self.texts
        reply.line(t["case_heading"].format(number=state["number"], total=state["total"], title=state["title"]), "b")
        if case is not None:
            reply.line(case.narrative)
            reply.add(t["facts_heading"], "b").line("; ".join(self.tk.render.describe(case.facts)))
        reply.line()
        reply.line(t["question"], "b")
        return self._options(reply, state)

    def _options(self, reply: Reply, state: dict) -> Reply:
        for i, code in enumerate(state["options"], 1):
            reply.line(f"{i}. {self._label(code)}")
        reply.line(self.texts["answer_hint"], "i")
        reply.choices.extend(
            Choice(self._label(code), f"/tutor answer {state['round']}.{i}")
            for i, code in enumerate(state["options"], 1)
        )
        reply.expects_answer = True
        return reply

    def _label(self, code: str) -> str:
        return self.k.findings[code]["tutor_option"]

    def _question(self, state: dict) -> Question:
        return Question(state["answer"], state["options"], state["concluded"])

    # -- answers ------------------------------------------------------------------------------
    def _pressed(self, turn: Turn) -> Reply:
        """A button: "/tutor answer ROUND.N" (a button of an earlier round is stale)."""
        state = turn.state
        round_s, _, number = turn.rest.partition(".")
        if not self._open_round(state) or round_s != str(state["round"]):
            reply = Reply().line(self.texts["stale"], "i")
            return (
                reply.extend(self._show_case(state))
                if self._open_round(state)
                else reply.line(self.texts["no_open_case"])
            )
        code, _ = match(number, self._question(state), self.k)
        if code is None:
            return Reply().line(self.texts["not_matched"].format(count=len(state["options"])))
        return self._grade(turn, code)

    def _free_text(self, turn: Turn) -> Reply:
        """A typed answer: an option's number, its words, or the action's keywords."""
        state, text = turn.state, turn.text
        if not self._open_round(state):
            return Reply().line(self.texts["no_open_case"])
        code, tied = match(text, self._question(state), self.k)
        if code is None and tied:
            shown = ", ".join(self._label(c) for c in tied)
            return Reply().line(self.texts["ambiguous"].format(options=shown))
        if code is None:
            return Reply().line(self.texts["not_matched"].format(count=len(state["options"])))
        return self._grade(turn, code)

    def _grade(self, turn: Turn, code: str) -> Reply:
        t, state = self.texts, turn.state
        if code in state["wrong"]:  # the same wrong answer again costs no try
            reply = Reply().line(t["already_tried"].format(option=self._label(code)), "i")
            return self._options(reply, state)
        case = self._case(state)
        ev = self._evaluate(case) if case is not None else None
        right = code == state["answer"]
        self.scores.add_attempt(state["round"], turn.channel, turn.learner, code, turn.text, right)
        state["tries"] += 1
        reply = Reply()
        if right:
            reply.line(t["right" if state["tries"] == 1 else "right_later"].format(option=self._label(code)), "b")
            self._finish(state, "correct_first" if state["tries"] == 1 else "correct_later")
            return self._explain(reply, state, ev)
        reply.line(t["wrong"].format(option=self._label(code)), "b")
        state["wrong"].append(code)
        left = int(t["tries"]) - state["tries"]
        if left > 0:  # no explanation yet: it would give the answer away
            concluded = ev is not None and code in ev.codes()
            reply.line(t["also_concluded" if concluded else "not_concluded"].format(option=self._label(code)))
            step = self.tk.render.step_name(self.k.findings[state["answer"]]["step"])
            reply.line(t["try_again"].format(left=left, step=step), "i")
            return self._options(reply, state)
        self._why_not(reply, code, state, ev)
        self._finish(state, "missed")
        reply.line()
        reply.line(t["reveal"].format(option=self._label(state["answer"])), "b")
        return self._explain(reply, state, ev)

    def _finish(self, state: dict, outcome: str) -> None:
        state["finished"] = True
        self.scores.finish_round(state["round"], outcome)

    def _why_not(self, reply: Reply, code: str, state: dict, ev: Evaluation | None) -> None:
        concluded = {f.code: f for f in (ev.findings if ev else [])}
        if code in concluded:
            reply.line(self.texts["also_concluded"].format(option=self._label(code)))
            return
        reply.line(self.texts["not_concluded"])
        because = self.k.findings[code].get("tutor_why_not")
        if because and because in concluded:
            self._card(reply, concluded[because])

    def _card(self, reply: Reply, f: Finding) -> None:
        self.tk.render.finding_card(reply, f)
        used = self.tk.render.sources_used([f])
        if used:
            reply.add(self.texts["sources"], "b").line(
                "; ".join(f"[{key}] {self.k.sources[key]['name']}" for key in used)
            )

    def _explain(self, reply: Reply, state: dict, ev: Evaluation | None) -> Reply:
        t = self.texts
        ranked = ranked_actions(ev, self.k) if ev is not None else []
        answer = next((f for f in ranked if f.code == state["answer"]), None)
        reply.line(t["explanation"], "i")
        if answer is not None:
            self._card(reply, answer)
        else:  # the case file changed under the round: explain from the finding's summary
            reply.line(self.k.findings[state["answer"]]["summary"])
        others = [self.k.findings[f.code]["summary"] for f in ranked if f.code != state["answer"]]
        if others:
            reply.add(t["other_actions"], "b").line("; ".join(others))
        reply.line()
        reply.line(t["next_prompt"], "b")
        reply.choices.extend(
            [
                Choice(t["button_next"], "/tutor next"),
                Choice(t["button_stats"], "/tutor stats"),
                Choice(t["button_stop"], "/tutor stop"),
            ]
        )
        return reply

    # -- stats ------------------------------------------------------------------------------------
    def stats(self, channel: str, learner: str) -> Reply:
        t = self.texts
        s = self.scores.stats(channel, learner)
        reply = Reply().line(t["stats_heading"], "b")
        if not s.done:
            return reply.line(t["stats_none"])
        reply.line(t["stats_done"].format(done=s.done))
        reply.line(t["stats_first"].format(first=s.first, done=s.done, percent=round(100 * s.first / s.done)))
        if s.missed:
            reply.line(t["stats_missed"], "b")
            for code, n in s.missed:
                reply.line("- " + t["stats_missed_line"].format(summary=self.k.findings[code]["summary"], count=n))
        else:
            reply.line(t["stats_missed_none"])
        return reply


def case_summary(case: Case, tutor: Tutor) -> dict[str, Any]:
    """What the tutor would ask for a case (used by tests and by authors checking a case)."""
    q = tutor.question_for(case, seed=case.id)
    return {"case": case.id, "answer": q.answer if q else None, "options": q.options if q else []}
