"""Past bugs, pinned (named after what broke)."""

from neuroladder.rules.data import load_knowledge
from neuroladder.rules.engine import LadderRules
from neuroladder.rules.facts import engine_facts


def test_engine_parse_error_204_on_exponent_floats():
    # Found by the fuzz test: 1e-05 reached the engine as JSON exponent notation, which its parser
    # rejects ("Could not assert fact, error code: 204"), and the user got the error reply.
    k = load_knowledge()
    ev = LadderRules(k).evaluate(
        engine_facts({"trial.gabapentin.dose": 0.00001, "trial.tca.weeks": 1e-7, "crcl": 1e-5 + 60}, k)
    )
    assert "TRIAL_UNDERDOSED" in ev.codes() and "TRIAL_TOO_SHORT" in ev.codes()


def test_failed_turn_inside_a_channel_transaction_leaves_no_partial_writes(tmp_path, monkeypatch):
    # Reported by the Telegram channel: Service.handle catches its own error inside the channel's
    # inbox transaction; without savepoints the failed turn's facts stayed, with two "in" turns.
    from neuroladder.bot.dialogue import consult
    from neuroladder.bot.service import ERROR_TEXT, Service
    from neuroladder.bot.storage.store import Store

    store = Store(tmp_path / "sp.db")
    service = Service(store)
    service.handle("t", "c", "/start")

    def broken(self, *a, **k):
        raise RuntimeError("boom after writing facts")

    monkeypatch.setattr(consult.Consult, "_continue", broken)
    with store.transaction():
        [reply] = service.handle("t", "c", "gabapentin 900 mg/day")
    assert reply.plain() == ERROR_TEXT
    assert store.db.execute("select count(*) from facts").fetchone()[0] == 0
    ins = store.db.execute("select count(*) from turns where direction = 'in' and text like 'gabapentin%'").fetchone()
    assert ins[0] == 1


def test_a_matched_fact_named_s_is_the_fact_not_the_engine_session():
    # durable's own closure answers `c.s` with the session's state, so "An adequate trial has failed:
    # offer CBT" rested on a fact id like "sid-e14" that no /how could unfold; it rests on the
    # failed trial's status.
    k = load_knowledge()
    ev = LadderRules(k).evaluate(
        engine_facts(
            {
                "trial.duloxetine.tried": "yes",
                "trial.duloxetine.dose": 60,
                "trial.duloxetine.weeks": 8,
                "trial.duloxetine.weeks_at_max": 4,
                "trial.duloxetine.outcome": "no_benefit",
            },
            k,
        )
    )
    cbt = next(f for f in ev.findings if f.code == "CBT_PHYSIO")
    assert cbt.facts and all(fid in ev.derived or fid in ev.base for fid in cbt.facts)
    assert ev.base_facts_behind(cbt) == ["trial.duloxetine"]
