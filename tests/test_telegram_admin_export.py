"""/exportconsult sends a whole transcript: only ever into the admin's private chat, and the
delivered file is not kept in the outbox (a purged consult leaves no copy behind)."""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

from botapi_standin import BOT_USERNAME, BotAPIStandIn
from telegram_helpers import query, running_bot, tg_settings

from neuroladder.bot.service import Service

WORD = "zebracrossingtrial"  # typed only in the consult that is exported


async def test_export_goes_only_to_the_admins_private_chat_and_is_not_kept(standin: BotAPIStandIn, tg_db):
    team = -1005550
    standin.chat(team, "supergroup")
    cfg = tg_settings(standin, tg_db, allowed_chats=frozenset({team}), group_rate=1000.0)
    async with running_bot(cfg, lambda store: Service(store, admins={"111"}), standin):
        standin.send_text(222, f"gabapentin 300 tds, {WORD}")
        await standin.until(lambda: standin.bot_texts(222), 20, "the consult's reply")
        consult = query(tg_db, "select id from consults where chat_id = '222'")[0][0]

        standin.send_text(team, f"/exportconsult@{BOT_USERNAME} {consult}", user_id=111)
        await standin.until(lambda: standin.bot_texts(team), 20, "the group's answer")
        assert "only in your private chat" in standin.bot_texts(team)[-1]
        assert not [k for k in standin.sent_files if k[0] == team]

        standin.send_text(111, f"/exportconsult {consult}")
        await standin.until(lambda: [k for k in standin.sent_files if k[0] == 111], 20, "the file in private")
        data = next(v for k, v in standin.sent_files.items() if k[0] == 111)
        assert WORD.encode() in data
        await standin.until(
            lambda: query(tg_db, "select count(*) from outbox where sent_at is null") == [(0,)],
            20,
            "every reply delivered",
        )

    import base64
    import json

    files = [a for (r,) in query(tg_db, "select reply from outbox") for a in json.loads(r)["attachments"]]
    assert files == []  # the delivered file is not kept ...
    outbox = " ".join(r[0] for r in query(tg_db, "select reply from outbox"))
    assert WORD not in outbox and base64.b64encode(data)[:40].decode() not in outbox  # ... in any form
    assert query(tg_db, "select count(*) from audit where action = 'denied'") == [(1,)]
