"""Questions about options are answered from the ruleset: "Can she have SCS?", "more oxy?", "what
about rTMS?", "can I add tramadol?" get whether the option is the next step, not yet (and why), or
where the seed is silent, with steps and sources. Facts are set through the real Service and SQLite;
Consult.answer_query is called directly (the parser's Parsed.queries is wired to it at merge)."""

from __future__ import annotations

import re

import pytest
from case_files import CASES, CHANNEL, replay

from neuroladder.bot.dialogue.consult import Consult
from neuroladder.rules import options as options_mod
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import engine_facts
from neuroladder.rules.options import known_options, option_status, options

KNOWLEDGE = load_knowledge()
RULES = LadderRules(KNOWLEDGE)
# The parser's fixed list of option keys (issue 11).
QUERY_KEYS = [
    "scs",
    "rtms",
    "strong_opioid",
    "weak_opioid",
    "referral",
    "combination",
    "capsaicin8",
    "botox",
    "lidocaine",
    "gabapentinoid",
    "snri",
    "tca",
    "cbt",
]
UNDERDOSED = (
    "gabapentin 2400 mg/day in 3 doses for 3 months, no help; duloxetine 30 mg x 8 weeks, no help; "
    "no combination; 58 yo; crcl 80; diffuse pain"
)


def consult_with(service, *turns: str, chat: str = "q") -> Consult:
    for text in turns:
        service.handle(CHANNEL, chat, text, author="doc")
    return Consult(service.tk, service.store, service.store.open_consult(CHANNEL, chat))


def asked(service, keys: list[str], *turns: str) -> str:
    return consult_with(service, *turns).answer_query(keys).plain()


def case_consult(service, case_id: str) -> Consult:
    return replay(service, CASES[case_id], chat_id=case_id)


# -- Step 4 options -------------------------------------------------------------------------------
def test_scs_not_yet_says_why_with_the_open_rungs_and_sources(service):
    text = asked(service, ["scs"], UNDERDOSED)
    assert text.startswith("Spinal cord stimulation (SCS): not yet.")
    assert "Step 4 follows failed first-line trials alone and in combination [1]" in text
    open_rungs = re.search(r"Open: (.*)\.", text).group(1)
    assert "adequate duloxetine trial" in open_rungs and "combination therapy" in open_rungs
    assert "Next step: " in text  # what to do instead


def test_scs_at_step4_is_the_next_step_through_a_pain_specialist(service):
    c = case_consult(service, "14_refractory_diffuse")
    text = c.answer_query(["scs"]).plain()
    assert text.startswith("Spinal cord stimulation (SCS): yes, at Step 4: refer to a pain specialist")
    [card] = [f for f in c.evaluate().findings if f.code == "STEP4_REFERRAL"]
    assert card.text in text
    assert "not yet" not in text


def test_rtms_with_a_red_flag_is_not_yet_neurology_first(service):
    c = case_consult(service, "07_cidp_red_flags")
    status = option_status("rtms", c.evaluate(), KNOWLEDGE)
    assert status.verdict == "not_yet" and "RED_FLAGS_NEUROLOGY" in status.codes
    assert any("prompt neurology review" in line for line in status.lines)


@pytest.mark.parametrize("case_id", ["01_underdosed_duloxetine", "14_refractory_diffuse", "07_cidp_red_flags"])
def test_strong_opioids_are_only_ever_last_resort_contested_specialist_led_never_alone(case_id, service):
    c = case_consult(service, case_id)
    status = option_status("strong_opioid", c.evaluate(), KNOWLEDGE)
    text = c.answer_query(["strong_opioid"]).plain()
    assert status.verdict_text.startswith(("not yet", "only as a last resort"))
    assert "yes" not in status.verdict_text
    assert "last resort" in text and "Guidelines disagree" in text and "specialist" in text
    if status.verdict == "next":  # at Step 4: the referral is the advice, opioids beside it
        [card] = [f for f in c.evaluate().findings if f.code == "STEP4_REFERRAL"]
        assert card.text in text


