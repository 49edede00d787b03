"""Acceptance: whole consultations on Telegram with the real consult engine, over HTTP.

The bot (the real PTB Application, the real Service, a real SQLite file) talks to the Bot API
stand-in; the tests act as clinicians on phones and check what they would see.
"""

from __future__ import annotations

import re

import pytest
from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram_helpers import query, running_bot, tg_settings

from neuroladder.bot.service import Service

pytest_plugins = ["telegram_fixtures"]

CITATION = re.compile(r"\[(?:L?\d+)(?:, L?\d+)*\]")
PREFERRED = ["No", "Diffuse", "No diabetes", "Normal", "None"]  # one path through the intake


def last_line_asks(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and "?" in lines[-1]


async def next_bot_message(api: BotAPIStandIn, chat_id: int, after: int) -> dict:
    """The first bot message newer than message id `after` that is not an edit of an older one."""
    msgs = await api.until(
        lambda: [m for m in api.bot_messages(chat_id) if m["message_id"] > after], 20, "the bot's answer"
    )
    return msgs[-1]


def finished(db: str, chat: int) -> bool:
    """The consult says it has no question left."""
    rows = query(
        db, "select json_extract(state, '$.finished') from consults where chat_id = ? and status = 'open'", [str(chat)]
    )
    return bool(rows and rows[0][0])


async def consult_by_buttons(
    api: BotAPIStandIn, db: str, chat: int, user: int, first: dict, limit: int = 40
) -> list[str]:
    """Answer every question: press a button when there are buttons, type otherwise."""
    pressed = []
    msg = first
    for _ in range(limit):
        labels = api.buttons(msg)
        if finished(db, chat):
            return pressed
        if labels:
            label = next((p for p in PREFERRED if p in labels), labels[0])
            api.press(chat, msg["message_id"], label, user_id=user)
            pressed.append(label)
        else:
            api.send_text(chat, "67", user_id=user, reply_to=msg["message_id"])
            pressed.append("typed 67")
        msg = await next_bot_message(api, chat, msg["message_id"])
    raise AssertionError(f"the consultation did not end after {limit} answers")


async def test_whole_consultation_by_buttons_then_summary_cites_steps_and_sources(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        start = standin.send_text(111, "/start")
        first = await next_bot_message(standin, 111, start["message_id"])
        assert standin.buttons(first), "the first question comes with buttons"
        pressed = await consult_by_buttons(standin, tg_db, 111, 111, first)
        assert len([p for p in pressed if not p.startswith("typed")]) >= 8
        before = standin.last_bot_message(111)["message_id"]
        standin.send_text(111, "/summary")
        summary = await next_bot_message(standin, 111, before)

    assert "Step" in summary["text"] and CITATION.search(summary["text"]), summary["text"][:500]
    # every press answered (the spinner stops), an answer with a toast naming what was registered
    assert [a.get("text") for a in standin.callback_answers.values()] == [
        None if p == "Why?" else f"You pressed: {p}" for p in pressed if not p.startswith("typed")
    ]
    assert [c["command"] for c in standin.commands][:2] == ["start", "summary"]  # the menu at start
    assert not standin.calls_of("sendChatAction", 111)  # every reply is immediate: no "typing"
    assert standin.errors() == []
    facts = query(tg_db, "select count(*) from facts where retracted_at is null")[0][0]
    assert facts >= 8


async def test_whole_consultation_by_free_text(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        standin.send_text(222, "/start")
        msg = await next_bot_message(standin, 222, 0)
        standin.send_text(
            222,
            "gabapentin 600 mg tid for 3 months incl 8 weeks at max, no help; duloxetine 60 mg "
            "for 3 months no help; 72 yo; eGFR 50",
        )
        msg = await next_bot_message(standin, 222, msg["message_id"] + 1)
        for _ in range(30):  # type the answer a button would have given ("Why?" is no answer)
            labels = [label for label in standin.buttons(msg) if label != "Why?"]
            if finished(tg_db, 222):
                break
            typed = next((p for p in PREFERRED if p in labels), labels[0] if labels else "none")
            sent = standin.send_text(222, typed)
            msg = await next_bot_message(standin, 222, sent["message_id"])
        else:
            raise AssertionError("the consultation did not end")
        standin.send_text(222, "/summary")
        summary = await next_bot_message(standin, 222, msg["message_id"] + 1)

    assert "Step" in summary["text"] and CITATION.search(summary["text"])
    assert "gabapentin" in summary["text"] and "duloxetine" in summary["text"]
    assert standin.errors() == []


async def test_a_press_under_an_answered_question_stores_nothing(standin: BotAPIStandIn, tg_db):
    """Older questions keep their buttons; a press there (a thumb scrolling back) is refused."""
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        start = standin.send_text(222, "/start")
        question = await next_bot_message(standin, 222, start["message_id"])
        assert "Yes" in standin.buttons(question)
        typed = standin.send_text(222, "gabapentin 600 mg tid for 3 months, no help")
        await next_bot_message(standin, 222, typed["message_id"])
        facts = query(tg_db, "select name, value from facts where retracted_at is null order by id")
        assert ("trial.gabapentin.tried", '"yes"') in facts, facts
        standin.press(222, question["message_id"], "No")  # "gabapentin not tried": the opposite
        await standin.until(lambda: standin.callback_answers, 20, "the press to be answered")
        standin.send_text(222, "/summary")
        await standin.until(lambda: "does not replace it" in standin.bot_texts(222)[-1], 20, "the summary")
    assert [a["text"] for a in standin.callback_answers.values()] == ["That question was already answered."]
    assert query(tg_db, "select name, value from facts where retracted_at is null order by id") == facts
    assert query(tg_db, "select count(*) from turns where direction = 'in' and text = 'no'") == [(0,)]


async def test_stranger_is_refused_and_nothing_of_theirs_is_stored(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        standin.send_text(999, "/start")
        standin.send_text(999, "gabapentin 600 tid, 80 yo, eGFR 20")
        await standin.until(lambda: standin.bot_texts(999))
        await standin.until(lambda: query(tg_db, "select count from refusals") == [(2,)])
    assert len(standin.bot_texts(999)) == 1 and "approved clinical team" in standin.bot_texts(999)[0]
    assert query(tg_db, "select * from turns") == []
    assert query(tg_db, "select * from inbox") == [] and query(tg_db, "select * from facts") == []


async def test_team_consult_in_a_group_records_who_answered(standin: BotAPIStandIn, tg_db):
    team = -1001234
    standin.chat(team, "supergroup")
    cfg = tg_settings(
        standin, tg_db, allowed_users=frozenset(), allowed_chats=frozenset({team}), group_rate=1000.0
    )  # Telegram's 20 messages/min per group would slow this test
    async with running_bot(cfg, Service, standin):
        start = standin.send_text(team, f"/start@{BOT_USERNAME}", user_id=501)
        q = await next_bot_message(standin, team, start["message_id"])
        standin.send_text(team, "is the consult room free at 3?", user_id=502)  # chatter: not for the bot
        standin.send_text(team, "/summary@SomeOtherBot", user_id=502)  # nor another bot's command
        standin.press(team, q["message_id"], "Yes", user_id=502)  # gabapentin tried
        q = await next_bot_message(standin, team, q["message_id"])
        assert not standin.buttons(q) and last_line_asks(q["text"])  # dose: typed, as a reply
        answer = standin.send_text(team, "600 tid", user_id=501, reply_to=q["message_id"])
        q = await next_bot_message(standin, team, answer["message_id"])
        standin.send_text(team, f"@{BOT_USERNAME} no benefit after 3 months", user_id=502)
        q = await next_bot_message(standin, team, q["message_id"] + 1)
        asked = standin.send_text(team, "/summary", user_id=501)
        # a long summary may come as several messages: read them all (up to its closing line)
        await standin.until(
            lambda: any(
                "does not replace it" in m.get("text", "")
                for m in standin.bot_messages(team)
                if m["message_id"] > asked["message_id"]
            )
        )
        summary = {
            "text": "\n".join(
                m.get("text", "") for m in standin.bot_messages(team) if m["message_id"] > asked["message_id"]
            )
        }

    authors = query(tg_db, "select author, text from turns where direction = 'in' order by id")
    assert authors == [
        ("501", "/start"),
        ("502", "gabapentin yes"),
        ("501", "600 tid"),
        ("502", "no benefit after 3 months"),
        ("501", "/summary"),
    ]
    assert "gabapentin" in summary["text"] and "1800" in summary["text"]
    assert query(tg_db, "select distinct chat_id from consults") == [(str(team),)]
    assert "room free" not in str(query(tg_db, "select * from inbox"))
    with standin.lock:  # the typed question forced a reply so privacy mode lets the answer through
        dose_question = [m for m in standin.chats[team].messages.values() if m.get("_markup")]
    assert dose_question and dose_question[0]["_markup"]["force_reply"] is True
    assert standin.errors() == []


@pytest.mark.slow  # fifty whole consultations; one chat's consultations run in the fast loop
async def test_fifty_chats_at_once(standin: BotAPIStandIn, tg_db):
    users = list(range(3000, 3050))
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(users))  # Telegram's real flood limits
    async with running_bot(cfg, Service, standin):
        for u in users:
            standin.send_text(u, "/start")
            standin.send_text(u, "gabapentin 300 tid")
            standin.send_text(u, "/summary")
        await standin.until(lambda: all(len(standin.bot_texts(u)) >= 3 for u in users), 90)
    for u in users:
        welcome, noted, summary = standin.bot_texts(u)[:3]
        assert "gabapentin" in noted and "900" in noted, noted  # each chat's messages in order
        assert "gabapentin" in summary
    assert standin.errors() == []
    turns = query(tg_db, "select count(*), count(distinct inbox_id) from turns where direction = 'in'")
    assert turns == [(150, 150)]
    # Telegram allows about 30 messages a second: a burst of 30, then 30 per second (with a
    # margin for the time between the limiter letting a call go and the stand-in seeing it)
    in_5s = _max_in_window(standin, 5.0)
    assert in_5s <= 30 + 5 * 30 + 10, f"{in_5s} calls within 5 s: flood limit not respected"


def _max_in_window(api: BotAPIStandIn, seconds: float) -> int:
    times = sorted(c["at"] for c in api.calls if "chat_id" in c["params"])
    return max((sum(1 for t in times if s <= t < s + seconds) for s in times), default=0)


async def test_angle_brackets_ampersands_and_5000_characters(standin: BotAPIStandIn, tg_db):
    text = "<b>bold?</b> & x < y > z &amp; " + "pain & burning <feet> " * 230
    assert len(text) > 5000
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        standin.send_text(111, "/start")
        standin.send_text(111, text)
        standin.send_text(111, "/summary")
        await standin.until(lambda: len(standin.bot_texts(111)) >= 3)
    assert standin.errors() == []  # the stand-in refuses bad HTML and texts over 4096 like Telegram
    stored = query(tg_db, "select text from turns where direction = 'in' and length(text) > 5000")
    assert stored == [(text.strip(),)]


async def test_why_button_explains_and_leaves_the_question_open(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        start = standin.send_text(111, "/start")
        question = await next_bot_message(standin, 111, start["message_id"])
        labels = standin.buttons(question)
        assert "Why?" in labels and "Yes" in labels
        standin.press(111, question["message_id"], "Why?")
        why = await next_bot_message(standin, 111, question["message_id"])
        assert why["text"] and why["message_id"] != question["message_id"]
        assert standin.buttons(standin.bot_messages(111)[0]) == labels  # still open, still pressable
        standin.press(111, question["message_id"], "Yes")
        nxt = await next_bot_message(standin, 111, why["message_id"])
    assert "gabapentin tried" in nxt["text"] and nxt["message_id"] > why["message_id"]
    assert [a.get("text") for a in standin.callback_answers.values()] == [None, "You pressed: Yes"]
    assert standin.errors() == []


async def test_ladder_picture_and_note_file_arrive_as_photo_and_document(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        standin.send_text(111, "/start")
        standin.send_text(111, "gabapentin 600 tid for 3 months, no help")
        standin.send_text(111, "/ladder")
        standin.send_text(111, "/export")
        await standin.until(lambda: standin.calls_of("sendPhoto") and standin.calls_of("sendDocument"))
    (photo,) = standin.calls_of("sendPhoto", 111)
    (document,) = standin.calls_of("sendDocument", 111)
    assert photo["files"]["photo"]["filename"].endswith(".png") and photo["files"]["photo"]["size"] > 1000
    assert document["files"]["document"]["filename"].endswith(".md")
    assert standin.errors() == []


async def test_an_edited_message_is_read_as_a_correction(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        start = standin.send_text(111, "/start")
        first = await next_bot_message(standin, 111, start["message_id"])
        typed = standin.send_text(111, "gabapentin 300 mg tid for 3 months")
        noted = await next_bot_message(standin, 111, first["message_id"])
        assert "900 mg/day" in noted["text"]
        standin.edit_text(111, typed["message_id"], "gabapentin 600 mg tid for 3 months")
        changed = await next_bot_message(standin, 111, noted["message_id"])
    assert "Changed: gabapentin 900 mg/day -> gabapentin 1800 mg/day" in changed["text"]
    live = query(tg_db, "select value from facts where name = 'trial.gabapentin.dose' and retracted_at is null")
    assert live == [("1800",)]


async def test_an_edited_message_from_a_stranger_is_refused_and_not_stored(standin: BotAPIStandIn, tg_db):
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset({111}))
    async with running_bot(cfg, Service, standin):
        sent = standin.send_text(999, "gabapentin 300 tid")
        await next_bot_message(standin, 999, sent["message_id"])
        standin.edit_text(999, sent["message_id"], "gabapentin 600 tid")
        await standin.until(lambda: query(tg_db, "select count from refusals") == [(2,)], 20, "second refusal")
    assert query(tg_db, "select count(*) from turns") == [(0,)]
    assert query(tg_db, "select count(*) from facts") == [(0,)]
