"""/how, corrections, /undo, conflicts, /export and /ladder - as a clinician in the terminal sees them."""

import json
import re
import struct

import pytest

from neuroladder.bot.channels.console import ConsoleChat
from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store

FIRST = "gabapentin 400 mg tid, 3 months incl 8 weeks at max, no help"
WORKED_UP = (
    "duloxetine 60 mg for 8 weeks no benefit; never had a TCA; never tried pregabalin; "
    "combination tried for 8 weeks; diffuse pain in both feet; 58 yo; CrCl 80; no diabetes; b12 normal; spep normal; no red flags"
)
COMBINATION_EFFECT = "no benefit"  # the intake's next question: the combination's effect


@pytest.fixture
def chat(tmp_path):
    store = Store(tmp_path / "c.db")
    console = ConsoleChat(Service(store), tmp_path, chat_id="t1")
    console.send("/start")
    yield console
    store.close()


def text_of(replies) -> str:
    return "\n".join(r.plain() for r in replies)


def rungs_of(chat):
    from neuroladder.bot.views.ladder import ladder_model

    consult = consult_of(chat)
    return ladder_model(consult.evaluate(), consult.tk.knowledge)


def consult_of(chat):
    row = chat.service.store.open_consult("console", chat.chat_id)
    from neuroladder.bot.dialogue.consult import Consult

    return Consult(chat.service.tk, chat.service.store, row)


def finding_keys(chat) -> list:
    return [(f.code, json.dumps(f.params, sort_keys=True)) for f in consult_of(chat).evaluate().findings]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_correction_changes_the_advice_and_leaves_nothing_stale(chat):
    chat.send(FIRST)
    chat.send(WORKED_UP)
    chat.send(COMBINATION_EFFECT)
    before = consult_of(chat).evaluate()
    assert any(f.code == "TRIAL_UNDERDOSED" and f.params["agent"] == "gabapentin" for f in before.findings)
    assert "STEP4_REFERRAL" not in before.codes()

    reply = text_of(chat.send("actually gabapentin was 2400 mg/day"))
    assert "Changed: gabapentin 1200 mg/day -> gabapentin 2400 mg/day" in reply
    assert "No longer:" in reply and "Under-dosed trial" in reply
    after = consult_of(chat).evaluate()
    assert not any(f.code == "TRIAL_UNDERDOSED" and f.params["agent"] == "gabapentin" for f in after.findings)
    assert any(f.code == "TRIAL_ADEQUATE" and f.params["agent"] == "gabapentin" for f in after.findings)
    assert "STEP4_REFERRAL" in after.codes()
    # The log keeps both values, each with its turn.
    rows = chat.service.store.all_facts(consult_of(chat).id)
    doses = [(r["value"], r["retracted_at"] is None) for r in rows if r["name"] == "trial.gabapentin.dose"]
    assert doses == [(1200, False), (2400, True)]


def test_how_lists_exactly_the_rules_and_facts_that_fired(chat):
    chat.send(FIRST)
    chat.send(WORKED_UP)
    chat.send(COMBINATION_EFFECT)
    chat.send("actually gabapentin was 2400 mg/day")
    consult = consult_of(chat)
    ev = consult.evaluate()
    store = chat.service.store
    facts = {f["name"]: f for f in store.live_facts(consult.id)}
    for number, finding in enumerate(ev.findings, 1):
        shown = text_of(chat.send(f"/how {number}"))
        listed_rules = re.findall(r"^- rule (\S+) ->", shown, re.M)
        assert sorted(listed_rules) == sorted(step["rule"] for step in ev.explain(finding)), shown
        behind = {n for fid in ev.base_facts_behind(finding) for n in ev.base[fid]["src"].split(",") if n}
        for name, row in facts.items():
            said = "; ".join(chat.service.tk.render.describe({name: row["value"]}))
            fact_lines = "\n".join(line for line in shown.splitlines() if line.startswith("- turn"))
            assert (said in fact_lines) == (name in behind), (finding.code, name, shown)
    # The adequate gabapentin trial traces back to the correction's own turn.
    adequate = next(
        i for i, f in enumerate(ev.findings, 1) if f.code == "TRIAL_ADEQUATE" and f.params["agent"] == "gabapentin"
    )
    shown = text_of(chat.send(f"/how {adequate}"))
    assert "actually gabapentin was 2400 mg/day" in shown and "rule trial_adequate" in shown


def test_undo_twice_restores_the_state_of_two_turns_earlier(chat):
    chat.send("gabapentin 900 mg/day")
    snapshot = finding_keys(chat)
    chat.send("duloxetine 30 mg")
    chat.send("actually gabapentin was 2400 mg/day")
    assert finding_keys(chat) != snapshot
    chat.send("/undo")
    reply = text_of(chat.send("/undo"))
    assert "Took back the last answer" in reply
    assert finding_keys(chat) == snapshot
    assert text_of(chat.send("/undo")).count("Taken back") == 1
    assert "Nothing to undo" in text_of(chat.send("/undo"))


def test_contradiction_is_asked_never_resolved_silently(chat):
    chat.send("never tried duloxetine")
    reply = chat.send("duloxetine 60 mg")
    assert "contradicts" in text_of(reply) and [c.value for c in reply[0].choices] == ["/resolve new", "/resolve old"]
    assert consult_of(chat).answers()["trial.duloxetine.tried"] == "no"
    chat.send("1")  # "Use the new answer"
    answers = consult_of(chat).answers()
    assert answers["trial.duloxetine.tried"] == "yes" and answers["trial.duloxetine.dose"] == 60


def test_export_note_every_recommendation_has_a_source(chat, tmp_path):
    chat.send("gabapentin 2400 mg/day tid 3 months incl 8 weeks at max, no help")
    chat.send(WORKED_UP)
    chat.send(COMBINATION_EFFECT)
    [reply] = chat.send("/export")
    [note] = reply.attachments
    assert note.filename.endswith(".md")
    text = note.data.decode()
    recommendations = re.findall(r"^\d+\. \*\*.*$", text, re.M)
    assert recommendations, text
    for line in recommendations:
        assert re.search(r"Sources: \[(\d|L\d)\]", line), line
    assert "| Gabapentinoid | done | gabapentin 2400 of 2400 mg/day |" in text
    assert "## Sources" in text and "[1] Mayo Clinic guidelines" in text
    assert chat.save_attachments(reply)[0].read_text() == text


@pytest.mark.slow  # draws the picture for every state; one picture is drawn in the fast Telegram tests
def test_ladder_png_for_every_state_and_model_follows_the_correction(chat):
    steps = [FIRST, WORKED_UP, COMBINATION_EFFECT, "actually gabapentin was 2400 mg/day"]
    states = []
    for step in [None, *steps]:
        if step:
            chat.send(step)
        [reply] = chat.send("/ladder")
        [picture] = reply.attachments
        width, height = png_size(picture.data)
        assert width > 400 and height > 600 and len(picture.data) > 10_000
        rung = next(r for r in rungs_of(chat) if r.id == "gabapentinoid")
        states.append(rung.state)
    assert states == ["unknown", "inadequate", "inadequate", "inadequate", "done"]
    step4 = next(r for r in rungs_of(chat) if r.id == "step4")
    assert step4.state == "recommended"
