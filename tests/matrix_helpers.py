"""Helpers for the Matrix tests: clinicians as matrix-nio clients, and the real
`neuroladder matrix` as a subprocess that a test can kill -9 and restart.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import nio
from synapse_server import SERVER_NAME, SynapseServer, die_with_parent

PASSWORD = "correct horse battery staple"
CLINICIANS = ("alice", "bob", "mallory")
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
TESTS = Path(__file__).resolve().parent
_bots = itertools.count(1)


def mxid(localpart: str) -> str:
    return f"@{localpart}:{SERVER_NAME}"


async def until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Wait for `predicate()` to be truthy (it may be async); fail the test naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


# -- a clinician: a matrix-nio client with its own device keys ------------------------------------
class Clinician:
    def __init__(self, server: SynapseServer, localpart: str, store_dir: Path):
        self.server = server
        self.user_id = mxid(localpart)
        self.localpart = localpart
        store_dir.mkdir(parents=True, exist_ok=True)
        config = nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
        self.client = nio.AsyncClient(server.url, self.user_id, store_path=str(store_dir), config=config)
        self.events: dict[str, list] = {}  # room id -> timeline events (decrypted where possible)
        self.invites: set[str] = set()
        self.typing: dict[str, set[str]] = {}  # room id -> everyone seen typing there
        self._task: asyncio.Task | None = None

    async def start(self) -> Clinician:
        resp = await self.client.login(PASSWORD, device_name=f"{self.localpart}-phone")
        assert isinstance(resp, nio.LoginResponse), resp
        self.client.add_response_callback(self._on_sync, nio.SyncResponse)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=300, full_state=True))
        await until(lambda: self.client.next_batch, 15, f"{self.localpart}'s first sync")
        return self

    async def _on_sync(self, resp) -> None:
        for room_id, info in resp.rooms.join.items():
            self.events.setdefault(room_id, []).extend(info.timeline.events)
            for e in info.ephemeral:
                if isinstance(e, nio.TypingNoticeEvent):
                    self.typing.setdefault(room_id, set()).update(e.users)
        self.invites.update(resp.rooms.invite)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    # -- rooms -------------------------------------------------------------------------------------
    async def create_room(self, invite: list[str], encrypted: bool = True, name: str = "ward round") -> str:
        resp = await self.client.room_create(name=name, invite=invite, initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(resp, nio.RoomCreateResponse), resp
        await until(lambda: resp.room_id in self.client.rooms, 15, "the new room in sync")
        return resp.room_id

    async def join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        assert isinstance(resp, nio.JoinResponse), resp
        await until(lambda: room_id in self.client.rooms, 15, "the joined room in sync")

    async def members(self, room_id: str) -> dict[str, str]:
        """user id -> membership, from the server's room state."""
        resp = await self.client.room_get_state(room_id)
        assert isinstance(resp, nio.RoomGetStateResponse), resp
        return {e["state_key"]: e["content"].get("membership") for e in resp.events if e["type"] == "m.room.member"}

    async def wait_member(self, room_id: str, user_id: str, membership: str = "join", timeout: float = 30) -> None:
        async def check():
            return (await self.members(room_id)).get(user_id) == membership

        await until(check, timeout, f"{user_id} to {membership} {room_id}", interval=0.3)
        # Our own client must also see it before encrypting for that member's devices.
        await until(
            lambda: user_id in self.client.rooms[room_id].users or membership != "join",
            15,
            f"{user_id} in {self.localpart}'s room state",
        )

    # -- messages ----------------------------------------------------------------------------------
    async def say(self, room_id: str, text: str) -> str:
        resp = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}, ignore_unverified_devices=True
        )
        assert isinstance(resp, nio.RoomSendResponse), resp
        return resp.event_id

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Edit an earlier message, as Element does (m.replace with the new content)."""
        content = {
            "msgtype": "m.text",
            "body": f"* {text}",
            "m.new_content": {"msgtype": "m.text", "body": text},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        }
        resp = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(resp, nio.RoomSendResponse), resp
        return resp.event_id

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """An encrypted reaction, as Element sends it (matrix-nio itself sends reactions in the clear)."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        client = self.client
        if client.olm.should_share_group_session(room_id):
            await client.share_group_session(room_id, ignore_unverified_devices=True)
        event_type, encrypted = client.encrypt(room_id, "m.reaction", content)
        method, path, data = nio.Api.room_send(client.access_token, room_id, event_type, encrypted, uuid4())
        resp = await client._send(nio.RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(resp, nio.RoomSendResponse), resp
        return resp.event_id

    def from_user(self, room_id: str, user_id: str) -> list:
        return [e for e in self.events.get(room_id, []) if getattr(e, "sender", None) == user_id]

    def replies(self, room_id: str, bot_id: str, to: str | None = None) -> list:
        """The bot's messages in the room (only those answering event `to` if given)."""
        out = []
        for e in self.from_user(room_id, bot_id):
            if not isinstance(e, (nio.RoomMessage, nio.MegolmEvent)):
                continue
            if to is not None:
                rel = (e.source.get("content") or {}).get("m.relates_to") or {}
                if (rel.get("m.in_reply_to") or {}).get("event_id") != to:
                    continue
            out.append(e)
        return out

    async def wait_replies(self, room_id: str, bot_id: str, to: str, count: int = 1, timeout: float = 60) -> list:
        await until(
            lambda: len(self.replies(room_id, bot_id, to)) >= count,
            timeout,
            f"{count} bot repl{'y' if count == 1 else 'ies'} to {to}",
        )
        return self.replies(room_id, bot_id, to)


# -- the bot: `neuroladder matrix` in a subprocess -----------------------------------------------
def bot_command() -> list[str]:
    """The installed `neuroladder matrix` (the console script beside this Python)."""
    script = Path(sys.executable).parent / "neuroladder"
    if script.exists():
        return [str(script), "matrix"]
    return [sys.executable, "-m", "neuroladder.bot.cli.main", "matrix"]


class BotProcess:
    def __init__(
        self,
        server: SynapseServer,
        workdir: Path,
        allowed: list[str],
        *,
        fake_service: bool = False,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ):
        self.server = server
        self.workdir = workdir
        self.localpart = f"neuroladder{next(_bots)}_{os.getpid()}"
        self.password = "bot-" + uuid4().hex
        self.user_id = server.register(self.localpart, self.password)
        self.db = workdir / "bot.db"
        self.store_dir = workdir / "bot-keys"
        self.allowed = allowed
        self.fake_service = fake_service
        self.extra_args = extra_args
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.tracebacks_expected = False  # a test of a failing consult sets this
        self.access_token: str | None = None

    async def use_access_token(self) -> str:
        """Log the bot's account in once (a new device) and run it with MATRIX_ACCESS_TOKEN instead."""
        client = nio.AsyncClient(self.server.url, self.user_id)
        resp = await client.login(self.password, device_name="bot via token")
        await client.close()
        assert isinstance(resp, nio.LoginResponse), resp
        self.access_token = resp.access_token
        return resp.device_id

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MATRIX_", "NEUROLADDER_"))}
        env.update(
            MATRIX_HOMESERVER=self.server.url,
            MATRIX_USER_ID=self.user_id,
            NEUROLADDER_ALLOWED_USERS=",".join(self.allowed),
            PYTHONUNBUFFERED="1",
        )
        if self.access_token:
            env["MATRIX_ACCESS_TOKEN"] = self.access_token
        else:
            env["MATRIX_PASSWORD"] = self.password
        env.update(self.extra_env)
        return env

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-run{self.runs}.log"

    def command(self) -> list[str]:
        if self.fake_service:
            cmd = [sys.executable, str(TESTS / "matrix_fake_bot.py")]
        else:
            cmd = bot_command()
        return cmd + ["--db", str(self.db), "--store", str(self.store_dir), *self.extra_args]

    async def start(self) -> BotProcess:
        self.runs += 1
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=open(self.log_path, "wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        await until(lambda: "logged in as" in self.log() or self.proc.poll() is not None, 60, "the bot to log in")
        assert self.proc.poll() is None, f"the bot exited with {self.proc.returncode}:\n{self.log()}"
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def logs(self) -> str:
        return "".join(
            (self.workdir / f"bot-run{i}.log").read_text(errors="replace")
            for i in range(1, self.runs + 1)
            if (self.workdir / f"bot-run{i}.log").exists()
        )

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()
