"""The language corpus (tests/language/*.yaml) read by the real reader, scored by bench/language_score.py.

The safety property: no stored fact ever has the opposite polarity, outcome or status of what
was typed (0 inversions). Every row of the issue-11 table is read exactly (or asked about), and
recall and precision per fact kind stay above floors set a little under the measured values, so
a regression fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "language_score.py"
spec = importlib.util.spec_from_file_location("language_score", BENCH)
score = importlib.util.module_from_spec(spec)
sys.modules["language_score"] = score  # dataclasses look their module up there
spec.loader.exec_module(score)

ENTRIES = score.load()
REPORT = score.read_all(ENTRIES)
KIND_LIST = [
    "tried",
    "dose",
    "doses_per_day",
    "weeks",
    "weeks_at_max",
    "max_tolerated",
    "outcome",
    "current",
    "adverse",
    "flag",
    "egfr",
    "crcl",
    "hba1c",
    "b12",
    "b12_level",
    "falls",
    "hepatic",
    "combination",
    "combination.agents",
    "combination.weeks",
    "combination.outcome",
    "diabetes",
    "paraprotein",
    "pain_pattern",
    "focal_cause",
    "weakness_fatigue",
    "age",
]
# Measured (bench/README.md): recall 1.00 and precision 1.00 overall, outcome recall 0.98, b12
# 0.97. Floors a little under, so that a regression fails; every other kind with 5+ facts: 0.95.
RECALL_FLOOR = {
    "all": 0.98,
    "tried": 0.98,
    "outcome": 0.95,
    "dose": 0.98,
    "weeks": 0.97,
    "flag": 0.98,
    "b12": 0.93,
    "current": 0.95,
    "adverse": 0.95,
}
PRECISION_FLOOR = {
    "all": 0.98,
    "tried": 0.98,
    "outcome": 0.97,
    "dose": 0.98,
    "weeks": 0.97,
    "flag": 0.98,
    "b12": 0.95,
    "current": 0.95,
    "adverse": 0.95,
}
DEFAULT_FLOOR = 0.95
HOLDOUT = score.read_all(score.load(score.CORPUS / "holdout"))
BLIND = score.read_all(score.load(score.CORPUS / "blind"))
BLIND2 = score.read_all(score.load(score.CORPUS / "blind2"))


def test_the_corpus_is_big_enough_and_covers_every_fact_kind():
    assert len(ENTRIES) >= 400
    covered = {score.kind_of(name) for e in ENTRIES for name in e.facts}
    assert set(KIND_LIST) <= covered, set(KIND_LIST) - covered
    assert sum(1 for e in ENTRIES if e.queries) >= 20
    assert sum(1 for e in ENTRIES if e.clarify) >= 5


def test_no_inversions():
    assert REPORT.inversions == [], "\n".join(
        f"{n}: expected {w}, stored {g}: {t!r}" for t, n, w, g in REPORT.inversions
    )


def test_no_inversions_on_the_held_out_messages():
    """tests/language/holdout: written after the reader was frozen (its first score is in
    bench/README.md); the reader is not tuned to it, but it must never invert it either."""
    assert len(HOLDOUT.results) >= 50
    assert HOLDOUT.inversions == [], HOLDOUT.inversions


def _total(result) -> score.Kind:
    """One corpus's counts summed over its fact kinds."""
    total = score.Kind()
    for k in result.kinds.values():
        for attr in ("expected", "found", "stored", "wrong"):
            setattr(total, attr, getattr(total, attr) + getattr(k, attr))
    return total


