"""What a turn changed in the advice, as the reply says it: after a correction, whole findings
under "Now:", "Updated:" and "No longer:"; after new facts, the next step and the new warnings
that rest on them. Either way the single next step leads, whole when it is new."""

from __future__ import annotations

from typing import Any

from neuroladder.bot.views.render import Renderer
from neuroladder.bot.views.reply import Reply
from neuroladder.rules.engine import Evaluation, Finding
from neuroladder.rules.ranking import next_step

from . import changes


class ChangeReport:
    def __init__(self, render: Renderer):
        self.render = render
        self.k = render.k

    def corrected(
        self, reply: Reply, changed: dict[str, tuple[Any, Any]], prev: Evaluation, now: Evaluation, *, lead: bool = True
    ) -> None:
        """After a correction: what changed in the facts, then in the advice - whole findings,
        the next step first, and a milestone (Step 4 reached / no longer) only when it changed."""
        for name, (old, new) in changed.items():
            old_s = "; ".join(self.render.describe({name: old}))
            new_s = "; ".join(self.render.describe({name: new}))
            reply.line(f"Changed: {old_s} -> {new_s}.")
        d = changes.delta(prev.findings, now.findings)
        if not d.any():
            reply.line("The advice is unchanged.", "i")
            return
        for text in d.milestones:
            reply.line(text, "b")
        step = self.next_step(reply, prev, now, lead=lead)
        added = [f for f in d.added if f is not step]
        updated = [f for f in d.updated if f is not step]
        if added:
            reply.line("Now:", "b")
            for f in added:
                self.render.finding_whole(reply, f, "+ ")
        if updated:
            reply.line("Updated:", "b")
            for f in updated:
                self.render.finding_whole(reply, f, "~ ")
        if d.gone:
            reply.line("No longer:", "b")
            for f in d.gone:
                self.render.finding_gone(reply, f)

    def added(self, reply: Reply, prev: Evaluation, now: Evaluation, fresh: set[str], *, lead: bool = True) -> None:
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
        if not shown and changes.same_next_step(prev, now, self.k):
            return
        step = self.next_step(reply, prev, now, lead=lead)
        for f in shown:
            if f is not step:
                self.render.finding_whole(reply, f)

    def next_step(self, reply: Reply, prev: Evaluation, now: Evaluation, *, lead: bool) -> Finding | None:
        """The single next step, whole when it is new. Returned when shown whole here or in the
        summary that follows (`lead` False), so the caller does not show it twice."""
        step = next_step(now.findings, self.k)
        if step is None or not lead:
            return step
        is_new = step.key not in {f.key for f in prev.findings}
        self.render.next_step(reply, step, now.findings.index(step) + 1, whole=is_new)
        return step if is_new else None
