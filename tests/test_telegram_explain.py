"""Issue 4 on Telegram: corrections, /how, /undo, /export, /ladder and the "How?" button.

The console versions are in test_explain_correct.py; these run the same consultation through the
real PTB Application and the real Service over HTTP against the Bot API stand-in, and check what
the clinician's phone shows (messages, the photo's and the document's bytes) and the SQLite log.
"""

from __future__ import annotations

import json
import re
import struct

from botapi_standin import BotAPIStandIn
from telegram_helpers import all_handled_and_sent, query, running_bot, tg_settings

from neuroladder.bot.dialogue import consult as consult_mod
from neuroladder.bot.dialogue.consult import Consult, Toolkit
from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.bot.views.ladder import ladder_model
from neuroladder.rules.data import load_knowledge

pytest_plugins = ["telegram_fixtures"]

CHAT = 111
FIRST = "gabapentin 400 mg tid, 3 months incl 8 weeks at max, no help"
WORKED_UP = (
    "duloxetine 60 mg for 8 weeks no benefit; never had a TCA; never tried pregabalin; "
    "combination tried for 8 weeks; diffuse pain in both feet; 58 yo; CrCl 80; no diabetes; b12 normal; spep normal; no red flags"
)
COMBINATION_EFFECT = "no benefit"  # the intake asks the combination's effect, then the B12 level
B12_LEVEL = "320"
CORRECTION = "actually gabapentin was 2400 mg/day"
TK = Toolkit.load(load_knowledge())


# -- the clinician's side -------------------------------------------------------------------------
def last_id(api: BotAPIStandIn) -> int:
    with api.lock:
        chat = api.chats.get(CHAT)
        return chat.next_message_id - 1 if chat else 0


async def settled(api: BotAPIStandIn, db: str, after: int) -> list[dict]:
    """The bot's messages newer than message id `after`, once it has handled every message and
    sent every reply (photos and documents included)."""
    await api.until(lambda: any(m["message_id"] > after for m in api.bot_messages(CHAT)), 20, "the bot's answer")
    await all_handled_and_sent(api, db)
    return [m for m in api.bot_messages(CHAT) if m["message_id"] > after]


async def say(api: BotAPIStandIn, db: str, text: str) -> list[dict]:
    """Type `text` in the chat; the bot's messages in answer."""
    sent = api.send_text(CHAT, text)
    return await settled(api, db, sent["message_id"])


async def press(api: BotAPIStandIn, db: str, message: dict, label: str) -> list[dict]:
    """Press a button under one of the bot's messages; the bot's messages in answer."""
    after = last_id(api)
    api.press(CHAT, message["message_id"], label)
    return await settled(api, db, after)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR", "a PNG starts with its IHDR chunk"
    return struct.unpack(">II", data[16:24])


def the_photo(api: BotAPIStandIn, messages: list[dict]) -> bytes:
    [photo] = [m for m in messages if "photo" in m]
    data = api.file_bytes(CHAT, photo["message_id"])
    width, height = png_size(data)
    assert width > 400 and height > 600 and len(data) > 10_000, (width, height, len(data))
    return data


# -- the bot's side, read from its SQLite file -----------------------------------------------------
def turn_id(db: str, text: str) -> int:
    [(tid,)] = query(db, "select id from turns where direction = 'in' and text = ?", [text])
    return tid


def logged_findings(db: str, turn: int) -> list[tuple]:
    """What the log says the findings were after that turn: the set of the latest turn with findings
    at or before it (a turn that left them as they were writes none, docs/datasette.md)."""
    return query(
        db,
        "select code, severity, step, sources, rule, text from findings "
        "where turn_id = (select max(turn_id) from findings where turn_id <= ?) order by id",
        [turn],
    )


def last_logged_findings(db: str) -> list[tuple]:
    [(turn,)] = query(db, "select max(turn_id) from findings")
    return logged_findings(db, turn)


