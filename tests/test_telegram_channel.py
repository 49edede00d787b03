"""The Telegram channel, driven over HTTP through the Bot API stand-in, as clinicians use it.

These tests exercise transport behaviour (buttons, groups, access, order, HTML, flood limits)
with a scripted service, so that they hold whatever the consult says. The consultation with
the real consult engine is in test_telegram_consult.py.
"""
from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

import dataclasses

from telegram import Update

from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram_fake_service import FakeService
from telegram_helpers import query, running_bot, tg_settings


def keyboard_messages(api: BotAPIStandIn, chat_id: int) -> list[dict]:
    return [m for m in api.bot_messages(chat_id) if api.buttons(m)]


async def test_consultation_by_buttons_leaves_no_pressable_old_buttons(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        first = (await standin.until(lambda: keyboard_messages(standin, 111)))[-1]
        assert first["text"] == "Question one?"
        assert standin.buttons(first) == ["Yes", "No", "Not sure"]
        standin.press(111, first["message_id"], "Not sure")
        await standin.until(lambda: "Question two?" in standin.bot_texts(111))
        standin.send_text(111, "typed")
        third = (await standin.until(lambda: [m for m in keyboard_messages(standin, 111)
                                              if m["text"] == "Question three?"]))[-1]
        standin.press(111, third["message_id"], "Option B")
        await standin.until(lambda: "All questions answered. Send /summary." in standin.bot_texts(111))
        standin.send_text(111, "/summary")
        await standin.until(lambda: standin.bot_texts(111)[-1].startswith("Summary"))

    texts = standin.bot_texts(111)
    assert texts[0] == "Question one?\n\n✅ Not sure"  # the pressed question shows the answer ...
    assert keyboard_messages(standin, 111) == []  # ... and no button is left to press twice
    assert texts[-1] == "Summary\nq1: unknown\nq2: typed\nq3: b"
    assert len(standin.callback_answers) == 2  # every press was answered (no endless spinner)
    assert standin.calls_of("sendChatAction", 111)
    assert [c["command"] for c in standin.commands] == ["start", "help", "summary"]
    assert standin.errors() == []


async def test_typed_answer_retires_the_open_questions_buttons(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        first = (await standin.until(lambda: keyboard_messages(standin, 111)))[-1]
        standin.send_text(111, "yes, typed instead")
        await standin.until(lambda: "Question two?" in standin.bot_texts(111))
        await standin.until(lambda: not keyboard_messages(standin, 111))
        # a phone that still shows the old buttons sends the press anyway: it is not an answer
        standin.press(111, first["message_id"], data="k1.1")
        await standin.until(lambda: len(standin.callback_answers) == 1)
        standin.send_text(111, "/summary")
        await standin.until(lambda: standin.bot_texts(111)[-1].startswith("Summary"))
    assert list(standin.callback_answers.values())[0]["text"] == "That question was already answered."
    assert standin.bot_texts(111)[-1] == "Summary\nq1: yes, typed instead"
    assert [c for c in standin.errors() if "not modified" not in c["error"]] == []


async def test_double_tap_on_a_button_answers_once(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        first = (await standin.until(lambda: keyboard_messages(standin, 111)))[-1]
        standin.press(111, first["message_id"], "Yes")
        standin.press(111, first["message_id"], data=first["reply_markup"]["inline_keyboard"][0][1]["callback_data"])
        await standin.until(lambda: len(standin.callback_answers) == 2)
        standin.send_text(111, "/summary")
        await standin.until(lambda: standin.bot_texts(111)[-1].startswith("Summary"))
    assert standin.bot_texts(111)[-1] == "Summary\nq1: yes"
    assert query(tg_db, "select count(*) from turns where direction = 'in' and text in ('yes', 'no')") == [(1,)]


async def test_stranger_gets_one_short_refusal_and_nothing_is_stored(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(999, "/start")
        standin.send_text(999, "my patient has burning feet")
        standin.send_text(111, "/start")  # an allowed user in the same moment is served
        await standin.until(lambda: standin.bot_texts(999) and standin.bot_texts(111))
        await standin.until(lambda: query(tg_db, "select count from refusals") == [(2,)])
    assert standin.bot_texts(999) == ["Sorry, this bot serves an approved clinical team only. "
                                      "Ask its administrator to add your Telegram id 999."]
    assert query(tg_db, "select * from turns where author = '999'") == []
    assert query(tg_db, "select * from turns where text like '%burning%'") == []
    assert query(tg_db, "select * from inbox where chat_id = '999' or payload like '%burning%'") == []
    assert query(tg_db, "select * from consults where chat_id = '999'") == []


async def test_group_consult_with_two_members(standin: BotAPIStandIn, tg_db):
    team = -100500
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(), allowed_chats=frozenset({team}),
                      group_rate=1000.0)  # Telegram's 20/min per group would make this test wait
    standin.chat(team, "supergroup")
    async with running_bot(cfg, FakeService, standin):
        start = standin.send_text(team, f"/start@{BOT_USERNAME}", user_id=444)
        q1 = (await standin.until(lambda: keyboard_messages(standin, team)))[-1]
        assert q1["reply_to_message"]["message_id"] == start["message_id"]
        standin.send_text(team, "coffee anyone?", user_id=555)  # team chatter is not for the bot
        standin.send_text(team, "/summary@SomeOtherBot", user_id=555)  # nor another bot's command
        standin.press(team, q1["message_id"], "No", user_id=555)
        q2 = (await standin.until(lambda: [m for m in standin.bot_messages(team) if m["text"] == "Question two?"]))[-1]
        standin.send_text(team, "answered by reply", user_id=444, reply_to=q2["message_id"])
        q3 = (await standin.until(lambda: [m for m in keyboard_messages(standin, team)
                                           if m["text"] == "Question three?"]))[-1]
        assert q3["reply_to_message"]["message_id"] > q2["message_id"]  # the answer it follows
        standin.send_text(team, f"@{BOT_USERNAME} a", user_id=555)
        await standin.until(lambda: "All questions answered. Send /summary." in standin.bot_texts(team))
        standin.send_text(team, "/summary", user_id=444)
        await standin.until(lambda: standin.bot_texts(team)[-1].startswith("Summary"))

    assert standin.bot_texts(team)[-1] == "Summary\nq1: no\nq2: answered by reply\nq3: a"
    assert "coffee" not in str(query(tg_db, "select * from inbox"))
    turns = query(tg_db, "select author, text from turns where direction = 'in' order by id")
    assert turns == [("444", "/start"), ("555", "no"), ("444", "answered by reply"), ("555", "a"),
                     ("444", "/summary")]
    consults = query(tg_db, "select distinct chat_id from consults")
    assert consults == [(str(team),)]  # the consult belongs to the chat, not to a member
    # questions without buttons force a reply, so they reach the bot with privacy mode on
    with standin.lock:
        q2_markup = standin.chats[team].messages[q2["message_id"]].get("_markup")
    assert q2_markup == {"force_reply": True, "selective": False}
    assert standin.errors() == []


async def test_group_question_after_a_typed_answer_targets_that_member(standin: BotAPIStandIn, tg_db):
    team = -100600
    cfg = tg_settings(standin, tg_db, allowed_chats=frozenset({team}), group_rate=1000.0)
    standin.chat(team, "group")
    async with running_bot(cfg, FakeService, standin):
        standin.send_text(team, "/start", user_id=444)
        await standin.until(lambda: keyboard_messages(standin, team))
        answer = standin.send_text(team, f"yes @{BOT_USERNAME}", user_id=444)
        q2 = (await standin.until(lambda: [m for m in standin.bot_messages(team) if m["text"] == "Question two?"]))[-1]
    with standin.lock:
        assert standin.chats[team].messages[q2["message_id"]]["_markup"] == {"force_reply": True, "selective": True}
    assert q2["reply_to_message"]["message_id"] == answer["message_id"]


async def test_fifty_chats_at_once_each_in_order(standin: BotAPIStandIn, tg_db):
    users = range(1000, 1050)
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(users))  # Telegram's real flood limits
    async with running_bot(cfg, FakeService, standin):
        for u in users:
            standin.send_text(u, "/start")
            standin.send_text(u, f"answer of {u}")
        await standin.until(lambda: all(len(standin.bot_texts(u)) >= 3 for u in users), 60)
    for u in users:
        assert standin.bot_texts(u) == ["Question one?", f"Noted: answer of {u}", "Question two?"]
        assert keyboard_messages(standin, u) == []
    assert standin.errors() == []
    # Telegram allows about 30 messages a second: a burst of 30, then 30 per second
    in_3s = _max_in_window(standin, 3.0)
    assert in_3s <= 30 + 3 * 30 + 2, f"{in_3s} calls within 3 s: flood limit not respected"


def _max_in_window(api: BotAPIStandIn, seconds: float) -> int:
    times = sorted(c["at"] for c in api.calls if "chat_id" in c["params"])
    return max((sum(1 for t in times if s <= t < s + seconds) for s in times), default=0)


async def test_html_special_characters_and_long_text_are_delivered(standin: BotAPIStandIn, tg_db):
    text = "<b>not bold</b> & <script>x</script> a<b " + ("word & <tag> " * 400)[:5000]
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/echo " + text)
        await standin.until(lambda: len(standin.bot_texts(111)) >= 2)
        await standin.until(lambda: "".join(standin.bot_texts(111)).replace("\n", "").replace(" ", "")
                            .endswith(text.replace(" ", "")[-50:]))
    assert standin.errors() == []  # the stand-in answers 400 to bad HTML or > 4096 characters
    shown = "".join(standin.bot_texts(111))
    assert shown.startswith("You wrote:")
    assert shown.replace("\n", "").replace(" ", "") == ("You wrote:" + text).replace(" ", "")


async def test_flood_429_is_retried_after_retry_after(standin: BotAPIStandIn, tg_db):
    standin.inject_429("sendMessage", count=2, retry_after=1)
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        await standin.until(lambda: standin.bot_texts(111) == ["Question one?"], 20)
    sends = standin.calls_of("sendMessage", 111)
    assert [c["error"] is not None for c in sends] == [True, True, False]
    assert sends[2]["at"] - sends[0]["at"] >= 2.0  # waited retry_after each time


async def test_attachments_and_non_text_messages(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/files")
        await standin.until(lambda: len(standin.bot_messages(111)) >= 3)
        standin.send_photo(111)
        await standin.until(lambda: "Please type your answer as text (or use the buttons)." in standin.bot_texts(111))
    assert [c["files"]["photo"]["filename"] for c in standin.calls_of("sendPhoto")] == ["ladder.png"]
    assert [c["files"]["document"]["filename"] for c in standin.calls_of("sendDocument")] == ["note.txt"]
    assert query(tg_db, "select count(*) from turns where text like '%photo%'") == [(0,)]


async def test_redelivered_update_runs_once(standin: BotAPIStandIn, tg_db):
    cfg = tg_settings(standin, tg_db)
    async with running_bot(cfg, FakeService, standin) as channel:
        standin.send_text(111, "/start")
        standin.send_text(111, "only once")
        await standin.until(lambda: "Question two?" in standin.bot_texts(111))
        # Telegram sends the same updates again (e.g. the acknowledgement was lost)
        redelivered = [Update.de_json(u, channel.bot) for u in standin.history]
        channel.receive(redelivered)
        standin.send_text(111, "/summary")
        await standin.until(lambda: standin.bot_texts(111)[-1].startswith("Summary"))
    assert standin.bot_texts(111)[-1] == "Summary\nq1: only once"
    assert query(tg_db, "select count(*) from turns where direction = 'in'") == [(3,)]


def test_settings_dataclass_is_redacted():
    cfg = tg_settings(BotAPIStandIn(), "x.db")
    assert cfg.token not in repr(cfg)
    assert dataclasses.replace(cfg, open_access=True).is_allowed(5, 5)
