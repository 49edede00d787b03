"""Matrix device trust against a real Synapse: a clinician's devices seen first are pinned; a device
added later gets no readable reply until an admin approves it with /trust, and the room is told
once why replies are held back from it."""

from __future__ import annotations

import nio
import pytest
from matrix_helpers import until

pytest_plugins = ["matrix_fixtures"]
# A real Synapse (started once per session, ~10 s on a quiet machine) and the bot as a process;
# the first test to run pays for the start-up, hence the longer limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def readable(clinician, room, bot_id) -> list[str]:
    return [
        e.body for e in clinician.from_user(room, bot_id) if isinstance(e, (nio.RoomMessageText, nio.RoomMessageNotice))
    ]


async def test_a_new_device_is_held_back_until_an_admin_trusts_it(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(allowed=[alice.user_id], extra_env={"NEUROLADDER_ADMINS": alice.user_id}).start()
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_member(room, bot.user_id)
    first = await alice.say(room, "gabapentin 300 mg tid for 3 months, no help")
    await alice.wait_replies(room, bot.user_id, first)
    assert readable(alice, room, bot.user_id)  # the phone was pinned on first use

    laptop = await clinicians("alice")  # the same account, a device added later
    assert laptop.client.device_id != alice.client.device_id
    await until(lambda: room in laptop.client.rooms, 30, "the laptop to see the room")

    async def held_back_notice():
        await alice.say(room, "/summary")
        await until(lambda: len(alice.from_user(room, bot.user_id)) > 0, 5, "a reply")
        return any(
            laptop.client.device_id in body and "held back" in body for body in readable(alice, room, bot.user_id)
        )

    await until(held_back_notice, 90, "the notice that replies are held back from the new device", interval=3)
    before = len(readable(laptop, room, bot.user_id))
    assert before == 0, "the untrusted device read a reply"
    assert any(isinstance(e, nio.MegolmEvent) for e in laptop.from_user(room, bot.user_id))

    await alice.say(room, "/devices")
    await until(lambda: any("NOT trusted" in b for b in readable(alice, room, bot.user_id)), 30, "the device list")
    await alice.say(room, f"/trust {laptop.client.device_id}")
    await until(lambda: any("is now trusted" in b for b in readable(alice, room, bot.user_id)), 30, "the approval")
    after = await alice.say(room, "duloxetine 60 mg for 8 weeks, partial")
    await laptop.wait_replies(room, bot.user_id, after)
    await until(
        lambda: any("duloxetine" in b.lower() for b in readable(laptop, room, bot.user_id)),
        30,
        "a readable reply on the trusted device",
    )
    notices = [b for b in readable(alice, room, bot.user_id) if "held back" in b]
    assert len(notices) == 1  # the room is told once
    bot.stop()
    assert bot.query(
        "select trusted, decided_by from matrix_devices where device_id = ?", (laptop.client.device_id,)
    ) == [(1, alice.user_id)]
