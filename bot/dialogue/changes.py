"""What changed in the advice between two evaluations, as a clinician should read it.

A finding whose code stays but whose parameters change (a new dose, another list of open rungs)
is an update, not one finding gone and another added: "No longer: Not yet Step 4" must never be
printed when Step 4 is still not reached. Milestones (rules/ranking.toml) are named only when
they are what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation, Finding
from neuroladder.rules.ranking import milestones, next_step


@dataclass
class Delta:
    added: list[Finding] = field(default_factory=list)
    updated: list[Finding] = field(default_factory=list)  # the new version of each
    gone: list[Finding] = field(default_factory=list)
    milestones: list[str] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.added or self.updated or self.gone or self.milestones)


def _subject(f: Finding):
    """What a finding is about beyond its code (the drug, the flag), when its rule names one."""
    return f.params.get("agent", f.params.get("flag"))


def delta(before: list[Finding], after: list[Finding]) -> Delta:
    before_keys, after_keys = {f.key for f in before}, {f.key for f in after}
    added = [f for f in after if f.key not in before_keys]
    gone = [f for f in before if f.key not in after_keys]
    out = Delta()
    for f in added:
        # The same card about the same subject (or one without a subject, e.g. the open rungs).
        pair = next((g for g in gone if g.code == f.code and _subject(g) == _subject(f)), None)
        if pair is not None:
            gone.remove(pair)
            out.updated.append(f)
        else:
            out.added.append(f)
    out.gone = gone
    before_codes, after_codes = {f.code for f in before}, {f.code for f in after}
    for spec in milestones().values():
        reached, not_reached = spec["reached"], spec.get("not_reached")
        if reached in after_codes and reached not in before_codes:
            out.milestones.append(spec["reached_text"])
            out.gone = [f for f in out.gone if f.code != not_reached]  # implied by "reached"
        elif reached in before_codes and reached not in after_codes:
            out.milestones.append(spec["lost_text"])
            out.gone = [f for f in out.gone if f.code != reached]  # implied by "no longer"
    return out


def same_next_step(before: Evaluation, after: Evaluation, knowledge: Knowledge) -> bool:
    a, b = next_step(before.findings, knowledge), next_step(after.findings, knowledge)
    return (a.key if a else None) == (b.key if b else None)
