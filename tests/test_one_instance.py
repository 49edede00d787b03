"""One running bot per log and per bot account.

A second `neuroladder run` on the same log exits at once with one line naming the first one's
pid (an OS lock, released on kill -9); a Telegram 409 Conflict (another process polling with the
same token) stops the older poller with one line instead of two processes splitting the updates.
"""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from botapi_standin import BotAPIStandIn
from telegram_fake_service import FakeService
from telegram_helpers import running_bot, tg_settings

from neuroladder.bot.channels.telegram.app import StartupError
from neuroladder.bot.storage.instance import AlreadyRunning, InstanceLock, held_by_another


def test_the_lock_names_the_holder_and_frees_on_release(tmp_path):
    db = tmp_path / "log.db"
    first = InstanceLock(db).acquire()
    with pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()}"):
        InstanceLock(db).acquire()
    assert held_by_another(db)
    first.release()
    assert not held_by_another(db)
    InstanceLock(db).acquire().release()


def run_cmd(db: Path) -> list[str]:
    script = Path(sys.executable).with_name("neuroladder")
    return ([str(script)] if script.exists() else [sys.executable, "-m", "neuroladder.bot.cli.main"]) + [
        "run",
        "--db",
        str(db),
        "--poll-timeout",
        "1",
    ]


@pytest.mark.slow
def test_a_second_run_on_the_same_log_exits_at_once_and_a_kill_9_frees_the_lock(tmp_path):
    db = tmp_path / "bot.db"
    with BotAPIStandIn() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url, NEUROLADDER_ALLOWED_USERS="1")
        first = subprocess.Popen(
            run_cmd(db), env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            api.wait_until(lambda: api.polls > 0 or first.poll() is not None, 30, "the first bot to poll")
            second = subprocess.run(run_cmd(db), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
            assert second.returncode != 0
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and "already running" in lines[0], lines
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            assert not held_by_another(db)  # the kernel released the lock with the killed process
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(10)


async def test_a_409_conflict_stops_the_older_poller_with_one_line(standin: BotAPIStandIn, tg_db):
    with pytest.raises(StartupError, match="another instance is polling this bot"):
        async with running_bot(tg_settings(standin, tg_db), FakeService, standin) as channel:

            def other_instance_polls() -> None:
                url = f"{standin.base_url}{standin.token}/getUpdates?timeout=1"
                with urllib.request.urlopen(url, timeout=10) as response:
                    json.loads(response.read())

            await asyncio.to_thread(other_instance_polls)
            deadline = time.monotonic() + 10
            while not channel.stopped.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
