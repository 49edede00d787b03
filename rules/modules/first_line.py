"""First line before anything else: a gabapentinoid, and an SNRI or TCA, each an adequate trial [1].

Step 4 needs trials of first-line medications that failed alone and in combination [1]; a class
with no trial, or with only trials that were not adequate, keeps the ladder open. A class whose
trials are not known is asked about, never taken as "not tried" (clinical notes, principle 5).
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase
from .advice import avoid, older_caution, opioid_caution, target

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

    # A trial stopped for side effects failed on tolerability: it is not re-opened here.
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & (m.outcome != "side_effects") & any_of("cls", FIRST_LINE),
        c.p << (m.kind == "problem") & (m.agent == c.t.agent) & any_of("type", INADEQUATE),
    )
    @consequent("trial_not_adequate")
    def trial_not_adequate(ctx):
        agent = ctx.fact("t")["agent"]
        ctx.derive("open", "t", "p", rung=f"adequate {k.agent_label(agent)} trial", trial=agent)


def _start_advice(ctx, key):
    """What starting the class means for this patient: renal-aware targets, avoidances, [L6]."""
    if key == "gabapentinoid":
        parts = [target(ctx, "gabapentin"), target(ctx, "pregabalin")]
        advice = "; ".join(p["advice"] for p in parts if p)
        srcs = [p["advice_src"] for p in parts if p]
        if any(p.get("capped") for p in parts):
            advice += ctx.k.phrases["renal_essential"]
        caution, caution_src = older_caution(ctx, ["gabapentinoid"])
        opioid, opioid_src = opioid_caution(ctx)
        caution += opioid
        caution_src = ", ".join(s for s in (caution_src, opioid_src) if s)
    else:
        dul = target(ctx, "duloxetine")
        why = avoid(ctx, "duloxetine")
        if why:
            advice, srcs = ctx.k.phrases["advice_duloxetine_avoid"].format(why=why), ["L7"]
        else:
            advice, srcs = dul["advice"], [dul["advice_src"]]
        advice += "; " + target(ctx, "tca")["advice"]
        srcs.append(target(ctx, "tca")["advice_src"])
        caution, caution_src = older_caution(ctx, ["snri", "tca"])
    return {"advice": advice, "srcs": ", ".join(srcs + ([caution_src] if caution_src else [])), "caution": caution}


def _class_rules(k, key, shown, classes, untried_code):
    @when_all(phase("ladder"), none((m.kind == "trial") & any_of("tried", ("yes", "unknown")) & any_of("cls", classes)))
    @consequent(f"{key}_not_tried")
    def class_not_tried(ctx):
        ctx.finding(untried_code, **_start_advice(ctx, key))
        ctx.derive("open", rung=f"{shown} trial")

    # "unknown" is not "no": say which drugs are not known to have been tried.
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "unknown") & any_of("cls", classes),
        none((m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes)),
    )
    @consequent(f"{key}_not_known")
    def class_not_known(ctx):
        agents = sorted(
            k.agent_label(t["agent"]) for t in ctx.base("trial") if t["cls"] in classes and t["tried"] == "unknown"
        )
        ids = [t["id"] for t in ctx.base("trial") if t["cls"] in classes]
        ctx.finding_because("CLASS_TRIAL_UNKNOWN", ids, cls=shown, agents=", ".join(agents))
        ctx.derive("open", "t", rung=f"whether a {shown} was tried")

    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes),
        none((m.kind == "status") & (m.ok == True) & any_of("cls", classes)),
    )
    @consequent(f"{key}_not_adequate")
    def class_not_adequate(ctx):
        # The trial's own finding (under-dosed, too short, details missing...) says why; the open
        # rung names the class only when no trial of it is named already (STEP4_NOT_YET's list).
        ctx.derive("open", "t", rung=f"adequate {shown} trial", class_of=ctx.fact("t")["agent"])
