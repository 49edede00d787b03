"""How rules/engine.py drives durable_rules' core, where it takes a shorter way than durable's own
host: each shortcut gives what the long way gives (the whole corpus: tests/test_engine_equivalence.py)."""

from __future__ import annotations

import json

import pytest
from durable import lang
from engine_corpus import KNOWLEDGE, examples_base

from neuroladder.rules import modules
from neuroladder.rules.conditions import _fnv1a, engine_form, kinds_only_absent
from neuroladder.rules.dsl import _params_key
from neuroladder.rules.engine import LadderRules, RuleError
from neuroladder.rules.facts import engine_facts


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"agent": "Gabapentin"},
        {"dose": "2400", "agent": "Pregabalin", "target": "600", "caution": ""},
        {"dpd": 3, "agent": "Gabapentin"},
        {"text": 'dose "≥ 1.2 g"\\day\n\tµ €'},
        {"ok": True, "weeks": 17.4, "none": None},
        {"agents": ["gabapentin", "duloxetine"], "nested": {"b": 1, "a": 2}},
        {"odd": object.__new__(type("Odd", (), {"__str__": lambda self: "odd"}))},
    ],
)
def test_a_findings_key_is_its_parameters_as_json_writes_them(params):
    # Finding.key identifies a finding across evaluations (what changed, the findings log).
    assert _params_key(params) == json.dumps(params, sort_keys=True, default=str)


def _definition() -> dict:
    with lang.ruleset("adapter_test_ladder"):
        for module in modules.ALL:
            module.define(KNOWLEDGE)
    return lang._rulesets.pop("adapter_test_ladder").define()[1]


def test_a_kind_that_only_none_conditions_name_is_only_ever_asked_about():
    only_absent = kinds_only_absent(_definition())
    assert "open" in only_absent  # "nothing past the ladder while any rung is open"
    assert not only_absent & {"trial", "phase", "target", "problem", "status"}


def test_open_rungs_of_one_consult_never_hold_back_step_4_in_the_next():
    rules = LadderRules(KNOWLEDGE)
    first = rules.evaluate(engine_facts({}, KNOWLEDGE))  # everything open
    opened = [d["fact"]["rung"] for d in first.derived.values() if d["fact"]["kind"] == "open"]
    assert len(opened) > 3
    not_yet = next(f for f in first.findings if f.code == "STEP4_NOT_YET")
    assert all(rung in not_yet.params["open"] for rung in opened)
    assert "STEP4_REFERRAL" not in first.codes()
    refractory = rules.evaluate(engine_facts(examples_base()["refractory"], KNOWLEDGE))
    assert "STEP4_REFERRAL" in refractory.codes() and "STEP4_NOT_YET" not in refractory.codes()


def test_a_fact_met_before_is_read_as_it_is_now_not_as_the_memo_last_kept_it():
    # 70 and 70.0 are equal in Python and in the engine, but a finding says "At 70.0" for the second.
    rules = LadderRules(KNOWLEDGE)
    base = examples_base()["refractory"]
    as_int = rules.evaluate(engine_facts(dict(base, age=70), KNOWLEDGE))
    as_float = rules.evaluate(engine_facts(dict(base, age=70.0), KNOWLEDGE))
    rules._known.clear()
    fresh = rules.evaluate(engine_facts(dict(base, age=70.0), KNOWLEDGE))
    assert [f.to_dict() for f in as_float.findings] == [f.to_dict() for f in fresh.findings]
    asks = {f.code: f.text for f in as_int.findings}, {f.code: f.text for f in as_float.findings}
    assert asks[0]["FALLS_ASK"].startswith("At 70:") and asks[1]["FALLS_ASK"].startswith("At 70.0:")


def test_a_value_of_a_type_the_rules_never_compare_it_with_fails_loudly():
    # The core would compare the word "yes" with true as text ("true"): never met, so refused.
    facts = engine_facts(examples_base()["refractory"], KNOWLEDGE)
    trial = next(f for f in facts if f["id"] == "trial.gabapentin")
    trial["tried"] = True
    with pytest.raises(RuleError, match="tried"):
        LadderRules(KNOWLEDGE).evaluate(facts)


def test_every_fixed_value_comparison_reaches_the_core_as_a_flag_it_finds_by_name():
    definition = {name: {"all": rule["all"]} for name, rule in _definition().items()}  # without the consequents
    for_core, forms = engine_form(definition)
    text = json.dumps(for_core)
    assert '{"kind": ' not in text and '"$ex": {"kind=trial": 1}' in text
    tried = dict((field, names) for field, names, _ in forms["trial"].flags)["tried"]
    assert tried == {"yes": "tried=yes", "unknown": "tried=unknown"}
    assert "tried" not in forms["trial"].raw and "agent" in forms["trial"].raw  # agent is also joined on


def test_the_property_hash_is_the_cores_fnv1a():
    # Two property names with one hash would be one test to the core: engine_form refuses them.
    assert _fnv1a("a") == 0xE40C292C and _fnv1a("foobar") == 0xBF9CF968
