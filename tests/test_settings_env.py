"""One configuration for every command: the environment, then `.env` (or `--env-file PATH`), read the
same way by chat, run, matrix, purge, export, db and cases; a bad setting is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from neuroladder.bot.cli.main import main
from neuroladder.bot.service import Service
from neuroladder.bot.storage import crypto
from neuroladder.bot.storage.store import Store

KEY = "correct horse battery staple"
CLI = [sys.executable, "-m", "neuroladder.bot.cli.main"]
CONSULT = "gabapentin 300 mg tid x 4 months, no help\n/summary\n"
COMMANDS = [
    ["chat"],
    ["run"],
    ["matrix"],
    ["purge", "--older-than", "30"],
    ["export", "--consult", "1"],
    ["db", "check"],
    ["db", "encrypt"],
    ["db", "decrypt"],
    ["cases", "check"],
]


@pytest.fixture
def here(monkeypatch, tmp_path):
    """A working directory of its own, and no NeuroLadder, Telegram or Matrix setting in the environment."""
    for key in [k for k in os.environ if k.startswith(("NEUROLADDER_", "TELEGRAM_", "MATRIX_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(cwd, *argv, stdin=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROLADDER_", "TELEGRAM_", "MATRIX_"))}
    return subprocess.run(CLI + list(argv), cwd=cwd, input=stdin, capture_output=True, text=True, env=env, timeout=120)


def one_line(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def a_log(path) -> None:
    store = Store(path)
    Service(store, admins=set()).handle("console", "c1", "gabapentin 300 mg tid x 4 months, no help")
    store.close()


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_command_reads_dot_env_and_a_malformed_line_is_one_line_exit_2(here, capsys, argv):
    (here / ".env").write_text("NEUROLADDER_DB=x.db\nthis line is not a setting\n")
    err = one_line(capsys, argv)
    assert ".env line 2 is not KEY=value" in err and "this line" not in err


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_command_takes_env_file_and_a_missing_one_is_one_line_exit_2(here, capsys, argv):
    assert "--env-file nowhere.env: no such file" in one_line(capsys, argv + ["--env-file", "nowhere.env"])
    (here / "other.env").write_text("oops\n")
    assert "other.env line 1" in one_line(capsys, argv + ["--env-file", "other.env"])


@pytest.mark.slow  # starts the command as a process
def test_chat_and_run_write_to_the_log_named_in_dot_env(here):
    (here / ".env").write_text("NEUROLADDER_DB=from-dot-env.db\n")
    for command in ("chat", "run"):
        proc = cli(here, command, stdin=CONSULT)
        assert proc.returncode == 0, proc.stderr
        assert "gabapentin trial not adequate" in proc.stdout
    store = Store(here / "from-dot-env.db")
    assert len(list(store.db["consults"].rows)) == 2
    store.close()


def test_run_reads_the_token_from_dot_env(here, capsys):
    (here / ".env").write_text("TELEGRAM_BOT_TOKEN=not-a-token\nNEUROLADDER_ALLOWED_USERS=1\n")
    assert "TELEGRAM_BOT_TOKEN is malformed" in one_line(capsys, ["run"])


def test_matrix_reads_its_settings_from_an_env_file(here, capsys):
    pytest.importorskip("nio")
    (here / "matrix.env").write_text("MATRIX_HOMESERVER=ftp://matrix.example\nMATRIX_USER_ID=@bot:matrix.example\n")
    assert "MATRIX_HOMESERVER must be an http(s) URL" in one_line(capsys, ["matrix", "--env-file", "matrix.env"])


def test_the_environment_wins_over_dot_env(here, capsys, monkeypatch):
    a_log(here / "env.db")
    (here / ".env").write_text("NEUROLADDER_DB=dot-env.db\n")
    monkeypatch.setenv("NEUROLADDER_DB", "env.db")
    assert main(["db", "check"]) == 0
    assert "env.db: ok" in capsys.readouterr().out


def test_purge_export_and_db_check_use_the_log_named_in_dot_env(here, capsys):
    a_log(here / "team.db")
    (here / ".env").write_text("# the team's log\nexport NEUROLADDER_DB='team.db'\n")
    assert main(["db", "check"]) == 0
    assert capsys.readouterr().out.startswith("team.db: ok")
    assert main(["export", "--consult", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["consult"]["id"] == 1
    assert main(["purge", "--older-than", "30", "--dry-run"]) == 0
    assert "would delete 0 consult(s)" in capsys.readouterr().out


@pytest.mark.slow  # starts the command as a process
def test_a_db_key_only_in_dot_env_opens_an_encrypted_log_with_chat_export_and_db_check(here, capsys):
    pytest.importorskip("sqlcipher3")
    (here / ".env").write_text(f"NEUROLADDER_DB_KEY={KEY}\n")
    proc = cli(here, "chat", "--db", "enc.db", stdin=CONSULT)
    assert proc.returncode == 0, proc.stderr
    assert "gabapentin trial not adequate" in proc.stdout
    assert crypto.file_state(here / "enc.db") == "encrypted"
    assert b"gabapentin" not in (here / "enc.db").read_bytes()

    assert main(["export", "--consult", "1", "--db", "enc.db"]) == 0
    assert "gabapentin" in capsys.readouterr().out
    assert main(["db", "check", "--db", "enc.db"]) == 0
    assert "enc.db: ok; encrypted" in capsys.readouterr().out
    proc = cli(here, "chat", "--db", "enc.db", stdin="/summary\n")  # a second consultation in the same log
    assert proc.returncode == 0 and "Consult summary" in proc.stdout, proc.stderr

    (here / ".env").unlink()  # without the key: one line, exit 2, the log untouched
    os.environ.pop(crypto.KEY_ENV, None)
    assert "is encrypted" in one_line(capsys, ["db", "check", "--db", "enc.db"])
    proc = cli(here, "chat", "--db", "enc.db", stdin="/summary\n")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert crypto.file_state(here / "enc.db") == "encrypted"
