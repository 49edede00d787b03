"""kill -9 of the bot process in the middle of a burst, then restarts: nothing lost, nothing doubled.

The bot runs as a real process (`neuroladder run`, the real consult engine) against the Bot API
stand-in and a real SQLite file; Telegram's flood limits are on, so the burst takes long enough
to be interrupted. The facts it ends with are compared with the same messages handled without
a crash.
"""

from __future__ import annotations

pytest_plugins = ["telegram_fixtures"]

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from botapi_standin import BotAPIStandIn, parse_html

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.bot.views.reply import Reply

CHATS = list(range(2001, 2021))  # 20 clinicians in private chats
MESSAGES = [
    "/start",
    "gabapentin 600 mg tid for 3 months, no help",
    "No",
    "duloxetine 60 mg for 3 months no help",
    "No",
    "No",
    "Diffuse",
    "72 yo",
    "eGFR 50",
    "No diabetes",
]  # 10 per chat, 200 in all
SCRIPT = Path(sys.executable).with_name("neuroladder")


def bot_command(db: str) -> list[str]:
    entry = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neuroladder.bot.cli.main"]
    return entry + ["run", "--db", db, "--poll-timeout", "1"]


def start_bot(api: BotAPIStandIn, db: str, log, allowed: list[int]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        NEUROLADDER_ALLOWED_USERS=",".join(map(str, allowed)),
        PYTHONUNBUFFERED="1",
    )
    polls = api.polls
    proc = subprocess.Popen(bot_command(db), env=env, cwd=Path(db).parent, stdout=log, stderr=subprocess.STDOUT)
    api.wait_until(lambda: api.polls > polls or proc.poll() is not None, 30, "the bot process to poll")
    assert proc.poll() is None, "the bot process exited at start"
    return proc


def sends(api: BotAPIStandIn) -> int:
    return len([c for c in api.calls_of("sendMessage") if not c["error"]])


@pytest.mark.slow
@pytest.mark.timeout(300)  # starts the bot three times and waits for a burst to be answered
def test_kill_9_during_a_burst_loses_and_doubles_nothing(standin: BotAPIStandIn, tmp_path):
    db = str(tmp_path / "crash.db")
    log_path = tmp_path / "bot.log"
    for chat in CHATS:
        standin.chat(chat)
    with open(log_path, "wb") as log:
        proc = start_bot(standin, db, log, CHATS)
        try:
            sent = {}
            for text in MESSAGES:  # the burst: round-robin over the chats, all at once
                for chat in CHATS:
                    sent[(chat, standin.send_text(chat, text)["message_id"])] = text
            for kill_at in (50, 120):  # two kill -9, each in the middle of the burst
                standin.wait_until(lambda kill_at=kill_at: sends(standin) >= kill_at, 60, f"{kill_at} replies")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                done = sqlite3.connect(db).execute("select count(*) from inbox where done_at is not null").fetchone()[0]
                assert done < len(sent), "the kill came too late to interrupt the burst"
                print(f"kill -9 after {sends(standin)} replies, {done} of {len(sent)} messages done")
                proc = start_bot(standin, db, log, CHATS)
            standin.wait_until(lambda: _all_answered(db, len(sent)), 120, "every message to be answered")
            standin.wait_until(lambda: _all_delivered(standin, db), 60, "every reply to be delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(20) == 0, "the bot did not stop cleanly on SIGTERM"
            finally:
                if proc.poll() is None:
                    proc.kill()

    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    # every one of the 200 messages was stored once and processed once
    stored = {(int(r[0]), json.loads(r[1])["message_id"]) for r in conn.execute("select chat_id, payload from inbox")}
    assert stored == set(sent)
    assert conn.execute("select count(*) from inbox").fetchone() == (len(sent),)
    per_update = conn.execute(
        "select inbox_id, count(*) from turns where direction = 'in' group by inbox_id"
    ).fetchall()
    assert len(per_update) == len(sent) and all(n == 1 for _, n in per_update)
    # no fact asserted twice: none from one update twice, none live twice in a consult, and the
    # facts are exactly those of the same conversation handled without a crash
    reference = _reference_facts()
    assert (
        conn.execute(
            "select f.name, t.inbox_id, count(*) from facts f join turns t on t.id = f.turn_id "
            "group by f.name, t.inbox_id having count(*) > 1"
        ).fetchall()
        == []
    )
    assert (
        conn.execute(
            "select consult_id, name, count(*) from facts where retracted_at is null "
            "group by consult_id, name having count(*) > 1"
        ).fetchall()
        == []
    )
    for chat in CHATS:
        assert _live_facts(conn, chat) == reference, f"chat {chat}: facts differ from an uninterrupted run"
    # each chat saw its replies in the order they were made
    for chat in CHATS:
        expected = _outbox_texts(conn, chat)
        shown = standin.bot_texts(chat)
        assert _is_subsequence(expected, shown), f"chat {chat}: replies missing or out of order"
        # a reply may be re-sent once if the kill fell between sending it and marking it sent
        assert len(shown) - len(expected) <= 2, f"chat {chat}: {len(shown) - len(expected)} replies repeated"
    # the only refusal: the killed process's dangling long poll, ended when the new one polled
    assert [c for c in standin.errors() if not c["error"].startswith("Conflict")] == []
    output = log_path.read_text(errors="replace")
    assert standin.token not in output and standin.token.split(":")[1] not in output
    assert "Traceback" not in output
    for path in Path(db).parent.glob("crash.db*"):  # the database, its WAL and shared memory
        assert standin.token.split(":")[1].encode() not in path.read_bytes()
    assert not [t for c in CHATS for t in standin.bot_texts(c) if "something went wrong" in t]


def _live_facts(conn: sqlite3.Connection, chat) -> list[tuple]:
    return conn.execute(
        "select f.name, f.value from facts f join consults c on c.id = f.consult_id "
        "where c.chat_id = ? and f.retracted_at is null order by f.name, f.value",
        [str(chat)],
    ).fetchall()


def _reference_facts() -> list[tuple]:
    store = Store(":memory:")
    try:
        service = Service(store)
        for text in MESSAGES:
            service.handle("telegram", "1", text, author="1", inbox_id=None)
        return _live_facts(store.conn, "1")
    finally:
        store.close()


def _all_answered(db: str, n: int) -> bool:
    conn = sqlite3.connect(db)
    try:
        done = conn.execute("select count(*) from inbox where done_at is not null").fetchone()[0]
        unsent = conn.execute("select count(*) from outbox where sent_at is null").fetchone()[0]
        return done == n and unsent == 0
    finally:
        conn.close()


def _outbox_texts(conn: sqlite3.Connection, chat: int) -> list[str]:
    texts = []
    for (reply,) in conn.execute("select reply from outbox where chat_id = ? order by id", [str(chat)]):
        texts.extend(parse_html(chunk) for chunk in Reply.from_json(json.loads(reply)).html_chunks(3900))
    return texts


def _all_delivered(api: BotAPIStandIn, db: str) -> bool:
    conn = sqlite3.connect(db)
    try:
        return all(Counter(api.bot_texts(c)) >= Counter(_outbox_texts(conn, c)) for c in CHATS)
    finally:
        conn.close()


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)
