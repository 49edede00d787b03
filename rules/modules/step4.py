"""Step 4, and only then: referral to a pain specialist or multidisciplinary centre [1] for spinal
cord stimulation or high-frequency rTMS [2]; strong opioids only as a last resort [2], contested
and specialist-led. CBT and physical therapy [1] and realistic goals [7, 5] as soon as an adequate
trial has failed on any rung. A strong opioid already taken while earlier rungs are open is said
so, with no escalation.

Nothing past the ladder while any earlier rung is open (clinical notes, principle 1).
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase
from .contraindications import contraindicated

STEP4_CODES = ("STEP4_REFERRAL", "STRONG_OPIOIDS_LAST_RESORT", "CBT_PHYSIO", "GOAL_FUNCTION")
# An adequate trial that failed on efficacy establishes resistance on its rung.
FAILED = ("no_benefit", "partial", "waned")
OUTCOME_WORDS = {
    "no_benefit": "no benefit",
    "partial": "partial benefit",
    "good": "helping",
    "waned": "helped at first, then stopped working",
}


def _on_board(ctx) -> str:
    """A strong opioid still taken (or not said to be stopped) when Step 4 is reached: named in the
    strong-opioid card, which must not read as advice to start or raise one."""
    k = ctx.k
    taken = [
        t for t in ctx.base("trial") if t["cls"] == "opioid_strong" and t["tried"] == "yes" and t.get("current") != "no"
    ]
    parts = []
    for t in sorted(taken, key=lambda t: t["agent"]):
        dose = f" {t['dose']:g} mg/day" if "dose" in t else ""
        outcome = f", {OUTCOME_WORDS[t['outcome']]}" if t.get("outcome") in OUTCOME_WORDS else ""
        phrase = "strong_opioid_at_step4" if t.get("current") == "yes" else "strong_opioid_at_step4_maybe"
        parts.append(k.phrases[phrase].format(agent=k.agent_label(t["agent"]), dose=dose, outcome=outcome))
    return "".join(parts)


def _no_strong_opioid(ctx) -> bool:
    strong = [a for a, spec in ctx.k.agents.items() if spec["class"] == "opioid_strong"]
    return all(contraindicated(ctx, a) for a in strong)


def define(k):
    @when_all(phase("conclude"), none(m.kind == "open"))
    @consequent("treatment_resistant")
    def treatment_resistant(ctx):
        # Nothing is open: the conclusion rests on every trial's status and every answer that
        # closed a rung (work-up, red flags, combination, pain pattern, renal function...).
        because = [d["fact"]["id"] for d in ctx.derived_of("status")]
        because += [fid for fid in ctx.base_ids() if not fid.startswith("trial.")]
        # Said as it is: with no gabapentinoid (or no SNRI or TCA) possible the combination was
        # never tried; with a drug contraindicated, only the trials that could be given failed.
        none_possible = ctx.derived_of("no_gabapentinoid") + ctx.derived_of("no_antidepressant")
        why = "; ".join(d["fact"]["why"] for d in none_possible)
        if any(d["fact"].get("contraindicated") for d in none_possible) or len(none_possible) > 1:
            basis = k.phrases["step4_basis_not_feasible"].format(why=why)
        elif none_possible:
            basis = k.phrases["step4_basis_no_gabapentinoid"].format(why=why)
        else:
            basis = k.phrases["step4_basis"]
        params = {"STEP4_REFERRAL": {"basis": basis}, "STRONG_OPIOIDS_LAST_RESORT": {"on_board": _on_board(ctx)}}
        for code in STEP4_CODES:
            if code == "STRONG_OPIOIDS_LAST_RESORT" and _no_strong_opioid(ctx):
                continue  # every strong opioid entered as contraindicated: CONTRAINDICATED says so
            ctx.finding_because(code, because, **params.get(code, {}))

    # Once per evaluation, not once per open rung: the finding lists every open rung anyway.
    @when_all(phase("conclude"))
    @consequent("step4_not_yet")
    def step4_not_yet(ctx):
        opened = ctx.derived_of("open")
        if not opened:
            return
        named = {d["fact"]["trial"] for d in opened if "trial" in d["fact"]}
        rungs = sorted({d["fact"]["rung"] for d in opened if d["fact"].get("class_of", "") not in named})
        diffuse = any(f["value"] == "diffuse" for f in ctx.base("pain_pattern"))
        focal = "" if diffuse else k.phrases["step4_not_yet_focal"]
        ctx.finding_because("STEP4_NOT_YET", [d["fact"]["id"] for d in opened], open="; ".join(rungs), focal=focal)

    @when_all(
        phase("conclude"),
        c.t << (m.kind == "trial") & (m.cls == "opioid_strong") & (m.tried == "yes") & (m.current != "no"),
    )
    @consequent("strong_opioid_already")
    def strong_opioid_already(ctx):
        opened = ctx.derived_of("open")
        if not opened:
            return  # Step 4 reached: STRONG_OPIOIDS_LAST_RESORT speaks for it
        t = ctx.fact("t")
        dose = f" {t['dose']:g} mg/day" if "dose" in t else ""
        ctx.finding("STRONG_OPIOID_ON_BOARD", "t", agent=k.agent_label(t["agent"]), dose=dose)

    @when_all(
        phase("conclude"),
        c.s << (m.kind == "status") & (m.ok == True) & (m.how == "adequate") & any_of("outcome", FAILED),
    )
    @consequent("resistance_on_a_rung")
    def resistance_on_a_rung(ctx):
        ctx.finding("EXPECTATIONS", "s")
        ctx.finding("CBT_PHYSIO", "s")
        ctx.finding("GOAL_FUNCTION", "s")
