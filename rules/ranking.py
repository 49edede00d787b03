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
    severities = {name: i for i, name in enumerate(ranking()["severity"])}
    order = {code: i for i, code in enumerate(knowledge.findings)}

    asks = set(ranking().get("asks", []))

    def key(f: Finding):  # f.key[1]: the parameters as JSON (cached), so equal ranks keep one order
        return (
            severities.get(f.severity, len(severities)),
            not is_action(f.code, knowledge),
            f.code in asks,
            order.get(f.code, len(order)),
            f.key[1],
        )

    return sorted(findings, key=key)


def next_step(ranked: list[Finding], knowledge: Knowledge) -> Finding | None:
    """The single next step: the highest-ranked action (findings already ranked)."""
    barred = set(ranking()["never_next_step"])
    return next((f for f in ranked if f.code not in barred and is_action(f.code, knowledge)), None)


def always_whole(code: str) -> bool:
    """Is this finding never to be shown by its one-line summary alone?"""
    return code in ranking().get("always_whole", [])


def milestones() -> dict[str, dict]:
    return ranking().get("milestones", {})
