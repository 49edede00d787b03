"""Fixtures for the Telegram tests (pulled in with `pytest_plugins = ["telegram_fixtures"]`)."""

from __future__ import annotations

import pytest
from botapi_standin import BotAPIStandIn


@pytest.fixture
def standin():
    """A Bot API stand-in on 127.0.0.1, stopped at the end of the test."""
    with BotAPIStandIn() as api:
        yield api


@pytest.fixture
def tg_db(tmp_path):
    """A fresh SQLite file for the bot's log."""
    return str(tmp_path / "telegram.db")
