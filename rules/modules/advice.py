"""Helpers for consequents that advise starting or raising a drug: the renal-aware target words and
the older patient's caution [L6]. Read from facts already concluded, so no rule of their own."""

from __future__ import annotations

from .contraindications import barred_agents

CAUTION_CLASSES = ("tca", "snri", "gabapentinoid")
OPIOIDS = ("opioid_weak", "opioid_strong", "opioid")


def _taken(t: dict) -> bool:
    """medication_safety._being_taken, read in a consequent: tried, not stopped for side effects,
    not known to be stopped."""
    return t["tried"] == "yes" and t["outcome"] != "side_effects" and t["current"] != "no"


def opioid_caution(ctx) -> tuple[str, str]:
    """Starting a gabapentinoid while an opioid is taken [L5]; at 65+ also [L6]: (text, sources)."""
    if any(_taken(t) for t in ctx.base("trial") if t["cls"] == "gabapentinoid"):
        return "", ""  # both already taken: OPIOID_GABAPENTINOID says it
    opioids = sorted(ctx.k.agent_label(t["agent"]) for t in ctx.base("trial") if t["cls"] in OPIOIDS and _taken(t))
    if not opioids:
        return "", ""
    text = " " + ctx.k.phrases["start_with_opioid"].format(opioid=", ".join(opioids))
    older = ctx.derived_of("older")
    if older:
        text += " " + ctx.k.phrases["older_opioid_gabapentinoid"].format(age=older[0]["fact"]["years"])
        return text, "L5, L6"
    return text, "L5"


def target(ctx, agent: str) -> dict:
    return next((d["fact"] for d in ctx.derived_of("target") if d["fact"]["agent"] == agent), {})


def avoid(ctx, agent: str) -> str:
    """Why `agent` is to be avoided here ("" when it is not)."""
    return "; ".join(d["fact"]["why"] for d in ctx.derived_of("avoid") if d["fact"]["agent"] == agent)


def older_caution(ctx, classes) -> tuple[str, str]:
    """The [L6] caution on starting or raising a TCA, SNRI or gabapentinoid at 65+: (text, sources)."""
    older = ctx.derived_of("older")
    # a class none of whose drugs can be given (entered as contraindicated) is not cautioned about
    barred = barred_agents(ctx)
    classes = [
        c
        for c in classes
        if c in CAUTION_CLASSES and any(a not in barred for a, s in ctx.k.agents.items() if s["class"] == c)
    ]
    if not older or not classes:
        return "", ""
    k = ctx.k
    age = older[0]["fact"]["years"]
    falls = next((f["value"] for f in ctx.base("falls")), "unknown")
    parts = []
    if "tca" in classes:
        parts.append(k.phrases["older_tca"].format(age=age))
    if falls == "yes":
        parts.append(k.phrases["older_falls"])
    elif falls != "no":
        parts.append(k.phrases["older_falls_ask"].format(age=age))
    if not parts:
        return "", ""
    return " " + " ".join(parts), "L6"


def combination_cautions(ctx) -> tuple[str, str]:
    """What combining means for this patient: the gabapentinoid at its renal dose [L1, L2, 4], and
    duloxetine to be avoided [L7]. (text, sources); ("", "") when neither applies."""
    k = ctx.k
    parts, srcs = [], []
    barred = {a for a in barred_agents(ctx) if k.agents[a]["class"] in CAUTION_CLASSES}
    given = [a for a in ("gabapentin", "pregabalin") if a not in barred]
    capped = [t for t in (target(ctx, a) for a in given) if t.get("capped")]
    if capped:
        parts.append(k.phrases["combination_renal"].format(advice="; ".join(t["advice"] for t in capped)))
        srcs += [t["advice_src"] for t in capped]
    why = avoid(ctx, "duloxetine") if "duloxetine" not in barred else ""
    if why:  # "pair it with a TCA instead" only when a TCA can be given
        phrase = "combination_duloxetine_avoid" if "tca" not in barred else "combination_duloxetine_avoid_alone"
        parts.append(k.phrases[phrase].format(why=why))
        srcs.append("L7")
    if barred:
        labels = [k.agent_label(a) for a in ctx.k.agents if a in barred]
        parts.append(k.phrases["combination_contraindicated"].format(agents=", ".join(labels)))
    opioid, opioid_src = opioid_caution(ctx)
    if opioid:
        parts.append(opioid.strip())
        srcs.append(opioid_src)
    return "".join(" " + p for p in parts), ", ".join(srcs)
