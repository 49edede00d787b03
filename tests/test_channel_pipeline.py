"""What every channel shares (bot/channels/pipeline.py): the retry pacing, 1, 2, 4 ... seconds up to a cap, and the order of a chat worker's steps.

An operator sees it in the log ("retrying in 4 s") when the homeserver or the Bot API is down.
Not timed: a set stop event ends each wait at once, and the delays are read, not measured.
"""

from __future__ import annotations

import asyncio

from neuroladder.bot.channels.pipeline import Backoff, chat_worker


async def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success():
    stop = asyncio.Event()
    stop.set()
    backoff = Backoff(first=1.0, cap=8.0)
    seen = []
    for _ in range(5):
        seen.append(backoff.delay)
        await backoff.wait(stop=stop)
    assert seen == [1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.delay == 1.0


async def test_a_servers_retry_after_is_waited_instead_and_still_counts_as_a_failure():
    stop = asyncio.Event()
    stop.set()
    backoff = Backoff()
    await backoff.wait(120.0, stop=stop)  # ends at once: the stop event is set
    assert backoff.delay == 2.0


async def test_a_chat_worker_does_its_housekeeping_only_after_the_last_reply_is_out():
    rows, events = [{"id": 1}, {"id": 2}], []

    async def flush():
        events.append("flush")

    async def process(row):
        events.append(f"turn {row['id']}")
        rows.pop(0)

    await chat_worker(flush, lambda: rows[0] if rows else None, process, idle=lambda: events.append("idle"))
    assert events == ["flush", "turn 1", "flush", "turn 2", "flush", "idle"]