# -- where the seed is silent: only the safety findings that apply ---------------------------------
def test_tramadol_on_a_gabapentinoid_gets_the_seed_silence_and_the_breathing_caution(service):
    text = asked(service, ["weak_opioid"], "gabapentin 1800 mg/day in 3 doses for 3 months, no help; 72 yo")
    assert "Weak opioids (tramadol, codeine): the seed is silent." in text
    assert "[L5]" in text  # gabapentinoid with an opioid
    assert "[L6]" in text  # and 65 or older
    assert "the next step" not in text.split("Next step:")[0]


def test_tramadol_without_a_gabapentinoid_gets_no_gabapentinoid_caution(service):
    text = asked(service, ["weak_opioid"], "duloxetine 60 mg x 8 weeks, no help; 50 yo")
    assert "the seed is silent" in text and "[L5]" not in text and "[L6]" not in text
    assert "No caution from the findings applies" in text


def test_a_gabapentinoid_stopped_for_side_effects_carries_no_opioid_caution(service):
    text = asked(service, ["weak_opioid"], "gabapentin stopped for side effects; 72 yo")
    assert "[L5]" not in text


def test_lidocaine_the_seed_is_silent(service):
    text = asked(service, ["lidocaine"], "focal pain after shingles")
    assert text.startswith("Topical lidocaine: the seed is silent.")
    assert "capsaicin 8% patch [1, 2]" in text


# -- first and second line --------------------------------------------------------------------------
def test_capsaicin_for_focal_pain_not_yet_tried_is_advised(service):
    c = case_consult(service, "03_focal_no_capsaicin_patch")
    status = option_status("capsaicin8", c.evaluate(), KNOWLEDGE)
    assert status.verdict == "next" and "FOCAL_CAPSAICIN8" in status.codes


def test_capsaicin_for_diffuse_pain_says_the_patch_is_for_focal_pain(service):
    text = asked(service, ["capsaicin8"], UNDERDOSED)
    assert "no conclusion yet" in text and "recorded as diffuse" in text


def test_a_tca_at_65_or_more_carries_the_beers_caution_and_not_at_50(service):
    old = asked(service, ["tca"], "gabapentin 2400 mg/day in 3 doses for 3 months, no help; 77 yo")
    assert "potentially inappropriate" in old and "[L6]" in old
    young = consult_with(service, "gabapentin 2400 mg/day in 3 doses for 3 months, no help; 50 yo", chat="young")
    assert "[L6]" not in young.answer_query(["tca"]).plain()


def test_a_finding_about_another_drug_does_not_answer_for_this_class(service):
    c = consult_with(service, UNDERDOSED)
    gaba = option_status("gabapentinoid", c.evaluate(), KNOWLEDGE)
    snri = option_status("snri", c.evaluate(), KNOWLEDGE)
    assert "TRIAL_UNDERDOSED" not in gaba.codes  # the under-dosed trial is duloxetine's
    assert snri.verdict == "next" and "TRIAL_UNDERDOSED" in snri.codes


def test_more_gabapentin_above_the_renal_maximum_is_review_first(service):
    c = case_consult(service, "05_elderly_fatigue_renal")
    status = option_status("gabapentinoid", c.evaluate(), KNOWLEDGE)
    assert status.verdict == "not_yet" and "RENAL_DOSE_EXCEEDED" in status.codes


def test_combination_before_any_antidepressant_trial_is_not_yet(service):
    text = asked(service, ["combination"], "gabapentin 2400 mg/day in 3 doses for 3 months, no help; no snri; no tca")
    assert text.startswith("Combination therapy (a gabapentinoid with an SNRI or TCA): not yet.")


def test_two_options_asked_at_once_share_their_reason_once(service):
    text = asked(service, ["scs", "rtms"], UNDERDOSED)
    assert text.count("Step 4 follows failed first-line trials") == 1
    assert "High-frequency rTMS of the motor cortex: not yet." in text and "given above" in text


def test_asking_changes_no_fact(service):
    c = consult_with(service, UNDERDOSED)
    before = service.store.all_facts(c.id)
    c.answer_query(QUERY_KEYS)
    assert service.store.all_facts(c.id) == before


# -- the data -----------------------------------------------------------------------------------------
def test_every_key_the_parser_gives_has_an_answer(service):
    assert set(QUERY_KEYS) <= set(known_options())
    c = consult_with(service, "gabapentin 300 mg tid")
    for key in QUERY_KEYS:
        status = option_status(key, c.evaluate(), KNOWLEDGE)
        assert status.verdict in ("next", "not_yet", "done", "open", "silent") and status.lines, key
    assert option_status("acupuncture", c.evaluate(), KNOWLEDGE).verdict == "unknown"


