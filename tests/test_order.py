"""Findings do not depend on the order facts arrive in (design.md, engine notes).

For every case in conversations/cases, its [facts] are given in shuffled orders - as the engine's
fact list, and as answers stored one per consult turn in the SQLite log - and every order must
conclude exactly the same findings, texts and sources as the case's own order.
"""

from __future__ import annotations

import itertools
import json

import pytest
from case_files import CASES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroladder.bot.dialogue.consult import Consult, Toolkit
from neuroladder.bot.storage.store import Store
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.facts import engine_facts

KNOWLEDGE = load_knowledge()
TOOLKIT = Toolkit.load(KNOWLEDGE)
RULES = TOOLKIT.rules
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def signature(evaluation) -> list[tuple]:
    return sorted(
        (f.code, json.dumps(f.params, sort_keys=True, default=str), f.text, tuple(f.sources))
        for f in evaluation.findings
    )


EXPECTED = {cid: signature(RULES.evaluate(engine_facts(case["facts"], KNOWLEDGE))) for cid, case in CASES.items()}


# Every case in the whole suite; three of them (one per kind of outcome) in the fast loop.
FAST_CASES = {"01_underdosed_duloxetine", "07_cidp_red_flags", "16_refractory_renal_cap"}
EVERY_CASE = [pytest.param(c, marks=() if c in FAST_CASES else pytest.mark.slow) for c in sorted(CASES)]


@pytest.mark.parametrize("case_id", EVERY_CASE)
@SETTINGS
@given(data=st.data())
def test_engine_fact_order_does_not_matter(case_id, data):
    facts = engine_facts(CASES[case_id]["facts"], KNOWLEDGE)
    shuffled = data.draw(st.permutations(facts), label="engine facts")
    assert signature(RULES.evaluate(shuffled)) == EXPECTED[case_id]


_store = Store(":memory:")
_chats = itertools.count(1)


@pytest.mark.parametrize("case_id", EVERY_CASE)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_answer_order_through_consult_turns_does_not_matter(case_id, data):
    answers = list(CASES[case_id]["facts"].items())
    order = data.draw(st.permutations(answers), label="answers, one per turn")
    row = _store.new_consult("order-test", f"chat-{next(_chats)}", RULES.version)
    for name, value in order:
        turn = _store.add_turn(row["id"], "in", f"{name} = {value}")
        _store.set_fact(row["id"], name, value, turn)
    consult = Consult(TOOLKIT, _store, row)
    assert consult.answers() == dict(answers)
    assert signature(consult.evaluate()) == EXPECTED[case_id]


def test_every_case_is_checked():
    assert len(EXPECTED) >= 16
    assert FAST_CASES <= set(CASES)
