"""Is a drug itself the problem? Gabapentin in the elderly, and renal dosing [4, L1, L2]."""
from durable.lang import c, m, when_all

from ..engine import consequent, phase


def _gabapentinoid_trial():
    return (m.kind == "trial") & (m.tried == "yes") & (m.cls == "gabapentinoid")


def define(k):
    elderly = k.thresholds["elderly"]["min_age"]
    label = k.agent_label

    def elderly_on_gabapentin():
        return (c.a << (m.kind == "age") & (m.known == True) & (m.years >= elderly),
                c.t << (m.kind == "trial") & (m.agent == "gabapentin") & (m.tried == "yes"))

    @when_all(phase("ladder"), *elderly_on_gabapentin(), c.w << (m.kind == "weakness_fatigue") & (m.value == "yes"))
    @consequent("elderly_gabapentin_weakness")
    def elderly_gabapentin_weakness(ctx):
        ctx.finding("ELDERLY_GABAPENTIN_WEAKNESS", "a", "t", "w", age=ctx.fact("a")["years"])
        ctx.derive("open", "a", "t", "w", rung="gabapentin review (weakness/fatigue)")

    @when_all(phase("ladder"), *elderly_on_gabapentin(), c.w << (m.kind == "weakness_fatigue") & (m.value == "unknown"))
    @consequent("elderly_gabapentin_ask")
    def elderly_gabapentin_ask(ctx):
        ctx.finding("ELDERLY_GABAPENTIN_ASK", "a", "t", "w", age=ctx.fact("a")["years"])
        ctx.derive("open", "a", "t", "w", rung="weakness/fatigue on gabapentin")

    @when_all(phase("ladder"), c.t << _gabapentinoid_trial(), c.r << (m.kind == "renal") & (m.known == False))
    @consequent("renal_function_unknown")
    def renal_function_unknown(ctx):
        ctx.finding("RENAL_FUNCTION_UNKNOWN", "t", "r", agent=label(ctx.fact("t")["agent"]))
        ctx.derive("open", "t", "r", rung="renal function")

    @when_all(phase("ladder"), c.t << _gabapentinoid_trial(),
              c.g << (m.kind == "target") & (m.agent == c.t.agent) & (m.renal == True) & (m.capped == True))
    @consequent("renal_dose_adjusted")
    def renal_dose_adjusted(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding("RENAL_DOSE_ADJUSTED", "t", "g", agent=label(t["agent"]), crcl=f"{g['crcl']:g}", min=g["min"],
                    max=g["max"], dpd=g["dpd"], target=g["dose"], label=g["renal_label"])
