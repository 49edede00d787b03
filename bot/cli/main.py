"""`neuroladder` - the command line: a thin layer over the same functions the tests call."""

from __future__ import annotations

import argparse
import logging
import platform
import sys

from neuroladder.bot import settings

from . import log as logcli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuroladder",
        description="Decision support for treatment-resistant "
        "peripheral neuropathic pain (supports, never replaces, clinical judgement).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    from neuroladder.bot.channels import console

    chat = sub.add_parser("chat", help="a consultation in the terminal")
    console.configure_parser(chat)
    chat.set_defaults(func=console.run)

    run = sub.add_parser("run", help="the Telegram bot (long polling); the terminal chat when no token is set")
    try:
        from neuroladder.bot.channels.telegram import app as telegram
    except ImportError:  # the Telegram adapter is optional at import time; `run` says so
        telegram = None
    if telegram is not None:
        telegram.configure_parser(run)
    else:
        run.add_argument("--db", default=None)
    run.set_defaults(func=lambda a: _run_bot(a, telegram.main if telegram else None))

    matrix = sub.add_parser("matrix", help="the Matrix bot (end-to-end encrypted rooms)")
    try:
        from neuroladder.bot.channels.matrix import app as matrix_mod
    except ImportError:
        matrix_mod = None
    if matrix_mod is not None and hasattr(matrix_mod, "configure_parser"):
        matrix_mod.configure_parser(matrix)
        matrix.set_defaults(func=matrix_mod.main)
    else:
        matrix.set_defaults(func=lambda a: _missing("the Matrix channel (pip install 'neuroladder[matrix]')"))
    logcli.configure(sub)  # purge, export, db check|encrypt|decrypt
    from neuroladder.bot.tutor import cases  # `neuroladder cases check [--dir DIR]`

    cases.configure_parser(
        sub.add_parser("cases", help="tutoring cases: check them against the schema and the ruleset")
    )
    _every_command_reads_env_files(parser)
    return parser


def _every_command_reads_env_files(parser: argparse.ArgumentParser) -> None:
    """`--env-file PATH` on every command that runs (`chat`, `db check`, `cases check`, ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    _every_command_reads_env_files(sub)  # `db`: the option goes on check, encrypt, decrypt
                elif not any("--env-file" in a.option_strings for a in sub._actions):
                    settings.add_env_file_option(sub)


def _run_bot(args: argparse.Namespace, telegram_main) -> int:
    """`run`: Telegram when a token is set, else a consultation in this terminal."""
    import os

    if os.environ.get("TELEGRAM_BOT_TOKEN", "").strip():
        if telegram_main is None:
            return _missing("the Telegram channel")
        return telegram_main(args)
    from neuroladder.bot.channels import console

    print(
        "No TELEGRAM_BOT_TOKEN set: starting a consultation in this terminal (set the token to serve Telegram).",
        file=sys.stderr,
    )
    args.out = getattr(args, "out", ".")
    return console.run(args)


def _missing(what: str) -> int:
    print(f"neuroladder: {what} is not available in this installation.", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        parser = build_parser()
    except ImportError as exc:  # the compiled engine did not load: one line that says why, not a traceback
        if "durable" not in str(exc) and "PyEval_CallObject" not in str(exc):
            raise
        print(
            f"neuroladder: the rules engine (durable-rules) does not load on CPython {platform.python_version()}: "
            f"{exc}; on 3.13+ it needs upstream's fix (README.md: Python versions and the C compiler)",
            file=sys.stderr,
        )
        return 1
    args = parser.parse_args(argv)
    try:
        # One way for every command: the environment, then .env or --env-file (the environment wins).
        settings.load_environment(getattr(args, "env_file", None))
    except settings.SettingsError as exc:
        print(f"neuroladder {args.command}: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except logcli.ERRORS as exc:  # a wrong or missing DB key, no log file: one line, exit 2
        return logcli.fail(exc)
    except BrokenPipeError:  # `neuroladder chat | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
