"""No message lost, none answered twice: kill -9 `neuroladder matrix` during a burst from two
encrypted rooms, restart it, and every message is answered exactly once."""
from __future__ import annotations

import asyncio

import nio

from matrix_helpers import until

pytest_plugins = ["matrix_fixtures"]

PER_ROOM = 12


async def _burst(clinician, room, label, sent, pause):
    for i in range(PER_ROOM):
        sent.append(await clinician.say(room, f"{label} message {i}"))
        await asyncio.sleep(pause)


def _answered(clinician, room, bot_id) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in clinician.replies(room, bot_id):
        target = ((e.source.get("content") or {}).get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
        counts[target] = counts.get(target, 0) + 1
    return counts


async def check_burst_survives_kills(synapse, clinicians, matrix_bot, fake_service: bool):
    alice, bob = await clinicians("alice"), await clinicians("bob")
    bot = await matrix_bot(allowed=[alice.user_id, bob.user_id], fake_service=fake_service).start()
    room_a = await alice.create_room(invite=[bot.user_id], name="ward A")
    room_b = await bob.create_room(invite=[bot.user_id], name="ward B")
    await alice.wait_member(room_a, bot.user_id)
    await bob.wait_member(room_b, bot.user_id)

    sent_a: list[str] = []
    sent_b: list[str] = []
    burst = asyncio.gather(_burst(alice, room_a, "alpha", sent_a, 0.02), _burst(bob, room_b, "bravo", sent_b, 0.03))
    burst = asyncio.ensure_future(burst)

    def answered_total():
        return (sum(_answered(alice, room_a, bot.user_id).values())
                + sum(_answered(bob, room_b, bot.user_id).values()))

    # First kill: in the middle of the burst, once the bot has answered a few.
    await until(lambda: answered_total() >= 3, 60, "the first answers")
    bot.kill9()
    await asyncio.sleep(0.3)
    await bot.start()
    # Second kill: soon after the restart, while it catches up.
    await until(lambda: answered_total() >= 8 or burst.done(), 60, "answers after the restart")
    bot.kill9()
    await burst
    await bot.start()

    sent = len(sent_a) + len(sent_b)
    await until(lambda: answered_total() >= sent, 90, f"answers to all {sent} messages")
    await asyncio.sleep(2)  # room for a duplicate to show up
    for clinician, room, ids in ((alice, room_a, sent_a), (bob, room_b, sent_b)):
        answered = _answered(clinician, room, bot.user_id)
        assert {i: answered.get(i, 0) for i in ids} == {i: 1 for i in ids}
        assert set(answered) <= set(ids)
        for e in clinician.replies(room, bot.user_id):
            assert isinstance(e, nio.RoomMessage) and e.decrypted, e
    bot.stop()

    # The log: every message stored once, done once, one turn each, nothing doubled, file sound.
    assert bot.query("select count(*), count(done_at) from inbox") == [(sent, sent)]
    assert bot.query("select count(*) from outbox where sent_at is null") == [(0,)]
    turns = bot.query("select inbox_id, count(*) from turns where direction = 'in' group by inbox_id")
    assert len(turns) == sent and {n for _, n in turns} == {1}
    assert bot.query("select consult_id, name, value, count(*) from facts where retracted_at is null "
                     "group by consult_id, name, value having count(*) > 1") == []
    authors = dict(bot.query("select c.chat_id, group_concat(distinct t.author) from turns t "
                             "join consults c on c.id = t.consult_id where t.direction = 'in' group by c.chat_id"))
    assert authors == {room_a: alice.user_id, room_b: bob.user_id}
    assert bot.query("pragma integrity_check") == [("ok",)]
    return bot


async def test_kill_9_during_a_burst_from_two_rooms_loses_and_doubles_nothing(synapse, clinicians, matrix_bot):
    await check_burst_survives_kills(synapse, clinicians, matrix_bot, fake_service=True)
