"""A reply's buttons, forced reply and reply-to reach Telegram exactly as python-telegram-bot's own
objects would have sent them: the channel writes the JSON itself (bot/channels/telegram/outgoing.py)."""

from __future__ import annotations

import pytest
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from neuroladder.bot.channels.telegram.outgoing import force_reply_markup, keyboard_markup, reply_parameters
from neuroladder.bot.views.reply import Choice

LONG = "Pregabalin stopped for dizziness, " * 3  # over Telegram's 64 characters


def choices(*labels: str) -> list[Choice]:
    return [Choice(label, label.lower()) for label in labels]


@pytest.mark.parametrize(
    ("labels", "layout"),
    [
        (("Yes", "No", "Unknown", "Why?"), [[0, 1, 2, 3]]),  # short: one row
        (("No benefit", "Some benefit", "Good benefit", "Unknown"), [[0, 1], [2, 3]]),  # two by two
        (("Diffuse", "Focal", "Unknown"), [[0, 1, 2]]),
        (("2400 mg/day", "1200 mg/day", "600 mg/day", "Unknown", "Why?"), [[0, 1], [2, 3], [4]]),
        (("250 pmol/L", "250 pg/mL (ng/L)", "Why?"), [[0], [1], [2]]),
        (("Stopped for side effects", "Still taking it at a lower dose", "Why?"), [[0], [1], [2]]),
        ((LONG, 'Ünïcode "quoted" 💊 & <b>', ""), [[0], [1], [2]]),  # cut, escaped, empty -> "?"
    ],
)
def test_the_keyboard_is_what_ptb_serialises(labels, layout):
    buttons = [InlineKeyboardButton(label[:64] or "?", callback_data=f"k42.{i}") for i, label in enumerate(labels)]
    expected = InlineKeyboardMarkup([[buttons[i] for i in row] for row in layout]).to_json()
    assert keyboard_markup(42, choices(*labels)) == expected


def test_force_reply_and_reply_parameters_are_what_ptb_serialises():
    assert force_reply_markup(selective=True) == ForceReply(selective=True).to_json()
    assert force_reply_markup(selective=False) == ForceReply(selective=False).to_json()
    assert reply_parameters(77) == ReplyParameters(message_id=77, allow_sending_without_reply=True).to_json()
