"""First line before anything else: a gabapentinoid, and an SNRI or TCA, each an adequate trial [1].

Step 4 needs trials of first-line medications that failed alone and in combination [1]; a class
with no trial, or with only trials that were not adequate, keeps the ladder open. A class whose
trials are not known is asked about, never taken as "not tried" (clinical notes, principle 5).
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase
from .advice import avoid, older_caution, opioid_caution, target
from .contraindications import RUNGS, contraindicated, joined, not_advised, possible

REQUIREMENTS = {
    "gabapentinoid": ("gabapentinoid", ("gabapentinoid",), "GABAPENTINOID_NOT_TRIED"),
    "antidepressant": ("SNRI or TCA", ("snri", "tca"), "ANTIDEPRESSANT_NOT_TRIED"),
}


# A trial with one of these problems is not adequate (clinical notes, principle 1: nothing past the
# ladder while a first-line trial is inadequate), even when another drug of its class was adequate.
INADEQUATE = ("dose", "divided", "duration", "missing")
FIRST_LINE = ("gabapentinoid", "snri", "tca")


def define(k):
    for key, (shown, classes, untried_code) in REQUIREMENTS.items():
        _class_rules(k, key, shown, classes, untried_code)

    # A trial stopped for side effects failed on tolerability: it is not re-opened here; nor is one
    # of a drug that cannot be given now (contraindicated: no rung waits for it).
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial")
        & (m.tried == "yes")
        & (m.outcome != "side_effects")
        & any_of("cls", FIRST_LINE)
        & possible(),
        c.p << (m.kind == "problem") & (m.agent == c.t.agent) & any_of("type", INADEQUATE),
    )
    @consequent("trial_not_adequate")
    def trial_not_adequate(ctx):
        agent = ctx.fact("t")["agent"]
        ctx.derive("open", "t", "p", rung=f"adequate {k.agent_label(agent)} trial", trial=agent)


def _start_advice(ctx, key):
    """What starting the class means for this patient: renal-aware targets, avoidances, [L6]; a drug
    entered as contraindicated is not advised (said so), never given a target."""
    if key == "gabapentinoid":
        parts = [target(ctx, a) for a in ("gabapentin", "pregabalin") if not contraindicated(ctx, a)]
        advice = "; ".join(p["advice"] for p in parts if p)
        srcs = [p["advice_src"] for p in parts if p]
        if any(p.get("capped") for p in parts):
            advice += ctx.k.phrases["renal_essential"]
        caution, caution_src = older_caution(ctx, ["gabapentinoid"])
        opioid, opioid_src = opioid_caution(ctx)
        caution += opioid
        caution_src = ", ".join(s for s in (caution_src, opioid_src) if s)
        barred = ["gabapentin", "pregabalin"]
    else:
        advice, srcs = "", []
        if not contraindicated(ctx, "duloxetine"):
            dul = target(ctx, "duloxetine")
            why = avoid(ctx, "duloxetine")
            if why:
                advice, srcs = ctx.k.phrases["advice_duloxetine_avoid"].format(why=why), ["L7"]
            else:
                advice, srcs = dul["advice"], [dul["advice_src"]]
        if not contraindicated(ctx, "tca"):
            advice += ("; " if advice else "") + target(ctx, "tca")["advice"]
            srcs.append(target(ctx, "tca")["advice_src"])
        if not advice:  # only a drug the seed gives no dose for is left (venlafaxine)
            left = [ctx.k.agent_label(a) for a in ("venlafaxine",) if not contraindicated(ctx, a)]
            advice = ctx.k.phrases["advice_none_left"].format(agents=joined(left))
        caution, caution_src = older_caution(ctx, ["snri", "tca"])
        barred = ["duloxetine", "venlafaxine", "tca"]
    caution += not_advised(ctx, barred)
    return {"advice": advice, "srcs": ", ".join(srcs + ([caution_src] if caution_src else [])), "caution": caution}


def _class_rules(k, key, shown, classes, untried_code):
    # A rung none of whose drugs can be given is said so (contraindications.py), never asked for.
    impossible = none(m.kind == RUNGS[key][0])
    # whether a drug that cannot be given was tried is not asked: no rung waits for it
    maybe_tried = (m.tried == "yes") | ((m.tried == "unknown") & possible())

    @when_all(phase("ladder"), none((m.kind == "trial") & maybe_tried & any_of("cls", classes)), impossible)
    @consequent(f"{key}_not_tried")
    def class_not_tried(ctx):
        ctx.finding(untried_code, **_start_advice(ctx, key))
        ctx.derive("open", rung=f"{shown} trial")

    # "unknown" is not "no": say which drugs are not known to have been tried.
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "unknown") & any_of("cls", classes) & possible(),
        none((m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes)),
        impossible,
    )
    @consequent(f"{key}_not_known")
    def class_not_known(ctx):
        agents = sorted(
            k.agent_label(t["agent"])
            for t in ctx.base("trial")
            if t["cls"] in classes and t["tried"] == "unknown" and t.get("contra") != "yes"
        )
        ids = [t["id"] for t in ctx.base("trial") if t["cls"] in classes]
        ctx.finding_because("CLASS_TRIAL_UNKNOWN", ids, cls=shown, agents=", ".join(agents))
        ctx.derive("open", "t", rung=f"whether a {shown} was tried")

    # Tried, then entered as contraindicated, and no other drug of the rung tried: the rung is open
    # (below), and what can still be started is said - never the drug that cannot be given.
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & (m.contra == "yes") & any_of("cls", classes),
        none((m.kind == "trial") & maybe_tried & possible() & any_of("cls", classes)),
        none((m.kind == "status") & (m.ok == True) & any_of("cls", classes)),
        impossible,
    )
    @consequent(f"{key}_tried_only_contraindicated")
    def class_tried_only_contraindicated(ctx):
        barred = sorted(
            k.agent_label(t["agent"])
            for t in ctx.base("trial")
            if t["cls"] in classes and t["tried"] == "yes" and t.get("contra") == "yes"
        )
        ids = [t["id"] for t in ctx.base("trial") if t["cls"] in classes]
        ctx.finding_because(
            "CLASS_TRIED_ONLY_CONTRAINDICATED", ids, cls=shown, agents=joined(barred), **_start_advice(ctx, key)
        )

    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes),
        none((m.kind == "status") & (m.ok == True) & any_of("cls", classes)),
        impossible,
    )
    @consequent(f"{key}_not_adequate")
    def class_not_adequate(ctx):
        # The trial's own finding (under-dosed, too short, details missing...) says why; the open
        # rung names the class only when no trial of it is named already (STEP4_NOT_YET's list).
        ctx.derive("open", "t", rung=f"adequate {shown} trial", class_of=ctx.fact("t")["agent"])
