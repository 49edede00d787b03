"""Every chat command, declared once: its name, its words (conversations/commands.toml), who may
run it, and its handler. `/help`, the Telegram menu (`Service.commands`) and the dispatch in
`Service` all read this table, so a command cannot be offered in one place and missing in another.

A handler gets the consult and the command's argument and returns the reply. A mode (the tutor)
is a registered command too: while a chat is in it, the mode gets its messages instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from neuroladder.bot.storage.store import Store
from neuroladder.bot.text.parse import CONVERSATIONS
from neuroladder.bot.views import explain, first_screen, ladder, note
from neuroladder.bot.views.reply import Attachment, Reply
from neuroladder.rules.data import read_toml

from .admin import export_consult_command, purge_command
from .consult import Consult


@dataclass(frozen=True)
class Call:
    """One command as typed: the consult it acts on and what came with it."""

    consult: Consult
    arg: str
    turn_id: int
    author: str | None
    private: bool  # the author's one-to-one chat with the bot
    registry: Commands


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Message:
    """A message as a mode receives it: already redacted, its command (if any) split off."""

    channel: str
    chat_id: str
    text: str
    cmd: str | None
    arg: str
    author: str | None
    inbox_id: int | None
    notice: str | None = None  # the privacy guard's warning, shown before the reply


class Mode(Protocol):
    """A registered mode: it takes a chat's messages while the chat is in it (the tutor)."""

    def routes(self, row: dict | None, cmd: str | None) -> bool: ...

    def handle(self, row: dict | None, msg: Message) -> Reply: ...


@dataclass(frozen=True)
class Command:
    name: str
    menu: str  # the Telegram menu's line
    help: str  # the /help line ("" when not listed)
    run: Handler | None  # None: a mode's entry, routed before any handler
    listed: bool = True  # in the menu and /help (buttons and administrators use the others)
    admin: bool = False  # only the ids in NEUROLADDER_ADMINS
    private_only: str = ""  # only in a private chat; the refusal otherwise
    opens_consult: bool = False  # starts a new consultation before it runs
    sends: str = ""  # "photo" or "document": the answer carries a file


# -- handlers ---------------------------------------------------------------------------------------
def _texts(call: Call) -> dict:
    return call.consult.tk.render.texts


def start(call: Call) -> Reply:
    texts = _texts(call)
    reply = Reply().line(texts["welcome"]).line().line(texts["disclaimer"], "i").line()
    return reply.extend(call.consult.ask_next(call.turn_id))


def help_(call: Call) -> Reply:
    return Reply().line(call.registry.help_text()).line(_texts(call)["disclaimer"], "i")


def summary(call: Call) -> Reply:
    return call.consult.summary()


def findings(call: Call) -> Reply:
    return first_screen.all_findings(call.consult.evaluate(), call.consult.tk.render)


def unknowns(call: Call) -> Reply:
    consult = call.consult
    answers = consult.answers()
    return first_screen.unknowns(consult.unknowns(answers, consult.evaluate(answers)), consult.tk.render)


def sources(call: Call) -> Reply:
    return call.consult.tk.render.sources()


def why(call: Call) -> Reply:
    q = call.consult.current_question()
    if q is None:
        return Reply().line(
            "No question is open. /summary shows each recommendation with its step and source; /how explains one."
        )
    return call.consult.tk.render.why(q)


def how(call: Call) -> Reply:
    consult = call.consult
    ev = consult.evaluate()
    if not ev.findings:
        return Reply().line("No recommendation yet.")
    number = int(call.arg) if call.arg.strip().isdecimal() else 1
    if not 1 <= number <= len(ev.findings):
        return Reply().line(f"There are {len(ev.findings)} recommendations; try /how 1 to /how {len(ev.findings)}.")
    return explain.how(consult.store, consult.id, ev, ev.findings[number - 1], number, consult.tk.render)


def undo(call: Call) -> Reply:
    return call.consult.undo(call.turn_id)


def skip(call: Call) -> Reply:
    return call.consult.skip(call.turn_id)


def edit(call: Call) -> Reply:
    """/edit lists the facts; /edit N removes fact N."""
    consult, arg = call.consult, call.arg
    facts = consult.store.live_facts(consult.id)
    if arg.strip().isdecimal() and 1 <= int(arg) <= len(facts):
        return consult.remove_fact(facts[int(arg) - 1], call.turn_id)
    if not facts:
        return Reply().line("No facts yet to correct.")
    render = consult.tk.render
    turns = {t["id"]: t["seq"] for t in consult.store.turns(consult.id)}
    reply = Reply().line(render.texts["edit_intro"], "b")
    for i, row in enumerate(facts, 1):
        said = "; ".join(render.describe({row["name"]: row["value"]}))
        reply.line(f"{i}. {said} (turn {turns.get(row['turn_id'], '?')})")
    return reply


