"""Webhook mode: Telegram POSTs each update to us instead of being polled (stdlib asyncio server).

Meant to sit behind a TLS-terminating reverse proxy (Telegram only calls https URLs). Every
request must carry the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; any
other request is refused with 403 and nothing of it is stored. An update is committed to the
inbox before the 200 answer, which is Telegram's acknowledgement: if we die first, Telegram
delivers it again and the inbox's unique key keeps it from running twice.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from telegram import Update

log = logging.getLogger("neuroladder.telegram")

MAX_BODY = 1_000_000
MAX_LINE = 8192  # one request or header line
MAX_HEADER_BYTES = 32_768  # all headers together: read before the secret is checked, so bounded
MAX_HEADERS = 100
SECRET_HEADER = "x-telegram-bot-api-secret-token"


class WebhookServer:
    """Accepts Telegram's POSTs at the webhook URL's path and hands each update to `receive`."""

    def __init__(
        self,
        url: str,
        secret: str,
        receive: Callable[[list[Update]], None],
        bot,
        host: str = "127.0.0.1",
        port: int = 8443,
    ):
        self.path = urlsplit(url).path or "/"
        self.secret = secret.encode()
        self.receive = receive
        self.bot = bot
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("webhook listening on %s:%s%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status = 400
        try:
            status = await asyncio.wait_for(self._request(reader), 30)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError, UnicodeError):
            status = 400
        except Exception:  # the update was not stored: Telegram will deliver it again
            log.exception("webhook update could not be stored")
            status = 500
        reason = {
            200: "OK",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            405: "Method Not Allowed",
            413: "Payload Too Large",
            431: "Request Header Fields Too Large",
            500: "Internal Server Error",
        }.get(status, "Error")
        try:
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> int:
        verb, target, _ = (await reader.readline()).decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        size = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            size += len(line)
            if size > MAX_HEADER_BYTES or len(headers) >= MAX_HEADERS:
                return 431
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if not hmac.compare_digest(headers.get(SECRET_HEADER, "").encode(), self.secret):
            return 403
        if target.split("?", 1)[0] != self.path:
            return 404
        if verb != "POST":
            return 405
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY:
            return 413
        data = json.loads(await reader.readexactly(length))
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return 400
        try:
            update = Update.de_json(data, self.bot)
        except (TypeError, KeyError, ValueError, AttributeError):  # JSON, but not an update
            return 400
        if update is None:
            return 400
        self.receive([update])  # committed to the inbox before we answer 200
        return 200
