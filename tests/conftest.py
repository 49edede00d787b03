"""Small shared fixtures (append yours; keep each small)."""

from __future__ import annotations

import os

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


@pytest.fixture
def store(tmp_path):
    """A Store on a real SQLite file (WAL) in a temporary folder, closed afterwards."""
    s = Store(tmp_path / "consult.db")
    yield s
    s.close()


@pytest.fixture
def service(store):
    """The real Service over that Store."""
    return Service(store)


@pytest.fixture(autouse=True)
def _no_db_key_from_the_shell(monkeypatch):
    """A NEUROLADDER_DB_KEY exported in a developer's shell must not turn plain test files into
    'wrong key' failures; the encryption tests set their own key."""
    monkeypatch.delenv("NEUROLADDER_DB_KEY", raising=False)


@pytest.fixture(autouse=True)
def _environment_restored():
    """Every command loads `.env` (or --env-file) into os.environ: whatever a test's command line
    read there is gone after the test, and a developer's own .env never reaches the next test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
