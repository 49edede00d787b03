"""`neuroladder cases check`: every case file against the schema and the ruleset, and coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from neuroladder.bot.cli.main import main
from neuroladder.bot.tutor.cases import case_files, check_cases, default_cases_dir

FIXTURES = Path(__file__).parent / "tutor_cases"

GOOD = """
title = "t"
narrative = "n"
turns = ["duloxetine 30 mg"]
[facts]
"trial.duloxetine.dose" = 30
[expect]
fires = ["TRIAL_UNDERDOSED"]
absent = []
"""


def run(capsys, *argv) -> tuple[int, str]:
    code = main(["cases", "check", *argv])
    return code, capsys.readouterr().out


def test_the_shipped_cases_are_valid_and_exercise_every_finding_code(capsys):
    if not case_files(default_cases_dir()):
        pytest.skip("conversations/cases/ has no case files yet (another engineer is writing them)")
    code, out = run(capsys)
    assert "invalid" in out and " 0 invalid" in out, out
    assert "Every finding code is exercised by at least one case." in out, out
    assert code == 0


def test_valid_cases_pass_but_uncovered_codes_are_named_and_fail(capsys):
    code, out = run(capsys, "--dir", str(FIXTURES))
    assert "3 case file(s): 3 valid, 0 invalid." in out
    uncovered = next(line for line in out.splitlines() if line.startswith("Finding codes no case exercises"))
    assert "CIDP_IMMUNOTHERAPY" in uncovered and "FOCAL_CAPSAICIN8" in uncovered
    assert "TRIAL_UNDERDOSED" not in uncovered and "STEP4_REFERRAL" not in uncovered  # the fixtures fire these
    assert code == 1


def test_every_problem_in_a_case_file_is_reported(tmp_path, capsys):
    (tmp_path / "good.toml").write_text(GOOD)
    (tmp_path / "bad_facts.toml").write_text(
        GOOD.replace(
            '"trial.duloxetine.dose" = 30',
            '"trial.duloxetine.dose" = 30\n"trial.aspirin.dose" = 300\npain_pattern = "sometimes"\nage = -4\nmood = "low"',
        )
    )
    (tmp_path / "missing_keys.toml").write_text('title = "t"\nnarrative = "n"\n[facts]\nage = 70\n')
    (tmp_path / "unknown_code.toml").write_text(GOOD.replace('fires = ["TRIAL_UNDERDOSED"]', 'fires = ["NOT_A_CODE"]'))
    (tmp_path / "false_expectation.toml").write_text(
        GOOD.replace("absent = []", 'absent = ["TRIAL_UNDERDOSED"]').replace(
            'fires = ["TRIAL_UNDERDOSED"]', 'fires = ["STEP4_REFERRAL"]'
        )
    )
    (tmp_path / "broken.toml").write_text('title = "unterminated\n')
    code, out = run(capsys, "--dir", str(tmp_path))
    assert code == 1
    assert "good.toml: ok" in out
    for expected in (
        "bad_facts.toml: INVALID",
        "unknown agent in 'trial.aspirin.dose'",
        "pain_pattern must be one of focal, diffuse, unknown",
        "age cannot be negative",
        "unknown fact 'mood'",
        "missing_keys.toml: INVALID",
        "missing required key 'turns'",
        "missing required key 'expect'",
        "unknown finding code NOT_A_CODE",
        "expect.fires STEP4_REFERRAL, but the ruleset does not conclude it",
        "expect.absent TRIAL_UNDERDOSED, but the ruleset concludes it",
        "broken.toml: INVALID",
        "not readable as TOML",
    ):
        assert expected in out, expected
    assert "6 case file(s): 1 valid, 5 invalid." in out


def test_nested_fact_tables_mean_the_same_facts(tmp_path):
    dotted = GOOD
    nested = GOOD.replace('"trial.duloxetine.dose" = 30', "[facts.trial.duloxetine]\ndose = 30")
    (tmp_path / "dotted.toml").write_text(dotted)
    (tmp_path / "nested.toml").write_text(nested)
    report = check_cases(tmp_path)
    assert not report.invalid
    assert report.cases[0].concluded == report.cases[1].concluded


def test_an_empty_folder_fails(tmp_path, capsys):
    code, out = run(capsys, "--dir", str(tmp_path))
    assert code == 1 and "No case files found." in out


def test_a_copy_of_the_shipped_cases_with_one_removed_reports_the_gap(tmp_path, capsys):
    """Coverage is computed from what the ruleset concludes, so dropping the only case for a code shows it."""
    files = case_files(default_cases_dir())
    if not files:
        pytest.skip("conversations/cases/ has no case files yet")
    for f in files:
        shutil.copy(f, tmp_path / f.name)
    full = check_cases(tmp_path)
    sole = {}
    for c in full.cases:
        for code in c.concluded:
            sole.setdefault(code, []).append(c.path.name)
    only_one = sorted((code, names[0]) for code, names in sole.items() if len(names) == 1)
    if not only_one:
        pytest.skip("every finding code is exercised by two or more cases")
    code_name, file_name = only_one[0]
    (tmp_path / file_name).unlink()
    code, out = run(capsys, "--dir", str(tmp_path))
    assert code == 1
    assert code_name in next(line for line in out.splitlines() if line.startswith("Finding codes no case"))


# -- the narrative must not contradict the facts ----------------------------------------------------
NARRATED = """
title = "t"
narrative = \"\"\"{narrative}\"\"\"
turns = ["x"]
[facts]
age = 58
"trial.duloxetine.tried" = "yes"
"trial.duloxetine.dose" = 30
"trial.duloxetine.weeks" = 8
"trial.tca.tried" = "{tca}"
"trial.tca.weeks" = 8
"trial.tca.weeks_at_max" = 2
"trial.tca.max_tolerated" = "yes"
"flag.areflexia" = "{areflexia}"
[expect]
fires = ["TRIAL_UNDERDOSED"]
absent = []
"""
HONEST = (
    "A 58-year-old. Duloxetine 30 mg daily for eight weeks. Amitriptyline was raised until side effects "
    "stopped further increases, then taken for 8 weeks. No red flags."
)


def _check(tmp_path, narrative, tca="yes", areflexia="no"):
    (tmp_path / "case.toml").write_text(NARRATED.format(narrative=narrative, tca=tca, areflexia=areflexia))
    report = check_cases(tmp_path)
    return report.cases[0].problems


def test_regression_a_narrative_that_agrees_with_its_facts_passes(tmp_path):
    assert _check(tmp_path, HONEST) == []


@pytest.mark.parametrize(
    "narrative,kwargs,expected",
    [
        (HONEST.replace("58-year-old", "68-year-old"), {}, "the age 68"),
        (HONEST.replace("for eight weeks", "for twelve weeks"), {}, "'for twelve weeks'"),
        (HONEST, {"tca": "no"}, "TCA reads as given"),
        (HONEST.replace("Amitriptyline was", "No amitriptyline was"), {}, "TCA reads as not given"),
        (
            HONEST.replace("raised until side effects stopped further increases", "taken at the highest dose reached"),
            {},
            "highest dose reached",
        ),
        (HONEST, {"areflexia": "yes"}, "says no red flags"),
        (HONEST + " Gabapentin 600 mg tid helped.", {}, "names gabapentin"),
    ],
)
def test_a_narrative_that_contradicts_its_facts_is_rejected(tmp_path, narrative, kwargs, expected):
    problems = _check(tmp_path, narrative, **kwargs)
    assert any(expected in p for p in problems), problems
