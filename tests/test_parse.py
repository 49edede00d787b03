"""Free text -> facts (bot/text/parse.py with conversations/lexicon.toml and rules/drugs.toml), table-driven.

Each row: what a clinician types, and exactly the facts the parser must read from it. Implausible
values are questioned, never stored.
"""

from __future__ import annotations

import pytest

from neuroladder.bot.text.parse import Parser
from neuroladder.rules.data import load_knowledge
from neuroladder.rules.facts import check

KNOWLEDGE = load_knowledge()
PARSER = Parser(KNOWLEDGE)
G, P, D, V, T = "trial.gabapentin.", "trial.pregabalin.", "trial.duloxetine.", "trial.venlafaxine.", "trial.tca."


def parse(text):
    return PARSER.parse(text)


# -- doses with units and frequencies -------------------------------------------------------------------
DOSES = [
    ("gabapentin 300 mg tid", {G + "dose": 900, G + "doses_per_day": 3}),
    ("gabapentin 300mg TID", {G + "dose": 900, G + "doses_per_day": 3}),
    ("gabapentin 300 mg three times a day", {G + "dose": 900, G + "doses_per_day": 3}),
    ("gabapentin 300 mg tds", {G + "dose": 900, G + "doses_per_day": 3}),
    ("gabapentin 1.2 g/day", {G + "dose": 1200}),
    ("gabapentin 1,2 g/day", {G + "dose": 1200}),
    ("gabapentin 1200 mg/d", {G + "dose": 1200}),
    ("gabapentin 1,200 mg/day", {G + "dose": 1200}),  # a thousands separator, not 1.2 mg
    ("gabapentin 2 400 mg/day", {G + "dose": 2400}),
    ("gabapentin 1800 mg per day", {G + "dose": 1800}),
    ("gabapentin 600 x3/day", {G + "dose": 1800, G + "doses_per_day": 3}),
    ("gabapentin 600 3x daily", {G + "dose": 1800, G + "doses_per_day": 3}),
    ("gabapentin 600 mg twice a day", {G + "dose": 1200, G + "doses_per_day": 2}),
    ("gabapentin 600 bd", {G + "dose": 1200, G + "doses_per_day": 2}),
    ("gabapentin 400 qid", {G + "dose": 1600, G + "doses_per_day": 4}),
    ("gabapentin 1800 at night", {G + "dose": 1800, G + "doses_per_day": 1}),
    ("gabapentin 1800 mg in three doses", {G + "dose": 1800, G + "doses_per_day": 3}),
    ("gabapentin 2400 mg/day in 3 divided doses", {G + "dose": 2400, G + "doses_per_day": 3}),
    ("pregabalin 75 bd", {P + "dose": 150, P + "doses_per_day": 2}),
    ("pregabalin 600 mg/day in 2 doses", {P + "dose": 600, P + "doses_per_day": 2}),
    ("duloxetine 30", {D + "dose": 30}),
    ("duloxetine 60 mg od", {D + "dose": 60, D + "doses_per_day": 1}),
    ("duloxetine 60mg once daily", {D + "dose": 60, D + "doses_per_day": 1}),
]


@pytest.mark.parametrize("text,expected", DOSES, ids=[t for t, _ in DOSES])
def test_doses(text, expected):
    got = parse(text)
    assert not got.questioned
    for name, value in expected.items():
        assert got.facts.get(name) == value, (name, got.facts)
    dpd = [n for n in got.facts if n.endswith("doses_per_day")]
    assert set(dpd) <= set(expected), f"unexpected doses per day: {got.facts}"


