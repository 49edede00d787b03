"""A channel-neutral reply: styled text runs, quick-reply choices and attachments.

The consult builds replies from these pieces; each channel adapter renders them (plain text for
the console, HTML for Telegram and Matrix). User-supplied text is only ever a text run, so the
HTML renderer escapes it and no channel has to guess what is markup.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

STYLES = {"": ("", ""), "b": ("<b>", "</b>"), "i": ("<i>", "</i>"), "code": ("<code>", "</code>")}


@dataclass(frozen=True)
class Choice:
    """A quick reply: `label` is shown on the button, `value` is what pressing it sends.
    `aside` marks a choice that does not answer the question ("Why?"): a channel that must
    choose between buttons and a typed answer (a Telegram group) may drop it."""

    label: str
    value: str
    aside: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (the ladder picture, an exported note)."""

    filename: str
    mime: str
    data: bytes


@dataclass
class Reply:
    parts: list[tuple[str, str]] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    expects_answer: bool = False  # ends with a question (a group chat asks with ForceReply)

    # -- building -------------------------------------------------------------------------
    def add(self, text: str, style: str = "") -> Reply:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}")
        if text:
            self.parts.append((style, text))
        return self

    def line(self, text: str = "", style: str = "") -> Reply:
        self.add(text, style)
        self.parts.append(("", "\n"))
        return self

    def extend(self, other: Reply) -> Reply:
        self.parts.extend(other.parts)
        self.choices.extend(other.choices)
        self.attachments.extend(other.attachments)
        self.expects_answer = self.expects_answer or other.expects_answer
        return self

    # -- rendering ------------------------------------------------------------------------
    def plain(self) -> str:
        return "".join(text for _, text in self.parts).strip("\n")

    def html(self) -> str:
        out = []
        for style, text in self.parts:
            opening, closing = STYLES[style]
            out.append(f"{opening}{html.escape(text, quote=False)}{closing}")
        return "".join(out).strip("\n")

    def html_chunks(self, limit: int = 4000) -> list[str]:
        """HTML split below `limit` UTF-16 code units without breaking a tag or an escape.

        Telegram measures a message in UTF-16 code units (an emoji outside the Basic Multilingual
        Plane counts twice), so that is the unit here. Splits between runs where possible, inside
        a long run at a newline or space otherwise; each chunk re-opens the run's tag so every
        chunk is well formed.
        """
        chunks: list[str] = []
        current, current_len = "", 0
        for style, text in self.parts:
            opening, closing = STYLES[style]
            for piece in _split_text(text, limit - len(opening) - len(closing) - 16):
                rendered = f"{opening}{html.escape(piece, quote=False)}{closing}"
                rendered_len = utf16_len(rendered)
                if current_len + rendered_len > limit and current.strip():
                    chunks.append(current.strip("\n"))
                    current, current_len = "", 0
                current += rendered
                current_len += rendered_len
        if current.strip():
            chunks.append(current.strip("\n"))
        return chunks or [""]

    # -- storage (outbox rows hold replies as JSON) -----------------------------------------
    def to_json(self) -> dict:
        return {
            "parts": [list(p) for p in self.parts],
            "choices": [[c.label, c.value, c.aside] for c in self.choices],
            "attachments": [[a.filename, a.mime, base64.b64encode(a.data).decode("ascii")] for a in self.attachments],
            "expects_answer": self.expects_answer,
        }

    @classmethod
    def from_json(cls, data: dict) -> Reply:
        return cls(
            parts=[(s, t) for s, t in data.get("parts", [])],
            choices=[Choice(*c) for c in data.get("choices", [])],
            attachments=[
                Attachment(name, mime, base64.b64decode(b64)) for name, mime, b64 in data.get("attachments", [])
            ],
            expects_answer=data.get("expects_answer", False),
        )


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _split_text(text: str, size: int) -> list[str]:
    """Cut raw text into pieces whose escaped form stays under `size` UTF-16 code units."""
    if utf16_len(html.escape(text, quote=False)) <= size:  # nearly every run: no cut, no walk per character
        return [text]
    pieces: list[str] = []
    start, used, last_break = 0, 0, -1
    for i, ch in enumerate(text):
        cost = len(html.escape(ch, quote=False)) * (2 if ord(ch) > 0xFFFF else 1)
        if used + cost > size and i > start:
            cut = last_break if last_break > start else i
            pieces.append(text[start:cut])
            start = cut
            used = utf16_len(html.escape(text[start:i], quote=False))
            last_break = -1
        used += cost
        if ch in "\n ":
            last_break = i
    pieces.append(text[start:])
    return pieces
