"""Encryption at rest: the log as an SQLCipher file when NEUROLADDER_DB_KEY is set.

`connect()` is how `Store` opens its file. Without a key it is plain sqlite3; with a key it is
sqlcipher3 (the optional extra `neuroladder[encrypted]`) with `PRAGMA key`, which encrypts every
page of the file and of its WAL. Either way the file is checked before it is used, so a wrong or
missing key is one `DatabaseKeyError` line, never a traceback and never a new empty database
written over the old one. `encrypt_file` / `decrypt_file` convert a file in place
(`neuroladder db encrypt|decrypt`) through `sqlcipher_export`, verified row for row before the
converted copy replaces the original.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from .files import make_private, protect_log

KEY_ENV = "NEUROLADDER_DB_KEY"
SQLITE_MAGIC = b"SQLite format 3\x00"
INSTALL_HINT = "pip install 'neuroladder[encrypted]'"


class DatabaseOpenError(Exception):
    """The log cannot be opened; the message is one line for the operator (the CLI exits 2)."""


class DatabaseKeyError(DatabaseOpenError):
    """The log cannot be opened with the key given (or without one)."""


def key_from_env(environ=None) -> str | None:
    environ = os.environ if environ is None else environ
    return environ.get(KEY_ENV) or None


def _sqlcipher():
    try:
        import sqlcipher3
    except ImportError:
        raise DatabaseKeyError(f"{KEY_ENV} is set but SQLCipher support is not installed: {INSTALL_HINT}") from None
    return sqlcipher3


def _quote(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


def file_state(path: str | Path) -> str:
    """'new' (absent or empty), 'plain' (an SQLite file) or 'encrypted' (anything else)."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return "new"
    with p.open("rb") as f:
        return "plain" if f.read(16) == SQLITE_MAGIC else "encrypted"


def _check_readable(conn: Any, path: str, key: str | None) -> None:
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
    except Exception as exc:  # sqlite3.DatabaseError or sqlcipher3's own DatabaseError
        conn.close()
        if key:
            raise DatabaseKeyError(f"cannot open {path}: wrong {KEY_ENV} (or the file is damaged)") from None
        raise DatabaseOpenError(f"cannot open {path}: {exc}") from None


def connect(path: str | Path, key: str | None = None, *, use_env: bool = True):
    """An autocommit connection (isolation_level=None) to the log, encrypted when a key is given
    (default: $NEUROLADDER_DB_KEY). Raises DatabaseKeyError when the key does not fit the file."""
    path = str(path)
    if key is None and use_env:
        key = key_from_env()
    if path == ":memory:":
        key = None
    state = "new" if path == ":memory:" else file_state(path)
    if not key:
        if state == "encrypted":
            raise DatabaseKeyError(f"{path} is encrypted (or is not an SQLite file): set {KEY_ENV} to its key")
        _protect(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise DatabaseOpenError(f"cannot open {path}: {exc}") from None
        conn.execute("PRAGMA busy_timeout = 5000")
        _check_readable(conn, path, None)
        return conn
    if state == "plain":
        raise DatabaseKeyError(
            f"{path} is not encrypted but {KEY_ENV} is set: run `neuroladder db encrypt` "
            f"to encrypt it, or unset {KEY_ENV}"
        )
    sqlcipher3 = _sqlcipher()
    _protect(path)
    try:
        conn = sqlcipher3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error as exc:
        raise DatabaseOpenError(f"cannot open {path}: {exc}") from None
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our one line, not SQLCipher's three
    conn.execute(f"PRAGMA key = {_quote(key)}")
    conn.execute("PRAGMA busy_timeout = 5000")
    _check_readable(conn, path, key)
    return conn


def _protect(path: str) -> None:
    """Owner-only before SQLite opens it: the WAL and SHM it creates take the log's mode."""
    if path != ":memory:" and Path(path).parent.is_dir():
        protect_log(path)


def _counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            f"select name from {schema}.sqlite_master where type = 'table' and name not like 'sqlite_%'"
        )
    ]
    return {n: conn.execute(f"select count(*) from {schema}.[{n}]").fetchone()[0] for n in sorted(names)}


def _convert(path: str, source_key: str | None, target_key: str) -> dict[str, int]:
    sqlcipher3 = _sqlcipher()
    tmp = path + ".converting"
    for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)
    make_private(tmp)  # the converted copy is created owner-only, like the log it replaces
    conn = sqlcipher3.connect(path, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    if source_key:
        conn.execute(f"PRAGMA key = {_quote(source_key)}")
    _check_readable(conn, path, source_key)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = _counts(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("ATTACH DATABASE ? AS target KEY ?", [tmp, target_key])
        conn.execute("SELECT sqlcipher_export('target')")
        conn.execute(f"PRAGMA target.user_version = {int(version)}")
        after = _counts(conn, "target")
        conn.execute("DETACH DATABASE target")
    finally:
        conn.close()
    if after != before:
        os.remove(tmp)
        raise DatabaseKeyError(f"conversion of {path} did not copy every row; the original is unchanged")
    os.replace(tmp, path)
    for side in (path + "-wal", path + "-shm"):
        if os.path.exists(side):
            os.remove(side)
    return after


def encrypt_file(path: str | Path, key: str) -> dict[str, int]:
    """Encrypt a plain log in place with `key`. Returns the row count of each table (all kept).
    Stop the bot first: a process holding the old file open would keep writing to it."""
    return _convert_in_place(str(path), key, encrypt=True)


def decrypt_file(path: str | Path, key: str) -> dict[str, int]:
    """Decrypt an encrypted log in place (the key is checked first). Returns the row counts."""
    return _convert_in_place(str(path), key, encrypt=False)


def _convert_in_place(path: str, key: str, *, encrypt: bool) -> dict[str, int]:
    if not key:
        raise DatabaseKeyError(
            f"set {KEY_ENV} to the key to encrypt {path} with"
            if encrypt
            else f"set {KEY_ENV} to the key of {path} to decrypt it"
        )
    state = file_state(path)
    if state != ("plain" if encrypt else "encrypted"):
        why = "missing or empty" if state == "new" else ("already encrypted" if encrypt else "not encrypted")
        raise DatabaseKeyError(f"{path} is {why}; nothing to {'encrypt' if encrypt else 'decrypt'}")
    return _convert(path, None, key) if encrypt else _convert(path, key, "")
