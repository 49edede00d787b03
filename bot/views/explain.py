"""/how: the chain behind a recommendation, from the engine's recorded firings.

Each step names the rule that fired and the facts it matched; a derived fact is unfolded into
the rule and facts that produced it; a base fact is traced to the clinician's own words and the
turn they came from.
"""

from __future__ import annotations

from neuroladder.bot.storage.store import Store
from neuroladder.rules.derived import describe_derived
from neuroladder.rules.engine import Evaluation, Finding

from .reply import Reply


def how(store: Store, consult_id: int, ev: Evaluation, finding: Finding, number: int, render) -> Reply:
    k = render.k
    reply = Reply()
    reply.add(f"How I reached #{number}: ", "b").line(k.findings[finding.code]["summary"])
    reply.line(finding.text)
    reply.line()
    facts_by_name = {f["name"]: f for f in store.live_facts(consult_id)}
    turns = {t["id"]: t for t in store.turns(consult_id)}
    reply.line("Rules that fired (last first):", "b")
    for step in ev.explain(finding):
        derived = step.get("derives")
        target = f" -> {describe_derived(ev.derived[derived]['fact'])}" if derived else f" -> {finding.code}"
        reply.add("- rule ").add(step["rule"], "code").line(target)
    base_ids = ev.base_facts_behind(finding)
    reply.line("From your answers:", "b")
    by_turn: dict[int, list[str]] = {}
    missing: list[str] = []
    for fid in base_ids:
        names = [n for n in ev.base[fid].get("src", "").split(",") if n in facts_by_name]
        if not names:
            missing.append(fid.replace("_", " "))
        for name in names:
            row = facts_by_name[name]
            by_turn.setdefault(row["turn_id"], []).extend(render.describe({name: row["value"]}))
    for turn_id, said in sorted(by_turn.items()):
        turn = turns.get(turn_id)
        words = turn["text"] if turn else ""
        words = words if len(words) <= 160 else words[:157] + "..."
        reply.line(f"- turn {turn['seq'] if turn else '?'}: " + "; ".join(said))
        if words:
            reply.add("  you wrote: ", "i").line(f'"{words}"')
    for fid in missing:
        reply.line(f"- {fid}: not given yet (treated as unknown)")
    if not (by_turn or missing):
        reply.line("- (no answer needed: the rule fires on what is missing)")
    reply.add("Sources: ", "b").line("; ".join(f"[{s}] {k.sources[s]['name']}" for s in finding.sources))
    return reply
