"""Consultations the ruleset had not seen, typed as clinicians type them, and the advice a careful
pain specialist expects from the seed and the clinical notes. Each runs through the real Service
(reader, intake, durable_rules engine, SQLite) and asserts what the clinician reads in /findings.
"""

from __future__ import annotations

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.rules.data import load_knowledge

KNOWLEDGE = load_knowledge()
SUMMARY = {code: spec["summary"] for code, spec in KNOWLEDGE.findings.items()}

# Work-up done and no red flags, so that only the point under test decides the advice.
WORKED_UP = "a1c 6, b12 normal, spep normal, no red flags, diffuse"


@pytest.fixture
def service(tmp_path):
    store = Store(tmp_path / "consult.db")
    yield Service(store)
    store.close()


def findings(service: Service, *turns: str, chat: str = "review") -> str:
    for turn in turns:
        service.handle("test", chat, turn, author="clinician")
    return "\n".join(r.plain() for r in service.handle("test", chat, "/findings", author="clinician"))


def shown(text: str, code: str) -> bool:
    return SUMMARY[code] in text


# -- an older patient's gabapentin: only the drug still taken is asked about --------------------------
def test_gabapentin_stopped_for_side_effects_is_not_asked_about_and_does_not_hold_back_step4(service):
    text = findings(
        service,
        "70F, both feet, stopped gabapentin for drowsiness, stopped pregabalin for dizziness. "
        f"dulox 60 x 10 wks nil. crcl 60, no falls, {WORKED_UP}",
    )
    assert not shown(text, "ELDERLY_GABAPENTIN_ASK"), text
    assert shown(text, "STEP4_REFERRAL") and not shown(text, "STEP4_NOT_YET"), text


def test_gabapentin_still_taken_at_75_is_asked_about(service):
    text = findings(
        service,
        "75M, gabapentin 800 tds x 12 wks incl 4 at max, no help, still taking it. dulox 60 od x 10 wks nil. "
        f"gaba + dulox together 8 wks nil. crcl 80, no falls, {WORKED_UP}",
    )
    assert shown(text, "ELDERLY_GABAPENTIN_ASK") and shown(text, "STEP4_NOT_YET"), text


# -- Step 4 says why it is reached, truthfully ---------------------------------------------------------
def test_step4_without_a_possible_gabapentinoid_does_not_claim_the_combination_failed(service):
    text = findings(
        service,
        "70F, both feet, stopped gabapentin for drowsiness, stopped pregabalin for dizziness. "
        f"dulox 60 x 10 wks nil. crcl 60, no falls, {WORKED_UP}",
    )
    assert "alone and in combination have failed" not in text, text
    assert "combination is not feasible (both gabapentin and pregabalin were stopped for side effects" in text


def test_step4_after_a_failed_combination_says_so(service):
    text = findings(
        service,
        "60M, gabapentin 800 tds x 12 wks incl 4 at max, no help; duloxetine 60 od x 10 wks nil; "
        f"gaba + dulox together 8 wks nil. crcl 85, {WORKED_UP}",
    )
    assert "Adequate first-line trials alone and in combination have failed" in text, text


