"""Settings: how every command reads the environment and `.env`, and the Telegram channel's settings.

Every `neuroladder` subcommand (chat, run, matrix, purge, export, db ..., cases) calls
`load_environment()` before it does anything else: `KEY=value` lines from `--env-file PATH`
(default: `.env` in the working directory, when there is one) are added to the environment, and
variables already set win. Everything that can be wrong with the settings is found before any
network call or file is touched, and is reported as one `SettingsError` line (the caller prints it
and exits with status 2). The token is a secret: `redact()` removes it from any text before it is
logged.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Bot API tokens look like "123456789:AA…" (digits, a colon, 30+ URL-safe characters).
TOKEN_RE = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{30,100}$")
ENV_LINE_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line meant for the operator."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    db_path: str = "neuroladder.db"
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    open_access: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    poll_timeout: float = 30.0
    overall_rate: float = 30.0  # messages per second for the whole bot (Telegram's flood limit)
    group_rate: float = 20.0  # messages per minute in one group (Telegram's flood limit)

    def is_allowed(self, user_id: int | None, chat_id: int) -> bool:
        """A member of an allowed chat, or an allowed user anywhere, may consult the bot."""
        if self.open_access:
            return True
        return chat_id in self.allowed_chats or (user_id is not None and user_id in self.allowed_users)


DEFAULT_ENV_FILE = ".env"


def add_env_file_option(parser) -> None:
    """`--env-file PATH` on a subcommand (every subcommand has it; see load_environment)."""
    parser.add_argument(
        "--env-file",
        default=None,
        metavar="PATH",
        help=f"read KEY=value settings from this file (default: {DEFAULT_ENV_FILE} in the working "
        "directory, when present); variables already set in the environment win",
    )


def read_env_file(path: str | Path) -> dict[str, str]:
    """The `KEY=value` lines of a `.env` file (blank lines and `# comments` skipped, `export KEY=...`
    and quoted values allowed). A line of any other shape is a SettingsError naming file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the settings file {p}: {exc.__class__.__name__}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = ENV_LINE_RE.match(raw)
        if not m:  # never echo the line: it may hold a secret
            raise SettingsError(f"{p} line {number} is not KEY=value")
        key, value = m.group(1), m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def load_env_file(path: str | Path, environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Read `KEY=value` lines into `environ` without overriding variables already set.
    False when there is no such file."""
    if not Path(path).is_file():
        return False
    for key, value in read_env_file(path).items():
        environ.setdefault(key, value)
    return True


def load_environment(env_file: str | Path | None = None, environ: dict[str, str] | os._Environ = os.environ) -> None:
    """What every subcommand does first: `env_file` (an explicit --env-file must exist), else
    `.env` in the working directory when present, into `environ` (the environment wins)."""
    if env_file is not None and not Path(env_file).is_file():
        raise SettingsError(f"--env-file {env_file}: no such file")
    load_env_file(env_file if env_file is not None else DEFAULT_ENV_FILE, environ)


def parse_ids(name: str, text: str | None) -> frozenset[int]:
    """`"123, -100456"` -> {123, -100456}; anything else is a SettingsError naming the variable.
    Matrix ids (`@doc:hospital.example`) may share the list: they are for the Matrix bot."""
    ids = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part or part.startswith("@"):
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise SettingsError(f"{name} must be comma-separated numeric Telegram ids; {part!r} is not one") from None
    return frozenset(ids)


def check_token(token: str | None) -> str:
    token = (token or "").strip()
    if not token:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and export it "
            "(or put TELEGRAM_BOT_TOKEN=... in .env)"
        )
    if not TOKEN_RE.match(token):
        raise SettingsError("TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:AA... as given by @BotFather")
    return token


def env_number(
    environ,
    name: str,
    default: float,
    what: str,
    *,
    minimum: float = 0,
    above: bool = False,
    whole: bool = False,
    error: type[Exception] = SettingsError,
) -> float:
    """A numeric setting: unset or blank gives `default`; anything else must be a finite number
    (a whole one when `whole`) of at least `minimum` (more than it when `above`), or `error` names
    the variable and the value in one line. "nan" and "inf" parse as floats but would break a
    limiter or a timer at run time, so they are refused here, at start-up."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise error(f"{name} must be {what}, not {raw!r}") from None
    finite = value == value and value not in (float("inf"), float("-inf"))
    if not finite or value < minimum or (above and value == minimum):
        raise error(f"{name} must be {what}, not {raw!r}")
    return value


def from_env(
    environ=None,
    *,
    db_path: str | None = None,
    open_access: bool = False,
    webhook_url: str | None = None,
    webhook_listen: str | None = None,
    webhook_port: int | None = None,
    poll_timeout: float | None = None,
) -> TelegramSettings:
    """Build the settings from `environ` (default os.environ) and command-line overrides."""
    environ = os.environ if environ is None else environ
    token = check_token(environ.get("TELEGRAM_BOT_TOKEN"))
    base = (environ.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).strip()
    if not re.match(r"^https?://", base):
        raise SettingsError(f"TELEGRAM_API_BASE_URL must start with http:// or https://, not {base!r}")
    users = parse_ids("NEUROLADDER_ALLOWED_USERS", environ.get("NEUROLADDER_ALLOWED_USERS"))
    chats = parse_ids("NEUROLADDER_ALLOWED_CHATS", environ.get("NEUROLADDER_ALLOWED_CHATS"))
    if not users and not chats and not open_access:
        raise SettingsError(
            "refusing to start: neither NEUROLADDER_ALLOWED_USERS nor NEUROLADDER_ALLOWED_CHATS "
            "is set, so anyone who finds the bot could use it; set one of them, or pass --open "
            "to serve everyone"
        )
    webhook_url = webhook_url or environ.get("NEUROLADDER_WEBHOOK_URL") or None
    secret = environ.get("NEUROLADDER_WEBHOOK_SECRET") or None
    if webhook_url:
        if not webhook_url.startswith("https://"):
            raise SettingsError("--webhook-url must be an https:// URL (Telegram only calls https webhooks)")
        if not secret:
            raise SettingsError(
                "webhook mode needs NEUROLADDER_WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -) "
                "so forged updates can be told apart"
            )
        if not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
            raise SettingsError("NEUROLADDER_WEBHOOK_SECRET may only hold 1-256 characters A-Z a-z 0-9 _ -")
    return TelegramSettings(
        token=token,
        api_base_url=base,
        db_path=db_path or environ.get("NEUROLADDER_DB") or "neuroladder.db",
        allowed_users=users,
        allowed_chats=chats,
        open_access=open_access,
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=webhook_listen or "127.0.0.1",
        webhook_port=8443 if webhook_port is None else webhook_port,
        poll_timeout=poll_timeout
        if poll_timeout is not None
        else env_number(environ, "NEUROLADDER_POLL_TIMEOUT", 30.0, "a positive number of seconds", above=True),
        overall_rate=env_number(
            environ, "NEUROLADDER_TELEGRAM_RATE", 30.0, "a positive number of messages per second", above=True
        ),
        group_rate=env_number(
            environ, "NEUROLADDER_TELEGRAM_GROUP_RATE", 20.0, "a positive number of messages per minute", above=True
        ),
    )


class RedactingFormatter(logging.Formatter):
    """A log formatter that never prints the given secrets (the token appears in API URLs)."""

    def __init__(self, fmt: str, secrets: list[str]):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text


def setup_logging(secrets: list[str], level: int = logging.INFO) -> None:
    """Log to stderr with secrets removed; httpx (which logs every URL, token included) is muted.

    Handlers configured before (e.g. by the command line's basicConfig) keep their format but
    get a redacting formatter, so no handler can print the token.
    """
    root = logging.getLogger()
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(logging.WARNING)
    for handler in root.handlers:
        current = handler.formatter._fmt if handler.formatter is not None else fmt  # type: ignore[attr-defined]
        handler.setFormatter(RedactingFormatter(current or fmt, secrets))
    logging.getLogger("neuroladder").setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
