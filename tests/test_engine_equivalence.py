"""The ladder's conclusions do not depend on how the engine is driven: every fact set of a broad
corpus (case transcripts turn by turn, the finding examples, seeded random consults) gives exactly
the outcome stored in tests/data/engine_outcomes.txt - findings, their order, texts, sources,
premises, and every derived fact. tests/engine_corpus.py says how the corpus is built and how to
regenerate the digests after a deliberate change to the rules."""

from __future__ import annotations

import pytest
from engine_corpus import KNOWLEDGE, case_sets, differences, evaluate_all, example_sets, random_sets, read_golden

from neuroladder.rules.engine import LadderRules

FAST_RANDOM = 300  # the fast loop's share of the random consults; the whole suite runs them all


def _check(sets):
    golden = read_golden()[: len(sets)]
    differ = differences(evaluate_all(LadderRules(KNOWLEDGE), sets), golden)
    assert not differ, (
        f"{len(differ)} fact sets conclude differently from before, e.g. {differ[:5]} "
        "(python tests/engine_corpus.py --check --dump FILE shows the outcomes)"
    )


def test_case_turns_and_examples_conclude_as_before():
    _check(case_sets() + example_sets() + random_sets(FAST_RANDOM))


@pytest.mark.slow  # ~3,500 evaluations
def test_the_whole_corpus_concludes_as_before():
    _check(case_sets() + example_sets() + random_sets())
