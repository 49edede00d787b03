"""/ladder: the patient's position on the ladder as a PNG.

The model (rules/ladder.py) is built from the same Evaluation as /summary; its states' words and
colours are data (rules/ladder.toml). This module only draws it.
"""

from __future__ import annotations

import io
import textwrap

from neuroladder.rules.data import Knowledge
from neuroladder.rules.ladder import Rung, dark_text, ladder_model, state_colour, state_words

__all__ = ["Rung", "draw_png", "ladder_model"]


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
        colour = state_colour(rung.state, knowledge)
        ax.add_patch(
            FancyBboxPatch((2.6, y + 0.08), 7.3, 0.78, boxstyle="round,pad=0.02", fc=colour, ec="none", alpha=0.9)
        )
        text_colour = "black" if dark_text(rung.state, knowledge) else "white"
        ax.text(2.75, y + 0.6, rung.label, fontsize=9.5, fontweight="bold", color=text_colour, va="center")
        words = state_words(rung.state, knowledge) + (f" - {rung.detail}" if rung.detail else "")
        ax.text(2.75, y + 0.3, words, fontsize=8.5, color=text_colour, va="center")
        if rung.reached is not None and rung.needed:
            share = max(0.0, min(rung.reached / rung.needed, 1.0))
            ax.add_patch(FancyBboxPatch((8.2, y + 0.22), 1.5, 0.16, boxstyle="round,pad=0.01", fc="white", ec="none"))
            ax.add_patch(
                FancyBboxPatch((8.2, y + 0.22), 1.5 * share, 0.16, boxstyle="round,pad=0.01", fc="#263238", ec="none")
            )
        if rung.step != last_step:
            ys = [i for i, r in enumerate(rows) if r.step == rung.step]
            ax.text(
                0.1,
                (min(ys) + max(ys)) / 2 + 0.47,
                textwrap.fill(knowledge.steps.get(rung.step, rung.step), 22),
                fontsize=7.5,
                va="center",
            )
            ax.plot([0.1, 9.9], [y + 0.02, y + 0.02], color="#cfd8dc", lw=0.8)
            last_step = rung.step
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
