"""End to end: the real `neuroladder run` against the Bot API stand-in, then a bare echo bot, same load.

    python bench/e2e.py                        # 100 chats x 10 turns, both bots, 2 rounds, one table
    python bench/e2e.py --rounds 1 --only neuroladder
    python bench/e2e.py --profile /tmp/prof    # each bot process under cProfile (.prof files, top 25)
    python bench/e2e.py --py-spy /tmp/spy      # each bot sampled by py-spy during the load (raw stacks)
    python bench/e2e.py --patch httpx=8,echo-aiohttp   # experiments, see PATCHES
    python bench/e2e.py --patch noconsult,echo-aiohttp # the channel's own cost against the echo bot's

The Bot API stand-in (tests/botapi_standin.py) runs in this process on 127.0.0.1. 100 clinicians
write at once, each a consultation from conversations/cases/*.toml (`/start`, then the case's
turns), and each sends its next message as soon as the bot's reply to the previous one arrives,
like a human with no thinking time. Measured per bot process:

- turns per second: answered turns / (last reply - first message);
- first-reply latency: from the update being available to getUpdates to the stand-in receiving the
  bot's first sendMessage for it (p50, p99);
- CPU time of the bot process per turn (from /proc): unlike throughput, hardly disturbed by other
  processes on the machine, so the better figure when comparing two changes.

Each round starts `neuroladder run` (fresh temporary SQLite file, `--open`), then, against the same
stand-in, the bare python-telegram-bot echo bot (bench/echo_bot.py) with the same messages in new
chats. The ratio of their throughputs is the figure of issue 7 (target >= 0.8); the median over
the rounds is printed last. Each bot first answers a short warm-up chat that is not measured.
Telegram's flood limit (30 messages/s per bot) is not what is measured here: NeuroLadder's rate
limiter is set to --rate (default 10000/s); the echo bot has none. Every loop is bounded (--timeout
per bot, 30 s for start-up and warm-up) and all traffic stays on 127.0.0.1.

--patch runs the bots through this file (`--boot`) with named changes applied in the bot process,
to measure a proposed fix before it is made in bot code; without --patch/--profile the bots are
started exactly as an operator starts them (`neuroladder run ...`, `python bench/echo_bot.py`).
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the stand-in lives with the tests

from botapi_standin import BotAPIStandIn  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def scripts(turns: int) -> list[list[str]]:
    """One consultation per case file: /start, then the case's turns (turns - 1 of them)."""
    out = []
    for path in sorted(resources.files("neuroladder.conversations").joinpath("cases").iterdir()):
        if path.name.endswith(".toml"):
            case_turns = tomllib.loads(path.read_text())["turns"]
            out.append(["/start", *case_turns][:turns])
    if not out:
        raise SystemExit("no case files with turns in conversations/cases")
    return out


@dataclass
class ChatLoad:
    chat_id: int
    script: list[str]
    sent: int = 0  # messages sent so far
    pushed_at: float = 0.0
    waiting: bool = False  # the last message has no reply yet


@dataclass
class Phase:
    """One bot under load: chats, latencies, counters. Updated on the stand-in's thread."""

    name: str
    chats: dict[int, ChatLoad]
    latencies: list[float] = field(default_factory=list)
    extra_messages: int = 0  # further sendMessage calls for an already answered turn (chunks)
    first_push: float = 0.0
    last_reply: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def expected(self) -> int:
        return sum(len(c.script) for c in self.chats.values())


class LoadStandIn(BotAPIStandIn):
    """The stand-in, plus simulated clinicians who answer each reply with their next message."""

    phase: Phase | None = None
    connections = 0  # TCP connections accepted so far

    async def _connection(self, reader, writer) -> None:
        self.connections += 1
        await super()._connection(reader, writer)

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        result = super()._api_sendMessage(params, files)
        now = time.monotonic()
        phase = self.phase
        chat = phase.chats.get(params.get("chat_id")) if phase else None
        if chat is not None:
            if chat.waiting:
                chat.waiting = False
                phase.latencies.append(now - chat.pushed_at)
                phase.last_reply = now
                if chat.sent < len(chat.script):
                    self._loop.call_soon(self.next_message, chat)  # after this response is written
                elif len(phase.latencies) == phase.expected:
                    phase.done.set()
            else:
                phase.extra_messages += 1
        return result

    def next_message(self, chat: ChatLoad) -> None:
        text = chat.script[chat.sent]
        chat.sent += 1
        chat.waiting = True
        chat.pushed_at = time.monotonic()  # the update is available from the next line on
        self.send_text(chat.chat_id, text)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def bot_env(api: BotAPIStandIn, rate: float, patches: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        PYTHONUNBUFFERED="1",
        NEUROLADDER_TELEGRAM_RATE=str(rate),
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
        E2E_PATCHES=patches,
    )
    return env


