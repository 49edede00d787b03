"""A group that becomes a supergroup gets a new chat id (Telegram's migrate_to/migrate_from): its
consultation, turns and allowlist entry follow it, and a message sent just before the move is
answered once, in the supergroup."""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram_helpers import query, running_bot, tg_settings

from neuroladder.bot.service import Service

OLD, NEW = -4001, -1004001


async def test_the_consult_follows_a_group_that_became_a_supergroup(standin: BotAPIStandIn, tg_db):
    standin.chat(OLD, "group")
    cfg = tg_settings(standin, tg_db, allowed_users=frozenset(), allowed_chats=frozenset({OLD}), group_rate=1000.0)
    async with running_bot(cfg, Service, standin):
        standin.send_text(OLD, f"@{BOT_USERNAME} gabapentin 600 mg tid for 3 months, no help", user_id=501)
        await standin.until(lambda: standin.bot_texts(OLD), 20, "the answer in the old group")
        with standin.lock:  # in flight: typed in the old group as it becomes a supergroup
            standin.send_text(OLD, f"@{BOT_USERNAME} duloxetine 60 mg for 8 weeks, no help", user_id=502)
            standin.migrate_to_supergroup(OLD, NEW, user_id=501)
        await standin.until(
            lambda: any("duloxetine" in t for t in standin.bot_texts(NEW)),
            20,
            "the in-flight message answered in the supergroup",
        )
        standin.send_text(NEW, "/summary", user_id=501)  # the allowlist named the old id: still allowed
        await standin.until(lambda: any("summary" in t.lower() for t in standin.bot_texts(NEW)), 20, "the summary")
    assert query(tg_db, "select distinct chat_id from consults") == [(str(NEW),)]
    assert query(tg_db, "select count(*) from turns where text like 'duloxetine 60%'") == [(1,)]
    texts = standin.bot_texts(NEW)
    summary = "\n".join(texts[next(i for i, t in enumerate(texts) if "summary" in t.lower()) :])
    assert "gabapentin" in summary and "duloxetine" in summary  # one consult, before and after the move
    assert [c for c in standin.errors() if "upgraded" not in c["error"]] == []
    assert query(tg_db, "select count from refusals") == []
