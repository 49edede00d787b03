"""What an adequate trial needs, per agent, and what starting or raising a drug means here.

classify: creatinine clearance (or eGFR, said so) -> the renal band of each gabapentinoid [L1, L2, 4];
          duloxetine to be avoided [L7]; an older patient [L6]; no gabapentinoid (or SNRI or TCA)
          possible (rules/modules/contraindications.py).
target:   the adequate dose: the seed's (or the clinical notes') target, or the renal maximum
          when that is lower; agents with no renal band get the plain target. Each target also
          carries `advice`, the renal-aware words for starting or raising the drug, with its sources.
"""

from durable.lang import c, m, none, when_all

from ..dsl import consequent, phase
from . import contraindications

DPD_WORDS = {"1": "once daily", "2": "in 2 doses a day", "3": "in 3 doses a day"}


def dpd_words(dpd: str) -> str:
    return DPD_WORDS.get(dpd, f"in {dpd} doses a day")


def renal_basis(k, renal: dict) -> str:
    """How the clearance is named: creatinine clearance, or eGFR with its caveat (clinical notes)."""
    return k.phrases[f"basis_{renal['basis']}"].format(value=f"{renal['crcl']:g}")


def define(k):
    t = k.thresholds
    for agent, bands in t["renal"].items():
        for band in bands:
            _renal_band_rule(k, agent, band, t[agent])
    for agent in ("gabapentin", "pregabalin", "duloxetine"):
        _default_dose_target(k, agent, t[agent])
    _tca_target(k, t["tca"])
    _classify(k)


def _renal_band_rule(k, agent, band, spec):
    usual = spec["adequate_mg_day"]
    divided = " in divided doses" if "divided_doses_min" in spec else ""

    @when_all(
        phase("classify"),
        c.r << (m.kind == "renal") & (m.known == True) & (m.crcl >= band["from"]) & (m.crcl < band["to"]),
    )
    @consequent(f"renal_band_{agent}_{band['from']}")
    def renal_band(ctx):
        r = ctx.fact("r")
        target = min(usual, band["max_mg_day"])
        capped = target < usual
        # Below the usual target the renal cap decides [L1/L2]; otherwise the usual source does.
        label = band["sources"][0] if capped else spec["sources"][0]
        if capped:
            advice = k.phrases["advice_renal"].format(
                agent=k.agent_label(agent),
                min=band["min_mg_day"],
                max=band["max_mg_day"],
                dpd=dpd_words(band["doses_per_day"]),
                basis=renal_basis(k, r),
                label=band["sources"][0],
            )
            advice_src = f"{band['sources'][0]}, 4"  # [4]: the "renal_essential" phrase added once
        else:
            advice, advice_src = k.phrases[f"advice_{agent}"].format(dose=usual), spec["sources"][0]
        ctx.derive(
            "target",
            "r",
            agent=agent,
            dose=target,
            min=band["min_mg_day"],
            max=band["max_mg_day"],
            dpd=band["doses_per_day"],
            once_daily=band["doses_per_day"] == "1",
            renal=True,
            capped=capped,
            crcl=r["crcl"],
            basis=renal_basis(k, r),
            label=label,
            renal_label=band["sources"][0],
            advice=advice,
            advice_src=advice_src,
            requirement=(
                f"the renal maximum tolerated, {target} mg/day" if capped else f"at least {usual} mg/day{divided}"
            ),
        )


def _default_dose_target(k, agent, spec):
    @when_all(phase("target"), none((m.kind == "target") & (m.agent == agent)))
    @consequent(f"usual_target_{agent}")
    def usual_target(ctx):
        divided = " in divided doses" if "divided_doses_min" in spec else ""
        ctx.derive(
            "target",
            agent=agent,
            dose=spec["adequate_mg_day"],
            once_daily=False,
            renal=False,
            capped=False,
            label=spec["sources"][0],
            advice=k.phrases[f"advice_{agent}"].format(dose=spec["adequate_mg_day"]),
            advice_src=spec["sources"][0],
            requirement=f"at least {spec['adequate_mg_day']} mg/day{divided}",
        )


def _tca_target(k, spec):
    @when_all(phase("target"))
    @consequent("tca_duration_target")
    def tca_target(ctx):
        ctx.derive(
            "target",
            agent="tca",
            weeks=spec["min_weeks"],
            weeks_at_max=spec["min_weeks_at_max_dose"],
            renal=False,
            capped=False,
            once_daily=False,
            label=spec["sources"][0],
            advice=k.phrases["advice_tca"].format(th=k.thresholds),
            advice_src=spec["sources"][0],
            requirement=(
                f"{spec['min_weeks']}-{spec['max_weeks']} weeks including {spec['min_weeks_at_max_dose']} weeks "
                "at the maximum tolerated dose"
            ),
        )


def _classify(k):
    below = k.thresholds["duloxetine_avoid"]["crcl_below"]
    older = k.thresholds["elderly"]["min_age"]

    @when_all(phase("classify"), c.r << (m.kind == "renal") & (m.known == True) & (m.crcl < below))
    @consequent("duloxetine_avoid_renal")
    def duloxetine_avoid_renal(ctx):
        ctx.derive(
            "avoid",
            "r",
            agent="duloxetine",
            why=k.phrases["avoid_renal"].format(basis=renal_basis(k, ctx.fact("r")), below=below),
        )

    @when_all(phase("classify"), c.h << (m.kind == "hepatic") & (m.value == "yes"))
    @consequent("duloxetine_avoid_hepatic")
    def duloxetine_avoid_hepatic(ctx):
        ctx.derive("avoid", "h", agent="duloxetine", why=k.phrases["avoid_hepatic"])

    @when_all(phase("classify"), c.a << (m.kind == "age") & (m.known == True) & (m.years >= older))
    @consequent("older_patient")
    def older_patient(ctx):
        ctx.derive("older", "a", years=ctx.fact("a")["years"])

    # No gabapentinoid (or no SNRI or TCA) can be given: each stopped for side effects or
    # contraindicated (clinical notes, "Combination not feasible").
    contraindications.define_classify(k)
