"""Browsing the log with Datasette: datasette/metadata.json labels a real log and its canned queries run.

The SQL is checked with sqlite3 against a log made by real consultations, so it needs no extra.
With the `neuroladder[browse]` extra installed, the same file is also served through Datasette's
own in-process test client (no network).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
METADATA = json.loads((ROOT / "datasette" / "metadata.json").read_text(encoding="utf-8"))
DB = METADATA["databases"]["neuroladder"]
DOCS = ROOT / "docs" / "datasette.md"


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """neuroladder.db (the default name, which the metadata is keyed on) after three consultations,
    one of them from two days ago."""
    path = tmp_path_factory.mktemp("browse") / "neuroladder.db"
    store = Store(path)
    service = Service(store, admins=set())
    for chat, texts in {
        "a": ["/start", "gabapentin 300 mg tid x 3 mo, no help", "no", "78 yo"],
        "b": ["/start", "pregabalin 150 mg bd x 8 weeks, partial", "eGFR 35"],
        "c": ["duloxetine 60 mg 8 weeks no help", "focal"],
    }.items():
        for text in texts:
            service.handle("console", chat, text)
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="milliseconds")
    store.conn.execute("update consults set created_at = ? where chat_id = 'c'", [two_days_ago])
    store.audit("export", {"consult": 1, "by": "cli"})
    store.close()
    return path


def run(path: Path, sql: str, **params) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        names = set(re.findall(r"(?<!:):(\w+)", sql))
        return [dict(r) for r in conn.execute(sql, {n: params.get(n, "") for n in names})]
    finally:
        conn.close()


def test_every_table_of_a_real_log_is_labelled(log):
    conn = sqlite3.connect(log)
    tables = {
        r[0] for r in conn.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
    }
    conn.close()
    assert tables - set(DB["tables"]) == set(), "new tables need a description in datasette/metadata.json"
    assert set(DB["tables"]) - tables == set(), "metadata describes tables the log does not have"
    assert all(spec.get("description") for spec in DB["tables"].values())


def test_findings_by_code_counts_consults(log):
    rows = run(log, DB["queries"]["findings_by_code"]["sql"])
    assert rows and {"code", "severity", "step", "consults", "in_current_advice"} <= set(rows[0])
    assert all(1 <= r["consults"] <= 3 and 0 <= r["in_current_advice"] <= r["consults"] for r in rows)
    assert sum(r["in_current_advice"] for r in rows) > 0
    one = rows[0]["code"]
    only = run(log, DB["queries"]["findings_by_code"]["sql"], code=one)
    assert [r["code"] for r in only] == [one]


def test_consults_per_day(log):
    rows = run(log, DB["queries"]["consults_per_day"]["sql"])
    today = datetime.now(UTC).date().isoformat()
    earlier = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    by_day = {r["day"]: r for r in rows}
    assert by_day[today]["consults"] == 2 and by_day[earlier]["consults"] == 1
    assert by_day[today]["messages_in"] == 7 and by_day[today]["still_open"] == 2


def test_per_consult_queries(log):
    turns = run(log, DB["queries"]["consult_transcript"]["sql"], consult_id=1)
    assert [t["seq"] for t in turns] == list(range(1, len(turns) + 1))
    assert turns[2]["text"] == "gabapentin 300 mg tid x 3 mo, no help" and turns[2]["direction"] == "in"
    facts = {f["name"]: json.loads(f["value"]) for f in run(log, DB["queries"]["live_facts"]["sql"], consult_id=1)}
    assert facts["trial.gabapentin.dose"] == 900 and facts["age"] == 78
    audit = run(log, DB["queries"]["audit_log"]["sql"])
    assert audit[0]["action"] == "export" and audit[0]["by_whom"] == "cli"


def test_the_docs_name_the_extra_the_metadata_and_every_canned_query():
    text = DOCS.read_text(encoding="utf-8")
    assert "neuroladder[browse]" in text and "datasette/metadata.json" in text
    for name in DB["queries"]:
        assert name in text, name


async def test_datasette_serves_the_log_with_labels_and_queries(log):
    pytest.importorskip("datasette")
    from datasette.app import Datasette

    ds = Datasette([str(log)], metadata=METADATA)
    await ds.invoke_startup()
    page = await ds.client.get("/neuroladder")
    assert page.status_code == 200 and "Findings by code" in page.text
    rows = (await ds.client.get("/neuroladder/findings_by_code.json?code=&_shape=array")).json()
    assert rows and "in_current_advice" in rows[0]
    days = (await ds.client.get("/neuroladder/consults_per_day.json?_shape=array")).json()
    assert sum(d["consults"] for d in days) == 3
    table = await ds.client.get("/neuroladder/turns")
    assert table.status_code == 200 and "Identifier-like spans" in table.text
