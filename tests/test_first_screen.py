"""The first screen: the single next step first, findings ranked critical > warning > info with
actions before status cards, /summary within one phone screen, and a change display that shows
whole findings and names Step 4 only when Step 4 is what changed."""

from __future__ import annotations

import pytest
from case_files import CASES, CHANNEL, replay

from neuroladder.bot.dialogue.consult import Consult
from neuroladder.bot.views.first_screen import LIMIT
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import Finding, LadderRules
from neuroladder.rules.facts import engine_facts
from neuroladder.rules.ranking import is_action, next_step, rank, ranking

KNOWLEDGE = load_knowledge()
RULES = LadderRules(KNOWLEDGE)
SEVERITY = {s: i for i, s in enumerate(ranking()["severity"])}

WORKED_UP = (
    "duloxetine 60 mg x 8 weeks no benefit; gabapentin 2 weeks at max; never had a TCA; never tried pregabalin; "
    "combination tried for 8 weeks, no benefit; diffuse pain in both feet; 58 yo; CrCl 80; no diabetes; b12 normal; "
    "spep normal; no red flags"
)


def said(service, text: str, chat: str = "fs") -> str:
    return "\n".join(r.plain() for r in service.handle(CHANNEL, chat, text, author="doc"))


def consult(service, chat: str = "fs") -> Consult:
    return Consult(service.tk, service.store, service.store.open_consult(CHANNEL, chat))


# -- ranking ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_findings_rank_by_severity_then_actions_before_status(case_id):
    ev = RULES.evaluate(engine_facts(CASES[case_id]["facts"], KNOWLEDGE))
    order = {code: i for i, code in enumerate(KNOWLEDGE.findings)}
    asks = set(ranking()["asks"])
    keys = [
        (SEVERITY[f.severity], not is_action(f.code, KNOWLEDGE), f.code in asks, order[f.code]) for f in ev.findings
    ]
    assert keys == sorted(keys), [f.code for f in ev.findings]


def test_a_status_card_never_stands_above_an_action_of_its_severity():
    # Refractory case: the Step 4 referral (an action) leads; 'adequate trial' cards come after it.
    ev = RULES.evaluate(engine_facts(CASES["14_refractory_diffuse"]["facts"], KNOWLEDGE))
    codes = [f.code for f in ev.findings]
    assert codes[0] == "STEP4_REFERRAL", codes
    assert next_step(ev.findings, KNOWLEDGE).code == "STEP4_REFERRAL"
    assert codes.index("TRIAL_ADEQUATE") > codes.index("STEP4_REFERRAL")


def test_strong_opioids_are_never_the_next_step_on_their_own():
    ev = RULES.evaluate(engine_facts(CASES["14_refractory_diffuse"]["facts"], KNOWLEDGE))
    only_opioids = [f for f in ev.findings if f.code == "STRONG_OPIOIDS_LAST_RESORT"]
    assert only_opioids and next_step(only_opioids, KNOWLEDGE) is None


def test_a_code_the_ranking_has_never_seen_ranks_by_severity_and_file_order():
    known = Finding("TRIAL_ADEQUATE", "info", "first_line", "t", ["1"], "r", [])
    new_warning = Finding("SOME_FUTURE_CODE", "warning", "safety", "t", ["1"], "r", [])
    new_info = Finding("ANOTHER_FUTURE_CODE", "info", "safety", "t", ["1"], "r", [])
    ranked = rank([new_info, known, new_warning], KNOWLEDGE)
    assert [f.code for f in ranked] == ["SOME_FUTURE_CODE", "TRIAL_ADEQUATE", "ANOTHER_FUTURE_CODE"]
    assert not is_action("SOME_FUTURE_CODE", KNOWLEDGE)


# -- /summary: one phone screen ------------------------------------------------------------------
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_the_summary_of_every_case_fits_one_phone_screen_and_leads_with_the_next_step(case_id, service):
    c = replay(service, CASES[case_id], chat_id=case_id)
    [reply] = service.handle(CHANNEL, case_id, "/summary", author="doc")
    text = reply.plain()
    assert len(text) <= LIMIT, f"{len(text)} characters:\n{text}"
    ev = c.evaluate()
    step = next_step(ev.findings, KNOWLEDGE)
    lines = text.splitlines()
    assert lines[0] == "Consult summary"
    if step is not None:
        assert lines[1].startswith("Next step: ") and KNOWLEDGE.findings[step.code]["summary"] in lines[1]
        assert step.text in text  # whole, with its sources
    assert "/findings" in [c.value for c in reply.choices] and "/unknowns" in [c.value for c in reply.choices]
    # Every critical finding is on the first screen.
    for f in ev.findings:
        if f.severity == "critical":
            assert KNOWLEDGE.findings[f.code]["summary"] in text


def test_a_long_consult_still_fits_and_the_rest_is_behind_the_buttons(service):
    said(
        service,
        "gabapentin 300 mg tid x 4 months, no help; duloxetine 30; never had a TCA; pain in both feet; 78 yo; eGFR 35",
    )
    [summary] = service.handle(CHANNEL, "fs", "/summary")
    assert len(summary.plain()) <= LIMIT
    assert [c.label for c in summary.choices][:4] == ["All findings", "Unknowns", "Sources", "How? (#1)"]
    ev = consult(service).evaluate()
    everything = said(service, "/findings")
    for i, f in enumerate(ev.findings, 1):
        assert f.text in everything and f"/how {i}" in everything
    unknown = said(service, "/unknowns")
    assert unknown.startswith("Still unknown (") and "- combination therapy" in unknown