# -- experiments: the bot process started through this file (--boot) with patches applied -------
def _patch_sniffio(value: str) -> None:
    """As if `sniffio` were installed: httpcore imports it on every lock, and a failed import is slow."""
    import types

    fake = types.ModuleType("sniffio")
    fake.current_async_library = lambda: "asyncio"
    sys.modules.setdefault("sniffio", fake)


def _patch_pool(value: str) -> None:
    """NeuroLadder's Bot API connection pool (bot/channels/telegram/transport.py) at `value` connections."""
    from neuroladder.bot.channels.telegram import app as tg

    build = tg.build_application
    tg.build_application = lambda cfg: build(cfg, pool=int(value))


def _patch_nolimiter(value: str) -> None:
    """AIORateLimiter bypassed (each request goes straight out): what the limiter itself costs."""
    from telegram.ext import AIORateLimiter

    async def straight(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        return await callback(*args, **kwargs)

    AIORateLimiter.process_request = straight


def _patch_httpx(value: str) -> None:
    """NeuroLadder on PTB's own backend again (httpx), at most `value` calls inside it at once with a
    pool of that size: the design before bot/channels/telegram/transport.py, for comparison."""
    import asyncio

    from telegram.request import HTTPXRequest

    from neuroladder.bot.channels.telegram import app as tg

    class Gated(HTTPXRequest):
        def __init__(self, limit: int, **kwargs):
            super().__init__(connection_pool_size=limit, **kwargs)
            self._gate = asyncio.Semaphore(limit)

        async def do_request(self, *args, **kwargs):
            async with self._gate:
                return await super().do_request(*args, **kwargs)

    tg.AiohttpRequest = lambda limit, **timeouts: Gated(int(value or 8) if limit > 1 else 1, **timeouts)


def _patch_echo_aiohttp(value: str) -> None:
    """The echo bot on NeuroLadder's transport instead of httpx: what the transport alone is worth."""
    from telegram.ext import ApplicationBuilder

    from neuroladder.bot.channels.telegram.transport import AiohttpRequest

    build = ApplicationBuilder.build

    def with_aiohttp(self):
        self.request(AiohttpRequest(8, read_timeout=20)).get_updates_request(AiohttpRequest(1, read_timeout=20))
        return build(self)

    ApplicationBuilder.build = with_aiohttp


def _patch_noconsult(value: str) -> None:
    """NeuroLadder's channel without the consult: every message is answered at once with its text
    and four buttons, nothing stored but the inbox and outbox rows. What is left is the channel's
    own cost per turn (inbox, outbox, PTB, rate limiter, transport, event loop) to set beside the
    echo bot's."""
    from neuroladder.bot import service
    from neuroladder.bot.views.reply import Choice, Reply

    class NoConsult:
        def __init__(self, store):
            self.store = store

        @staticmethod
        def commands():
            return [("start", "Start a new consultation")]

        @staticmethod
        def sends_file(text):
            return ""

        def handle(self, channel, chat_id, text, **turn):
            reply = Reply().add(f"Noted: {text}").line("Next question?")
            reply.choices = [Choice(label, label.lower()) for label in ("Yes", "No", "Unknown", "Why?")]
            return [reply]

    service.Service = NoConsult  # what `neuroladder run` builds its service from


PATCHES = {
    "sniffio": _patch_sniffio,
    "pool": _patch_pool,
    "nolimiter": _patch_nolimiter,
    "httpx": _patch_httpx,
    "echo-aiohttp": _patch_echo_aiohttp,
    "noconsult": _patch_noconsult,
}
NEUROLADDER_ONLY = {"nolimiter", "pool", "httpx", "noconsult"}
ECHO_ONLY = {"echo-aiohttp"}


def boot(kind: str, argv: list[str]) -> int:
    """Run a bot in this process after applying the patches named in $E2E_PATCHES (name[=value],...)."""
    for item in filter(None, os.environ.get("E2E_PATCHES", "").split(",")):
        name, _, value = item.partition("=")
        if (name in NEUROLADDER_ONLY and kind != "neuroladder") or (name in ECHO_ONLY and kind == "neuroladder"):
            continue
        PATCHES[name](value)
    if kind == "neuroladder":
        from neuroladder.bot.cli.main import main as cli_main

        return cli_main(argv)
    import runpy

    sys.argv = [str(ROOT / "bench" / "echo_bot.py"), *argv]
    runpy.run_path(sys.argv[0], run_name="__main__")
    return 0


def command(kind: str, tmp: Path, profile: Path | None, patches: str, tag: str) -> list[str]:
    bot_args = (
        ["run", "--open", "--db", str(tmp / f"e2e-{tag}.db"), "--poll-timeout", "10"] if kind == "neuroladder" else []
    )
    if profile is None and not patches:  # the real thing, as an operator starts it
        if kind == "neuroladder":
            script = Path(sys.executable).with_name("neuroladder")
            entry = [str(script)] if script.exists() else [sys.executable, "-m", "neuroladder.bot.cli.main"]
            return entry + bot_args
        return [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
    py = [sys.executable]
    if profile is not None:
        py += ["-m", "cProfile", "-o", str(profile / f"{kind}-{tag}.prof")]
    return py + [str(Path(__file__).resolve()), "--boot", kind, "--", *bot_args]


def run_phase(
    api: LoadStandIn, kind: str, chat_base: int, texts: list[list[str]], chats: int, args, tmp: Path, tag: str
) -> dict:
    log_path = tmp / f"{kind}-{tag}.log"
    with open(log_path, "wb") as log:
        polls = api.polls
        started = time.monotonic()
        proc = subprocess.Popen(
            command(kind, tmp, args.profile, args.patch, tag),
            env=bot_env(api, args.rate, args.patch),
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            api.wait_until(lambda: api.polls > polls or proc.poll() is not None, 30, f"{kind} to poll")
            if proc.poll() is not None:
                raise SystemExit(f"{kind} exited at start:\n{log_path.read_text(errors='replace')[-2000:]}")
            startup = time.monotonic() - started
            # warm-up: one chat, two turns, not measured
            warm = Phase(f"{kind}-warmup", {chat_base - 1: ChatLoad(chat_base - 1, texts[0][:2])})
            api.phase = warm
            api._loop.call_soon_threadsafe(api.next_message, warm.chats[chat_base - 1])
            if not warm.done.wait(30):
                raise SystemExit(
                    f"{kind} did not answer the warm-up chat:\n{log_path.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.5)  # let the warm-up's trailing calls (typing, edits) settle
            errors_before = len(api.errors())
            calls_before = len(api.calls)
            connections_before = api.connections
            polls_before = api.polls
            phase = Phase(kind, {chat_base + i: ChatLoad(chat_base + i, texts[i % len(texts)]) for i in range(chats)})
            for c in phase.chats.values():
                api.chat(c.chat_id, "private")
            spy = None
            if args.py_spy is not None:  # sample the bot during the measured load only
                idle = ["--idle"] if os.environ.get("E2E_SPY_IDLE") else []
                spy = subprocess.Popen(
                    [
                        shutil.which("py-spy") or "py-spy",
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--nonblocking",
                        *idle,
                        "-o",
                        str(args.py_spy / f"{kind}-{tag}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)  # py-spy attaches
            cpu_before = cpu_seconds(proc.pid)
            own_before = time.process_time()
            api.phase = phase

            def kick_off() -> None:  # every chat's first message at once
                phase.first_push = time.monotonic()
                for c in phase.chats.values():
                    api.next_message(c)

            api._loop.call_soon_threadsafe(kick_off)
            finished = phase.done.wait(args.timeout)
            cpu = cpu_seconds(proc.pid) - cpu_before
            own_cpu = time.process_time() - own_before
            time.sleep(0.3)
            api.phase = None
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            with api.lock:
                calls = api.calls[calls_before:]
            errors = api.errors()[errors_before:]
            connections = api.connections - connections_before
            polls = api.polls - polls_before
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    lat = sorted(phase.latencies)
    n = len(lat)
    wall = (phase.last_reply - phase.first_push) if n else float("nan")
    answered = n
    failed = [t for c in phase.chats for t in api.bot_texts(c) if "something went wrong" in t.lower()]
    return {
        "kind": f"{kind} #{tag}",
        "bot": kind,
        "finished": finished,
        "turns": answered,
        "expected": phase.expected,
        "wall": wall,
        "tps": answered / wall if n and wall > 0 else 0.0,
        "p50": lat[n // 2] * 1000 if n else float("nan"),
        "p99": lat[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
        "max": lat[-1] * 1000 if n else float("nan"),
        "cpu_ms": cpu / max(answered, 1) * 1000,
        "standin_cpu_ms": own_cpu / max(answered, 1) * 1000,
        "calls": len(calls) / max(answered, 1),
        "extra": phase.extra_messages,
        "connections": connections,
        "errors": len(errors),
        "polls": polls / max(answered, 1),
        "error_samples": sorted({e["error"] for e in errors})[:3],
        "failed_replies": len(failed),
        "startup": startup,
        "exit": proc.returncode,
        "log": log_path,
    }


def print_profile(path: Path, limit: int = 25) -> None:
    if path.exists():
        print(f"\n--- {path.name}: top {limit} by internal time ---")
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(limit)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=100)
    ap.add_argument("--turns", type=int, default=10, help="messages per chat (/start + case turns)")
    ap.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="neuroladder then echo, this many times (fresh processes and chats each round)",
    )
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for each bot's load")
    ap.add_argument(
        "--rate", type=float, default=10000.0, help="NeuroLadder's overall flood limit in messages/s (Telegram's is 30)"
    )
    ap.add_argument("--only", choices=["neuroladder", "echo"], default=None, help="run one bot only")
    ap.add_argument("--profile", type=Path, default=None, help="run each bot under cProfile, .prof files here")
    ap.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        help="sample each bot with py-spy during the load (py-spy on PATH), raw stacks here",
    )
    ap.add_argument(
        "--patch",
        default="",
        help="experiments: comma-separated patches for the bot processes, from "
        f"{', '.join(sorted(PATCHES))} (pool=N and httpx=N take a number); "
        f"{', '.join(sorted(NEUROLADDER_ONLY))} apply to NeuroLadder only, {', '.join(sorted(ECHO_ONLY))} to the echo bot only",
    )
    ap.add_argument("--boot", choices=["neuroladder", "echo"], help=argparse.SUPPRESS)
    ap.add_argument("bot_args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.boot:
        return boot(args.boot, args.bot_args)
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        args.profile = args.profile.resolve()
    texts = scripts(args.turns)
    results = []
    with tempfile.TemporaryDirectory() as tmp, LoadStandIn() as api:
        tmp = Path(tmp)
        for i in range(1, args.rounds + 1):
            if args.only in (None, "neuroladder"):
                results.append(run_phase(api, "neuroladder", i * 1000, texts, args.chats, args, tmp, str(i)))
            if args.only in (None, "echo"):
                results.append(run_phase(api, "echo", 100_000 + i * 1000, texts, args.chats, args, tmp, str(i)))
        for r in results:
            if not r["finished"] or r["errors"] or r["failed_replies"] or r["exit"] != 0:
                print(
                    f"warning: {r['kind']}: finished={r['finished']} errors={r['errors']} "
                    f"{r['error_samples']} failed replies={r['failed_replies']} exit={r['exit']}"
                )
                print(r["log"].read_text(errors="replace")[-3000:])
    print(
        f"{args.chats} chats x {args.turns} turns at once, Bot API stand-in on 127.0.0.1, "
        f"{os.cpu_count()} CPUs, NeuroLadder flood limit {args.rate:g}/s"
        + (f", patches: {args.patch}" if args.patch else "")
    )
    rows = [
        ("answered turns", "{turns}/{expected}"),
        ("wall (s)", "{wall:.2f}"),
        ("turns/s", "{tps:.1f}"),
        ("first reply p50 (ms)", "{p50:.1f}"),
        ("first reply p99 (ms)", "{p99:.1f}"),
        ("first reply max (ms)", "{max:.1f}"),
        ("bot CPU per turn (ms)", "{cpu_ms:.2f}"),
        ("stand-in CPU per turn (ms)", "{standin_cpu_ms:.2f}"),
        ("Bot API calls per turn", "{calls:.2f}"),  # every call but getUpdates (typed turns: no presses)
        ("getUpdates calls per turn", "{polls:.2f}"),
        ("extra sendMessage (chunks)", "{extra}"),
        ("TCP connections opened", "{connections}"),
        ("start-up to first poll (s)", "{startup:.2f}"),
        ("API errors", "{errors}"),
    ]
    print(f"{'':<28}" + "".join(f"{r['kind']:>16}" for r in results))
    for label, fmt in rows:
        print(f"{label:<28}" + "".join(f"{fmt.format(**r):>16}" for r in results))
    pairs = [] if args.only else [(a, b) for a, b in zip(results[::2], results[1::2]) if b["tps"] and a["cpu_ms"]]
    for a, b in pairs:
        ratio = a["tps"] / b["tps"]
        print(
            f"round {a['kind'].split('#')[1]}: throughput ratio neuroladder/echo {ratio:.2f} "
            f"(target >= 0.8: {'met' if ratio >= 0.8 else 'MISSED'}); "
            f"CPU per turn echo/neuroladder {b['cpu_ms'] / a['cpu_ms']:.2f}"
        )
    if pairs:
        ratios = sorted(a["tps"] / b["tps"] for a, b in pairs)
        print(f"median throughput ratio over {len(ratios)} round(s): {statistics.median(ratios):.2f}")
    if args.profile is not None:
        for r in results:
            print_profile(args.profile / f"{r['bot']}-{r['kind'].split('#')[1]}.prof")
    return 0 if all(r["finished"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
