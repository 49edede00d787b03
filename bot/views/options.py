"""A clinician's question about options ("can she have SCS?", "more oxy?"): for each, whether it
is the next step, not yet (and why), or where the seed is silent - from the consult's findings,
with their sources - then the single next step. The judgement is the ruleset's (rules/options.py)."""

from __future__ import annotations

from neuroladder.rules.engine import Evaluation
from neuroladder.rules.options import option_status
from neuroladder.rules.ranking import next_step

from .render import Renderer
from .reply import Reply


def option_answers(ev: Evaluation, keys: list[str], render: Renderer, *, lead: bool = True) -> Reply:
    k = render.k
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
            reply.line(render.texts["as_above"], "i")
        said.update(status.lines)
        numbers = [ev.findings.index(f) + 1 for f in status.findings]
        if numbers:
            reply.line("How: " + ", ".join(f"/how {n}" for n in numbers), "i")
        covered |= {f.key for f in status.findings}
    step = next_step(ev.findings, k) if lead else None
    if step is not None and step.key not in covered:
        render.next_step(reply, step, ev.findings.index(step) + 1, whole=False)
    return reply
