"""/ladder: the patient's position on the ladder, as a model and as a PNG drawn from it.

The model is built from the same Evaluation as /summary (its findings and the engine's derived
facts) and the rung definitions in rules/ladder.toml; the picture only draws the model.
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

from neuroladder.rules.data import Knowledge
from neuroladder.rules.engine import Evaluation

COLOURS = {"done": "#2e7d32", "recommended": "#1565c0", "inadequate": "#ef6c00", "open": "#f9a825",
           "unknown": "#9e9e9e", "not_tried": "#bdbdbd", "blocked": "#c62828", "n/a": "#e0e0e0",
           "not_tolerated": "#8d6e63", "not_yet": "#90a4ae", "missing": "#ffb74d", "not_judged": "#b0bec5",
           "not_feasible": "#a1887f"}
STATE_WORDS = {"done": "done", "recommended": "recommended now", "inadequate": "not adequate", "open": "open",
               "unknown": "unknown", "not_tried": "not tried", "blocked": "blocked", "n/a": "not applicable",
               "not_tolerated": "not tolerated", "not_yet": "not yet - earlier rungs open",
               "missing": "not adequate - details missing, ask", "not_judged": "not judged - the seed gives no dose",
               "not_feasible": "not feasible - the specialist decides"}
# The ruleset's problem types (rules/modules/trials.py) -> the rung's state: the picture shows the
# same judgement as the findings.
INADEQUATE = {"dose", "duration", "divided", "renal_excess"}


@dataclass
class Rung:
    id: str
    step: str
    label: str
    state: str
    detail: str = ""
    reached: float | None = None     # dose (mg/day) or weeks reached
    needed: float | None = None      # what an adequate trial needs, same unit
    unit: str = ""


def _agent_state(ev: Evaluation, agent: str, knowledge: Knowledge) -> tuple[str, str, float | None, float | None, str]:
    trial = ev.base.get(f"trial.{agent}")
    if trial is None or trial.get("tried") != "yes":
        return ("not_tried" if trial is not None and trial.get("tried") == "no" else "unknown"), "", None, None, ""
    derived = [d["fact"] for d in ev.derived.values() if d["fact"].get("agent") == agent]
    status = next((f for f in derived if f["kind"] == "status"), None)
    problems = {f["type"] for f in derived if f["kind"] == "problem"}
    target = next((f for f in derived if f["kind"] == "target"), None)
    duration = next((d for d in knowledge.thresholds["durations"].values() if agent in d["agents"]), None)
    if "weeks" in (target or {}):
        reached, needed, unit = trial.get("weeks"), target["weeks"], "weeks"
    elif "duration" in problems and "dose" not in problems and duration:
        reached, needed, unit = trial.get("weeks"), duration["min_weeks"], "weeks"
    else:
        reached, needed, unit = trial.get("dose"), (target or {}).get("dose"), "mg/day"
    if status and status["how"] == "not_tolerated":
        state = "not_tolerated"
    elif status:
        state = "done"
    elif problems & INADEQUATE:
        state = "inadequate"
    elif "missing" in problems:
        state = "missing"
    elif "unverified" in problems:
        state = "not_judged"
    else:
        state = "unknown"
    detail = f"{reached:g} of {needed:g} {unit}" if reached is not None and needed is not None else ""
    return state, detail, reached, needed, unit


RANK = ["blocked", "done", "not_tolerated", "inadequate", "missing", "not_judged", "unknown", "not_tried"]


def ladder_model(ev: Evaluation, knowledge: Knowledge) -> list[Rung]:
    codes = ev.codes()
    rungs: list[Rung] = []
    for spec in knowledge.rungs:
        pitfall = next((state for code, state in spec.get("findings", {}).items() if code in codes), None)
        if "agents" in spec:
            states = [(agent, *_agent_state(ev, agent, knowledge)) for agent in spec["agents"]]
            # The rung shows its best trial: an adequate one over an inadequate one over none.
            agent, state, detail, reached, needed, unit = min(states, key=lambda s: RANK.index(s[1]) if s[1] != "blocked" else 99)
            if detail:
                detail = f"{knowledge.agent_label(agent)} {detail}"
            rung = Rung(spec["id"], spec["step"], spec["label"], pitfall or state, detail, reached, needed, unit)
            if pitfall:
                rung.detail = (rung.detail + "; " if rung.detail else "") + "pitfall flagged"
        else:
            tried = spec.get("tried")
            if tried and ev.base.get(f"trial.{tried}", {}).get("tried") == "yes":
                state = "done"
            else:
                state = pitfall or spec.get("otherwise", "unknown")
            rung = Rung(spec["id"], spec["step"], spec["label"], state)
        rungs.append(rung)
    return rungs


def draw_png(rungs: list[Rung], knowledge: Knowledge, title: str = "NeuroLadder") -> bytes:
    """A phone-readable picture: one row per rung, grouped by step, bottom (work-up) to top (Step 4)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    rows = list(rungs)  # y grows upwards: work-up at the foot of the ladder, Step 4 at the top
    height = 0.55 * len(rows) + 1.6
    fig, ax = plt.subplots(figsize=(6.4, height), dpi=120)
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.2, len(rows) + 0.9)
    ax.axis("off")
    ax.text(0.1, len(rows) + 0.45, title, fontsize=14, fontweight="bold", va="center")
    last_step = None
    for y, rung in enumerate(rows):
        colour = COLOURS.get(rung.state, "#9e9e9e")
        ax.add_patch(FancyBboxPatch((2.6, y + 0.08), 7.3, 0.78, boxstyle="round,pad=0.02", fc=colour, ec="none",
                                    alpha=0.9))
        text_colour = "white" if rung.state not in ("n/a", "not_tried", "open") else "black"
        ax.text(2.75, y + 0.6, rung.label, fontsize=9.5, fontweight="bold", color=text_colour, va="center")
        words = STATE_WORDS.get(rung.state, rung.state) + (f" - {rung.detail}" if rung.detail else "")
        ax.text(2.75, y + 0.3, words, fontsize=8.5, color=text_colour, va="center")
        if rung.reached is not None and rung.needed:
            share = max(0.0, min(rung.reached / rung.needed, 1.0))
            ax.add_patch(FancyBboxPatch((8.2, y + 0.22), 1.5, 0.16, boxstyle="round,pad=0.01", fc="white", ec="none"))
            ax.add_patch(FancyBboxPatch((8.2, y + 0.22), 1.5 * share, 0.16, boxstyle="round,pad=0.01",
                                        fc="#263238", ec="none"))
        if rung.step != last_step:
            ys = [i for i, r in enumerate(rows) if r.step == rung.step]
            ax.text(0.1, (min(ys) + max(ys)) / 2 + 0.47, textwrap.fill(knowledge.steps.get(rung.step, rung.step), 22),
                    fontsize=7.5, va="center")
            ax.plot([0.1, 9.9], [y + 0.02, y + 0.02], color="#cfd8dc", lw=0.8)
            last_step = rung.step
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