def test_every_option_rests_on_findings_the_ruleset_has():
    """Every finding an option names exists (a renamed code would silently never match again), and
    every option that is not seed-silent rests on at least one of them."""
    for key, spec in options()["options"].items():
        named = [c for group in ("next", "not_yet", "done", "cautions") for c in spec.get(group, [])]
        named += [c for w in spec.get("when", []) for c in w.get("unless", [])]
        named += list(spec.get("verdict_by_code", {}))
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", c) for c in named), key
        assert set(named) <= set(KNOWLEDGE.findings), (key, sorted(set(named) - set(KNOWLEDGE.findings)))
        if "silent" not in spec:
            assert set(spec.get("next", []) + spec.get("not_yet", [])) & set(KNOWLEDGE.findings), key


def _texts():
    for key, spec in options()["options"].items():
        for name in ("about", "silent"):
            if name in spec:
                yield key, spec[name]
        for when in spec.get("when", []):
            yield key, when


def test_every_cited_source_is_a_declared_claim_and_every_claim_is_cited():
    for key, entry in _texts():
        cited = {label for group in re.findall(r"\[([^\]]+)\]", entry["text"]) for label in group.split(", ")}
        declared = {claim.split(".")[0] for claim in entry["claims"]}
        assert cited == declared, (key, entry["text"])


def test_a_code_no_rule_concludes_simply_never_matches(monkeypatch, service):
    data = options()
    fake = {
        **data,
        "options": {
            **data["options"],
            "scs": {**data["options"]["scs"], "not_yet": ["NO_SUCH_CODE"], "next": ["NOR_THIS"]},
        },
    }
    monkeypatch.setattr(options_mod, "options", lambda: fake)
    c = consult_with(service, UNDERDOSED)
    status = option_status("scs", c.evaluate(), KNOWLEDGE)
    assert status.verdict == "open" and status.codes == []


def test_the_option_answer_follows_a_changed_threshold():
    facts = {"trial.duloxetine.dose": 40, "trial.duloxetine.weeks": 8, "trial.duloxetine.outcome": "no_benefit"}
    strict = RULES.evaluate(engine_facts(facts, KNOWLEDGE))
    relaxed_k = load_knowledge({"duloxetine": {"adequate_mg_day": 40}})
    relaxed = LadderRules(relaxed_k).evaluate(engine_facts(facts, relaxed_k))
    assert "TRIAL_UNDERDOSED" in option_status("snri", strict, KNOWLEDGE).codes
    assert "TRIAL_UNDERDOSED" not in option_status("snri", relaxed, relaxed_k).codes


def _with(findings, facts):
    from neuroladder.rules.engine import Evaluation

    return Evaluation(findings, {}, {f["id"]: f for f in facts})


def test_findings_the_ruleset_is_growing_into_are_read_when_they_come():
    from neuroladder.rules.engine import Finding

    gaba = {
        "kind": "trial",
        "id": "trial.gabapentin",
        "agent": "gabapentin",
        "cls": "gabapentinoid",
        "tried": "yes",
        "outcome": "no_benefit",
    }
    on_board = Finding(
        "STRONG_OPIOID_ON_BOARD",
        "warning",
        "safety",
        "Already on oxycodone: do not escalate it [2].",
        ["2"],
        "r",
        [],
        {"agent": "oxycodone"},
    )
    both = Finding(
        "OPIOID_GABAPENTINOID", "warning", "safety", "gabapentin and oxycodone together [L5].", ["L5"], "r", []
    )
    status = option_status("strong_opioid", _with([on_board, both], [gaba]), KNOWLEDGE)
    assert status.verdict == "not_yet" and status.verdict_text.startswith("not more")
    assert "Already on oxycodone: do not escalate it [2]." in status.lines
    # The concluded finding says it: the option's own fact-conditioned line is not repeated.
    assert "gabapentin and oxycodone together [L5]." in status.lines
    assert not [line for line in status.lines if line.startswith("A gabapentinoid is recorded")]
    without = option_status("strong_opioid", _with([], [gaba]), KNOWLEDGE)
    assert [line for line in without.lines if line.startswith("A gabapentinoid is recorded")]