# -- durations ----------------------------------------------------------------------------------------------
DURATIONS = [
    ("gabapentin 600 tid for 10 days", G + "weeks", 1.4),
    ("gabapentin 600 tid x 6 weeks", G + "weeks", 6),
    ("gabapentin 600 tid 6 wks", G + "weeks", 6),
    ("gabapentin 600 tid for 3 months", G + "weeks", 13.0),
    ("gabapentin 600 tid x 3 mo", G + "weeks", 13.0),
    ("gabapentin 600 tid for 1 year", G + "weeks", 52.2),
    ("Neurontin 800 tds 4/12", G + "weeks", 17.4),
    ("amitriptyline 25 mg 3/52", T + "weeks", 3),
    ("amitriptyline 25 mg for 8 weeks, 2 weeks at max dose", T + "weeks", 8),
    ("amitriptyline 25 mg for 8 weeks, 2 weeks at max dose", T + "weeks_at_max", 2),
    ("nortriptyline 50mg 8 wks incl 2 wks at max", T + "weeks_at_max", 2),
    ("ami 10 mg for 3 wks, 1 wk at max", T + "weeks_at_max", 1),
]


@pytest.mark.parametrize("text,name,weeks", DURATIONS, ids=[f"{t}->{n}" for t, n, _ in DURATIONS])
def test_durations(text, name, weeks):
    got = parse(text)
    assert got.facts.get(name) == pytest.approx(weeks, abs=0.05), got.facts


# -- brand and generic names ------------------------------------------------------------------------------
BRANDS = [
    ("Neurontin", "gabapentin"),
    ("Lyrica", "pregabalin"),
    ("Cymbalta", "duloxetine"),
    ("Elavil", "tca"),
    ("Pamelor", "tca"),
    ("amitriptyline", "tca"),
    ("nortriptyline", "tca"),
    ("Effexor", "venlafaxine"),
    ("Qutenza", "capsaicin8"),
    ("capsaicin 8% patch", "capsaicin8"),
    ("Botox", "botox"),
    ("botulinum toxin A", "botox"),
    ("capsaicin cream", "capsaicin_cream"),
    ("tramadol", "tramadol"),
    ("oxycodone", "oxycodone"),
    ("lidocaine plaster", "lidocaine"),
    ("gaba", "gabapentin"),
    ("dulox", "duloxetine"),
]


@pytest.mark.parametrize("text,agent", BRANDS, ids=[t for t, _ in BRANDS])
def test_brand_and_generic_names(text, agent):
    for phrase in (text, f"{text} tried", text.upper()):
        got = parse(phrase)
        assert got.facts.get(f"trial.{agent}.tried") == "yes", (phrase, got.facts)


def test_bare_capsaicin_is_asked_not_guessed():
    got = parse("capsaicin tried")
    assert got.ambiguous == ["capsaicin"]
    assert not any(n.startswith("trial.capsaicin") for n in got.facts)


# -- negation ---------------------------------------------------------------------------------------------------
NEGATED = [
    ("never had a TCA", "tca"),
    ("never tried TCAs", "tca"),
    ("no TCA", "tca"),
    ("tca never", "tca"),
    ("TCA: not tried", "tca"),
    ("tca nope", "tca"),
    ("not on duloxetine", "duloxetine"),
    ("didn't try pregabalin", "pregabalin"),
    ("gabapentin - never", "gabapentin"),
    ("Qutenza not tried", "capsaicin8"),
    ("botox no", "botox"),
    ("nil gabapentin", "gabapentin"),
]


@pytest.mark.parametrize("text,agent", NEGATED, ids=[t for t, _ in NEGATED])
def test_negation(text, agent):
    got = parse(text)
    assert got.facts == {f"trial.{agent}.tried": "no"}


def test_negation_stays_in_its_clause():
    got = parse("gabapentin 600 tid no help; never had a TCA")
    assert got.facts[G + "tried"] == "yes" and got.facts[G + "outcome"] == "no_benefit"
    assert got.facts[T + "tried"] == "no"


