"""A Telegram Bot API stand-in on 127.0.0.1 for tests (stdlib only: asyncio in a thread).

It plays both sides of Telegram: the test acts as clinicians (`send_text`, `press`), the bot
under test calls the HTTP API (`getUpdates` long polling with offsets, `sendMessage`, edits,
`answerCallbackQuery`, ...). It keeps every chat's messages as a phone would show them
(edits applied, vanished buttons gone) and records every call, so tests assert on what a user
would see. Like Telegram it refuses malformed HTML, texts over 4096 characters, callback data
over 64 bytes and unmodified edits with a 400, and can be told to answer 429 with retry_after.

    with BotAPIStandIn() as api:
        env["TELEGRAM_API_BASE_URL"] = api.base_url      # token appended by the bot
        api.send_text(42, "/start")
        api.wait_until(lambda: api.bot_texts(42))
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN = "123456789:AAStandInTokenForTestsOnly_abcdefghij"
BOT_ID = 123456789
BOT_USERNAME = "NeuroLadderTestBot"
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
NOT_CHAT_CALLS = {
    "getUpdates",
    "getMe",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteWebhook",
    "setWebhook",
}
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
}


class ApiError(Exception):
    def __init__(
        self, code: int, description: str, retry_after: int | None = None, migrate_to_chat_id: int | None = None
    ):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Telegram's HTML parse mode, strictly: the plain text, or ApiError(400) like Telegram's."""
    out, stack, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "<":
            m = TAG_RE.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag at byte offset {i}")
            closing, tag = m.group(1) == "/", m.group(2).lower()
            if tag not in ALLOWED_TAGS:
                raise ApiError(
                    400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}" at byte offset {i}'
                )
            if closing:
                if not stack or stack[-1] != tag:
                    raise ApiError(
                        400, f"Bad Request: can't parse entities: can't find start tag for end tag \"{tag}\""
                    )
                stack.pop()
            else:
                stack.append(tag)
            i = m.end()
        elif c == "&":
            m = ENTITY_RE.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: unescaped '&' at byte offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif c == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: unescaped '>' at byte offset {i}")
        else:
            out.append(c)
            i += 1
    if stack:
        raise ApiError(
            400, f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str = ""
    messages: dict[int, dict] = field(default_factory=dict)
    next_message_id: int = 1

    def as_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            d["first_name"] = f"User{self.id}"
        else:
            d["title"] = self.title or f"Team {self.id}"
        return d


def user_dict(user_id: int, is_bot: bool = False) -> dict:
    if is_bot:
        return {"id": BOT_ID, "is_bot": True, "first_name": "NeuroLadder", "username": BOT_USERNAME}
    return {"id": user_id, "is_bot": False, "first_name": f"Clinician{user_id}", "username": f"doc{user_id}"}


class BotAPIStandIn:
    def __init__(self, token: str = TOKEN, host: str = "127.0.0.1"):
        self.token = token
        self.host = host
        self.port = 0
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.chats: dict[int, Chat] = {}
        self.migrated: dict[int, int] = {}  # old group id -> the supergroup it became
        self.updates: list[dict] = []  # unconfirmed updates
        self.history: list[dict] = []  # every update ever pushed
        self.update_ids = itertools.count(10_000)
        self.query_ids = itertools.count(1)
        self.calls: list[dict] = []
        self.commands: list[dict] = []
        self.injected: dict[str, list[int]] = {}
        self.slow_chats: dict[int, float] = {}  # chat id -> seconds each call about that chat takes
        self.callback_answers: dict[str, dict] = {}
        self.sent_files: dict[tuple[int, int], bytes] = {}  # (chat id, message id) -> bytes of a photo/document
        self.polls = 0
        self.timeline: dict[
            int, list[tuple]
        ] = {}  # chat id -> ("message", id) and ("press", query id, user, message id, label) in order
        self.webhook: dict | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._new_update: asyncio.Event | None = None
        self._poller: asyncio.Future | None = None
        self._ready = threading.Event()

    # -- life cycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    def start(self) -> BotAPIStandIn:
        self._thread = threading.Thread(target=self._run, name="botapi-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("Bot API stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> BotAPIStandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._new_update = asyncio.Event()
        self._server = loop.run_until_complete(asyncio.start_server(self._connection, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    # -- the user side (call from the test's thread) --------------------------------------------
    def chat(self, chat_id: int, chat_type: str | None = None) -> Chat:
        with self.lock:
            if chat_id not in self.chats:
                self.chats[chat_id] = Chat(chat_id, chat_type or ("private" if chat_id > 0 else "supergroup"))
            return self.chats[chat_id]

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        reply_to: int | None = None,
        chat_type: str | None = None,
    ) -> dict:
        """A member types `text` in a chat (private chat: the chat id is the user's id)."""
        with self.lock:
            chat = self.chat(chat_id, chat_type)
            user_id = user_id if user_id is not None else chat_id
            msg = self._new_message(chat, user_dict(user_id), text=text)
            entities = []
            if text.startswith("/"):
                entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split(" ")[0])})
            for m in re.finditer(r"@[A-Za-z0-9_]{3,}", text):
                entities.append(
                    {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
                )
            if entities:
                msg["entities"] = entities
            if reply_to is not None:
                msg["reply_to_message"] = json.loads(json.dumps(chat.messages[reply_to]))
                msg["reply_to_message"].pop("reply_to_message", None)
            self._push({"message": msg})
            return msg

    def migrate_to_supergroup(self, old_chat_id: int, new_chat_id: int, user_id: int) -> None:
        """A group becomes a supergroup, as Telegram does it: a service message in the old group
        (migrate_to_chat_id), one in the new supergroup (migrate_from_chat_id), and from then on
        the Bot API refuses the old id with 400 and parameters.migrate_to_chat_id."""
        with self.lock:
            old = self.chat(old_chat_id, "group")
            new = self.chat(new_chat_id, "supergroup")
            new.title = old.title
            self._push({"message": self._new_message(old, user_dict(user_id), migrate_to_chat_id=new_chat_id)})
            self._push({"message": self._new_message(new, user_dict(user_id), migrate_from_chat_id=old_chat_id)})
            self.migrated[old_chat_id] = new_chat_id

    def edit_text(self, chat_id: int, message_id: int, text: str) -> dict:
        """The member edits a message they sent (Telegram delivers an `edited_message` update)."""
        with self.lock:
            msg = json.loads(json.dumps(self.chats[chat_id].messages[message_id]))
            msg["text"] = text
            msg["edit_date"] = int(time.time())
            msg.pop("entities", None)
            self.chats[chat_id].messages[message_id] = msg
            self._push({"edited_message": msg})
            return msg

    def send_photo(self, chat_id: int, *, user_id: int | None = None) -> dict:
        with self.lock:
            chat = self.chat(chat_id)
            msg = self._new_message(chat, user_dict(user_id or chat_id))
            msg["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]
            self._push({"message": msg})
            return msg

    def press(
        self,
        chat_id: int,
        message_id: int,
        label: str | None = None,
        *,
        user_id: int | None = None,
        data: str | None = None,
    ) -> dict:
        """A member presses the button `label` under the bot's message (it must be shown there).

        `data=` presses with raw callback data even if the button is gone (a stale client).
        """
        with self.lock:
            chat = self.chats[chat_id]
            msg = chat.messages[message_id]
            if data is None:
                buttons = [b for row in msg.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
                match = [b for b in buttons if b["text"] == label]
                if not match:
                    raise AssertionError(
                        f"no button {label!r} under message {message_id}: {[b['text'] for b in buttons]}"
                    )
                data = match[0]["callback_data"]
            query = {
                "id": str(next(self.query_ids)),
                "from": user_dict(user_id or chat_id),
                "chat_instance": f"ci{chat_id}",
                "message": json.loads(json.dumps(msg)),
                "data": data,
            }
            self.timeline.setdefault(chat_id, []).append(
                ("press", query["id"], user_id or chat_id, message_id, label or data)
            )
            self._push({"callback_query": query})
            return query

    def slow_down(self, chat_id: int, seconds: float) -> None:
        """Every call about `chat_id` takes `seconds` (a phone on a bad network, a slow data centre)."""
        with self.lock:
            self.slow_chats[chat_id] = seconds

    def inject_429(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        """The next `count` calls of `method` get 429 Too Many Requests with `retry_after`."""
        with self.lock:
            self.injected.setdefault(method, []).extend([retry_after] * count)

    # -- what the user sees ---------------------------------------------------------------------
    def bot_messages(self, chat_id: int) -> list[dict]:
        with self.lock:
            chat = self.chats.get(chat_id)
            if chat is None:
                return []
            return [json.loads(json.dumps(m)) for m in chat.messages.values() if m["from"]["id"] == BOT_ID]

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.bot_messages(chat_id)]

    def last_bot_message(self, chat_id: int) -> dict | None:
        msgs = self.bot_messages(chat_id)
        return msgs[-1] if msgs else None

    def phone_view(self, chat_id: int) -> str:
        """The chat as a member's phone shows it now, top to bottom: every message in its current
        state (edits applied, "(edited)" as Telegram marks it, buttons under it, a forced reply),
        each button press where it happened and the toast Telegram showed the presser."""
        with self.lock:
            chat = self.chats.get(chat_id)
            if chat is None:
                return ""
            lines: list[str] = []
            for event in self.timeline.get(chat_id, []):
                if event[0] == "message":
                    msg = chat.messages[event[1]]
                    who = "bot" if msg["from"]["id"] == BOT_ID else msg["from"]["first_name"]
                    body = msg.get("text") or f"[{msg.get('_file', 'file')}]"
                    if msg.get("caption"):
                        body += " " + msg["caption"]
                    body = body.replace("\n", "\n" + " " * (len(who) + 8))
                    edited = " (edited)" if msg.get("edited") else ""
                    lines.append(f"#{msg['message_id']:<3} {who}: {body}{edited}")
                    buttons = self.buttons(msg)
                    if buttons:
                        lines.append(" " * (len(who) + 7) + " ".join(f"[{b}]" for b in buttons))
                    if msg.get("_markup", {}).get("force_reply"):
                        lines.append(" " * (len(who) + 7) + "(reply box opened)")
                else:
                    _, qid, user, message_id, label = event
                    answer = self.callback_answers.get(qid)
                    toast = f" -> toast {answer['text']!r}" if answer and answer.get("text") else ""
                    lines.append(f"     Clinician{user} pressed [{label}] under #{message_id}{toast}")
            return "\n".join(lines)

    def chat_calls(self, chat_id: int | None = None) -> list[dict]:
        """Calls that put something into a chat (messages, edits, chat actions, files): what
        Telegram's per-chat and per-group limits count. answerCallbackQuery only answers a
        press (Telegram requires it for every press; it shows the presser a toast at most)."""
        with self.lock:
            return [
                c
                for c in self.calls
                if c["method"] not in NOT_CHAT_CALLS and (chat_id is None or c["params"].get("chat_id") == chat_id)
            ]

    def file_bytes(self, chat_id: int, message_id: int) -> bytes:
        """The bytes of the photo or document the bot sent as this message (what a phone downloads)."""
        with self.lock:
            return self.sent_files[(chat_id, message_id)]

    @staticmethod
    def buttons(message: dict | None) -> list[str]:
        if not message:
            return []
        return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]

    def calls_of(self, method: str, chat_id: int | None = None) -> list[dict]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c["method"] == method and (chat_id is None or c["params"].get("chat_id") == chat_id)
            ]

    def errors(self, *, include_injected: bool = False) -> list[dict]:
        with self.lock:
            return [c for c in self.calls if c["error"] and (include_injected or not c.get("injected"))]

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """Block the calling thread until `predicate()` is truthy (re-checked after every call)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {message or predicate}")
                self.changed.wait(min(left, 0.25))

    async def until(self, predicate: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """Like wait_until, for tests whose bot runs on the test's own event loop."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {message or predicate}")
            await asyncio.sleep(0.02)

    # -- internals: state ------------------------------------------------------------------------
    def _new_message(self, chat: Chat, sender: dict, **fields) -> dict:
        msg = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "from": sender,
            **{k: v for k, v in fields.items() if v is not None},
        }
        chat.next_message_id += 1
        chat.messages[msg["message_id"]] = msg
        self.timeline.setdefault(chat.id, []).append(("message", msg["message_id"]))
        return msg

    def _push(self, update: dict) -> None:
        with self.lock:
            update["update_id"] = next(self.update_ids)
            self.updates.append(update)
            self.history.append(json.loads(json.dumps(update)))
            self.changed.notify_all()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)

    # -- internals: HTTP -------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    verb, target, _ = line.decode("latin-1").split(" ", 2)
                except ValueError:
                    break
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = b""
                if "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int((await reader.readline()).strip() or b"0", 16)
                        chunk = await reader.readexactly(size + 2)
                        if size == 0:
                            break
                        body += chunk[:-2]
                status, payload = await self._dispatch(target, headers, body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    @staticmethod
    def _params(headers: dict, body: bytes, query: str) -> tuple[dict, dict]:
        params: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        files: dict[str, dict] = {}
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json") and body:
            params.update(json.loads(body))
        elif ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                if filename is not None:
                    files[name] = {"filename": filename, "size": len(payload), "data": payload}
                else:
                    params[name] = payload.decode("utf-8")
        elif body:
            params.update(
                {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
            )
        for key, value in list(params.items()):
            if key in {
                "chat_id",
                "message_id",
                "offset",
                "limit",
                "timeout",
                "show_alert",
                "reply_markup",
                "reply_parameters",
                "commands",
                "allowed_updates",
                "entities",
                "link_preview_options",
            }:
                try:
                    params[key] = json.loads(value) if isinstance(value, str) else value
                except ValueError:
                    pass
        return params, files

    async def _dispatch(self, target: str, headers: dict, body: bytes) -> tuple[int, dict]:
        path, _, query = target.partition("?")
        m = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", path)
        if not m:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = m.group(1), m.group(2)
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params, files = self._params(headers, body, query)
        call = {
            "method": method,
            "params": params,
            "files": {k: {"filename": v["filename"], "size": v["size"]} for k, v in files.items()},
            "at": time.monotonic(),
            "error": None,
        }
        injected = None
        with self.lock:
            if self.injected.get(method):
                injected = self.injected[method].pop(0)
            delay = self.slow_chats.get(params.get("chat_id"), 0) if method != "getUpdates" else 0
        if delay:
            await asyncio.sleep(delay)
        try:
            if injected is not None:
                call["injected"] = True
                raise ApiError(429, f"Too Many Requests: retry after {injected}", retry_after=injected)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, files) if method == "getUpdates" else handler(params, files)
            status, payload = 200, {"ok": True, "result": result}
        except ApiError as exc:
            call["error"] = exc.description
            payload = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                payload["parameters"] = {"retry_after": exc.retry_after}
            if exc.migrate_to_chat_id is not None:
                payload["parameters"] = {"migrate_to_chat_id": exc.migrate_to_chat_id}
            status = exc.code
        if method != "getUpdates" or call["error"]:
            with self.changed:
                self.calls.append(call)
                self.changed.notify_all()
        return status, payload

    # -- internals: Bot API methods ----------------------------------------------------------------
    async def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("conflict")  # Telegram ends the older long poll
        me = asyncio.get_running_loop().create_future()
        self._poller = me
        self.polls += 1
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
            if ready:
                return json.loads(json.dumps(ready))
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._new_update.clear()
            waiter = asyncio.ensure_future(self._new_update.wait())
            done, _ = await asyncio.wait({waiter, me}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if me in done:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **user_dict(BOT_ID, is_bot=True),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        with self.lock:
            self.webhook = None
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url", "")
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self.lock:
            self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        return True

    def push_update(self, update: dict) -> dict:
        """Store an update for getUpdates and return it (webhook tests POST it themselves)."""
        self._push(update)
        return update

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands") or []
        for c in commands:
            if not re.match(r"^[a-z0-9_]{1,32}$", c.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is too long")
        with self.lock:
            self.commands = commands
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        with self.lock:
            return list(self.commands)

    def _known_chat(self, params: dict) -> Chat:
        chat_id = params.get("chat_id")
        with self.lock:
            if not isinstance(chat_id, int) or chat_id not in self.chats:
                raise ApiError(400, "Bad Request: chat not found")
            if chat_id in self.migrated:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self.migrated[chat_id],
                )
            return self.chats[chat_id]

    @staticmethod
    def _render(params: dict, key: str = "text") -> str:
        text = params.get(key, "")
        if params.get("parse_mode") == "HTML":
            plain = parse_html(text)
        elif params.get("parse_mode"):
            raise ApiError(400, "Bad Request: unsupported parse_mode in this stand-in")
        else:
            plain = text
        if not plain.strip() and key == "text":
            raise ApiError(400, "Bad Request: message text is empty")
        limit = 4096 if key == "text" else 1024
        if utf16_len(plain) > limit:
            raise ApiError(
                400, "Bad Request: message is too long" if key == "text" else "Bad Request: message caption is too long"
            )
        return plain

    @staticmethod
    def _markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if markup in (None, "", "null"):
            return None
        if isinstance(markup, str):
            markup = json.loads(markup)
        if "inline_keyboard" in markup:
            for row in markup["inline_keyboard"]:
                for b in row:
                    if not b.get("text"):
                        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                    if len(b.get("callback_data", "").encode()) > 64 or not b.get("callback_data"):
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            return markup if markup["inline_keyboard"] else None
        return markup

    def _bot_message(self, params: dict, **fields) -> dict:
        chat = self._known_chat(params)
        markup = self._markup(params)
        with self.lock:
            msg = self._new_message(chat, user_dict(BOT_ID, is_bot=True), **fields)
            if markup and "inline_keyboard" in markup:
                msg["reply_markup"] = markup
            elif markup:
                msg["_markup"] = markup  # ForceReply etc.: not returned by Telegram, kept for tests
            reply = params.get("reply_parameters")
            if isinstance(reply, dict) and reply.get("message_id") in chat.messages:
                msg["reply_to_message"] = {
                    k: v for k, v in chat.messages[reply["message_id"]].items() if k != "reply_to_message"
                }
            return {k: v for k, v in msg.items() if not k.startswith("_")}

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        text = self._render(params)
        return self._bot_message(params, text=text, _html=params.get("text"))

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        if "photo" not in files:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        msg = self._bot_message(
            params,
            photo=[{"file_id": "ph", "file_unique_id": "ph", "width": 1, "height": 1}],
            _file=files["photo"]["filename"],
            **self._caption(params),
        )
        with self.lock:
            self.sent_files[(msg["chat"]["id"], msg["message_id"])] = files["photo"]["data"]
        return msg

    def _caption(self, params: dict) -> dict:
        """A file's caption as Telegram keeps it (parsed like a text, at most 1024 characters)."""
        return {"caption": self._render(params, "caption")} if params.get("caption") else {}

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        if "document" not in files:
            raise ApiError(400, "Bad Request: there is no document in the request")
        msg = self._bot_message(
            params,
            document={"file_id": "doc", "file_unique_id": "doc", "file_name": files["document"]["filename"]},
            _file=files["document"]["filename"],
            **self._caption(params),
        )
        with self.lock:
            self.sent_files[(msg["chat"]["id"], msg["message_id"])] = files["document"]["data"]
        return msg

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        self._known_chat(params)
        if params.get("action") not in {"typing", "upload_photo", "upload_document"}:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _editable(self, params: dict) -> dict:
        chat = self._known_chat(params)
        msg = chat.messages.get(params.get("message_id"))
        if msg is None or msg["from"]["id"] != BOT_ID:
            raise ApiError(400, "Bad Request: message to edit not found")
        return msg

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        with self.lock:
            msg = self._editable(params)
            text = self._render(params)
            markup = self._markup(params)
            if text == msg.get("text") and markup == msg.get("reply_markup"):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            msg["text"], msg["_html"], msg["edited"] = text, params.get("text"), True
            if markup:
                msg["reply_markup"] = markup
            else:
                msg.pop("reply_markup", None)
            return {k: v for k, v in msg.items() if not k.startswith("_")}

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        with self.lock:
            msg = self._editable(params)
            markup = self._markup(params)
            if markup == msg.get("reply_markup"):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            if markup:
                msg["reply_markup"] = markup
            else:
                msg.pop("reply_markup", None)
            return {k: v for k, v in msg.items() if not k.startswith("_")}

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        qid = str(params.get("callback_query_id"))
        with self.lock:
            if qid in self.callback_answers:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            self.callback_answers[qid] = params
        return True
