"""The intake script (conversations/intake.toml): which question comes next, and what is unknown."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rules.data import read_toml
from .parse import CONVERSATIONS


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
    relevant_if_finding: str | None = None
    also_filled_by: list[str] = field(default_factory=list)

    def filled(self, answers: dict[str, Any]) -> bool:
        """A ".*" slot is filled by any fact under it ("flag.*": one red flag answered)."""
        if any(name in answers for name in self.also_filled_by):
            return True
        if self.slot.endswith(".*"):
            return any(name.startswith(self.slot[:-1]) for name in answers)
        return self.slot in answers

    def value(self, answers: dict[str, Any]) -> Any:
        if self.slot.endswith(".*"):
            values = {v for n, v in answers.items() if n.startswith(self.slot[:-1])}
            return values.pop() if len(values) == 1 else None
        return answers.get(self.slot)

    def relevant(self, answers: dict[str, Any], finding_codes: set[str]) -> bool:
        for name, allowed in self.relevant_if.items():
            if answers.get(name) not in allowed:
                return False
        if self.relevant_if_finding and self.relevant_if_finding not in finding_codes:
            return False
        return True


class Intake:
    def __init__(self) -> None:
        data = read_toml(CONVERSATIONS, "intake.toml")
        defaults = {"yesno": data["yesno_choices"]["choices"], "outcome": data["outcome_choices"]["choices"]}
        self.questions: list[Question] = []
        for q in data["questions"]:
            # Default choices carry the subject ("gabapentin yes"), so a button pressed late
            # still answers the question it was shown under.
            choices = q.get("choices") or [(label, f"{q['subject']} {value}")
                                           for label, value in defaults.get(q["answer"], [])]
            self.questions.append(Question(
                id=q["id"], slot=q["slot"], answer=q["answer"], ask=q["ask"], label=q["label"], why=q["why"],
                sources=q["sources"], subject=q["subject"], choices=[tuple(c) for c in choices],
                relevant_if=q.get("relevant_if", {}), relevant_if_finding=q.get("relevant_if_finding"),
                also_filled_by=q.get("also_filled_by", [])))
        self.by_id = {q.id: q for q in self.questions}

    def open_questions(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> list[Question]:
        """Relevant questions whose fact is still missing (skipped ones included: still unknown)."""
        return [q for q in self.questions if not q.filled(answers) and q.relevant(answers, finding_codes)]

    def next_question(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> Question | None:
        for q in self.open_questions(answers, skipped, finding_codes):
            if q.id not in skipped:
                return q
        return None

    def unknowns(self, answers: dict[str, Any], skipped: set[str], finding_codes: set[str]) -> list[Question]:
        """Everything still unknown: open questions, and answers given as 'unknown'."""
        out = self.open_questions(answers, skipped, finding_codes)
        out += [q for q in self.questions if q.value(answers) == "unknown" and q.relevant(answers, finding_codes)]
        return sorted(set(out), key=self.questions.index)
