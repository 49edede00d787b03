"""No message lost, none answered twice: kill -9 `neuroladder matrix` (the real consult) during a
burst from two encrypted rooms, restart it, and every message is answered exactly once."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter

import pytest
from matrix_helpers import until

from neuroladder.bot.channels.matrix.app import FAILED
from neuroladder.bot.channels.matrix.render import text_contents
from neuroladder.bot.views.reply import Reply

pytest_plugins = ["matrix_fixtures"]
# A real Synapse (started once per session, ~10 s on a quiet machine) and the bot as a process;
# the first test to run pays for the start-up, hence the longer limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOM_A = [
    "/start",
    "gabapentin 1800 mg/d x 3 mo",
    "gabapentin no benefit",
    "duloxetine 60 mg daily x 8 weeks",
    "no help",
    "pregabalin no",
    "78 years old",
    "eGFR 35",
    "/summary",
    "diffuse pain",
    "/undo",
    "/summary",
]
ROOM_B = [
    "/start",
    "pregabalin 300 mg/d for 2 months, side effects",
    "amitriptyline 25 mg for 6 weeks",
    "focal pain",
    "/why",
    "age 54",
    "lidocaine plaster no",
    "/summary",
    "capsaicin 8% no",
    "/undo",
    "B12 normal",
    "/summary",
]


async def _burst(clinician, room, texts, sent, pause):
    for text in texts:
        sent.append(await clinician.say(room, text))
        await asyncio.sleep(pause)


def _reply_to(event) -> str | None:
    return ((event.source.get("content") or {}).get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")


def _seen(clinician, room, bot_id) -> Counter:
    """(message answered, body) for every bot message the clinician received."""
    return Counter((_reply_to(e), getattr(e, "body", None)) for e in clinician.replies(room, bot_id))


def _expected(bot, room) -> Counter:
    """(message answered, body) for every message the bot's outbox holds for the room."""
    rows = bot.query(
        "select i.update_key, o.reply from outbox o join inbox i on i.id = o.inbox_id "
        "where o.chat_id = ? order by o.id",
        (room,),
    )
    out: Counter = Counter()
    for key, reply in rows:
        r = Reply.from_json(json.loads(reply))
        for content in text_contents(r, key):
            out[(key, content["body"])] += 1
        for a in r.attachments:
            out[(key, a.filename)] += 1
    return out


async def test_kill_9_during_a_burst_from_two_rooms_loses_and_doubles_nothing(synapse, clinicians, matrix_bot):
    alice, bob = await clinicians("alice"), await clinicians("bob")
    # A tiny sync timeline makes every catch-up after a kill fill its gap page by page (/messages).
    bot = await matrix_bot(
        allowed=[alice.user_id, bob.user_id], extra_env={"NEUROLADDER_MATRIX_TIMELINE_LIMIT": "3"}
    ).start()
    room_a = await alice.create_room(invite=[bot.user_id], name="ward A")
    room_b = await bob.create_room(invite=[bot.user_id], name="ward B")
    await alice.wait_member(room_a, bot.user_id)
    await bob.wait_member(room_b, bot.user_id)

    sent_a: list[str] = []
    sent_b: list[str] = []
    burst = asyncio.ensure_future(
        asyncio.gather(_burst(alice, room_a, ROOM_A, sent_a, 0.02), _burst(bob, room_b, ROOM_B, sent_b, 0.03))
    )

    def answered() -> set[str]:
        return {_reply_to(e) for e in alice.replies(room_a, bot.user_id)} | {
            _reply_to(e) for e in bob.replies(room_b, bot.user_id)
        }

    # First kill: in the middle of the burst, once the bot has answered a few.
    await until(lambda: len(answered()) >= 3, 60, "the first answers")
    bot.kill9()
    await asyncio.sleep(0.3)
    await bot.start()
    # Second kill: soon after the restart, while it catches up.
    await until(lambda: len(answered()) >= 8 or burst.done(), 60, "answers after the restart")
    bot.kill9()
    await burst
    await bot.start()

    everything = set(sent_a) | set(sent_b)
    await until(lambda: everything <= answered(), 120, f"answers to all {len(everything)} messages")
    await until(lambda: bot.query("select count(*) from outbox where sent_at is null") == [(0,)], 30, "the outbox")
    # A positive sentinel instead of a pause: one more message per room, answered. A room's replies
    # go out in order, so a duplicate of an earlier one would have reached the clinician before it.
    for clinician, room, ids in ((alice, room_a, sent_a), (bob, room_b, sent_b)):
        ids.append(await clinician.say(room, "/help"))
    for clinician, room, ids in ((alice, room_a, sent_a), (bob, room_b, sent_b)):
        await clinician.wait_replies(room, bot.user_id, ids[-1])
    await until(lambda: bot.query("select count(*) from outbox where sent_at is null") == [(0,)], 30, "the outbox")
    for clinician, room, ids in ((alice, room_a, sent_a), (bob, room_b, sent_b)):
        seen, expected = _seen(clinician, room, bot.user_id), _expected(bot, room)
        assert {key for key, _ in expected} == set(ids)
        assert seen == expected  # every reply once: none missing, none doubled
        assert not any(FAILED in (body or "") for _, body in seen)
        for e in clinician.replies(room, bot.user_id):
            assert e.decrypted, e
    bot.stop()

    # The log: every message stored once and done, one turn each, no fact doubled, the file sound.
    total = len(sent_a) + len(sent_b)
    assert bot.query("select count(*), count(done_at) from inbox") == [(total, total)]
    turns = bot.query("select inbox_id, count(*) from turns where direction = 'in' group by inbox_id")
    assert len(turns) == total and {n for _, n in turns} == {1}
    assert (
        bot.query(
            "select consult_id, name, value, count(*) from facts where retracted_at is null "
            "group by consult_id, name, value having count(*) > 1"
        )
        == []
    )
    assert (
        bot.query(
            "select consult_id, turn_id, name, count(*) from facts "
            "group by consult_id, turn_id, name having count(*) > 1"
        )
        == []
    )
    authors = dict(
        bot.query(
            "select c.chat_id, group_concat(distinct t.author) from turns t "
            "join consults c on c.id = t.consult_id where t.direction = 'in' group by c.chat_id"
        )
    )
    assert authors == {room_a: alice.user_id, room_b: bob.user_id}
    assert bot.query("pragma integrity_check") == [("ok",)]
    # One device through all three runs: its keys were kept in --store, so it read every message.
    devices = re.findall(r"logged in as \S+ \(device (\w+)\)", bot.logs())
    assert len(devices) == 3 and len(set(devices)) == 1, devices
