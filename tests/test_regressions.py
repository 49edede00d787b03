"""Past bugs, pinned (named after what broke)."""
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import engine_facts


def test_engine_parse_error_204_on_exponent_floats():
    # Found by the fuzz test: 1e-05 reached the engine as JSON exponent notation, which its parser
    # rejects ("Could not assert fact, error code: 204"), and the user got the error reply.
    k = load_knowledge()
    ev = LadderRules(k).evaluate(engine_facts({"trial.gabapentin.dose": 0.00001, "trial.tca.weeks": 1e-7,
                                               "crcl": 1e-5 + 60}, k))
    assert "TRIAL_UNDERDOSED" in ev.codes() and "TCA_TOO_SHORT" in ev.codes()