def test_the_budget_holds_even_for_a_tiny_screen(service):
    said(service, "gabapentin 300 mg tid x 4 months, no help; duloxetine 30; pain in both feet; 78 yo; eGFR 35")
    c = consult(service)
    from neuroladder.bot.views.first_screen import first_screen

    answers = c.answers()
    ev = c.evaluate(answers)
    small = first_screen(answers, ev, c.unknowns(answers, ev), service.tk.render, limit=600)
    assert len(small.plain()) <= 600 and small.plain().splitlines()[1].startswith("Next step: ")


# -- replies that carry findings -----------------------------------------------------------------
def test_a_turn_that_brings_findings_leads_with_the_next_step(service):
    reply = said(service, "gabapentin 300 mg tid x 4 months, no help; duloxetine 30")
    after_echo = reply[reply.index("Noted: ") :].splitlines()[1]
    step = next_step(consult(service).evaluate().findings, KNOWLEDGE)
    assert after_echo.startswith("Next step: ") and KNOWLEDGE.findings[step.code]["summary"] in after_echo
    # the under-dosed warnings that rest on what was just typed, whole, with their sources
    assert "duloxetine trial not adequate: 30 of 60 mg/day. An adequate trial needs" in reply


def test_a_turn_that_changes_nothing_in_the_advice_shows_no_findings(service):
    said(service, "gabapentin 300 mg tid x 4 months, no help")
    reply = said(service, "no weakness")  # weakness/fatigue is not asked below 65: no finding moves
    assert "Next step" not in reply


# -- the change display after a correction -------------------------------------------------------
def test_reaching_step4_is_named_and_shown_whole(service):
    said(service, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    said(service, WORKED_UP)
    reply = said(service, "actually gabapentin was 2400 mg/day")
    assert "Step 4 reached." in reply
    assert "Next step: ⚠ " + KNOWLEDGE.findings["STEP4_REFERRAL"]["summary"] in reply or "Consult summary" in reply
    assert "Guidelines disagree" in reply  # the opioid card, whole
    assert "Not yet Step 4" not in reply  # implied by "Step 4 reached"; never "No longer: Not yet Step 4"
    assert "No longer:\n- Under-dosed trial: not adequate (gabapentin)" in reply

    back = said(service, "/undo")
    assert "No longer Step 4." in back
    assert "Step 4 reached" not in back


def test_only_the_open_rungs_changed_is_an_update_not_a_milestone(service):
    said(
        service,
        "gabapentin 1200 mg/day in 3 doses for 3 months, 2 weeks at max, no help; duloxetine 30 mg x 8 weeks no help",
    )
    reply = said(service, "actually duloxetine was 60 mg")
    assert "Step 4" not in reply.replace("Step 4: specialist", "") or "Updated:" in reply
    assert "Step 4 reached" not in reply and "No longer Step 4" not in reply
    assert "- Not yet Step 4" not in reply
    assert "Updated:\n~ ℹ Spinal cord stimulation, rTMS and strong opioids" in reply and "not next yet" in reply


def test_a_changed_finding_is_shown_whole_not_cut_at_its_first_sentence(service):
    said(
        service,
        "gabapentin 2400 mg/day in 3 doses for 3 months, no help; duloxetine 60 mg x 8 weeks no help; "
        "combination tried",
    )
    reply = said(service, "actually no combination")
    [card] = [f for f in consult(service).evaluate().findings if f.code == "COMBINATION_NOT_TRIED"]
    assert card.text in reply  # whole, e.g. ... with additive benefit [3, 2] and the caution after it


def test_the_turn_that_ends_the_intake_shows_the_next_step_once(service):
    case = CASES["14_refractory_diffuse"]
    for text in case["turns"][:-1]:
        said(service, text, chat="end")
    last = said(service, case["turns"][-1], chat="end")
    assert "Consult summary" in last
    [card] = [f for f in consult(service, "end").evaluate().findings if f.code == "STEP4_REFERRAL"]
    assert last.count(card.text) == 1


def test_strong_opioids_are_never_reduced_to_a_one_line_summary(service):
    from neuroladder.bot.views.reply import Reply

    ev = RULES.evaluate(engine_facts(CASES["14_refractory_diffuse"]["facts"], KNOWLEDGE))
    [opioids] = [f for f in ev.findings if f.code == "STRONG_OPIOIDS_LAST_RESORT"]
    line = Reply()
    service.tk.render.finding_line(line, opioids, 5)
    assert "Guidelines disagree" in line.plain() and "specialist-led" in line.plain()


def test_a_card_about_another_drug_is_not_an_update_of_this_one():
    from neuroladder.bot.dialogue.changes import delta

    def underdosed(agent, dose):
        return Finding(
            "TRIAL_UNDERDOSED",
            "warning",
            "first_line",
            f"{agent} {dose}",
            ["1"],
            "r",
            [],
            {"agent": agent, "dose": dose},
        )

    d = delta([underdosed("gabapentin", 900)], [underdosed("duloxetine", 30)])
    assert [f.params["agent"] for f in d.added] == ["duloxetine"] and not d.updated
    assert [f.params["agent"] for f in d.gone] == ["gabapentin"]
    d = delta([underdosed("gabapentin", 900)], [underdosed("gabapentin", 1200)])
    assert [f.params["dose"] for f in d.updated] == [1200] and not d.added and not d.gone
