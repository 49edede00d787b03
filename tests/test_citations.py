"""Principle 6 (clinical-notes.md): a claim carries the number of the source that makes it, and no other.

Every text in rules/ and conversations/ that cites a source declares the claims it makes
(`claims = ["source.claim", ...]`, ids from rules/sources.toml); every [n] or [Ln] it shows must
belong to one of them. Texts that declare no claims cite nothing. Findings are also checked as the
rules fill them in (their parameters carry renal targets, cautions and durations with citations).
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from case_files import CASES

from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import engine_facts

KNOWLEDGE = load_knowledge()
RULES = LadderRules(KNOWLEDGE)
CITATION = re.compile(r"\[((?:L?\d+)(?:,\s*L?\d+)*)\]")
CLAIM_IDS = {f"{key}.{cid}" for key, spec in KNOWLEDGE.sources.items() for cid in spec["claim"]}


def _toml(package: str, name: str) -> dict:
    return tomllib.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


FINDINGS = _toml("neuroladder.rules", "findings.toml")
INTAKE = _toml("neuroladder.conversations", "intake.toml")


def cited(text: str) -> set[str]:
    return {label.strip() for group in CITATION.findall(text) for label in group.split(",")}


def declared_units():
    """(where, text, claims) for every text that declares its claims."""
    for code, spec in FINDINGS["findings"].items():
        yield f"findings.{code}", spec["text"] + " " + spec["summary"], spec["claims"]
    for name, spec in FINDINGS["phrases"].items():
        yield f"phrases.{name}", spec["text"], spec["claims"]
    for q in INTAKE["questions"]:
        yield f"intake.{q['id']}", q["why"].format(th=KNOWLEDGE.thresholds) + " " + q["ask"], q["claims"]


def undeclared_units():
    """Texts that make no sourced claim: they must cite nothing."""
    for name in ("tutor.toml", "texts.toml"):
        for key, value in _toml("neuroladder.conversations", name).items():
            if isinstance(value, str):
                yield f"{name}:{key}", value
    for cid, case in CASES.items():
        yield f"case {cid}", case["narrative"] + " " + case["title"]
    for key, spec in KNOWLEDGE.ambiguous.items():
        yield f"drugs.ambiguous.{key}", spec["question"]
    for key, spec in KNOWLEDGE.thresholds["durations"].items():
        yield f"thresholds.durations.{key}", spec["shown"]


@pytest.mark.parametrize(
    "where,text,claims",
    list(declared_units()),
    ids=lambda v: v if isinstance(v, str) and "." in v and " " not in v else "",
)
def test_every_citation_belongs_to_a_declared_claim(where, text, claims):
    unknown = set(claims) - CLAIM_IDS
    assert not unknown, f"{where}: claims not in rules/sources.toml: {sorted(unknown)}"
    sources = {c.split(".")[0] for c in claims}
    wrong = cited(text) - sources
    assert not wrong, f"{where}: cites {sorted(wrong)} for no declared claim ({claims})"


def test_texts_that_declare_no_claims_cite_nothing():
    for where, text in undeclared_units():
        assert not cited(text), f"{where} cites {sorted(cited(text))} without declaring a claim"


def _concluded():
    examples = tomllib.loads((Path(__file__).parent / "finding_examples.toml").read_text(encoding="utf-8"))
    bases = examples.pop("base")
    fact_sets = [case["facts"] for case in CASES.values()]
    for kinds in examples.values():
        for example in kinds["fires"]:
            example = dict(example)
            answers = dict(bases[example.pop("base")]) if "base" in example else {}
            for name in example.pop("drop", []):
                answers.pop(name, None)
            answers.update(example)
            fact_sets.append(answers)
    for answers in fact_sets:
        yield from RULES.evaluate(engine_facts(answers, KNOWLEDGE)).findings


def test_every_concluded_finding_cites_only_its_claims_sources():
    seen = set()
    for f in _concluded():
        sources = {c.split(".")[0] for c in FINDINGS["findings"][f.code]["claims"]}
        assert cited(f.text) <= sources, (f.code, f.text)
        assert set(f.sources) <= cited(f.text), (f.code, f.sources, f.text)
        seen.add(f.code)
    assert seen == set(KNOWLEDGE.findings)


def test_the_clinical_notes_sources_are_listed_with_their_claims():
    for label in ("L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"):
        assert KNOWLEDGE.sources[label]["claim"], label


# -- the wrong citations seen on main (issue: "Sources") -------------------------------------------------
def _text(code: str) -> str:
    return FINDINGS["findings"][code]["text"]


def test_regression_the_tolerability_principle_borrows_no_seed_number():
    for code in ("TRIAL_NOT_TOLERATED",):
        assert not cited(_text(code)) and "no numbered source" in _text(code)
    assert not {"1", "L2"} & cited(next(q["why"] for q in INTAKE["questions"] if q["id"] == "pregabalin_outcome"))


def test_regression_responding_escalation_may_not_be_needed_is_not_cited_to_1():
    assert "1" not in cited(_text("TRIAL_RESPONDING"))
    assert "escalation beyond it may not be needed" in _text("TRIAL_RESPONDING")


def test_regression_botulinum_toxin_rests_on_2_only():
    assert cited(_text("FOCAL_BOTOX")) == {"2"}
    botox_sentence = next(s for s in re.split(r"(?<=\.) ", _text("PAIN_PATTERN_UNKNOWN")) if "botulinum" in s)
    assert "[2]" in botox_sentence.split("botulinum")[1]


def test_regression_capsaicin_30_60_minutes_and_12_weeks_rest_on_1_only():
    sentence = next(s for s in re.split(r"(?<=\]\.) |(?<=\]); ", _text("FOCAL_CAPSAICIN8")) if "12 weeks" in s)
    assert cited(sentence) == {"1"}, sentence


def test_regression_the_step4_gate_on_topical_options_borrows_no_number():
    # the topical clause is a phrase of its own (said only where the pain is or may be focal)
    assert "{focal}" in _text("STEP4_NOT_YET")
    topical = FINDINGS["phrases"]["step4_not_yet_focal"]["text"]
    assert "topical" in topical and not cited(topical) and "not a numbered source" in topical