def recomputed(db: str):
    """The open consult's evaluation, recomputed from its live facts by a Consult of our own."""
    consult_mod._evaluations.clear()  # no help from the bot's cache
    store = Store(db)
    try:
        row = store.open_consult("telegram", str(CHAT))
        consult = Consult(TK, store, row)
        ev = consult.evaluate()
        return ev, ladder_model(ev, TK.knowledge)
    finally:
        store.close()


def as_logged(findings) -> list[tuple]:
    return [(f.code, f.severity, f.step, json.dumps(f.sources), f.rule, f.text) for f in findings]


def gabapentin(db: str, code: str, turn: int) -> list[str]:
    return [t for c, *_, t in logged_findings(db, turn) if c == code and "gabapentin" in t]


# -- the tests ------------------------------------------------------------------------------------
async def test_correction_how_and_undo_twice_on_telegram(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        await say(standin, tg_db, "/start")
        shown = texts(await say(standin, tg_db, FIRST))
        assert "gabapentin trial not adequate: 1200 of 2400 mg/day" in shown, shown
        picture_then = the_photo(standin, await say(standin, tg_db, "/ladder"))
        await say(standin, tg_db, WORKED_UP)
        await say(standin, tg_db, COMBINATION_EFFECT)
        shown = texts(await say(standin, tg_db, B12_LEVEL))
        assert "Consult summary" in shown and "Under-dosed trial" in shown  # finished: the note follows
        worked_up = turn_id(tg_db, B12_LEVEL)
        assert gabapentin(tg_db, "TRIAL_UNDERDOSED", worked_up)

        # The correction: what changed, and the under-dosed finding gone.
        shown = texts(await say(standin, tg_db, CORRECTION))
        assert "Changed: gabapentin 1200 mg/day -> gabapentin 2400 mg/day." in shown, shown
        assert re.search(r"No longer:\n(- .*\n)*- Under-dosed trial: not adequate", shown), shown
        corrected = turn_id(tg_db, CORRECTION)
        assert not [c for c, *_ in logged_findings(tg_db, corrected) if c == "TRIAL_UNDERDOSED"]
        assert gabapentin(tg_db, "TRIAL_ADEQUATE", corrected)
        assert "STEP4_REFERRAL" in {c for c, *_ in logged_findings(tg_db, corrected)}
        ev, rungs = recomputed(tg_db)
        assert as_logged(ev.findings) == logged_findings(tg_db, corrected)
        assert next(r for r in rungs if r.id == "gabapentinoid").state == "done"
        doses = query(
            tg_db, "select value, retracted_at is null from facts where name = 'trial.gabapentin.dose' order by id"
        )
        assert doses == [("1200", 0), ("2400", 1)]  # the log keeps both values
        summary = texts(await say(standin, tg_db, "/summary"))
        assert "gabapentin 2400 mg/day" in summary and "1200" not in summary  # nothing stale
        assert "Under-dosed" not in summary and "Step 4" in summary

        # /how 1: exactly the rules that fired for recommendation 1, and the facts behind it.
        shown = texts(await say(standin, tg_db, "/how 1"))
        assert shown.startswith("How I reached #1:"), shown
        listed = re.findall(r"^- rule (\S+) ->", shown, re.M)
        assert listed and sorted(listed) == sorted(step["rule"] for step in ev.explain(ev.findings[0])), shown
        assert "Sources: [1]" in shown
        # the adequate gabapentin trial traces back to the correction's own words
        number = next(
            i for i, f in enumerate(ev.findings, 1) if f.code == "TRIAL_ADEQUATE" and f.params["agent"] == "gabapentin"
        )
        shown = texts(await say(standin, tg_db, f"/how {number}"))
        assert f'you wrote: "{CORRECTION}"' in shown and "rule trial_adequate" in shown, shown

        # /undo back to the first answer: its findings, and the same picture as then.
        shown = texts(await say(standin, tg_db, "/undo"))
        assert "Took back the last answer." in shown and "Restored: gabapentin 1200 mg/day" in shown, shown
        for _ in (B12_LEVEL, COMBINATION_EFFECT):
            await say(standin, tg_db, "/undo")
        shown = texts(await say(standin, tg_db, "/undo"))
        assert "Took back the last answer." in shown and "Taken back: pregabalin not tried" in shown, shown
        assert standin.buttons(standin.last_bot_message(CHAT))  # the intake's question is open again
        then = logged_findings(tg_db, turn_id(tg_db, FIRST))
        assert last_logged_findings(tg_db) == then
        ev, rungs = recomputed(tg_db)
        assert as_logged(ev.findings) == then
        assert next(r for r in rungs if r.id == "gabapentinoid").state == "inadequate"
        assert the_photo(standin, await say(standin, tg_db, "/ladder")) == picture_then

    assert standin.errors() == []


async def test_export_ladder_and_how_button_after_the_correction(standin: BotAPIStandIn, tg_db):
    async with running_bot(tg_settings(standin, tg_db), Service, standin):
        for text in ("/start", FIRST, WORKED_UP, COMBINATION_EFFECT, B12_LEVEL, CORRECTION):
            await say(standin, tg_db, text)

        # /export: a Markdown document, a source number on every recommendation.
        answer = await say(standin, tg_db, "/export")
        assert "ready to paste into a record" in texts(answer)
        [document] = [m for m in answer if "document" in m]
        assert document["document"]["file_name"].endswith(".md")
        note = standin.file_bytes(CHAT, document["message_id"]).decode("utf-8")
        assert note.startswith("# NeuroLadder consult note"), note[:200]
        recommendations = re.findall(r"^\d+\. \*\*.*$", note, re.M)
        assert len(recommendations) >= 3, note
        listed_sources = set(re.findall(r"^- \[(L?\d+)\] ", note.split("## Sources")[-1], re.M))
        for line in recommendations:
            cited = re.search(r"Sources: ((?:\[L?\d+\](?:, )?)+)$", line)
            assert cited, line
            assert set(re.findall(r"\[(L?\d+)\]", cited.group(1))) <= listed_sources, line
        assert "| Gabapentinoid | done | gabapentin 2400 of 2400 mg/day |" in note
        assert "Under-dosed" not in note and "1200" not in note
        assert "Clinician111" not in note and "doc111" not in note  # no identifiers

        # /ladder: a photo, a PNG drawn from the corrected findings.
        picture = the_photo(standin, await say(standin, tg_db, "/ladder"))
        _, rungs = recomputed(tg_db)
        assert next(r for r in rungs if r.id == "gabapentinoid").state == "done"

        # Under /summary (one phone screen), the rest is behind buttons: "How? (#1)" answers as typing
        # /how 1 does; "Ladder picture" as /ladder.
        [summary] = await say(standin, tg_db, "/summary")
        assert len(summary["text"]) <= 1000 and summary["text"].splitlines()[1].startswith("Next step: ")
        assert standin.buttons(summary) == [
            "All findings",
            "Unknowns",
            "Sources",
            "How? (#1)",
            "Ladder picture",
            "Export note",
        ]
        typed = texts(await say(standin, tg_db, "/how 1"))
        pressed = texts(await press(standin, tg_db, summary, "How? (#1)"))
        assert pressed == typed and pressed.startswith("How I reached #1:") and "- rule " in pressed
        assert the_photo(standin, await press(standin, tg_db, summary, "Ladder picture")) == picture
        shown_now = next(m for m in standin.bot_messages(CHAT) if m["message_id"] == summary["message_id"])
        assert standin.buttons(shown_now) == standin.buttons(summary)  # still there to press again

    assert len(standin.callback_answers) == 2
    assert [t for (t,) in query(tg_db, "select text from turns where direction = 'in' order by id")][-3:] == [
        "/how 1",
        "/how 1",
        "/ladder",
    ]
    assert standin.errors() == []
