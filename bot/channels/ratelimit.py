"""A per-user message budget, so one sender's flood cannot crowd out the rest of the team.

A sliding window: at most `per_minute` messages from one user in any 60 seconds of *sending* time
(the channel's timestamp of each message, so a backlog read after a restart is not mistaken for a
flood). Past that, the message is not read or stored, and the sender gets one notice per window
saying so, so nothing is lost silently: they know to send it again.
"""

from __future__ import annotations

import os
import time
from collections import deque

WINDOW = 60.0
DEFAULT_PER_MINUTE = 30
ENV = "NEUROLADDER_USER_MESSAGES_PER_MINUTE"
NOTICE = (
    "You are sending messages faster than I can read them carefully ({limit} a minute), so I have not "
    "read the last one(s). Please wait a moment and send them again."
)


class UserRateLimit:
    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, clock=time.time):
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[str, deque] = {}
        self.noticed: dict[str, float] = {}

    @classmethod
    def from_env(cls, environ=None) -> UserRateLimit:
        """The budget in NEUROLADDER_USER_MESSAGES_PER_MINUTE (default 30). A malformed value is a
        ValueError naming the variable (the channels check it at start-up): never silently 30."""
        raw = (environ if environ is not None else os.environ).get(ENV, "").strip()
        if not raw:
            return cls(DEFAULT_PER_MINUTE)
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{ENV} must be a whole number of messages from 1 up, not {raw!r}")
        return cls(int(raw))

    def allow(self, user: str, sent_at: float | None = None) -> bool:
        """Count one message from `user` sent at `sent_at` (seconds; default: now); False when it
        is over the budget."""
        now = self.clock() if sent_at is None else sent_at
        times = self.seen.setdefault(user, deque())
        while times and abs(now - times[0]) >= WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        if len(self.seen) > 10_000:  # forget idle senders: memory stays bounded
            for key in [k for k, v in self.seen.items() if not v or abs(now - v[-1]) >= WINDOW]:
                self.seen.pop(key, None)
                self.noticed.pop(key, None)
        return True

    def notice(self, user: str) -> str | None:
        """The notice for a refused message: once per window per user, else None."""
        now = self.clock()
        last = self.noticed.get(user)
        if last is not None and now - last < WINDOW:
            return None
        self.noticed[user] = now
        return NOTICE.format(limit=self.per_minute)
