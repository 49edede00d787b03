"""The Matrix channel: `neuroladder matrix`, consultations in end-to-end encrypted rooms.

Transport only: every message goes to `Service.handle`, whose replies are rendered by
`matrix_render`. The path of one message, built so that none is lost and none answered twice:

1. `sync` (matrix-nio decrypts the events with the device keys kept in `--store`);
2. one transaction stores each new event in the inbox (keyed by event id) *and* the sync
   position that covers it, so a kill at any moment re-syncs from a position whose events are
   all either stored or still to come;
3. per room, in order: typing notice, then one transaction runs the consult turn, stores its
   replies in the outbox and marks the inbox row done; then the outbox row is sent with a
   transaction id derived from its row id, so a resend after a crash is deduplicated by the
   homeserver.

Secure by default: it joins a room only when invited by a user in NEUROLADDER_ALLOWED_USERS
(others are declined and nothing of them is stored), and it answers only messages that arrived
end-to-end encrypted unless `--allow-unencrypted` is given (an unencrypted room is told why, once).

Settings from the environment: MATRIX_HOMESERVER, MATRIX_USER_ID, MATRIX_PASSWORD or
MATRIX_ACCESS_TOKEN, NEUROLADDER_ALLOWED_USERS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from neuroladder.bot.channels.exit_status import serve_until_stopped, stop_on_signals
from neuroladder.bot.channels.pipeline import Backoff, answer_turn, answer_without_turn, chat_worker, tune_collector
from neuroladder.bot.channels.ratelimit import UserRateLimit
from neuroladder.bot.service import command_of
from neuroladder.bot.storage import crypto, retention
from neuroladder.bot.storage.instance import AlreadyRunning, InstanceLock
from neuroladder.bot.storage.matrix import CHANNEL, MatrixState
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text import privacy
from neuroladder.bot.views.reply import Choice, Reply

from .render import choice_by_number, file_content, keycap_number, resolve_text, text_contents
from .settings import ConfigError, Settings, parse_allowed, settings_from  # noqa: F401 (re-exported)
from .trust import TRUST_COMMANDS, DeviceTrust

log = logging.getLogger("neuroladder.matrix")
DEVICE_NAME = "NeuroLadder bot"


def sync_filter(limit: int) -> dict:
    # Events past the timeline limit are fetched with /messages (see `_timeline`), so the limit
    # only trades one large response for a few pages; NEUROLADDER_MATRIX_TIMELINE_LIMIT tunes it.
    return {
        "room": {"timeline": {"limit": max(limit, 1)}, "state": {"lazy_load_members": False}},
        "presence": {"not_types": ["*"]},
    }


# Transport notices (no clinical content).
REFUSE_UNENCRYPTED = (
    "This room is not end-to-end encrypted, so I do not take part in consultations here. "
    "Enable encryption in the room settings (or start an encrypted room and invite me there)."
)
REFUSE_STRANGER = (
    "A message here came from someone who is not on NeuroLadder's allowlist: I answer only the clinicians "
    "on it, and I have neither read nor kept that message. Ask the team's administrator to add them."
)
STRANGER_NOTICE_EVERY = 600.0  # seconds between two such notices in one room
UNDECRYPTABLE = "I could not decrypt your last message (I have no key for it). Please send it again."
FAILED = "Sorry, something went wrong on my side and I could not process that message. Please try again."


class RoomGone(Exception):
    """The reply cannot be delivered (the bot left or was kicked, or the server refuses it for good)."""


class KeyPending(Exception):
    """A message's room key has not arrived yet; the room waits a little for it."""


