"""One command table: /help, the Telegram menu and the dispatch all come from it."""

from __future__ import annotations

import re

import pytest
from botapi_standin import BotAPIStandIn
from telegram_helpers import running_bot, tg_settings

from neuroladder.bot.dialogue.commands import HANDLERS, Commands
from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store

pytest_plugins = ["telegram_fixtures"]


def help_commands(text: str) -> list[str]:
    return re.findall(r"^/(\w+) - ", text, re.M)


async def test_help_and_the_telegram_menu_list_the_same_commands_as_the_registry(standin: BotAPIStandIn, tg_db):
    registry = Commands()
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        sent = standin.send_text(111, "/help")
        await standin.until(
            lambda: [m for m in standin.bot_messages(111) if m["message_id"] > sent["message_id"]],
            20,
            "the answer to /help",
        )
    help_text = standin.bot_messages(111)[-1]["text"]
    menu = [(c["command"], c["description"]) for c in standin.commands]
    listed = [c.name for c in registry.listed()]
    assert [name for name, _ in menu] == listed
    assert help_commands(help_text) == listed
    assert menu == [(c.name, c.menu) for c in registry.listed()]
    for command in registry.listed():  # each /help line is the registry's own
        assert f"/{command.name} - {command.help}" in help_text
    assert standin.errors() == []


def test_commands_for_buttons_and_administrators_are_in_neither_list(tmp_path):
    service = Service(Store(tmp_path / "d.db"), admins=["7"])
    [reply] = service.handle("test", "c", "/help", author="7")
    for hidden in ("resolve", "purge", "exportconsult"):
        assert f"/{hidden}" not in reply.plain()
        assert hidden not in dict(service.commands())
        assert service.registry.get(hidden) is not None


def test_an_unknown_command_is_answered_with_the_listed_ones(tmp_path):
    service = Service(Store(tmp_path / "d.db"))
    [reply] = service.handle("test", "c", "/frobnicate")
    assert reply.plain().startswith("I do not know /frobnicate. Commands: /start, /summary")
    assert "/purge" not in reply.plain()


def test_admin_and_private_only_commands_refuse_and_audit(tmp_path):
    store = Store(tmp_path / "d.db")
    service = Service(store, admins=["7"])
    [refused] = service.handle("test", "c", "/purge 30", author="8")
    assert "administrators only" in refused.plain()
    [group] = service.handle("test", "c", "/exportconsult 1", author="7", private=False)
    assert "private chat" in group.plain() and not group.attachments
    [private] = service.handle("test", "c", "/exportconsult 1", author="7", private=True)
    assert private.attachments and private.attachments[0].filename == "consult-1.json"
    denied = [r["detail"] for r in store.db["audit"].rows_where("action = ?", ["denied"])]
    assert len(denied) == 2


def test_a_command_without_words_or_words_without_a_handler_stop_the_bot():
    with pytest.raises(ValueError, match="disagree"):
        Commands({**HANDLERS, "extra": (None, {})})
    with pytest.raises(ValueError, match="disagree"):
        Commands({name: spec for name, spec in HANDLERS.items() if name != "ladder"})
