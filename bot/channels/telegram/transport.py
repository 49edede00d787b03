"""How python-telegram-bot reaches the Bot API: its `BaseRequest` interface, on aiohttp.

PTB's default backend is httpx. Measured with bench/e2e.py (100 chats at once on the stand-in),
httpx and httpcore were the largest part of the bot's CPU per turn: connection-pool bookkeeping
that walks every queued request and connection on each call, and a pure-Python HTTP parser.
aiohttp (already installed with matrix-nio) parses HTTP in C and keeps idle connections in a plain
per-host list; the same load costs about 40% less CPU per turn (bench/README.md).

What it keeps from PTB's HTTPXRequest:
- a bounded pool (`limit` connections; further calls wait for one, up to the pool timeout);
- PTB's timeouts: connect (plus the wait for a pooled connection), read, and write for uploads;
- the proxy from the environment (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minus NO_PROXY), read
  once per host instead of on every call as aiohttp's `trust_env` would (it looks up the
  environment and ~/.netrc in a thread for each request);
- failures as PTB's own errors (`TimedOut`, `NetworkError`), so retries and backoffs are unchanged.

Calls without files go as a JSON object of the same string parameters PTB's own backend
form-encodes (one of the encodings the Bot API documents): the Bot API server (tdlib's HttpReader)
takes a JSON string value exactly as it takes the form value, so Telegram reads the same call,
and `json.dumps` is ~8x cheaper than `urlencode`'s per-byte quoting of a reply's text. Uploads go
as multipart.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's marker for "no timeout given: use the default"

JSON_HEADERS = {"Content-Type": "application/json"}


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (None: connect directly), as curl and httpx read it."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass_environment(parts.hostname):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parts.scheme) or proxies.get("all")


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` for python-telegram-bot on one aiohttp session (see the module docstring)."""

    __slots__ = ("_limit", "_timeouts", "_session", "_proxies")

    def __init__(
        self,
        limit: int = 8,
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ):
        self._limit = limit
        self._timeouts = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": write_timeout,
            "pool": pool_timeout,
            "media_write": media_write_timeout,
        }
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                headers={"User-Agent": self.USER_AGENT},
                trust_env=False,  # the proxy is read once per host (proxy_for), not per call
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(self, given: Any, name: str) -> float | None:
        return self._timeouts[name] if isinstance(given, DEFAULT) else given

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        read = self._timeout(read_timeout, "read")
        write = self._timeout(write_timeout, "media_write" if files else "write")
        connect = self._timeout(connect_timeout, "connect")
        pool = self._timeout(pool_timeout, "pool")
        # aiohttp's `connect` covers the wait for a pooled connection and opening a new one; it has
        # no write timeout of its own, so sending the body is bounded by `total` (write + read).
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write + (connect or 0) + (pool or 0),
            connect=None if connect is None and pool is None else (connect or 0) + (pool or 0),
            sock_read=read,
        )
        kwargs: dict[str, Any] = {}
        if files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            kwargs["data"] = form
        elif request_data is not None and request_data.parameters:
            kwargs["data"] = json.dumps(request_data.json_parameters).encode()
            kwargs["headers"] = JSON_HEADERS
        origin = url[: url.find("/", url.find("://") + 3)]  # scheme://host:port
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(url)
        try:
            async with self._session.request(
                method, url, timeout=timeout, proxy=self._proxies[origin], **kwargs
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
