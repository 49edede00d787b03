"""`neuroladder run`: the consultation on Telegram (transport only: no clinical words here).

Long polling by default; `--webhook-url` switches to webhook mode (see `telegram_webhook`),
which feeds the same inbox.

How a message travels, and why nothing is lost on a crash:

1. `_poll` long-polls `getUpdates`. Each batch is reduced to `Inbound` records (see
   `telegram_inbox`) and committed to the inbox table *before* the next `getUpdates` call
   acknowledges the batch to Telegram. A re-delivered update hits the inbox's unique key and
   is skipped, so it never runs twice.
2. One worker per chat takes that chat's inbox rows in order (chats run side by side). For each
   row it calls `Service.handle` and, in the same SQLite transaction, stores the replies as
   outbox rows and marks the inbox row done.
3. The worker then sends the chat's unsent outbox rows and marks each one sent. Unsent rows
   left by a crash are sent at start-up, and unprocessed inbox rows are processed then too.

"A crash" is the process ending anywhere (kill -9, the OOM killer): each commit above is in
SQLite's write-ahead log before the next step starts, so no message is lost or handled twice; a
reply whose process died between sending it and marking it sent is sent once more
(tests/test_telegram_crash.py). The log runs with `PRAGMA synchronous = NORMAL`
(bot/storage/store.py): a commit is not fsynced; the log is synced at each checkpoint (about
every 50 commits). A power cut or a kernel crash can therefore roll back the commits since the
last checkpoint: messages already acknowledged to Telegram would be lost, and replies already
delivered sent again.

One chat call per answered turn: the reply, as a new message (a typed answer must get a new
message to be seen on a phone, and so does a press, for the team to see the next question
arrive). Older questions keep their buttons; a press on them is refused by `live_reply` and
answered with a toast. A press is always answered with answerCallbackQuery (Telegram requires
it; it puts nothing into the chat and is not counted in a group's budget). No "typing" notice:
the reply follows within milliseconds. A command whose answer is a file (/ladder's picture, an
export) shows "sending photo..." while the file is made, then the file arrives as one message
with its line as the caption: two calls.

Users outside the allowlists get one short refusal; nothing of theirs is stored (a refusal
counter is). Flood limits: python-telegram-bot's AIORateLimiter, which also retries a 429
after its retry_after.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import os
import re
import sys
import time
from collections import deque
from typing import Any

# python-telegram-bot 22 warns unless RetryAfter.retry_after is opted in as a timedelta (PTB 23's type)
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import BotCommand, InputFile, ReplyParameters, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from neuroladder.bot import settings as settings_mod
from neuroladder.bot.channels.exit_status import serve_until_stopped, stop_on_signals
from neuroladder.bot.channels.pipeline import Backoff, answer_turn, answer_without_turn, chat_worker, tune_collector
from neuroladder.bot.channels.ratelimit import UserRateLimit
from neuroladder.bot.settings import SettingsError, TelegramSettings
from neuroladder.bot.storage import crypto, retention
from neuroladder.bot.storage import telegram as telegram_log
from neuroladder.bot.storage.instance import AlreadyRunning, InstanceLock
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text import privacy
from neuroladder.bot.views.reply import Reply

from .inbox import (
    CHANNEL,
    Inbound,
    chat_migration,
    inbound_from_update,
    live_reply,
    pending_by_chat,
    sender_and_chat,
    sent_time,
    update_key,
)
from .outgoing import force_reply_markup, keyboard_markup, reply_parameters, send_text
from .transport import AiohttpRequest
from .webhook import WebhookServer

log = logging.getLogger("neuroladder.telegram")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
CHUNK_LIMIT = 3900  # below Telegram's 4096
CAPTION_LIMIT = 1000  # below Telegram's 1024 for a photo's or document's caption
UPLOAD_NOTICE = {"photo": ChatAction.UPLOAD_PHOTO, "document": ChatAction.UPLOAD_DOCUMENT}
REFUSAL_EVERY = 600.0  # seconds between two refusals to the same chat
REFUSAL = (
    "Sorry, this bot serves an approved clinical team only. Ask its administrator to add your Telegram id {user_id}."
)
UNSUPPORTED = "Please type your answer as text (or use the buttons)."
STALE_PRESS = "That question was already answered."
CHOSEN = "You pressed: {label}"  # a toast to the member who pressed: what was registered
FAILED = "Sorry, something went wrong while handling that message and it was not recorded. Please send it again."


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class StartupError(Exception):
    """The bot cannot start (Telegram refused the token, ...): one line for the operator."""


def build_application(cfg: TelegramSettings, pool: int = 8) -> Application:
    """The PTB Application: our own polling loop (no Updater), AIORateLimiter with 429 retries, and
    the Bot API reached through `transport.AiohttpRequest`: at most `pool` calls at once, and one
    connection of its own for getUpdates (bench/e2e.py measures other sizes)."""
    limiter = AIORateLimiter(
        overall_max_rate=cfg.overall_rate,
        overall_time_period=1,
        group_max_rate=cfg.group_rate,
        group_time_period=60,
        max_retries=5,
    )
    timeouts = {"connect_timeout": 10, "read_timeout": 20, "write_timeout": 20, "pool_timeout": 10}
    return (
        ApplicationBuilder()
        .token(cfg.token)
        .base_url(cfg.api_base_url)
        .updater(None)
        .rate_limiter(limiter)
        .request(AiohttpRequest(pool, **timeouts))
        .get_updates_request(AiohttpRequest(1, **timeouts))
        .build()
    )


def utf16_len(text: str) -> int:
    """A length as Telegram counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fits_a_caption(reply: Reply, chunks: list[str]) -> bool:
    """One file, no buttons, and a text short enough to go with the file as its caption."""
    return (
        len(reply.attachments) == 1
        and not reply.choices
        and len(chunks) <= 1
        and utf16_len(reply.plain()) <= CAPTION_LIMIT
    )


