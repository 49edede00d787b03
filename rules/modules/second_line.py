"""Second line before declaring resistance: combination therapy [3, 2] - the seed's combination is
a gabapentinoid with an SNRI or TCA; for focal pain the capsaicin 8% patch [1, 2] and botulinum
toxin A [2]. Capsaicin cream is not the patch [L3]. When no gabapentinoid (or no SNRI or TCA) can be
given the combination is not feasible: said so, and it does not hold back Step 4 (the specialist
decides). A focal option entered as contraindicated is not advised and holds nothing back."""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase
from .advice import combination_cautions, older_caution

STARTED = ("gabapentinoid", "snri", "tca")  # the combination starts or raises one of these
HELPING_CLASSES = ("topical", "procedure")
FAILED = ("no_benefit", "partial", "waned")  # a combination that did not help: how long is judged


def _shortest_trial(k, agents: str) -> tuple[float, dict]:
    """The shortest adequate duration [L4] (a TCA's from [1]) of a first-line drug in the
    combination (of any first-line drug when its drugs are not named): no source gives a
    combination's own duration, so the least demanding single-drug figure is the floor."""
    names = [a for a in agents.split(",") if a] or list(k.agents)
    specs = [
        spec
        for spec in k.thresholds["durations"].values()
        for a in names
        if a in spec["agents"] and k.agents[a]["class"] in STARTED
    ]
    spec = min(specs, key=lambda s: s["min_weeks"])
    if agents:
        which, shortest = "a drug in it", [next(a for a in names if a in spec["agents"])]
    else:  # every first-line drug with that shortest duration, none singled out
        which = "any first-line drug"
        shortest = sorted({a for s in specs if s["min_weeks"] == spec["min_weeks"] for a in s["agents"]})
    return spec["min_weeks"], {  # (the floor in weeks, what the finding says of it)
        "need": spec["shown"],
        "which": which,
        "agent": ", ".join(k.agent_label(a) for a in shortest),
        "srcs": ", ".join(spec["sources"]),
    }


def _pair(k, f) -> str:
    """' (gabapentin + duloxetine)': the combination's drugs, when named."""
    agents = f.get("agents", "")
    return f" ({' + '.join(k.agent_label(a) for a in agents.split(','))})" if agents else ""


def _tried(agent):
    return (m.kind == "trial") & (m.agent == agent) & (m.tried == "yes")


NOT_FEASIBLE = ("no_gabapentinoid", "no_antidepressant")  # contraindications.py: a half cannot be given


def _feasible():
    return [none(m.kind == kind) for kind in NOT_FEASIBLE]


def _barred(agent):
    """Entered as contraindicated: not advised, and no rung waits for it (CONTRAINDICATED says so)."""
    return (m.kind == "trial") & (m.agent == agent) & (m.contra == "yes")


def _not_feasible(kind):
    # The combination not tried (or not known) while one half cannot be given: said so, not advised.
    @when_all(
        phase("ladder"),
        c.f << (m.kind == "combination") & any_of("value", ("no", "unknown")),
        c.n << (m.kind == kind),
    )
    @consequent("combination_not_feasible" if kind == "no_gabapentinoid" else f"combination_not_feasible_{kind}")
    def combination_not_feasible(ctx):
        ctx.finding("COMBINATION_NOT_FEASIBLE", "f", "n", why=ctx.fact("n")["why"])