# -- outcomes --------------------------------------------------------------------------------------------------
OUTCOMES = [
    ("duloxetine 60 no help", "no_benefit"),
    ("duloxetine 60 didnt help", "no_benefit"),
    ("duloxetine 60 didn't work", "no_benefit"),
    ("duloxetine 60 nil effect", "no_benefit"),
    ("duloxetine 60 partial relief", "partial"),
    ("duloxetine 60 helped a bit", "partial"),
    ("duloxetine 60 good response", "good"),
    ("duloxetine 60 stopped for side effects", "side_effects"),
    ("duloxetine 60 stopped, nausea", "side_effects"),
    ("duloxetine 60 effect unknown", "unknown"),
]


@pytest.mark.parametrize("text,outcome", OUTCOMES, ids=[t for t, _ in OUTCOMES])
def test_outcomes(text, outcome):
    assert parse(text).facts.get(D + "outcome") == outcome


# -- yes / no / unknown / skip -------------------------------------------------------------------------------------
ANSWERS = [
    ("yes", "yes"),
    ("Y", "yes"),
    ("yep", "yes"),
    ("no", "no"),
    ("nope", "no"),
    ("never", "no"),
    ("unknown", "unknown"),
    ("dunno", "unknown"),
    ("not sure", "unknown"),
    ("?", "unknown"),
    ("don't know", "unknown"),
    ("skip", "skip"),
    ("later", "skip"),
]


@pytest.mark.parametrize("text,answer", ANSWERS, ids=[t for t, _ in ANSWERS])
def test_bare_answers(text, answer):
    got = parse(text)
    assert not got.facts
    assert got.answer == answer


def test_drug_with_a_bare_answer():
    assert parse("lyrica idk").facts == {P + "tried": "unknown"}
    assert parse("pregabalin skip").facts == {}


# -- other topics ------------------------------------------------------------------------------------------------
TOPICS = [
    ("78 years old", {"age": 78}),
    ("78 yo", {"age": 78}),
    ("62F", {"age": 62}),
    ("aged 70", {"age": 70}),
    ("eGFR 35", {"egfr": 35}),
    ("CrCl 25 ml/min", {"crcl": 25}),
    ("egfr >90", {"egfr": 90}),
    ("creatinine clearance 35", {"crcl": 35}),
    ("pain in both feet", {"pain_pattern": "diffuse"}),
    ("stocking distribution", {"pain_pattern": "diffuse"}),
    ("PHN", {"pain_pattern": "focal", "focal_cause": "postherpetic"}),
    ("focal", {"pain_pattern": "focal"}),
    ("pain pattern not sure", {"pain_pattern": "unknown"}),
    ("HbA1c high", {"diabetes": "uncontrolled"}),
    ("well controlled diabetes", {"diabetes": "controlled"}),
    ("non-diabetic", {"diabetes": "no"}),
    ("diabetes not checked", {"diabetes": "unknown"}),
    ("B12 low", {"b12": "low"}),
    ("b12 wnl", {"b12": "normal"}),
    ("b12 not checked", {"b12": "unknown"}),
    ("MGUS", {"paraprotein": "abnormal"}),
    ("spep normal", {"paraprotein": "normal"}),
    ("electrophoresis pending", {"paraprotein": "unknown"}),
    ("no red flags", {f"flag.{f}": "no" for f in KNOWLEDGE.red_flags}),
    ("red flags unknown", {f"flag.{f}": "unknown" for f in KNOWLEDGE.red_flags}),
    ("areflexia and proximal weakness", {"flag.areflexia": "yes", "flag.proximal_weakness": "yes"}),
    ("NCS demyelinating", {"flag.demyelinating": "yes"}),
    ("suspected CIDP", {"flag.cidp": "yes"}),
    ("new R foot drop", {"flag.motor_deficit": "yes"}),
    ("slowly progressive", {}),
    ("fatigue", {"weakness_fatigue": "yes"}),
    ("no weakness", {"weakness_fatigue": "no"}),
    ("combination tried", {"combination": "yes"}),
    ("never together", {"combination": "no"}),
    ("no SNRI", {D + "tried": "no", "trial.venlafaxine.tried": "no"}),
    ("never had a gabapentinoid", {G + "tried": "no", P + "tried": "no"}),
    ("no other SNRI", {}),  # implies one was tried: says nothing storable
    ("tried an SNRI", {}),  # which one? nothing stored
    ("combination not tried", {"combination": "no"}),
    ("combination tried, no benefit", {"combination": "yes", "combination.outcome": "no_benefit"}),
    # topics beside drugs hide only their own words: the drug is still read, and not negated
    (
        "combo of pregabalin + duloxetine tried",
        {
            "combination": "yes",
            "combination.agents": ["duloxetine", "pregabalin"],
            P + "tried": "yes",
            D + "tried": "yes",
        },
    ),
    (
        "no weakness on gabapentin 600 tid",
        {"weakness_fatigue": "no", G + "tried": "yes", G + "dose": 1800, G + "doses_per_day": 3, G + "current": "yes"},
    ),
]


