"""CPU cost of one rule evaluation (`LadderRules.evaluate`), over the equivalence corpus.

The corpus is tests/engine_corpus.py's: every answer set the case transcripts pass through turn by
turn, the finding examples, and seeded random consults. Engine facts are built before the clock
starts; each evaluation is timed alone with this thread's CPU clock. Several runs, each over the
whole corpus in a shuffled order; the medians across runs are printed.

    python bench/engine_cost.py --runs 5

Instructions per evaluation (exact under any load, unlike CPU time): `--count N` evaluates the first
N sets of the cases, the examples and 300 random sets once each after 50 warm-up evaluations, with
no clock; run it under valgrind for N and for 0 and divide the difference by N:

    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        .venv/bin/python bench/engine_cost.py --count 800      # then --count 0; "I refs"
    ... --count 800 --heavy    # the 100 sets with the most tried trials and facts, cycled (the p99's kind)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from engine_corpus import KNOWLEDGE, case_sets, example_sets, random_sets  # noqa: E402

from neuroladder.rules.engine import LadderRules  # noqa: E402
from neuroladder.rules.facts import engine_facts  # noqa: E402


def run(rules: LadderRules, facts: list[list[dict]], rng: random.Random) -> list[float]:
    order = list(range(len(facts)))
    rng.shuffle(order)
    spent = [0.0] * len(facts)
    clock = time.thread_time
    for i in order:
        t0 = clock()
        rules.evaluate(facts[i])
        spent[i] = clock() - t0
    return spent


def summary(spent: list[float]) -> tuple[float, float, float]:
    ordered = sorted(spent)
    n = len(ordered)
    return statistics.mean(ordered) * 1000, ordered[n // 2] * 1000, ordered[int(n * 0.99)] * 1000


def count(n: int, heavy: bool) -> None:
    """Evaluate n corpus sets, untimed, for an instruction counter (see the module's docstring)."""
    if heavy:
        sets = [engine_facts(a, KNOWLEDGE) for _, a in case_sets() + example_sets() + random_sets()]
        tried = lambda fs: (sum(f["kind"] == "trial" and f["tried"] == "yes" for f in fs), len(fs))  # noqa: E731
        sets = sorted(sets, key=tried, reverse=True)[:100]
        sets = [sets[i % len(sets)] for i in range(max(n, 50))]
    else:
        sets = [engine_facts(a, KNOWLEDGE) for _, a in case_sets() + example_sets() + random_sets(300)]
    rules = LadderRules(KNOWLEDGE)
    for facts in sets[:50]:  # warm up
        rules.evaluate(facts)
    for facts in sets[:n]:
        rules.evaluate(facts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--count", type=int, help="evaluate this many sets untimed (for valgrind), then stop")
    ap.add_argument("--heavy", action="store_true", help="with --count: the 100 heaviest sets, cycled")
    args = ap.parse_args()
    if args.count is not None:
        count(args.count, args.heavy)
        return
    groups = {"case turns": case_sets(), "examples": example_sets(), "random": random_sets()}
    facts = {name: [engine_facts(answers, KNOWLEDGE) for _, answers in sets] for name, sets in groups.items()}
    everything = [f for group in facts.values() for f in group]
    rules = LadderRules(KNOWLEDGE)
    run(rules, everything[:200], random.Random(0))  # warm up
    per_run = {name: [] for name in [*facts, "all"]}
    rng = random.Random(16)
    for r in range(args.runs):
        spent = run(rules, everything, rng)
        start = 0
        for name, group in facts.items():
            per_run[name].append(summary(spent[start : start + len(group)]))
            start += len(group)
        per_run["all"].append(summary(spent))
        mean, p50, p99 = per_run["all"][-1]
        print(f"run {r + 1}: all {len(everything)} evaluations: mean {mean:.3f} ms, p50 {p50:.3f}, p99 {p99:.3f}")
    print(f"median of {args.runs} runs (CPU ms per evaluation):")
    for name, rows in per_run.items():
        n = len(facts[name]) if name in facts else len(everything)
        mean, p50, p99 = (statistics.median(col) for col in zip(*rows))
        print(f"  {name:<11} n={n:<5} mean {mean:.3f}  p50 {p50:.3f}  p99 {p99:.3f}")


if __name__ == "__main__":
    main()