def html_to_text(chunk: str) -> str:
    """Our own HTML (b, i, code and escapes only) back to plain text, for the plain-text fallback."""
    return html.unescape(re.sub(r"</?(?:b|i|code)>", "", chunk))


class TelegramChannel:
    """The running bot: polling, the inbox, one worker per chat, the outbox sender."""

    def __init__(self, cfg: TelegramSettings, store: Store, service, application: Application | None = None):
        self.cfg = cfg
        self.store = store
        self.service = service
        self.app = application or build_application(cfg)
        self.queues: dict[int, deque] = {}
        self.workers: dict[int, asyncio.Task] = {}
        self.last_refusal: dict[int, float] = {}
        self.stopping = asyncio.Event()
        self.stopped = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self.webhook: WebhookServer | None = None
        self._connected = False
        # A group that became a supergroup: old id -> new id. Its consult, turns and allowlist
        # entry follow it (the allowlist names the old id).
        self.moves: dict[int, int] = {int(old): int(new) for old, new in store.chat_moves(CHANNEL).items()}
        self.rate = UserRateLimit.from_env()
        self.prune_traffic = retention.TrafficPruning()

    @property
    def bot(self):
        return self.app.bot

    # -- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (getMe), register the command menu, resume what a crash left behind."""
        backoff = Backoff()
        while True:
            try:
                await self.app.initialize()
                self._connected = True
                break
            except InvalidToken:
                raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token") from None
            except NetworkError as exc:
                if self.stopping.is_set():
                    raise StartupError("stopped before Telegram could be reached") from None
                log.warning("cannot reach the Bot API yet (%s); retrying in %.0f s", exc, backoff.delay)
                await backoff.wait(stop=self.stopping)
        me = self.bot.bot
        log.info("connected as bot id %s", me.id)
        if self.cfg.webhook_url:
            try:
                await self.bot.set_webhook(
                    self.cfg.webhook_url, secret_token=self.cfg.webhook_secret, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as exc:
                raise StartupError(f"Telegram refused the webhook URL: {exc}") from None
        else:
            await self._best_effort(self.bot.delete_webhook(drop_pending_updates=False))
        commands = getattr(self.service, "commands", None)
        if callable(commands):
            menu = [BotCommand(name.lstrip("/"), description[:256]) for name, description in commands()]
            await self._best_effort(self.bot.set_my_commands(menu))
        else:
            log.warning("the service offers no command list; the command menu is not registered")
        for chat_id, rows in pending_by_chat(self.store).items():
            log.info("resuming %d unprocessed message(s) in a chat", len(rows))
            self.queues.setdefault(chat_id, deque()).extend(rows)
        unsent = {int(r["chat_id"]) for r in self.store.outbox_pending(CHANNEL)}
        for chat_id in unsent | set(self.queues):
            self._ensure_worker(chat_id)
        self.prune_traffic(self.store)

    async def run(self) -> None:
        """Start, poll until stopped, then finish the work in hand and shut down."""
        try:
            await self.start()
            if self.cfg.webhook_url:
                self.webhook = WebhookServer(
                    self.cfg.webhook_url,
                    self.cfg.webhook_secret or "",
                    self.receive,
                    self.bot,
                    self.cfg.webhook_listen,
                    self.cfg.webhook_port,
                )
                await self.webhook.start()
                await self.stopping.wait()
            else:
                poll = asyncio.create_task(self._poll())
                stop = asyncio.create_task(self.stopping.wait())
                await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
                for task in (poll, stop):
                    task.cancel()
                await asyncio.gather(stop, return_exceptions=True)
                try:
                    await poll
                except asyncio.CancelledError:
                    pass
            if self.workers:
                await asyncio.wait(set(self.workers.values()), timeout=10)
        finally:
            for task in list(self.workers.values()) + list(self._tasks):
                task.cancel()
            await asyncio.gather(*self.workers.values(), *self._tasks, return_exceptions=True)
            if self.webhook is not None:
                await self.webhook.stop()
            if self._connected:
                await self.app.shutdown()
            self.stopped.set()

    def stop(self) -> None:
        self.stopping.set()

    # -- receiving -----------------------------------------------------------------------------
    async def _poll(self) -> None:
        offset: int | None = None
        backoff = Backoff()
        while not self.stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.cfg.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
                backoff.reset()
            except InvalidToken:
                raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)") from None
            except Conflict:
                # Telegram ends the older of two getUpdates calls with 409: another process (on
                # another log) polls with this token. Two pollers split the updates between them.
                raise StartupError(
                    "another instance is polling this bot (Telegram answered 409 Conflict); "
                    "stop it, or use one token per instance"
                ) from None
            except (TelegramError, RetryAfter) as exc:
                wait = _seconds(exc.retry_after) if isinstance(exc, RetryAfter) else backoff.delay
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, wait)
                await backoff.wait(wait)
                continue
            if not updates:
                continue
            try:
                self.receive(updates)
            except Exception:  # not stored, so not acknowledged: Telegram delivers them again
                log.exception(
                    "could not store %d update(s); fetching them again in %.0f s", len(updates), backoff.delay
                )
                await backoff.wait()
                continue
            offset = updates[-1].update_id + 1  # the next call acknowledges what is now stored

    def receive(self, updates: list[Update]) -> None:
        """Commit a batch of updates to the inbox (one transaction), then wake the chats' workers."""
        self.prune_traffic(self.store)
        me = self.bot.bot
        new_rows: list[dict] = []
        refuse: list[tuple[Update, int, int | None]] = []
        with self.store.transaction():
            for update in updates:
                user_id, chat_id = sender_and_chat(update)
                if chat_id is None:
                    continue
                moved = chat_migration(update)
                if moved is not None:
                    if self._allowed(user_id, moved[0]):
                        self._move(*moved)
                    continue
                event = inbound_from_update(update, me)
                if event is None:
                    continue
                if not self._allowed(user_id, chat_id):
                    self.store.count_refusal(CHANNEL)
                    refuse.append((update, chat_id, user_id))
                    continue
                if user_id is not None and not self.rate.allow(str(user_id), sent_time(update)):
                    notice = self.rate.notice(str(user_id))  # not read, not stored: the sender is told
                    if notice:
                        self._spawn(self._tell(update, chat_id, notice))
                    continue
                payload = privacy.redact_payload(event.to_payload())  # identifiers never reach the log
                inbox_id = self.store.inbox_add(CHANNEL, update_key(update), str(chat_id), payload)
                if inbox_id is None:
                    continue  # re-delivered: stored (and maybe processed) before
                new_rows.append({"id": inbox_id, "chat_id": str(chat_id), "payload": payload})
        for row in new_rows:
            chat_id = int(row["chat_id"])
            self.queues.setdefault(chat_id, deque()).append(row)
            self._ensure_worker(chat_id)
        for update, chat_id, user_id in refuse:
            self._spawn(self._refuse(update, chat_id, user_id))

    def _current(self, chat_id: int) -> int:
        """The id a chat has now (a group that became a supergroup has a new one)."""
        seen = set()
        while chat_id in self.moves and chat_id not in seen:
            seen.add(chat_id)
            chat_id = self.moves[chat_id]
        return chat_id

    def _allowed(self, user_id: int | None, chat_id: int) -> bool:
        if self.cfg.is_allowed(user_id, chat_id):
            return True
        return any(self._current(old) == chat_id and self.cfg.is_allowed(user_id, old) for old in self.moves)

    def _move(self, old: int, new: int) -> None:
        if self._current(old) == new:
            return  # both service messages (and a refused send) report the same move
        self.store.move_chat(CHANNEL, str(old), str(new))
        self.moves[old] = new
        log.info("a group became a supergroup; its consultation follows the new chat id")

    async def _tell(self, update: Update, chat_id: int, text: str) -> None:
        """A transport notice that is not part of any consultation (not stored)."""
        if update.callback_query is not None:
            await self._best_effort(
                self.bot.answer_callback_query(update.callback_query.id, text=text[:200], show_alert=True)
            )
        else:
            await self._best_effort(self.bot.send_message(chat_id, text))

    async def _refuse(self, update: Update, chat_id: int, user_id: int | None) -> None:
        if update.callback_query is None:  # a press is always answered; a chat is told once in a while
            last = self.last_refusal.get(chat_id)
            if last is not None and time.monotonic() - last < REFUSAL_EVERY:
                return
            self.last_refusal[chat_id] = time.monotonic()
        await self._tell(update, chat_id, REFUSAL.format(user_id=user_id if user_id is not None else "(unknown)"))

    # -- one worker per chat -------------------------------------------------------------------
    def _ensure_worker(self, chat_id: int) -> None:
        task = self.workers.get(chat_id)
        if task is None or task.done():
            self.workers[chat_id] = asyncio.create_task(self._worker(chat_id), name=f"chat-worker-{chat_id}")

    async def _worker(self, chat_id: int) -> None:
        queue = self.queues.setdefault(chat_id, deque())

        async def process(row: dict) -> None:
            await self._process(row)
            queue.popleft()

        try:
            await chat_worker(
                lambda: self._flush_outbox(self._current(chat_id)),
                lambda: queue[0] if queue else None,
                process,
                idle=self.store.checkpoint_when_idle,
            )
        finally:
            if self.workers.get(chat_id) is asyncio.current_task():
                del self.workers[chat_id]
            if not queue:
                self.queues.pop(chat_id, None)

    async def _process(self, row: dict) -> None:
        """Handle one stored update: the turn, its replies and the inbox mark commit together."""
        inbox_id = row["id"]
        event = Inbound.from_payload(row["payload"])
        event.chat_id = self._current(event.chat_id)  # sent just before its group became a supergroup
        text = event.text
        if event.kind == "button":
            text = await self._resolve_press(event, inbox_id)
            if text is None:
                answer_without_turn(self.store, CHANNEL, str(event.chat_id), inbox_id)
                return
        if event.kind == "unsupported":
            answer_without_turn(self.store, CHANNEL, str(event.chat_id), inbox_id, UNSUPPORTED)
            return
        upload = UPLOAD_NOTICE.get(self.service.sends_file(text)) if event.kind == "text" else None
        if upload is not None:  # the picture or file takes a moment to make: say it is coming
            await self._best_effort(self.bot.send_chat_action(event.chat_id, upload))
        answer_turn(
            self.store,
            self.service,
            CHANNEL,
            str(event.chat_id),
            text,
            inbox_id,
            FAILED,
            author=None if event.author is None else str(event.author),
            private=event.chat_type == "private",
            origin=event.origin,
            edit=event.edit,
        )

    async def _resolve_press(self, event: Inbound, inbox_id: int) -> str | None:
        """The value of the pressed choice, or None for a stale or unknown button."""
        reply = None if event.outbox_id is None else live_reply(self.store, event.chat_id, event.outbox_id, inbox_id)
        if reply is None or not 0 <= (event.index or 0) < len(reply.choices):
            await self._best_effort(self.bot.answer_callback_query(event.query_id, text=STALE_PRESS))
            return None
        choice = reply.choices[event.index]
        # "Why?", "How?" and the like do not answer: the question stays open, no toast
        toast = None if choice.aside else CHOSEN.format(label=choice.label)[:200]
        await self._best_effort(self.bot.answer_callback_query(event.query_id, text=toast))
        return choice.value

    # -- sending -------------------------------------------------------------------------------
    async def _flush_outbox(self, chat_id: int) -> None:
        rows = self.store.outbox_pending(CHANNEL, str(chat_id))
        for i, row in enumerate(rows):
            last_of_turn = i + 1 == len(rows) or rows[i + 1]["inbox_id"] != row["inbox_id"]
            await self._send_row(chat_id, row, last_of_turn)

    async def _send_row(self, chat_id: int, row: dict, last_of_turn: bool) -> None:
        """Send one stored reply (retrying network errors), then mark it sent."""
        backoff = Backoff()
        while True:
            try:
                await self._send_reply(chat_id, row, last_of_turn)
                break
            except ChatMigrated as exc:  # the group became a supergroup: follow it, send there
                self._move(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except RetryAfter as exc:  # the rate limiter's retries ran out
                await asyncio.sleep(_seconds(exc.retry_after) + 0.1)
            except (Forbidden, BadRequest, InvalidToken) as exc:
                log.warning("a reply could not be delivered and was dropped: %s", exc)
                break
            except NetworkError as exc:
                log.warning("sending failed (%s); retrying in %.0f s", exc, backoff.delay)
                await backoff.wait()
        self.store.outbox_sent(row["id"])

    async def _send_reply(self, chat_id: int, row: dict, last_of_turn: bool) -> None:
        reply = Reply.from_json(row["reply"])
        origin = self._origin(row["inbox_id"])
        group = origin is not None and origin.is_group
        chunks = reply.html_chunks(CHUNK_LIMIT) if reply.plain() else []
        if fits_a_caption(reply, chunks):
            # one message: the file with its line as the caption (a phone shows them as one)
            reply_to = None
            if group and origin.kind == "text" and origin.message_id:
                reply_to = ReplyParameters(message_id=origin.message_id, allow_sending_without_reply=True)
            await self._send_file(chat_id, reply.attachments[0], chunks[0] if chunks else None, reply_to)
            return
        # In a group a question to be answered by typing forces a reply, so that the answer reaches
        # the bot with privacy mode on; buttons aside from the answer ("Why?") give way to it.
        force = group and last_of_turn and reply.expects_answer and all(c.aside for c in reply.choices)
        for i, chunk in enumerate(chunks):
            last = i + 1 == len(chunks)
            markup = None
            if last and force:
                markup = force_reply_markup(selective=origin.kind == "text")
            elif last and reply.choices:
                markup = keyboard_markup(row["id"], reply.choices)
            reply_to = None
            if group and origin.kind == "text" and origin.message_id and (i == 0 or (last and force)):
                reply_to = reply_parameters(origin.message_id)
            try:
                await send_text(
                    self.bot, chat_id, chunk, parse_mode=ParseMode.HTML.value, reply_markup=markup, reply_to=reply_to
                )
            except BadRequest as exc:
                if "parse" not in str(exc).lower() and "entit" not in str(exc).lower():
                    raise
                log.warning("Telegram refused a reply's HTML (%s); sending it as plain text", exc)
                await send_text(self.bot, chat_id, html_to_text(chunk), reply_markup=markup, reply_to=reply_to)
        for attachment in reply.attachments:
            await self._send_file(chat_id, attachment)

    async def _send_file(self, chat_id: int, attachment, caption: str | None = None, reply_to=None) -> None:
        """A picture as a photo, anything else as a document; `caption`: our HTML, plain text if
        Telegram refuses its markup."""
        send = self.bot.send_photo if attachment.mime == "image/png" else self.bot.send_document
        file = InputFile(attachment.data, filename=attachment.filename)
        try:
            await send(chat_id, file, caption=caption, parse_mode=ParseMode.HTML, reply_parameters=reply_to)
        except BadRequest as exc:
            if caption is None or ("parse" not in str(exc).lower() and "entit" not in str(exc).lower()):
                raise
            log.warning("Telegram refused a caption's HTML (%s); sending it as plain text", exc)
            file = InputFile(attachment.data, filename=attachment.filename)
            await send(chat_id, file, caption=html_to_text(caption), reply_parameters=reply_to)

    def _origin(self, inbox_id: int | None) -> Inbound | None:
        if inbox_id is None:
            return None
        payload = telegram_log.inbox_payload(self.store, inbox_id)
        return Inbound.from_payload(payload) if payload else None

    # -- helpers -------------------------------------------------------------------------------
    async def _best_effort(self, coro) -> Any:
        """A call whose failure must not stop the conversation (typing, edits, answers)."""
        try:
            return await coro
        except TelegramError as exc:
            if "not modified" not in str(exc):
                log.info("ignored a failed Bot API call: %s", exc)
        return None

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# -- command line ----------------------------------------------------------------------------
def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of `neuroladder run`."""
    parser.add_argument(
        "--db", default=None, help="SQLite file of the consultation log (default: $NEUROLADDER_DB, else neuroladder.db)"
    )
    parser.add_argument(
        "--open",
        action="store_true",
        help="serve every Telegram user (without it, NEUROLADDER_ALLOWED_USERS or "
        "NEUROLADDER_ALLOWED_CHATS must be set)",
    )
    settings_mod.add_env_file_option(parser)
    parser.add_argument("--poll-timeout", type=float, default=None, help="long-polling timeout in seconds (default 30)")
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="receive updates by webhook at this public https URL instead of polling; needs "
        "NEUROLADDER_WEBHOOK_SECRET (checked on every request)",
    )
    parser.add_argument(
        "--webhook-listen",
        default="127.0.0.1",
        help="address the webhook server listens on, behind your TLS proxy (default 127.0.0.1)",
    )
    parser.add_argument(
        "--webhook-port", type=int, default=8443, help="port the webhook server listens on (default 8443)"
    )
    return parser


def load_settings(args: argparse.Namespace) -> TelegramSettings:
    settings_mod.load_environment(getattr(args, "env_file", None))
    cfg = settings_mod.from_env(
        db_path=args.db,
        open_access=args.open,
        webhook_url=args.webhook_url,
        webhook_listen=args.webhook_listen,
        webhook_port=args.webhook_port,
        poll_timeout=args.poll_timeout,
    )
    try:  # read again where they are used; a malformed value stops the bot here, in one line
        UserRateLimit.from_env()
        retention.traffic_days_from_env()
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return cfg


def make_service(store: Store):
    from neuroladder.bot.service import Service

    return Service(store)


async def serve(cfg: TelegramSettings, service_factory=make_service) -> int:
    try:
        lock = InstanceLock(cfg.db_path).acquire("neuroladder run")
    except AlreadyRunning as exc:
        raise StartupError(str(exc)) from None
    try:
        store = Store(cfg.db_path)
    except BaseException:
        lock.release()
        raise
    try:
        channel = TelegramChannel(cfg, store, service_factory(store))
        tune_collector()
        stop_on_signals(channel.stop)
        if cfg.open_access:
            log.warning("--open: every Telegram user may consult this bot")
        await channel.run()
        return 0
    finally:
        store.close()
        lock.release()


def main(args: argparse.Namespace, service_factory=make_service) -> int:
    """Run the bot until SIGINT/SIGTERM. Exit status 2 for bad settings, 1 if Telegram refuses."""
    try:
        cfg = load_settings(args)
    except SettingsError as exc:
        print(f"neuroladder run: {exc}", file=sys.stderr)
        return 2
    settings_mod.setup_logging([cfg.token])
    return serve_until_stopped(
        "neuroladder run",
        lambda: serve(cfg, service_factory),
        secrets=(cfg.token,),
        one_line={StartupError: 1, crypto.DatabaseOpenError: 2},
    )


if __name__ == "__main__":  # python -m neuroladder.bot.channels.telegram.app [options]
    sys.exit(main(configure_parser(argparse.ArgumentParser(prog="neuroladder run")).parse_args()))
