"""A channel's `main`: serve until stopped, and say in one line why it stopped.

The operator of `neuroladder run` or `neuroladder matrix` gets one line on stderr and an exit
status (0 stopped, 1 could not go on, 2 bad settings or log key), never a traceback; the details
of an unexpected error go to the debug log only, with the channel's secrets taken out.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from neuroladder.bot.settings import redact

log = logging.getLogger("neuroladder")


def serve_until_stopped(
    prog: str,
    serve: Callable[[], Awaitable[object]],
    *,
    one_line: dict[type[BaseException], int],
    secrets: tuple[str, ...] = (),
) -> int:
    """Run `serve()`; an exception of a kind in `one_line` is printed as its message with that
    exit status; Ctrl-C is a normal stop."""
    try:
        asyncio.run(serve())
        return 0
    except KeyboardInterrupt:
        return 0
    except tuple(one_line) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return next(code for kind, code in one_line.items() if isinstance(exc, kind))
    except Exception as exc:
        log.debug("stopped by an unexpected error", exc_info=True)
        print(f"{prog}: stopped by an unexpected error: {redact(repr(exc), list(secrets))}", file=sys.stderr)
        return 1


def stop_on_signals(stop: Callable[[], object]) -> None:
    """SIGINT and SIGTERM call `stop` on the running loop (where the platform lets them)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):
            pass
