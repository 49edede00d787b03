"""The reader inside a consultation: short replies that fit the open question (and the echo that
names it), replies that do not fit, questions the clinician asks, clarifying questions with
buttons, and long messages - through the real Service and SQLite."""

from __future__ import annotations

from neuroladder.bot.text import privacy


def send(service, text, chat="c1"):
    return "\n".join(r.plain() for r in service.handle("test", chat, text, author="clinician"))


def facts(service, chat="c1"):
    row = service.store.open_consult("test", chat)
    return {f["name"]: f["value"] for f in service.store.live_facts(row["id"])}


def to_tca_question(service):
    send(service, "/start")
    for _ in range(4):  # gabapentin, pregabalin, duloxetine, venlafaxine: not tried
        reply = send(service, "no")
    assert "tricyclic" in reply


def test_a_short_reply_names_the_question_it_answered(service):
    send(service, "/start")
    send(service, "yes")  # gabapentin tried
    reply = send(service, "600 tid")  # under "Gabapentin: highest total daily dose reached?"
    assert "Noted (gabapentin dose): gabapentin 1800 mg/day, 3x/day" in reply
    assert facts(service)["trial.gabapentin.dose"] == 1800


def test_a_reply_about_another_topic_is_read_as_free_text(service):
    to_tca_question(service)
    reply = send(service, "a1c 86")
    got = facts(service)
    assert got["hba1c"] == 10.0 and not any(n.startswith("trial.tca") for n in got)
    assert "Noted: HbA1c 10%" in reply


def test_a_question_stores_nothing_and_is_not_misunderstood(service):
    send(service, "/start")
    before = facts(service)
    reply = send(service, "so can she have SCS or not?")
    assert facts(service) == before
    assert "could not find a fact" not in reply and "spinal cord stimulation" in reply.lower()
    reply = send(service, "can I add tramadol?")
    assert not any(n.startswith("trial.tramadol") for n in facts(service))
    assert "weak opioids" in reply.lower() and "seed is silent" in reply


def test_the_reader_asks_with_buttons_instead_of_guessing(service):
    send(service, "/start")
    replies = service.handle("test", "c1", "b12 250", author="clinician")
    assert "which unit" in replies[0].plain() and "b12_level" not in facts(service)
    values = [c.value for r in replies for c in r.choices]
    assert "b12 250 pmol/L" in values and "b12 250 pg/mL" in values
    send(service, "b12 250 pg/mL")  # the button
    assert facts(service)["b12_level"] == 184


def test_a_long_message_is_read_whole(service):
    send(service, "/start")
    padding = "burning pain in both feet, worse at night. " * 300  # ~13,000 characters
    send(service, padding + "crcl 35; gabapentin 600 tid")
    got = facts(service)
    assert got["crcl"] == 35 and got["trial.gabapentin.dose"] == 1800


def test_a_message_past_the_bound_says_what_was_cut(service):
    send(service, "/start")
    text = "gabapentin 600 tid. " + "x " * 15_000
    reply = send(service, text)
    assert f"{len(text):,} characters" in reply and f"first {privacy.MAX_CHARS:,}" in reply
    assert facts(service)["trial.gabapentin.dose"] == 1800


def test_a_drug_contraindicated_is_stored_as_that_and_never_as_tried(service):
    send(service, "/start")
    reply = send(service, "amitriptyline c/i - long QT")
    assert "TCA contraindicated" in reply and "I could not find a fact" not in reply
    assert {n: v for n, v in facts(service).items() if n.startswith("trial.tca")} == {
        "trial.tca.contraindicated": "yes"
    }


def test_a_drug_the_patient_would_rather_avoid_is_said_back_and_nothing_is_stored(service):
    send(service, "/start")
    reply = send(service, "she would rather avoid amitriptyline")
    assert "as a drug not to be given" in reply and "I could not find a fact" not in reply
    assert not any(name.startswith("trial.tca") for name in facts(service))


def test_a_lab_value_typed_under_a_drug_question_is_no_dose_of_that_drug(service):
    send(service, "/start")  # "Has gabapentin been tried?"
    send(service, "creatinine 160")
    assert not any(name.startswith("trial.gabapentin") for name in facts(service))


def test_no_contraindicated_under_a_drugs_question_is_never_followed_by_advice_to_start_it(service):
    send(service, "/start")  # "Has gabapentin been tried?"
    reply = send(service, "no, contraindicated")
    assert "gabapentin contraindicated" in reply and facts(service)["trial.gabapentin.contraindicated"] == "yes"
    send(service, "no")  # pregabalin not tried
    found = " ".join(send(service, "/findings").split())
    assert "pregabalin at least 300 mg/day" in found and "Not advised: gabapentin" in found
    assert "gabapentin titrated to" not in found
