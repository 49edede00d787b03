"""Every finding code, fired and nearly fired, through the real engine; and the ladder's principles.

tests/finding_examples.toml holds, per code, fact sets that must fire it and near misses that must
not. The principle tests pin clinical-notes.md: nothing past the ladder too early, an under-dosed
trial is never adequate, strong opioids only with Step 4, every finding sourced.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import SCHEMA, TRIAL_PARTS, check, engine_facts, schema_kind

KNOWLEDGE = load_knowledge()
RULES = LadderRules(KNOWLEDGE)
EXAMPLES = tomllib.loads((Path(__file__).parent / "finding_examples.toml").read_text(encoding="utf-8"))
BASES = EXAMPLES.pop("base")
FIRST_LINE = [a for a, spec in KNOWLEDGE.agents.items() if spec["class"] in ("gabapentinoid", "snri", "tca")]
STEP4_ONLY = {"STEP4_REFERRAL", "STRONG_OPIOIDS_LAST_RESORT"}


def facts_of(example: dict) -> dict:
    example = copy.deepcopy(example)
    answers = copy.deepcopy(BASES[example.pop("base")]) if "base" in example else {}
    for name in example.pop("drop", []):
        answers.pop(name, None)
    answers.update(example)
    return answers


def evaluate(answers: dict):
    for name, value in answers.items():
        assert check(name, value, KNOWLEDGE) == value, f"{name}={value!r} is not a valid consult fact"
    return RULES.evaluate(engine_facts(answers, KNOWLEDGE))


def codes(answers: dict) -> set[str]:
    return evaluate(answers).codes()


def _cases(kind: str):
    return [
        pytest.param(code, i, id=f"{code}-{i}")
        for code in KNOWLEDGE.findings
        for i in range(len(EXAMPLES.get(code, {}).get(kind, [])))
    ]


# -- every code: fires, and a near miss that must not ----------------------------------------------------
def test_every_finding_code_has_examples():
    missing = [
        code
        for code in KNOWLEDGE.findings
        if not EXAMPLES.get(code, {}).get("fires") or not EXAMPLES.get(code, {}).get("misses")
    ]
    assert not missing, f"finding codes without a firing example and a near miss: {missing}"
    unknown = set(EXAMPLES) - set(KNOWLEDGE.findings)
    assert not unknown, f"examples for codes findings.toml does not have: {sorted(unknown)}"


def test_the_refractory_base_reaches_step4():
    assert STEP4_ONLY <= codes(BASES["refractory"])


@pytest.mark.parametrize("code,i", _cases("fires"))
def test_example_fires(code, i):
    got = codes(facts_of(EXAMPLES[code]["fires"][i]))
    assert code in got, f"{code} should fire; concluded {sorted(got)}"


@pytest.mark.parametrize("code,i", _cases("misses"))
def test_near_miss_does_not_fire(code, i):
    got = codes(facts_of(EXAMPLES[code]["misses"][i]))
    assert code not in got, f"{code} must not fire on this near miss"


# -- principle 1 / 3: nothing past the ladder while an earlier rung is open -------------------------------
REFRACTORY = BASES["refractory"]
OPEN_RUNGS = {
    # a first-line trial that is not adequate (under-dosed, not divided, too short, details missing)
    "duloxetine 30 mg": {"trial.duloxetine.dose": 30},
    "gabapentin 1200 mg": {"trial.gabapentin.dose": 1200},
    "gabapentin once daily": {"trial.gabapentin.doses_per_day": 1},
    "pregabalin 150 mg beside adequate gabapentin": {
        "trial.pregabalin.dose": 150,
        "trial.pregabalin.outcome": "no_benefit",
    },
    "TCA 3 weeks": {"trial.tca.weeks": 3, "trial.tca.weeks_at_max": 1, "trial.tca.outcome": "no_benefit"},
    "TCA 8 weeks, 1 at max": {"trial.tca.weeks": 8, "trial.tca.weeks_at_max": 1},
    "TCA duration unknown": {"trial.tca.tried": "yes"},
    "TCA 10-25 mg, maximum tolerated not known": {
        "trial.tca.dose": 25,
        "trial.tca.weeks": 8,
        "trial.tca.weeks_at_max": 4,
        "trial.tca.outcome": "no_benefit",
    },
    "TCA 25 mg, not raised to the maximum tolerated": {
        "trial.tca.dose": 25,
        "trial.tca.weeks": 8,
        "trial.tca.weeks_at_max": 4,
        "trial.tca.max_tolerated": "no",
    },
    "gabapentin 2400 mg for 10 days": {"trial.gabapentin.weeks": 1.4, "trial.gabapentin.weeks_at_max": 1.4},
    "duloxetine 60 mg for 2 weeks": {"trial.duloxetine.weeks": 2},
    "duloxetine duration unknown": {"trial.duloxetine.weeks": None},
    "gabapentin doses a day unknown": {"trial.gabapentin.doses_per_day": None},
    "gabapentin weeks at the maximum unknown": {"trial.gabapentin.weeks_at_max": None},
    "pregabalin 3 weeks": {
        "trial.pregabalin.dose": 300,
        "trial.pregabalin.weeks": 3,
        "trial.pregabalin.outcome": "no_benefit",
    },
    "combination tried, effect unknown": {"combination.outcome": None},
    "combination was SNRI + TCA": {"combination.agents": ["duloxetine", "tca"]},
    "B12 near the cut-off": {"b12": None, "b12_level": 180},
    "HbA1c 8.4% though called controlled": {"diabetes": "controlled", "hba1c": 8.4},
    "HbA1c 7.5%, target not stated": {"diabetes": "unknown", "hba1c": 7.5},
    "older, pregabalin with dizziness and falls": {
        "age": 77,
        "trial.pregabalin.dose": 300,
        "trial.pregabalin.weeks": 6,
        "trial.pregabalin.outcome": "no_benefit",
        "trial.pregabalin.adverse": ["dizziness", "falls"],
    },
    "not known whether duloxetine was tried": {
        "trial.duloxetine.tried": "unknown",
        "trial.duloxetine.dose": None,
        "trial.duloxetine.weeks": None,
        "trial.duloxetine.outcome": None,
    },
    "gabapentin dose unknown": {"trial.gabapentin.dose": None},
    "duloxetine effect unknown": {"trial.duloxetine.outcome": "unknown"},
    "gabapentin above the renal maximum": {"crcl": 35},
    "no gabapentinoid": {
        "trial.gabapentin.tried": "no",
        "trial.gabapentin.dose": None,
        "trial.gabapentin.weeks": None,
        "trial.gabapentin.weeks_at_max": None,
        "trial.pregabalin.tried": "no",
        "trial.gabapentin.doses_per_day": None,
        "trial.gabapentin.outcome": None,
    },
    "only venlafaxine (seed silent)": {
        "trial.duloxetine.tried": "no",
        "trial.duloxetine.dose": None,
        "trial.duloxetine.weeks": None,
        "trial.duloxetine.outcome": None,
        "trial.venlafaxine.dose": 225,
    },
    # combination untried or unknown
    "combination not tried": {"combination": "no"},
    "combination unknown": {"combination": "unknown"},
    # focal pain with the capsaicin 8% patch untried
    "focal, no capsaicin 8%": {"pain_pattern": "focal", "trial.botox.tried": "yes"},
    "focal, capsaicin cream only": {
        "pain_pattern": "focal",
        "trial.capsaicin_cream.tried": "yes",
        "trial.botox.tried": "yes",
    },
    "pain pattern unknown": {"pain_pattern": "unknown"},
    # a treatable cause unchecked or present
    "diabetes unchecked": {"diabetes": "unknown"},
    "diabetes uncontrolled": {"diabetes": "uncontrolled"},
    "B12 unchecked": {"b12": "unknown"},
    "B12 low": {"b12": "low"},
    "paraprotein unchecked": {"paraprotein": "unknown"},
    "paraprotein found": {"paraprotein": "abnormal"},
    "renal function unknown on a gabapentinoid": {"crcl": None},
    # red flags
    "red flags unchecked": {f"flag.{flag}": "unknown" for flag in KNOWLEDGE.red_flags},
    "one red flag not asked": {"flag.areflexia": None},
    "red flags unchecked (legacy answer)": {
        "red_flags": "unknown",
        **{f"flag.{flag}": None for flag in KNOWLEDGE.red_flags},
    },
    **{f"red flag {flag}": {f"flag.{flag}": "yes"} for flag in KNOWLEDGE.red_flags},
    # the drug itself may be the problem
    "elderly, fatigue on gabapentin": {"age": 80, "weakness_fatigue": "yes"},
    "elderly on gabapentin, fatigue not asked": {"age": 80},
    # a trial that is working
    "duloxetine helping": {"trial.duloxetine.outcome": "good"},
}


def _with(base: dict, change: dict) -> dict:
    out = dict(base)
    for name, value in change.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("rung", sorted(OPEN_RUNGS))
def test_no_step4_while_an_earlier_rung_is_open(rung):
    got = codes(_with(REFRACTORY, OPEN_RUNGS[rung]))
    assert not got & STEP4_ONLY, f"{rung}: Step 4 offered too early ({sorted(got & STEP4_ONLY)})"
    assert "STEP4_NOT_YET" in got


def test_step4_not_yet_names_what_is_open():
    ev = evaluate(_with(REFRACTORY, {"trial.duloxetine.dose": 30, "b12": "unknown"}))
    text = next(f for f in ev.findings if f.code == "STEP4_NOT_YET").text
    assert "SNRI or TCA" in text or "duloxetine" in text
    assert "B12" in text


# -- principle 2: an under-dosed or too-short trial is never adequate, never a failure ---------------------
@pytest.mark.parametrize(
    "agent,dose",
    [("gabapentin", 2399), ("gabapentin", 300), ("pregabalin", 299), ("duloxetine", 59), ("duloxetine", 30)],
)
@pytest.mark.parametrize("outcome", ["no_benefit", "partial", "good", "unknown"])
def test_underdosed_trial_is_never_adequate(agent, dose, outcome):
    ev = evaluate({"crcl": 90, f"trial.{agent}.dose": dose, f"trial.{agent}.outcome": outcome})
    assert "TRIAL_UNDERDOSED" in ev.codes()
    assert "TRIAL_ADEQUATE" not in ev.codes()
    assert not {"EXPECTATIONS", "TRIAL_RESPONDING"} & ev.codes()


@pytest.mark.parametrize("weeks,at_max", [(3, 1), (5, 2), (8, 1), (2, 2)])
def test_short_tca_is_never_adequate(weeks, at_max):
    got = codes({"trial.tca.weeks": weeks, "trial.tca.weeks_at_max": at_max, "trial.tca.outcome": "no_benefit"})
    assert "TRIAL_TOO_SHORT" in got and "TRIAL_ADEQUATE" not in got and "EXPECTATIONS" not in got


def test_side_effects_are_tolerability_not_adequacy():
    ev = evaluate({"trial.duloxetine.dose": 60, "trial.duloxetine.outcome": "side_effects"})
    assert "TRIAL_NOT_TOLERATED" in ev.codes() and "TRIAL_ADEQUATE" not in ev.codes()
    text = next(f for f in ev.findings if f.code == "TRIAL_NOT_TOLERATED").text
    assert "tolerability" in text and "not of efficacy" in text


# -- properties over random consults -------------------------------------------------------------------------
def _value_strategy(name: str, kind):
    if isinstance(kind, tuple):
        return st.sampled_from(kind)
    if kind == "flags":
        return st.one_of(
            st.just("unknown"),
            st.lists(st.sampled_from(sorted(KNOWLEDGE.red_flags)), unique=True, max_size=2).map(sorted),
        )
    if kind == "adverse":
        return st.lists(st.sampled_from(sorted(KNOWLEDGE.adverse_effects)), unique=True, max_size=2).map(sorted)
    if kind == "agents":
        return st.lists(st.sampled_from(sorted(KNOWLEDGE.agents)), unique=True, min_size=2, max_size=2).map(sorted)
    if name == "hba1c":
        return st.sampled_from([5.5, 6.9, 7.0, 7.5, 8.0, 11.2])
    if name == "b12_level":
        return st.sampled_from([90, 147, 148, 180, 300])
    if name == "age":
        return st.integers(18, 100)
    if name in ("crcl", "egfr"):
        return st.sampled_from([5, 14, 15, 25, 29, 30, 45, 59, 60, 90, 120])
    if name.endswith("doses_per_day"):
        return st.integers(1, 4)
    if name.endswith("weeks") or name.endswith("weeks_at_max"):
        return st.sampled_from([1, 2, 3, 5, 6, 8, 12])
    return st.sampled_from([25, 30, 60, 75, 150, 225, 300, 600, 700, 900, 1200, 1400, 1800, 2400, 3600])


SIMPLE = [n for n in SCHEMA if "\\" not in n]
FLAG_NAMES = [f"flag.{flag}" for flag in KNOWLEDGE.red_flags]
ALL_NAMES = SIMPLE + FLAG_NAMES + [f"trial.{a}.{p}" for a in KNOWLEDGE.agents for p in TRIAL_PARTS]


def _some_facts(max_size: int):
    return st.dictionaries(st.sampled_from(ALL_NAMES), st.none(), max_size=max_size).flatmap(
        lambda keys: st.fixed_dictionaries({n: _value_strategy(n, schema_kind(n)) for n in keys})
    )


consults = _some_facts(14)
# Most random consults are far from Step 4; also explore a few changes away from the refractory patient.
near_refractory = _some_facts(3).map(lambda changes: {**REFRACTORY, **changes})
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each property runs twice: a few examples in the fast loop (`-m "not slow"`), all 150 in the whole suite.
BOTH_SIZES = pytest.mark.parametrize("examples", [15, pytest.param(150, marks=pytest.mark.slow)])


def _hold(prop, examples: int, *strategies) -> None:
    """Check `prop` on `examples` drawn examples of `strategies`."""
    settings(SLOW, max_examples=examples)(given(*strategies)(prop))()


def _agent_key(label: str) -> str:
    return next(a for a, spec in KNOWLEDGE.agents.items() if spec["label"] == label)


def _check_principles(answers: dict) -> None:
    ev = evaluate(answers)
    got = ev.codes()
    # Strong opioids (and the rest of Step 4) never without STEP4_REFERRAL; exactly one Step 4 verdict.
    if got & STEP4_ONLY:
        assert "STEP4_REFERRAL" in got
    assert ("STEP4_REFERRAL" in got) != ("STEP4_NOT_YET" in got)
    # An under-dosed / too-short / not-divided trial is never adequate.
    inadequate = set()
    for f in ev.findings:
        if f.code in ("TRIAL_UNDERDOSED", "TRIAL_DETAILS_MISSING"):
            inadequate.add(_agent_key(f.params["agent"]))
        elif f.code == "TRIAL_TOO_SHORT":
            inadequate.add(_agent_key(f.params["agent"]))
        elif f.code == "TCA_NOT_MAX_TOLERATED":
            inadequate.add("tca")
        elif f.code == "TRIAL_NOT_DIVIDED":
            inadequate.add("gabapentin")
    adequate = {_agent_key(f.params["agent"]) for f in ev.findings if f.code == "TRIAL_ADEQUATE"}
    assert not adequate & inadequate
    # Step 4 only when every first-line trial given is adequate or stopped for side effects,
    # and no cause, red flag, combination or focal option is open.
    if "STEP4_REFERRAL" in got:
        for agent in inadequate & set(FIRST_LINE):
            assert answers.get(f"trial.{agent}.outcome") == "side_effects", agent
        assert not got & {
            "RED_FLAGS_NEUROLOGY",
            "RED_FLAGS_UNKNOWN",
            "CIDP_IMMUNOTHERAPY",
            "RENAL_DOSE_EXCEEDED",
            "ELDERLY_GABAPENTIN_WEAKNESS",
            "ELDERLY_GABAPENTIN_ASK",
            "RENAL_FUNCTION_UNKNOWN",
            "CAUSE_DIABETES_UNCONTROLLED",
            "CAUSE_DIABETES_UNCHECKED",
            "CAUSE_B12_DEFICIENT",
            "CAUSE_B12_UNCHECKED",
            "CAUSE_PARAPROTEIN",
            "CAUSE_PARAPROTEIN_UNCHECKED",
            "GABAPENTINOID_NOT_TRIED",
            "ANTIDEPRESSANT_NOT_TRIED",
            "COMBINATION_NOT_TRIED",
            "COMBINATION_UNKNOWN",
            "FOCAL_CAPSAICIN8",
            "PAIN_PATTERN_UNKNOWN",
            "TRIAL_RESPONDING",
            "RED_FLAG_URGENT",
            "ELDERLY_DRUG_REVIEW",
            "HBA1C_TARGET_ASK",
            "B12_BORDERLINE",
            "CLASS_TRIAL_UNKNOWN",
            "STRONG_OPIOID_ON_BOARD",
            "TCA_NOT_MAX_TOLERATED",
        }
        # Combination tried and failed - or not feasible (no gabapentinoid can be given).
        assert answers.get("combination") == "yes" or "COMBINATION_NOT_FEASIBLE" in got
        if answers.get("combination") == "yes":
            assert answers.get("combination.outcome") in ("no_benefit", "partial", "waned", "side_effects")
        if answers.get("pain_pattern") == "focal":
            trials = {f["id"]: f for f in ev.base.values() if f["kind"] == "trial"}
            assert trials.get("trial.capsaicin8", {}).get("tried") == "yes"


@BOTH_SIZES
def test_principles_hold_for_random_consults(examples):
    _hold(_check_principles, examples, consults)


@BOTH_SIZES
def test_principles_hold_near_the_refractory_patient(examples):
    _hold(_check_principles, examples, near_refractory)


# -- sources -------------------------------------------------------------------------------------------------
SAYS_NO_SOURCE = ("no numbered source", "not a numbered source", "clinical judgement")


def test_every_finding_declares_a_source_that_exists():
    for code, spec in KNOWLEDGE.findings.items():
        assert spec["sources"] or any(w in spec["text"] for w in SAYS_NO_SOURCE), f"{code} has no source"
        for source in spec["sources"]:
            if source.startswith("{"):
                continue  # filled by the rule; checked on every concluded finding below
            assert source in KNOWLEDGE.sources, f"{code}: source {source!r} is not in rules/sources.toml"


def test_every_concluded_finding_cites_known_sources():
    seen = set()
    for kinds in EXAMPLES.values():
        for example in kinds["fires"]:
            for f in evaluate(facts_of(example)).findings:
                assert f.sources or any(w in f.text for w in SAYS_NO_SOURCE), f.code
                assert set(f.sources) <= set(KNOWLEDGE.sources), (f.code, f.sources)
                for source in f.sources:
                    assert f"[{source}" in f.text or f"{source}]" in f.text or f", {source}" in f.text, (f.code, source)
                seen.add(f.code)
    assert seen == set(KNOWLEDGE.findings)


def test_findings_have_summary_step_and_severity():
    for code, spec in KNOWLEDGE.findings.items():
        assert spec["severity"] in ("critical", "warning", "info"), code
        assert spec["step"] in KNOWLEDGE.steps, code
        assert 0 < len(spec["summary"]) < 140, code


# -- order independence over random consults, every fact kind included -----------------------------------
def _signature(evaluation) -> list[tuple]:
    return sorted(
        (f.code, json.dumps(f.params, sort_keys=True, default=str), f.text, tuple(f.sources))
        for f in evaluation.findings
    )


def _order_does_not_matter(answers, data):
    facts = engine_facts(answers, KNOWLEDGE)
    shuffled = data.draw(st.permutations(facts), label="engine facts")
    assert _signature(RULES.evaluate(shuffled)) == _signature(RULES.evaluate(facts))


@BOTH_SIZES
def test_findings_do_not_depend_on_fact_order(examples):
    _hold(_order_does_not_matter, examples, consults, st.data())


@BOTH_SIZES
def test_findings_near_the_refractory_patient_do_not_depend_on_fact_order(examples):
    _hold(_order_does_not_matter, examples, near_refractory, st.data())