# -- the bot -------------------------------------------------------------------------------------
class MatrixBot:
    def __init__(self, settings: Settings, store: Store, service: Any):
        self.settings = settings
        self.store = store
        self.service = service
        self.client = None  # nio.AsyncClient, set by login()
        self.workers: dict[str, asyncio.Task] = {}
        self._requested_keys: set[str] = set()
        self.trust: DeviceTrust | None = None  # set by login()
        self._stranger_notices: dict[str, float] = {}  # room -> when last told (the stranger's id is never kept)
        self.rate = UserRateLimit.from_env()
        self.prune_traffic = retention.TrafficPruning()
        self.state = MatrixState(store)
        self.txn_prefix = self.state.txn_prefix()

    def _current_choices(self, room_id: str) -> list[Choice]:
        """The choices of the last reply with choices in the bot's latest answer in this room."""
        choices: list[Choice] = []
        for stored in self.state.latest_replies(room_id):
            reply = Reply.from_json(stored)
            if reply.choices:
                choices = reply.choices
        return choices

    # -- login -------------------------------------------------------------------------------
    async def login(self) -> None:
        from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

        s = self.settings
        s.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(s.store_dir, 0o700)  # the device's private keys live here
        device_file = s.store_dir / "device.json"
        saved: dict = {}
        if device_file.exists():
            try:
                saved = json.loads(device_file.read_text())
            except ValueError:
                saved = {}
        device_id = saved.get("device_id") if saved.get("user_id") == s.user_id else None
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            max_timeouts=4,
            max_timeout_retry_wait_time=5,
            request_timeout=60,
        )
        client = AsyncClient(s.homeserver, s.user_id, device_id=device_id, store_path=str(s.store_dir), config=config)
        self.client = client
        try:
            if s.access_token:
                client.access_token = s.access_token
                client.user_id = s.user_id
                who = await client.whoami()
                if not isinstance(who, WhoamiResponse):
                    raise ConfigError(f"the homeserver refused MATRIX_ACCESS_TOKEN: {_why(who)}")
                if who.user_id != s.user_id:
                    raise ConfigError(f"MATRIX_ACCESS_TOKEN belongs to {who.user_id}, not MATRIX_USER_ID {s.user_id}")
                if not who.device_id:
                    raise ConfigError("MATRIX_ACCESS_TOKEN has no device; log in with a password once instead")
                client.restore_login(s.user_id, who.device_id, s.access_token)
            else:
                resp = await client.login(s.password, device_name=DEVICE_NAME)
                if not isinstance(resp, LoginResponse):
                    raise ConfigError(f"login to {s.homeserver} as {s.user_id} failed: {_why(resp)}")
        except ConfigError:
            raise
        except Exception as exc:  # connection refused, DNS, TLS ...
            raise ConfigError(f"cannot reach the homeserver at {s.homeserver}: {type(exc).__name__}") from None
        device_file.write_text(json.dumps({"user_id": s.user_id, "device_id": client.device_id}))
        if client.should_upload_keys:
            await client.keys_upload()
        self.trust = DeviceTrust(self.state, self.store, client, self.settings.allowed_users)
        log.info("logged in as %s (device %s)", s.user_id, client.device_id)

    async def close(self) -> None:
        for task in self.workers.values():
            task.cancel()
        if self.workers:
            await asyncio.gather(*self.workers.values(), return_exceptions=True)
        if self.client is not None:
            await self.client.close()

    # -- the sync loop -------------------------------------------------------------------------
    async def run(self) -> None:
        """Sync forever (until cancelled)."""
        token = self.state.sync_token()
        first = True
        backoff = Backoff()
        while True:
            try:
                self.prune_traffic(self.store)
                token = await self.sync_once(token, first)
                first = False
                backoff.reset()
            except ConfigError:
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sync failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, backoff.delay)
                await backoff.wait()

    async def sync_once(self, token: str | None, first: bool) -> str:
        from nio import SyncResponse

        client = self.client
        # The first sync after a start asks for the full room state so that nio knows every
        # room (and whether it is encrypted) even when resuming from a stored position.
        resp = await client.sync(
            timeout=0 if first else 30000,
            sync_filter=sync_filter(self.settings.timeline_limit),
            since=token,
            full_state=True if first else None,
        )
        if not isinstance(resp, SyncResponse):
            if getattr(resp, "status_code", None) in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN"):
                raise ConfigError(f"the homeserver no longer accepts the bot's login: {_why(resp)}")
            raise RuntimeError(f"sync error: {_why(resp)}")
        await self._keys()
        await self._invites(resp)  # a failure here raises: the batch is synced again
        # With no stored position (a new database) the timeline is history: start from now.
        items = await self._timeline(resp, token) if token else []
        with self.store.transaction():
            for room_id, event in items:
                self._ingest(room_id, event)
            self.state.save_sync_token(resp.next_batch)
        self.kick()
        return resp.next_batch

    async def _keys(self) -> None:
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def _invites(self, resp) -> None:
        from nio import InviteMemberEvent, JoinResponse, RoomLeaveResponse

        me = self.client.user_id
        for room_id, info in resp.rooms.invite.items():
            inviter = next(
                (
                    ev.sender
                    for ev in info.invite_state
                    if isinstance(ev, InviteMemberEvent) and ev.state_key == me and ev.membership == "invite"
                ),
                None,
            )
            if inviter in self.settings.allowed_users:
                r = await self.client.join(room_id)
                if not isinstance(r, JoinResponse):
                    raise RuntimeError(f"join failed: {_why(r)}")
                log.info("joined a room on an allowed user's invite")
            else:
                r = await self.client.room_leave(room_id)
                if not isinstance(r, RoomLeaveResponse):
                    raise RuntimeError(f"declining an invite failed: {_why(r)}")
                log.info("declined an invite from a user not on the allowlist")

    async def _timeline(self, resp, since: str | None) -> list[tuple[str, Any]]:
        """The timeline events of joined rooms, with any gap (limited timeline) filled in."""
        from nio import MessageDirection, RoomMessagesResponse

        items = []
        for room_id, info in resp.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and since and info.timeline.prev_batch:
                seen = {getattr(e, "event_id", None) for e in events}
                older: list = []
                start = info.timeline.prev_batch
                while True:
                    page = await self.client.room_messages(
                        room_id, start=start, end=since, direction=MessageDirection.back, limit=100
                    )
                    if not isinstance(page, RoomMessagesResponse):
                        raise RuntimeError(f"filling a timeline gap failed: {_why(page)}")
                    older.extend(e for e in page.chunk if getattr(e, "event_id", None) not in seen)
                    if not page.chunk or not page.end or page.end == start:
                        break
                    start = page.end
                events = list(reversed(older)) + events
            items.extend((room_id, e) for e in _since_own_join(events, self.client.user_id))
        return items

    def _ingest(self, room_id: str, event) -> None:
        """Store one timeline event (inside the sync transaction)."""
        from nio import MegolmEvent, ReactionEvent, RoomMemberEvent, RoomMessageText

        me = self.client.user_id
        room = self.client.rooms.get(room_id)
        room_encrypted = bool(room and room.encrypted)
        if isinstance(event, RoomMemberEvent):
            if event.state_key == me and event.membership == "join" and not room_encrypted:
                self._refuse(room_id)
            return
        if event.sender == me:
            return
        if (
            isinstance(event, (MegolmEvent, RoomMessageText, ReactionEvent))
            and event.sender not in self.settings.allowed_users
        ):
            # An allowed user invited the bot, but the room may hold others: only the allowlist
            # consults. Nothing of the stranger's is stored; a counter and one notice, as on Telegram.
            self._refuse_stranger(room_id)
            return
        sent_at = getattr(event, "server_timestamp", None)
        if not self.rate.allow(event.sender, sent_at / 1000 if sent_at else None):
            notice = self.rate.notice(event.sender)  # not read, not stored: the sender is told
            if notice:
                self.store.outbox_add(CHANNEL, room_id, Reply().add(notice).to_json(), inbox_id=None)
            return
        if isinstance(event, MegolmEvent):
            self.store.inbox_add(
                CHANNEL,
                event.event_id,
                room_id,
                {"kind": "undecryptable", "sender": event.sender, "source": event.source},
            )
            return
        if not isinstance(event, (RoomMessageText, ReactionEvent)):
            return
        if not getattr(event, "decrypted", False) and not self.settings.allow_unencrypted:
            # Sent in the clear: never stored. In an unencrypted room say why (once).
            if not room_encrypted:
                self._refuse(room_id)
            return
        if isinstance(event, ReactionEvent):
            payload = {"kind": "reaction", "sender": event.sender, "reacts_to": event.reacts_to, "key": event.key}
        else:
            content = event.source.get("content") or {}
            body = event.body
            origin = event.event_id
            relates = content.get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace":
                origin = relates.get("event_id") or origin
                # An edit is read as a new message (as on Telegram): "300 tid" fixed to "600 tid"
                # is applied as a correction and reported, never silently ignored.
                body = (content.get("m.new_content") or {}).get("body")
                if not isinstance(body, str) or not body.strip():
                    return
            payload = {
                "kind": "text",
                "sender": event.sender,
                "body": body,
                "origin": origin,
                "edit": origin != event.event_id,
            }
        self.store.inbox_add(CHANNEL, event.event_id, room_id, privacy.redact_payload(payload))

    def _refuse(self, room_id: str) -> None:
        if self.settings.allow_unencrypted or self.state.refused(room_id):
            return
        self.state.mark_refused(room_id)
        self.store.count_refusal(CHANNEL)
        self.store.outbox_add(CHANNEL, room_id, Reply().add(REFUSE_UNENCRYPTED).to_json(), inbox_id=None)

    def _one_to_one(self, room_id: str) -> bool:
        """A direct chat: the bot and one other member (exports go only to such a room)."""
        room = self.client.rooms.get(room_id) if self.client else None
        return room is not None and room.joined_count == 2 and room.invited_count == 0

    def _refuse_stranger(self, room_id: str) -> None:
        self.store.count_refusal(CHANNEL)
        last = self._stranger_notices.get(room_id)
        if last is not None and time.monotonic() - last < STRANGER_NOTICE_EVERY:
            return
        self._stranger_notices[room_id] = time.monotonic()
        self.store.outbox_add(CHANNEL, room_id, Reply().add(REFUSE_STRANGER).to_json(), inbox_id=None)

    # -- per-room workers ------------------------------------------------------------------------
    def kick(self) -> None:
        """Start a worker for every room with unsent replies or unanswered messages."""
        for room_id in self.state.rooms_with_work():
            task = self.workers.get(room_id)
            if task is None or task.done():
                self.workers[room_id] = asyncio.create_task(self._room_worker(room_id))

    async def _room_worker(self, room_id: str) -> None:
        def next_row() -> dict | None:
            rows = self.state.room_pending(room_id)
            return rows[0] if rows else None

        await chat_worker(
            lambda: self._flush(room_id), next_row, self._process_or_wait_for_key, idle=self.store.checkpoint_when_idle
        )

    async def _process_or_wait_for_key(self, row: dict) -> None:
        try:
            await self._process(row)
        except KeyPending as pending:  # the row stays pending; the worker comes back to it
            await self._request_key(pending.args[0])
            await asyncio.sleep(1.0)  # the sync loop stores any key that arrives meanwhile

    def _text_for(self, row: dict) -> tuple[str | None, str | None]:
        """(text for the consult, or None) and (a transport notice, or None) for an inbox row.

        Raises `KeyPending` for an undecryptable message whose room key may still arrive.
        """
        from nio import MegolmEvent, ReactionEvent, RoomMessageText

        payload = json.loads(row["payload"])
        room_id = row["chat_id"]
        kind = payload.get("kind")
        if kind == "undecryptable":
            try:
                event = self.client.decrypt_event(MegolmEvent.from_dict(payload["source"]))
            except Exception:
                event = None
            if isinstance(event, RoomMessageText):
                kind, payload = "text", {"sender": event.sender, "body": event.body}
            elif isinstance(event, ReactionEvent):
                kind, payload = "reaction", {"sender": event.sender, "reacts_to": event.reacts_to, "key": event.key}
            elif _age_s(row["received_at"]) < self.settings.key_grace_s:
                raise KeyPending(payload["source"])
            else:
                return None, UNDECRYPTABLE
        if kind == "text":
            return resolve_text(payload["body"], self._current_choices(room_id)), None
        if kind == "reaction":
            choices = [Choice(label, value) for label, value in self.state.sent_choices(payload["reacts_to"]) or []]
            return choice_by_number(keycap_number(payload["key"]), choices), None
        return None, None

    async def _process(self, row: dict) -> None:
        room_id = row["chat_id"]
        payload = json.loads(row["payload"])
        author = payload.get("sender")
        try:
            text, notice = self._text_for(row)
        except KeyPending:
            raise
        except Exception:  # a malformed row must not block the room: answer it and move on
            log.exception("could not read inbox row %s", row["id"])
            text, notice = None, FAILED
        if text is not None and self.trust is not None:
            name, arg = command_of(text.strip())
            if name in TRUST_COMMANDS:
                # Device trust is this transport's business: an admin decides, the consult never sees it.
                admins = getattr(self.service, "admins", frozenset())
                text, notice = (
                    None,
                    (
                        self.trust.command(name, arg, author)
                        if author in admins
                        else "/devices and /trust are for administrators only (NEUROLADDER_ADMINS)."
                    ),
                )
        if text is None:
            answer_without_turn(self.store, CHANNEL, room_id, row["id"], notice)
            await self._flush(room_id)
            return
        await self._typing(room_id, True)
        # The consult runs here, on the event loop thread (the rules engine is not thread safe).
        answer_turn(
            self.store,
            self.service,
            CHANNEL,
            room_id,
            text,
            row["id"],
            FAILED,
            author=author,
            private=self._one_to_one(room_id),
            origin=payload.get("origin"),
            edit=bool(payload.get("edit")),
        )
        try:
            await self._flush(room_id)
        finally:
            await self._typing(room_id, False)

    async def _request_key(self, source: dict) -> None:
        from nio import MegolmEvent

        try:
            event = MegolmEvent.from_dict(source)
            if event.session_id not in self._requested_keys:
                self._requested_keys.add(event.session_id)
                await self.client.request_room_key(event)
        except Exception as exc:
            log.debug("room key request failed: %s", type(exc).__name__)

    async def _typing(self, room_id: str, on: bool) -> None:
        try:
            await self.client.room_typing(room_id, typing_state=on, timeout=30000)
        except Exception as exc:  # a typing notice is a courtesy, never a reason to stop
            log.debug("typing notice failed: %s", type(exc).__name__)

    # -- sending ---------------------------------------------------------------------------------
    async def _flush(self, room_id: str) -> None:
        """Send this room's unsent outbox rows, in order (a device-trust notice may add one)."""
        while rows := self.store.outbox_pending(CHANNEL, room_id):
            for row in rows:
                try:
                    await self._send_row(row)
                except RoomGone as exc:
                    log.warning("dropping a reply for a room the bot cannot post in (%s)", exc)
                    with self.store.transaction():
                        self.store.outbox_sent(row["id"])

    async def _send_row(self, row: dict) -> None:
        room_id = row["chat_id"]
        room = self.client.rooms.get(room_id)
        if room is None:
            raise RoomGone("not a member")
        if not room.encrypted and row["inbox_id"] is not None and not self.settings.allow_unencrypted:
            raise RoomGone("room is not encrypted")
        if self.trust is not None:  # keys only for trusted devices of allowed members
            for notice in self.trust.apply(room_id):
                with self.store.transaction():
                    self.store.outbox_add(CHANNEL, room_id, Reply().add(notice).to_json(), inbox_id=None)
        reply = Reply.from_json(row["reply"])
        in_reply_to = self.state.update_key_of(row["inbox_id"])
        choice_event = None
        contents = text_contents(reply, in_reply_to)
        for i, content in enumerate(contents):
            event_id = await self._send(room_id, content, f"{self.txn_prefix}-{row['id']}-{i}")
            if i == len(contents) - 1 and reply.choices:
                choice_event = event_id
        for j, att in enumerate(reply.attachments):
            content = await self._upload(room, att)
            if in_reply_to:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
            await self._send(room_id, content, f"{self.txn_prefix}-{row['id']}-a{j}")
        with self.store.transaction():
            if choice_event:
                self.state.record_sent(choice_event, room_id, row["id"], [(c.label, c.value) for c in reply.choices])
            self.store.outbox_sent(row["id"])

    async def _send(self, room_id: str, content: dict, txn_id: str) -> str:
        from nio import RoomSendResponse

        resp = await self.client.room_send(
            room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
        )
        if isinstance(resp, RoomSendResponse):
            return resp.event_id
        if getattr(resp, "status_code", None) in ("M_FORBIDDEN", "M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON"):
            raise RoomGone(_why(resp))  # sending it again would fail again
        raise RuntimeError(f"send failed: {_why(resp)}")

    async def _upload(self, room, att) -> dict:
        import io

        from nio import UploadResponse

        encrypt = bool(room.encrypted)
        # An encrypted upload tells the server nothing: no file name, an opaque media type.
        resp, keys = await self.client.upload(
            io.BytesIO(att.data),
            content_type="application/octet-stream" if encrypt else att.mime,
            filename=None if encrypt else att.filename,
            encrypt=encrypt,
            filesize=len(att.data),
        )
        if not isinstance(resp, UploadResponse):
            raise RuntimeError(f"upload failed: {_why(resp)}")
        if encrypt:
            encrypted_file = {
                "url": resp.content_uri,
                "key": keys["key"],
                "iv": keys["iv"],
                "hashes": keys["hashes"],
                "v": keys["v"],
            }
            return file_content(att.filename, att.mime, len(att.data), att.data, encrypted_file=encrypted_file)
        return file_content(att.filename, att.mime, len(att.data), att.data, url=resp.content_uri)


