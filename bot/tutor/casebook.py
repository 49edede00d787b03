"""The tutoring cases as the tutor uses them: read, checked and judged by the ruleset once per
process for each cases folder and ruleset version, not on every message. (A case file edited
while the bot runs is seen after a restart; `neuroladder cases check` reads the files afresh.)"""

from __future__ import annotations

from pathlib import Path

from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation, LadderRules

from .cases import Case, default_cases_dir, load_cases


class CaseBook:
    def __init__(self, directory: Path, rules: LadderRules, knowledge: Knowledge):
        self.rules = rules
        self.knowledge = knowledge
        self.cases: list[Case] = load_cases(directory, knowledge)
        self.by_id = {c.id: c for c in self.cases}
        self._evaluations: dict[str, Evaluation] = {}
        self.teachable: list[Case] | None = None  # the cases the tutor can ask about (set by it)

    def evaluation(self, case: Case) -> Evaluation:
        """What the ruleset concludes from the case's facts (a pure function of them: kept)."""
        if case.id not in self._evaluations:
            self._evaluations[case.id] = case.evaluate(self.rules, self.knowledge)
        return self._evaluations[case.id]


_books: dict[tuple[str, str], CaseBook] = {}


def casebook(directory: Path | None, rules: LadderRules, knowledge: Knowledge, version: str) -> CaseBook:
    """The process's one CaseBook for this folder and ruleset version."""
    folder = Path(directory or default_cases_dir()).resolve()
    key = (str(folder), version)
    if key not in _books:
        _books[key] = CaseBook(folder, rules, knowledge)
    return _books[key]
