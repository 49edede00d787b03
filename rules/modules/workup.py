"""Was a treatable cause missed, or is there a red flag? [5, 6]

Uncontrolled diabetes, vitamin B12 deficiency, monoclonal gammopathy and CIDP make neuropathy
more refractory; CIDP needs immunotherapy rather than symptomatic treatment. While any is
unchecked or present, the pain is not called treatment-resistant (clinical notes, principle 3).
HbA1c is judged as [L8] says, a serum B12 level as [L9] says; a treated deficiency is not open.
Red flags are judged one by one; an asymmetric pattern with a known focal cause is not a flag.
"""

from durable.lang import c, m, none, when_all

from ..dsl import any_of, consequent, phase

CIDP_FLAGS = ("cidp", "demyelinating")
URGENT_FLAGS = ("rapid_course", "motor_deficit")
MOTOR_FLAGS = ("proximal_weakness", "motor_deficit", "progressive_weakness", "rapid_course")
KNOWN_FOCAL_CAUSES = ("postherpetic", "post_surgical", "entrapment", "post_traumatic")


def _known_focal_cause():
    return (m.kind == "focal_cause") & any_of("value", KNOWN_FOCAL_CAUSES)


def define(k):
    _glycaemia(k)
    _b12(k)
    _paraprotein()
    _red_flags(k)


def _flag_seen(ctx, flag):
    ctx.derive("open", "f", rung="urgent neurology review" if flag in URGENT_FLAGS else "neurology review of red flags")
    ctx.derive("flag_seen", "f", flag=flag)


def _open(ctx, code, rung, *matched, **params):
    ctx.finding(code, *matched, **params)
    ctx.derive("open", *matched, rung=rung)


def _hba1c_words(k, value):
    h = k.thresholds["hba1c"]
    return f"HbA1c {value:g}% ({(value - h['mmol_offset']) * h['mmol_factor']:.0f} mmol/mol)"


def _glycaemia(k):
    h = k.thresholds["hba1c"]

    @when_all(phase("ladder"), c.f << (m.kind == "diabetes") & (m.value == "uncontrolled"))
    @consequent("diabetes_uncontrolled")
    def diabetes_uncontrolled(ctx):
        _open(ctx, "CAUSE_DIABETES_UNCONTROLLED", "glycaemic control", "f", hba1c="", srcs="")

    # At or above 8% diabetes is not controlled [L8], whatever the answer to "controlled?".
    @when_all(
        phase("ladder"),
        c.h << (m.kind == "hba1c") & (m.value >= h["uncontrolled_from"]),
        c.f << (m.kind == "diabetes") & (m.value != "uncontrolled"),
    )
    @consequent("hba1c_uncontrolled")
    def hba1c_uncontrolled(ctx):
        words = _hba1c_words(k, ctx.fact("h")["value"])
        _open(
            ctx,
            "CAUSE_DIABETES_UNCONTROLLED",
            "glycaemic control",
            "h",
            "f",
            hba1c=f" {words}: at or above {h['uncontrolled_from']:g}% diabetes is not controlled [L8].",
            srcs="L8",
        )

    # 7-8%: whether that is this patient's own target decides; the answer sets controlled/uncontrolled.
    @when_all(
        phase("ladder"),
        c.h << (m.kind == "hba1c") & (m.value >= h["target_from"]) & (m.value < h["uncontrolled_from"]),
        c.f << (m.kind == "diabetes") & (m.value == "unknown"),
    )
    @consequent("hba1c_target_ask")
    def hba1c_target_ask(ctx):
        _open(ctx, "HBA1C_TARGET_ASK", "glycaemic target", "h", "f", hba1c=_hba1c_words(k, ctx.fact("h")["value"]))

    @when_all(phase("ladder"), c.f << (m.kind == "diabetes") & (m.value == "unknown"), none(m.kind == "hba1c"))
    @consequent("diabetes_unknown")
    def diabetes_unknown(ctx):
        _open(ctx, "CAUSE_DIABETES_UNCHECKED", "diabetes check", "f")


def _b12_words(k, value):
    return f"B12 {value:g} pmol/L ({value / k.thresholds['b12']['pmol_per_pg']:.0f} pg/mL)"


