"""Case vignettes (conversations/cases/*.toml): loading, and the authoring check.

A case file holds a title, a short narrative, the turns of a consultation as typed (replayed by
tests), the consult facts behind the story (`[facts]`, names from rules/facts.py SCHEMA) and what
the ruleset should conclude from them (`[expect]` fires / absent). Tutoring grades against the
ruleset's evaluation of `[facts]`, never against `[expect]`.

`check_cases` is `neuroladder cases check`: every file against the schema, every expected code
known and true of the facts, and which finding codes no case exercises.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from neuroladder.rules.data import Knowledge, load_knowledge, read_toml
from neuroladder.rules.engine import Evaluation, LadderRules
from neuroladder.rules.facts import FactError, check, engine_facts

from .questions import build_question

REQUIRED = {"title": str, "narrative": str, "turns": list, "facts": dict, "expect": dict}
EXPECT_KEYS = {"fires": list, "absent": list}


def default_cases_dir() -> Path:
    return Path(str(resources.files("neuroladder.conversations").joinpath("cases")))


@dataclass
class Case:
    id: str  # the file name without .toml
    title: str
    narrative: str
    turns: list[str]
    facts: dict[str, Any]  # flat consult facts, checked and normalised
    expect: dict[str, list[str]]
    path: Path | None = None

    def evaluate(self, rules: LadderRules, knowledge: Knowledge) -> Evaluation:
        return rules.evaluate(engine_facts(self.facts, knowledge))


class CaseError(ValueError):
    """A case file that does not fit the schema (the message lists every problem)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def flatten_facts(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`[facts.trial.duloxetine] dose = 30` and `"trial.duloxetine.dose" = 30` are the same fact."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_facts(value, name + "."))
        else:
            out[name] = value
    return out


def parse_case(data: dict, case_id: str, knowledge: Knowledge) -> tuple[Case, list[str]]:
    """Validate one case's data; return the case and its warnings, or raise CaseError."""
    problems: list[str] = []
    warnings: list[str] = []
    for key, kind in REQUIRED.items():
        if key not in data:
            problems.append(f"missing required key {key!r}")
        elif not isinstance(data[key], kind):
            problems.append(f"{key!r} must be a {kind.__name__}")
    for key in data:
        if key not in REQUIRED:
            warnings.append(f"unknown key {key!r} (ignored)")
    for key in ("title", "narrative"):
        if isinstance(data.get(key), str) and not data[key].strip():
            problems.append(f"{key!r} is empty")
    turns = data.get("turns") if isinstance(data.get("turns"), list) else []
    if isinstance(data.get("turns"), list):
        if not turns:
            problems.append("'turns' is empty")
        if any(not isinstance(t, str) or not t.strip() for t in turns):
            problems.append("every turn must be a non-empty string")

    facts: dict[str, Any] = {}
    raw = flatten_facts(data["facts"]) if isinstance(data.get("facts"), dict) else {}
    if isinstance(data.get("facts"), dict) and not raw:
        problems.append("'facts' is empty")
    for name, value in raw.items():
        try:
            facts[name] = check(name, value, knowledge)
        except FactError as exc:
            problems.append(f"fact {name}: {exc}")

    expect: dict[str, list[str]] = {"fires": [], "absent": []}
    if isinstance(data.get("expect"), dict):
        for key in data["expect"]:
            if key not in EXPECT_KEYS:
                warnings.append(f"unknown key 'expect.{key}' (ignored)")
        if "fires" not in data["expect"]:
            problems.append("missing required key 'expect.fires'")
        for key in EXPECT_KEYS:
            codes = data["expect"].get(key, [])
            if not isinstance(codes, list) or any(not isinstance(c, str) for c in codes):
                problems.append(f"'expect.{key}' must be a list of finding codes")
                continue
            for code in codes:
                if code not in knowledge.findings:
                    problems.append(f"expect.{key}: unknown finding code {code}")
            expect[key] = list(codes)
        both = set(expect["fires"]) & set(expect["absent"])
        if both:
            problems.append(f"expected both to fire and to be absent: {', '.join(sorted(both))}")
    if problems:
        raise CaseError(problems)
    return Case(case_id, data["title"].strip(), data["narrative"].strip(), list(turns), facts, expect), warnings


def load_case(path: Path, knowledge: Knowledge) -> tuple[Case, list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaseError([f"not readable as TOML: {exc}"]) from exc
    case, warnings = parse_case(data, path.stem, knowledge)
    case.path = path
    return case, warnings


def case_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.toml") if p.is_file())


def load_cases(directory: Path | None, knowledge: Knowledge) -> list[Case]:
    """Every valid case in `directory`, by file name (invalid ones are left out: `cases check` names them)."""
    out = []
    for path in case_files(directory or default_cases_dir()):
        try:
            out.append(load_case(path, knowledge)[0])
        except CaseError:
            continue
    return out


# -- does the narrative contradict the facts? ----------------------------------------------------
NUMBER_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
WEEKS_PER_MONTH = 4.345


def _number(word: str) -> float | None:
    word = word.lower()
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    try:
        return float(word)
    except ValueError:
        return None


def narrative_problems(case: Case, knowledge: Knowledge) -> list[str]:
    """A light, honest check: the age, "for N weeks/months", the drugs named (given or negated), and
    the phrases of conversations/case_checks.toml. It catches slips, not every contradiction."""
    checks = read_toml("neuroladder.conversations", "case_checks.toml")
    text = " ".join(case.narrative.split())
    lowered = text.lower()
    facts = case.facts
    problems = []
    age = re.search(r"\b(\d{1,3})-year-old\b", text)
    if age and facts.get("age") is not None and int(age.group(1)) != facts["age"]:
        problems.append(f"narrative: the age {age.group(1)} is not [facts] age {facts['age']}")
    weeks = [v for n, v in facts.items() if n.endswith((".weeks", ".weeks_at_max")) and isinstance(v, (int, float))]
    for amount, unit in re.findall(r"\bfor (\w+) (weeks?|months?)\b", lowered):
        n = _number(amount)
        if n is None:
            continue
        want = n * WEEKS_PER_MONTH if unit.startswith("month") else n
        if not any(abs(w - want) <= (0.6 if unit.startswith("month") else 0.01) for w in weeks):
            problems.append(f"narrative: 'for {amount} {unit}' matches no duration in [facts]")
    negations = checks["negations"]
    for phrase in checks["not_a_trial"]:
        lowered = lowered.replace(phrase, "")
    sentences = re.split(r"(?<=[.;!?])\s+", lowered)
    for agent, spec in knowledge.agents.items():
        if agent in checks["not_checked_agents"]:
            continue
        names = [n for n in spec["names"] if len(n) >= 5 and n not in knowledge.ambiguous]
        mentions = [
            (s[: m.start()].split()[-4:], s[m.end() :].split()[:2])
            for s in sentences
            for n in names
            for m in re.finditer(rf"\b{re.escape(n)}\b", s)
        ]
        if not mentions:
            continue
        tried = facts.get(
            f"trial.{agent}.tried", "yes" if any(n.startswith(f"trial.{agent}.") for n in facts) else None
        )
        # Negated when a negation stands just before the name ("no tricyclic", "instead of
        # duloxetine") or just after it ("gabapentin was never used").
        given = [
            m
            for m in mentions
            if not any(re.search(rf"\b{re.escape(w)}\b", " ".join(m[0]) + " | " + " ".join(m[1])) for w in negations)
        ]
        if tried is None:
            problems.append(f"narrative: names {spec['label']}, but [facts] say nothing about it")
        elif tried == "no" and given:
            problems.append(f"narrative: {spec['label']} reads as given, but [facts] say not tried")
        elif tried == "yes" and not given:
            problems.append(f"narrative: {spec['label']} reads as not given, but [facts] say tried")
    for rule in checks["contradictions"]:
        if not any(p in lowered for p in rule["phrases"]) or any(u in lowered for u in rule.get("unless", [])):
            continue
        hit = [
            n
            for n, v in facts.items()
            if n.startswith(rule["fact_prefix"]) and n.endswith(rule.get("fact_suffix", "")) and v == rule["value"]
        ]
        if hit:
            problems.append(f"narrative: {rule['message']} ({', '.join(hit)})")
    return problems


# -- the authoring check ------------------------------------------------------------------------
@dataclass
class CaseReport:
    path: Path
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    concluded: set[str] = field(default_factory=set)


@dataclass
class CheckReport:
    cases: list[CaseReport]
    uncovered: list[str]  # finding codes no case's facts make the ruleset conclude

    @property
    def invalid(self) -> list[CaseReport]:
        return [c for c in self.cases if c.problems]

    @property
    def ok(self) -> bool:
        return bool(self.cases) and not self.invalid and not self.uncovered

    def lines(self) -> list[str]:
        out = []
        for c in self.cases:
            status = "INVALID" if c.problems else "ok"
            out.append(f"{c.path.name}: {status}")
            out += [f"  error: {p}" for p in c.problems]
            out += [f"  warning: {w}" for w in c.warnings]
        valid = len(self.cases) - len(self.invalid)
        out.append(f"{len(self.cases)} case file(s): {valid} valid, {len(self.invalid)} invalid.")
        if not self.cases:
            out.append("No case files found.")
        if self.uncovered:
            out.append(f"Finding codes no case exercises ({len(self.uncovered)}): {', '.join(self.uncovered)}")
        elif self.cases:
            out.append("Every finding code is exercised by at least one case.")
        return out


def check_cases(directory: Path | None = None, knowledge: Knowledge | None = None) -> CheckReport:
    knowledge = knowledge or load_knowledge()
    rules = LadderRules(knowledge)
    reports = []
    covered: set[str] = set()
    for path in case_files(directory or default_cases_dir()):
        report = CaseReport(path)
        try:
            case, report.warnings = load_case(path, knowledge)
        except CaseError as exc:
            report.problems = exc.problems
            reports.append(report)
            continue
        ev = case.evaluate(rules, knowledge)
        report.concluded = ev.codes()
        report.problems += narrative_problems(case, knowledge)
        for code in case.expect["fires"]:
            if code not in report.concluded:
                report.problems.append(f"expect.fires {code}, but the ruleset does not conclude it from [facts]")
        for code in case.expect["absent"]:
            if code in report.concluded:
                report.problems.append(f"expect.absent {code}, but the ruleset concludes it from [facts]")
        if not report.problems:
            covered |= report.concluded
            if build_question(ev, knowledge, seed=case.id) is None:
                report.warnings.append(
                    "tutoring cannot use this case: the ruleset concludes no action with a "
                    "`tutor_option` for it, or too few wrong options remain"
                )
        reports.append(report)
    uncovered = [code for code in knowledge.findings if code not in covered]
    return CheckReport(reports, uncovered)


# -- command line ---------------------------------------------------------------------------------
def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cases_command", required=True)
    chk = sub.add_parser("check", help="validate every case file and report finding codes no case exercises")
    chk.add_argument("--dir", default=None, help="cases folder (default: the installed conversations/cases)")
    chk.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else default_cases_dir()
    report = check_cases(directory)
    print(f"Cases in {directory}")
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_check(argparse.Namespace(dir=sys.argv[1] if len(sys.argv) > 1 else None)))
