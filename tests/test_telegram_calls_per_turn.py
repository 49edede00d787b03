"""One Bot API chat call per answered turn, counted on the stand-in (not timed).

Telegram lets a bot post about 20 messages a minute into one group; every extra call per turn
(retiring the previous question's buttons, a "typing" notice) makes a team wait sooner. A turn
here is one message or button press of a clinician and everything the bot calls until the next
one; a chat call is anything that goes into the chat (message, edit, chat action, file). The
answerCallbackQuery Telegram requires for every press is counted apart: it goes into no chat.
"""

from __future__ import annotations

from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram_helpers import running_bot, tg_settings

from neuroladder.bot.service import Service

pytest_plugins = ["telegram_fixtures"]

PREFERRED = ["Yes", "No benefit", "Diffuse", "No diabetes", "Normal"]
TYPED = {"dose": "600 mg tid", "weeks": "12 weeks", "age": "72"}


def typed_answer(question: str) -> str:
    asked = question.strip().splitlines()[-1].lower()
    if "weeks" in asked:
        return TYPED["weeks"]
    if "dose" in asked:
        return TYPED["dose"]
    return TYPED["age"] if "age" in asked else "unknown"


async def intake(api: BotAPIStandIn, chat: int, members: list[int], turns: int) -> list[list[str]]:
    """Answer `turns` turns of the intake (members in turn, buttons where offered, typed replies
    otherwise), then the chat calls of each turn. A last /help is the sentinel: the bot handles a
    chat's messages in order, so once it is answered every earlier turn has made all its calls."""
    bounds: list[int] = []
    question: dict | None = None
    for n in range(turns + 1):
        user = members[n % len(members)]
        bounds.append(len(api.chat_calls(chat)))
        sent = len(api.calls_of("sendMessage", chat))
        labels = [b for b in api.buttons(question) if b != "Why?"] if question else []
        if question is None:
            api.send_text(chat, f"/start@{BOT_USERNAME}", user_id=user)
        elif n == turns:
            api.send_text(chat, "/help", user_id=user)
        elif labels:
            api.press(
                chat, question["message_id"], next((p for p in PREFERRED if p in labels), labels[0]), user_id=user
            )
        else:
            api.send_text(
                chat,
                typed_answer(question["text"]),
                user_id=user,
                reply_to=question["message_id"] if chat < 0 else None,
            )
        await api.until(lambda before=sent: len(api.calls_of("sendMessage", chat)) > before, 30, f"turn {n + 1}")
        question = api.last_bot_message(chat)
    calls = [c["method"] for c in api.chat_calls(chat)]
    return [calls[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


async def test_private_intake_costs_one_call_per_turn(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        per_turn = await intake(standin, 111, [111], 16)
        presses = len(standin.callback_answers)
    assert per_turn == [["sendMessage"]] * 16
    # on the phone: each press confirmed to the presser, nothing rewritten above, the answer noted below
    shown = standin.phone_view(111)
    assert "pressed [Yes] under #2 -> toast 'You pressed: Yes'\n#3   bot: Noted: gabapentin tried" in shown, shown
    assert "(edited)" not in shown
    assert presses >= 5, "the intake was answered by buttons too"
    assert len(standin.calls_of("answerCallbackQuery")) == presses  # one per press, never more
    assert standin.errors() == []


async def test_group_intake_by_two_clinicians_costs_one_call_per_turn(standin: BotAPIStandIn, tg_db):
    team = -100777
    standin.chat(team, "supergroup")
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(), allowed_chats=frozenset({team}))
    assert cfg.group_rate == 20.0  # Telegram's own limit: more than one call a turn would wait
    async with running_bot(cfg, Service, standin):
        per_turn = await intake(standin, team, [501, 502], 16)
        presses = len(standin.callback_answers)
    assert per_turn == [["sendMessage"]] * 16
    assert presses >= 5 and len(standin.calls_of("answerCallbackQuery")) == presses
    assert standin.errors() == []


async def test_commands_cost_one_call_and_files_one_more(standin: BotAPIStandIn, tg_db):
    """A command answers in one message; one whose answer is a file shows "sending photo..." while
    the file is made, then sends the file with its line as the caption: two calls, one message."""
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        for text in [
            "/start",
            "gabapentin 600 mg tid for 3 months, no help",
            "/summary",
            "/why",
            "/unknowns",
            "/ladder",
            "/export",
            "/help",
        ]:
            before = len(standin.bot_messages(111))
            standin.send_text(111, text)
            await standin.until(lambda b=before: len(standin.bot_messages(111)) > b, 30, text)
    calls = [(c["method"], c["params"].get("action")) for c in standin.chat_calls(111)]
    assert calls == [("sendMessage", None)] * 5 + [
        ("sendChatAction", "upload_photo"),
        ("sendPhoto", None),
        ("sendChatAction", "upload_document"),
        ("sendDocument", None),
        ("sendMessage", None),
    ]
    photo, document = standin.bot_messages(111)[5:7]
    assert photo["caption"].startswith("The ladder for this consult: green done")
    assert document["caption"].startswith("The consult note, ready to paste")
    assert standin.errors() == []
