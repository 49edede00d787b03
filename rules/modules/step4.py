"""Step 4, and only then: referral to a pain specialist or multidisciplinary centre [1] for spinal
cord stimulation or high-frequency rTMS [2]; strong opioids only as a last resort [2]; CBT and
physical therapy [1]; realistic expectations [7, 5].

Nothing past the ladder while any earlier rung is open (clinical notes, principle 1).
"""
from durable.lang import c, m, none, when_all

from ..engine import any_of, consequent, phase

STEP4_CODES = ("STEP4_REFERRAL", "STRONG_OPIOIDS_LAST_RESORT", "CBT_PHYSIO", "GOAL_FUNCTION")


def define(k):
    @when_all(phase("conclude"), none(m.kind == "open"))
    @consequent("treatment_resistant")
    def treatment_resistant(ctx):
        # Nothing is open: the conclusion rests on every trial's status and every answer that
        # closed a rung (work-up, red flags, combination, pain pattern, renal function...).
        because = [d["fact"]["id"] for d in ctx.derived_of("status")]
        because += [fid for fid in ctx.base_ids() if not fid.startswith("trial.")]
        for code in STEP4_CODES:
            ctx.finding_because(code, because)

    # Once per evaluation, not once per open rung: the finding lists every open rung anyway.
    @when_all(phase("conclude"))
    @consequent("step4_not_yet")
    def step4_not_yet(ctx):
        opened = ctx.derived_of("open")
        if not opened:
            return
        rungs = sorted({d["fact"]["rung"] for d in opened})
        ctx.finding_because("STEP4_NOT_YET", [d["fact"]["id"] for d in opened], open="; ".join(rungs))

    @when_all(phase("conclude"), c.s << (m.kind == "status") & (m.ok == True) &
              any_of("outcome", ("no_benefit", "partial")))
    @consequent("realistic_expectations")
    def realistic_expectations(ctx):
        ctx.finding("EXPECTATIONS", "s")
