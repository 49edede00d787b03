"""Any number of consultations can be open at once: the engine's 1024-session limit never surfaces."""

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


@pytest.mark.slow  # 2,000 consultations; the engine's session handling runs in every fast consult test
def test_two_thousand_open_consultations(tmp_path):
    store = Store(tmp_path / "many.db")
    service = Service(store)
    for i in range(2000):
        [reply] = service.handle("test", f"chat-{i}", f"duloxetine {20 + i % 50} mg")
        assert "Noted: duloxetine" in reply.plain()
    # Every consult is still open and still answers, in a different order than it was opened.
    for i in range(1999, -1, -97):
        [reply] = service.handle("test", f"chat-{i}", "/summary")
        assert f"{20 + i % 50} mg/day" in reply.plain()
    opened = store.db.execute("select count(*) from consults where status = 'open'").fetchone()[0]
    assert opened == 2000
