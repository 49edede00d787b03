"""What a consult remembers between turns survives the process: another process (a restart, the
other channel worker) picks up a pending contradiction, the skipped questions and /undo's steps."""

from __future__ import annotations

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store


def test_a_contradiction_asked_before_a_restart_is_settled_after_it(tmp_path):
    db = tmp_path / "s.db"
    store = Store(db)
    first = Service(store)
    first.handle("test", "s1", "/start")
    first.handle("test", "s1", "never tried duloxetine")
    [asked] = first.handle("test", "s1", "duloxetine 60 mg for 8 weeks, no help")
    assert "contradicts" in asked.plain()
    store.close()

    store = Store(db)
    second = Service(store)  # a new process: nothing but the log
    [settled] = second.handle("test", "s1", "/resolve new")
    assert "duloxetine" in settled.plain().lower()
    [summary] = second.handle("test", "s1", "/summary")
    assert "duloxetine 60 mg/day" in summary.plain()
    [none_left] = second.handle("test", "s1", "/resolve new")
    assert none_left.plain().strip() == "There is no contradiction waiting to be resolved."
    store.close()


def test_skips_and_undo_steps_survive_a_restart(tmp_path):
    db = tmp_path / "s.db"
    store = Store(db)
    first = Service(store)
    [opening] = first.handle("test", "s2", "/start")
    question = opening.plain().strip().splitlines()[-1]
    [skipped] = first.handle("test", "s2", "/skip")
    assert skipped.plain().startswith("Skipped:")
    store.close()

    store = Store(db)
    second = Service(store)
    [unknowns] = second.handle("test", "s2", "/unknowns")
    assert skipped.plain().split("Skipped: ")[1].split(" (")[0] in unknowns.plain()
    [undone] = second.handle("test", "s2", "/undo")
    assert undone.plain().startswith("Took back the last answer.")
    assert question in undone.plain()  # the skipped question is asked again
    store.close()
