"""Whole consultations (conversations/cases/*.toml) replayed through the real Service and SQLite.

Each case is typed the way a clinician types on a phone; after the last turn the consult's live
facts must be exactly the case's [facts], and the findings must include [expect].fires and none
of [expect].absent. A case that fails because a reasonable phrase is misread is a parser bug.
"""

from __future__ import annotations

import re

import pytest
from case_files import CASES, KEYS, replay

from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import check, engine_facts

KNOWLEDGE = load_knowledge()
RULES = LadderRules(KNOWLEDGE)
STEP4_TOGETHER = {"STEP4_REFERRAL", "STRONG_OPIOIDS_LAST_RESORT", "CBT_PHYSIO", "GOAL_FUNCTION"}


def test_there_are_enough_cases():
    assert len(CASES) >= 16


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case_is_well_formed(case_id):
    case = CASES[case_id]
    assert set(case) == KEYS, f"{case_id}: keys must be exactly {sorted(KEYS)}"
    assert case["title"].strip() and case["narrative"].strip() and case["turns"]
    assert all(isinstance(t, str) and t.strip() for t in case["turns"])
    for name, value in case["facts"].items():
        assert check(name, value, KNOWLEDGE) == value, name
    codes = set(KNOWLEDGE.findings)
    assert set(case["expect"]) <= {"fires", "absent"}
    assert set(case["expect"].get("fires", [])) <= codes
    assert set(case["expect"].get("absent", [])) <= codes
    assert not set(case["expect"].get("fires", [])) & set(case["expect"].get("absent", []))


IDENTIFIER_PATTERNS = [
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",
    r"\b(?:mrn|dob|nhs|record number|date of birth)\b",
    r"\b(?:mr|mrs|ms|miss|dr)\.?\s+[A-Z][a-z]+",
    r"\b\d{6,}\b",
]


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case_has_no_identifiers(case_id):
    case = CASES[case_id]
    for text in [case["narrative"], *case["turns"]]:
        for pattern in IDENTIFIER_PATTERNS:
            assert not re.search(pattern, text, re.I if "mrn" in pattern else 0), (case_id, pattern, text)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case_replays_through_the_service(case_id, service):
    case = CASES[case_id]
    consult = replay(service, case)
    live = {f["name"]: f["value"] for f in service.store.live_facts(consult.id)}
    assert live == case["facts"]
    codes = consult.evaluate().codes()
    missing = set(case["expect"].get("fires", [])) - codes
    unwanted = set(case["expect"].get("absent", [])) & codes
    assert not missing, f"expected to fire: {sorted(missing)}; concluded: {sorted(codes)}"
    assert not unwanted, f"must not fire: {sorted(unwanted)}"
    # What the log recorded for the last turn is what the engine concludes now.
    last = service.store.db.execute("select max(turn_id) from findings where consult_id = ?", [consult.id]).fetchone()[
        0
    ]
    logged = {
        r["code"] for r in service.store.db["findings"].rows_where("consult_id = ? and turn_id = ?", [consult.id, last])
    }
    assert logged == codes


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case_facts_alone_give_the_expected_findings(case_id):
    """The [facts] without the dialogue: a learner's grading reads these, so they must agree."""
    case = CASES[case_id]
    codes = RULES.evaluate(engine_facts(case["facts"], KNOWLEDGE)).codes()
    assert set(case["expect"].get("fires", [])) <= codes
    assert not set(case["expect"].get("absent", [])) & codes


def test_cases_fire_every_finding_code():
    fired = set()
    for case in CASES.values():
        fired |= RULES.evaluate(engine_facts(case["facts"], KNOWLEDGE)).codes()
        fired |= set(case["expect"].get("fires", []))
    assert fired >= set(KNOWLEDGE.findings), f"no case fires {sorted(set(KNOWLEDGE.findings) - fired)}"
    declared = {c for case in CASES.values() for c in case["expect"].get("fires", [])}
    assert declared == set(KNOWLEDGE.findings), (
        f"not declared in any case: {sorted(set(KNOWLEDGE.findings) - declared)}"
    )


def test_at_least_two_truly_refractory_cases_reach_step4():
    refractory = [
        cid
        for cid, case in CASES.items()
        if STEP4_TOGETHER <= RULES.evaluate(engine_facts(case["facts"], KNOWLEDGE)).codes()
        and STEP4_TOGETHER <= set(case["expect"]["fires"])
    ]
    assert len(refractory) >= 2, refractory


# -- dialogue regressions found while writing the cases ------------------------------------------------------
def _live(service, chat_id):
    row = service.store.open_consult("test", chat_id)
    return {f["name"]: f["value"] for f in service.store.live_facts(row["id"])}


def test_regression_unknown_to_a_detail_question_keeps_the_drug_tried(service):
    """'unknown' to the dose question was read as 'gabapentin unknown': tried flipped to unknown."""
    # dose, doses a day, weeks, weeks at the highest dose unknown; then the effect unknown
    for text in ("gabapentin yes", "unknown", "unknown", "unknown", "unknown", "unknown"):
        service.handle("test", "u", text)
    live = _live(service, "u")
    assert live["trial.gabapentin.tried"] == "yes"
    for detail in ("dose", "doses_per_day", "weeks", "weeks_at_max"):
        assert f"trial.gabapentin.{detail}" not in live
    assert live["trial.gabapentin.outcome"] == "unknown"


def test_regression_skip_is_not_tried(service):
    """'skip' to 'Has pregabalin been tried?' was read as 'pregabalin skip' = tried."""
    for text in ("gabapentin no", "skip"):
        service.handle("test", "s", text)
    assert "trial.pregabalin.tried" not in _live(service, "s")


def test_regression_bare_capsaicin_reply_is_asked_not_recorded_as_the_patch(service):
    """'capsaicin' typed at the Qutenza question recorded the 8% patch as tried (and kept it
    after the clinician said it was the cream), which could open Step 4."""
    service.handle(
        "test",
        "c",
        "focal pain; gabapentin 600 qid no help; pregabalin no; duloxetine 60 no help; tca no; combination yes",
    )
    replies = service.handle("test", "c", "capsaicin")
    assert any(c.value == "capsaicin cream tried" for r in replies for c in r.choices)
    assert "trial.capsaicin8.tried" not in _live(service, "c")
    service.handle("test", "c", "capsaicin cream tried")
    live = _live(service, "c")
    assert live["trial.capsaicin_cream.tried"] == "yes" and "trial.capsaicin8.tried" not in live