def define(k):
    @when_all(phase("ladder"), c.f << (m.kind == "combination") & (m.value == "no"), *_feasible())
    @consequent("combination_not_tried")
    def combination_not_tried(ctx):
        caution, caution_src = older_caution(ctx, STARTED)
        renal, renal_src = combination_cautions(ctx)
        ctx.finding(
            "COMBINATION_NOT_TRIED",
            "f",
            pair="",
            renal=renal,
            renal_src=renal_src,
            caution=caution,
            caution_src=caution_src,
        )
        ctx.derive("open", "f", rung="combination therapy")

    # An SNRI with a TCA is not the seed's combination.
    @when_all(
        phase("ladder"), c.f << (m.kind == "combination") & (m.value == "yes") & (m.pair == "other"), *_feasible()
    )
    @consequent("combination_not_the_seeds")
    def combination_not_the_seeds(ctx):
        agents = " + ".join(k.agent_label(a) for a in ctx.fact("f")["agents"].split(","))
        caution, caution_src = older_caution(ctx, STARTED)
        renal, renal_src = combination_cautions(ctx)
        ctx.finding(
            "COMBINATION_NOT_TRIED",
            "f",
            pair=k.phrases["not_the_seeds_pair"].format(agents=agents),
            renal=renal,
            renal_src=renal_src,
            caution=caution,
            caution_src=caution_src,
        )
        ctx.derive("open", "f", rung="combination therapy (with a gabapentinoid)")

    @when_all(phase("ladder"), c.f << (m.kind == "combination") & (m.value == "unknown"), *_feasible())
    @consequent("combination_unknown")
    def combination_unknown(ctx):
        ctx.finding("COMBINATION_UNKNOWN", "f", what=k.phrases["combination_not_known"])
        ctx.derive("open", "f", rung="combination therapy (not known if tried)")

    # Tried, effect unknown: asked, never assumed to have failed (clinical notes, principle 5).
    @when_all(
        phase("ladder"),
        c.f << (m.kind == "combination") & (m.value == "yes") & (m.outcome == "unknown") & (m.pair != "other"),
    )
    @consequent("combination_outcome_unknown")
    def combination_outcome_unknown(ctx):
        ctx.finding("COMBINATION_UNKNOWN", "f", what=k.phrases["combination_effect_not_known"])
        ctx.derive("open", "f", rung="effect of the combination")

    @when_all(
        phase("ladder"),
        c.f << (m.kind == "combination") & (m.value == "yes") & (m.outcome == "good") & (m.pair != "other"),
    )
    @consequent("combination_helping")
    def combination_helping(ctx):
        pair = _pair(k, ctx.fact("f"))
        # agent "combination": no single drug's option (/options) counts as done by it.
        ctx.finding("TRIAL_RESPONDING", "f", agent="combination", what=f"The combination{pair}")
        ctx.derive("open", "f", rung="the combination is helping")

    # A combination that did not help is judged like any trial: too short, or of unknown length,
    # it is neither adequate nor a failure (clinical notes, principle 2; an unknown duration is
    # asked, never assumed [L4]), and Step 4 waits for it.
    def _judged_combination():
        return (m.kind == "combination") & (m.value == "yes") & (m.pair != "other") & any_of("outcome", FAILED)

    @when_all(phase("ladder"), c.f << _judged_combination() & (+m.weeks))
    @consequent("combination_too_short")
    def combination_too_short(ctx):
        f = ctx.fact("f")
        needed, floor = _shortest_trial(k, f.get("agents", ""))
        if f["weeks"] >= needed:
            return
        ctx.finding("COMBINATION_TOO_SHORT", "f", pair=_pair(k, f), weeks=f"{f['weeks']:g}", **floor)
        ctx.derive("open", "f", rung="combination long enough to judge")

    @when_all(phase("ladder"), c.f << _judged_combination() & (-m.weeks))
    @consequent("combination_duration_unknown")
    def combination_duration_unknown(ctx):
        f = ctx.fact("f")
        _, floor = _shortest_trial(k, f.get("agents", ""))
        ctx.finding("COMBINATION_DURATION_UNKNOWN", "f", pair=_pair(k, f), **floor)
        ctx.derive("open", "f", rung="how long the combination was taken")

    for kind in NOT_FEASIBLE:
        _not_feasible(kind)

    @when_all(
        phase("ladder"),
        c.p << (m.kind == "pain_pattern") & (m.value == "focal"),
        none(_tried("capsaicin8")),
        none(_barred("capsaicin8")),
    )
    @consequent("focal_capsaicin8_not_tried")
    def focal_capsaicin8_not_tried(ctx):
        ctx.finding("FOCAL_CAPSAICIN8", "p")
        ctx.derive("open", "p", rung="capsaicin 8% patch for focal pain")

    # Tried for focal pain, effect unknown: asked, never assumed to have failed (principle 5).
    @when_all(
        phase("ladder"),
        c.p << (m.kind == "pain_pattern") & (m.value == "focal"),
        c.t << _tried("capsaicin8") & (m.outcome == "unknown"),
    )
    @consequent("focal_capsaicin8_effect_unknown")
    def focal_capsaicin8_effect_unknown(ctx):
        ctx.derive("open", "p", "t", rung="effect of the capsaicin 8% patch")

    # Botulinum toxin A is given by pain specialists: advised, but it does not hold back referral.
    @when_all(
        phase("ladder"),
        c.p << (m.kind == "pain_pattern") & (m.value == "focal"),
        none(_tried("botox")),
        none(_barred("botox")),
    )
    @consequent("focal_botox_not_tried")
    def focal_botox_not_tried(ctx):
        ctx.finding("FOCAL_BOTOX", "p")

    @when_all(phase("ladder"), c.t << _tried("capsaicin_cream"), none(_tried("capsaicin8")))
    @consequent("capsaicin_cream_is_not_the_patch")
    def capsaicin_cream_is_not_the_patch(ctx):
        ctx.finding("CAPSAICIN_CREAM_NOT_PATCH", "t")

    # A topical agent or focal procedure that helps: no Step 4 past it (the seed's Step 4 follows
    # the failure of topical agents too [1]); reassess instead.
    @when_all(
        phase("ladder"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & (m.outcome == "good") & any_of("cls", HELPING_CLASSES),
    )
    @consequent("topical_or_procedure_helping")
    def topical_or_procedure_helping(ctx):
        shown = k.agent_label(ctx.fact("t")["agent"])
        ctx.finding("TRIAL_RESPONDING", "t", agent=shown, what=shown[0].upper() + shown[1:])
        ctx.derive("open", "t", rung=f"{shown} is helping")

    @when_all(phase("ladder"), c.p << (m.kind == "pain_pattern") & (m.value == "unknown"))
    @consequent("pain_pattern_unknown")
    def pain_pattern_unknown(ctx):
        ctx.finding("PAIN_PATTERN_UNKNOWN", "p")
        ctx.derive("open", "p", rung="focal or diffuse pain")
