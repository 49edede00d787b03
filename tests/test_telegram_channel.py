"""Transport details of the Telegram channel, over HTTP through the Bot API stand-in.

Stale and double button presses, group addressing, HTML escaping of echoed text, 429 retries,
files, re-delivered updates. A scripted service (tests/telegram_fake_service.py) gives replies
whose exact content the tests know; whole consultations with the real consult engine are in
test_telegram_consult.py, and the kill -9 test in test_telegram_crash.py.
"""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

import asyncio
import json

import pytest
from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram import Update
from telegram_fake_service import FakeService
from telegram_helpers import query, running_bot, tg_settings


def keyboard_messages(api: BotAPIStandIn, chat_id: int) -> list[dict]:
    return [m for m in api.bot_messages(chat_id) if api.buttons(m)]


async def test_after_a_typed_answer_the_old_buttons_stay_and_a_press_on_them_is_refused(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        first = (await standin.until(lambda: keyboard_messages(standin, 111)))[-1]
        standin.send_text(111, "yes, typed instead")
        await standin.until(lambda: "Question two?" in standin.bot_texts(111))
        # the answered question still shows its buttons (retiring them would cost a call per turn) ...
        assert standin.buttons(next(m for m in standin.bot_messages(111) if m["message_id"] == first["message_id"]))
        # ... and a press on one is refused with a toast: it is not an answer
        standin.press(111, first["message_id"], "No")
        await standin.until(lambda: len(standin.callback_answers) == 1)
        standin.send_text(111, "/summary")
        await standin.until(lambda: standin.bot_texts(111)[-1].startswith("Summary"))
    assert list(standin.callback_answers.values())[0]["text"] == "That question was already answered."
    assert standin.bot_texts(111)[-1] == "Summary\nq1: yes, typed instead"
    assert standin.chat_calls(111) == standin.calls_of("sendMessage", 111)  # no edits, no chat actions
    assert standin.errors() == []


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


async def test_html_special_characters_and_long_text_are_delivered(standin: BotAPIStandIn, tg_db):
    text = "<b>not bold</b> & <script>x</script> a<b " + ("word & <tag> " * 400)[:5000]
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/echo " + text)
        await standin.until(lambda: len(standin.bot_texts(111)) >= 2)
        await standin.until(
            lambda: (
                "".join(standin.bot_texts(111)).replace("\n", "").replace(" ", "").endswith(text.replace(" ", "")[-50:])
            )
        )
    assert standin.errors() == []  # the stand-in answers 400 to bad HTML or > 4096 characters
    shown = "".join(standin.bot_texts(111))
    assert shown.startswith("You wrote:")
    assert shown.replace("\n", "").replace(" ", "") == ("You wrote:" + text).replace(" ", "")


@pytest.mark.slow  # waits out Telegram's retry_after
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
    assert [c["params"]["action"] for c in standin.calls_of("sendChatAction")] == ["upload_document"]
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


async def test_webhook_mode_checks_the_secret_and_feeds_the_same_inbox(standin: BotAPIStandIn, tg_db):
    cfg = tg_settings(
        standin, tg_db, webhook_url="https://bot.example.test/tg/hook", webhook_secret="s3cret_X", webhook_port=0
    )
    async with running_bot(cfg, FakeService, standin, wait_for_poll=False) as channel:
        await standin.until(lambda: channel.webhook is not None and channel.webhook.port)
        assert standin.webhook == {
            "url": "https://bot.example.test/tg/hook",
            "secret_token": "s3cret_X",
            "allowed_updates": ["message", "edited_message", "callback_query"],
        }
        url = f"http://127.0.0.1:{channel.webhook.port}/tg/hook"
        standin.send_text(111, "/start")
        update = standin.history[-1]
        assert await post(url, update, "wrong") == 403  # a forged update is refused ...
        assert await post(url, update, None) == 403
        assert query(tg_db, "select count(*) from inbox") == [(0,)]  # ... and not stored
        assert await post(url, update, "s3cret_X") == 200
        assert await post(url, update, "s3cret_X") == 200  # Telegram re-delivers: runs once
        await standin.until(lambda: standin.bot_texts(111) == ["Question one?"])
    assert query(tg_db, "select count(*) from turns where direction = 'in'") == [(1,)]
    assert standin.polls == 0  # no getUpdates in webhook mode


async def test_webhook_bounds_headers_before_the_secret_and_refuses_non_updates(standin: BotAPIStandIn, tg_db):
    """Headers are read before the secret can be checked, so they are bounded (a flood of them once
    grew the process by 100 MB); an authenticated body that is not an update is a 400, never a 500."""
    cfg = tg_settings(
        standin, tg_db, webhook_url="https://bot.example.test/tg/hook", webhook_secret="s3cret_X", webhook_port=0
    )
    async with running_bot(cfg, FakeService, standin, wait_for_poll=False) as channel:
        await standin.until(lambda: channel.webhook is not None and channel.webhook.port)
        port = channel.webhook.port

        def flood() -> bytes:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"POST /tg/hook HTTP/1.1\r\n")
                try:
                    for i in range(5000):  # 5000 x 200 bytes: 1 MB of headers
                        sock.sendall(f"X-Filler-{i}: {'a' * 180}\r\n".encode())
                except OSError:
                    pass  # the server answered and closed: what we want
                return sock.recv(200)

        answer = await asyncio.to_thread(flood)
        assert answer.startswith(b"HTTP/1.1 431")
        url = f"http://127.0.0.1:{port}/tg/hook"
        for body in ({"hello": 1}, {"update_id": "x"}, {"update_id": 5, "message": "not a message"}, [1, 2]):
            assert await post(url, body, "s3cret_X") == 400, body
        assert query(tg_db, "select count(*) from inbox") == [(0,)]
        standin.send_text(111, "/start")  # and a real update still goes through
        assert await post(url, standin.history[-1], "s3cret_X") == 200
        await standin.until(lambda: standin.bot_texts(111) == ["Question one?"])


