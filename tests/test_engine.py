"""The rules engine works on this interpreter: a tiny ruleset and the ladder, through the C core.

durable-rules is compiled from its sdist on every install; on CPython 3.13+ the unpatched 2.0.28
builds, then fails at import. scripts/check_engine.py (run after every install by scripts/dev,
.ci/run's smoke and the Dockerfile) is what these tests exercise.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def check_engine():
    spec = importlib.util.spec_from_file_location("check_engine", ROOT / "scripts" / "check_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_ruleset_fires_its_consequent():
    assert check_engine().tiny_ruleset() == ["gabapentin"]


def test_the_ladder_judges_an_underdosed_gabapentin_trial():
    assert "TRIAL_UNDERDOSED" in check_engine().ladder()


def test_the_check_script_says_ok_in_one_line():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_engine.py")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("engine check ok on CPython") and proc.stdout.count("\n") == 1


def test_the_patch_is_upstreams_one_substitution_and_nothing_else():
    text = (ROOT / "patches" / "durable-rules-2.0.28-py313.patch").read_text()
    removed = [line for line in text.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 5
    assert all("PyEval_CallObject(" in line for line in removed)
    assert [r[1:].replace("PyEval_CallObject(", "PyObject_CallObject(") for r in removed] == [a[1:] for a in added]
    assert {line.split("--- ")[-1] for line in text.splitlines() if line.startswith("--- ")} == {
        "a/src/rulespy/rules.c"
    }


def old_interpreter() -> str | None:
    for name in ("python3.10", "python3.9", "python3.8"):
        found = subprocess.run(["bash", str(ROOT / "scripts" / "find-python"), name], capture_output=True, text=True)
        if found.returncode == 0:
            return name
    return None


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.slow  # runs scripts/dev with another interpreter
def test_an_unsupported_interpreter_gets_one_line_naming_the_versions_that_work():
    name = old_interpreter()
    if name is None:
        pytest.skip("no Python older than 3.11 on this machine")
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev"), "run"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin:" + str(Path.home() / ".pyenv" / "shims"),
            "HOME": str(Path.home()),
            "PYTHON": name,
        },
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "3.11, 3.12 or 3.13" in proc.stderr, proc.stderr
    assert not (ROOT / f".venv-{name[len('python') :]}").exists()


def test_a_broken_engine_is_one_line_not_a_traceback(monkeypatch, capsys):
    from neuroladder.bot.cli import main as cli

    def broken():
        raise ImportError("durable_rules_engine.cpython-313-x86_64-linux-gnu.so: undefined symbol: PyEval_CallObject")

    monkeypatch.setattr(cli, "build_parser", broken)
    assert cli.main(["chat"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PyEval_CallObject" in err and "3.13+" in err and "README" in err


def test_a_rule_that_raises_fails_the_evaluation_instead_of_giving_less_advice(monkeypatch):
    from neuroladder.rules import dsl
    from neuroladder.rules.data import load_knowledge
    from neuroladder.rules.engine import LadderRules, RuleError
    from neuroladder.rules.facts import engine_facts

    k = load_knowledge()
    rules = LadderRules(k)
    facts = engine_facts({"trial.gabapentin.dose": 900}, k)
    assert "TRIAL_UNDERDOSED" in rules.evaluate(facts).codes()
    real = dsl.Ctx.finding_because

    def broken(self, code, ids, **params):
        if code == "TRIAL_UNDERDOSED":
            raise KeyError("a parameter the finding's text needs")
        return real(self, code, ids, **params)

    monkeypatch.setattr(dsl.Ctx, "finding_because", broken)
    with pytest.raises(RuleError, match="KeyError"):
        rules.evaluate(facts)
    monkeypatch.undo()
    assert "TRIAL_UNDERDOSED" in rules.evaluate(facts).codes()  # the next evaluation starts clean
