"""Second line before declaring resistance: combination therapy [3, 2]; for focal pain the
capsaicin 8% patch [1, 2] and botulinum toxin A [2]. Capsaicin cream is not the patch [L3]."""
from durable.lang import c, m, none, when_all

from ..engine import consequent, phase


def _tried(agent):
    return (m.kind == "trial") & (m.agent == agent) & (m.tried == "yes")


def define(k):
    @when_all(phase("ladder"), c.f << (m.kind == "combination") & (m.value == "no"))
    @consequent("combination_not_tried")
    def combination_not_tried(ctx):
        ctx.finding("COMBINATION_NOT_TRIED", "f")
        ctx.derive("open", "f", rung="combination therapy")

    @when_all(phase("ladder"), c.f << (m.kind == "combination") & (m.value == "unknown"))
    @consequent("combination_unknown")
    def combination_unknown(ctx):
        ctx.finding("COMBINATION_UNKNOWN", "f")
        ctx.derive("open", "f", rung="combination therapy (not known if tried)")

    @when_all(phase("ladder"), c.p << (m.kind == "pain_pattern") & (m.value == "focal"), none(_tried("capsaicin8")))
    @consequent("focal_capsaicin8_not_tried")
    def focal_capsaicin8_not_tried(ctx):
        ctx.finding("FOCAL_CAPSAICIN8", "p")
        ctx.derive("open", "p", rung="capsaicin 8% patch for focal pain")

    # Botulinum toxin A is given by pain specialists: advised, but it does not hold back referral.
    @when_all(phase("ladder"), c.p << (m.kind == "pain_pattern") & (m.value == "focal"), none(_tried("botox")))
    @consequent("focal_botox_not_tried")
    def focal_botox_not_tried(ctx):
        ctx.finding("FOCAL_BOTOX", "p")

    @when_all(phase("ladder"), c.t << _tried("capsaicin_cream"), none(_tried("capsaicin8")))
    @consequent("capsaicin_cream_is_not_the_patch")
    def capsaicin_cream_is_not_the_patch(ctx):
        ctx.finding("CAPSAICIN_CREAM_NOT_PATCH", "t")

    @when_all(phase("ladder"), c.p << (m.kind == "pain_pattern") & (m.value == "unknown"))
    @consequent("pain_pattern_unknown")
    def pain_pattern_unknown(ctx):
        ctx.finding("PAIN_PATTERN_UNKNOWN", "p")
        ctx.derive("open", "p", rung="focal or diffuse pain")
