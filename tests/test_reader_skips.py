"""The reader skips a step when a message holds none of that step's patterns (bot/text/lexicon.py,
`AnyOf`): a speed-up only, which must never change what is read. Every message of the language
corpora, the case files and the reader's tests (their string literals), read as a message and (the
short ones) as a reply under each intake question, reads the same with the skips as with every
step run - so a step that comes to read a pattern its AnyOf lacks fails here.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import yaml

from neuroladder.bot.dialogue.intake import Intake
from neuroladder.bot.text.context import sentences
from neuroladder.bot.text.lexicon import AnyOf
from neuroladder.bot.text.parse import Parser, normalise
from neuroladder.bot.text.short_answer import read_turn
from neuroladder.rules.data import load_knowledge

KNOWLEDGE = load_knowledge()
PARSER = Parser(KNOWLEDGE)
QUESTIONS = [None, *Intake().questions]
TESTS = Path(__file__).resolve().parent
LANGUAGE = TESTS / "language"
READER_TESTS = ["test_reader_families.py", "test_parse.py", "test_reader_consult.py", "test_regressions.py"]


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _literals(path: Path) -> list[str]:
    """The strings written in a test module: where each new reading is pinned as it is added."""
    tree = ast.parse(path.read_text())
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def corpus() -> list[str]:
    texts = [s for path in sorted(LANGUAGE.rglob("*.yaml")) for s in _strings(yaml.safe_load(path.read_text()))]
    for name in READER_TESTS:
        texts += _literals(TESTS / name)
    cases = resources.files("neuroladder.conversations").joinpath("cases")
    for path in sorted(cases.iterdir()):
        if path.name.endswith(".toml"):
            texts += tomllib.loads(path.read_text())["turns"]
    return list(dict.fromkeys(texts))


MESSAGES = corpus()
GUARDS = {name: guard for name, guard in vars(PARSER.lx).items() if isinstance(guard, AnyOf)}


def readings() -> list[str]:
    out = []
    for text in MESSAGES:
        out.append(repr(PARSER.parse(text)))
        if len(text) <= 16:
            out += [repr(read_turn(PARSER, KNOWLEDGE, q, text)) for q in QUESTIONS]
    return out


def test_the_corpus_is_there():
    assert len(MESSAGES) > 1500 and len(GUARDS) >= 5


def test_a_skipped_step_would_have_found_nothing():
    """Where a guard says a message holds none of a step's patterns, none of them matches."""
    for text in MESSAGES:
        low = normalise(text)
        for piece in [low, text.lower(), *(low[s:e] for s, e in sentences(low))]:
            for name, guard in GUARDS.items():
                if guard.absent(piece):
                    found = [rx.pattern[:60] for rx in guard.patterns if rx.search(piece)]
                    assert not found, (name, piece, found)


def test_every_reading_is_the_same_with_every_step_run(monkeypatch):
    skipping = readings()
    monkeypatch.setattr(AnyOf, "absent", lambda self, text: False)
    assert readings() == skipping


@pytest.mark.parametrize(
    "patterns, present, missing",
    [
        ([re.compile(r"(?P<w>ab)(?P=w)"), re.compile(r"x")], ["abab", "x"], "ab"),  # a back reference
        ([re.compile(r"ab", re.I), re.compile(r"x")], ["AB", "x"], "a b"),  # different flags
    ],
)
def test_patterns_no_alternation_can_stand_for_are_each_searched(patterns, present, missing):
    guard = AnyOf(*patterns)
    assert guard.rx is None
    assert not any(guard.absent(text) for text in present) and guard.absent(missing)


def test_the_alternation_drops_group_names_and_leading_lookbehinds_only():
    guard = AnyOf(re.compile(r"(?<![\w%])age\s*(?P<n>\d+)"), re.compile(r"b12\s*(?P<n>\d+)"), None)
    assert guard.rx is not None
    assert guard.absent("no numbers here") and not guard.absent("age 35") and not guard.absent("b12 250")
    assert not guard.absent("usage 2")  # a superset: the step runs, and its own patterns decide
    assert AnyOf(None).absent("anything")