def _since_own_join(events: list, me: str) -> list:
    """Drop what came before the bot's own join: history it was never given the keys for."""
    from nio import RoomMemberEvent

    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if (
            isinstance(e, RoomMemberEvent)
            and e.state_key == me
            and e.membership == "join"
            and (e.prev_membership or (e.prev_content or {}).get("membership")) != "join"
        ):
            return events[i:]
    return events


def _age_s(iso: str) -> float:
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def _why(resp) -> str:
    message = getattr(resp, "message", None) or type(resp).__name__
    code = getattr(resp, "status_code", None)
    return f"{message} ({code})" if code else str(message)


# -- command line ----------------------------------------------------------------------------------
def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--db", default=None, help="SQLite file (default: $NEUROLADDER_DB or neuroladder.db)")
    parser.add_argument(
        "--store",
        default=None,
        metavar="DIR",
        help="folder for the bot's encryption keys (default: beside the database)",
    )
    parser.add_argument(
        "--allow-unencrypted", action="store_true", help="also answer in rooms that are not end-to-end encrypted"
    )
    parser.set_defaults(func=main)
    return parser


def _setup_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)  # start, login, joins and declines are worth a line (never ids or text)
    for name in ("nio", "peewee", "aiohttp"):  # nio warns about every unverified device
        logging.getLogger(name).setLevel(logging.ERROR)


