"""Issue 6 on Telegram: a tutoring session of three cases, answered with the option buttons and by
typing, then /tutor stats; the scores in SQLite.

The console version is test_tutor.py; this runs the same fixture cases (tests/tutor_cases/)
through the real PTB Application and the real Service over HTTP against the Bot API stand-in,
and checks what the learner's phone shows.
"""

from __future__ import annotations

import json
from pathlib import Path

from botapi_standin import BotAPIStandIn
from telegram_helpers import all_handled_and_sent, query, running_bot, tg_settings

from neuroladder.bot.service import Service
from neuroladder.bot.tutor.mode import Tutor
from neuroladder.rules.data import load_knowledge

pytest_plugins = ["telegram_fixtures"]

CASES = Path(__file__).parent / "tutor_cases"
KNOWLEDGE = load_knowledge()
LEARNER = 111


def option(code: str) -> str:
    """The button label a learner sees for an action (from rules/findings.toml)."""
    return KNOWLEDGE.findings[code]["tutor_option"]


def tutor_service(store) -> Service:
    """The real Service, its tutor on the fixture cases (as in test_tutor.py)."""
    svc = Service(store)
    svc.tutor = Tutor(store, svc.tk, cases_dir=CASES)
    return svc


def last_id(api: BotAPIStandIn) -> int:
    with api.lock:
        chat = api.chats.get(LEARNER)
        return chat.next_message_id - 1 if chat else 0


async def settled(api: BotAPIStandIn, db: str, after: int) -> dict:
    """The bot's newest message after message id `after`, once every message is handled and sent."""
    await api.until(lambda: any(m["message_id"] > after for m in api.bot_messages(LEARNER)), 20, "the bot's answer")
    await all_handled_and_sent(api, db)
    [answer] = [m for m in api.bot_messages(LEARNER) if m["message_id"] > after]  # one reply per turn
    return answer


async def say(api: BotAPIStandIn, db: str, text: str) -> dict:
    return await settled(api, db, api.send_text(LEARNER, text)["message_id"])


async def press(api: BotAPIStandIn, db: str, message: dict, label: str) -> dict:
    after = last_id(api)
    api.press(LEARNER, message["message_id"], label)
    return await settled(api, db, after)


def now_shown(api: BotAPIStandIn, message: dict) -> dict:
    """The message as the phone shows it now (edits and removed buttons applied)."""
    return next(m for m in api.bot_messages(LEARNER) if m["message_id"] == message["message_id"])


