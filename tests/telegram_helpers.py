"""Helpers for the Telegram tests: settings for the stand-in, the bot running in-process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3

from botapi_standin import BotAPIStandIn

from neuroladder.bot.channels.telegram.app import TelegramChannel
from neuroladder.bot.settings import TelegramSettings
from neuroladder.bot.storage.store import Store


def tg_settings(api: BotAPIStandIn, db_path: str, **overrides) -> TelegramSettings:
    """Settings pointing at the stand-in; flood limits as Telegram's unless overridden."""
    cfg = TelegramSettings(
        token=api.token,
        api_base_url=api.base_url,
        db_path=db_path,
        allowed_users=frozenset({111, 222, 333}),
        poll_timeout=1.0,
    )
    return dataclasses.replace(cfg, **overrides)


@contextlib.asynccontextmanager
async def running_bot(cfg: TelegramSettings, service_factory, api: BotAPIStandIn, wait_for_poll: bool = True):
    """The real TelegramChannel (PTB Application over HTTP) on this event loop until the block ends."""
    store = Store(cfg.db_path)
    channel = TelegramChannel(cfg, store, service_factory(store))
    polls = api.polls
    task = asyncio.create_task(channel.run())
    try:
        if wait_for_poll:
            await api.until(lambda: api.polls > polls or task.done(), 15, "the bot to start polling")
        if task.done():
            task.result()
        yield channel
    finally:
        channel.stop()
        await asyncio.wait_for(task, 20)
        store.close()


def query(db_path: str, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def all_handled_and_sent(api: BotAPIStandIn, db_path: str) -> None:
    """Wait until the bot has handled every stored message and sent every reply (files included)."""
    await api.until(
        lambda: (
            query(
                db_path,
                "select (select count(*) from inbox where done_at is null) + "
                "(select count(*) from outbox where sent_at is null)",
            )
            == [(0,)]
        ),
        20,
        "every reply to be sent",
    )
