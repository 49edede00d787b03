"""Tutor mode (issue 6), driven the way a learner uses it: console lines and channel messages.

The fixture cases live in tests/tutor_cases/ (fixed inputs); the graded answers come from the
ruleset evaluating each case's facts, which is what these tests check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from neuroladder.bot.channels.console import ConsoleChat, render
from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.bot.tutor.cases import case_files, default_cases_dir, load_cases
from neuroladder.bot.tutor.mode import Tutor
from neuroladder.rules.data import load_knowledge

CASES = Path(__file__).parent / "tutor_cases"
KNOWLEDGE = load_knowledge()


def option(code: str) -> str:
    """The button label a learner sees for an action (from rules/findings.toml)."""
    return KNOWLEDGE.findings[code]["tutor_option"]


def summary(code: str) -> str:
    return KNOWLEDGE.findings[code]["summary"]


@pytest.fixture
def service(tmp_path):
    store = Store(tmp_path / "tutor.db")
    svc = Service(store)
    svc.tutor = Tutor(store, svc.tk, cases_dir=CASES)
    yield svc
    store.close()


def shown(replies) -> str:
    return "\n".join(render(r, colour=False) for r in replies)


def labels(replies) -> list[str]:
    return [c.label for r in replies for c in r.choices]


def press(chat: ConsoleChat, replies, label: str):
    """Press the button with this label (the console maps its number to the choice's value)."""
    names = labels(replies)
    assert label in names, f"{label!r} not among the buttons {names}"
    return chat.send(str(names.index(label) + 1))


def wrong_labels(replies, right: str) -> list[str]:
    return [name for name in labels(replies) if name != right]


def test_a_session_of_three_cases_is_graded_scored_and_shown_by_stats(service, tmp_path):
    chat = ConsoleChat(service, tmp_path, chat_id="learner-1")
    chat.send("/start")
    chat.send("gabapentin 600 tid")  # a consultation in progress

    # Case 1: duloxetine at 30 mg. The ruleset says the trial is under-dosed; pressing that is right.
    replies = chat.send("/tutor")
    out = shown(replies)
    assert "Tutor mode" in out and "Duloxetine held at 30 mg" in out
    assert "duloxetine 30 mg/day" in out  # the facts in plain words
    assert "What next?" in out
    assert 3 <= len(labels(replies)) <= 5
    out = shown(press(chat, replies, option("TRIAL_UNDERDOSED")))
    assert "Right" in out
    assert "duloxetine trial not adequate: 30 of 60 mg/day" in out  # the finding's own text
    assert "First line: adequate single-drug trials" in out  # its step
    assert "[1] Mayo Clinic guidelines" in out  # its source, named

    # Case 2: B12 never checked. Two wrong answers, then the answer is shown and explained.
    replies = chat.send("/tutor next")
    assert "Never checked B12" in shown(replies)
    first, second = wrong_labels(replies, option("CAUSE_B12_UNCHECKED"))[:2]
    out = shown(after_wrong := press(chat, replies, first))
    assert "Not the first step here" in out and "Try again" in out
    assert "Before escalating: causes and red flags" in out  # hint: the answer's step
    out = shown(press(chat, after_wrong, second))
    assert f"The answer: {option('CAUSE_B12_UNCHECKED')}" in out
    assert "Vitamin B12 status is not yet known" in out

    # Case 3: truly refractory. Free text is accepted.
    replies = chat.send("/tutor next")
    assert "Every rung tried" in shown(replies)
    out = shown(chat.send("refer her to a pain clinic for spinal cord stimulation"))
    assert "Right" in out and "Step 4" in out

    out = shown(chat.send("/tutor stats"))
    assert "Cases done: 3" in out
    assert "Correct first time: 2 of 3" in out
    assert f"{summary('CAUSE_B12_UNCHECKED')} - missed 1" in out

    # The scores are in SQLite: another process (a new Store and Service) shows the same.
    store2 = Store(service.store.path)
    try:
        rows = list(store2.db["tutor_attempts"].rows)
        assert len(rows) == 4 and {r["learner"] for r in rows} == {"console"}
        out2 = shown(Service(store2).handle("console", "learner-1", "/tutor stats", author="console"))
        assert "Cases done: 3" in out2
    finally:
        store2.close()

    # Stop: back to the consultation as it was; the tutoring answers never became its facts.
    out = shown(chat.send("/tutor stop"))
    assert "Back to consultation mode" in out
    assert "Gabapentin: how many weeks in total?" in out  # its open question again
    out = shown(chat.send("/summary"))
    assert "gabapentin 1800 mg/day" in out
    assert "duloxetine 30" not in out and "TCA 8 weeks" not in out


def test_a_changed_threshold_changes_the_graded_answer_without_editing_the_case(tmp_path):
    case_file = CASES / "a_duloxetine_30.toml"
    before = case_file.read_bytes()

    def session(knowledge, name):
        store = Store(tmp_path / f"{name}.db")
        svc = Service(store, knowledge=knowledge)
        svc.tutor = Tutor(store, svc.tk, cases_dir=CASES)
        chat = ConsoleChat(svc, tmp_path, chat_id=name)
        return chat, chat.send("/tutor case a_duloxetine_30")

    # The shipped threshold (duloxetine at least 60 mg/day): 30 mg is under-dosed.
    chat, replies = session(None, "default")
    assert option("TRIAL_UNDERDOSED") in labels(replies)
    assert "Right" in shown(press(chat, replies, option("TRIAL_UNDERDOSED")))

    # Duloxetine adequate from 30 mg/day: the same case is now refractory, so Step 4 is right
    # and "titrate" is wrong.
    chat, replies = session(load_knowledge({"duloxetine": {"adequate_mg_day": 30}}), "lowered")
    assert "Duloxetine held at 30 mg" in shown(replies)
    assert option("TRIAL_UNDERDOSED") not in labels(replies)
    out = shown(chat.send("titrate the duloxetine up to an adequate dose"))
    assert "Not the first step here" in out
    out = shown(press(chat, chat.send("/tutor"), option("STEP4_REFERRAL")))
    assert "Right this time" in out
    assert "refer to a pain specialist or multidisciplinary pain centre" in out
    assert case_file.read_bytes() == before


def test_typed_numbers_and_words_answer_like_buttons(service):
    def send(text, author="u1"):
        return shown(service.handle("telegram", "chat-9", text, author=author))

    out = send("/tutor case c_refractory")
    refer = option("STEP4_REFERRAL")
    number = next(line.split(".")[0] for line in out.splitlines() if line.endswith(refer))
    assert "could not match" in send("purple elephants")  # no attempt counted
    assert "Right" in send(number)  # "4" typed, not pressed
    assert "Cases done: 1" in send("/tutor stats") and "Correct first time: 1 of 1" in send("/tutor stats")


def test_scores_are_per_learner_in_a_group_chat(service):
    def send(text, author):
        return service.handle("telegram", "group-1", text, author=author)

    replies = send("/tutor case b_b12_unchecked", "alice")
    wrong = wrong_labels(replies, option("CAUSE_B12_UNCHECKED"))[0]
    by_label = {c.label: c.value for r in replies for c in r.choices}
    send(by_label[wrong], "alice")
    assert "Right" in shown(send(by_label[option("CAUSE_B12_UNCHECKED")], "bob"))
    assert "Correct first time: 0 of 1" in shown(send("/tutor stats", "alice"))
    assert "Correct first time: 1 of 1" in shown(send("/tutor stats", "bob"))


def test_an_old_button_cannot_answer_the_next_case(service):
    def send(text):
        return service.handle("console", "c", text, author="u")

    replies = send("/tutor case a_duloxetine_30")
    old = {c.label: c.value for r in replies for c in r.choices}
    send("/tutor next")
    out = shown(send(old[option("TRIAL_UNDERDOSED")]))
    assert "belongs to an earlier case" in out and "What next?" in out
    assert "No cases answered yet" in shown(send("/tutor stats"))  # the old press scored nothing


def test_tutor_mode_keeps_consultation_commands_apart(service):
    def send(text):
        return shown(service.handle("console", "c2", text, author="u"))

    assert "not on" in send("/tutor stop")
    send("/tutor")
    assert "In tutor mode" in send("/summary")
    assert "Tutor mode off" in send("/tutor stop")
    assert "I could not find a fact" in send("purple elephants")  # consultation again


def test_every_shipped_case_gives_one_right_option_among_three_to_five():
    cases = load_cases(default_cases_dir(), KNOWLEDGE)
    if not case_files(default_cases_dir()):
        pytest.skip("conversations/cases/ has no case files yet")
    store = Store(":memory:")
    svc = Service(store)
    asked = 0
    for case in cases:
        q = svc.tutor.question_for(case, seed=case.id)
        if q is None:
            continue
        asked += 1
        concluded = case.evaluate(svc.tk.rules, KNOWLEDGE).codes()
        assert 3 <= len(q.options) <= 5, case.id
        assert [c for c in q.options if c in concluded] == [q.answer], case.id
    assert asked >= len(cases) - 1
    store.close()