def test_the_blind_set_covers_the_seed_and_is_never_inverted():
    """tests/language/blind: messages written before reading the reader, then fixed where it
    inverted or misread them. Every agent and test of the seed appears; nothing is inverted;
    recall, precision and exact reads stay above floors a little under the measured values."""
    entries = [r.entry for r in BLIND.results]
    assert len(entries) >= 150
    kinds = {score.kind_of(name) for e in entries for name in e.facts}
    agents = {name.split(".")[1] for e in entries for name in e.facts if name.startswith("trial.")}
    seed_agents = {"gabapentin", "pregabalin", "duloxetine", "venlafaxine", "tca", "tramadol", "morphine", "oxycodone"}
    seed_agents |= {"lidocaine", "capsaicin8", "botox"}
    assert seed_agents <= agents, seed_agents - agents
    seed_tests = {"crcl", "egfr", "diabetes", "hba1c", "b12", "b12_level", "paraprotein", "flag", "pain_pattern"}
    assert seed_tests | {"age", "combination", "focal_cause"} <= kinds
    assert BLIND.inversions == [], BLIND.inversions
    total = _total(BLIND)
    # measured: 321 of 336 exact, recall 0.98, precision 1.00 (bench/README.md)
    assert total.found / total.expected >= 0.95, score.table(BLIND)
    assert (total.stored - total.wrong) / total.stored >= 0.98, score.table(BLIND)
    assert BLIND.exact >= 315


def test_the_second_blind_set_is_never_inverted_and_keeps_its_floors():
    """tests/language/blind2: 218 messages written before reading the reader (a second, later blind
    set), then fixed where it inverted or misread them: first score 162 exact and 5 inversions.
    Nothing is inverted; recall, precision and exact reads stay at or a little under what was reached."""
    assert len(BLIND2.results) >= 200
    assert BLIND2.inversions == [], BLIND2.inversions
    total = _total(BLIND2)
    # measured: 200 of 218 exact, recall 542/558 = 0.97, precision 542/544 = 1.00
    assert total.found / total.expected >= 0.96, score.table(BLIND2)
    assert (total.stored - total.wrong) / total.stored >= 0.99, score.table(BLIND2)
    assert BLIND2.exact >= 198


@pytest.mark.parametrize("row", range(1, 17))
def test_every_issue_table_row_is_read_right(row):
    results = [r for r in REPORT.results if r.entry.row == row]
    assert results, f"row {row} of the issue table is not in the corpus"
    for r in results:
        assert r.exact, (r.entry.text, r.stored, r.entry.facts, r.clarified, r.queries)


def _totals():
    total = score.Kind()
    for k in REPORT.kinds.values():
        for attr in ("expected", "found", "stored", "wrong", "inversions"):
            setattr(total, attr, getattr(total, attr) + getattr(k, attr))
    return {**REPORT.kinds, "all": total}


@pytest.mark.parametrize("kind", ["all", *KIND_LIST])
def test_recall_floor(kind):
    k = _totals()[kind]
    if k.expected < 5 and kind not in RECALL_FLOOR:
        pytest.skip("too few facts of this kind for a floor")
    assert k.found / k.expected >= RECALL_FLOOR.get(kind, DEFAULT_FLOOR), score.table(REPORT)


@pytest.mark.parametrize("kind", ["all", *KIND_LIST])
def test_precision_floor(kind):
    k = _totals()[kind]
    if k.stored < 5 and kind not in PRECISION_FLOOR:
        pytest.skip("too few facts of this kind for a floor")
    assert (k.stored - k.wrong) / k.stored >= PRECISION_FLOOR.get(kind, DEFAULT_FLOOR), score.table(REPORT)


def test_questions_store_nothing():
    for r in REPORT.results:
        if r.entry.queries and not r.entry.facts:
            assert r.stored == {}, (r.entry.text, r.stored)


def test_the_score_can_fail():
    """An inverted annotation is caught: the scorer is not blind."""
    entry = score.Entry(
        "probe",
        "gabapentin 600 tds, no help",
        {
            "trial.gabapentin.tried": "yes",
            "trial.gabapentin.dose": 1800,
            "trial.gabapentin.doses_per_day": 3,
            "trial.gabapentin.outcome": "good",
        },
    )
    report = score.read_all([entry])
    assert len(report.inversions) == 1 and report.inversions[0][1] == "trial.gabapentin.outcome"
