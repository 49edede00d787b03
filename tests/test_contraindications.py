"""A drug entered as contraindicated (trial.<agent>.contraindicated = yes), through the real engine
and the real intake: it is never advised to be started or raised, the advice says why, and a rung or
a combination none of whose drugs can be given does not hold back Step 4 (clinical notes,
"Combination not feasible")."""

from __future__ import annotations

import pytest

from neuroladder.bot.dialogue.intake import Intake
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import engine_facts

K = load_knowledge()
RULES = LadderRules(K)
INTAKE = Intake()
WORKED_UP = {
    "age": 57,
    "crcl": 85,
    "pain_pattern": "diffuse",
    "diabetes": "no",
    "b12": "normal",
    "paraprotein": "normal",
    **{f"flag.{flag}": "no" for flag in K.red_flags},
}
GABAPENTIN_FAILED = {
    "trial.gabapentin.tried": "yes",
    "trial.gabapentin.dose": 2400,
    "trial.gabapentin.doses_per_day": 3,
    "trial.gabapentin.weeks": 12,
    "trial.gabapentin.weeks_at_max": 6,
    "trial.gabapentin.outcome": "no_benefit",
}
DULOXETINE_FAILED = {
    "trial.duloxetine.tried": "yes",
    "trial.duloxetine.dose": 60,
    "trial.duloxetine.weeks": 8,
    "trial.duloxetine.outcome": "no_benefit",
}
NO_SNRI_OR_TCA = {f"trial.{a}.contraindicated": "yes" for a in ("duloxetine", "venlafaxine", "tca")}
NO_GABAPENTINOID = {f"trial.{a}.contraindicated": "yes" for a in ("gabapentin", "pregabalin")}


def ev(answers):
    return RULES.evaluate(engine_facts(answers, K))


def text_of(answers, code) -> str:
    found = [f.text for f in ev(answers).findings if f.code == code]
    assert found, f"{code} not concluded: {sorted(ev(answers).codes())}"
    return " ".join(found)


def test_a_tca_contraindicated_is_not_advised_and_duloxetine_is():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.tca.contraindicated": "yes", "trial.duloxetine.tried": "no"}
    answers["trial.venlafaxine.tried"] = "no"
    advice = text_of(answers, "ANTIDEPRESSANT_NOT_TRIED")
    assert "duloxetine at least 60 mg daily [1]" in advice
    assert "a TCA for" not in advice and "Not advised: TCA, entered as contraindicated" in advice
    assert "Entered as contraindicated: TCA" in text_of(answers, "CONTRAINDICATED")


def test_a_gabapentinoid_contraindicated_gets_no_target_the_other_does():
    answers = {**WORKED_UP, **DULOXETINE_FAILED, "trial.pregabalin.contraindicated": "yes"}
    answers |= {"trial.gabapentin.tried": "no", "trial.pregabalin.tried": "no"}
    advice = text_of(answers, "GABAPENTINOID_NOT_TRIED")
    assert "gabapentin titrated to" in advice and "pregabalin at least" not in advice
    assert "Not advised: pregabalin" in advice


def test_whether_a_contraindicated_drug_was_tried_is_not_asked():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, **DULOXETINE_FAILED, "trial.tca.contraindicated": "yes"}
    codes = ev(answers).codes()
    unknown = [f.text for f in ev(answers).findings if f.code == "CLASS_TRIAL_UNKNOWN"]
    assert not any("TCA" in t for t in unknown), unknown
    asked = {q.slot for q in INTAKE.open_questions(answers, set(), codes)}
    assert not any(slot.startswith("trial.tca.") for slot in asked), asked


def test_the_intake_asks_nothing_about_a_contraindicated_drug_even_when_it_was_tried():
    answers = {"trial.tca.tried": "yes", "trial.tca.contraindicated": "yes"}
    asked = {q.slot for q in INTAKE.open_questions(answers, set(), ev(answers).codes())}
    assert not any(slot.startswith("trial.tca.") for slot in asked), asked
    answers["trial.tca.contraindicated"] = "no"  # said not to be: its details are asked as ever
    asked = {q.slot for q in INTAKE.open_questions(answers, set(), ev(answers).codes())}
    assert "trial.tca.dose" in asked


