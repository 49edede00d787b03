"""Every stored finding carries the version of the ruleset and clinical data that produced it, so a
deploy in the middle of a consult is visible in the log and in the exported note."""

from __future__ import annotations

from neuroladder.bot.service import Service
from neuroladder.rules import provenance
from neuroladder.rules.data import load_knowledge

CHAT = "prov"


def versions_by_turn(store) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for turn, version in store.conn.execute("select turn_id, ruleset_version from findings order by id"):
        out.setdefault(turn, set()).add(version)
    return out


def test_a_deploy_mid_consult_records_a_different_version_on_later_findings(store):
    before = Service(store, admins=set())
    before.handle("console", CHAT, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    before.handle("console", CHAT, "duloxetine 40 mg x 8 weeks, no help")
    first_turns = set(versions_by_turn(store))

    # The deploy: the same log, a ruleset whose duloxetine threshold differs.
    after = Service(store, load_knowledge({"duloxetine": {"adequate_mg_day": 40}}), admins=set())
    assert after.tk.version != before.tk.version
    after.handle("console", CHAT, "78 yo")

    by_turn = versions_by_turn(store)
    assert all(by_turn[t] == {before.tk.version} for t in first_turns)
    later = [t for t in by_turn if t not in first_turns]
    assert later and all(by_turn[t] == {after.tk.version} for t in later)
    # The consult still says which version it started with.
    row = store.open_consult("console", CHAT)
    assert row["ruleset_version"] == before.tk.version

    [reply] = after.handle("console", CHAT, "/export")
    note = reply.attachments[0].data.decode()
    assert f"ruleset and clinical data version {after.tk.version}" in note
    assert f"Earlier advice in this consult came from version {before.tk.version}" in note


def test_one_version_throughout_says_nothing_about_earlier_versions(store):
    service = Service(store, admins=set())
    service.handle("console", CHAT, "gabapentin 1200 mg/day in 3 doses for 3 months, no help")
    note = service.handle("console", CHAT, "/export")[0].attachments[0].data.decode()
    assert f"version {service.tk.version}" in note and "Earlier advice" not in note
    assert "**Next step:** " in note.split("## Facts gathered")[0]  # the note leads with the next step


def test_the_digest_covers_rules_code_and_data_and_the_conversations():
    rules = [path for path, _ in provenance._files(provenance.resources.files("neuroladder.rules"), (".toml", ".py"))]
    talk = [path for path, _ in provenance._files(provenance.resources.files("neuroladder.conversations"), (".toml",))]
    assert {"findings.toml", "thresholds.toml", "engine.py", "modules/step4.py"} <= set(rules)
    assert not [p for p in rules if "__pycache__" in p]
    assert {"intake.toml", "lexicon.toml"} <= set(talk) and any(p.startswith("cases/") for p in talk)


def test_the_version_follows_the_knowledge_loaded_and_is_stable():
    base = load_knowledge()
    assert provenance.version(base) == provenance.version(load_knowledge())
    assert provenance.version(base) != provenance.version(load_knowledge({"tca": {"min_weeks": 5}}))