@pytest.mark.parametrize("text,expected", TOPICS, ids=[t for t, _ in TOPICS])
def test_topics(text, expected):
    assert parse(text).facts == expected


def test_a_whole_message():
    got = parse(
        "gabapentin 300 mg tid for 3 months, no help; duloxetine 30; never had a TCA; "
        "pain in both feet; 78 years old; CrCl 35"
    )
    assert got.facts == {
        G + "tried": "yes",
        G + "dose": 900,
        G + "doses_per_day": 3,
        G + "weeks": 13.0,
        G + "outcome": "no_benefit",
        D + "tried": "yes",
        D + "dose": 30,
        T + "tried": "no",
        "pain_pattern": "diffuse",
        "age": 78,
        "crcl": 35,
    }
    for name, value in got.facts.items():
        check(name, value, KNOWLEDGE)


def test_b12_is_not_a_dose():
    got = parse("duloxetine 60 mg, b12 low, 70 yo")
    assert got.facts[D + "dose"] == 60 and got.facts["b12"] == "low" and got.facts["age"] == 70


# -- implausible values: questioned, never stored -----------------------------------------------------------------
IMPLAUSIBLE = [
    ("gabapentin 50 000 mg/day", G + "dose"),
    ("gabapentin 50000 mg/day", G + "dose"),
    ("gabapentin 1.2", G + "dose"),  # 1.2 g typed without its unit: asked, not stored as 1.2 mg
    ("gabapentin 50,000 mg/day", G + "dose"),
    ("gabapentin 20 g/day", G + "dose"),
    ("gabapentin -300 mg", G + "dose"),
    ("duloxetine 600 mg", D + "dose"),
    ("pregabalin 0 mg", P + "dose"),
    ("age 400", "age"),
    ("age -5", "age"),
    ("400 years old", "age"),
    ("egfr -10", "egfr"),
    ("crcl 900", "crcl"),
    ("amitriptyline for 5000 weeks", T + "weeks"),
]


@pytest.mark.parametrize("text,name", IMPLAUSIBLE, ids=[t for t, _ in IMPLAUSIBLE])
def test_implausible_values_are_questioned_not_stored(text, name):
    got = parse(text)
    assert name not in got.facts, got.facts
    assert any(q.startswith(name + ":") for q in got.questioned), got.questioned


def test_parsed_facts_always_fit_the_schema():
    for text, _ in DOSES + TOPICS:
        for name, value in parse(text).facts.items():
            assert check(name, value, KNOWLEDGE) == value, (text, name, value)


# -- misspelt drug names (phones) ------------------------------------------------------------------------
RESPELT = [
    ("gabapentn 300 tid", "gabapentn", "gabapentin", {G + "dose": 900}),
    ("duloxatine 60 no help", "duloxatine", "duloxetine", {D + "dose": 60, D + "outcome": "no_benefit"}),
    ("pregablin 150 bd", "pregablin", "pregabalin", {P + "dose": 300}),
    ("amitryptiline 25 for 8 weeks", "amitryptiline", "amitriptyline", {T + "weeks": 8}),
]


