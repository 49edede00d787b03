"""Small shared fixtures (append yours; keep each small)."""
from __future__ import annotations

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.store import Store


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
