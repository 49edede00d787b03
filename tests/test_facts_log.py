"""The facts table as a message writes it: one row per fact, in the order they were read, each
replaced value retracted by the turn that replaced it, every row of a turn at that turn's time;
another consult's facts of the same names untouched."""

from __future__ import annotations

import json

CHAT, OTHER = "facts", "other"
LONG = (
    "55M, focal pain right foot, gabapentin 800 tds x 12 wks incl 4 at max, no help. dulox 60 od x 10 wks nil. "
    "crcl 90, b12 normal, no red flags"
)


def facts_of(store, consult_id: int) -> list[dict]:
    cur = store.conn.execute("select * from facts where consult_id = ? order by id", [consult_id])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def turn_of(store, consult_id: int, text: str) -> dict:
    cur = store.conn.execute(
        "select id, created_at from turns where consult_id = ? and direction = 'in' and text = ?", [consult_id, text]
    )
    tid, at = cur.fetchone()
    return {"id": tid, "at": at}


def test_a_long_message_writes_one_row_per_fact_and_retracts_what_it_replaces(store, service):
    service.handle("console", OTHER, "72 yo, crcl 40")
    service.handle("console", CHAT, "61 yo, crcl 40")
    service.handle("console", CHAT, LONG)
    consult = store.open_consult("console", CHAT)["id"]
    first, long_turn = turn_of(store, consult, "61 yo, crcl 40"), turn_of(store, consult, LONG)
    rows = facts_of(store, consult)

    earlier = [r for r in rows if r["turn_id"] == first["id"]]
    assert [(r["name"], json.loads(r["value"])) for r in earlier] == [("age", 61), ("crcl", 40)]
    assert all(r["asserted_at"] == first["at"] for r in earlier)
    # both replaced by the long message: retracted by its turn, at its time
    assert all((r["retracted_turn_id"], r["retracted_at"]) == (long_turn["id"], long_turn["at"]) for r in earlier)

    written = [r for r in rows if r["turn_id"] == long_turn["id"]]
    # the live facts as the log lists them (by row id) are exactly these rows, in this order
    assert list(store.live_answers(consult)) == [r["name"] for r in written]
    assert len({r["name"] for r in written}) == len(written)  # one row per fact
    assert {r["name"]: json.loads(r["value"]) for r in written}["age"] == 55
    assert {r["name"]: json.loads(r["value"]) for r in written}["crcl"] == 90
    assert "trial.gabapentin.dose" in {r["name"] for r in written}
    assert all(r["asserted_at"] == long_turn["at"] and r["retracted_at"] is None for r in written)

    # one live row per name, and the other chat's consult keeps its own values
    live = [r["name"] for r in rows if r["retracted_at"] is None]
    assert len(live) == len(set(live))
    other = store.open_consult("console", OTHER)["id"]
    assert {r["name"]: (json.loads(r["value"]), r["retracted_at"]) for r in facts_of(store, other)} == {
        "age": (72, None),
        "crcl": (40, None),
    }
