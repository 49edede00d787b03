"""The intake script (conversations/intake.toml): which question comes next, and what is unknown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from neuroladder.bot.text.context import alternation
from neuroladder.bot.text.parse import CONVERSATIONS
from neuroladder.rules.data import load_knowledge, read_toml


@dataclass(frozen=True, eq=False)
class Question:
    id: str
    slot: str
    answer: str
    ask: str
    label: str
    why: str
    sources: list[str]
    subject: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    relevant_if: dict[str, list[str]] = field(default_factory=dict)
    relevant_if_finding: tuple[str, ...] = ()
    relevant_unless: dict[str, list] = field(default_factory=dict)
    unless_answered: tuple[str, ...] = ()
    unless_at_least: dict[str, float] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # a choice's label or reply -> the slot's value
    after: str | None = None  # asked only once this question was skipped or its facts begun
    counts: bool = False  # a count answers yes ("twice", "1 last month"), 0 answers no
    named_together: bool = False  # two drugs named in a reply are the combination asked about
    # words that answer this question when typed ("surgery" under "is there a known cause?"): value -> pattern
    replies: tuple[tuple[str, re.Pattern], ...] = ()

    def relevant(self, answers: dict[str, Any], finding_codes: set[str]) -> bool:
        for name, allowed in self.relevant_if.items():
            if answers.get(name) not in allowed:
                return False
        for name, barred in self.relevant_unless.items():
            if name in answers and answers[name] in barred:
                return False
        if self.unless_answered and any(n.startswith(self.unless_answered) for n in answers):
            return False
        for name, limit in self.unless_at_least.items():
            value = answers.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= limit:
                return False
        if self.relevant_if_finding and not set(self.relevant_if_finding) & finding_codes:
            return False
        return True

    def value_of(self, text: str) -> Any | None:
        """The slot's value when `text` is one of this question's own choices (pressed or typed)."""
        return self.values.get(text.strip().lower())


def _unless_contraindicated(slot: str) -> dict[str, list[str]]:
    """A drug entered as contraindicated is asked nothing more: not whether it was tried, nor its
    dose, duration or effect (no rung waits for it)."""
    if not slot.startswith("trial.") or slot.endswith(".contraindicated"):
        return {}
    return {f"trial.{slot.split('.')[1]}.contraindicated": ["yes"]}


def _threshold(thresholds: dict, path: str) -> float:
    value: Any = thresholds
    for part in path.split("."):
        value = value[part]
    return value


class Intake:
    def __init__(self) -> None:
        data = read_toml(CONVERSATIONS, "intake.toml")
        thresholds = load_knowledge().thresholds
        defaults = {"yesno": data["yesno_choices"]["choices"], "outcome": data["outcome_choices"]["choices"]}
        self.questions: list[Question] = []
        for q in data["questions"]:
            # Default choices carry the subject ("gabapentin yes"), so a button pressed late
            # still answers the question it was shown under.
            choices = q.get("choices") or [
                (label, f"{q['subject']} {value}") for label, value in defaults.get(q["answer"], [])
            ]
            values = {}
            for choice in choices:
                if len(choice) == 3:
                    values[choice[0].lower()] = values[choice[1].lower()] = choice[2]
            finding = q.get("relevant_if_finding") or ()
            self.questions.append(
                Question(
                    id=q["id"],
                    slot=q["slot"],
                    answer=q["answer"],
                    ask=q["ask"],
                    label=q["label"],
                    why=q["why"],
                    sources=q["sources"],
                    subject=q["subject"],
                    choices=[tuple(c[:2]) for c in choices],
                    relevant_if=q.get("relevant_if", {}),
                    relevant_if_finding=(finding,) if isinstance(finding, str) else tuple(finding),
                    relevant_unless={**q.get("relevant_unless", {}), **_unless_contraindicated(q["slot"])},
                    unless_answered=tuple(q.get("unless_answered", ())),
                    unless_at_least={n: _threshold(thresholds, p) for n, p in q.get("unless_at_least", {}).items()},
                    values=values,
                    after=q.get("after"),
                    counts=q.get("counts", False),
                    named_together=q.get("named_together", False),
                    replies=tuple(
                        (value, re.compile(r"(?<![\w])(?:" + alternation(set(words)) + r")(?![\w])"))
                        for value, words in q.get("replies", {}).items()
                    ),
                )
            )
        self.by_id = {q.id: q for q in self.questions}

    def open_questions(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> list[Question]:
        """Relevant questions whose fact is still missing (skipped ones included: still unknown)."""
        return list(self._open(answers, skipped, finding_codes))

    def _open(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]):
        begun: dict[str, bool] = {}  # per call: has the facts of question X begun? (asked once, not per flag)
        for q in self.questions:
            if (
                q.slot not in answers
                and q.relevant(answers, finding_codes)
                and self._reached(q, answers, skipped, begun)
            ):
                yield q

    def _reached(self, q: Question, answers: dict[str, Any], skipped: set[str], begun: dict[str, bool]) -> bool:
        """One question per red flag only after "Check one by one" (the first question skipped), or
        once any flag was answered: until then the one first question stands for them all."""
        if not q.after:
            return True
        if q.after in skipped:
            return True
        if q.after not in begun:
            prefixes = self.by_id[q.after].unless_answered
            begun[q.after] = any(n.startswith(prefixes) for n in answers)
        return begun[q.after]

    def next_question(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> Question | None:
        return next((q for q in self._open(answers, skipped, finding_codes) if q.id not in skipped), None)

    def unknowns(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> list[Question]:
        """Everything still unknown: open questions, and answers given as 'unknown'."""
        out = self.open_questions(answers, skipped, finding_codes)
        begun: dict[str, bool] = {}
        out += [
            q
            for q in self.questions
            if answers.get(q.slot) == "unknown"
            and q.relevant(answers, finding_codes)
            and self._reached(q, answers, skipped, begun)
        ]
        return sorted(set(out), key=self.questions.index)
