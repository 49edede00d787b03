"""Clinical content (drugs, thresholds, recommendation text) lives in rules/ and conversations/,
never in bot/ code."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOT = sorted((ROOT / "bot").rglob("*.py"))


def _bot_code() -> dict[Path, str]:
    out = {}
    for path in BOT:
        # Docstrings and comments may name what a module is about; code may not decide it.
        text = re.sub(r'"""[\s\S]*?"""', "", path.read_text())
        text = re.sub(r"#.*", "", text)
        out[path] = text.lower()
    return out


def test_no_drug_names_in_bot_code():
    drugs = tomllib.loads((ROOT / "rules" / "drugs.toml").read_text())["agents"]
    names = {n for spec in drugs.values() for n in spec["names"] if len(n) > 4} | set(drugs)
    for path, code in _bot_code().items():
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", code), f"{name!r} in {path.relative_to(ROOT)}"


def test_no_thresholds_in_bot_code():
    # Dose thresholds appear as bare numbers only in rules data; small numbers (60, 300...) are
    # also timeouts and sizes in transport code, so they count only next to a dose unit or word.
    bare = {"2400", "3600", "1400", "900"}
    dosed = {"700", "300", "600", "60", "150", "75", "6", "8", "2", "65"}
    for path, code in _bot_code().items():
        for number in bare:
            assert not re.search(rf"(?<![\w.]){number}(?![\w.])", code), f"{number} in {path.name}"
        for number in dosed:
            pattern = rf"(?<![\w.]){number}\s*(?:mg|weeks?|years?)\b|(?:dose|age|weeks?)\s*[<>=]+\s*{number}\b"
            assert not re.search(pattern, code), f"{number} as a clinical threshold in {path.name}"


def test_no_finding_text_in_bot_code():
    findings = tomllib.loads((ROOT / "rules" / "findings.toml").read_text())["findings"]
    for path, code in _bot_code().items():
        for spec in findings.values():
            fragment = spec["text"][:40].lower()
            assert fragment not in code, f"finding text in {path.name}"


# -- what a fact or a trial's problem means is the ruleset's to say, not a view's ---------------------
VIEWS = sorted((ROOT / "bot" / "views").glob("*.py"))


def _ruleset_vocabulary() -> dict[str, set[str]]:
    """The names the ruleset classifies by: the consult's fact names (rules/facts.py), the problems
    and other facts its rules derive (rules/modules/), and the ladder's states (rules/ladder.toml)."""
    from neuroladder.rules.facts import SCHEMA

    modules = "\n".join(p.read_text() for p in (ROOT / "rules" / "modules").glob("*.py"))
    states = set(tomllib.loads((ROOT / "rules" / "ladder.toml").read_text())["states"])
    steps = set(tomllib.loads((ROOT / "rules" / "findings.toml").read_text())["steps"])
    vocabulary = {
        "fact name": {name for name in SCHEMA if re.fullmatch(r"[\w.]+", name)},
        "problem kind": set(re.findall(r'type="(\w+)"', modules)),
        "derived fact kind": set(re.findall(r'ctx\.derive\("(\w+)"', modules)),
        "ladder state": states - {"unknown"},  # also an answer's value ("unknown"), which views show
        "guideline step": steps,
    }
    assert {"dose", "duration", "divided", "renal_excess", "missing", "unverified"} <= vocabulary["problem kind"]
    assert {"age", "crcl", "combination.agents", "red_flags"} <= vocabulary["fact name"]
    return vocabulary


def test_views_ask_the_ruleset_what_a_fact_or_problem_means():
    """The ladder, the note, /how and the fact echo once kept their own lists of fact names and of
    the problems that make a trial "not adequate" (and the note its own steps of pitfalls), and the
    picture disagreed with the findings.
    The lists live in rules/ (ladder.toml, ladder.py, derived.py, facts.py) and conversations/
    (intake.toml [display_order]); a view that names one again fails here."""
    vocabulary = _ruleset_vocabulary()
    for path in VIEWS:
        text = re.sub(r'"""[\s\S]*?"""', "", path.read_text())
        text = re.sub(r"#.*", "", text)
        for what, names in vocabulary.items():
            for name in names:
                assert not re.search(rf"""(["']){re.escape(name)}\1""", text), (
                    f"{what} {name!r} in {path.relative_to(ROOT)}"
                )
