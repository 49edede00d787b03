"""`neuroladder purge`, `export` and `db ...`: the log's maintenance commands.

A thin layer over bot/storage/retention.py and bot/storage/crypto.py (the functions the tests call). Every
failure the operator can fix is one stderr line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys

from neuroladder.bot.storage import backup, crypto, retention
from neuroladder.bot.storage.store import Store, default_db_path

DB_HELP = "SQLite file (default: $NEUROLADDER_DB or ./neuroladder.db)"


def configure(sub: argparse._SubParsersAction) -> None:
    purge = sub.add_parser("purge", help="delete whole consults older than DAYS days (logged to the audit table)")
    purge.add_argument(
        "--older-than",
        type=float,
        required=True,
        metavar="DAYS",
        help="delete consults with no activity for this many days",
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.add_argument("--db", default=None, help=DB_HELP)
    purge.set_defaults(func=run_purge)

    export = sub.add_parser("export", help="write one consult (turns, facts, findings) as JSON")
    export.add_argument("--consult", type=int, required=True, metavar="ID", help="the consult's id")
    export.add_argument("-o", "--output", default=None, metavar="FILE", help="write here instead of stdout")
    export.add_argument("--db", default=None, help=DB_HELP)
    export.set_defaults(func=run_export)

    db = sub.add_parser("db", help="the log file itself: check, encrypt, decrypt")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("check", "PRAGMA integrity_check and foreign_key_check; the schema version"),
        ("encrypt", f"encrypt the file in place with ${crypto.KEY_ENV} (stop the bot first)"),
        ("decrypt", f"decrypt the file in place (its key in ${crypto.KEY_ENV}; stop the bot first)"),
    ):
        p = dbsub.add_parser(name, help=text)
        p.add_argument("--db", default=None, help=DB_HELP)
        p.set_defaults(func=run_db)
    for name, text, what in (
        ("backup", "copy the live log to a new file while the bot runs (same key)", "the new backup file"),
        ("restore", "replace the log by a backup (stop the bot first)", "the backup file"),
    ):
        p = dbsub.add_parser(name, help=text)
        p.add_argument("file", metavar="PATH", help=what)
        p.add_argument("--db", default=None, help=DB_HELP)
        p.set_defaults(func=run_backup)


def _path(args: argparse.Namespace) -> str:
    """The log to work on; it must exist (maintenance never creates an empty log by mistake)."""
    path = args.db or default_db_path()
    if not os.path.exists(path):
        raise retention.RetentionError(f"there is no log at {path} (use --db or $NEUROLADDER_DB)")
    return path


def run_purge(args: argparse.Namespace) -> int:
    store = Store(_path(args))
    try:
        counts = retention.purge(store, args.older_than, by="cli", dry_run=args.dry_run)
    finally:
        store.close()
    verb = "would delete" if args.dry_run else "deleted"
    rows = ", ".join(f"{n} {t}" for t, n in counts.items() if t != "consults")
    print(f"{verb} {counts['consults']} consult(s) older than {args.older_than:g} day(s) ({rows})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    store = Store(_path(args))
    try:
        text = retention.export_consult(store, args.consult, args.output, by="cli")
    finally:
        store.close()
    if args.output is None:
        sys.stdout.write(text + "\n")
    else:
        print(f"consult {args.consult} written to {args.output}", file=sys.stderr)
    return 0


def run_db(args: argparse.Namespace) -> int:
    path = _path(args)
    if args.db_command == "check":
        try:
            store = Store(path)
        except crypto.DatabaseOpenError:
            raise
        except Exception as exc:  # too damaged to open at all
            print(f"{path}: DAMAGED ({exc})")
            return 1
        try:
            problems = store.integrity_problems()
            version = store.applied_migrations()
        finally:
            store.close()
        for p in problems:
            print(p)
        state = crypto.file_state(path)
        print(f"{path}: {'ok' if not problems else 'DAMAGED'}; {state}; migrations {', '.join(version)}")
        return 0 if not problems else 1
    key = crypto.key_from_env()
    counts = (crypto.encrypt_file if args.db_command == "encrypt" else crypto.decrypt_file)(path, key or "")
    done = "encrypted" if args.db_command == "encrypt" else "decrypted"
    print(f"{path} {done} in place: {sum(counts.values())} rows in {len(counts)} tables kept")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    key = crypto.key_from_env()
    if args.db_command == "backup":
        tables = backup.backup(_path(args), args.file, key)
        print(f"{args.db or default_db_path()} backed up to {args.file}: {tables} tables, integrity ok")
    else:
        path = args.db or default_db_path()
        tables = backup.restore(args.file, path, key)
        print(f"{path} restored from {args.file}: {tables} tables, integrity ok")
    return 0


def fail(exc: Exception) -> int:
    print(f"neuroladder: {exc}", file=sys.stderr)
    return 2


ERRORS = (crypto.DatabaseOpenError, retention.RetentionError, backup.BackupError, sqlite3.DatabaseError)