# -- combination advice is renal- and liver-aware, as every start/raise advice is ------------------------
def combination_card(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Combination therapy is not yet tried"))


def test_combination_at_crcl_25_gives_the_renal_gabapentinoid_dose_and_avoids_duloxetine(service):
    text = findings(
        service,
        "64M, both feet, gabapentin 700 mg nocte x 12 wks incl 4 at max, no help. nortriptyline 75 nocte x 8 wks "
        f"incl 3 at max tolerated, no help. combination not tried. crcl 25, no falls, {WORKED_UP}",
    )
    card = combination_card(text)
    assert "gabapentin 200-700 mg/day once daily at creatinine clearance 25 mL/min [L1]" in card, card
    assert "Duloxetine is to be avoided here (creatinine clearance 25 mL/min is below 30 mL/min) [L7]" in card, card


def test_combination_in_hepatic_impairment_avoids_duloxetine(service):
    text = findings(
        service,
        "50M, cirrhosis, hepatic impairment. gabapentin 800 tds x 12 wks incl 4 at max, no help. nortriptyline 75 "
        f"nocte x 8 wks incl 3 at max tolerated, no help. combination not tried. crcl 90, {WORKED_UP}",
    )
    card = combination_card(text)
    assert "Duloxetine is to be avoided here (hepatic impairment) [L7]" in card, card
    assert "renal dose" not in card, card


def test_combination_at_normal_clearance_has_no_renal_or_duloxetine_words(service):
    text = findings(
        service,
        "50M, gabapentin 800 tds x 12 wks incl 4 at max, no help. nortriptyline 75 nocte x 8 wks incl 3 at max "
        f"tolerated, no help. combination not tried. crcl 90, {WORKED_UP}",
    )
    card = combination_card(text)
    assert "renal dose" not in card and "Duloxetine" not in card, card


# -- the elderly gabapentin pitfall needs the age: unknown is asked, not taken as young ----------------
def test_step4_waits_for_the_age_of_a_patient_on_gabapentin(service):
    text = findings(
        service,
        "gabapentin 800 tds x 12 wks incl 4 at max, no help, still taking it. dulox 60 od x 10 wks nil. "
        f"gaba + dulox together 8 wks nil. crcl 80, {WORKED_UP}",  # no age given
    )
    assert not shown(text, "STEP4_REFERRAL") and shown(text, "STEP4_NOT_YET"), text
    assert "Open: age (gabapentin in the elderly)." in text, text


def test_the_age_given_settles_it(service):
    text = findings(
        service,
        "52M, gabapentin 800 tds x 12 wks incl 4 at max, no help, still taking it. dulox 60 od x 10 wks nil. "
        f"gaba + dulox together 8 wks nil. crcl 80, {WORKED_UP}",
    )
    assert "age (gabapentin in the elderly)" not in text and shown(text, "STEP4_REFERRAL"), text


# -- advice to start a gabapentinoid while an opioid is taken carries [L5] (and [L6] at 65+) -----------
def card(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_starting_a_gabapentinoid_on_fentanyl_warns_of_breathing_risk(service):
    text = findings(
        service,
        "66F, both feet, fentanyl patch 25 mcg/h, duloxetine 60 od x 8 wks nil, never tried gabapentin or "
        "pregabalin. crcl 70",
    )
    advice = card(text, "No gabapentinoid trial is recorded")
    assert "fentanyl is taken: a gabapentinoid with an opioid carries a risk of serious breathing" in advice, advice
    assert "[L5]" in advice and "At 66, opioids together with gabapentinoids are to be avoided" in advice, advice


def test_starting_a_gabapentinoid_without_an_opioid_has_no_breathing_caution(service):
    text = findings(service, "50F, both feet, duloxetine 60 od x 8 wks nil, never tried gabapentin or pregabalin. crcl 70")
    advice = card(text, "No gabapentinoid trial is recorded")
    assert "breathing" not in advice and "[L5]" not in advice, advice


def test_combination_advised_on_oxycodone_warns_of_breathing_risk(service):
    text = findings(
        service,
        "55M, both feet, on oxycodone 20 mg bd. gabapentin 800 tds x 12 wks incl 4 at max, no help, stopped. "
        f"dulox 60 od x 10 wks nil. combination not tried. crcl 85, {WORKED_UP}",
    )
    advice = combination_card(text)
    assert "oxycodone is taken: a gabapentinoid with an opioid carries a risk of serious breathing" in advice, advice


# -- a drug the seed gives no step for is not the next step ----------------------------------------------
def test_a_short_lidocaine_trial_says_the_seed_is_silent_and_the_capsaicin_patch_leads(service):
    said = []
    for turn in [
        "55M, focal pain right foot scar after surgery. lidocaine plaster 2 weeks no help. gabapentin 800 tds x 12 "
        "wks incl 4 at max, no help. dulox 60 od x 10 wks nil. gaba + dulox together 8 wks nil. crcl 90, a1c 6, "
        "b12 normal, spep normal, no red flags",
    ]:
        said.append("\n".join(r.plain() for r in service.handle("test", "lido", turn, author="clinician")))
    assert "Next step: ⚠ " + SUMMARY["FOCAL_CAPSAICIN8"] in said[-1], said[-1]
    text = findings(service, chat="lido")
    lidocaine = card(text, "topical lidocaine: 2 week(s) - too short to judge")
    assert "The seed gives no step for topical lidocaine" in lidocaine, lidocaine


# -- a combination that helps is said to help ------------------------------------------------------------
def test_a_combination_that_helps_says_so(service):
    text = findings(
        service,
        "60F, gabapentin 800 tds 12 wks 4 at max partial; dulox 60 x 8 wks partial; combination gaba+dulox 8 wks "
        f"good. crcl 80, {WORKED_UP}",
    )
    helping = card(text, "The combination (duloxetine + gabapentin) is helping")
    assert "escalation beyond it may not be needed" in helping, helping
    assert not shown(text, "STEP4_REFERRAL")


def test_a_combination_that_failed_is_not_said_to_help(service):
    text = findings(
        service,
        "60F, gabapentin 800 tds 12 wks 4 at max partial; dulox 60 x 8 wks partial; combination gaba+dulox 8 wks "
        f"no help. crcl 80, {WORKED_UP}",
    )
    assert "is helping" not in text and shown(text, "STEP4_REFERRAL"), text


# -- a focal option that helps: no Step 4 past it ------------------------------------------------------
FOCAL_DONE = (
    "gabapentin 800 tds 12 wks 4 at max nil, dulox 60 x 8 wks nil, combination gaba+dulox 8 wks nil. crcl 90, "
    "a1c 6, b12 normal, spep normal, no red flags"
)


def test_a_capsaicin_patch_that_helps_holds_back_step4(service):
    text = findings(service, f"58F, focal post-surgical pain left chest wall. qutenza applied, good relief. {FOCAL_DONE}")
    assert "Capsaicin 8% patch is helping: escalation beyond it may not be needed" in text, text
    assert not shown(text, "STEP4_REFERRAL") and not shown(text, "STRONG_OPIOIDS_LAST_RESORT"), text


def test_a_capsaicin_patch_that_failed_leaves_step4(service):
    text = findings(service, f"58F, focal post-surgical pain left chest wall. qutenza applied, no help. {FOCAL_DONE}")
    assert "is helping" not in text and shown(text, "STEP4_REFERRAL"), text


def test_a_capsaicin_patch_of_unknown_effect_is_asked_about_before_step4(service):
    note = f"58F, focal post-surgical pain left chest wall. qutenza applied. botox no. {FOCAL_DONE}"
    replies = [
        "\n".join(r.plain() for r in service.handle("test", "patch", turn, author="clinician"))
        for turn in (note, "no", "no")
    ]
    assert "Capsaicin 8% patch: what was the effect?" in replies[-1], replies[-1]
    text = findings(service, chat="patch")
    assert not shown(text, "STEP4_REFERRAL") and "effect of the capsaicin 8% patch" in text, text
    text = findings(service, "no benefit", chat="patch")
    assert shown(text, "STEP4_REFERRAL"), text
