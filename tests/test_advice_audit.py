"""Whole consultations written for the advice audit, typed as clinicians type them, through the real
Service (reader, intake, durable_rules engine, SQLite). Each pins a defect the audit found in what
the bot advised: what a clinician reading the reply would notice."""

from __future__ import annotations

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.rules.data import load_knowledge

KNOWLEDGE = load_knowledge()
SUMMARY = {code: spec["summary"] for code, spec in KNOWLEDGE.findings.items()}
STEP4 = SUMMARY["STEP4_REFERRAL"]
NOT_YET = SUMMARY["STEP4_NOT_YET"]

# Every other rung closed: adequate gabapentin and duloxetine that failed, work-up done, no flags.
CLOSED = (
    "59F both feet 4 yrs. gabapentin 900 tds x 14 wks incl 5 at that dose, no help. duloxetine 60 od x 9 wks, "
    "nil. no pregabalin, no tricyclic. hba1c 5.8, b12 420 pmol/l, paraprotein screen negative, no red flags, "
    "crcl 92"
)


@pytest.fixture
def service(tmp_path):
    store = Store(tmp_path / "audit.db")
    yield Service(store)
    store.close()


def say(service: Service, text: str, chat: str = "audit") -> str:
    return "\n".join(r.plain() for r in service.handle("test", chat, text, author="clinician"))


def findings(service: Service, chat: str = "audit") -> str:
    return say(service, "/findings", chat)


# -- a combination given too briefly, or for an unknown time, is not "tried and failed" ------------------
def test_a_two_week_combination_is_too_short_and_holds_back_step4(service):
    say(service, CLOSED + ". gaba and dulox together 2/52, no better")
    text = findings(service)
    assert SUMMARY["COMBINATION_TOO_SHORT"] in text and "too short to judge" in text, text
    assert STEP4 not in text and NOT_YET in text, text
    assert "combination long enough to judge" in text  # named among the open rungs


def test_a_combination_of_unknown_length_is_asked_and_step4_waits_for_the_answer(service):
    reply = say(service, CLOSED + ". also tried gabapentin plus duloxetine at the same time, didn't help")
    assert reply.rstrip().endswith("Combination: how many weeks were the drugs taken together?"), reply
    assert STEP4 not in findings(service)
    reply = say(service, "about 6 wks")
    assert STEP4 in reply, reply  # the intake is done: the summary leads with Step 4
    text = findings(service)
    assert STEP4 in text and "Guidelines disagree" in text, text  # the strong-opioid caveat, whole


def test_a_combination_skipped_stays_open_and_unknown(service):
    say(service, CLOSED + ". also tried gabapentin plus duloxetine at the same time, didn't help")
    say(service, "not sure")
    text = findings(service)
    assert STEP4 not in text and SUMMARY["COMBINATION_DURATION_UNKNOWN"] in text, text
    assert "combination duration" in say(service, "/unknowns")


def test_a_combination_long_enough_reaches_step4(service):
    reply = say(service, CLOSED + ". gaba + dulox together 7 weeks, no help")
    assert "That covers the questions I have" in reply, reply
    assert STEP4 in findings(service)


# -- a result typed in the note is not asked again ---------------------------------------------------
def test_a_b12_level_and_an_hba1c_typed_are_not_asked_again(service):
    say(service, CLOSED + ". gaba + dulox together 7 weeks, no help")
    assert "Vitamin B12?" not in say(service, "/unknowns")
    summary = say(service, "/summary")
    assert "Still unknown" not in summary, summary


def test_an_hba1c_in_mmol_mol_typed_settles_the_diabetes_question(service):
    reply = say(service, "48M feet. a1c 48. gabapentin 600 tds x 8 wks no help")
    assert "Diabetes?" not in reply
    for answer in ["no", "no", "no", "skip", "skip", "skip", "skip", "skip"]:
        assert "Diabetes?" not in say(service, answer)
    assert "diabetes and its control" not in say(service, "/unknowns")


# -- "neither really helping" is no benefit: the opioid and gabapentinoid advice that follows -------------
def test_neither_really_helping_is_no_benefit_for_both_drugs(service):
    reply = say(service, "74M, on oxycodone 20 bd and pregabalin 300 bd for burning feet, neither really helping")
    assert "good benefit" not in reply and reply.count("no benefit") == 2, reply
    assert "risk of serious breathing difficulties" in reply  # [L5], whatever the outcome


# -- Step 4 reached with a strong opioid already taken: the last resort is already in use ---------------
def test_step4_with_oxycodone_on_board_says_so_and_advises_no_escalation(service):
    say(service, CLOSED + ". gaba + dulox together 7 weeks, no help. on oxycodone 10 bd for 6 months, no help")
    text = findings(service)
    assert STEP4 in text, text
    assert "Already on oxycodone 20 mg/day, no benefit: a strong opioid is already in use - do not escalate it" in text
    reply = say(service, "more oxy?")
    assert "do not escalate it; the pain specialist reviews it" in reply, reply


def test_step4_without_an_opioid_does_not_mention_one_already_in_use(service):
    say(service, CLOSED + ". gaba + dulox together 7 weeks, no help")
    text = findings(service)
    assert STEP4 in text and "already in use" not in text, text