async def post(url: str, update, secret: str | None) -> int:
    import urllib.error
    import urllib.request

    def call() -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    return await asyncio.to_thread(call)


def test_the_standin_refuses_what_telegram_refuses():
    """The HTML and length checks above only mean something if the stand-in is strict."""
    from botapi_standin import ApiError, parse_html

    assert parse_html("<b>a &lt; b &amp; c</b>") == "a < b & c"
    for bad in ["a < b", "a & b", "<b>open", "<script>x</script>", "</i>"]:
        try:
            parse_html(bad)
        except ApiError as exc:
            assert exc.code == 400 and "can't parse entities" in exc.description
        else:
            raise AssertionError(f"{bad!r} was accepted")
    with BotAPIStandIn() as api:
        api.chat(5)
        for params in (
            {"chat_id": 5, "text": "x" * 4097},
            {"chat_id": 5, "text": " "},
            {"chat_id": 6, "text": "hi"},
            {
                "chat_id": 5,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]},
            },
        ):
            try:
                api._api_sendMessage(params, {})
            except ApiError as exc:
                assert exc.code == 400
            else:
                raise AssertionError(f"{params} was accepted")


async def test_unknown_team_chat_is_refused_only_when_it_addresses_the_bot(standin: BotAPIStandIn, tg_db):
    other_team = -100777
    standin.chat(other_team, "supergroup")
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(other_team, "lunch at noon?", user_id=901)  # not for the bot: no answer at all
        standin.send_text(other_team, f"@{BOT_USERNAME} patient on gabapentin", user_id=901)
        await standin.until(lambda: standin.bot_texts(other_team))
        # an allowed member of that team still may consult (the allowlist names users too)
        standin.send_text(other_team, f"/start@{BOT_USERNAME}", user_id=111)
        question = (await standin.until(lambda: keyboard_messages(standin, other_team)))[-1]
        standin.press(other_team, question["message_id"], "Yes", user_id=902)  # a stranger's press
        await standin.until(lambda: len(standin.callback_answers) == 1)
    assert standin.bot_texts(other_team)[0].startswith("Sorry, this bot serves an approved clinical team only.")
    assert list(standin.callback_answers.values())[0]["show_alert"] is True
    assert standin.buttons(standin.bot_messages(other_team)[-1]) == ["Yes", "No", "Not sure"]  # still open
    assert query(tg_db, "select author from turns where direction = 'in'") == [("111",)]
    assert query(tg_db, "select count from refusals") == [(2,)]


@pytest.mark.slow  # a chat slowed by 1.5 s per call
async def test_a_slow_chat_does_not_hold_up_the_others(standin: BotAPIStandIn, tg_db):
    standin.slow_down(111, 1.5)  # every call about chat 111 takes 1.5 s
    async with running_bot(tg_settings(standin, tg_db), FakeService, standin):
        standin.send_text(111, "/start")
        standin.send_text(222, "/start")
        standin.send_text(222, "fast answer")
        await standin.until(lambda: "Question two?" in standin.bot_texts(222), 10)
        assert standin.bot_texts(111) == []  # still on its way to the slow chat
        await standin.until(lambda: standin.bot_texts(111) == ["Question one?"], 20)


def test_a_caption_is_measured_as_telegram_counts_it():
    """Telegram counts a caption in UTF-16 units (an emoji is two): a line of 600 red circles is
    1,200 of them, over the limit, so it goes as a message before the file, never refused."""
    from neuroladder.bot.channels.telegram.app import fits_a_caption
    from neuroladder.bot.views.reply import Attachment, Reply

    def with_file(text: str) -> Reply:
        return Reply(attachments=[Attachment("ladder.png", "image/png", b"png")]).line(text)

    short, emoji = with_file("The ladder for this consult."), with_file("\U0001f534" * 600)
    assert fits_a_caption(short, short.html_chunks(3900))
    assert not fits_a_caption(emoji, emoji.html_chunks(3900))
