"""The identifier guard: identifiers are warned about and never stored; clinical facts still count."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from neuroladder.bot.service import Service
from neuroladder.bot.storage.store import Store
from neuroladder.bot.text.privacy import guard

EMAIL, PHONE, DOB = "jane.doe@example.org", "07700 900123", "12/03/1954"
IDENTIFIED = f"Jane's email {EMAIL}, phone {PHONE}, DOB {DOB}: gabapentin 300 mg tid x 3 mo, no help"


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "log.db"
    store = Store(path)
    yield path, store, Service(store, admins=set())
    store.close()


def raw_turns(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("select text from turns order by id")]
    finally:
        conn.close()


def test_email_phone_and_birth_date_never_reach_the_file(log):
    path, store, service = log
    reply = service.handle("console", "c1", IDENTIFIED, author="dr-a")[0].plain()
    assert "looked like it held patient identifiers" in reply and "email" in reply and "phone number" in reply
    assert "Noted" in reply and "gabapentin" in reply  # the clinical facts were still read
    store.close()
    turns = raw_turns(path)
    assert any("[redacted email]" in t for t in turns)
    for secret in (EMAIL, PHONE, DOB, "900123", "1954"):
        assert not any(secret in t for t in turns), secret
    blob = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
    )
    for secret in (EMAIL, PHONE, DOB):
        assert secret.encode() not in blob, secret


def test_facts_are_parsed_from_the_redacted_text(log):
    path, store, service = log
    service.handle("console", "c1", IDENTIFIED)
    facts = {r["name"]: json.loads(r["value"]) for r in store.db["facts"].rows}
    assert facts["trial.gabapentin.dose"] == 900
    assert facts["trial.gabapentin.outcome"] == "no_benefit"


def test_the_warning_is_in_the_logged_reply_too(log):
    path, store, service = log
    service.handle("console", "c1", "MRN 12345678 duloxetine 60 mg")
    out = store.conn.execute("select text from turns where direction = 'out'").fetchone()[0]
    assert "record number" in out
    assert "12345678" not in " ".join(raw_turns(path))


def test_plain_clinical_messages_get_no_warning(log):
    path, store, service = log
    for text in ("gabapentin 2400", "pregabalin 300 mg bd x 3/12", "78 yo, eGFR 35, B12 low"):
        reply = service.handle("console", "c1", text)[0].plain()
        assert "looked like it held patient identifiers" not in reply, text


@pytest.mark.parametrize(
    "text, kind, gone",
    [
        ("email me at a.b+c@nhs.net", "email", "a.b+c@nhs.net"),
        ("ring 07700 900123", "phone number", "900123"),
        ("call +44 20 7946 0958 please", "phone number", "7946"),
        ("(555) 123-4567", "phone number", "123-4567"),
        ("tel: 0123 456 789", "phone number", "456 789"),
        ("DOB 12/03/1954", "date of birth", "1954"),
        ("date of birth: 3 March 1954", "date of birth", "March"),
        ("born 1954-03-12, gabapentin 300", "date of birth", "1954"),
        ("seen on 05/01/2024", "date", "2024"),
        ("seen 5 Jan 2024", "date", "2024"),
        ("MRN 1234567", "record number", "1234567"),
        ("hospital number K123456", "record number", "K123456"),
        ("NHS no 943 476 5919", "record number", "5919"),
        ("943 476 5919", "record number", "5919"),
        ("ref 123456789012", "record number", "123456789012"),
        ("name: John Smith", "patient name", "Smith"),
        ("Patient name is Ann Lee, 78 yo", "patient name", "Lee"),
        ("Mrs Jones tried amitriptyline", "patient name", "Jones"),
        ("lives at SW1A 1AA", "postcode", "SW1A"),
    ],
)
def test_each_kind_of_identifier_is_redacted(text, kind, gone):
    out = guard(text)
    assert kind in out.kinds
    assert gone not in out.text
    assert f"[redacted {kind}]" in out.text
    assert out.warning and kind in out.warning


@pytest.mark.parametrize(
    "text",
    [
        "gabapentin 2400",
        "gabapentin 300 mg",
        "gabapentin 300 600 900 1200 mg",
        "pregabalin 1200000 mg",
        "gabapentin 2400 mg/d x 3/12",
        "amitriptyline 10 mg nocte x 6 wk",
        "78 yo",
        "eGFR 35",
        "B12 normal",
        "capsaicin 8% patch",
        "lidocaine 5% 1.5 g",
        "duloxetine 30 mg 2x/day for 12 weeks",
        "crcl 45 ml/min",
        "name the next step",
        "tried 3 of them",
        "1.2 g/day",
    ],
)
def test_clinical_numbers_and_words_are_left_alone(text):
    out = guard(text)
    assert out.text == text and out.kinds == [] and out.warning is None


def test_a_name_stops_before_the_drug():
    out = guard("name: john smith gabapentin 300")
    assert "smith" not in out.text and out.text.endswith("gabapentin 300")


def test_text_that_sqlite_cannot_hold_is_cleaned():
    out = guard("gaba\x00pentin \ud800 " + "x" * 30000)
    assert "\x00" not in out.text and "\ud800" not in out.text and "\ufffd" in out.text
    assert out.truncated and len(out.text) == 20000


# -- the bot token: never in a log line, never in the database -----------------------------------------
@pytest.mark.slow
def test_the_bot_token_never_reaches_a_log_line_or_the_database(tmp_path):
    """`neuroladder run` as a real process against the Bot API stand-in on 127.0.0.1, with a flood-limit
    error on the way and a clinician who pastes the token and identifiers into the chat: every byte the
    process logged and every byte of the SQLite file, WAL and shm are scanned for the token."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from botapi_standin import BotAPIStandIn

    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789_-zz"
    user = 5001
    db = tmp_path / "bot.db"
    script = Path(sys.executable).with_name("neuroladder")
    cmd = ([str(script)] if script.exists() else [sys.executable, "-m", "neuroladder.bot.cli.main"]) + [
        "run",
        "--db",
        str(db),
        "--poll-timeout",
        "1",
    ]
    with BotAPIStandIn(token=token) as api, open(tmp_path / "bot.log", "wb") as log:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEUROLADDER_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_BASE_URL=api.base_url,
            NEUROLADDER_ALLOWED_USERS=str(user),
            PYTHONUNBUFFERED="1",
        )
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            api.wait_until(lambda: api.polls > 0 or proc.poll() is not None, 30, "the bot to poll")
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            api.inject_429("sendMessage", count=1, retry_after=1)
            for text in (
                "/start",
                "gabapentin 300 mg tid x 3 mo, no help",
                f"the bot token is {token}",
                IDENTIFIED,
                "/summary",
            ):
                api.send_text(user, text)
            api.send_photo(user)

            def answered() -> bool:
                conn = sqlite3.connect(db)
                try:
                    return (
                        conn.execute("select count(*) from inbox where done_at is null").fetchone()[0] == 0
                        and conn.execute("select count(*) from inbox").fetchone()[0] == 6
                        and conn.execute("select count(*) from outbox where sent_at is null").fetchone()[0] == 0
                    )
                finally:
                    conn.close()

            api.wait_until(answered, 60, "every message answered and delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        time.sleep(0.1)
    logged = (tmp_path / "bot.log").read_bytes()
    assert logged, "the bot logged nothing: the scan would prove nothing"
    secret = token.split(":", 1)[1].encode()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("bot.db")]
    assert files and any(p.name == "bot.db" for p in files)
    for p in [tmp_path / "bot.log", *files]:
        data = p.read_bytes()
        assert token.encode() not in data and secret not in data, f"the token is in {p.name}"
    for p in files:  # and the identifiers of the pasted message are not in the inbox rows either
        assert EMAIL.encode() not in p.read_bytes(), p.name
    conn = sqlite3.connect(db)
    assert "[redacted secret]" in " ".join(r[0] for r in conn.execute("select text from turns"))
    conn.close()


