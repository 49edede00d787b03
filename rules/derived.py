"""The engine's derived facts (what an adequate trial needs, a trial's problem, its status...) in
the words /how shows for them: each kind is the ruleset's own vocabulary, so it is named here."""

from __future__ import annotations

from typing import Any


def describe_derived(fact: dict[str, Any]) -> str:
    kind = fact["kind"]
    if kind == "target":
        return f"what an adequate {fact['agent']} trial needs: {fact['requirement']} [{fact['label']}]"
    if kind == "problem":
        what = f" ({fact['what']})" if "what" in fact else ""
        return f"{fact['agent']} trial problem: {fact['type']}{what}"
    if kind == "avoid":
        return f"{fact['agent']} to be avoided: {fact['why']}"
    if kind == "older":
        return f"older patient ({fact['years']})"
    if kind == "no_gabapentinoid":
        return f"no gabapentinoid can be given: {fact['why']}"
    if kind == "no_antidepressant":
        return f"no SNRI or TCA can be given: {fact['why']}"
    if kind == "status":
        return f"{fact['agent']} trial counts as {fact['how'].replace('_', ' ')}"
    if kind == "open":
        return f"open rung: {fact['rung']}"
    return ", ".join(f"{k}={v}" for k, v in fact.items() if k not in ("sid", "id"))
