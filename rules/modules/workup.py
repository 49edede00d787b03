"""Was a treatable cause missed, or is there a red flag? [5, 6]

Uncontrolled diabetes, vitamin B12 deficiency, monoclonal gammopathy and CIDP make neuropathy
more refractory; CIDP needs immunotherapy rather than symptomatic treatment. While any is
unchecked or present, the pain is not called treatment-resistant (clinical notes, principle 3).
"""
from durable.lang import c, m, when_all

from ..engine import any_of, consequent, phase

# fact kind -> {value: (finding code, open rung)}
CAUSES = {
    "diabetes": {"uncontrolled": ("CAUSE_DIABETES_UNCONTROLLED", "glycaemic control"),
                 "unknown": ("CAUSE_DIABETES_UNCHECKED", "diabetes check")},
    "b12": {"low": ("CAUSE_B12_DEFICIENT", "B12 replacement"),
            "unknown": ("CAUSE_B12_UNCHECKED", "B12 check")},
    "paraprotein": {"abnormal": ("CAUSE_PARAPROTEIN", "monoclonal gammopathy work-up"),
                    "unknown": ("CAUSE_PARAPROTEIN_UNCHECKED", "monoclonal gammopathy screen")},
}
CIDP_FLAGS = ("cidp", "demyelinating")


def define(k):
    for kind, outcomes in CAUSES.items():
        for value, (code, rung) in outcomes.items():
            _cause_rule(kind, value, code, rung)

    @when_all(phase("ladder"), c.f << (m.kind == "red_flag"))
    @consequent("red_flag_present")
    def red_flag_present(ctx):
        flag = ctx.fact("f")["flag"]
        ctx.finding("RED_FLAGS_NEUROLOGY", "f", flag=k.red_flags[flag])
        ctx.derive("open", "f", rung="neurology review of red flags")

    @when_all(phase("ladder"), c.f << (m.kind == "red_flag") & any_of("flag", CIDP_FLAGS))
    @consequent("cidp_features")
    def cidp_features(ctx):
        ctx.finding("CIDP_IMMUNOTHERAPY", "f", flag=k.red_flags[ctx.fact("f")["flag"]])

    @when_all(phase("ladder"), c.f << (m.kind == "red_flags") & (m.status == "unknown"))
    @consequent("red_flags_unchecked")
    def red_flags_unchecked(ctx):
        ctx.finding("RED_FLAGS_UNKNOWN", "f")
        ctx.derive("open", "f", rung="red-flag check")


def _cause_rule(kind, value, code, rung):
    @when_all(phase("ladder"), c.f << (m.kind == kind) & (m.value == value))
    @consequent(f"{kind}_{value}")
    def cause(ctx):
        ctx.finding(code, "f")
        ctx.derive("open", "f", rung=rung)
