"""What every chat channel does with a stored message, written once for Telegram and Matrix.

    inbox row -> Service.handle -> outbox rows + inbox row done (one transaction) -> send

A channel adapter only receives (commits what arrives to the inbox), renders and sends (one
outbox row at a time); the pieces here are the rest:

- `answer_turn`: the consult turn, its replies and the inbox mark commit together, so a crash
  either loses the whole turn (the inbox row is handled again at start-up) or none of it;
- `answer_without_turn`: an inbox row that is no turn (a stale button, a picture) is marked done,
  with the notice it gets if any;
- `chat_worker`: one chat's messages in order: send what is unsent, handle the next row, again;
  a failure (the database is locked, the server is down) retries the same row after a backoff;
- `Backoff`: 1, 2, 4 ... seconds up to a cap between two attempts, for every retry loop;
- `tune_collector`: the garbage collector set for a long-running bot, once after start-up.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from neuroladder.bot.views.reply import Reply

log = logging.getLogger("neuroladder.channels")


class Backoff:
    """The wait between two attempts: `first` seconds, doubled after each wait up to `cap`."""

    def __init__(self, first: float = 1.0, cap: float = 30.0):
        self.first = first
        self.cap = cap
        self.delay = first

    def reset(self) -> None:
        """After a success: the next failure waits `first` seconds again."""
        self.delay = self.first

    async def wait(self, seconds: float | None = None, stop: asyncio.Event | None = None) -> None:
        """Sleep the current delay (or `seconds`, e.g. a server's retry_after), ending early when
        `stop` is set; then the next delay doubles."""
        pause = self.delay if seconds is None else seconds
        self.delay = min(self.delay * 2, self.cap)
        if stop is None:
            await asyncio.sleep(pause)
            return
        try:
            await asyncio.wait_for(stop.wait(), pause)
        except TimeoutError:
            pass


def answer_turn(store, service, channel: str, chat_id: str, text: str, inbox_id: int, failed: str, **turn: Any) -> None:
    """Run the consult turn for an inbox row: its replies become outbox rows and the row is marked
    done in the same transaction. If the turn fails, the sender is told `failed` instead (and the
    row is done: a message that breaks the consult must not block the chat)."""
    try:
        with store.transaction():
            replies = service.handle(channel, chat_id, text, inbox_id=inbox_id, **turn)
            for reply in replies:
                store.outbox_add(channel, chat_id, reply.to_json(), inbox_id)
            store.inbox_done(inbox_id)
    except Exception:
        log.exception("handling a message failed; the sender was asked to send it again")
        answer_without_turn(store, channel, chat_id, inbox_id, failed)


def answer_without_turn(store, channel: str, chat_id: str, inbox_id: int, notice: str | None = None) -> None:
    """Mark an inbox row that is no consult turn done, with its transport notice if it gets one."""
    with store.transaction():
        if notice:
            store.outbox_add(channel, chat_id, Reply().add(notice).to_json(), inbox_id)
        store.inbox_done(inbox_id)


async def chat_worker(
    flush: Callable[[], Awaitable[None]],
    next_row: Callable[[], dict | None],
    process: Callable[[dict], Awaitable[None]],
    cap: float = 60.0,
    idle: Callable[[], object] | None = None,
) -> None:
    """One chat's loop until it has nothing left: send its unsent replies (those a crash left go
    first), then handle its next inbox row; when none is left, `idle` (the log's checkpoint). On
    an error the same row is tried again after a backoff, so the chat's order is kept."""
    backoff = Backoff(cap=cap)
    while True:
        try:
            await flush()
            row = next_row()
            if row is None:
                if idle is not None:
                    idle()  # housekeeping after the replies are out, never in front of one
                return
            await process(row)
            backoff.reset()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a chat's message could not be handled; retrying in %.0f s", backoff.delay)
            await backoff.wait()


def tune_collector() -> None:
    """Python's cyclic garbage collector, set for a long-running bot: `neuroladder run` and
    `neuroladder matrix` call it once, after start-up.

    What start-up made (the rules, the lexicons, the channel library's classes: ~85,000 objects)
    lives as long as the process: frozen, a full collection no longer walks it. A turn frees nearly everything it
    allocates by reference counting, so the youngest generation is collected after 10,000 net
    allocations instead of 700 (cyclic garbage stays bounded by that). Under bench/e2e.py's load the
    collector took ~4% of the bot's CPU before, next to none after (bench/README.md).
    """
    gc.freeze()
    gc.set_threshold(10_000)
