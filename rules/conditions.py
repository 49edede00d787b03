"""What the ruleset's conditions read: for each fact kind, the fields some condition tests.

rules/engine.py gives the engine only these fields of a fact, and no fact of a kind that no
condition names: the engine parses, stores and hands back less, and a field no condition tests
cannot change what matches. Consequents read a fact whole, in Python, by its id.

Read from durable_rules' compiled definition (the JSON its C core is given). Every condition here
names the kind of fact it matches (`m.kind == ...`); one that does not, or a construct this module
does not know, is refused when the ruleset is built, never guessed at.
"""

from __future__ import annotations

from collections import defaultdict

COMBINERS = ("$and", "$or")
COMPARISONS = ("$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex")
ALWAYS = frozenset({"kind", "id"})  # what a fact is, and which one (the engine's message id)


class UnreadableCondition(ValueError):
    """A condition this analysis cannot read safely."""


def fields_by_kind(definition: dict) -> dict[str, frozenset[str]]:
    """kind -> every field of that kind some condition of `definition` tests or refers to."""
    fields: dict[str, set[str]] = defaultdict(set)
    for name, rule in definition.items():
        if set(rule) != {"all"}:
            raise UnreadableCondition(f"{name}: only when_all rules are read ({sorted(rule)})")
        kinds, references = {}, []
        for condition in rule["all"]:
            ((alias, expression),) = condition.items()
            tested, refers = set(), []
            _read(expression, tested, refers)
            kind = _kind_of(expression)
            if kind is None:
                raise UnreadableCondition(f"{name}: condition {alias!r} names no fact kind")
            kinds[alias] = kind
            fields[kind] |= tested
            references += refers
        for alias, field in references:
            if alias not in kinds:
                raise UnreadableCondition(f"{name}: refers to {alias!r}, which it does not match")
            fields[kinds[alias]].add(field)
    return {kind: frozenset(names | ALWAYS) for kind, names in fields.items()}


def kinds_only_absent(definition: dict) -> frozenset[str]:
    """Kinds of fact that only `none(...)` conditions name: a rule can ask whether such a fact is
    there, never match one. (durable_rules compiles `none(...)` under a name ending in "$not".)"""
    named, matched = set(), set()
    for rule in definition.values():
        for condition in rule["all"]:
            ((alias, expression),) = condition.items()
            (named if alias.endswith("$not") else matched).add(_kind_of(expression))
    return frozenset(named - matched)


def _kind_of(expression: dict) -> str | None:
    """The kind a condition requires (`kind == X` itself or among its top-level conjuncts)."""
    if isinstance(expression.get("kind"), str):
        return expression["kind"]
    for part in expression.get("$and", []):
        if isinstance(part.get("kind"), str):
            return part["kind"]
    return None


def _read(expression: dict, tested: set[str], refers: list[tuple[str, str]]) -> None:
    for key, value in expression.items():
        if key in COMBINERS:
            for part in value:
                _read(part, tested, refers)
        elif key in COMPARISONS:
            _read(value, tested, refers)
        elif key.startswith("$"):
            raise UnreadableCondition(f"operator {key!r}")
        else:
            tested.add(key)
            if isinstance(value, dict):  # another matched fact's field: {"t": "agent"} is t.agent
                ((alias, field),) = value.items()
                if alias.startswith("$") or not isinstance(field, str):
                    raise UnreadableCondition(f"operand {value!r}")
                refers.append((alias, field))
            elif isinstance(value, list):
                raise UnreadableCondition(f"operand {value!r}")
