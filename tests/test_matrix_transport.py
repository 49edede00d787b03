"""The Matrix channel's transport against a real Synapse, with a stand-in consult (echo).

The consultation itself is tested in test_matrix_consult.py; here: encryption, choices by
number/text/reaction, the picture, invites, unencrypted rooms, credentials.
"""

from __future__ import annotations

import os
import subprocess

import nio
import pytest
from matrix_fake_bot import PNG
from matrix_helpers import bot_command, until
from nio.crypto.attachments import decrypt_attachment

from neuroladder.bot.channels.matrix.app import FAILED, UNDECRYPTABLE

pytest_plugins = ["matrix_fixtures"]
# A real Synapse (started once per session, ~10 s on a quiet machine) and the bot as a process;
# the first test to run pays for the start-up, hence the longer limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


async def test_encrypted_round_trip_with_choices_reaction_and_picture(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(allowed=[alice.user_id], fake_service=True).start()
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_member(room, bot.user_id)

    first = await alice.say(room, "duloxetine <60 mg> & gabapentin")
    [reply] = await alice.wait_replies(room, bot.user_id, first)
    assert isinstance(reply, nio.RoomMessageNotice) and reply.decrypted
    assert reply.body == "echo: duloxetine <60 mg> & gabapentin"
    assert reply.source["content"]["format"] == "org.matrix.custom.html"
    assert reply.formatted_body == "echo: <b>duloxetine &lt;60 mg&gt; &amp; gabapentin</b>"

    ask = await alice.say(room, "/choices")
    [menu] = await alice.wait_replies(room, bot.user_id, ask)
    assert menu.body == "Pick one:\n\n1. Yes\n2. No"
    assert "<ol><li>Yes</li><li>No</li></ol>" in menu.formatted_body

    by_number = await alice.say(room, "2")
    assert (await alice.wait_replies(room, bot.user_id, by_number))[0].body == "echo: no"
    ask = await alice.say(room, "/choices")
    await alice.wait_replies(room, bot.user_id, ask)
    by_text = await alice.say(room, "yes")
    assert (await alice.wait_replies(room, bot.user_id, by_text))[0].body == "echo: yes"
    by_reaction = await alice.react(room, menu.event_id, "2\ufe0f\u20e3")
    assert (await alice.wait_replies(room, bot.user_id, by_reaction))[0].body == "echo: no"

    ask = await alice.say(room, "/picture")
    replies = await alice.wait_replies(room, bot.user_id, ask, count=2)
    [image] = [r for r in replies if isinstance(r, nio.RoomEncryptedImage)]
    assert image.mimetype == "image/png"
    assert image.source["content"]["info"]["w"] == 1
    download = await alice.client.download(image.url)
    assert isinstance(download, nio.DownloadResponse), download
    plain = decrypt_attachment(download.body, image.key["k"], image.hashes["sha256"], image.iv)
    assert plain == PNG

    # Each turn recorded with its author, in one consult for the room.
    rows = bot.query(
        "select c.chat_id, t.author, t.text from turns t join consults c on c.id = t.consult_id "
        "where t.direction = 'in' order by t.id"
    )
    assert {r[0] for r in rows} == {room}
    assert [r[2] for r in rows] == [
        "duloxetine <60 mg> & gabapentin",
        "/choices",
        "no",
        "/choices",
        "yes",
        "no",
        "/picture",
    ]
    assert {r[1] for r in rows} == {alice.user_id}
    assert bot.user_id in alice.typing.get(room, set()), "no typing notice while the bot worked"

    # A consult that fails gets a plain apology (the traceback stays in the operator's log).
    bot.tracebacks_expected = True
    boom = await alice.say(room, "/boom")
    [sorry] = await alice.wait_replies(room, bot.user_id, boom)
    assert sorry.body == FAILED
    after = await alice.say(room, "still there?")
    assert (await alice.wait_replies(room, bot.user_id, after))[0].body == "echo: still there?"

    # The homeserver only ever saw ciphertext.
    stored = synapse.database_bytes()
    for words in ("duloxetine", "gabapentin", "Pick one", "ladder.png"):
        assert words.encode() not in stored, f"{words!r} is in the homeserver's database"
    types = {t for (t,) in synapse.query("select type from events where room_id = ? and state_key is null", (room,))}
    assert types == {"m.room.encrypted"}


async def test_invite_from_user_not_allowed_is_declined_and_nothing_stored(synapse, clinicians, matrix_bot):
    alice, mallory = await clinicians("alice"), await clinicians("mallory")
    bot = await matrix_bot(allowed=[alice.user_id], fake_service=True).start()
    room = await mallory.create_room(invite=[bot.user_id], name="mallory's secret room")
    await mallory.wait_member(room, bot.user_id, "leave")
    # An allowed invite after it still works: the bot is alive and the bad invite did not stop it.
    ok_room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_member(ok_room, bot.user_id)
    bot.stop()
    stored = b"".join(p.read_bytes() for p in bot.workdir.glob("bot.db*"))
    stored += b"".join(p.read_bytes() for p in bot.store_dir.rglob("*") if p.is_file())
    for trace in (room, mallory.user_id, "mallory's secret room"):
        assert trace.encode() not in stored, f"{trace} was stored"
    assert bot.query("select count(*) from inbox")[0][0] == 0


async def test_a_stranger_inside_an_allowed_room_is_not_consulted_and_nothing_of_theirs_is_kept(
    synapse, clinicians, matrix_bot
):
    """Alice (allowed) invites the bot and mallory (not allowed) into one room: mallory's messages get
    no consultation, no turn and no inbox row; the room is told once; alice is answered as usual."""
    alice, mallory = await clinicians("alice"), await clinicians("mallory")
    bot = await matrix_bot(allowed=[alice.user_id], fake_service=True).start()
    room = await alice.create_room(invite=[bot.user_id, mallory.user_id])
    await alice.wait_member(room, bot.user_id)
    await mallory.join(room)
    await alice.wait_member(room, mallory.user_id)
    await mallory.say(room, "mallory wants a consult: pregabalin 300 bd")
    await mallory.say(room, "/summary")
    await until(lambda: alice.from_user(room, bot.user_id), 60, "the notice about a stranger")
    first = await alice.say(room, "hello from alice")
    await alice.wait_replies(room, bot.user_id, first)  # a positive sentinel: alice's turn came after
    bot.stop()
    notices = [
        e
        for e in alice.from_user(room, bot.user_id)
        if isinstance(e, nio.RoomMessage) and "not on NeuroLadder's allowlist" in e.body
    ]
    assert len(notices) == 1
    assert bot.query("select count(*) from inbox where payload like ?", ("%mallory%",)) == [(0,)]
    assert bot.query("select count(*) from turns where author like ?", ("%mallory%",)) == [(0,)]
    assert bot.query("select count from refusals where channel = 'matrix'")[0][0] >= 2
    stored = b"".join(p.read_bytes() for p in bot.workdir.glob("bot.db*"))
    for trace in (mallory.user_id, "pregabalin 300 bd"):
        assert trace.encode() not in stored, f"{trace} was stored"


async def test_unencrypted_room_gets_the_refusal_once(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(allowed=[alice.user_id], fake_service=True).start()
    room = await alice.create_room(invite=[bot.user_id], encrypted=False)
    sentinel_room = await alice.create_room(invite=[bot.user_id])  # encrypted: the bot answers here
    await alice.wait_member(room, bot.user_id)
    await alice.wait_member(sentinel_room, bot.user_id)
    await alice.say(room, "words in an open room")  # (other tests look for clinical words on the server)
    await alice.say(room, "/summary")
    await until(lambda: alice.from_user(room, bot.user_id), 30, "the refusal")
    await alice.say(room, "/help")
    # A positive sentinel instead of a pause: the bot has read "/help" once it answers a message
    # sent after it (it stores a room's events, and any refusal for them, in the sync that brings them).
    later = await alice.say(sentinel_room, "sent after /help")
    await alice.wait_replies(sentinel_room, bot.user_id, later)
    [refusal] = [e for e in alice.from_user(room, bot.user_id) if isinstance(e, nio.RoomMessage)]
    assert "not end-to-end encrypted" in refusal.body
    bot.stop()
    assert [e for e in alice.from_user(room, bot.user_id) if isinstance(e, nio.RoomMessage)] == [refusal]
    assert bot.query("select count(*) from outbox where chat_id = ?", (room,)) == [(1,)]  # none still queued
    assert bot.query("select count(*) from inbox where chat_id = ?", (room,)) == [(0,)]
    assert bot.query("select count(*) from consults where chat_id = ?", (room,)) == [(0,)]
    assert bot.query(
        "select count(*) from turns t join consults c on c.id = t.consult_id where c.chat_id = ?", (room,)
    ) == [(0,)]
    assert bot.query("select count from refusals where channel = 'matrix'") == [(1,)]


async def test_a_message_the_bot_cannot_decrypt_gets_a_notice_and_the_room_goes_on(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(
        allowed=[alice.user_id], fake_service=True, extra_env={"NEUROLADDER_MATRIX_KEY_GRACE": "2"}
    ).start()
    # Talk in the room before the bot is invited: history the bot has no keys for, and ignores.
    room = await alice.create_room(invite=[])
    before = await alice.say(room, "said before the bot came")
    assert isinstance(await alice.client.room_invite(room, bot.user_id), nio.RoomInviteResponse)
    await alice.wait_member(room, bot.user_id)
    first = await alice.say(room, "hello")
    await alice.wait_replies(room, bot.user_id, first)
    # Alice withholds the room key from the bot's device, as a client with a stale device list would.
    [device] = alice.client.device_store.active_user_devices(bot.user_id)
    alice.client.blacklist_device(device)
    locked = await alice.say(room, "you cannot read this")
    [notice] = await alice.wait_replies(room, bot.user_id, locked, timeout=30)
    assert notice.body == UNDECRYPTABLE
    alice.client.unblacklist_device(device)
    again = await alice.say(room, "and now?")
    assert (await alice.wait_replies(room, bot.user_id, again))[0].body == "echo: and now?"
    assert [t for (t,) in bot.query("select text from turns where direction = 'in' order by id")] == [
        "hello",
        "and now?",
    ]
    assert alice.replies(room, bot.user_id, before) == []
    assert bot.query("select count(*) from inbox where update_key = ?", (before,)) == [(0,)]


async def test_access_token_login_keeps_its_device_across_restarts(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = matrix_bot(allowed=[alice.user_id], fake_service=True)
    device_id = await bot.use_access_token()
    await bot.start()
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_member(room, bot.user_id)
    first = await alice.say(room, "one")
    assert (await alice.wait_replies(room, bot.user_id, first))[0].body == "echo: one"
    assert bot.stop() == 0
    await bot.start()
    second = await alice.say(room, "two")
    assert (await alice.wait_replies(room, bot.user_id, second))[0].body == "echo: two"
    assert bot.logs().count(f"(device {device_id})") == 2


async def test_allow_unencrypted_answers_in_a_plain_room(synapse, clinicians, matrix_bot):
    alice = await clinicians("alice")
    bot = await matrix_bot(allowed=[alice.user_id], fake_service=True, extra_args=("--allow-unencrypted",)).start()
    room = await alice.create_room(invite=[bot.user_id], encrypted=False)
    await alice.wait_member(room, bot.user_id)
    ask = await alice.say(room, "hello")
    [reply] = await alice.wait_replies(room, bot.user_id, ask)
    assert reply.body == "echo: hello"


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "MATRIX_HOMESERVER is not set"),
        ({"MATRIX_HOMESERVER": "URL"}, "MATRIX_USER_ID is not set"),
        ({"MATRIX_HOMESERVER": "URL", "MATRIX_USER_ID": "@x:localhost"}, "set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN"),
        (
            {"MATRIX_HOMESERVER": "URL", "MATRIX_USER_ID": "@x:localhost", "MATRIX_PASSWORD": "pw-789"},
            "NEUROLADDER_ALLOWED_USERS holds no Matrix id",
        ),
        (
            {
                "MATRIX_HOMESERVER": "URL",
                "MATRIX_USER_ID": "@alice:localhost",
                "MATRIX_PASSWORD": "wrong-pass-123",
                "NEUROLADDER_ALLOWED_USERS": "@bob:localhost",
            },
            "login to URL as @alice:localhost failed",
        ),
        (
            {
                "MATRIX_HOMESERVER": "URL",
                "MATRIX_USER_ID": "@alice:localhost",
                "MATRIX_ACCESS_TOKEN": "syt_bogus_456",
                "NEUROLADDER_ALLOWED_USERS": "@bob:localhost",
            },
            "the homeserver refused MATRIX_ACCESS_TOKEN",
        ),
        (
            {
                "MATRIX_HOMESERVER": "http://127.0.0.1:9",
                "MATRIX_USER_ID": "@alice:localhost",
                "MATRIX_PASSWORD": "pw-789",
                "NEUROLADDER_ALLOWED_USERS": "@bob:localhost",
            },
            "cannot reach the homeserver",
        ),
    ],
)
def test_missing_or_wrong_credentials_give_one_line(synapse, tmp_path, env, message):
    env = {k: v.replace("URL", synapse.url) for k, v in env.items()}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MATRIX_", "NEUROLADDER_"))}
    out = subprocess.run(
        bot_command() + ["--db", str(tmp_path / "x.db")],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 2, out
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message.replace("URL", synapse.url) in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    for secret in ("wrong-pass-123", "syt_bogus_456", "pw-789"):
        assert secret not in out.stderr + out.stdout
