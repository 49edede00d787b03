"""The findings table logs the advice as a whole set under the turn that changed it: a turn that
leaves the advice as it was writes no rows, and the set in force after any turn is the one of the
latest turn with rows at or before it (docs/datasette.md, "Findings rows")."""

from __future__ import annotations

import pytest

from neuroladder.bot.dialogue.consult import Consult
from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.rules.data import load_knowledge

CHAT = "log"
IN_FORCE = (
    "select code, text from findings where consult_id = ? and turn_id = "
    "(select max(turn_id) from findings where consult_id = ? and turn_id <= ?) order by id"
)


def turn_of(store, text: str) -> int:
    [(tid,)] = store.conn.execute("select id from turns where direction = 'in' and text = ?", [text]).fetchall()
    return tid


def rows_of(store, turn: int) -> list[tuple]:
    return store.conn.execute("select code, text from findings where turn_id = ? order by id", [turn]).fetchall()


def in_force(store, consult_id: int, turn: int) -> list[tuple]:
    return store.conn.execute(IN_FORCE, [consult_id, consult_id, turn]).fetchall()


def test_a_turn_that_leaves_the_advice_as_it_was_writes_no_findings_rows(store, service):
    service.handle("console", CHAT, "/start")
    service.handle("console", CHAT, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    consult = store.open_consult("console", CHAT)
    said = "gabapentin 1200 mg/day in 3 doses for 3 months, no help"
    changed = turn_of(store, said)
    assert any(code == "TRIAL_UNDERDOSED" for code, _ in rows_of(store, changed))

    [reply] = service.handle("console", CHAT, said)  # the same again: nothing new
    assert "Already noted" in reply.plain()
    [again] = store.conn.execute("select max(id) from turns where direction = 'in'").fetchone()
    assert rows_of(store, again) == []
    assert in_force(store, consult["id"], again) == rows_of(store, changed)

    service.handle("console", CHAT, "can she have SCS?")  # a question stores nothing
    [asked] = store.conn.execute("select max(id) from turns where direction = 'in'").fetchone()
    assert rows_of(store, asked) == []


@pytest.mark.parametrize("processes", [1, 2])
def test_the_set_in_force_after_each_turn_is_the_advice_the_consult_had_then(tmp_path, processes):
    """Read back from the log after each turn, the set in force is what the rules conclude from the
    facts live then (evaluated again by a consult of our own); also when two processes take turns
    on the consult, each knowing only what it logged itself."""
    stores = [Store(tmp_path / "log.db") for _ in range(processes)]
    services = [Service(s) for s in stores]
    store = Store(tmp_path / "log.db")  # the reader's own
    turns = [
        "/start",
        "gabapentin 1200 mg/day in 3 doses for 3 months, no help",
        "yes",
        "unknown",
        "78 yo",
        "78 yo",
        "/summary",
        "actually gabapentin was 2400 mg/day",
        "/undo",
        "/undo",
    ]
    written = 0
    for i, text in enumerate(turns):
        services[i % processes].handle("console", CHAT, text)
        row = store.open_consult("console", CHAT)
        [(turn,)] = store.conn.execute("select max(id) from turns where direction = 'in'").fetchall()
        expected = Consult(services[0].tk, store, row).evaluate().findings
        assert in_force(store, row["id"], turn) == [(f.code, f.text) for f in expected], text
        written += bool(rows_of(store, turn))
    assert 2 < written < len(turns)  # some turns changed the advice, some did not
    for s in [*stores, store]:
        s.close()


def test_a_new_ruleset_version_logs_the_set_again_even_when_it_reads_the_same(store):
    before = Service(store, admins=set())
    before.handle("console", CHAT, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    # A deploy whose change does not touch this consult's findings: the rows record the new version.
    after = Service(store, load_knowledge({"duloxetine": {"adequate_mg_day": 40}}), admins=set())
    after.handle("console", CHAT, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    versions = [v for (v,) in store.conn.execute("select distinct ruleset_version from findings order by id")]
    assert versions == [before.tk.version, after.tk.version]