@pytest.mark.parametrize("text,typed,name,expected", RESPELT, ids=[t for t, *_ in RESPELT])
def test_misspelt_drug_names_are_read_and_said(text, typed, name, expected):
    got = parse(text)
    assert (typed, name) in got.respelled
    for key, value in expected.items():
        assert got.facts[key] == value


@pytest.mark.parametrize(
    "text",
    ["fluoxetine 20", "desvenlafaxine 50", "lamotrigine 100", "capsaicin", "patient has burning pain in both feet"],
)
def test_other_words_are_never_respelled(text):
    assert parse(text).respelled == []


# -- scope: negation over lists, outcomes beside their drug, terminations (bot/text/context.py) -----------------
SCOPE = [
    ("no weakness or fatigue", {"weakness_fatigue": "no"}),
    (
        "no foot drop, areflexia or proximal weakness",
        {"flag.motor_deficit": "no", "flag.areflexia": "no", "flag.proximal_weakness": "no"},
    ),
    ("never tried gaba or dulox", {G + "tried": "no", D + "tried": "no"}),
    ("gaba or dulox not tried", {G + "tried": "no", D + "tried": "no"}),
    ("no gaba, dulox 60 no help", {G + "tried": "no", D + "tried": "yes", D + "dose": 60, D + "outcome": "no_benefit"}),
    (
        "gaba 300 tds no help, dulox 60 helped",
        {
            G + "tried": "yes",
            G + "dose": 900,
            G + "doses_per_day": 3,
            G + "outcome": "no_benefit",
            D + "tried": "yes",
            D + "dose": 60,
            D + "outcome": "good",
        },
    ),
    ("no help from gabapentin", {G + "tried": "yes", G + "outcome": "no_benefit"}),
    ("no mgus, b12 low", {"paraprotein": "normal", "b12": "low"}),
    ("T2DM, HbA1c 11.2%, poorly controlled", {"diabetes": "uncontrolled", "hba1c": 11.2}),
    (
        "qutenza not tried, gaba 900 tds",
        {"trial.capsaicin8.tried": "no", G + "tried": "yes", G + "dose": 2700, G + "doses_per_day": 3},
    ),
]


@pytest.mark.parametrize("text,expected", SCOPE, ids=[t for t, _ in SCOPE])
def test_scope(text, expected):
    assert parse(text).facts == expected


# -- outcomes and status of a trial -------------------------------------------------------------------------
TRIAL_STATUS = [
    ("gabapentin 2400 mg/day in 3 doses for 3 months, hasn't helped", G + "outcome", "no_benefit"),
    ("gaba 800 tds x4 mo nil", G + "outcome", "no_benefit"),
    ("dulox 60 didn't touch it", D + "outcome", "no_benefit"),
    ("nortrip 25 nocte not much better", T + "outcome", "no_benefit"),
    ("lyrica 150 bd helped at first then stopped working", P + "outcome", "waned"),
    ("on gaba, v drowsy + confused", G + "adverse", ["confusion", "drowsiness"]),
    ("on gaba, v drowsy + confused", G + "current", "yes"),
    ("pregabalin 75 bd, stopped due to dizziness", P + "outcome", "side_effects"),
    ("pregabalin 75 bd, stopped due to dizziness", P + "current", "no"),
    ("gaba 400 tds, no side effects", G + "adverse", []),
    ("gaba 600 tds x 8 wks, max tolerated", G + "max_tolerated", "yes"),
    ("gaba 100 nocte, never titrated", G + "max_tolerated", "no"),
    ("ami 50 nocte 4 wks incl 2 wks @max", T + "weeks", 4),
    ("ami 50 nocte 4 wks incl 2 wks @max", T + "weeks_at_max", 2),
    ("gaba 300 tds 6 wks -> 600 tds 6 wks", G + "weeks", 12),
    ("gaba 300 tds 6 wks -> 600 tds 6 wks", G + "dose", 1800),
    ("ami 25 x 2 m", T + "weeks", 8.7),
]


