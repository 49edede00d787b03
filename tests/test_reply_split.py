"""Long replies are split as Telegram measures them: UTF-16 code units, not characters.

A chunk Telegram finds too long is refused with a 400 and the clinician sees nothing, so every
chunk must pass the Bot API stand-in's own length check (tests/botapi_standin.py), and no text
may be lost or doubled by the split.
"""

from __future__ import annotations

import pytest
from botapi_standin import parse_html, utf16_len

from neuroladder.bot.views.reply import Reply

LIMIT = 3900  # bot/channels/telegram/app.py CHUNK_LIMIT


@pytest.mark.parametrize(
    "body",
    [
        "😀" * 5000,  # astral: two UTF-16 units each
        "gabapentin 😀 & <b> " * 600,  # escapes grow, emoji double
        "𝔘" * 2100 + "\n" + "plain text " * 400,  # mathematical letters outside the BMP
        "x" * 9000,  # no space to cut at
    ],
)
def test_every_chunk_fits_telegram_and_nothing_is_lost(body):
    reply = Reply().line("Header", "b").line(body).line("Footer", "i")
    chunks = reply.html_chunks(LIMIT)
    assert len(chunks) > 1
    plain = [parse_html(chunk) for chunk in chunks]
    assert all(utf16_len(p) <= 4096 for p in plain)
    assert all(utf16_len(c) <= LIMIT for c in chunks)
    joined = "".join(plain).replace("\n", "")
    assert joined == reply.plain().replace("\n", "")


def test_a_short_reply_is_one_chunk():
    assert len(Reply().line("Noted: gabapentin 900 mg/day 😀").html_chunks(LIMIT)) == 1
