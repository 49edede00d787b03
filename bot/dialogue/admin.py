"""The admin-only chat commands `/purge DAYS` and `/exportconsult ID`, over bot/storage/retention.py.

Channels need no code of their own: `Service.handle` calls `admin_command`. Who is an admin comes
from NEUROLADDER_ADMINS (`retention.admins_from_env`); every refusal is audited.
"""
from __future__ import annotations

from neuroladder.bot.storage.retention import MAX_DAYS, RetentionError, cutoff, export_consult, purge
from neuroladder.bot.storage.store import Store
from neuroladder.bot.views.reply import Attachment, Reply

ADMIN_COMMANDS = {"purge": "Delete consults older than DAYS days (admins only)",
                  "exportconsult": "One consult as a JSON file (admins only)"}


def admin_command(store: Store, cmd: str, arg: str, author: str | None, admins: frozenset[str] | set[str],
                  keep: int | None = None, private: bool = False) -> Reply:
    """`/purge DAYS` and `/exportconsult ID` for the ids in NEUROLADDER_ADMINS; anyone else is refused
    (and the refusal is audited). Channels need no code of their own: `Service.handle` calls this."""
    if author is None or str(author) not in admins:
        store.audit("denied", {"command": cmd, "by": author})
        return Reply().line(f"/{cmd} is for administrators only (NEUROLADDER_ADMINS).")
    arg = arg.strip()
    if cmd == "purge":
        try:
            days = float(arg)
            cutoff(days)
        except (ValueError, RetentionError):
            return Reply().line(f"Usage: /purge DAYS - deletes every consult with no activity for DAYS days, "
                                f"0 to {MAX_DAYS} (e.g. /purge 365).")
        counts = purge(store, days, by=str(author), keep=keep)
        return Reply().line(f"Purged {counts['consults']} consult(s) older than {arg} day(s) "
                            f"({counts.get('turns', 0)} turns). Logged to the audit table.")
    if cmd == "exportconsult":
        if not private:  # a group may hold people who must not see another chat's transcript
            store.audit("denied", {"command": cmd, "by": author, "why": "not a private chat"})
            return Reply().line("/exportconsult sends a whole transcript, so it works only in your private "
                                "chat with me. Send it there.")
        if not (arg.isascii() and arg.isdigit()):
            return Reply().line("Usage: /exportconsult ID - one consult as a JSON file.")
        try:
            text = export_consult(store, int(arg), by=str(author))
        except RetentionError as exc:
            return Reply().line(f"Not exported: {exc}.")
        reply = Reply().line(f"Consult {arg} as JSON (export logged to the audit table).")
        reply.attachments.append(Attachment(f"consult-{arg}.json", "application/json", text.encode("utf-8")))
        return reply
    raise KeyError(cmd)
