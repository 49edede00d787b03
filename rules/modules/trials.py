"""Was each prior trial adequate? (seed: "Critical pitfalls", [1]; clinical notes [L1, L2])

assess: the problems of each first-line trial - under-dosed, not divided, too short, details
        missing, stopped for side effects, above the renal maximum, no threshold in the seed.
status: a trial with no problem is adequate; one stopped for side effects failed on
        tolerability; anything else is not adequate - and never called a failure.
"""
from durable.lang import c, m, none, when_all

from ..engine import any_of, consequent, phase

FIRST_LINE = ("gabapentinoid", "snri", "tca")


def _first_line_trial():
    return (m.kind == "trial") & (m.tried == "yes") & any_of("cls", FIRST_LINE)


def _judged_on_efficacy():
    """A trial stopped for side effects failed on tolerability: its dose and duration are not
    judged (there is nothing to titrate), only the tolerability finding speaks for it."""
    return _first_line_trial() & (m.outcome != "side_effects")


def _fmt(x):
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def define(k):
    label = k.agent_label
    divided_min = k.thresholds["gabapentin"]["divided_doses_min"]

    @when_all(phase("assess"), c.t << _judged_on_efficacy() & (+m.dose),
              c.g << (m.kind == "target") & (m.agent == c.t.agent) & (+m.dose) & (m.dose > c.t.dose))
    @consequent("trial_underdosed")
    def trial_underdosed(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding("TRIAL_UNDERDOSED", "t", "g", agent=label(t["agent"]), dose=_fmt(t["dose"]),
                    target=_fmt(g["dose"]), requirement=g["requirement"], label=g["label"])
        ctx.derive("problem", "t", "g", agent=t["agent"], type="dose")

    @when_all(phase("assess"), c.t << _first_line_trial() & (+m.dose),
              c.g << (m.kind == "target") & (m.agent == c.t.agent) & (m.renal == True) & (m.max < c.t.dose))
    @consequent("renal_dose_exceeded")
    def renal_dose_exceeded(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding("RENAL_DOSE_EXCEEDED", "t", "g", agent=label(t["agent"]), dose=_fmt(t["dose"]),
                    max=_fmt(g["max"]), crcl=_fmt(g["crcl"]), dpd=g["dpd"], label=g["renal_label"])
        ctx.derive("open", "t", "g", rung=f"{label(t['agent'])} dose above the renal maximum")
        # "reduce the dose before judging the trial": a dose above the renal maximum is never adequate.
        ctx.derive("problem", "t", "g", agent=t["agent"], type="renal_excess")

    @when_all(phase("assess"), c.t << _judged_on_efficacy() & (m.agent == "gabapentin") & (+m.dpd) & (m.dpd < divided_min),
              c.g << (m.kind == "target") & (m.agent == "gabapentin") & (m.once_daily == False))
    @consequent("gabapentin_not_divided")
    def gabapentin_not_divided(ctx):
        ctx.finding("TRIAL_NOT_DIVIDED", "t", "g", dpd=ctx.fact("t")["dpd"])
        ctx.derive("problem", "t", "g", agent="gabapentin", type="divided")

    @when_all(phase("assess"), c.t << _judged_on_efficacy() & (-m.dose) & (m.agent != "tca"),
              c.g << (m.kind == "target") & (m.agent == c.t.agent) & (+m.dose))
    @consequent("trial_dose_missing")
    def trial_dose_missing(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding("TRIAL_DETAILS_MISSING", "t", "g", agent=label(t["agent"]), missing="the daily dose",
                    requirement=g["requirement"], label=g["label"])
        ctx.derive("problem", "t", "g", agent=t["agent"], type="missing")

    # TCA: 6-8 weeks including 2 at the maximum tolerated dose [1]
    tca = k.thresholds["tca"]
    _tca_too_short_rule("tca_too_short_overall", (m.weeks < tca["min_weeks"]))
    _tca_too_short_rule("tca_too_short_at_max", (+m.weeks_at_max) & (m.weeks_at_max < tca["min_weeks_at_max_dose"]))

    @when_all(phase("assess"), c.t << _judged_on_efficacy() & (m.agent == "tca") & ((-m.weeks) | (-m.weeks_at_max)),
              c.g << (m.kind == "target") & (m.agent == "tca"))
    @consequent("tca_duration_missing")
    def tca_duration_missing(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        missing = "the duration" if "weeks" not in t else "the weeks at the maximum tolerated dose"
        ctx.finding("TRIAL_DETAILS_MISSING", "t", "g", agent="TCA", missing=missing,
                    requirement=g["requirement"], label=g["label"])
        ctx.derive("problem", "t", "g", agent="tca", type="missing")

    @when_all(phase("assess"), c.t << _first_line_trial() & (m.outcome == "side_effects"),
              c.g << (m.kind == "target") & (m.agent == c.t.agent))
    @consequent("trial_not_tolerated")
    def trial_not_tolerated(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        at_dose = f" at {_fmt(t['dose'])} mg/day" if "dose" in t else ""
        ctx.finding("TRIAL_NOT_TOLERATED", "t", agent=label(t["agent"]), at_dose=at_dose, label=g["label"])
        ctx.derive("problem", "t", agent=t["agent"], type="tolerability")

    for agent, spec in k.agents.items():
        if spec["class"] in FIRST_LINE and not spec["threshold"]:
            _no_threshold_rule(agent, spec["label"])

    # -- status ------------------------------------------------------------------------------
    @when_all(phase("status"), c.t << _first_line_trial(),
              c.g << (m.kind == "target") & (m.agent == c.t.agent),
              none((m.kind == "problem") & (m.agent == c.t.agent)))
    @consequent("trial_adequate")
    def trial_adequate(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        if t["agent"] == "tca":
            detail = f"{_fmt(t['weeks'])} weeks, {_fmt(t['weeks_at_max'])} at the maximum tolerated dose"
        else:
            detail = f"{_fmt(t['dose'])} mg/day, target {_fmt(g['dose'])}"
        outcome = {"no_benefit": "no benefit", "partial": "partial benefit", "good": "good benefit"}.get(
            t["outcome"], "not stated")
        ctx.finding("TRIAL_ADEQUATE", "t", "g", agent=label(t["agent"]), detail=detail, outcome=outcome,
                    label=g["label"])
        ctx.derive("status", "t", "g", agent=t["agent"], cls=t["cls"], ok=True, how="adequate",
                   outcome=t["outcome"])
        if t["outcome"] == "good":
            ctx.finding("TRIAL_RESPONDING", "t", agent=label(t["agent"]), label=g["label"])
            ctx.derive("open", "t", rung=f"{label(t['agent'])} is helping")
        elif t["outcome"] == "unknown":
            # Step 4 needs trials that have failed [1]: an unknown effect is missing, not assumed.
            ctx.derive("open", "t", rung=f"effect of the {label(t['agent'])} trial")

    @when_all(phase("status"), c.t << _first_line_trial(),
              c.p << (m.kind == "problem") & (m.agent == c.t.agent) & (m.type == "tolerability"))
    @consequent("trial_failed_on_tolerability")
    def trial_failed_on_tolerability(ctx):
        t = ctx.fact("t")
        ctx.derive("status", "t", "p", agent=t["agent"], cls=t["cls"], ok=True, how="not_tolerated",
                   outcome="side_effects")


def _no_threshold_rule(agent, shown):
    @when_all(phase("assess"), c.t << _first_line_trial() & (m.agent == agent))
    @consequent(f"no_threshold_{agent}")
    def no_threshold(ctx):
        ctx.finding("SEED_SILENT_DOSE", "t", agent=shown)
        ctx.derive("problem", "t", agent=agent, type="unverified")


def _tca_too_short_rule(name, too_short):
    @when_all(phase("assess"), c.t << _judged_on_efficacy() & (m.agent == "tca") & (+m.weeks) & too_short,
              c.g << (m.kind == "target") & (m.agent == "tca"))
    @consequent(name)
    def tca_too_short(ctx):
        t = ctx.fact("t")
        ctx.finding("TCA_TOO_SHORT", "t", "g", weeks=_fmt(t["weeks"]), weeks_at_max=_fmt(t.get("weeks_at_max", "?")))
        ctx.derive("problem", "t", "g", agent="tca", type="duration")
