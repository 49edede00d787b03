"""Matrix rendering of channel-neutral replies, and reading a clinician's choice back.

A `Reply` becomes one `m.room.message` (msgtype `m.notice`, as bots should) with the plain `body`
and the `org.matrix.custom.html` `formatted_body` beside it; choices are a numbered list
("1. label"). A clinician answers a choice by its number, by its text, or by reacting to the
message with the number's keycap emoji (1️⃣ … 🔟); each maps to the choice's value.
Pure functions: no network, no storage.
"""

from __future__ import annotations

import html
import re
import struct

from neuroladder.bot.views.reply import Choice, Reply

MAX_HTML = 12000  # with <br> and the plain body beside it, far below the 64 KiB event limit encrypted
KEYCAPS = [f"{n}\ufe0f\u20e3" for n in range(10)]  # 0️⃣ … 9️⃣
TEN = "\U0001f51f"  # 🔟


def _choices_plain(choices: list[Choice]) -> str:
    return "\n".join(f"{i}. {c.label}" for i, c in enumerate(choices, 1))


def _choices_html(choices: list[Choice]) -> str:
    items = "".join(f"<li>{html.escape(c.label, quote=False)}</li>" for c in choices)
    return f"<ol>{items}</ol>"


def _html_lines(fragment: str) -> str:
    # Reply.html() escapes every text run, so a newline is never inside a tag.
    return fragment.replace("\n", "<br>")


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def text_contents(reply: Reply, in_reply_to: str | None = None) -> list[dict]:
    """The `m.room.message` contents for the text of `reply` (usually one; long replies split)."""
    formatted = reply.html()
    if len(formatted) <= MAX_HTML:
        pieces = [(reply.plain(), formatted)]
    else:
        pieces = [(_strip_tags(chunk), chunk) for chunk in reply.html_chunks(MAX_HTML)]
    contents = []
    for i, (body, formatted) in enumerate(pieces):
        last = i == len(pieces) - 1
        if last and reply.choices:
            body = f"{body}\n\n{_choices_plain(reply.choices)}" if body else _choices_plain(reply.choices)
            formatted = f"{_html_lines(formatted)}{_choices_html(reply.choices)}"
        else:
            formatted = _html_lines(formatted)
        if not body.strip():
            continue
        content = {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html", "formatted_body": formatted}
        if in_reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
        contents.append(content)
    return contents


def file_content(
    filename: str, mime: str, size: int, data: bytes, url: str | None = None, encrypted_file: dict | None = None
) -> dict:
    """An `m.image` (PNG) or `m.file` content for an uploaded attachment.

    `encrypted_file` is the `file` object (url, key, iv, hashes) of an encrypted upload;
    `url` is used for a plain upload in an unencrypted room.
    """
    info: dict = {"mimetype": mime, "size": size}
    msgtype = "m.file"
    if mime == "image/png":
        msgtype = "m.image"
        dims = png_size(data)
        if dims:
            info["w"], info["h"] = dims
    content = {"msgtype": msgtype, "body": filename, "filename": filename, "info": info}
    if encrypted_file is not None:
        content["file"] = encrypted_file
    else:
        content["url"] = url
    return content


def png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


# -- reading a choice back ----------------------------------------------------------------------
def keycap_number(key: str) -> int | None:
    """1 for "1️⃣" (with or without the variation selector), 10 for "🔟", else None."""
    key = key.strip()
    if key == TEN:
        return 10
    key = key.replace("\ufe0f", "")
    if len(key) == 2 and key[1] == "\u20e3" and key[0].isdigit():
        return int(key[0])
    return None


def choice_by_number(n: int | None, choices: list[Choice]) -> str | None:
    if n is not None and 1 <= n <= len(choices):
        return choices[n - 1].value
    return None


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def resolve_text(text: str, choices: list[Choice]) -> str:
    """What to hand to the consult for `text`, given the choices last offered in the room.

    "2", "2." or "2)" picks the second choice; a choice's label (any case) picks it; a keycap
    emoji typed as text counts as its number; anything else is passed on as typed.
    """
    if not choices:
        return text
    m = _NUMBER.match(text)
    if m:
        value = choice_by_number(int(m.group(1)), choices)
        if value is not None:
            return value
    value = choice_by_number(keycap_number(text), choices)
    if value is not None:
        return value
    folded = text.strip().casefold()
    for c in choices:
        if folded in (c.label.strip().casefold(), c.value.strip().casefold()):
            return c.value
    return text
