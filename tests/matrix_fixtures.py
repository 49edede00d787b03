"""Fixtures for the Matrix tests (pulled in with `pytest_plugins = ["matrix_fixtures"]`):
one real Synapse per session, clinicians started by name, bots made per test.
"""

from __future__ import annotations

import pytest
from matrix_helpers import CLINICIANS, PASSWORD, BotProcess, Clinician
from synapse_server import SynapseServer


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    """A running Synapse with the clinicians registered (alice and bob allowed, mallory not)."""
    server = SynapseServer(tmp_path_factory.mktemp("synapse")).start()
    try:
        for name in CLINICIANS:
            server.register(name, PASSWORD)
        yield server
    finally:
        server.stop()


@pytest.fixture
async def clinicians(synapse, tmp_path):
    """Start clinician clients by name: `alice = await clinicians("alice")`; all stopped at the end."""
    started: list[Clinician] = []

    async def start(name: str) -> Clinician:
        c = await Clinician(synapse, name, tmp_path / f"{name}-keys").start()
        started.append(c)
        return c

    yield start
    for c in started:
        await c.stop()


@pytest.fixture
def matrix_bot(synapse, tmp_path):
    """Make (not start) a bot: `bot = matrix_bot(allowed=[...])`; every bot is stopped at the end."""
    made: list[BotProcess] = []

    def make(allowed: list[str], **kwargs) -> BotProcess:
        bot = BotProcess(synapse, tmp_path, allowed, **kwargs)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.stop()
        log = bot.logs()
        assert bot.password not in log, "the bot's password is in its log"
        assert not bot.access_token or bot.access_token not in log, "the bot's access token is in its log"
        if not bot.tracebacks_expected:
            assert "Traceback" not in log, f"a traceback in the bot's log:\n{log}"
