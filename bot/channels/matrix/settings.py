"""Settings of the Matrix channel: environment variables and command-line options.

Everything that can be wrong with them is found here, before any network call, and reported as
one `ConfigError` line (the caller prints it and exits with status 2). The password and the
access token are secrets: they are never part of a repr, a log line or an error message.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from neuroladder.bot.channels.ratelimit import UserRateLimit
from neuroladder.bot.settings import env_number
from neuroladder.bot.storage import retention
from neuroladder.bot.storage.store import default_db_path

MXID = re.compile(r"^@[^:\s]+:[^\s,;]+$")


class ConfigError(Exception):
    """Missing or wrong settings or credentials: one line for the operator, exit code 2."""


@dataclass
class Settings:
    homeserver: str
    user_id: str
    db: str
    store_dir: Path
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    allowed_users: frozenset[str] = frozenset()
    allow_unencrypted: bool = False
    key_grace_s: float = 15.0  # how long an undecryptable message waits for its room key
    timeline_limit: int = 100  # events per room in one sync (older ones are paged in)


def parse_allowed(value: str | None) -> frozenset[str]:
    """The Matrix ids in NEUROLADDER_ALLOWED_USERS (comma or space separated; other ids ignored)."""
    return frozenset(p for p in re.split(r"[\s,;]+", value or "") if MXID.match(p))


def default_store_dir(db: str) -> Path:
    p = Path(db)
    return p.parent / f"{p.stem}-matrix-store"


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    homeserver = (env.get("MATRIX_HOMESERVER") or "").strip()
    user_id = (env.get("MATRIX_USER_ID") or "").strip()
    password = env.get("MATRIX_PASSWORD") or None
    token = (env.get("MATRIX_ACCESS_TOKEN") or "").strip() or None
    if not homeserver:
        raise ConfigError("MATRIX_HOMESERVER is not set (the homeserver URL, e.g. https://matrix.hospital.example)")
    if not re.match(r"^https?://[^/\s]+", homeserver):
        raise ConfigError(f"MATRIX_HOMESERVER must be an http(s) URL, got {homeserver!r}")
    if not user_id:
        raise ConfigError("MATRIX_USER_ID is not set (the bot's Matrix id, e.g. @neuroladder:hospital.example)")
    if not MXID.match(user_id):
        raise ConfigError(f"MATRIX_USER_ID must look like @name:server, got {user_id!r}")
    if not password and not token:
        raise ConfigError("set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN for the bot's Matrix account")
    allowed = parse_allowed(env.get("NEUROLADDER_ALLOWED_USERS"))
    if not allowed:
        raise ConfigError(
            "NEUROLADDER_ALLOWED_USERS holds no Matrix id (e.g. @doc:hospital.example), "
            "so the bot would decline every invite"
        )
    key_grace = env_number(
        env, "NEUROLADDER_MATRIX_KEY_GRACE", 15.0, "a number of seconds from 0 up", minimum=0, error=ConfigError
    )
    timeline = env_number(
        env,
        "NEUROLADDER_MATRIX_TIMELINE_LIMIT",
        100,
        "a whole number of events from 1 up",
        minimum=1,
        whole=True,
        error=ConfigError,
    )
    try:  # read again where they are used; a malformed value stops the bot here, in one line
        UserRateLimit.from_env(env)
        retention.traffic_days_from_env(env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    db = getattr(args, "db", None) or default_db_path()
    store_dir = Path(args.store) if getattr(args, "store", None) else default_store_dir(db)
    return Settings(
        homeserver=homeserver.rstrip("/"),
        user_id=user_id,
        db=db,
        store_dir=store_dir,
        password=password,
        access_token=token,
        allowed_users=allowed,
        allow_unencrypted=bool(getattr(args, "allow_unencrypted", False)),
        key_grace_s=key_grace,
        timeline_limit=int(timeline),
    )