def export(call: Call) -> Reply:
    consult = call.consult
    answers = consult.answers()
    ev = consult.evaluate(answers)
    unknown = [q.label for q in consult.unknowns(answers, ev)]
    text = note.consult_note(
        answers, ev, unknown, consult.tk.render, consult.tk.version, consult.store.finding_versions(consult.id)
    )
    reply = Reply().line("The consult note, ready to paste into a record (no identifiers).")
    reply.attachments.append(Attachment(f"neuroladder-note-{consult.id}.md", "text/markdown", text.encode("utf-8")))
    return reply


def ladder_picture(call: Call) -> Reply:
    consult = call.consult
    rungs = ladder.ladder_model(consult.evaluate(), consult.tk.knowledge)
    png = ladder.draw_png(rungs, consult.tk.knowledge)
    reply = Reply().line(
        "The ladder for this consult: green done, orange not adequate, yellow open, "
        "grey unknown, red blocked by a pitfall."
    )
    reply.attachments.append(Attachment(f"neuroladder-ladder-{consult.id}.png", "image/png", png))
    return reply


def resolve(call: Call) -> Reply:
    return call.consult.resolve_conflict(call.arg.lower(), call.turn_id)


# name -> (handler, what the command may do beyond the words in commands.toml)
HANDLERS: dict[str, tuple[Handler | None, dict]] = {
    "start": (start, {"opens_consult": True}),
    "summary": (summary, {}),
    "findings": (findings, {}),
    "unknowns": (unknowns, {}),
    "why": (why, {}),
    "how": (how, {}),
    "undo": (undo, {}),
    "edit": (edit, {}),
    "skip": (skip, {}),
    "ladder": (ladder_picture, {}),
    "export": (export, {}),
    "sources": (sources, {}),
    "tutor": (None, {}),  # the tutor mode's entry
    "restart": (start, {"opens_consult": True}),
    "help": (help_, {}),
    "resolve": (resolve, {}),
    "purge": (purge_command, {"admin": True}),
    "exportconsult": (export_consult_command, {"admin": True}),
}


class Commands:
    """The table: each command's words from commands.toml joined to its handler here."""

    def __init__(self, handlers: dict[str, tuple[Handler | None, dict]] | None = None):
        handlers = HANDLERS if handlers is None else handlers
        self.words = read_toml(CONVERSATIONS, "commands.toml")
        declared = [spec["name"] for spec in self.words["commands"]]
        if set(declared) != set(handlers) or len(declared) != len(set(declared)):
            raise ValueError(f"commands.toml and the handlers disagree: {sorted(set(declared) ^ set(handlers))}")
        self.by_name: dict[str, Command] = {}
        for spec in self.words["commands"]:
            run, powers = handlers[spec["name"]]
            self.by_name[spec["name"]] = Command(
                spec["name"],
                spec["menu"],
                spec.get("help", ""),
                run,
                listed=spec.get("listed", True),
                private_only=spec.get("private_only", ""),
                sends=spec.get("sends", ""),
                **powers,
            )

    def get(self, name: str | None) -> Command | None:
        return self.by_name.get(name) if name else None

    def listed(self) -> list[Command]:
        return [c for c in self.by_name.values() if c.listed]

    def menu(self) -> list[tuple[str, str]]:
        """(name, line) for the Telegram menu, in the order of /help."""
        return [(c.name, c.menu) for c in self.listed()]

    def help_text(self) -> str:
        lines = [
            self.words["help_heading"],
            *(f"/{c.name} - {c.help}" for c in self.listed()),
            self.words["help_footer"],
        ]
        return "\n".join(lines)

    def run(self, name: str, call: Call, store: Store, admins: frozenset[str]) -> Reply:
        """The command's handler, once its author and chat may run it (refusals are audited)."""
        command = self.get(name)
        if command is None or command.run is None:
            known = ", ".join(f"/{c.name}" for c in self.listed())
            return Reply().line(self.words["unknown"].format(command=name, known=known))
        if command.admin and (call.author is None or str(call.author) not in admins):
            store.audit("denied", {"command": name, "by": call.author})
            return Reply().line(self.words["admins_only"].format(command=name))
        if command.private_only and not call.private:
            # a group may hold people who must not see another chat's transcript
            store.audit("denied", {"command": name, "by": call.author, "why": "not a private chat"})
            return Reply().line(command.private_only)
        return command.run(call)
