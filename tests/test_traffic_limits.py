"""Inbox and outbox do not grow for ever, and one sender's flood does not crowd out the team.

Handled inbox rows and delivered outbox rows older than the window (NEUROLADDER_TRAFFIC_DAYS,
default 7) are pruned at start and hourly; an edit of a pruned message still finds its consult.
A user sending more than NEUROLADDER_USER_MESSAGES_PER_MINUTE messages in a minute gets one
polite notice, and the excess is neither read nor stored."""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

from datetime import UTC, datetime, timedelta

from botapi_standin import BotAPIStandIn
from telegram_helpers import query, running_bot, tg_settings

from neuroladder.bot.channels.ratelimit import UserRateLimit
from neuroladder.bot.service import Service
from neuroladder.bot.storage import retention
from neuroladder.bot.storage.store import Store


def test_handled_traffic_older_than_the_window_is_pruned_and_pending_rows_are_kept(tmp_path):
    store = Store(tmp_path / "log.db")
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    store.db["inbox"].insert_all(
        [
            {
                "channel": "telegram",
                "update_key": "1",
                "chat_id": "5",
                "payload": "{}",
                "received_at": old,
                "done_at": old,
            },
            {"channel": "telegram", "update_key": "2", "chat_id": "5", "payload": "{}", "received_at": old},  # pending
        ]
    )
    store.db["outbox"].insert_all(
        [
            {"channel": "telegram", "chat_id": "5", "reply": '{"attachments": []}', "created_at": old, "sent_at": old},
            {"channel": "telegram", "chat_id": "5", "reply": '{"attachments": []}', "created_at": old},  # unsent
        ]
    )
    assert retention.prune_traffic(store, 7) == {"inbox": 1, "outbox": 1}
    assert [r["update_key"] for r in store.db["inbox"].rows] == ["2"]
    assert [r["sent_at"] for r in store.db["outbox"].rows] == [None]
    store.close()


def test_an_edit_of_a_pruned_message_still_finds_its_consult(tmp_path):
    store = Store(tmp_path / "log.db")
    service = Service(store, admins=set())
    service.handle("telegram", "5", "pregabalin 150 bd", origin="77")
    service.handle("telegram", "5", "/restart")
    store.conn.execute("delete from inbox")
    reply = service.handle("telegram", "5", "pregabalin 300 bd", origin="77", edit=True)[0].plain()
    assert "earlier consultation, which is closed" in reply
    store.close()


def test_the_window_is_per_user_and_slides():
    t = [1000.0]
    limit = UserRateLimit(3, clock=lambda: t[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.notice("a") and limit.notice("a") is None  # one notice per window
    assert limit.allow("b")  # another user is not affected
    t[0] += 61
    assert limit.allow("a")
    # a backlog read after a restart is judged by when it was sent, not when it is read
    backlog = UserRateLimit(3, clock=lambda: 5000.0)
    assert all(backlog.allow("c", sent_at=100.0 + 30 * i) for i in range(10))


async def test_a_flooding_user_gets_one_notice_and_others_are_answered(standin: BotAPIStandIn, tg_db, monkeypatch):
    monkeypatch.setenv("NEUROLADDER_USER_MESSAGES_PER_MINUTE", "5")
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        for i in range(12):
            standin.send_text(111, f"gabapentin {300 + i} mg tds")
        standin.send_text(222, "duloxetine 60 mg for 8 weeks, no help")
        await standin.until(lambda: standin.bot_texts(222), 20, "the other clinician's answer")
        await standin.until(
            lambda: any("faster than I can read" in t for t in standin.bot_texts(111)), 20, "the notice"
        )
        await standin.until(
            lambda: query(tg_db, "select count(*) from inbox where done_at is null") == [(0,)], 20, "the inbox drained"
        )
    assert query(tg_db, "select count(*) from inbox where chat_id = '111'") == [(5,)]
    assert sum("faster than I can read" in t for t in standin.bot_texts(111)) == 1