@pytest.mark.parametrize("barred", [NO_SNRI_OR_TCA, NO_GABAPENTINOID], ids=["no SNRI or TCA", "no gabapentinoid"])
def test_a_rung_none_of_whose_drugs_can_be_given_does_not_hold_back_step4(barred):
    tried = DULOXETINE_FAILED if barred is NO_GABAPENTINOID else GABAPENTIN_FAILED
    answers = {**WORKED_UP, **tried, **barred, "combination": "no"}
    codes = ev(answers).codes()
    assert {"FIRST_LINE_NOT_POSSIBLE", "COMBINATION_NOT_FEASIBLE", "STEP4_REFERRAL"} <= codes, codes
    assert not codes & {"COMBINATION_NOT_TRIED", "GABAPENTINOID_NOT_TRIED", "ANTIDEPRESSANT_NOT_TRIED"}, codes
    assert "STEP4_NOT_YET" not in codes
    assert "entered as contraindicated" in text_of(answers, "COMBINATION_NOT_FEASIBLE")
    assert "could be given" in text_of(answers, "STEP4_REFERRAL")


def test_one_gabapentinoid_stopped_for_side_effects_and_the_other_contraindicated_is_not_feasible():
    answers = {**WORKED_UP, **DULOXETINE_FAILED, "combination": "no"}
    answers |= {"trial.gabapentin.tried": "yes", "trial.gabapentin.outcome": "side_effects"}
    answers |= {"trial.pregabalin.contraindicated": "yes"}
    why = text_of(answers, "COMBINATION_NOT_FEASIBLE")
    assert "gabapentin was stopped for side effects; pregabalin is entered as contraindicated" in why
    assert "STEP4_REFERRAL" in ev(answers).codes()
    answers.pop("trial.pregabalin.contraindicated")  # pregabalin can still be given: combination advised
    assert "COMBINATION_NOT_FEASIBLE" not in ev(answers).codes()


def test_every_snri_and_tca_stopped_for_side_effects_makes_the_combination_not_feasible():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "combination": "no"}
    for agent in ("duloxetine", "venlafaxine", "tca"):
        answers |= {f"trial.{agent}.tried": "yes", f"trial.{agent}.outcome": "side_effects"}
    codes = ev(answers).codes()
    assert "COMBINATION_NOT_FEASIBLE" in codes and "COMBINATION_NOT_TRIED" not in codes
    assert "STEP4_REFERRAL" in codes


def test_one_drug_contraindicated_leaves_the_rung_open_for_the_others():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.duloxetine.contraindicated": "yes", "combination": "no"}
    answers |= {"trial.tca.tried": "no", "trial.venlafaxine.tried": "no"}
    codes = ev(answers).codes()
    assert "STEP4_REFERRAL" not in codes and "FIRST_LINE_NOT_POSSIBLE" not in codes
    advice = text_of(answers, "ANTIDEPRESSANT_NOT_TRIED")
    assert "a TCA for 6-8 weeks" in advice and "duloxetine at least" not in advice
    assert "Not with duloxetine: entered as contraindicated" in text_of(answers, "COMBINATION_NOT_TRIED")


def test_an_underdosed_trial_of_a_contraindicated_drug_is_never_advised_to_be_raised():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.duloxetine.dose": 30, "trial.duloxetine.weeks": 8}
    answers |= {"trial.duloxetine.outcome": "no_benefit", "age": 80}
    assert "TRIAL_UNDERDOSED" in ev(answers).codes()
    answers["trial.duloxetine.contraindicated"] = "yes"
    codes = ev(answers).codes()
    assert "TRIAL_UNDERDOSED" not in codes and "neither started nor raised" in text_of(answers, "CONTRAINDICATED")
    assert "adequate duloxetine trial" not in text_of(answers, "STEP4_NOT_YET")
    assert "TRIAL_ADEQUATE" not in {f.code for f in ev(answers).findings if f.params.get("agent") == "duloxetine"}


def test_an_adequate_failed_trial_of_a_drug_now_contraindicated_still_counts():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, **DULOXETINE_FAILED, "combination": "yes", "combination.weeks": 8}
    answers |= {"combination.outcome": "no_benefit", "trial.duloxetine.contraindicated": "yes"}
    assert {"TRIAL_ADEQUATE", "STEP4_REFERRAL"} <= ev(answers).codes()


