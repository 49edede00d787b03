"""A whole consultation in an end-to-end encrypted Matrix room: two clinicians, the real
`neuroladder matrix` with the real consult, a real Synapse that only ever sees ciphertext."""

from __future__ import annotations

import re

import nio
import pytest
from matrix_helpers import until
from nio.crypto.attachments import decrypt_attachment

pytest_plugins = ["matrix_fixtures"]
# A real Synapse (started once per session, ~10 s on a quiet machine) and the bot as a process;
# the first test to run pays for the start-up, hence the longer limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEYCAP_1 = "1\ufe0f\u20e3"


def _bodies(events) -> str:
    return "\n".join(e.body for e in events if isinstance(e, nio.RoomMessage) and hasattr(e, "body"))


async def test_two_clinicians_consult_in_an_encrypted_room(synapse, clinicians, matrix_bot):
    alice, bob = await clinicians("alice"), await clinicians("bob")
    bot = await matrix_bot(allowed=[alice.user_id, bob.user_id]).start()
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    await bob.join(room)
    await alice.wait_member(room, bot.user_id)
    await alice.wait_member(room, bob.user_id)
    await bob.wait_member(room, bot.user_id)

    async def turn(who, text, expect: str):
        event_id = await who.say(room, text)
        await until(
            lambda: expect in _bodies(who.replies(room, bot.user_id, event_id)),
            60,
            f"{expect!r} in the answer to {text!r}",
        )
        return who.replies(room, bot.user_id, event_id)

    # Alice opens; the question comes with numbered choices (HTML list beside the plain body).
    [welcome] = [e for e in await turn(alice, "/start", "1. Yes") if "1. Yes" in e.body]
    assert welcome.decrypted and welcome.source["content"]["format"] == "org.matrix.custom.html"
    assert "<ol><li>Yes</li>" in welcome.formatted_body
    # Bob answers by number, Alice by free text.
    await turn(bob, "1", "Noted: gabapentin tried")
    # (doses a day, weeks and weeks at the maximum given too: the intake asks for each [L4])
    effect = await turn(alice, "gabapentin 600 mg tid x 3 mo incl 8 weeks at max", "1. No benefit")
    [menu] = [e for e in effect if "1. No benefit" in e.body]
    # Bob answers the effect question by reacting with 1️⃣ (an encrypted reaction).
    reaction = await bob.react(room, menu.event_id, KEYCAP_1)
    await until(
        lambda: "Noted: gabapentin no benefit" in _bodies(bob.replies(room, bot.user_id, reaction)),
        60,
        "the reaction's answer",
    )
    # Alice answers by the choice's text, Bob types several facts at once.
    await turn(alice, "No", "pregabalin")
    await turn(bob, "duloxetine 60 mg daily for 8 weeks, no help", "Noted: duloxetine 60 mg/day")

    summary = _bodies(await turn(alice, "/summary", "Consult summary"))
    assert "gabapentin 1800 mg/day" in summary and "duloxetine 60 mg/day" in summary
    assert re.search(r"\((Safety|Before escalating|First line|Second line|Step \d)[^)]*\)", summary), (
        summary
    )  # the step
    assert re.search(r"\[\d+(, \d+)*\]", summary), summary  # the numbered sources
    # Bob saw the same conversation (the bot shared its keys with both clinicians).
    await until(lambda: "Consult summary" in _bodies(bob.from_user(room, bot.user_id)), 30, "bob to see it")

    ladder = await alice.say(room, "/ladder")
    await until(
        lambda: any(isinstance(e, nio.RoomEncryptedImage) for e in alice.replies(room, bot.user_id, ladder)),
        60,
        "the ladder picture",
    )
    [image] = [e for e in alice.replies(room, bot.user_id, ladder) if isinstance(e, nio.RoomEncryptedImage)]
    download = await alice.client.download(image.url)
    png = decrypt_attachment(download.body, image.key["k"], image.hashes["sha256"], image.iv)
    assert png.startswith(b"\x89PNG")
    export = await bob.say(room, "/export")
    await until(
        lambda: any(isinstance(e, nio.RoomEncryptedFile) for e in bob.replies(room, bot.user_id, export)),
        60,
        "the exported note",
    )
    [note] = [e for e in bob.replies(room, bot.user_id, export) if isinstance(e, nio.RoomEncryptedFile)]
    download = await bob.client.download(note.url)
    text = decrypt_attachment(download.body, note.key["k"], note.hashes["sha256"], note.iv).decode()
    assert "gabapentin 1800 mg/day" in text
    assert bot.stop() == 0  # SIGTERM: a clean stop

    # The room owns one consult; each turn records the member who wrote it.
    rows = bot.query(
        "select c.chat_id, t.author, t.text from turns t join consults c on c.id = t.consult_id "
        "where t.direction = 'in' order by t.id"
    )
    assert {r[0] for r in rows} == {room}
    assert [(r[1], r[2]) for r in rows] == [
        (alice.user_id, "/start"),
        (bob.user_id, "gabapentin yes"),
        (alice.user_id, "gabapentin 600 mg tid x 3 mo incl 8 weeks at max"),
        (bob.user_id, "gabapentin no benefit"),
        (alice.user_id, "pregabalin no"),
        (bob.user_id, "duloxetine 60 mg daily for 8 weeks, no help"),
        (alice.user_id, "/summary"),
        (alice.user_id, "/ladder"),
        (bob.user_id, "/export"),
    ]
    assert (
        bot.query(
            "select consult_id, name, count(*) from facts where retracted_at is null "
            "group by consult_id, name having count(*) > 1"
        )
        == []
    )

    # The homeserver holds no plaintext of the consultation: only m.room.encrypted messages.
    stored = synapse.database_bytes()
    for words in (
        "gabapentin",
        "duloxetine",
        "pregabalin",
        "no help",
        "Consult summary",
        "Noted:",
        "neuroladder-ladder",
        "neuroladder-note",
    ):
        assert words.encode() not in stored, f"{words!r} is readable in the homeserver's database"
    types = {t for (t,) in synapse.query("select type from events where room_id = ? and state_key is null", (room,))}
    assert types == {"m.room.encrypted"}, types


async def test_an_edited_message_is_read_as_a_correction(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(allowed=[alice.user_id]).start()
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_member(room, bot.user_id)
    typed = await alice.say(room, "gabapentin 300 mg tid for 3 months")
    await until(lambda: "900 mg/day" in _bodies(alice.replies(room, bot.user_id, typed)), 60, "the first answer")
    edit = await alice.edit(room, typed, "gabapentin 600 mg tid for 3 months")
    await until(
        lambda: (
            "Changed: gabapentin 900 mg/day -> gabapentin 1800 mg/day"
            in _bodies(alice.replies(room, bot.user_id, edit))
        ),
        60,
        "the correction",
    )
    assert bot.stop() == 0
    assert bot.query("select value from facts where name = 'trial.gabapentin.dose' and retracted_at is null") == [
        ("1800",)
    ]
