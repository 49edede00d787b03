"""Hostile or absurd command arguments get a clear reply (chat) or one line and exit 2 (CLI):
never the generic error, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from neuroladder.bot.service import ERROR_TEXT, Service
from neuroladder.bot.storage.store import Store


@pytest.fixture
def service(tmp_path):
    store = Store(tmp_path / "log.db")
    svc = Service(store, admins={"admin"})
    svc.handle("console", "c1", "gabapentin 300 mg tid x 3 mo, no help", author="admin")
    yield svc
    store.close()


@pytest.mark.parametrize(
    "command",
    [
        "/how ²",
        "/how ٣٣",
        "/how 99999999999999999999999",
        "/edit ²",
        "/edit 99999999999999999999999",
        "/exportconsult ²",
        "/exportconsult 99999999999999999999999",
        "/purge 800000",
        "/purge nan",
        "/purge inf",
        "/purge -1",
        "/purge 1e308",
    ],
)
def test_chat_commands_answer_hostile_arguments_plainly(service, command, caplog):
    reply = service.handle("console", "c1", command, author="admin")[0].plain()
    assert reply and ERROR_TEXT not in reply, reply
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "args",
    [
        ["purge", "--older-than", "nan"],
        ["purge", "--older-than", "1e6"],
        ["purge", "--older-than", "inf"],
        ["export", "--consult", "99999999999999999999"],
        ["export", "--consult", "-5"],
    ],
)
@pytest.mark.slow  # starts the command as a process
def test_cli_hostile_arguments_are_one_line_and_exit_2(tmp_path, service, args):
    db = tmp_path / "log.db"
    run = subprocess.run(
        [sys.executable, "-m", "neuroladder.bot.cli.main", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


@pytest.mark.parametrize(
    "text, never",
    [
        ("gabapentin 1e309 mg/day", "trial.gabapentin.dose"),
        ("age 1e309", "age"),
        ("egfr 1e-9", "egfr"),
        ("gabapentin 0x960", "trial.gabapentin.dose"),
        ("crcl 2E1", "crcl"),
        ("b12 2e2 pmol/l", "b12_level"),
    ],
)
def test_malformed_numbers_are_questioned_never_partly_read(service, text, never):
    """'1e309' once became 309 mg/day (and age 1): no part of such a number is stored."""
    chat = f"malformed-{never}"
    reply = service.handle("console", chat, text, author="admin")[0].plain()
    assert "not a number I can read" in reply, reply
    consult = service.store.open_consult("console", chat)["id"]
    facts = {r["name"] for r in service.store.db["facts"].rows_where("consult_id = ?", [consult])}
    assert never not in facts


def test_a_malformed_number_as_a_short_answer_is_questioned_too(tmp_path):
    store = Store(tmp_path / "q.db")
    svc = Service(store, admins=set())
    svc.handle("console", "c2", "/start")
    reply = svc.handle("console", "c2", "1e309")[0].plain()
    assert "not a number I can read" in reply and "gabapentin" not in {
        r["name"].split(".")[1] for r in store.db["facts"].rows if r["name"].startswith("trial.")
    }
    store.close()