@pytest.mark.parametrize("text,name,value", TRIAL_STATUS, ids=[f"{t}->{n}" for t, n, _ in TRIAL_STATUS])
def test_trial_outcome_and_status(text, name, value):
    assert parse(text).facts.get(name) == value, parse(text).facts


def test_a_side_effect_alone_is_not_stopping_the_drug():
    got = parse("on gaba, v drowsy + confused").facts
    assert G + "outcome" not in got


# -- numbers with units and subjects ----------------------------------------------------------------------
UNITS = [
    ("a1c 86", {"hba1c": 10.0}),
    ("hba1c 64 mmol/mol", {"hba1c": 8.0}),
    ("HbA1c 7.2%", {"hba1c": 7.2}),
    ("b12 250 pmol/L", {"b12_level": 250}),
    ("b12 180 pg/ml", {"b12_level": 133}),
    ("b12 low, replaced, now normal", {"b12": "treated"}),
    ("no b12 deficiency", {"b12": "normal"}),
    ("eGFR 35", {"egfr": 35}),
    ("CrCl 35", {"crcl": 35}),
    ("ami 25 x 2 m", {T + "tried": "yes", T + "dose": 25, T + "weeks": 8.7}),
]


@pytest.mark.parametrize("text,expected", UNITS, ids=[t for t, _ in UNITS])
def test_numbers_with_units(text, expected):
    assert parse(text).facts == expected


@pytest.mark.parametrize("text", ["b12 250", "hba1c 17"])
def test_a_number_whose_unit_is_unclear_is_asked(text):
    got = parse(text)
    assert not got.facts and len(got.clarify) == 1 and len(got.clarify[0].choices) == 2


def test_two_outcomes_for_one_drug_are_asked():
    got = parse("gaba 600 tds helped, no help")
    assert not any(n.endswith(".outcome") for n in got.facts) and got.clarify


# -- questions, plans and history: nothing stored ------------------------------------------------------------
QUERIES = [
    ("can I add tramadol?", ["weak_opioid"]),
    ("so can she have SCS or not?", ["scs"]),
    ("more oxy?", ["strong_opioid"]),
    ("what about rTMS?", ["rtms"]),
    ("is it time for a pain clinic?", ["referral"]),
    ("considering combination with ami", ["combination", "tca"]),
    ("strong opioids next?", ["strong_opioid"]),
]


@pytest.mark.parametrize("text,keys", QUERIES, ids=[t for t, _ in QUERIES])
def test_questions_store_nothing_and_name_the_options(text, keys):
    got = parse(text)
    assert got.facts == {} and got.queries == keys


@pytest.mark.parametrize("text", ["hx AMI 2019", "PMH: AMI", "AMI 2012, stents"])
def test_history_is_not_a_drug(text):
    assert parse(text).facts == {}


def test_history_is_not_a_drug_and_avoiding_for_it_is_a_contraindication():
    assert parse("hx AMI 2019 so avoiding TCAs").facts == {"trial.tca.contraindicated": "yes"}


# -- red flags one by one -------------------------------------------------------------------------------------
def test_red_flags_one_by_one():
    assert parse("rapidly worsening over 3 weeks, new R foot drop").facts == {
        "flag.rapid_course": "yes",
        "flag.motor_deficit": "yes",
    }
    assert parse("slowly progressive").facts == {}
    assert parse("PHN, asymmetric").facts == {
        "pain_pattern": "focal",
        "focal_cause": "postherpetic",
        "flag.asymmetric": "yes",
    }
    got = parse("no red flags apart from asymmetry").facts
    assert got["flag.asymmetric"] == "yes" and got["flag.cidp"] == "no"
