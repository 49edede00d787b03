"""First line before anything else: a gabapentinoid, and an SNRI or TCA, each an adequate trial [1].

Step 4 needs trials of first-line medications that failed alone and in combination [1]; a class
with no trial, or with only trials that were not adequate, keeps the ladder open.
"""
from durable.lang import c, m, none, when_all

from ..engine import any_of, consequent, phase

REQUIREMENTS = {
    "gabapentinoid": ("gabapentinoid", ("gabapentinoid",), "GABAPENTINOID_NOT_TRIED"),
    "antidepressant": ("SNRI or TCA", ("snri", "tca"), "ANTIDEPRESSANT_NOT_TRIED"),
}


# A trial with one of these problems is not adequate (clinical notes, principle 1: nothing past the
# ladder while a first-line trial is inadequate), even when another drug of its class was adequate.
INADEQUATE = ("dose", "divided", "duration", "missing")


def define(k):
    for key, (shown, classes, untried_code) in REQUIREMENTS.items():
        _class_rules(key, shown, classes, untried_code)

    # A trial stopped for side effects failed on tolerability: it is not re-opened here.
    @when_all(phase("ladder"), c.t << (m.kind == "trial") & (m.tried == "yes") & (m.outcome != "side_effects"),
              c.p << (m.kind == "problem") & (m.agent == c.t.agent) & any_of("type", INADEQUATE))
    @consequent("trial_not_adequate")
    def trial_not_adequate(ctx):
        ctx.derive("open", "t", "p", rung=f"adequate {k.agent_label(ctx.fact('t')['agent'])} trial")


def _class_rules(key, shown, classes, untried_code):
    @when_all(phase("ladder"), none((m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes)))
    @consequent(f"{key}_not_tried")
    def class_not_tried(ctx):
        ctx.finding(untried_code)
        ctx.derive("open", rung=f"{shown} trial")

    @when_all(phase("ladder"), c.t << (m.kind == "trial") & (m.tried == "yes") & any_of("cls", classes),
              none((m.kind == "status") & (m.ok == True) & any_of("cls", classes)))
    @consequent(f"{key}_not_adequate")
    def class_not_adequate(ctx):
        # The trial's own finding (under-dosed, too short, details missing...) says why.
        ctx.derive("open", "t", rung=f"adequate {shown} trial")
