"""The log's schema, as named migrations applied in order (`Store.migrate`); each runs once, in
its own transaction, and is recorded in `migrations`. Never edit one that has shipped: add the next."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []


def migration(fn: Callable[[sqlite_utils.Database], None]) -> Callable[[sqlite_utils.Database], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db["consults"].create(
        {
            "id": int,
            "channel": str,
            "chat_id": str,
            "mode": str,
            "status": str,
            "created_at": str,
            "updated_at": str,
            "ruleset_version": str,
            "state": str,
        },
        pk="id",
        not_null={"channel", "chat_id", "status"},
    )
    db["consults"].create_index(["channel", "chat_id", "status"])
    db["turns"].create(
        {
            "id": int,
            "consult_id": int,
            "seq": int,
            "direction": str,
            "author": str,
            "text": str,
            "created_at": str,
            "inbox_id": int,
        },
        pk="id",
        foreign_keys=[("consult_id", "consults", "id")],
    )
    db["turns"].create_index(["consult_id", "seq"])
    db["facts"].create(
        {
            "id": int,
            "consult_id": int,
            "name": str,
            "value": str,
            "turn_id": int,
            "asserted_at": str,
            "retracted_at": str,
            "retracted_turn_id": int,
        },
        pk="id",
        foreign_keys=[("consult_id", "consults", "id"), ("turn_id", "turns", "id")],
    )
    db["facts"].create_index(["consult_id", "retracted_at"])
    db["findings"].create(
        {
            "id": int,
            "consult_id": int,
            "turn_id": int,
            "code": str,
            "severity": str,
            "step": str,
            "sources": str,
            "rule": str,
            "text": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("consult_id", "consults", "id"), ("turn_id", "turns", "id")],
    )
    db["findings"].create_index(["consult_id", "turn_id"])
    db["inbox"].create(
        {
            "id": int,
            "channel": str,
            "update_key": str,
            "chat_id": str,
            "payload": str,
            "received_at": str,
            "done_at": str,
        },
        pk="id",
    )
    db["inbox"].create_index(["channel", "update_key"], unique=True)
    db["inbox"].create_index(["done_at"])
    db["outbox"].create(
        {"id": int, "channel": str, "chat_id": str, "reply": str, "created_at": str, "sent_at": str, "inbox_id": int},
        pk="id",
    )
    db["outbox"].create_index(["sent_at"])
    db["refusals"].create({"channel": str, "count": int}, pk="channel")
    db["audit"].create({"id": int, "at": str, "action": str, "detail": str}, pk="id")


@migration
def m002_tutor_scores(db: sqlite_utils.Database) -> None:
    """Tutoring (bot/tutor/mode.py): each case shown to a chat is a round; each answer, an attempt by a learner."""
    db["tutor_rounds"].create(
        {
            "id": int,
            "channel": str,
            "chat_id": str,
            "consult_id": int,
            "case_id": str,
            "case_title": str,
            "ruleset_version": str,
            "answer_code": str,
            "options": str,
            "concluded": str,
            "presented_at": str,
            "finished_at": str,
            "outcome": str,
        },
        pk="id",
        foreign_keys=[("consult_id", "consults", "id")],
    )
    db["tutor_rounds"].create_index(["channel", "chat_id"])
    db["tutor_attempts"].create(
        {
            "id": int,
            "round_id": int,
            "channel": str,
            "learner": str,
            "chosen_code": str,
            "text": str,
            "correct": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[("round_id", "tutor_rounds", "id")],
    )
    db["tutor_attempts"].create_index(["channel", "learner"])
    db["tutor_attempts"].create_index(["round_id"])


@migration
def m004_chat_moves(db: sqlite_utils.Database) -> None:
    """A chat whose id changed (a Telegram group that became a supergroup): old id -> new id, so its
    consultation, turns and allowlist entry follow it."""
    db["chat_moves"].create(
        {"channel": str, "old_chat_id": str, "new_chat_id": str, "moved_at": str}, pk=("channel", "old_chat_id")
    )


@migration
def m005_turn_origin(db: sqlite_utils.Database) -> None:
    """Each inbound turn records the channel's key of the message it came from, so an edit finds the
    consult of the message it edits even after the inbox row is pruned."""
    db["turns"].add_column("origin", str)
    db.execute(
        "update turns set origin = (select case when i.channel = 'telegram' "
        "then cast(json_extract(i.payload, '$.message_id') as text) else i.update_key end "
        "from inbox i where i.id = turns.inbox_id) where direction = 'in' and inbox_id is not null"
    )
    db["turns"].create_index(["origin"])


@migration
def m006_matrix_devices(db: sqlite_utils.Database) -> None:
    """Matrix device trust: the devices of allowed users the bot encrypts its replies to. A user's
    devices seen first are pinned (trust on first use); a later device waits for an admin."""
    db["matrix_devices"].create(
        {
            "user_id": str,
            "device_id": str,
            "ed25519": str,
            "trusted": int,
            "first_seen": str,
            "decided_by": str,
            "decided_at": str,
            "announced": int,
        },
        pk=("user_id", "device_id"),
    )


@migration
def m007_findings_version(db: sqlite_utils.Database) -> None:
    """Each findings row records the ruleset and clinical data that produced it (rules/provenance.py):
    the consult's own ruleset_version is only the one it started with. Older rows stay NULL."""
    db["findings"].add_column("ruleset_version", str)


@migration
def m008_matrix_state(db: sqlite_utils.Database) -> None:
    """The Matrix channel's own tables (bot/storage/matrix.py). A log used by `neuroladder matrix`
    before this migration already has them: created only when missing."""
    db["matrix_sync"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["matrix_sent"].create(
        {"event_id": str, "room_id": str, "outbox_id": int, "choices": str}, pk="event_id", if_not_exists=True
    )
    db["matrix_rooms"].create({"room_id": str, "refused_at": str}, pk="room_id", if_not_exists=True)
