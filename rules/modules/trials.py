"""Was each prior trial adequate? (seed: "Critical pitfalls", [1]; clinical notes [L1, L2, L4])

assess: the problems of each trial - under-dosed, not divided, too short, not raised to the maximum
        tolerated dose, details missing, stopped for side effects, above the renal maximum, no
        threshold in the seed. Durations ([L4]) are judged for opioid and lidocaine trials too. A
        drug entered as contraindicated is judged all the same, but what would be done about its
        trial (raise it, continue it, divide it, tell its details) is not said: it is not to be given.
status: a first-line trial with no problem is adequate; one stopped for side effects failed on
        tolerability; anything else is not adequate - and never called a failure. Missing details
        are gathered into one finding per trial.
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase
from .advice import avoid, older_caution
from .contraindications import contraindicated, possible

FIRST_LINE = ("gabapentinoid", "snri", "tca")


def _first_line_trial():
    return (m.kind == "trial") & (m.tried == "yes") & any_of("cls", FIRST_LINE)


def _judged_on_efficacy():
    """A trial stopped for side effects failed on tolerability: its dose and duration are not
    judged (there is nothing to titrate), only the tolerability finding speaks for it."""
    return _first_line_trial() & (m.outcome != "side_effects")


def _fmt(x):
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _cite(text, sources):
    return f"{text} [{', '.join(sources)}]"


def define(k):
    label = k.agent_label
    divided_min = k.thresholds["gabapentin"]["divided_doses_min"]

    @when_all(
        phase("assess"),
        c.t << _judged_on_efficacy() & (+m.dose),
        c.g << (m.kind == "target") & (m.agent == c.t.agent) & (+m.dose) & (m.dose > c.t.dose),
    )
    @consequent("trial_underdosed")
    def trial_underdosed(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        caution, caution_src = older_caution(ctx, [t["cls"]])
        why = avoid(ctx, t["agent"])  # not advised to raise a drug to be avoided here [L7]
        if why:
            caution, caution_src = " " + k.phrases["raise_not_advised"].format(why=why), "L7"
        if not contraindicated(ctx, t["agent"]):  # CONTRAINDICATED says it: not to be raised
            ctx.finding(
                "TRIAL_UNDERDOSED",
                "t",
                "g",
                agent=label(t["agent"]),
                dose=_fmt(t["dose"]),
                target=_fmt(g["dose"]),
                requirement=g["requirement"],
                label=g["label"],
                caution=caution,
                caution_src=caution_src,
            )
        ctx.derive("problem", "t", "g", agent=t["agent"], type="dose")

    @when_all(
        phase("assess"),
        c.t << _first_line_trial() & (+m.dose),
        c.g << (m.kind == "target") & (m.agent == c.t.agent) & (m.renal == True) & (m.max < c.t.dose),
    )
    @consequent("renal_dose_exceeded")
    def renal_dose_exceeded(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding(
            "RENAL_DOSE_EXCEEDED",
            "t",
            "g",
            agent=label(t["agent"]),
            dose=_fmt(t["dose"]),
            max=_fmt(g["max"]),
            basis=g["basis"],
            dpd=g["dpd"],
            label=g["renal_label"],
        )
        ctx.derive("open", "t", "g", rung=f"{label(t['agent'])} dose above the renal maximum")
        # "reduce the dose before judging the trial": a dose above the renal maximum is never adequate.
        ctx.derive("problem", "t", "g", agent=t["agent"], type="renal_excess")

    @when_all(
        phase("assess"),
        c.t << _judged_on_efficacy() & (m.agent == "gabapentin") & (+m.dpd) & (m.dpd < divided_min),
        c.g << (m.kind == "target") & (m.agent == "gabapentin") & (m.once_daily == False),
    )
    @consequent("gabapentin_not_divided")
    def gabapentin_not_divided(ctx):
        g = ctx.fact("g")
        if not contraindicated(ctx, "gabapentin"):
            ctx.finding(
                "TRIAL_NOT_DIVIDED", "t", "g", dpd=ctx.fact("t")["dpd"], requirement=g["requirement"], label=g["label"]
            )
        ctx.derive("problem", "t", "g", agent="gabapentin", type="divided")

    # Doses a day unknown is not "divided": asked, never accepted [1].
    @when_all(
        phase("assess"),
        c.t << _judged_on_efficacy() & (m.agent == "gabapentin") & (-m.dpd),
        c.g << (m.kind == "target") & (m.agent == "gabapentin") & (m.once_daily == False),
    )
    @consequent("gabapentin_doses_a_day_missing")
    def gabapentin_doses_a_day_missing(ctx):
        ctx.derive(
            "problem",
            "t",
            "g",
            agent="gabapentin",
            type="missing",
            what="the number of doses a day",
            need=_cite("divided doses", ["1"]),
        )

    @when_all(
        phase("assess"),
        c.t << _judged_on_efficacy() & (-m.dose) & (m.agent != "tca"),
        c.g << (m.kind == "target") & (m.agent == c.t.agent) & (+m.dose),
    )
    @consequent("trial_dose_missing")
    def trial_dose_missing(ctx):
        g = ctx.fact("g")
        ctx.derive(
            "problem",
            "t",
            "g",
            agent=ctx.fact("t")["agent"],
            type="missing",
            what="the daily dose",
            need=_cite(g["requirement"], [g["label"]]),
        )

    # TCA: the maximum tolerated dose - raised until side effects stopped it, or the usual maximum
    # reached [L4]; the highest dose given is not enough to say so.
    tca = k.thresholds["tca"]
    usual_max = tca["usual_max_mg_day"]
    below_usual_max = (-m.dose) | (m.dose < usual_max)

    @when_all(
        phase("assess"), c.t << _judged_on_efficacy() & (m.agent == "tca") & (m.max_tolerated == "no") & below_usual_max
    )
    @consequent("tca_not_at_max_tolerated")
    def tca_not_at_max_tolerated(ctx):
        t = ctx.fact("t")
        caution, caution_src = older_caution(ctx, ["tca"])
        if not contraindicated(ctx, "tca"):
            ctx.finding(
                "TCA_NOT_MAX_TOLERATED",
                "t",
                dose=_fmt(t.get("dose", "?")),
                usual_max=usual_max,
                caution=caution,
                caution_src=caution_src,
            )
        ctx.derive("problem", "t", agent="tca", type="dose")

    @when_all(
        phase("assess"),
        c.t << _judged_on_efficacy() & (m.agent == "tca") & (m.max_tolerated == "unknown") & below_usual_max,
    )
    @consequent("tca_max_tolerated_missing")
    def tca_max_tolerated_missing(ctx):
        ctx.derive(
            "problem",
            "t",
            agent="tca",
            type="missing",
            what="whether the dose was raised until side effects stopped further increases",
            need=_cite(f"the maximum tolerated dose (or the usual maximum, {usual_max} mg/day)", ["L4"]),
        )

    for name, spec in k.thresholds["durations"].items():
        _duration_rules(k, name, spec)

    @when_all(phase("assess"), c.t << _first_line_trial() & (m.outcome == "side_effects"))
    @consequent("trial_not_tolerated")
    def trial_not_tolerated(ctx):
        t = ctx.fact("t")
        at_dose = f" at {_fmt(t['dose'])} mg/day" if "dose" in t else ""
        ctx.finding("TRIAL_NOT_TOLERATED", "t", agent=label(t["agent"]), at_dose=at_dose)
        ctx.derive("problem", "t", agent=t["agent"], type="tolerability")

    for agent, spec in k.agents.items():
        if spec["class"] in FIRST_LINE and not spec["threshold"]:
            _no_threshold_rule(agent, spec["label"])

    # -- status ------------------------------------------------------------------------------
    # Not asked of a drug entered as contraindicated (the intake asks nothing more of it).
    @when_all(
        phase("status"),
        c.t << (m.kind == "trial") & (m.tried == "yes") & possible(),
        c.p << (m.kind == "problem") & (m.agent == c.t.agent) & (m.type == "missing"),
    )
    @consequent("trial_details_missing")
    def trial_details_missing(ctx):
        t = ctx.fact("t")
        problems = [
            d for d in ctx.derived_of("problem") if d["fact"]["agent"] == t["agent"] and d["fact"]["type"] == "missing"
        ]
        what = sorted({d["fact"]["what"] for d in problems})
        needs = sorted({d["fact"]["need"] for d in problems})  # sorted: never the order of firing
        srcs = ", ".join(sorted({s for n in needs for s in n[n.rindex("[") + 1 : -1].split(", ")}))
        ctx.finding_because(
            "TRIAL_DETAILS_MISSING",
            [t["id"]] + [d["fact"]["id"] for d in problems],
            agent=label(t["agent"]),
            missing="; ".join(what),
            requirement="; ".join(needs),
            srcs=srcs,
        )

    @when_all(
        phase("status"),
        c.t << _first_line_trial(),
        c.g << (m.kind == "target") & (m.agent == c.t.agent),
        none((m.kind == "problem") & (m.agent == c.t.agent)),
    )
    @consequent("trial_adequate")
    def trial_adequate(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        if t["agent"] == "tca":
            detail = f"{_fmt(t['weeks'])} weeks, {_fmt(t['weeks_at_max'])} at the maximum tolerated dose"
            srcs = g["label"]
        else:
            detail = f"{_fmt(t['dose'])} mg/day, target {_fmt(g['dose'])}; {_fmt(t['weeks'])} weeks"
            srcs = f"{g['label']}, L4"
        outcome = {
            "no_benefit": "no benefit",
            "partial": "partial benefit",
            "good": "good benefit",
            "waned": "helped at first, then stopped working",
        }.get(t["outcome"], "not stated")
        ctx.finding("TRIAL_ADEQUATE", "t", "g", agent=label(t["agent"]), detail=detail, outcome=outcome, srcs=srcs)
        ctx.derive("status", "t", "g", agent=t["agent"], cls=t["cls"], ok=True, how="adequate", outcome=t["outcome"])
        if t["outcome"] == "good":
            ctx.finding(
                "TRIAL_RESPONDING", "t", agent=label(t["agent"]), what=f"{label(t['agent'])} at an adequate dose"
            )
            ctx.derive("open", "t", rung=f"{label(t['agent'])} is helping")
        elif t["outcome"] == "unknown":
            # Step 4 needs trials that have failed [1]: an unknown effect is missing, not assumed.
            ctx.derive("open", "t", rung=f"effect of the {label(t['agent'])} trial")

    @when_all(
        phase("status"),
        c.t << _first_line_trial(),
        c.p << (m.kind == "problem") & (m.agent == c.t.agent) & (m.type == "tolerability"),
    )
    @consequent("trial_failed_on_tolerability")
    def trial_failed_on_tolerability(ctx):
        t = ctx.fact("t")
        ctx.derive(
            "status", "t", "p", agent=t["agent"], cls=t["cls"], ok=True, how="not_tolerated", outcome="side_effects"
        )


def _duration_rules(k, name, spec):
    """[L4]: an adequate trial lasts this long (with weeks at the maximum tolerated dose where
    required); shorter is too short to judge, unknown is asked. One rule per duration group."""
    need = _cite(spec["shown"], spec["sources"])
    at_max = spec.get("min_weeks_at_max")
    judged = (m.kind == "trial") & any_of("agent", spec["agents"]) & (m.tried == "yes") & (m.outcome != "side_effects")
    too_short = (+m.weeks) & (m.weeks < spec["min_weeks"])
    if at_max:
        too_short = too_short | ((+m.weeks_at_max) & (m.weeks_at_max < at_max))

    @when_all(phase("assess"), c.t << judged & too_short)
    @consequent(f"too_short_{name}")
    def trial_too_short(ctx):
        t = ctx.fact("t")
        weeks = f"{_fmt(t['weeks'])} week(s)" if "weeks" in t else "duration not known"
        if at_max:
            weeks += (
                f", {_fmt(t['weeks_at_max'])} at the maximum tolerated dose"
                if "weeks_at_max" in t
                else ", weeks at the maximum tolerated dose not known"
            )
        # A drug the seed gives no step for (topical lidocaine, weak opioids): said too short, and
        # that the seed is silent on it, without ranking as a rung of the ladder.
        if not contraindicated(ctx, t["agent"]):
            ctx.finding(
                "TRIAL_TOO_SHORT" if t["cls"] in FIRST_LINE else "OTHER_TRIAL_TOO_SHORT",
                "t",
                agent=k.agent_label(t["agent"]),
                weeks=weeks,
                requirement=need,
                srcs=", ".join(spec["sources"]),
            )
        ctx.derive("problem", "t", agent=t["agent"], type="duration")

    # Too short is said for every trial; an unknown duration is asked only where adequacy is judged.
    asked = [a for a in spec["agents"] if k.agents[a]["threshold"] and k.agents[a]["class"] in FIRST_LINE]
    if not asked:
        return
    asked_trial = (m.kind == "trial") & any_of("agent", asked) & (m.tried == "yes") & (m.outcome != "side_effects")

    @when_all(phase("assess"), c.t << asked_trial & (-m.weeks))
    @consequent(f"duration_missing_{name}")
    def duration_missing(ctx):
        ctx.derive("problem", "t", agent=ctx.fact("t")["agent"], type="missing", what="how many weeks", need=need)

    if at_max:

        @when_all(phase("assess"), c.t << asked_trial & (-m.weeks_at_max))
        @consequent(f"weeks_at_max_missing_{name}")
        def weeks_at_max_missing(ctx):
            ctx.derive(
                "problem",
                "t",
                agent=ctx.fact("t")["agent"],
                type="missing",
                what="how many weeks at the maximum tolerated dose",
                need=need,
            )


def _no_threshold_rule(agent, shown):
    @when_all(phase("assess"), c.t << _first_line_trial() & (m.agent == agent))
    @consequent(f"no_threshold_{agent}")
    def no_threshold(ctx):
        ctx.finding("SEED_SILENT_DOSE", "t", agent=shown)
        ctx.derive("problem", "t", agent=agent, type="unverified")
