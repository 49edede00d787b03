"""A broad corpus of consults and the complete outcome the ruleset gives each, to prove that a change
to how the engine is driven concludes exactly what it concluded before.

The corpus: every distinct answer set the case transcripts (conversations/cases) pass through turn
by turn (captured once through the real Service, stored in tests/data/engine_corpus_cases.json so
the reader's progress does not move the corpus), every example of tests/finding_examples.toml, and
a few thousand random valid answer sets drawn from rules/facts.py's SCHEMA with a fixed seed (then
some with drugs entered as contraindicated, drawn after them).

An outcome is everything an evaluation hands on: the ranked findings (code, severity, step, text,
sources, rule, facts, params, key, table row), the derived facts with their rule and premises, and
the base facts, encoded in their own key order. tests/data/engine_outcomes.txt keeps a digest per
fact set (in the corpus's order); tests/test_engine_equivalence.py compares. After a deliberate change to the rules
(clinical content, not the way they are run), regenerate:

    python tests/engine_corpus.py --write          # the digests of the current ruleset
    python tests/engine_corpus.py --check          # compare; --dump FILE writes full outcomes to diff
    python tests/engine_corpus.py --capture-cases  # re-read the case transcripts through the Service
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import sys
import tomllib
from pathlib import Path

from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import Evaluation, LadderRules
from neuroladder.rules.facts import SCHEMA, TRIAL_PARTS, check, engine_facts, schema_kind

HERE = Path(__file__).resolve().parent
CASES_FILE = HERE / "data" / "engine_corpus_cases.json"
GOLDEN_FILE = HERE / "data" / "engine_outcomes.txt"
SEED = 16
RANDOM_SETS = 3000

KNOWLEDGE = load_knowledge()
# The parts the first random sets draw from: those before `contraindicated`, which came later and
# has its own sets (CONTRA_SETS, drawn after them), so the first sets' draws stay as they were.
LATER_PARTS = ("contraindicated",)
NAMES = (
    [n for n in SCHEMA if "\\" not in n]
    + [f"flag.{flag}" for flag in KNOWLEDGE.red_flags]
    + [f"trial.{a}.{p}" for a in KNOWLEDGE.agents for p in TRIAL_PARTS if p not in LATER_PARTS]
)
CONTRA_NAMES = [f"trial.{a}.{p}" for a in KNOWLEDGE.agents for p in LATER_PARTS]
CONTRA_SETS = 600
FIRST_LINE = [a for a, spec in KNOWLEDGE.agents.items() if spec["class"] in ("gabapentinoid", "snri", "tca")]

# Numbers at and around every threshold the rules compare against, and some that are not round.
POOLS = {
    "age": [18, 45, 64, 65, 66, 80, 81, 99, 100],
    "renal": [0, 5, 9.99, 10, 14, 15, 25, 29, 29.5, 30, 45, 59, 60, 60.25, 90, 120, 150],
    "hba1c": [5.5, 6.9, 7.0, 7.25, 7.5, 7.99, 8.0, 11.2, 0.00001],
    "b12_level": [90, 147, 147.9, 148, 180, 220.5, 221, 300],
    "doses_per_day": [1, 2, 3, 4],
    "weeks": [0, 0.5, 1, 2, 3, 4, 4.3, 5, 6, 8, 12, 17.4, 52, 1 / 3],
    "dose": [0, 10, 25, 30, 60, 75, 120, 150, 225, 300, 600, 700, 900, 1200, 1400, 1800, 2400, 3600, 12.345678],
}


def _value(rng: random.Random, name: str):
    kind = schema_kind(name)
    if isinstance(kind, tuple):
        return rng.choice(kind)
    if kind == "flags":
        return "unknown" if rng.random() < 0.3 else sorted(rng.sample(sorted(KNOWLEDGE.red_flags), rng.randint(0, 3)))
    if kind == "adverse":
        return sorted(rng.sample(sorted(KNOWLEDGE.adverse_effects), rng.randint(0, 3)))
    if kind == "agents":
        return sorted(rng.sample(sorted(KNOWLEDGE.agents), rng.randint(1, 3)))
    if name in ("crcl", "egfr"):
        return rng.choice(POOLS["renal"])
    if name in POOLS:
        return rng.choice(POOLS[name])
    part = name.rsplit(".", 1)[1]
    pool = POOLS["weeks" if part == "weeks_at_max" else part]
    return rng.choice(pool) if part != "doses_per_day" or rng.random() < 0.9 else rng.randint(5, 8)


def _valid(answers: dict) -> dict:
    return {n: check(n, v, KNOWLEDGE) for n, v in answers.items()}


def random_sets(n: int = RANDOM_SETS, seed: int = SEED) -> list[tuple[str, dict]]:
    """Valid answer sets of every size: sparse intakes, near-complete ones, and small changes away
    from a refractory patient (the only way random draws reach Step 4)."""
    rng = random.Random(seed)
    refractory = examples_base()["refractory"]
    out = []
    for i in range(n):
        shape = i % 4
        if shape == 0:
            names = rng.sample(NAMES, rng.randint(0, 12))
            answers = {name: _value(rng, name) for name in names}
        elif shape == 1:  # a fuller intake: first-line trials in detail, work-up, flags
            names = [n for n in NAMES if not n.startswith("trial.") or n.split(".")[1] in FIRST_LINE]
            names = rng.sample(names, rng.randint(len(names) // 4, len(names) // 2))
            names += rng.sample(NAMES, rng.randint(0, 6))
            answers = {name: _value(rng, name) for name in names}
        else:
            answers = dict(refractory)
            for name in rng.sample(NAMES, rng.randint(0, 4 if shape == 2 else 8)):
                if rng.random() < 0.2:
                    answers.pop(name, None)
                else:
                    answers[name] = _value(rng, name)
        out.append((f"random-{i}", _valid(answers)))
    return out


def contra_sets(n: int = CONTRA_SETS, seed: int = SEED) -> list[tuple[str, dict]]:
    """Random sets with drugs entered as contraindicated (or said not to be): a first random set
    with some added, a refractory patient with some added, or every agent of a first-line rung."""
    rng = random.Random(seed + 1)
    refractory = examples_base()["refractory"]
    base = random_sets(n, seed + 2)
    rungs = [
        [a for a in FIRST_LINE if KNOWLEDGE.agents[a]["class"] in classes]
        for classes in (("gabapentinoid",), ("snri", "tca"))
    ]
    out = []
    for i in range(n):
        shape = i % 3
        answers = dict(base[i][1]) if shape == 0 else dict(refractory)
        if shape == 2:
            for agent in rng.choice(rungs):
                answers[f"trial.{agent}.contraindicated"] = "yes"
            if rng.random() < 0.5:
                answers["combination"] = rng.choice(("no", "unknown"))
        for name in rng.sample(CONTRA_NAMES, rng.randint(1, 4)):
            answers[name] = rng.choice(("yes", "yes", "no", "unknown"))
        out.append((f"contra-{i}", _valid(answers)))
    return out


def examples_base() -> dict:
    return tomllib.loads((HERE / "finding_examples.toml").read_text(encoding="utf-8"))["base"]


def example_sets() -> list[tuple[str, dict]]:
    examples = tomllib.loads((HERE / "finding_examples.toml").read_text(encoding="utf-8"))
    bases = examples.pop("base")
    out = [(f"base-{name}", _valid(answers)) for name, answers in bases.items()]
    for code, kinds in examples.items():
        for kind, items in kinds.items():
            for i, example in enumerate(items):
                example = copy.deepcopy(example)
                answers = copy.deepcopy(bases[example.pop("base")]) if "base" in example else {}
                for name in example.pop("drop", []):
                    answers.pop(name, None)
                answers.update(example)
                out.append((f"example-{code}-{kind}-{i}", _valid(answers)))
    return out


def case_sets() -> list[tuple[str, dict]]:
    """The stored answer sets, each written as its change from the one before it (a few facts)."""
    out, answers = [], {}
    for name, changed, dropped in json.loads(CASES_FILE.read_text(encoding="utf-8")):
        answers = {n: v for n, v in answers.items() if n not in dropped} | changed
        out.append((name, answers))
    return out


def _as_changes(sets: list[tuple[str, dict]]) -> list[list]:
    rows, before = [], {}
    for name, answers in sets:
        changed = {n: v for n, v in answers.items() if n not in before or before[n] != v}
        rows.append([name, changed, sorted(set(before) - set(answers))])
        before = answers
    return rows


def corpus(random_count: int = RANDOM_SETS) -> list[tuple[str, dict]]:
    return case_sets() + example_sets() + random_sets(random_count) + contra_sets()


def outcome(ev: Evaluation) -> str:
    """The whole of an evaluation as text: any difference in content or order shows."""
    findings = [{**f.to_dict(), "key": list(f.key), "row": list(f.row())} for f in ev.findings]
    return json.dumps({"findings": findings, "derived": ev.derived, "base": ev.base}, ensure_ascii=False, default=repr)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def evaluate_all(rules: LadderRules, sets: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    return [(name, outcome(rules.evaluate(engine_facts(answers, KNOWLEDGE)))) for name, answers in sets]


def read_golden() -> list[str]:
    """The stored digests, one a line in the corpus's order."""
    lines = GOLDEN_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def differences(results: list[tuple[str, str]], golden: list[str]) -> list[str]:
    """Names of the fact sets whose outcome is not the stored one (all of them if the corpus moved)."""
    if len(results) != len(golden):
        return [name for name, _ in results]
    return [name for (name, text), stored in zip(results, golden) if digest(text) != stored]


