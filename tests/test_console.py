"""The terminal channel, driven the way a user drives it: `neuroladder chat` with stdin piped."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

NEUROLADDER = [sys.executable, "-m", "neuroladder.bot.cli.main"]


def chat(tmp_path: Path, lines: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*NEUROLADDER, "chat", "--db", str(tmp_path / "consult.db"), "--out", str(tmp_path), *args],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )


def test_readme_acceptance_consultation(tmp_path):
    out = chat(tmp_path, "gabapentin 300 mg three times a day for 4 months\nduloxetine 30 mg\n/summary\n/unknowns\n")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "gabapentin trial not adequate: 900 of 2400 mg/day" in text
    assert "duloxetine trial not adequate: 30 of 60 mg/day" in text
    assert "[1]" in text
    summary = text[text.index("Consult summary") :]
    assert summary.splitlines()[1].startswith("Next step: ")  # the first screen leads with the next step
    assert "Still unknown (" in summary and "- creatinine clearance" in text
    assert "\x1b[" not in text, "plain text when stdin is not a terminal"
    assert "Traceback" not in out.stderr


@pytest.mark.slow  # starts the command as a process
def test_every_turn_and_fact_is_logged(tmp_path):
    chat(tmp_path, "gabapentin 300 mg tid\n78 yo\n")
    db = sqlite3.connect(tmp_path / "consult.db")
    turns = db.execute("select direction, text from turns order by id").fetchall()
    assert ("in", "gabapentin 300 mg tid") in turns and ("in", "78 yo") in turns
    assert sum(1 for d, _ in turns if d == "out") == sum(1 for d, _ in turns if d == "in")
    facts = dict(db.execute("select name, value from facts where retracted_at is null").fetchall())
    assert facts["trial.gabapentin.dose"] == "900" and facts["age"] == "78"
    assert db.execute("select count(*) from findings where code = 'TRIAL_UNDERDOSED'").fetchone()[0] >= 1
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("select ruleset_version from consults").fetchone()[0]


@pytest.mark.slow  # starts the command as a process
def test_numbered_choices_answer_the_question(tmp_path):
    # The first question is gabapentin; [2] is "No".
    out = chat(tmp_path, "2\n")
    assert "Noted: gabapentin not tried" in out.stdout


@pytest.mark.slow  # starts the command as a process
def test_run_without_token_falls_back_to_the_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    out = subprocess.run(
        [*NEUROLADDER, "run", "--db", str(tmp_path / "r.db")],
        input="duloxetine 30\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "No TELEGRAM_BOT_TOKEN set" in out.stderr
    assert "30 of 60 mg/day" in out.stdout


@pytest.mark.slow  # starts the command as a process, once per input
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01",
        "/nonsense",
        "<script>alert(1)</script>",
        "'; drop table turns; --",
        "gabapentin 50000 mg/day",
        "age 400",
        "gabapentin -300 mg",
    ],
)
def test_bad_input_gets_a_clear_reply(tmp_path, text):
    out = chat(tmp_path, text + "\n/summary\n")
    assert out.returncode == 0
    assert "Traceback" not in out.stdout + out.stderr
    assert "Consult summary" in out.stdout


@pytest.mark.slow  # starts the command as a process
def test_implausible_values_are_questioned_not_stored(tmp_path):
    out = chat(tmp_path, "gabapentin 50000 mg/day\nshe is 400\n")
    assert "outside the plausible range" in out.stdout
    db = sqlite3.connect(tmp_path / "consult.db")
    names = {n for (n,) in db.execute("select name from facts")}
    assert "trial.gabapentin.dose" not in names and "age" not in names