def test_an_older_patient_gets_no_tca_caution_when_the_tca_cannot_be_given():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "age": 80, "falls": "no", "trial.tca.contraindicated": "yes"}
    answers |= {"trial.duloxetine.tried": "no", "trial.venlafaxine.tried": "no"}
    assert "a TCA is potentially inappropriate" not in text_of(answers, "ANTIDEPRESSANT_NOT_TRIED")
    answers |= {"trial.tca.contraindicated": "no", "trial.tca.tried": "no"}
    assert "a TCA is potentially inappropriate" in text_of(answers, "ANTIDEPRESSANT_NOT_TRIED")


def test_not_contraindicated_concludes_what_no_answer_concludes():
    base = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.duloxetine.tried": "no", "trial.venlafaxine.tried": "no"}
    said_no = {**base, **{f"trial.{a}.contraindicated": "no" for a in ("duloxetine", "tca", "pregabalin")}}
    assert [(f.code, f.text) for f in ev(said_no).findings] == [(f.code, f.text) for f in ev(base).findings]


def test_a_focal_option_contraindicated_is_not_advised_and_does_not_hold_back_step4():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, **DULOXETINE_FAILED, "combination": "yes", "combination.weeks": 8}
    answers |= {"combination.outcome": "no_benefit", "pain_pattern": "focal"}
    assert "FOCAL_CAPSAICIN8" in ev(answers).codes()
    answers |= {"trial.capsaicin8.contraindicated": "yes", "trial.botox.contraindicated": "yes"}
    codes = ev(answers).codes()
    assert not codes & {"FOCAL_CAPSAICIN8", "FOCAL_BOTOX"} and {"CONTRAINDICATED", "STEP4_REFERRAL"} <= codes


def test_strong_opioids_contraindicated_are_not_offered_as_a_last_resort():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, **DULOXETINE_FAILED, "combination": "yes", "combination.weeks": 8}
    answers["combination.outcome"] = "no_benefit"
    assert "STRONG_OPIOIDS_LAST_RESORT" in ev(answers).codes()
    for agent, spec in K.agents.items():
        if spec["class"] == "opioid_strong":
            answers[f"trial.{agent}.contraindicated"] = "yes"
    codes = ev(answers).codes()
    assert "STRONG_OPIOIDS_LAST_RESORT" not in codes and {"STEP4_REFERRAL", "CONTRAINDICATED"} <= codes


def test_asked_about_a_contraindicated_tca_the_answer_is_not_advised():
    from neuroladder.rules.options import option_status

    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.tca.contraindicated": "yes"}
    status = option_status("tca", ev(answers), K)
    assert status.verdict == "not_yet" and "entered as contraindicated" in status.verdict_text, status
    snri = option_status("snri", ev(answers), K)  # another class: its answer is not about the TCA
    assert not any("Entered as contraindicated" in line for line in snri.lines), snri.lines


def test_a_drug_tried_then_contraindicated_leaves_the_rung_to_a_drug_that_can_be_given():
    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.duloxetine.tried": "no", "trial.venlafaxine.tried": "no"}
    answers |= {
        "trial.tca.tried": "yes",
        "trial.tca.dose": 25,
        "trial.tca.weeks": 2,
        "trial.tca.contraindicated": "yes",
    }
    advice = text_of(answers, "CLASS_TRIED_ONLY_CONTRAINDICATED")
    assert "duloxetine at least 60 mg daily [1]" in advice and "a TCA for" not in advice
    codes = ev(answers).codes()
    assert "STEP4_REFERRAL" not in codes and "TRIAL_DETAILS_MISSING" not in codes  # not asked of it
    asked = {q.slot for q in INTAKE.open_questions(answers, set(), codes)}
    assert not any(slot.startswith("trial.tca.") for slot in asked), asked


def test_the_ladder_picture_shows_a_contraindicated_drug_as_such():
    from neuroladder.rules.ladder import ladder_model, state_words

    answers = {**WORKED_UP, **GABAPENTIN_FAILED, "trial.tca.contraindicated": "yes", "pain_pattern": "focal"}
    answers |= {"trial.duloxetine.contraindicated": "yes", "trial.capsaicin8.contraindicated": "yes"}
    rungs = {r.id: r.state for r in ladder_model(ev(answers), K)}
    assert rungs["tca"] == "contraindicated" and rungs["capsaicin8"] == "contraindicated"
    assert rungs["snri"] == "unknown"  # venlafaxine: not known whether tried - the rung shows the best
    assert state_words("contraindicated", K) == "contraindicated - not to be given"
