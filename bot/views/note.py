"""The consult note (/export): Markdown to paste into a record. No identifiers: the note holds
only the clinical facts given, the findings and their sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from neuroladder.rules.engine import Evaluation
from neuroladder.rules.ladder import in_note_table, is_pitfall, ladder_model, state_words
from neuroladder.rules.ranking import next_step


def _md(text: str) -> str:
    """User-given words in a Markdown table or list: neutralise the characters that restructure it."""
    return text.replace("|", "\\|").replace("\n", " ")


def consult_note(
    answers: dict[str, Any],
    ev: Evaluation,
    unknown_labels: list[str],
    render,
    version: str,
    earlier_versions: list[str] = (),
) -> str:
    """`version`: the ruleset and clinical data behind this note's findings; `earlier_versions`:
    others that produced findings during the consult (a deploy in the middle of it)."""
    k = render.k
    lines = [
        "# NeuroLadder consult note",
        "",
        f"_Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; ruleset and clinical data version {version}._",
        "",
    ]
    earlier = [v for v in earlier_versions if v != version]
    if earlier:
        lines += [
            f"_Earlier advice in this consult came from version {', '.join(earlier)}; "
            f"everything below is from {version}._",
            "",
        ]
    step = next_step(ev.findings, k)
    if step is not None:  # the note, like every reply with findings, leads with the next step
        lines += [
            f"**Next step:** {k.findings[step.code]['summary']} ({render.step_name(step.step)}) - {step.text}",
            "",
        ]
    lines += ["## Facts gathered", ""]
    facts = render.describe(answers)
    lines += [f"- {_md(f)}" for f in facts] or ["- none"]
    lines += [
        "",
        "## First-line trials against an adequate trial",
        "",
        "| Rung | State | Reached vs needed |",
        "|---|---|---|",
    ]
    for rung in ladder_model(ev, k):
        if in_note_table(rung, k):
            lines.append(f"| {rung.label} | {state_words(rung.state, k)} | {_md(rung.detail) or '-'} |")
    pitfalls = [f for f in ev.findings if is_pitfall(f, k)]
    lines += ["", "## Pitfalls flagged", ""]
    lines += [f"- **{k.findings[f.code]['summary']}** - {f.text}" for f in pitfalls] or ["- none"]
    lines += ["", "## Next steps, ranked by the ladder", ""]
    steps = [f for f in ev.findings if f not in pitfalls]
    for i, f in enumerate(steps, 1):
        lines.append(
            f"{i}. **{k.findings[f.code]['summary']}** ({render.step_name(f.step)}) - {f.text} "
            f"Sources: {', '.join(f'[{s}]' for s in f.sources)}"
        )
    lines += ["", "## Still unknown", ""]
    lines += [f"- {u}" for u in unknown_labels] or ["- nothing the intake asks"]
    lines += ["", "## Sources", ""]
    for key in render.sources_used(ev.findings):
        src = k.sources[key]
        lines.append(f"- [{key}] {src['name']}: " + "; ".join(src["claims"]))
    lines += ["", f"_{render.texts['disclaimer']}_", ""]
    return "\n".join(lines)