def capture_cases() -> list[tuple[str, dict]]:
    """Every answer set the Service evaluates while replaying each case transcript."""
    import tempfile

    from case_files import CASES

    from neuroladder.bot.dialogue import consult as consult_mod
    from neuroladder.bot.service import Service
    from neuroladder.bot.storage.store import Store

    seen: dict[str, dict] = {}
    original = consult_mod.engine_facts

    def recording(answers, knowledge):
        seen.setdefault(json.dumps(answers, sort_keys=True), copy.deepcopy(answers))
        return original(answers, knowledge)

    consult_mod.engine_facts = recording
    out = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            service = Service(Store(Path(tmp) / "cases.db"))
            for case_id, case in CASES.items():
                seen.clear()
                for turn in case["turns"]:
                    service.handle("corpus", case_id, turn, author="clinician")
                out += [(f"case-{case_id}-{i}", answers) for i, answers in enumerate(seen.values())]
    finally:
        consult_mod.engine_facts = original
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="write the digests of the current ruleset")
    ap.add_argument("--check", action="store_true", help="compare with the stored digests")
    ap.add_argument("--dump", metavar="FILE", help="write every full outcome, one a line, to FILE")
    ap.add_argument("--capture-cases", action="store_true", help="re-read the case transcripts")
    args = ap.parse_args()
    if args.capture_cases:
        sets = capture_cases()
        rows = _as_changes(sets)
        CASES_FILE.write_text("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n", encoding="utf-8")
        print(f"{len(sets)} answer sets from the case transcripts -> {CASES_FILE}")
    results = evaluate_all(LadderRules(KNOWLEDGE), corpus())
    if args.dump:
        Path(args.dump).write_text("".join(f"{name}\t{text}\n" for name, text in results), encoding="utf-8")
    if args.write:
        GOLDEN_FILE.write_text(
            "# tests/engine_corpus.py --write: the digest of each fact set's outcome, in the corpus's order\n"
            + "".join(f"{digest(text)}\n" for _, text in results),
            encoding="utf-8",
        )
        print(f"{len(results)} outcomes -> {GOLDEN_FILE}")
    if args.check:
        differ = differences(results, read_golden())
        print(f"{len(results)} outcomes, {len(differ)} differ from {GOLDEN_FILE.name}: {differ[:10]}")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))  # case_files, for --capture-cases
    main()
