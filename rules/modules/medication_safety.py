"""Is a drug itself the problem? Gabapentin in the elderly [4]; sedating drugs at 65+ [L6]; renal
dosing [4, L1, L2]; duloxetine to avoid [L7]; a gabapentinoid together with an opioid [L5]."""

from durable.lang import c, m, when_all

from ..dsl import any_of, consequent, phase
from .advice import OPIOIDS, avoid


def _gabapentinoid_trial():
    return (m.kind == "trial") & (m.tried == "yes") & (m.cls == "gabapentinoid")


def _being_taken():
    """Tried, not stopped for side effects, and not known to be stopped (advice._taken reads
    the same in a consequent)."""
    return (m.kind == "trial") & (m.tried == "yes") & (m.outcome != "side_effects") & (m.current != "no")


def define(k):
    elderly = k.thresholds["elderly"]
    label = k.agent_label

    # Only a gabapentin still taken can be the cause now: one stopped (for side effects or
    # otherwise) is neither asked about nor left open as a rung that holds back Step 4.
    def elderly_on_gabapentin():
        return (
            c.a << (m.kind == "age") & (m.known == True) & (m.years >= elderly["min_age"]),
            c.t << _being_taken() & (m.agent == "gabapentin"),
        )

    @when_all(phase("ladder"), *elderly_on_gabapentin(), c.w << (m.kind == "weakness_fatigue") & (m.value == "yes"))
    @consequent("elderly_gabapentin_weakness")
    def elderly_gabapentin_weakness(ctx):
        ctx.finding("ELDERLY_GABAPENTIN_WEAKNESS", "a", "t", "w", age=ctx.fact("a")["years"])
        ctx.derive("open", "a", "t", "w", rung="gabapentin review (weakness/fatigue)")

    @when_all(
        phase("ladder"),
        *elderly_on_gabapentin(),
        c.w << (m.kind == "adverse") & (m.agent == "gabapentin") & (m.effect == "weakness_fatigue"),
    )
    @consequent("elderly_gabapentin_weakness_reported")
    def elderly_gabapentin_weakness_reported(ctx):
        ctx.finding("ELDERLY_GABAPENTIN_WEAKNESS", "a", "t", "w", age=ctx.fact("a")["years"])
        ctx.derive("open", "a", "t", "w", rung="gabapentin review (weakness/fatigue)")

    @when_all(phase("ladder"), *elderly_on_gabapentin(), c.w << (m.kind == "weakness_fatigue") & (m.value == "unknown"))
    @consequent("elderly_gabapentin_ask")
    def elderly_gabapentin_ask(ctx):
        if any(a["agent"] == "gabapentin" and a["effect"] == "weakness_fatigue" for a in ctx.base("adverse")):
            return  # reported as a side effect: nothing to ask
        ctx.finding("ELDERLY_GABAPENTIN_ASK", "a", "t", "w", age=ctx.fact("a")["years"])
        ctx.derive("open", "a", "t", "w", rung="weakness/fatigue on gabapentin")

    # Whether the patient is elderly decides the gabapentin pitfall [4]: unknown is asked (the intake
    # asks the age) and never taken as young (clinical notes, principle 5), unless weakness/fatigue
    # is already excluded. Only a rung, listed by "Not yet Step 4": no card of its own.
    @when_all(
        phase("ladder"),
        c.a << (m.kind == "age") & (m.known == False),
        c.t << _being_taken() & (m.agent == "gabapentin"),
        c.w << (m.kind == "weakness_fatigue") & (m.value != "no"),
    )
    @consequent("age_unknown_on_gabapentin")
    def age_unknown_on_gabapentin(ctx):
        ctx.derive("open", "a", "t", "w", rung="age (gabapentin in the elderly)")

    # Older patients on a sedating drug with a side effect that may be the drug itself [4, L6]: one
    # finding for all such drugs (each firing computes the same list, so the finding is made once).
    @when_all(
        phase("ladder"), c.o << (m.kind == "older"), c.t << _being_taken() & any_of("cls", elderly["sedating_classes"])
    )
    @consequent("elderly_drug_review")
    def elderly_drug_review(ctx):
        age = ctx.fact("o")["years"]
        said = {f["kind"]: f["value"] for f in ctx.base("weakness_fatigue") + ctx.base("falls")}
        history = said.get("falls") == "yes"
        falls = history  # any fall, told as history or as a drug's side effect: the [L6] caution
        parts, classes, ids = [], set(), []
        for t in ctx.base("trial"):
            if not (
                t["tried"] == "yes"
                and t["outcome"] != "side_effects"
                and t["current"] != "no"
                and t["cls"] in elderly["sedating_classes"]
            ):
                continue
            effects = [
                a["effect"]
                for a in ctx.base("adverse")
                if a["agent"] == t["agent"]
                and a["effect"] in elderly["adverse_triggers"]
                and not (t["agent"] == "gabapentin" and a["effect"] == "weakness_fatigue")
            ]
            if (
                said.get("weakness_fatigue") == "yes"
                and t["agent"] != "gabapentin"
                and "weakness_fatigue" not in effects
            ):
                effects.append("weakness_fatigue")
            shown = [k.adverse_effects[e] for e in sorted(effects)]
            if history and "falls" not in effects:  # the same for every drug, whatever the order
                shown.append("a history of falls")
            if shown:
                # a past trial not said to be stopped is reviewed only if it is still taken
                maybe = "" if t["current"] == "yes" else k.phrases["if_still_taken"]
                parts.append(f"{label(t['agent'])} ({', '.join(shown)}){maybe}")
                classes.add(t["cls"])
                ids.append(t["id"])
                falls = falls or "falls" in effects
        if not parts:
            return
        extra = []
        if "tca" in classes:
            extra.append(k.phrases["older_tca"].format(age=age))
        if falls:
            extra.append(k.phrases["older_falls"])
        ctx.finding_because(
            "ELDERLY_DRUG_REVIEW",
            [ctx.fact("o")["id"]] + ids,
            age=age,
            drugs="; ".join(sorted(parts)),
            extra=(" " + " ".join(extra)) if extra else "",
            srcs="L6" if extra else "",
        )
        ctx.derive("open", "o", "t", rung=f"medication review at {age} (side effects, falls)")

    @when_all(phase("ladder"), c.o << (m.kind == "older"), c.f << (m.kind == "falls") & (m.value == "unknown"))
    @consequent("falls_ask")
    def falls_ask(ctx):
        ctx.finding("FALLS_ASK", "o", "f", age=ctx.fact("o")["years"])

    @when_all(phase("ladder"), c.t << _gabapentinoid_trial(), c.r << (m.kind == "renal") & (m.known == False))
    @consequent("renal_function_unknown")
    def renal_function_unknown(ctx):
        ctx.finding("RENAL_FUNCTION_UNKNOWN", "t", "r", agent=label(ctx.fact("t")["agent"]))
        ctx.derive("open", "t", "r", rung="renal function")

    # The bands are creatinine clearance; eGFR can overestimate it: say so, and ask for clearance.
    @when_all(phase("ladder"), c.r << (m.kind == "renal") & (m.known == True) & (m.basis == "egfr"))
    @consequent("renal_egfr_only")
    def renal_egfr_only(ctx):
        ctx.finding("RENAL_EGFR_ONLY", "r", egfr=f"{ctx.fact('r')['crcl']:g}")

    @when_all(
        phase("ladder"),
        c.t << _gabapentinoid_trial(),
        c.g << (m.kind == "target") & (m.agent == c.t.agent) & (m.renal == True) & (m.capped == True),
    )
    @consequent("renal_dose_adjusted")
    def renal_dose_adjusted(ctx):
        t, g = ctx.fact("t"), ctx.fact("g")
        ctx.finding(
            "RENAL_DOSE_ADJUSTED",
            "t",
            "g",
            agent=label(t["agent"]),
            basis=g["basis"],
            min=g["min"],
            max=g["max"],
            dpd=g["dpd"],
            target=g["dose"],
            label=g["renal_label"],
        )

    @when_all(
        phase("ladder"),
        c.t << _being_taken() & (m.agent == "duloxetine"),
        c.v << (m.kind == "avoid") & (m.agent == "duloxetine"),
    )
    @consequent("duloxetine_avoid")
    def duloxetine_avoid(ctx):
        ctx.finding("DULOXETINE_AVOID", "t", "v", why=avoid(ctx, "duloxetine"))

    # [L5]: a gabapentinoid with an opioid; in older patients also [L6].
    @when_all(
        phase("ladder"),
        c.g << _being_taken() & (m.cls == "gabapentinoid"),
        c.p << _being_taken() & any_of("cls", OPIOIDS),
    )
    @consequent("opioid_with_gabapentinoid")
    def opioid_with_gabapentinoid(ctx):
        g, p = ctx.fact("g"), ctx.fact("p")
        both = g["current"] == "yes" and p["current"] == "yes"
        older = ctx.derived_of("older")
        ctx.finding(
            "OPIOID_GABAPENTINOID",
            "g",
            "p",
            gabapentinoid=label(g["agent"]),
            opioid=label(p["agent"]),
            together="are taken together"
            if both
            else "may be taken together (not stated whether both are still taken)",
            older=(" " + k.phrases["older_opioid_gabapentinoid"].format(age=older[0]["fact"]["years"]))
            if older
            else "",
            srcs="L6" if older else "",
        )