# -- weakness told in the note is checked against the motor red flags first --------------------------
MOTOR_FIRST = "if it is weakness, examine for the motor red flags first"


def test_weakness_in_the_note_leads_the_red_flag_card_with_the_motor_flags(service):
    reply = say(
        service, "52F numb burning feet since last month, going up the shins, and her legs have gone weak this week"
    )
    assert "Next step: ⚠ " + SUMMARY["RED_FLAGS_UNKNOWN"] in reply, reply
    assert MOTOR_FIRST in reply and "rapid course (days to weeks)" in reply, reply


def test_no_motor_lead_once_the_motor_flags_are_checked_or_without_weakness(service):
    say(
        service,
        "52F burning feet 2 yrs, legs weak. no proximal weakness, no foot drop, no progressive weakness, no rapid course",
    )
    assert MOTOR_FIRST not in findings(service)
    say(service, "61M burning feet 2 yrs, gabapentin 300 tds 3 wks", chat="other")
    assert MOTOR_FIRST not in findings(service, chat="other")


# -- HbA1c 7-8% typed without diabetes control: the target is asked, and the answer closes it -----------
def test_an_hba1c_between_7_and_8_asks_the_target_and_the_answer_closes_the_rung(service):
    asked = say(service, CLOSED.replace("hba1c 5.8", "hba1c 7.6") + ". gaba + dulox together 7 weeks, no help")
    assert asked.rstrip().endswith("HbA1c between 7 and 8%: is that within this patient's own target?"), asked
    assert STEP4 not in findings(service)
    reply = say(service, "yes that is her agreed target")
    assert STEP4 in reply, reply


def test_an_hba1c_above_the_patients_target_is_not_controlled(service):
    say(service, CLOSED.replace("hba1c 5.8", "hba1c 7.6") + ". gaba + dulox together 7 weeks, no help")
    say(service, "above target")
    text = findings(service)
    assert SUMMARY["CAUSE_DIABETES_UNCONTROLLED"] in text and STEP4 not in text, text


@pytest.mark.parametrize("reply", ["no", "nope", "it isn't"])
def test_no_to_the_target_question_is_above_target_never_no_diabetes(service, reply):
    say(service, CLOSED.replace("hba1c 5.8", "hba1c 7.6") + ". gaba + dulox together 7 weeks, no help")
    said = say(service, reply)
    assert "no diabetes" not in said and STEP4 not in findings(service), said
    assert SUMMARY["CAUSE_DIABETES_UNCONTROLLED"] in findings(service)


# -- "Not yet Step 4" names the topical rung only where the pain is or may be focal -----------------------
def test_not_yet_step4_for_diffuse_pain_does_not_talk_of_focal_pain(service):
    say(service, "64M painful feet both sides. gaba 900 tds x 14 wks incl 4 at max, nil. dulox 60 od x 2 wks nil")
    text = findings(service)
    assert NOT_YET in text and "for focal pain, topical options first" not in text, text
    say(service, "69F post herpetic neuralgia T6. pregab 300 bd x 13 wks nil", chat="focal")
    assert "for focal pain, topical options first" in findings(service, chat="focal")


# -- "no" to "Screen for monoclonal gammopathy?" was stored as "paraprotein screen normal" --------------
SCREEN_Q = "Screen for monoclonal gammopathy (serum protein electrophoresis / immunofixation)?"


def at_the_screen_question(service: Service) -> None:
    reply = say(service, "58M burning feet 3 yrs, not diabetic, b12 normal 400 pmol/l, no pregabalin, no tricyclic")
    for answer in ["no", "no", "skip", "skip", "skip"]:
        if reply.rstrip().endswith(SCREEN_Q):
            return
        reply = say(service, answer)
    assert reply.rstrip().endswith(SCREEN_Q), reply


@pytest.mark.parametrize("reply", ["no", "nope", "no, not done", "yes"])
def test_a_bare_yes_or_no_to_the_screen_question_is_asked_again_never_stored_as_normal(service, reply):
    at_the_screen_question(service)
    said = say(service, reply)
    assert "paraprotein screen normal" not in said and said.rstrip().endswith(SCREEN_Q), said
    assert SUMMARY["CAUSE_PARAPROTEIN_UNCHECKED"] in findings(service)


@pytest.mark.parametrize(
    "reply, stored",
    [
        ("negative", "paraprotein screen normal"),
        ("not done", "paraprotein not known"),
        ("igg kappa band", "paraprotein found"),
    ],
)
def test_a_worded_answer_to_the_screen_question_is_read(service, reply, stored):
    at_the_screen_question(service)
    assert stored in say(service, reply)


# -- an older patient's past drug is reviewed "if still taken", not as if it surely were --------------------
def test_a_past_tca_not_said_to_be_taken_is_reviewed_only_if_still_taken(service):
    reply = say(service, "70F PHN T8, ami 50 nocte 8 wks (max tolerated - drowsy), nil. crcl 75, no falls")
    assert "TCA (drowsiness/sedation) - if still taken" in reply, reply
    reply = say(service, "71M, still on nortriptyline 50 nocte, drowsy, 10 wks no help. crcl 80, no falls", chat="now")
    assert "TCA (drowsiness/sedation). In an older patient" in reply, reply
