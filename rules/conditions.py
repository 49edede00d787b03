"""What the ruleset's conditions read: for each fact kind, the fields some condition tests.

rules/engine.py gives the engine only these fields of a fact, and no fact of a kind that no
condition names: the engine parses, stores and hands back less, and a field no condition tests
cannot change what matches. Consequents read a fact whole, in Python, by its id.

Read from durable_rules' compiled definition (the JSON its C core is given). Every condition here
names the kind of fact it matches (`m.kind == ...`); one that does not, or a construct this module
does not know, is refused when the ruleset is built, never guessed at.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

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


# -- the definition the engine's core is given ---------------------------------------------------
#
# The core's alpha network files each test under the name of the field it reads and, for every
# field of a fact, walks all the tests filed under that name, comparing values one by one: every
# fact met all 25 `kind == ...` tests at the first level (a thousand comparisons an evaluation, a
# sixth of its instructions). A test of a field against a fixed word or truth value is therefore
# given to the core as "the fact has the property `field=word`" (`field==true` for truth values),
# and each fact carries such a property for each word some condition compares that field with and
# its value equals: the core then finds the one test by the property's name alone.

FLAG_WORD = re.compile(r"[A-Za-z0-9_]+")  # words written into a property name as they are


class FlagClash(ValueError):
    """Two property names the core could not tell apart (the same 32-bit hash)."""


@dataclass(frozen=True)
class KindForm:
    """How a fact of one kind is given to the core: the fields sent as they are (each tested some
    other way: order, presence, another fact's field), and for each field compared with fixed
    values, value -> the name of the property that says the fact has it."""

    raw: tuple[str, ...]
    flags: tuple[tuple[str, dict[Any, str], frozenset[type]], ...]  # field, value -> name, the values' types


def flag_name(field: str, value: str | bool) -> str:
    if type(value) is bool:
        return f"{field}=={'true' if value else 'false'}"
    return f"{field}={value}"


def engine_form(definition: dict) -> tuple[dict, dict[str, KindForm]]:
    """`definition` with every comparison of a field with a fixed word or truth value made a
    presence test of its flag property, and how each kind's facts are then given to the core."""
    fields = fields_by_kind(definition)  # refuses what it cannot read
    flags: dict[str, dict[str, dict[Any, str]]] = defaultdict(lambda: defaultdict(dict))
    raw: dict[str, set[str]] = defaultdict(set)
    rewritten = {}
    for name, rule in definition.items():
        kinds = {alias: _kind_of(expression) for condition in rule["all"] for alias, expression in condition.items()}
        conditions = []
        for condition in rule["all"]:
            ((alias, expression),) = condition.items()
            conditions.append({alias: _as_flags(expression, kinds[alias], flags, raw, kinds)})
        rewritten[name] = {**rule, "all": conditions}
    forms = {}
    for kind, tested in fields.items():
        sent = tuple(sorted(raw[kind] | {"id"}))
        assert tested == {*sent, *flags[kind], "kind"}, kind  # every tested field, one way or the other
        forms[kind] = KindForm(
            sent,
            tuple((field, dict(table), frozenset(map(type, table))) for field, table in sorted(flags[kind].items())),
        )
    names = {"sid"} | {n for form in forms.values() for n in form.raw}
    names |= {n for form in forms.values() for _, table, _ in form.flags for n in table.values()}
    seen: dict[int, str] = {}
    for n in sorted(names):
        other = seen.setdefault(_fnv1a(n), n)
        if other != n:
            raise FlagClash(f"{other!r} and {n!r}")
    return rewritten, forms


def _as_flags(expression: dict, kind: str, flags, raw, kinds) -> dict:
    """One condition (or part of one) with its fixed-value comparisons made flag tests; every other
    field it tests is noted as sent raw."""
    out = {}
    for key, value in expression.items():
        if key in COMBINERS:
            out[key] = [_as_flags(part, kind, flags, raw, kinds) for part in value]
        elif key in COMPARISONS:
            tested, refers = set(), []
            _read(value, tested, refers)
            raw[kind] |= tested
            for alias, field in refers:
                raw[kinds[alias]].add(field)
            out[key] = value
        elif type(value) is bool or (type(value) is str and FLAG_WORD.fullmatch(value)):
            if len(expression) != 1:  # one test per object, as durable writes them
                raise UnreadableCondition(f"expression {expression!r}")
            name = flags[kind][key].setdefault(value, flag_name(key, value))
            return {"$ex": {name: 1}}
        else:
            tested, refers = set(), []
            _read({key: value}, tested, refers)
            raw[kind] |= tested
            for alias, field in refers:
                raw[kinds[alias]].add(field)
            out[key] = value
    return out


def _fnv1a(name: str) -> int:
    """The core's hash of a property name (32-bit FNV-1a over its UTF-8 bytes)."""
    h = 0x811C9DC5
    for byte in name.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h
