"""Score the free-text reader on the language corpus (tests/language/*.yaml).

Each message is read as the consult reads it (bot/short_answer.read_turn: free text first, a short
reply as the answer to the open question it was typed under), and only facts that pass the schema
count as stored. Per fact kind it reports:
  expected  facts annotated;            found   of those, stored with the annotated value (recall)
  stored    facts the reader stored;    wrong   stored with a value the annotation does not have
  inversions  stored with the OPPOSITE polarity, outcome or status (tried yes vs no, good vs no
              benefit, paraprotein normal vs abnormal, B12 low vs normal, flag yes vs no ...)
and, per message, whether it was read exactly (facts, clarifying question, options asked about).

    .venv/bin/python bench/language_score.py            # the table (markdown)
    .venv/bin/python bench/language_score.py --misses   # and every message not read exactly
    .venv/bin/python bench/language_score.py --corpus tests/language/holdout   # the held-out set
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from neuroladder.bot.dialogue.intake import Intake
from neuroladder.bot.text.parse import Parser
from neuroladder.bot.text.short_answer import read_turn
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.facts import FactError, check

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "language"

# Opposite readings: a stored value in one set where the annotation is in the other.
YES_NO = ({"yes"}, {"no"})
OPPOSITES: dict[str, list[tuple[set, set]]] = {
    "tried": [YES_NO],
    "current": [YES_NO],
    "max_tolerated": [YES_NO],
    "weakness_fatigue": [YES_NO],
    "falls": [YES_NO],
    "hepatic": [YES_NO],
    "combination": [YES_NO],
    "flag": [YES_NO],
    "outcome": [({"good", "partial"}, {"no_benefit", "waned", "side_effects"})],
    "combination.outcome": [({"good", "partial"}, {"no_benefit", "waned", "side_effects"})],
    "paraprotein": [({"normal"}, {"abnormal"})],
    "b12": [({"low"}, {"normal", "treated"})],
    "diabetes": [({"controlled"}, {"uncontrolled"}), ({"no"}, {"controlled", "uncontrolled"})],
    "pain_pattern": [({"focal"}, {"diffuse"})],
}


def kind_of(name: str) -> str:
    if name.startswith("trial."):
        return name.split(".", 2)[2]
    if name.startswith("flag."):
        return "flag"
    return name


def inverted(name: str, expected: Any, stored: Any) -> bool:
    for a, b in OPPOSITES.get(kind_of(name), []):
        if (expected in a and stored in b) or (expected in b and stored in a):
            return True
    return False


def _plain(value: Any) -> Any:
    """YAML 1.1 reads yes/no as booleans: the corpus means the strings."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return sorted(_plain(v) for v in value)
    return value


@dataclass
class Entry:
    file: str
    text: str
    facts: dict[str, Any]
    question: str | None = None
    clarify: bool = False
    queries: list[str] | None = None
    row: int | None = None


def load(folder: Path = CORPUS) -> list[Entry]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            facts = {k: _plain(v) for k, v in (item.get("facts") or {}).items()}
            for agent, parts in (item.get("trials") or {}).items():
                facts.update({f"trial.{agent}.{part}": _plain(v) for part, v in parts.items()})
            out.append(
                Entry(
                    path.stem,
                    item["text"],
                    facts,
                    item.get("question"),
                    bool(item.get("clarify")),
                    item.get("queries"),
                    item.get("row"),
                )
            )
    return out


@dataclass
class Kind:
    expected: int = 0
    found: int = 0
    stored: int = 0
    wrong: int = 0
    inversions: int = 0


@dataclass
class Result:
    entry: Entry
    stored: dict[str, Any]
    clarified: bool
    queries: list[str]

    @property
    def exact(self) -> bool:
        e = self.entry
        return (
            self.stored == e.facts
            and self.clarified == e.clarify
            and (e.queries is None or sorted(self.queries) == sorted(e.queries))
            and (e.queries is not None or not self.queries)
        )


@dataclass
class Report:
    results: list[Result]
    kinds: dict[str, Kind] = field(default_factory=dict)
    inversions: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exact(self) -> int:
        return sum(r.exact for r in self.results)


def read_all(entries: list[Entry]) -> Report:
    knowledge = load_knowledge()
    parser, intake = Parser(knowledge), Intake()
    results = []
    started = time.perf_counter()
    for e in entries:
        q = intake.by_id[e.question] if e.question else None
        parsed = read_turn(parser, knowledge, q, e.text)
        stored = {}
        for name, value in parsed.facts.items():
            try:
                stored[name] = _plain(check(name, value, knowledge))
            except FactError:
                pass
        results.append(Result(e, stored, bool(parsed.clarify or parsed.ambiguous), list(parsed.queries)))
    report = Report(results, seconds=time.perf_counter() - started)
    for r in results:
        for name, value in r.entry.facts.items():
            k = report.kinds.setdefault(kind_of(name), Kind())
            k.expected += 1
            k.found += r.stored.get(name) == value
        for name, value in r.stored.items():
            k = report.kinds.setdefault(kind_of(name), Kind())
            k.stored += 1
            if r.entry.facts.get(name) != value:
                k.wrong += 1
                if name in r.entry.facts and inverted(name, r.entry.facts[name], value):
                    k.inversions += 1
                    report.inversions.append((r.entry.text, name, r.entry.facts[name], value))
    return report


def table(report: Report) -> str:
    lines = [
        "| fact kind | expected | found | recall | stored | wrong | precision | inversions |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = Kind()
    for name in sorted(report.kinds):
        k = report.kinds[name]
        for attr in ("expected", "found", "stored", "wrong", "inversions"):
            setattr(total, attr, getattr(total, attr) + getattr(k, attr))
        lines.append(_row(name, k))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(name: str, k: Kind) -> str:
    recall = f"{k.found / k.expected:.2f}" if k.expected else "-"
    precision = f"{(k.stored - k.wrong) / k.stored:.2f}" if k.stored else "-"
    return f"| {name} | {k.expected} | {k.found} | {recall} | {k.stored} | {k.wrong} | {precision} | {k.inversions} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list every message not read exactly")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="folder of *.yaml (default tests/language)")
    args = ap.parse_args(argv)
    entries = load(args.corpus)
    report = read_all(entries)
    print(
        f"{len(entries)} messages in {len({e.file for e in entries})} files; read exactly: {report.exact}; "
        f"inversions: {len(report.inversions)}; {report.seconds * 1000 / max(1, len(entries)):.2f} ms/message\n"
    )
    print(table(report))
    for text, name, want, got in report.inversions:
        print(f"INVERSION {name}: expected {want}, stored {got}: {text!r}")
    if args.misses:
        for r in report.results:
            if not r.exact:
                e = r.entry
                extra = {k: v for k, v in r.stored.items() if e.facts.get(k) != v}
                missing = {k: v for k, v in e.facts.items() if r.stored.get(k) != v}
                print(f"\n[{e.file}] {e.text!r}" + (f" (under {e.question})" if e.question else ""))
                if extra:
                    print(f"   stored, not expected: {extra}")
                if missing:
                    print(f"   expected, not stored: {missing}")
                if r.clarified != e.clarify:
                    print(f"   clarifying question: {r.clarified}, expected {e.clarify}")
                if (e.queries or []) != r.queries:
                    print(f"   queries: {r.queries}, expected {e.queries}")
    return 1 if report.inversions else 0


if __name__ == "__main__":
    sys.exit(main())
