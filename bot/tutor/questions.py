"""A tutoring question from a case: the graded answer and the wrong options, all from the ruleset.

The ruleset evaluates the case's facts. Findings that carry a `tutor_option` in
rules/findings.toml are actions a learner can choose. The graded answer is the concluded action
that ranks first: most severe first (critical, warning, info - the CDS Hooks indicators), then
the ladder order of findings.toml. Wrong options are actions the ruleset does NOT conclude for
the case, preferring the lures named in conversations/tutor.toml (escalating past the ladder too
early), then actions from the same step as the answer, then any other. Nothing here is typed by
hand per case: change a threshold and the answer follows the rules.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation, Finding

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
# Words too common to tell options apart when matching free text.
STOPWORDS = {
    "the",
    "a",
    "an",
    "and",
    "or",
    "for",
    "of",
    "to",
    "in",
    "on",
    "at",
    "is",
    "it",
    "its",
    "with",
    "before",
    "first",
    "about",
    "whether",
    "was",
    "start",
    "check",
    "give",
    "ask",
    "drug",
    "dose",
    "trial",
    "that",
    "this",
    "then",
    "next",
    "what",
    "would",
    "should",
    "i",
    "we",
    "do",
}


@dataclass
class Question:
    answer: str  # the finding code graded as right
    options: list[str]  # finding codes, in the order shown (the answer among them)
    concluded: list[str]  # every concluded action code, ranked

    def number_of(self, code: str) -> int:
        return self.options.index(code) + 1


def actionable(knowledge: Knowledge) -> list[str]:
    return [code for code, spec in knowledge.findings.items() if spec.get("tutor_option")]


def ranked_actions(ev: Evaluation, knowledge: Knowledge) -> list[Finding]:
    """The concluded actions, most important first (one finding per code)."""
    order = {code: i for i, code in enumerate(knowledge.findings)}
    seen: dict[str, Finding] = {}
    for f in ev.findings:
        if knowledge.findings[f.code].get("tutor_option") and f.code not in seen:
            seen[f.code] = f
    return sorted(seen.values(), key=lambda f: (SEVERITY_RANK.get(f.severity, 9), order[f.code]))


def _overlaps(knowledge: Knowledge, a: str, b: str) -> bool:
    return b in knowledge.findings[a].get("tutor_overlaps", []) or a in knowledge.findings[b].get("tutor_overlaps", [])


def build_question(
    ev: Evaluation, knowledge: Knowledge, *, seed: str, size: int = 4, lure_steps: tuple[str, ...] = ()
) -> Question | None:
    """The question for one evaluated case, or None when the case has no action or too few wrong options."""
    size = max(3, min(5, size))
    ranked = ranked_actions(ev, knowledge)
    if not ranked:
        return None
    answer = ranked[0].code
    concluded = {f.code for f in ev.findings}
    rng = random.Random(seed)
    # Never offer as wrong an action that is (nearly) one the ruleset concludes for the case.
    pool = [
        c
        for c in actionable(knowledge)
        if c not in concluded and not any(_overlaps(knowledge, c, done) for done in concluded)
    ]
    rng.shuffle(pool)
    step = knowledge.findings[answer]["step"]
    lures = [c for c in pool if knowledge.findings[c]["step"] in lure_steps]
    same_step = [c for c in pool if knowledge.findings[c]["step"] == step and c not in lures]
    others = [c for c in pool if c not in lures and c not in same_step]
    chosen: list[str] = []
    for group, limit in ((lures, 1), (same_step, 1), (others, size), (same_step, size), (lures, size)):
        taken = 0
        for code in group:
            if len(chosen) >= size - 1 or taken >= limit:
                break
            if code in chosen or any(_overlaps(knowledge, code, c) for c in chosen):
                continue
            if knowledge.findings[code]["tutor_option"] in {knowledge.findings[c]["tutor_option"] for c in chosen}:
                continue
            chosen.append(code)
            taken += 1
    if len(chosen) < 2:
        return None
    options = chosen + [answer]
    rng.shuffle(options)
    return Question(answer, options, [f.code for f in ranked])


# -- free-text answers ----------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9%]+", text.lower()))


def _contains(text: str, phrase: str) -> bool:
    return re.search(r"(?<![a-z0-9])" + re.escape(phrase.lower()) + r"(?![a-z0-9])", text) is not None


def score(text: str, code: str, knowledge: Knowledge) -> int:
    """How well free text names an action: keyword phrases (longer ones weigh more), then label words."""
    spec = knowledge.findings[code]
    lowered = " ".join(text.lower().split())
    points = sum(2 * len(k.split()) for k in spec.get("tutor_keywords", []) if _contains(lowered, k))
    label_words = {w for w in _words(spec["tutor_option"]) if w not in STOPWORDS and len(w) > 2}
    return points + len(label_words & _words(lowered))


def match(text: str, question: Question, knowledge: Knowledge) -> tuple[str | None, list[str]]:
    """(code, []) for a clear match; (None, [codes]) when several tie; (None, []) for no match.

    A number picks that option. Otherwise the offered options are tried first; words that name
    some other action (e.g. one concluded for the case but not first) are matched after them.
    """
    stripped = text.strip().rstrip(".)")
    if stripped.isdecimal():
        n = int(stripped)
        return (question.options[n - 1], []) if 1 <= n <= len(question.options) else (None, [])
    for pool in (question.options, [c for c in actionable(knowledge) if c not in question.options]):
        scores = {code: score(text, code, knowledge) for code in pool}
        best = max(scores.values(), default=0)
        if best <= 0:
            continue
        top = [code for code, s in scores.items() if s == best]
        return (top[0], []) if len(top) == 1 else (None, top)
    return None, []