async def test_three_cases_by_buttons_and_typing_then_stats(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), tutor_service, standin):
        # Case 1: duloxetine held at 30 mg; the ruleset says under-dosed. Right first time, by button.
        case1 = await say(standin, tg_db, "/tutor")
        assert "Tutor mode" in case1["text"] and "Case 1 of 3: Duloxetine held at 30 mg" in case1["text"]
        assert "duloxetine 30 mg/day" in case1["text"] and "What next?" in case1["text"]
        labels = standin.buttons(case1)
        assert 3 <= len(labels) <= 5 and option("TRIAL_UNDERDOSED") in labels, labels
        answer = await press(standin, tg_db, case1, option("TRIAL_UNDERDOSED"))
        assert answer["text"].startswith(f"Right: {option('TRIAL_UNDERDOSED')}."), answer["text"]
        assert "duloxetine trial not adequate: 30 of 60 mg/day" in answer["text"]  # the finding's own text
        assert "[1] Mayo Clinic guidelines" in answer["text"]  # its source, named
        assert standin.buttons(answer) == ["Next case", "My scores", "Stop tutoring"]
        # the answered case keeps its buttons; pressing one again is refused and grades nothing
        assert standin.buttons(now_shown(standin, case1)) == labels
        standin.press(
            LEARNER, case1["message_id"], next(label for label in labels if label != option("TRIAL_UNDERDOSED"))
        )
        await standin.until(lambda: len(standin.callback_answers) == 2, 20, "the stale press to be answered")
        assert list(standin.callback_answers.values())[1]["text"] == "That question was already answered."

        # Case 2: B12 never checked. A wrong button first, then the right one.
        case2 = await press(standin, tg_db, answer, "Next case")
        assert "Case 2 of 3: Never checked B12" in case2["text"], case2["text"]
        right = option("CAUSE_B12_UNCHECKED")
        wrong = next(label for label in standin.buttons(case2) if label != right)
        again = await press(standin, tg_db, case2, wrong)
        assert f"Not the first step here: {wrong}." in again["text"] and "Try again" in again["text"]
        assert "Before escalating: causes and red flags" in again["text"]  # the hint: the step
        assert right in standin.buttons(again)
        answer = await press(standin, tg_db, again, right)
        assert answer["text"].startswith(f"Right this time: {right}."), answer["text"]
        assert "Vitamin B12 status is not yet known" in answer["text"]

        # Case 3: every rung tried. Typed words instead of a button.
        case3 = await press(standin, tg_db, answer, "Next case")
        assert "Case 3 of 3: Every rung tried" in case3["text"], case3["text"]
        answer = await say(standin, tg_db, "refer her to a pain clinic for spinal cord stimulation")
        assert answer["text"].startswith(f"Right: {option('STEP4_REFERRAL')}."), answer["text"]
        assert "Step 4" in answer["text"]

        stats = await say(standin, tg_db, "/tutor stats")
        assert "Cases done: 3" in stats["text"] and "Correct first time: 2 of 3" in stats["text"], stats["text"]
        missed = KNOWLEDGE.findings["CAUSE_B12_UNCHECKED"]["summary"]
        assert f"{missed} - missed 1 time(s)" in stats["text"], stats["text"]

    # The scores are in the SQLite file, per learner, graded against the ruleset's answers.
    rounds = query(tg_db, "select case_id, answer_code, outcome, channel, chat_id from tutor_rounds order by id")
    assert rounds == [
        ("a_duloxetine_30", "TRIAL_UNDERDOSED", "correct_first", "telegram", str(LEARNER)),
        ("b_b12_unchecked", "CAUSE_B12_UNCHECKED", "correct_later", "telegram", str(LEARNER)),
        ("c_refractory", "STEP4_REFERRAL", "correct_first", "telegram", str(LEARNER)),
    ]
    attempts = query(
        tg_db,
        "select r.case_id, a.learner, a.chosen_code, a.correct, a.text from tutor_attempts a "
        "join tutor_rounds r on r.id = a.round_id order by a.id",
    )
    wrong_code = next(
        c
        for c in json.loads(
            query(tg_db, "select options from tutor_rounds where case_id = ?", ["b_b12_unchecked"])[0][0]
        )
        if option(c) == wrong
    )
    assert [a[:4] for a in attempts] == [
        ("a_duloxetine_30", str(LEARNER), "TRIAL_UNDERDOSED", 1),
        ("b_b12_unchecked", str(LEARNER), wrong_code, 0),
        ("b_b12_unchecked", str(LEARNER), "CAUSE_B12_UNCHECKED", 1),
        ("c_refractory", str(LEARNER), "STEP4_REFERRAL", 1),
    ]
    assert attempts[-1][4] == "refer her to a pain clinic for spinal cord stimulation"
    assert len(standin.callback_answers) == 6  # every press answered (the spinner stops), the stale one too
    assert standin.errors() == []


async def test_tutor_options_are_buttons_in_a_group_too(standin: BotAPIStandIn, tg_db):
    # Regression: in a group, replies that ask were sent with ForceReply instead of their buttons
    # whenever every choice ran a command - which hid the tutor's options from the learners.
    from botapi_standin import BOT_USERNAME

    team = -1001234
    standin.chat(team, "supergroup")
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(), allowed_chats=frozenset({team}), group_rate=1000.0)
    async with running_bot(cfg, tutor_service, standin):
        sent = standin.send_text(team, f"/tutor@{BOT_USERNAME}", user_id=501)
        await standin.until(
            lambda: [m for m in standin.bot_messages(team) if m["message_id"] > sent["message_id"]], 20, "the case"
        )
        [case] = [m for m in standin.bot_messages(team) if m["message_id"] > sent["message_id"]]
        shown = standin.buttons(case)
        assert len(shown) >= 3 and any(
            label == option(code)
            for code in KNOWLEDGE.findings
            if "tutor_option" in KNOWLEDGE.findings[code]
            for label in shown
        )
        # Pressing an option answers it: the grade comes as a new message that names the choice.
        standin.press(team, case["message_id"], shown[0], user_id=502)
        graded = await standin.until(
            lambda: [m for m in standin.bot_messages(team) if m["message_id"] > case["message_id"]], 20, "the grade"
        )
    assert shown[0] in graded[0]["text"]
    assert [a.get("text") for a in standin.callback_answers.values()] == [f"You pressed: {shown[0]}"]
