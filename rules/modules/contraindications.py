"""A drug the clinician entered as contraindicated (trial.<agent>.contraindicated = yes) cannot be
given: it is never advised to be started or raised, and it never holds back the ladder. The seed
says nothing of contraindications: whether a drug can be given is the clinician's judgement, and
the findings say so.

classify: a first-line rung none of whose agents can be given - each contraindicated or stopped
          for side effects (clinical notes, "Combination not feasible") - derives `no_gabapentinoid`
          or `no_antidepressant`: the rung does not block Step 4, and the combination is not feasible.
ladder:   one CONTRAINDICATED finding per class with a contraindicated drug; a first-line rung
          that cannot be climbed at all says so (FIRST_LINE_NOT_POSSIBLE).
Elsewhere, with the rules they change: first_line (start advice, CLASS_TRIED_ONLY_CONTRAINDICATED),
trials (no advice about the trial of a drug that cannot be given), second_line (combination, focal
options), step4 (its basis; strong opioids), advice (cautions).
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase

# rung -> (the derived fact when none of its agents can be given, its classes, how it is named)
RUNGS = {
    "gabapentinoid": ("no_gabapentinoid", ("gabapentinoid",), "gabapentinoid"),
    "antidepressant": ("no_antidepressant", ("snri", "tca"), "SNRI or TCA"),
}


def possible():
    """A trial fact of a drug that can still be given (contra is there only when it was answered)."""
    return (-m.contra) | (m.contra != "yes")


def barred_agents(ctx) -> set[str]:
    """Read in a consequent: the agents entered as contraindicated."""
    return {t["agent"] for t in ctx.base("trial") if t.get("contra") == "yes"}


def contraindicated(ctx, agent: str) -> bool:
    """Read in a consequent: was `agent` entered as contraindicated?"""
    return agent in barred_agents(ctx)


def joined(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def not_advised(ctx, agents: list[str]) -> str:
    """' Not advised: X and Y, entered as contraindicated (...).' for the agents of a start advice
    that cannot be given; "" when none."""
    barred = [ctx.k.agent_label(a) for a in agents if contraindicated(ctx, a)]
    if not barred:
        return ""
    return " " + ctx.k.phrases["contraindicated_not_advised"].format(agents=joined(barred))


def define_classify(k):
    """The rungs none of whose agents can be given (called by targets, where this was always judged)."""
    for rung, (kind, classes, _) in RUNGS.items():
        _none_possible(k, rung, kind, [a for a, spec in k.agents.items() if spec["class"] in classes])


def define(k):
    for kind, classes, shown in RUNGS.values():
        _rung_not_possible(k, kind, classes, shown)

    @when_all(phase("ladder"), c.t << (m.kind == "trial") & (m.contra == "yes"))
    @consequent("contraindicated")
    def drug_contraindicated(ctx):
        # One finding per class: every trial of the class gives the same text (one key).
        cls = ctx.fact("t")["cls"]
        same = [t for t in ctx.base("trial") if t["cls"] == cls and t.get("contra") == "yes"]
        labels = sorted(k.agent_label(t["agent"]) for t in same)
        # `agent`: one of the class, so /options shows it for that class's option only
        ctx.finding_because("CONTRAINDICATED", [t["id"] for t in same], agents=joined(labels), agent=labels[0])


def _none_possible(k, rung, kind, agents):
    cannot = (m.outcome == "side_effects") | (m.contra == "yes")
    # the gabapentinoid rung's names as before ("g", "p"): its derived fact reads as it always did
    names = ["g", "p"] if rung == "gabapentinoid" else [f"a{i}" for i in range(len(agents))]
    conditions = [getattr(c, n) << ((m.kind == "trial") & (m.agent == a) & cannot) for n, a in zip(names, agents)]

    @when_all(phase("classify"), *conditions)
    @consequent("no_gabapentinoid_possible" if rung == "gabapentinoid" else f"no_{rung}_possible")
    def none_possible(ctx):
        trials = [ctx.fact(n) for n in names]
        stopped = [k.agent_label(t["agent"]) for t in trials if t["outcome"] == "side_effects"]
        barred = [k.agent_label(t["agent"]) for t in trials if t["outcome"] != "side_effects"]
        p = k.phrases
        if len(stopped) == 2 and not barred:  # the wording before contraindications were read
            parts = [p["none_possible_both_stopped"].format(agents=" and ".join(stopped))]
        else:
            parts = [
                p[f"none_possible_{how}"].format(agents=joined(labels), verb=verbs[len(labels) > 1])
                for how, labels, verbs in (
                    ("stopped", stopped, ("was", "were")),
                    ("contraindicated", barred, ("is", "are")),
                )
                if labels
            ]
        ctx.derive(kind, *names, why="; ".join(parts), **({"contraindicated": True} if barred else {}))


def _rung_not_possible(k, kind, classes, shown):
    # Only when no trial of the rung closed it already (one stopped for side effects does).
    @when_all(
        phase("ladder"),
        c.n << (m.kind == kind),
        none((m.kind == "status") & (m.ok == True) & any_of("cls", classes)),
    )
    @consequent(f"{kind}_rung_not_possible")
    def rung_not_possible(ctx):
        ctx.finding("FIRST_LINE_NOT_POSSIBLE", "n", cls=shown, why=ctx.fact("n")["why"])
