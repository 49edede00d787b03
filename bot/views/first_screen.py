"""/summary as one phone screen: the single next step first, then the ranked findings in one line
each, the facts and the unknowns in brief. Whatever does not fit is one button away (/findings,
/unknowns, /sources, /how). The budget is counted in visible characters, so no consult, however
long, pushes the next step off the first screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuroladder.rules.engine import Evaluation
from neuroladder.rules.ranking import next_step

from .reply import Choice, Reply

if TYPE_CHECKING:  # the intake's questions are shown and read here, not decided: no import at run time
    from neuroladder.bot.dialogue.intake import Question

LIMIT = 1000  # one phone screen, in visible characters
MORE_ROOM = 30  # kept free for the "+N more" pointer while findings are added
LIST_ROOM = (240, 130)  # at least this much for the facts (checking them matters) and the unknowns


def length(reply: Reply) -> int:
    return len(reply.plain())


def _fit_list(title: str, items: list[str], sep: str, pointer: str, room: int) -> str | None:
    """'title: a; b; c ... (pointer)' with as many items as fit in `room` characters."""
    for count in range(len(items), -1, -1):
        shown = sep.join(items[:count])
        rest = "" if count == len(items) else f"{sep if count else ''}... ({pointer})"
        line = f"{title}: {shown}{rest}" if count else f"{title}: ... ({pointer})"
        if len(line) <= room:
            return line
    return None


def first_screen(answers: dict[str, Any], ev: Evaluation, unknown: list[Question], render, limit: int = LIMIT) -> Reply:
    texts = render.texts
    k = render.k
    head = Reply().line("Consult summary", "b")
    tail = Reply().line(texts["summary_disclaimer"], "i")
    lead = next_step(ev.findings, k) if ev.findings else None
    number = ev.findings.index(lead) + 1 if lead is not None else None
    if ev.findings:
        render.next_step(head, lead, number, whole=True)
        if length(head) + length(tail) > limit - MORE_ROOM:  # an unusually long text: its card line only
            head = Reply().line("Consult summary", "b")
            render.next_step(head, lead, number, whole=False)
    else:
        head.line(texts["summary_nothing"])

    # Room kept for the facts and unknowns lines in their shortest form (counts and pointers).
    facts = render.describe(answers)
    lists = [
        (texts["summary_facts"].format(count=len(facts)), facts, "; ", texts["summary_facts_pointer"]),
        (
            texts["summary_unknown"].format(count=len(unknown)),
            [q.label for q in unknown],
            ", ",
            texts["summary_unknown_pointer"],
        ),
    ]
    reserve = MORE_ROOM + sum(
        min(len(_fit_list(t, items, s, p, limit) or ""), share) + 1
        for (t, items, s, p), share in zip(lists, LIST_ROOM)
        if items
    )
    # A critical finding is never pushed off the first screen by the facts: only their counts.
    reserve_critical = MORE_ROOM + sum(len(_fit_list(t, [], s, p, limit)) + 1 for t, items, s, p in lists if items)

    # The ranked findings, one line each, while they fit (the most important first).
    ranked = Reply()
    rest = [(i, f) for i, f in enumerate(ev.findings, 1) if f is not lead]
    shown = 0
    for i, f in rest:
        line = Reply()
        if not shown:
            line.line(texts["summary_then"], "b")
        render.finding_line(line, f, i)
        room = reserve_critical if f.severity == "critical" else reserve
        if length(head) + length(ranked) + length(line) + length(tail) + room > limit:
            break
        ranked.extend(line)
        shown += 1
    if shown < len(rest):
        ranked.line(texts["summary_more"].format(count=len(rest) - shown))

    # Facts and unknowns in the room left, shared between them: counts always, items while they fit.
    body = Reply().extend(head).extend(ranked)
    present = [entry for entry in lists if entry[1]]
    for i, (title, items, sep, pointer) in enumerate(present):
        room = limit - length(body) - length(tail) - 1
        later = present[i + 1 :]
        if later:  # leave the later list its share
            room = max(len(_fit_list(title, [], sep, pointer, limit)), room // 2)
        line = _fit_list(title, items, sep, pointer, room)
        if line:
            body.line(line)
    body.extend(tail)

    if ev.findings:
        body.choices.extend(
            [
                Choice("All findings", "/findings", aside=True),
                Choice("Unknowns", "/unknowns", aside=True),
                Choice("Sources", "/sources", aside=True),
                Choice(f"How? (#{number or 1})", f"/how {number or 1}", aside=True),
                Choice("Ladder picture", "/ladder", aside=True),
                Choice("Export note", "/export", aside=True),
            ]
        )
    return body


def all_findings(ev: Evaluation, render) -> Reply:
    """Every finding, ranked, whole, with its step, sources and /how number."""
    if not ev.findings:
        return Reply().line(render.texts["summary_nothing"])
    reply = Reply().line(render.texts["all_findings"].format(count=len(ev.findings)), "b")
    render.findings_list(ev.findings, reply)
    used = render.sources_used(ev.findings)
    if used:
        reply.add("Sources: ", "b").line("; ".join(f"[{key}] {render.k.sources[key]['name']}" for key in used))
    return reply


def unknowns(unknown: list[Question], render) -> Reply:
    if not unknown:
        return Reply().line(render.texts["unknowns_none"])
    reply = Reply().line(render.texts["unknowns_title"].format(count=len(unknown)), "b")
    for q in unknown:
        reply.line(f"- {q.label}")
    return reply.line(render.texts["unknowns_hint"], "i")
