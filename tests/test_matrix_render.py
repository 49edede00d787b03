"""Matrix rendering and choice reading, and the channel's settings: pure functions, no server."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from neuroladder.bot.channels.matrix.app import ConfigError, parse_allowed, settings_from
from neuroladder.bot.channels.matrix.render import (
    MAX_HTML,
    choice_by_number,
    file_content,
    keycap_number,
    png_size,
    resolve_text,
    text_contents,
)
from neuroladder.bot.views.reply import Choice, Reply

CHOICES = [Choice("Yes", "gabapentin yes"), Choice("No", "gabapentin no"), Choice("Why?", "/why")]


def test_reply_renders_plain_body_beside_escaped_html_and_numbered_choices():
    reply = Reply(choices=CHOICES).add("Noted: ").add("<script>&", "b").line().add("next")
    [content] = text_contents(reply, in_reply_to="$question")
    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Noted: <script>&\nnext\n\n1. Yes\n2. No\n3. Why?"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"] == (
        "Noted: <b>&lt;script&gt;&amp;</b><br>next<ol><li>Yes</li><li>No</li><li>Why?</li></ol>"
    )
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$question"}}


def test_choice_labels_are_escaped_too():
    [content] = text_contents(Reply(choices=[Choice("<b>x</b>", "v")]).add("Pick"))
    assert "<li>&lt;b&gt;x&lt;/b&gt;</li>" in content["formatted_body"]


def test_a_long_reply_is_split_into_well_formed_events_with_the_choices_last():
    reply = Reply(choices=CHOICES)
    for i in range(2000):
        reply.line(f"line {i} & more", "b" if i % 2 else "")
    contents = text_contents(reply)
    assert len(contents) > 1
    assert all(len(c["formatted_body"]) < 2 * MAX_HTML for c in contents)
    assert all(c["formatted_body"].count("<b>") == c["formatted_body"].count("</b>") for c in contents)
    assert "1. Yes" in contents[-1]["body"] and all("1. Yes" not in c["body"] for c in contents[:-1])
    assert "line 1999 & more" in contents[-1]["body"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", "gabapentin yes"),
        (" 2. ", "gabapentin no"),
        ("3)", "/why"),
        ("yes", "gabapentin yes"),
        ("NO", "gabapentin no"),
        ("gabapentin no", "gabapentin no"),
        ("2\ufe0f\u20e3", "gabapentin no"),
        ("4", "4"),
        ("0", "0"),
        ("1800", "1800"),
        ("gabapentin 1800 mg", "gabapentin 1800 mg"),
    ],
)
def test_a_choice_is_answered_by_number_text_or_keycap(text, expected):
    assert resolve_text(text, CHOICES) == expected


def test_without_choices_text_passes_unchanged():
    assert resolve_text("1", []) == "1"


@pytest.mark.parametrize(
    "key, number",
    [
        ("1\ufe0f\u20e3", 1),
        ("1\u20e3", 1),
        ("9\ufe0f\u20e3", 9),
        ("\U0001f51f", 10),
        ("👍", None),
        ("1", None),
    ],
)
def test_keycap_reactions(key, number):
    assert keycap_number(key) == number


def test_choice_by_number_range():
    assert choice_by_number(3, CHOICES) == "/why"
    assert choice_by_number(4, CHOICES) is None and choice_by_number(None, CHOICES) is None


def test_png_becomes_an_image_with_its_size_other_files_a_file():
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + (640).to_bytes(4, "big") + (480).to_bytes(4, "big")
    assert png_size(png) == (640, 480)
    image = file_content("ladder.png", "image/png", len(png), png, encrypted_file={"url": "mxc://x/y"})
    assert image["msgtype"] == "m.image" and image["info"]["w"] == 640 and image["file"]["url"] == "mxc://x/y"
    assert "url" not in image
    note = file_content("note.txt", "text/plain", 3, b"abc", url="mxc://x/z")
    assert note["msgtype"] == "m.file" and note["url"] == "mxc://x/z"


# -- settings --------------------------------------------------------------------------------------
def test_allowed_users_keeps_matrix_ids_only():
    assert parse_allowed("@doc:hospital.example, 12345 @nurse:hospital.example;bogus") == {
        "@doc:hospital.example",
        "@nurse:hospital.example",
    }
    assert parse_allowed(None) == frozenset()


def _args(**kw):
    return argparse.Namespace(db=kw.get("db"), store=kw.get("store"), allow_unencrypted=kw.get("allow", False))


def test_settings_defaults_store_beside_the_database(tmp_path):
    env = {
        "MATRIX_HOMESERVER": "https://matrix.hospital.example/",
        "MATRIX_USER_ID": "@bot:hospital.example",
        "MATRIX_PASSWORD": "pw",
        "NEUROLADDER_ALLOWED_USERS": "@doc:hospital.example",
    }
    s = settings_from(_args(db=str(tmp_path / "log.db")), env)
    assert s.homeserver == "https://matrix.hospital.example"
    assert s.store_dir == Path(tmp_path / "log-matrix-store")
    assert s.allowed_users == {"@doc:hospital.example"} and not s.allow_unencrypted
    assert "pw" not in repr(s)
    s = settings_from(_args(db="x.db", store=str(tmp_path / "keys"), allow=True), env)
    assert s.store_dir == tmp_path / "keys" and s.allow_unencrypted


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MATRIX_HOMESERVER": "matrix.example"}, "must be an http(s) URL"),
        ({"MATRIX_HOMESERVER": "https://m.example", "MATRIX_USER_ID": "bot"}, "must look like @name:server"),
        (
            {
                "MATRIX_HOMESERVER": "https://m.example",
                "MATRIX_USER_ID": "@bot:m.example",
                "MATRIX_PASSWORD": "x",
                "NEUROLADDER_ALLOWED_USERS": "12345",
            },
            "holds no Matrix id",
        ),
    ],
)
def test_malformed_settings(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from(_args(), env)


GOOD = {
    "MATRIX_HOMESERVER": "https://m.example",
    "MATRIX_USER_ID": "@bot:m.example",
    "MATRIX_PASSWORD": "x",
    "NEUROLADDER_ALLOWED_USERS": "@doc:m.example",
}


@pytest.mark.parametrize(
    "name, value",
    [
        ("NEUROLADDER_USER_MESSAGES_PER_MINUTE", "ten"),
        ("NEUROLADDER_USER_MESSAGES_PER_MINUTE", "0"),
        ("NEUROLADDER_TRAFFIC_DAYS", "a week"),
        ("NEUROLADDER_MATRIX_KEY_GRACE", "-1"),
        ("NEUROLADDER_MATRIX_TIMELINE_LIMIT", "1e3"),
        ("NEUROLADDER_MATRIX_KEY_GRACE", "nan"),
        ("NEUROLADDER_MATRIX_TIMELINE_LIMIT", "0"),
    ],
)
def test_a_malformed_limit_stops_the_bot_and_names_the_variable(name, value):
    """Never silently the default: an operator who set a limit must learn that it was not taken."""
    with pytest.raises(ConfigError, match=f"{name} must be .*{value!r}"):
        settings_from(_args(), {**GOOD, name: value})


def test_limits_reach_the_settings():
    s = settings_from(
        _args(), {**GOOD, "NEUROLADDER_MATRIX_KEY_GRACE": "2.5", "NEUROLADDER_MATRIX_TIMELINE_LIMIT": "3"}
    )
    assert (s.key_grace_s, s.timeline_limit) == (2.5, 3)
    assert (settings_from(_args(), GOOD).key_grace_s, settings_from(_args(), GOOD).timeline_limit) == (15.0, 100)