async def serve(settings: Settings, service_factory=None, store: Store | None = None) -> None:
    from neuroladder.bot.service import Service

    try:
        lock = InstanceLock(settings.db).acquire("neuroladder matrix")
    except AlreadyRunning as exc:
        if store is not None:
            store.close()
        raise ConfigError(str(exc)) from None
    store = store or Store(settings.db)
    bot = MatrixBot(settings, store, (service_factory or Service)(store))
    tune_collector()
    stop_on_signals(asyncio.current_task().cancel)
    try:
        await bot.login()
        await bot.run()
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await bot.close()
        store.close()
        lock.release()


def _open_store(path: str) -> Store:
    from neuroladder.bot.storage.crypto import DatabaseOpenError

    try:
        return Store(path)
    except DatabaseOpenError as exc:
        raise ConfigError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    """`neuroladder matrix`: serve consultations on a Matrix homeserver until stopped."""
    _setup_logging()
    try:
        import nio  # noqa: F401
        from nio.crypto import ENCRYPTION_ENABLED
    except ImportError:
        print("neuroladder matrix: matrix-nio is not installed; pip install 'neuroladder[matrix]'", file=sys.stderr)
        return 2
    if not ENCRYPTION_ENABLED:
        print(
            "neuroladder matrix: matrix-nio lacks end-to-end encryption; pip install 'matrix-nio[e2e]'", file=sys.stderr
        )
        return 2
    try:
        settings = settings_from(args)
        store = _open_store(settings.db)
    except ConfigError as exc:
        print(f"neuroladder matrix: {exc}", file=sys.stderr)
        return 2
    return serve_until_stopped(
        "neuroladder matrix",
        lambda: serve(settings, store=store),
        secrets=(settings.access_token or "", settings.password or ""),
        one_line={ConfigError: 2, crypto.DatabaseOpenError: 2},
    )


if __name__ == "__main__":
    sys.exit(main(configure_parser(argparse.ArgumentParser(prog="neuroladder matrix")).parse_args()))
