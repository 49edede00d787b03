"""The Bot API transport (bot/channels/telegram/transport.py) where the stand-in cannot show it:
a proxy named by the environment, a server that stops answering, a bounded pool, and failures
turned into python-telegram-bot's own errors (which the channel's retries rely on).

The sends, uploads and 429s of a real consultation go through it in every other Telegram test.
Every server here is a few lines of asyncio on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from neuroladder.bot.channels.telegram.transport import AiohttpRequest, proxy_for

OK = json.dumps({"ok": True, "result": True}).encode()


class Server:
    """A tiny HTTP/1.1 server: records each request's first line and body, answers `OK` after
    `delay` seconds (None: never), counts the connections open at once."""

    def __init__(self, delay: float | None = 0.0):
        self.delay = delay
        self.requests: list[tuple[str, bytes]] = []
        self.content_types: list[str] = []
        self.open = 0
        self.most_open = 0

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length"), 0
                )
                body = await reader.readexactly(length) if length else b""
                self.requests.append((lines[0], body))
                self.content_types += [
                    v.strip() for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-type"
                ]
                if self.delay is None:
                    await asyncio.sleep(3600)
                await asyncio.sleep(self.delay)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(OK) + OK
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open -= 1
            writer.close()


def params(**values) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


@pytest.fixture
def no_proxy_env(monkeypatch):
    for key in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


async def test_a_call_reaches_the_api_as_the_same_parameters_in_json(no_proxy_env):
    """The Bot API reads a JSON body's string values as it reads form values (tdlib's HttpReader):
    what arrives is, key for key, what PTB's own backend would have form-encoded."""
    sent_params = params(
        chat_id=7,
        text="B12 normal & SPEP neg, <b>ünï</b> 💊 = 100%",
        parse_mode="HTML",
        reply_markup={"inline_keyboard": [[{"callback_data": "k1.0", "text": "Yes"}]]},
    )
    async with Server() as server:
        request = AiohttpRequest(2)
        await request.initialize()
        try:
            status, body = await request.do_request(
                f"http://127.0.0.1:{server.port}/botTOKEN/sendMessage", "POST", sent_params
            )
        finally:
            await request.shutdown()
    assert (status, json.loads(body)) == (200, {"ok": True, "result": True})
    [(line, sent)] = server.requests
    assert line == "POST /botTOKEN/sendMessage HTTP/1.1"
    assert server.content_types == ["application/json"]
    as_form = dict(urllib.parse.parse_qsl(sent_params.url_encoded_parameters()))
    assert json.loads(sent) == as_form
    assert all(isinstance(value, str) for value in json.loads(sent).values())


async def test_the_proxy_named_by_the_environment_carries_the_calls(no_proxy_env):
    """Hospital networks often reach the internet only through a proxy: the bot must use it."""
    async with Server() as proxy:
        no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        request = AiohttpRequest(2)
        await request.initialize()
        try:
            # nothing listens on port 9 (discard): only the proxy can answer
            status, _ = await request.do_request("http://127.0.0.1:9/botTOKEN/getMe", "POST")
        finally:
            await request.shutdown()
    assert status == 200
    assert proxy.requests[0][0] == "POST http://127.0.0.1:9/botTOKEN/getMe HTTP/1.1"


def test_no_proxy_exempts_a_host(no_proxy_env):
    no_proxy_env.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert proxy_for("https://api.telegram.org/botTOKEN/getMe") == "http://127.0.0.1:3128"
    no_proxy_env.setenv("NO_PROXY", "api.telegram.org")
    assert proxy_for("https://api.telegram.org/botTOKEN/getMe") is None


async def test_a_server_that_stops_answering_is_a_timeout_not_a_hang(no_proxy_env):
    async with Server(delay=None) as server:
        request = AiohttpRequest(2, read_timeout=0.3)
        await request.initialize()
        try:
            with pytest.raises(TimedOut):
                await asyncio.wait_for(request.do_request(f"http://127.0.0.1:{server.port}/botT/getMe", "POST"), 10)
        finally:
            await request.shutdown()


async def test_an_unreachable_server_is_a_network_error(no_proxy_env):
    async with Server() as server:
        port = server.port
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/botT/getMe", "POST")
    finally:
        await request.shutdown()


async def test_at_most_limit_connections_however_many_calls_wait(no_proxy_env):
    async with Server(delay=0.05) as server:
        request = AiohttpRequest(3, pool_timeout=30)
        await request.initialize()
        try:
            url = f"http://127.0.0.1:{server.port}/botT/sendMessage"
            results = await asyncio.gather(
                *(request.do_request(url, "POST", params(chat_id=i, text="x")) for i in range(20))
            )
        finally:
            await request.shutdown()
    assert [status for status, _ in results] == [200] * 20
    assert len(server.requests) == 20
    assert server.most_open == 3
