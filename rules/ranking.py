"""The order in which findings are read: severity, then actions before status cards, problems
before questions, then the ladder order of findings.toml (rules/ranking.toml says why). Pure data in, order out: a finding
code this module has never heard of ranks by its severity and its place in findings.toml."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from .data import Knowledge, read_toml

if TYPE_CHECKING:
    from .evaluation import Finding


@lru_cache(maxsize=1)
def ranking() -> dict:
    return read_toml(__package__, "ranking.toml")


def is_action(code: str, knowledge: Knowledge) -> bool:
    """Does this finding tell the clinician what to do (rather than report a status)?"""
    spec = ranking()
    if code in spec["actions"]:
        return True
    if code in spec["status"]:
        return False
    return bool(knowledge.findings.get(code, {}).get("tutor_option"))


def rank(findings: Iterable[Finding], knowledge: Knowledge) -> list[Finding]:
    codes = _code_ranks(knowledge)

    def key(f: Finding):  # f.key[1]: the parameters as JSON (cached), so equal ranks keep one order
        severity, status, asks, order = codes.get((f.code, f.severity)) or _code_rank(f.code, f.severity, knowledge)
        return (severity, status, asks, order, f.key[1])

    return sorted(findings, key=key)


_ranks: dict[int, tuple[Knowledge, dict]] = {}


def _code_ranks(knowledge: Knowledge) -> dict[tuple[str, str], tuple]:
    """(code, severity) -> the rank of every code findings.toml declares, worked out once per knowledge."""
    known = _ranks.get(id(knowledge))
    if known is None or known[0] is not knowledge:
        table = {
            (code, spec.get("severity")): _code_rank(code, spec.get("severity"), knowledge)
            for code, spec in knowledge.findings.items()
        }
        if len(_ranks) >= 8:  # a few knowledge variants at most (tests build some with other thresholds)
            _ranks.clear()
        known = _ranks[id(knowledge)] = (knowledge, table)
    return known[1]


def _code_rank(code: str, severity: str, knowledge: Knowledge) -> tuple:
    severities = ranking()["severity"]
    order = list(knowledge.findings)
    return (
        severities.index(severity) if severity in severities else len(severities),
        not is_action(code, knowledge),
        code in ranking().get("asks", []),
        order.index(code) if code in order else len(order),
    )


def next_step(ranked: list[Finding], knowledge: Knowledge) -> Finding | None:
    """The single next step: the highest-ranked action (findings already ranked)."""
    barred = set(ranking()["never_next_step"])
    return next((f for f in ranked if f.code not in barred and is_action(f.code, knowledge)), None)


def always_whole(code: str) -> bool:
    """Is this finding never to be shown by its one-line summary alone?"""
    return code in ranking().get("always_whole", [])


def milestones() -> dict[str, dict]:
    return ranking().get("milestones", {})