def test_a_record_number_stops_before_the_dose():
    out = guard("MRN 1234 300 mg gabapentin")
    assert out.text == "[redacted record number] 300 mg gabapentin"


def test_no_clinical_text_of_the_project_is_mistaken_for_an_identifier():
    """Every string in the lexicon, intake, cases, rules and sources (doses, titrations, durations,
    citations with years and pages) passes the guard untouched."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)

    files = [*root.glob("conversations/**/*.toml"), *root.glob("rules/*.toml")]
    texts = [s for f in files for s in strings(tomllib.loads(f.read_text(encoding="utf-8")))]
    assert len(texts) > 500
    flagged = [(s, guard(s).kinds) for s in texts if guard(s).kinds]
    assert flagged == []


# -- the regression list of identifier forms (tests/data/identifiers.toml) ---------------------------------
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

IDENTIFIERS = tomllib.loads((Path(__file__).parent / "data" / "identifiers.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", IDENTIFIERS["rows"], ids=[r["text"] for r in IDENTIFIERS["rows"]])
def test_every_listed_identifier_form_is_redacted(row):
    out = guard(row["text"])
    assert row["kind"] in out.kinds, (row, out)
    assert row["gone"] not in out.text, out.text


@pytest.mark.parametrize("text", IDENTIFIERS["clinical"])
def test_clinical_lookalikes_pass_untouched(text):
    out = guard(text)
    assert out.kinds == [] and out.text == text


def test_no_listed_identifier_reaches_any_table_the_wal_or_an_export(log):
    path, store, service = log
    for row in IDENTIFIERS["rows"]:
        service.handle("console", "c1", row["text"], author="dr-a")
    export = service.handle("console", "c1", "/export", author="dr-a")[0]
    note = b"".join(a.data for a in export.attachments).decode()
    dump = "\n".join(store.conn.iterdump())
    blob = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
    )
    for row in IDENTIFIERS["rows"]:
        assert row["gone"] not in dump, row
        assert row["gone"] not in note, row
        # as a token of its own: the raw file also holds timestamps and the rules' hex digest, and
        # "+00:00958b87..." once held "0958" by chance
        token = re.compile(rb"(?<![0-9A-Za-z])" + re.escape(row["gone"].encode()) + rb"(?![0-9A-Za-z])")
        assert not token.search(blob), row
    # the birth date's day was never read as a dose ("DOB: 12-Mar-1954" once became pregabalin 12 mg/day)
    facts = {r["name"]: r["value"] for r in store.db["facts"].rows}
    assert not any(n.endswith(".dose") and v in ("12", "1954") for n, v in facts.items()), facts


def test_every_identifier_pattern_is_bounded():
    """No unbounded repeat (+, *, {n,}) outside a character class: a repeat nested in a repeat
    once let one 4 KB message ('+' and 4,000 digits) hold the bot for seconds. With every repeat
    bounded, the cost of a message is linear in its length (bench figures, not a timed test)."""
    import re as regex

    from neuroladder.bot.text.privacy import PATTERNS

    for label, rx in PATTERNS:
        source = regex.sub(r"\\.", "", rx.pattern)  # escaped characters
        source = regex.sub(r"\[[^\]]*\]", "", source)  # character classes
        assert not regex.search(r"[+*]|\{\d+,\}", source), (label, rx.pattern)


@pytest.mark.parametrize(
    "hostile",
    [
        "+" + "1" * 4000 + "a",
        "1" * 8000 + "a",
        "1 " * 4000 + "a",
        "a@" * 4000,
        "name: " + "a " * 4000,
        "Mr " + "Aa " * 2500,
        "dob " + "1/" * 3000,
        "tel " + "1 " * 4000 + "a",
        "1-" * 4000 + "a",
        "pt " + "Ab " * 2500,
    ],
)
def test_hostile_input_is_guarded_and_keeps_no_identifier_shape(hostile):
    out = guard(hostile)
    assert out.text.strip()
    assert guard(out.text).text == out.text  # guarded text is stable: a second pass finds nothing new


def test_the_patterns_run_once_per_message(monkeypatch):
    """The inbox stores the guarded text and the service guards what it reads back: one pass."""
    from neuroladder.bot.text import privacy

    calls = []
    real = privacy.redact
    monkeypatch.setattr(privacy, "redact", lambda text: calls.append(text) or real(text))
    text = "DOB 12/03/1954, gabapentin 300 tds, once-only check"
    stored = privacy.redact_payload({"text": text})["text"]
    again = guard(stored)
    assert calls == [text.replace("\u200b", "")] and again.kinds == ["date of birth"]
