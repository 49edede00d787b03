"""Fail loudly when the rules engine is unusable on this interpreter (run after every install).

durable-rules is a C extension built from its sdist on each install. On CPython 3.13+ the
unpatched 2.0.28 compiles and installs, then fails at import (`undefined symbol:
PyEval_CallObject`): an install must never end with such an engine. This evaluates a tiny ruleset
(a consequent called back from C) and then NeuroLadder's own ladder on one fact, and prints one
line either way. Exit status 0 when both work, 1 otherwise.

    python scripts/check_engine.py
"""

from __future__ import annotations

import platform
import sys

HELP = "see README.md, 'Python versions and the C compiler'"


def tiny_ruleset() -> list[str]:
    """A one-rule ruleset, evaluated through the engine's C core; returns what its consequent saw."""
    from durable import lang

    seen: list[str] = []
    name = f"neuroladder_engine_check_{id(seen)}"  # rulesets are process-global: never reuse a name
    with lang.ruleset(name):

        @lang.when_all(lang.m.dose > 1000)
        def high(c):
            seen.append(c.m.drug)

    lang.post(name, {"drug": "gabapentin", "dose": 1200})
    return seen


def ladder() -> list[str]:
    """NeuroLadder's own ruleset on one under-dosed trial: the codes it concludes."""
    from neuroladder.rules.data import load_knowledge
    from neuroladder.rules.engine import LadderRules
    from neuroladder.rules.facts import engine_facts

    k = load_knowledge()
    return LadderRules(k).evaluate(engine_facts({"trial.gabapentin.dose": 900}, k)).codes()


def main() -> int:
    where = f"CPython {platform.python_version()} ({sys.executable})"
    try:
        seen = tiny_ruleset()
        codes = ladder()
    except Exception as exc:  # ImportError (undefined symbol), MemoryError, a broken rule...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"engine check FAILED on {where}: {type(exc).__name__}: {first} ({HELP})", file=sys.stderr)
        return 1
    if seen != ["gabapentin"] or "TRIAL_UNDERDOSED" not in codes:
        print(
            f"engine check FAILED on {where}: the engine ran but concluded the wrong thing "
            f"({seen!r}, {sorted(codes)!r})",
            file=sys.stderr,
        )
        return 1
    print(f"engine check ok on {where}: durable_rules evaluates rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
