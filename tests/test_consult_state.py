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


def test_two_processes_taking_turns_on_one_consult_each_see_the_others_answers(tmp_path):
    """Each process keeps what it wrote last; a turn by the other one must never be missed."""
    db = tmp_path / "s.db"
    one, other = Store(db), Store(db)
    first, second = Service(one), Service(other)
    first.handle("test", "s3", "/start")
    first.handle("test", "s3", "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    [changed] = second.handle("test", "s3", "actually gabapentin was 2400 mg/day")
    assert "Changed: gabapentin 1200 mg/day -> gabapentin 2400 mg/day." in changed.plain()
    [summary] = first.handle("test", "s3", "/summary")
    assert "gabapentin 2400 mg/day" in summary.plain() and "1200" not in summary.plain()
    first.handle("test", "s3", "duloxetine 60 mg for 8 weeks, no help")
    [summary] = second.handle("test", "s3", "/summary")
    assert "gabapentin 2400 mg/day" in summary.plain() and "duloxetine 60 mg/day" in summary.plain()
    [undone] = second.handle("test", "s3", "/undo")
    assert "Taken back: duloxetine" in undone.plain()
    [summary] = first.handle("test", "s3", "/summary")
    assert "duloxetine 60" not in summary.plain() and "gabapentin 2400 mg/day" in summary.plain()
    one.close()
    other.close()


def test_a_turn_that_failed_leaves_nothing_of_itself_behind(store, monkeypatch):
    """The turn's facts and state were written, then the turn failed and was rolled back: the
    next turn goes by the log, not by what the failed turn had in hand."""
    service = Service(store)
    service.handle("test", "s4", "/start")
    service.handle("test", "s4", "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    add_turn = store.add_turn
    failed = []

    def failing_once(consult_id, direction, text, *args, **kwargs):
        if direction == "out" and not failed:
            failed.append(text)
            raise RuntimeError("disk full")
        return add_turn(consult_id, direction, text, *args, **kwargs)

    monkeypatch.setattr(store, "add_turn", failing_once)
    [error] = service.handle("test", "s4", "duloxetine 60 mg for 8 weeks, no help")
    assert failed and "Noted" in failed[0]  # the reply had been made: facts and state were written
    assert error.plain().startswith("Sorry - something went wrong")
    [summary] = service.handle("test", "s4", "/summary")
    assert "duloxetine" not in summary.plain().split("Still unknown")[0].split("Facts")[1], summary.plain()
    [again] = service.handle("test", "s4", "duloxetine 60 mg for 8 weeks, no help")
    assert "Noted: duloxetine 60 mg/day" in again.plain()
