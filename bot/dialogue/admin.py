"""The admin-only chat commands `/purge DAYS` and `/exportconsult ID`, over bot/storage/retention.py.

They are registered in `commands.py`, which declares who may run them (the ids in
NEUROLADDER_ADMINS; /exportconsult only in a private chat) and audits every refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroladder.bot.storage.retention import MAX_DAYS, RetentionError, cutoff, export_consult, purge
from neuroladder.bot.views.reply import Attachment, Reply

if TYPE_CHECKING:
    from .commands import Call


def purge_command(call: Call) -> Reply:
    arg = call.arg.strip()
    try:
        days = float(arg)
        cutoff(days)
    except (ValueError, RetentionError):
        return Reply().line(
            f"Usage: /purge DAYS - deletes every consult with no activity for DAYS days, "
            f"0 to {MAX_DAYS} (e.g. /purge 365)."
        )
    counts = purge(call.consult.store, days, by=str(call.author), keep=call.consult.id)
    return Reply().line(
        f"Purged {counts['consults']} consult(s) older than {arg} day(s) "
        f"({counts.get('turns', 0)} turns). Logged to the audit table."
    )


def export_consult_command(call: Call) -> Reply:
    arg = call.arg.strip()
    if not (arg.isascii() and arg.isdigit()):
        return Reply().line("Usage: /exportconsult ID - one consult as a JSON file.")
    try:
        text = export_consult(call.consult.store, int(arg), by=str(call.author))
    except RetentionError as exc:
        return Reply().line(f"Not exported: {exc}.")
    reply = Reply().line(f"Consult {arg} as JSON (export logged to the audit table).")
    reply.attachments.append(Attachment(f"consult-{arg}.json", "application/json", text.encode("utf-8")))
    return reply
