"""`neuroladder run` settings: one clear line and exit status 2 for what an operator got wrong."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
from botapi_standin import TOKEN, BotAPIStandIn

from neuroladder.bot import settings
from neuroladder.bot.channels.telegram import app as telegram

pytest_plugins = ["telegram_fixtures"]


def run_args(*argv: str) -> argparse.Namespace:
    return telegram.configure_parser(argparse.ArgumentParser()).parse_args(list(argv))


SETTINGS = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "NEUROLADDER_DB",
    "NEUROLADDER_ALLOWED_USERS",
    "NEUROLADDER_ALLOWED_CHATS",
    "NEUROLADDER_WEBHOOK_URL",
    "NEUROLADDER_WEBHOOK_SECRET",
    "NEUROLADDER_POLL_TIMEOUT",
    "NEUROLADDER_TELEGRAM_RATE",
    "NEUROLADDER_TELEGRAM_GROUP_RATE",
]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No Telegram settings in the environment; whatever a test (or a .env) sets is undone after it."""
    for key in set(SETTINGS) | {k for k in os.environ if k.startswith(("TELEGRAM_", "NEUROLADDER_"))}:
        monkeypatch.setenv(key, "")  # records the value to restore, even "unset"
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


@pytest.mark.parametrize(
    "token, expected",
    [
        (None, "TELEGRAM_BOT_TOKEN is not set"),
        ("", "TELEGRAM_BOT_TOKEN is not set"),
        ("not-a-token", "TELEGRAM_BOT_TOKEN is malformed"),
        ("123456:short", "TELEGRAM_BOT_TOKEN is malformed"),
    ],
)
def test_missing_or_malformed_token_is_one_line_and_exit_2(clean_env, capsys, token, expected):
    if token is not None:
        clean_env.setenv("TELEGRAM_BOT_TOKEN", token)
    clean_env.setenv("NEUROLADDER_ALLOWED_USERS", "1")
    assert telegram.main(run_args()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    if token:
        assert token not in err


def test_no_allowlist_refuses_to_start_and_says_why(clean_env, capsys):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert telegram.main(run_args()) == 2
    err = capsys.readouterr().err
    assert "NEUROLADDER_ALLOWED_USERS" in err and "--open" in err and err.count("\n") == 1


def test_malformed_allowlist_names_the_variable(clean_env, capsys):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("NEUROLADDER_ALLOWED_CHATS", "-100123, team-a")
    assert telegram.main(run_args()) == 2
    assert "NEUROLADDER_ALLOWED_CHATS" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, value",
    [
        ("NEUROLADDER_USER_MESSAGES_PER_MINUTE", "30/min"),
        ("NEUROLADDER_TRAFFIC_DAYS", "-3"),
        ("NEUROLADDER_TELEGRAM_RATE", "fast"),
        ("NEUROLADDER_TELEGRAM_RATE", "0"),
        # float() reads these; a limiter given them would never send, or never hold back
        ("NEUROLADDER_TELEGRAM_RATE", "nan"),
        ("NEUROLADDER_TELEGRAM_GROUP_RATE", "inf"),
        ("NEUROLADDER_POLL_TIMEOUT", "-1"),
    ],
)
def test_a_malformed_limit_is_one_line_and_exit_2(clean_env, capsys, name, value):
    """Never silently the default: an operator who set a limit must learn that it was not taken."""
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv(name, value)
    assert telegram.main(run_args("--open")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and repr(value) in err and "Traceback" not in err


def test_settings_from_env_file_and_command_line(clean_env, tmp_path):
    (tmp_path / ".env").write_text(
        f"# bot\nTELEGRAM_BOT_TOKEN='{TOKEN}'\nNEUROLADDER_ALLOWED_USERS=7, 8\nNEUROLADDER_DB=from-env-file.db\n"
    )
    clean_env.setenv("NEUROLADDER_ALLOWED_USERS", "9")  # the environment wins over .env
    cfg = telegram.load_settings(run_args("--poll-timeout", "5"))
    assert cfg.token == TOKEN and cfg.allowed_users == {9} and cfg.db_path == "from-env-file.db"
    assert cfg.api_base_url == "https://api.telegram.org/bot" and cfg.poll_timeout == 5
    assert telegram.load_settings(run_args("--db", "cli.db")).db_path == "cli.db"
    assert TOKEN not in repr(cfg)


def test_open_flag_serves_everyone(clean_env):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    cfg = telegram.load_settings(run_args("--open"))
    assert cfg.open_access and cfg.is_allowed(424242, 424242)
    allowed = settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEUROLADDER_ALLOWED_CHATS": "-100"})
    assert allowed.is_allowed(5, -100) and not allowed.is_allowed(5, 5)


@pytest.mark.slow  # starts the command as a process
def test_token_rejected_by_telegram_is_one_line_without_the_token(standin: BotAPIStandIn, tmp_path):
    wrong = "987654321:AAWrongTokenWrongTokenWrongToken_xyz"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
    env.update(TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=standin.base_url)
    proc = subprocess.run(
        [sys.executable, "-m", "neuroladder.bot.channels.telegram.app", "--open", "--db", "x.db"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr and wrong not in proc.stderr and wrong.split(":")[1] not in proc.stderr


def test_log_lines_never_show_the_token():
    formatter = settings.RedactingFormatter("%(message)s", [TOKEN])
    import logging

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST https://api/bot%s/getMe", (TOKEN,), None)
    assert formatter.format(record) == "POST https://api/bot<token>/getMe"


@pytest.mark.parametrize(
    "url, secret, expected",
    [
        ("https://bot.example.org/hook", None, "NEUROLADDER_WEBHOOK_SECRET"),
        ("https://bot.example.org/hook", "has spaces", "NEUROLADDER_WEBHOOK_SECRET may only hold"),
        ("http://bot.example.org/hook", "s3cret", "must be an https:// URL"),
    ],
)
def test_webhook_needs_https_and_a_secret(clean_env, capsys, url, secret, expected):
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    if secret:
        clean_env.setenv("NEUROLADDER_WEBHOOK_SECRET", secret)
    assert telegram.main(run_args("--open", "--webhook-url", url)) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    if secret:
        assert secret not in err
