"""What an adequate trial needs, per agent: the seed's targets, capped by renal dosing.

classify: creatinine clearance -> the renal band of each gabapentinoid [L1, L2, 4].
target:   the adequate dose: the seed's (or the clinical notes') target, or the renal maximum
          when that is lower; agents with no renal band get the plain target.
"""
from durable.lang import c, m, none, when_all

from ..engine import consequent, phase


def define(k):
    t = k.thresholds
    for agent, bands in t["renal"].items():
        for band in bands:
            _renal_band_rule(agent, band, t[agent])
    for agent in ("gabapentin", "pregabalin", "duloxetine"):
        _default_dose_target(agent, t[agent])
    _tca_duration_target(t["tca"])


def _renal_band_rule(agent, band, spec):
    usual = spec["adequate_mg_day"]
    divided = " in divided doses" if "divided_doses_min" in spec else ""

    @when_all(phase("classify"),
              c.r << (m.kind == "renal") & (m.known == True) & (m.crcl >= band["from"]) & (m.crcl < band["to"]))
    @consequent(f"renal_band_{agent}_{band['from']}")
    def renal_band(ctx):
        target = min(usual, band["max_mg_day"])
        capped = target < usual
        # Below the usual target the renal cap decides [L1/L2]; otherwise the usual source does.
        label = band["sources"][0] if capped else spec["sources"][0]
        ctx.derive("target", "r", agent=agent, dose=target, min=band["min_mg_day"], max=band["max_mg_day"],
                   dpd=band["doses_per_day"], once_daily=band["doses_per_day"] == "1", renal=True,
                   capped=capped, crcl=ctx.fact("r")["crcl"], label=label, renal_label=band["sources"][0],
                   requirement=(f"the renal maximum tolerated, {target} mg/day" if capped
                                else f"at least {usual} mg/day{divided}"))


def _default_dose_target(agent, spec):
    @when_all(phase("target"), none((m.kind == "target") & (m.agent == agent)))
    @consequent(f"usual_target_{agent}")
    def usual_target(ctx):
        divided = " in divided doses" if "divided_doses_min" in spec else ""
        ctx.derive("target", agent=agent, dose=spec["adequate_mg_day"], once_daily=False, renal=False,
                   capped=False, label=spec["sources"][0],
                   requirement=f"at least {spec['adequate_mg_day']} mg/day{divided}")


def _tca_duration_target(spec):
    @when_all(phase("target"))
    @consequent("tca_duration_target")
    def tca_target(ctx):
        ctx.derive("target", agent="tca", weeks=spec["min_weeks"], weeks_at_max=spec["min_weeks_at_max_dose"],
                   renal=False, capped=False, once_daily=False, label=spec["sources"][0],
                   requirement=(f"{spec['min_weeks']}-{spec['max_weeks']} weeks including {spec['min_weeks_at_max_dose']} weeks "
                                "at the maximum tolerated dose"))
