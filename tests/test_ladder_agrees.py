"""The ladder picture and the note's table say what the findings say about each trial."""

from __future__ import annotations

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.ladder import ladder_model, state_colour, state_words

K = load_knowledge()
# Gabapentin tried for 3 months, no help - but the dose never given: the findings cannot judge it.
NO_DOSE = "gabapentin for 3 months incl 8 weeks at max, no help, 3 doses a day; never tried pregabalin; CrCl 80"


@pytest.fixture
def service(tmp_path):
    store = Store(tmp_path / "l.db")
    yield Service(store)
    store.close()


def _note(service: Service) -> str:
    [reply] = service.handle("test", "l1", "/export")
    return reply.attachments[0].data.decode()


def test_a_trial_with_missing_details_is_drawn_as_the_findings_say(service):
    service.handle("test", "l1", "/start")
    service.handle("test", "l1", NO_DOSE)
    from neuroladder.bot.dialogue.consult import Consult

    ev = Consult(service.tk, service.store, service.store.open_consult("test", "l1")).evaluate()
    codes = ev.codes()
    assert "TRIAL_DETAILS_MISSING" in codes  # the findings: cannot be judged
    assert not codes & {"TRIAL_UNDERDOSED", "TRIAL_TOO_SHORT", "TRIAL_NOT_DIVIDED", "TRIAL_ADEQUATE"}
    rung = next(r for r in ladder_model(ev, K) if r.id == "gabapentinoid")
    words = state_words(rung.state, K)
    assert "cannot be judged" in K.findings["TRIAL_DETAILS_MISSING"]["summary"] and "cannot be judged" in words
    assert "not adequate" not in words  # the picture said "not adequate" before
    assert state_colour(rung.state, K) != state_colour("inadequate", K)  # nor drew it in its orange
    row = next(line for line in _note(service).splitlines() if line.startswith("| Gabapentinoid"))
    assert "cannot be judged" in row and "not adequate" not in row


def test_an_under_dosed_trial_is_still_not_adequate_in_picture_and_note(service):
    service.handle("test", "l1", "/start")
    service.handle("test", "l1", "gabapentin 300 mg tid for 3 months incl 8 weeks at max, no help; CrCl 80")
    from neuroladder.bot.dialogue.consult import Consult

    ev = Consult(service.tk, service.store, service.store.open_consult("test", "l1")).evaluate()
    assert "TRIAL_UNDERDOSED" in ev.codes()
    rung = next(r for r in ladder_model(ev, K) if r.id == "gabapentinoid")
    assert rung.state == "inadequate" and rung.detail == "gabapentin 900 of 2400 mg/day"
    row = next(line for line in _note(service).splitlines() if line.startswith("| Gabapentinoid"))
    assert "| not adequate |" in row