def _b12(k):
    b = k.thresholds["b12"]
    not_treated = (m.kind == "b12") & (m.value != "treated")

    @when_all(phase("ladder"), c.f << (m.kind == "b12") & (m.value == "low"))
    @consequent("b12_low")
    def b12_low(ctx):
        _open(ctx, "CAUSE_B12_DEFICIENT", "B12 replacement", "f", level="", srcs="")

    @when_all(
        phase("ladder"),
        c.l << (m.kind == "b12_level") & (m.value < b["deficient_below"]),
        c.f << not_treated & (m.value != "low"),
    )
    @consequent("b12_level_deficient")
    def b12_level_deficient(ctx):
        words = _b12_words(k, ctx.fact("l")["value"])
        _open(
            ctx,
            "CAUSE_B12_DEFICIENT",
            "B12 replacement",
            "l",
            "f",
            level=f" {words}: below {b['deficient_below']} pmol/L supports deficiency [L9].",
            srcs="L9",
        )

    @when_all(
        phase("ladder"),
        c.l << (m.kind == "b12_level") & (m.value >= b["deficient_below"]) & (m.value < b["borderline_below"]),
        c.f << not_treated & (m.value != "low"),
    )
    @consequent("b12_level_borderline")
    def b12_level_borderline(ctx):
        _open(
            ctx,
            "B12_BORDERLINE",
            "B12 near the cut-off (MMA or holotranscobalamin)",
            "l",
            "f",
            level=_b12_words(k, ctx.fact("l")["value"]),
        )

    @when_all(phase("ladder"), c.f << (m.kind == "b12") & (m.value == "unknown"), none(m.kind == "b12_level"))
    @consequent("b12_unknown")
    def b12_unknown(ctx):
        _open(ctx, "CAUSE_B12_UNCHECKED", "B12 check", "f")


def _paraprotein():
    for value, code, rung in (
        ("abnormal", "CAUSE_PARAPROTEIN", "monoclonal gammopathy work-up"),
        ("unknown", "CAUSE_PARAPROTEIN_UNCHECKED", "monoclonal gammopathy screen"),
    ):
        _cause_rule("paraprotein", value, code, rung)


def _cause_rule(kind, value, code, rung):
    @when_all(phase("ladder"), c.f << (m.kind == kind) & (m.value == value))
    @consequent(f"{kind}_{value}")
    def cause(ctx):
        _open(ctx, code, rung, "f")


def _red_flags(k):
    yes = (m.kind == "red_flag") & (m.value == "yes")

    # Each flag present opens the ladder's neurology rung; the findings are concluded once, each
    # listing its flags, so five flags make one card, not five (the first screen has room for it).
    @when_all(phase("ladder"), c.f << yes & (m.flag != "asymmetric"))
    @consequent("red_flag_present")
    def red_flag_present(ctx):
        _flag_seen(ctx, ctx.fact("f")["flag"])

    # Post-herpetic, post-surgical, entrapment and post-traumatic pain are asymmetric by nature.
    @when_all(phase("ladder"), c.f << yes & (m.flag == "asymmetric"), none(_known_focal_cause()))
    @consequent("red_flag_asymmetric")
    def red_flag_asymmetric(ctx):
        _flag_seen(ctx, "asymmetric")

    @when_all(phase("conclude"))
    @consequent("red_flag_findings")
    def red_flag_findings(ctx):
        seen = ctx.derived_of("flag_seen")
        if not seen:
            return
        for code, wanted in (
            ("RED_FLAG_URGENT", URGENT_FLAGS),
            ("RED_FLAGS_NEUROLOGY", None),
            ("CIDP_IMMUNOTHERAPY", CIDP_FLAGS),
        ):
            order = list(k.red_flags)  # the flags in one order, however the facts came in
            group = sorted(
                (d for d in seen if wanted is None or d["fact"]["flag"] in wanted),
                key=lambda d: order.index(d["fact"]["flag"]),
            )
            if group:
                flags = [k.red_flag_names[d["fact"]["flag"]] for d in group]
                ctx.finding_because(code, [fid for d in group for fid in d["from"]], flag="; ".join(flags))

    # Every flag not yet checked, listed in one finding; an asymmetric pattern with a known focal
    # cause is no flag, so it is not asked about either.
    @when_all(phase("ladder"), c.f << (m.kind == "red_flags") & (m.unknown != ""))
    @consequent("red_flags_unchecked")
    def red_flags_unchecked(ctx):
        unknown = ctx.fact("f")["unknown"].split(",")
        if any(f["value"] in KNOWN_FOCAL_CAUSES for f in ctx.base("focal_cause")):
            unknown = [flag for flag in unknown if flag != "asymmetric"]
        if not unknown:
            return
        # Weakness told in the note ("legs weak over the last 10 days") is checked against the motor
        # flags before anyone puts it down to a drug or to the neuropathy.
        motor = [flag for flag in unknown if flag in MOTOR_FLAGS]
        weak = motor and any(f["value"] == "yes" for f in ctx.base("weakness_fatigue"))
        lead = k.phrases["weakness_motor_flags"].format(flags="; ".join(k.red_flag_names[f] for f in motor))
        ctx.finding(
            "RED_FLAGS_UNKNOWN",
            "f",
            flags="; ".join(k.red_flag_names[flag] for flag in unknown),
            weakness=lead if weak else "",
        )
        ctx.derive("open", "f", rung="red-flag check")
