"""The reader's words (conversations/lexicon.toml, rules/drugs.toml), compiled once per process."""

from __future__ import annotations

import re

from neuroladder.rules.data import Knowledge, read_toml

from .context import Scope, Tail, alternation, phrase_re

CONVERSATIONS = "neuroladder.conversations"
NUMBER = r"-?\d+(?:[.,]\d+)?"


def _by_length(words) -> str:
    """Literal words as one alternation, a longer word winning over its prefix ("no help" over
    "no"): shaped like a trie (context.alternation), so a search tries a few characters at each
    position rather than every word - the relatives x relations list alone is ~600 words."""
    return alternation({w for w in words})


# A named group's opening, "(?P<n>", not escaped: made plain "(?:" in an alternation (AnyOf).
_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")
_REFERS_TO_GROUP = re.compile(r"\\\d|\(\?P=|\(\?\(")  # back references and conditionals
# A pattern's leading condition on the character before it, "(?<![\w%/])": left out of AnyOf's
# alternation, where it would be tried at every position of the text.
_LEADING_LOOKBEHIND = re.compile(r"\(\?<!\[(?:\\w|[%/.])*\]\)")


class AnyOf:
    """Whether any of a step's patterns may occur in a text, in one search, built from the
    patterns themselves (so it follows the lexicon as it changes): a step whose every pattern
    finds nothing changes nothing, and is skipped after this one search. The search is the
    patterns' alternation without their leading lookbehinds: leaving out a condition only lets
    more text match, so where it finds nothing none of the patterns finds anything; where it finds
    something (even where none of the patterns would) the step runs as before. Where no
    alternation can stand for the patterns (flags differ, a pattern refers to its own groups),
    each is searched in turn."""

    def __init__(self, *patterns: re.Pattern | None):
        self.patterns = [rx for rx in patterns if rx is not None]  # a None pattern (no words) matches nothing
        self.rx: re.Pattern | None = None
        if self.patterns:
            try:
                self.rx = _alternation(self.patterns)
            except (ValueError, re.error):
                self.rx = None

    def absent(self, text: str) -> bool:
        """True only when none of the patterns matches anywhere in `text` (False: one may)."""
        if self.rx is not None:
            return self.rx.search(text) is None
        return not any(rx.search(text) for rx in self.patterns)


def _alternation(patterns: list[re.Pattern]) -> re.Pattern:
    """(?:a)|(?:b)|...: matches at least wherever one of the patterns does. Their named groups
    become plain ones (names may repeat across patterns), their leading lookbehinds are left out;
    refused (ValueError) where that could change what a pattern matches."""
    flags = {rx.flags for rx in patterns}
    if len(flags) != 1:
        raise ValueError("patterns with different flags")
    parts = []
    for rx in patterns:
        if _REFERS_TO_GROUP.search(rx.pattern):
            raise ValueError("a pattern refers to its own groups")
        plain, renamed = _NAMED_GROUP.subn("(?:", rx.pattern)
        # every named group found, and nothing else taken for one ("[(?P<x>]" is a character set)
        if renamed != len(rx.groupindex) or (
            renamed and re.compile(plain, rx.flags).groups != rx.groups - len(rx.groupindex)
        ):
            raise ValueError("a group name could not be told apart")
        lead = _LEADING_LOOKBEHIND.match(plain)
        parts.append(f"(?:{plain[lead.end() :] if lead else plain})")
    return re.compile("|".join(parts), flags.pop())


class PhraseMap:
    """Many phrase lists in one pattern: `finditer` yields (start, end, [what each list says])."""

    def __init__(self, entries):
        self.meaning: dict[str, list] = {}
        for phrase, what in entries:
            self.meaning.setdefault(phrase.lower(), []).append(what)
        self.rx = phrase_re(self.meaning)

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):
        if self.rx is None:
            return
        for mt in self.rx.finditer(text, pos, len(text) if endpos is None else endpos):
            yield mt.start(), mt.end(), self.meaning[mt.group()]

    def search(self, text: str) -> bool:
        return bool(self.rx and self.rx.search(text))


class Topic:
    """A topic fact: subject words, value words, standalone phrases, and what negation does."""

    def __init__(self, name: str, spec: dict):
        self.name = name
        self.fact = spec["fact"]
        self.subject = phrase_re(spec.get("subject", []))  # (value words and phrases: Lexicon's PhraseMaps)
        self.negated = spec.get("negated", {})
        self.present = spec.get("present")
        self.absent = spec.get("absent")  # the value of the bare subject negated ("diabetes: no")
        # ... except of these subjects, tests rather than findings: "no SPEP" says it was not done
        not_done = spec.get("absent_not_from", {})
        self.not_done_words = set(not_done.get("words", ()))
        self.not_done = not_done.get("value") or None  # None: nothing is read from it
        before = not_done.get("before", [])  # the negation right before the name: "no (recent) SPEP"
        self.not_done_before = re.compile(r"(?:" + _by_length(before) + r")\s*") if before else None
        self.priority = spec.get("priority", [])
        self.known_wins = spec.get("known_wins", False)  # one value said beside "unknown": that value
        self.shares_result = spec.get("shares_result", False)  # a test: "b12 and spep normal" share it
        self.unknown_not_from = set(spec.get("unknown_not_from", ()))  # subjects whose "unknown" says nothing
        self.combine = spec.get("combine")
        self.implies = spec.get("implies", {})
        self.asserted = {w.lower() for w in spec.get("asserted", [])}  # a negation after these is an outcome
        words = spec.get("not_before", [])  # a subject word followed by one of these is not this topic
        self.not_before = re.compile(r"\s*(?:" + _by_length(words) + r")(?![\w%])") if words else None
        self.alone = spec.get("alone", {})  # subject words that, with no value, are asked about
        self.unclear = spec.get("unclear", {})  # subject and value words whose reading is asked
        self.listed_present = {w.lower() for w in spec.get("listed_present", [])}  # outside a list negated by commas
        self.listed_unclear = spec.get("listed_unclear", {})  # ... read two ways there: asked
        self.values = set(spec.get("values", {}))  # the values it may take ("unknown" for a queried term)


class Lexicon:
    def __init__(self, knowledge: Knowledge):
        self.k = knowledge
        lex = read_toml(CONVERSATIONS, "lexicon.toml")
        self.raw = lex
        self.scope = Scope.from_lexicon(lex)
        self.frequency = {k.lower(): v for k, v in lex["frequency"].items()}
        self.frequency_re = phrase_re(self.frequency)
        unit, tab = _by_length(lex["tablets"]["units"]), _by_length(lex["tablets"]["words"])  # tablets counted
        self.as_needed = phrase_re(lex["as_needed"]["words"])  # "tramadol 50 prn": one dose, not the day's
        # "600/600/900", "300-300-600" right after the drug: the day's doses one by one (three or four)
        self.schedule = re.compile(
            rf"[\s:]*(?P<doses>\d{{1,4}}(?:\s*(?:{unit}))?(?:\s*[/\-+]\s*\d{{1,4}}(?:\s*(?:{unit}))?){{2,3}})(?![\d/.\-+])"
        )
        self.tablets = re.compile(
            rf"(?<![\w.])[1-9]\s*x\s*\d+(?:\.\d+)?\s*(?:{unit})\b"
            rf"|(?<![\d.])\d+(?:\.\d+)?\s*(?:{unit})\s*(?:{tab})\s*x\s*[1-9]\b"  # (a number from its start only)
            rf"|(?<![\w.])[1-9]\s*(?:{tab})\b"
        )
        times = _by_length(lex["dose_times"]["words"])  # "300 mane, 600 nocte": two doses, summed
        one = rf"(?P<n{{i}}>\d{{{{1,4}}}})\s*(?:mg)?\s*(?:{times})(?![\w])"
        joint = r"\s*(?:[,+&/;]|\band\b)?\s*"
        self.timed_doses = re.compile(
            one.format(i=0) + joint + one.format(i=1) + rf"(?:{joint}" + one.format(i=2) + ")?"
        )
        dotted = lex.get("dotted_frequency", {})
        self.dotted = {k.lower(): v for k, v in dotted.items()}
        self.dotted_re = phrase_re([k + "." for k in dotted] + list(dotted)) if dotted else None
        # "150bd", "600tds", "600mgtds": a number (or its mg) typed against its frequency word
        glued = [w for w in self.frequency if w.isalnum() and w.isalpha()]
        self.glued_frequency = re.compile(rf"(?:(?<=\d)|(?<=\dmg)|(?<=\d mg))(?=(?:{_by_length(glued)})(?![\w%]))")
        self.units = lex["units"]
        self.divided = {k.lower(): v for k, v in lex.get("divided_doses", {}).items()}
        self.divided_re = phrase_re(self.divided)
        self.duration_units = lex["duration_units"]
        # A match starts where a run of spaces starts (never inside one): the phrases begin with a
        # word, so the matches are the same, but a searched run of n spaces costs n steps, not n².
        self.at_max_re = re.compile(r"(?<!\s)\s*(?:" + _by_length(lex["at_max"]["phrases"]) + r")(?![\w%])")
        composed = [  # "no obvious benefit", "without real relief": lead + qualifier + benefit word
            (" ".join(w for w in (lead, q, noun) if w), outcome)
            for outcome, spec in lex.get("outcomes_composed", {}).items()
            for lead in spec["lead"]
            for q in spec["qualifiers"]
            for noun in spec["nouns"]
        ]
        self.outcomes = PhraseMap([(p, o) for o, ps in lex["outcomes"].items() for p in ps] + composed)
        scores = lex.get("pain_scores", {})
        self.pain_scores = [re.compile(p) for p in scores.get("patterns", [])]
        self.pain_percent = [re.compile(p) for p in scores.get("percent_patterns", [])]
        self.relief_for = [re.compile(p) for p in scores.get("relief_patterns", [])]
        self.pain_good_at_most = scores.get("good_at_most", 0.5)
        self.pain_partial_at_most = scores.get("partial_at_most", 0.7)
        self.list_outcome = phrase_re(lex["negation"].get("list_outcome", []))
        self.list_or = Tail(lex["negation"].get("list_or", []))  # "no falls or T2DM": the list's negation reaches it
        # "gaba helped but dulox didn't" / "... but dulox did": a clause that only denies or affirms
        neg = lex["negation"]
        contrast = r"[\s,;:.!\-()]*(?:(?:" + _by_length(neg.get("elliptic_contrast", [])) + r")(?![\w])[\s,;:\-]*)?"
        self.elliptic_negation = re.compile(
            contrast + r"(?:" + _by_length(neg.get("elliptic_negation", [])) + r")[\s,;:.!\-()]*"
        )
        self.elliptic_affirmation = re.compile(
            contrast + r"(?:" + _by_length(neg.get("elliptic_affirmation", [])) + r")[\s,;:.!\-()]*"
        )
        # "... - all no help": the words that make the last drug's outcome the whole list's
        not_after = "".join(rf"(?<!{re.escape(w)} )" for w in neg.get("list_all_not_after", []))
        self.list_all = re.compile(
            r"(?<![\w])"
            + not_after
            + r"(?:"
            + _by_length(neg.get("list_all", []))
            + r")(?![\w])(?!\s+(?:"
            + _by_length(neg.get("list_all_not", []))
            + r")\b)"
        )
        drug_after = lex["negation"].get("after_drug", [])
        self.drug_not_yet = re.compile(r"[\s:=\-]*(?:" + _by_length(drug_after) + r")(?![\w%])") if drug_after else None
        drug_before = lex["negation"].get("before_drug", [])  # "awaiting botox", "referred for qutenza"
        self.drug_not_yet_before = (
            re.compile(r"(?<![\w])(?:" + _by_length(drug_before) + r")\s+(?:(?:a|an|the|her|his)\s+)?$")
            if drug_before
            else None
        )
        self.outcome_negators = Tail(
            f"{w} {a}".strip()
            for w in lex["outcome_negators"]["words"]
            for a in ["", *lex["outcome_negators"].get("adverbs", [])]
        )
        self.outcome_auxiliaries = Tail(lex["outcome_negators"].get("auxiliaries", []))
        partial = lex["outcome_partial"]["words"]  # "partially effective", "helped partially": partial
        self.partial_before = Tail(partial)
        partial_after = partial + lex["outcome_partial"].get("after", [])
        self.partial_after = re.compile(r"\s*(?:" + _by_length(partial_after) + r")(?![\w%])")
        self.enough_after = re.compile(r"\s*(?:" + _by_length(lex["outcome_partial"].get("enough", [])) + r")(?![\w%])")
        hedged_after = lex.get("outcome_hedges", {}).get("after", [])
        self.outcome_hedged_after = (  # "helped maybe", "no help, I think"
            re.compile(r"[\s,\-]*(?:" + _by_length(hedged_after) + r")(?![\w])") if hedged_after else None
        )
        self.outcome_hedges = phrase_re(lex.get("outcome_hedges", {}).get("words", []), right=r"(?:(?![\w%])|(?<=\?))")
        self.bare_negative = re.compile(
            r"(?<![\w%])(?:" + _by_length(lex["outcome_bare_negative"]["words"]) + r")\s*(?:[,;.!\n)]|-+>|$)"
        )
        self.adverse = PhraseMap((w, key) for key, ws in lex["adverse"].items() for w in ws)
        status = lex["trial_status"]
        self.no_adverse = phrase_re(status["no_adverse"])
        heading, value = status.get("no_adverse_subject", []), status.get("no_adverse_value", [])
        self.adverse_headings = {w.lower() for w in heading}
        self.no_adverse_said = (  # "side effects: none"
            re.compile(rf"(?<![\w%/])(?:{_by_length(heading)})\s*[:=\-]*\s*(?:{_by_length(value)})(?![\w%])")
            if heading and value
            else None
        )
        self.current_before = Tail(status["current_before"])
        self.current_after = phrase_re(status["current_after"])
        self.current_negators = Tail(status.get("current_negators", []))
        self.no_longer_after = re.compile(
            r"\s*(?:" + _by_length(status.get("no_longer_after", ["anymore"])) + r")(?![\w%])"
        )
        self.not_now_after = re.compile(r"\s*(?:" + _by_length(status.get("not_now_after", ["now"])) + r")(?![\w%])")
        self.stopped = phrase_re(status["stopped"])
        self.stopped_before = Tail(status["stopped_before"])
        self.not_duration = phrase_re(status.get("not_duration", []))
        self.duration_when = re.compile(r"\s*(?:" + _by_length(status["when_not_how_long"]) + r")(?![\w%])")
        self.interval_after = re.compile(r"\s*(?:" + _by_length(status["interval_after"]) + r")(?![\w%])")
        self.interval_before = Tail(status["interval_before"])
        self.not_trial_before = Tail(status["duration_not_trial_before"])  # "review in 4 weeks", "pain for 2 years"
        self.at_dose = re.compile(
            r"\s*(?:"
            + _by_length(status["at_dose"])
            + rf")\s*(?P<n>{NUMBER})\s*(?:{_by_length(lex['units'])})?(?![\w%/])"
        )
        self.started_before = re.compile(r"(?<![\w])(?:" + _by_length(status["started"]) + r")(?![\w])")
        self.max_yes = phrase_re(status["max_tolerated_yes"])
        limited = lex["dose_limited"]  # "didn't tolerate higher": the maximum tolerated, not stopped
        self.dose_limited = re.compile(
            r"(?<![\w%])(?:"
            + _by_length(limited["intolerance"])
            + r")\s+(?:"
            + _by_length(limited["then"])
            + r")(?![\w%])"
        )
        self.max_no = phrase_re(status["max_tolerated_no"])
        self.part_of = Tail(status["part_of"])
        self.lowered_to = Tail(status.get("lowered_to", []))
        self.correction = phrase_re(status.get("correction", []))
        self.off_before = Tail(status.get("off_before", []))
        self.tried_list_lead = Tail(lex.get("tried", {}).get("list_lead", []), trailing=r"[\s:\-]*")
        self.duration_at_most = Tail(status.get("duration_at_most_before", []))
        self.stopped_for_it = phrase_re(status.get("stopped_for_it", []))
        self.sequence = phrase_re(status["sequence"])
        self.answers = {a: phrase_re(ps) for a, ps in lex["answers"].items()}
        # A reply that starts with its answer and goes on ("no, only 10mg", "yes - twice last year")
        starts = {
            w.lower(): a for a, ws in lex["answers"].items() if a != "skip" for w in ws if w.replace(" ", "").isalpha()
        }
        self.leading_answers = starts
        # ... but never one whose whole, or whose rest, is "unknown" ("no idea", "no, not done": not a no)
        unsure_words = _by_length([w.lower() for w in lex["answers"]["unknown"]])
        unsure = r"(?!(?:" + unsure_words + r")[\s.!?]*$)"
        # ... a reply that is an answer word, then "not done" ("no, not examined"): not known, not a no
        self.answer_then_unsure = re.compile(
            r"\s*(?:" + _by_length(starts) + r")[\s,;:.!\-]+(?:" + unsure_words + r")[\s.!?]*",
            re.S,
        )
        self.leading_answer = re.compile(
            r"\s*(?!(?:"
            + _by_length(starts)
            + r")[\s.!?]*$)(?P<word>"
            + _by_length(starts)
            + r")[\s,;:.!\-]+"
            + unsure
            + r"(?P<rest>\S.*)",
            re.S,
        )
        # "creat 150" beside a drug: the word right before a number says whose value it is
        self.dose_lead = {w.lower() for w in lex["dose_lead"]["words"]}
        self.measures = {w.lower() for w in lex["dose_lead"]["measures"]}
        self.dose_at_most = Tail(lex["dose_lead"].get("at_most", []))
        ordinal = lex["dose_lead"].get("ordinal", [])
        self.ordinal_before = re.compile(rf"(?<![\w])(?:{_by_length(ordinal)})\s*$") if ordinal else None
        # "twice", "1 last month" under "any falls?" (intake.toml `counts`)
        counted = lex["count_replies"]
        self.count_reply = re.compile(
            r"\s*(?:x\s*)?(?P<n>\d{1,3}|" + _by_length(counted["counts"]) + r")(?:\s*x)?"  # a count: at most 3 digits
            r"(?:[\s,.;:!/\-]+(?:\d+|" + _by_length(counted["then"] + counted["counts"]) + r")(?![\w%]))*[\s.!]*"
        )
        # "a bit" under "what was the effect?"
        self.outcome_replies = {w.lower(): o for o, ws in lex["outcome_replies"].items() for w in ws}
        self.answer_words = {p.lower(): a for a, ps in lex["answers"].items() for p in ps}
        self.number_res = {
            name: [re.compile(p) for p in lex[name]["patterns"]]
            for name in ("age", "crcl", "egfr", "hba1c", "b12_level")
        }
        self.hba1c_units = lex["hba1c"]
        self.b12_units = lex["b12_level"]
        self.topics = [Topic(name, spec) for name, spec in lex["topics"].items()]
        rf = lex["red_flags"]
        self.red_flags_subject = phrase_re(rf["subject"])
        # "areflexia not examined", "foot drop - unknown": the flag is not known, never present
        unknown_after = [w.lower() for w in lex["answers"]["unknown"] if w.strip() != "?"] + rf.get("unknown_after", [])
        self.flag_unknown_after = re.compile(r"[\s,:;\-(]*(?:" + _by_length(unknown_after) + r")(?![\w])")
        self.flags_queried_present = {w.lower() for w in rf.get("queried_present", [])}  # "?CIDP": suspected - the flag
        words = rf.get("exceptions", [])  # "no red flags apart from ...": an exception follows
        self.red_flags_except = re.compile(r"[\s,;:(\-]*(?:" + _by_length(words) + r")(?![\w])") if words else None
        # every topic's subject words and phrases: (topic, its value or None for a subject)
        self.topic_words = PhraseMap(
            [
                (p, (t, v))
                for t, spec in zip(self.topics, lex["topics"].values())
                for v, ps in spec.get("phrases", {}).items()
                for p in ps
            ]
            + [(w, (t, None)) for t, spec in zip(self.topics, lex["topics"].values()) for w in spec.get("subject", [])]
        )
        # every topic's value words: (fact, value)
        self.value_words = PhraseMap(
            [
                (w, (spec["fact"], v))
                for spec in lex["topics"].values()
                for v, ws in spec.get("values", {}).items()
                for w in ws
            ]
            + [(w, ("red_flags", v)) for v, ws in rf["values"].items() for w in ws]
        )
        phrases = dict(lex["red_flag_phrases"])
        self.flag_pseudo = phrase_re(phrases.pop("pseudo", []))
        self.flags = [(flag, phrase_re(ps)) for flag, ps in phrases.items()]
        # what may join tests listed before their one result ("b12 and spep both normal")
        self.tests_joined = re.compile(
            r"(?<![\w])(?:" + _by_length(lex["tests_listed"]["joiners"]) + r")(?![\w])|[&/+:]"
        )
        # "power 5/5 throughout", "reflexes normal": examination findings that rule a flag out
        self.flags_absent = [(flag, phrase_re(ps)) for flag, ps in lex.get("red_flag_absent", {}).items()]
        unless = lex.get("red_flag_absent_unless", {}).get("words", [])
        self.flags_absent_unless = re.compile(r"[\s,;:(\-]*(?:" + _by_length(unless) + r")(?![\w])") if unless else None
        self.flag_course = lex.get("red_flag_course", {})
        self.hedged = Tail(lex["hedged"]["before"])  # "possible mgus": suspected, not found
        self.hedged_after = re.compile(r"[\s:\-]*(?:" + _by_length(lex["hedged"]["after"]) + r")(?![\w/])")
        self.nothing_else = lex.get("nothing_else", {})
        self.nothing_else_re = phrase_re(self.nothing_else.get("phrases", []))
        self.class_words = {cls: phrase_re(words) for cls, words in lex.get("class_words", {}).items()}
        q = lex["queries"]
        self.query_starts = re.compile(r"^[\s\x00,]*(?:" + _by_length(q["starts"]) + r")(?![\w])")
        self.query_weak_starts = re.compile(r"^[\s\x00,]*(?:" + _by_length(q["weak_starts"]) + r")(?![\w])")
        self.query_inside = phrase_re(q["inside"])
        self.hypothetical = phrase_re(q["hypothetical"])
        self.not_hypothetical = phrase_re(q.get("not_hypothetical", []))
        self.conditional = phrase_re(q.get("conditional", []))
        self.not_conditional = phrase_re(q.get("not_conditional", []))
        self.not_given = phrase_re(q.get("not_given", []))
        planned = q.get("planned_after", [])  # "gaba 300 tds planned": the dose is the plan's
        self.planned_after = re.compile(r"\s*(?:" + _by_length(planned) + r")(?![\w%])") if planned else None
        self.planned_dose = re.compile(  # the dose, units, frequency and how long, between the drug and the plan word
            rf"(?:\s*(?:(?:x|for)\s*)?{NUMBER}\s*(?:{_by_length(lex['duration_units'])})(?![a-z])"
            rf"|[\s:]*{NUMBER}\s*(?:{_by_length(lex['units'])})?(?:\s*(?:{_by_length(self.frequency)}))?(?![\w%]))+"
        )
        self.contraindicated = phrase_re(q.get("contraindicated", []))
        self.contraindicated_with_reason = phrase_re(q.get("contraindicated_with_reason", []))
        reasons = q.get("contraindication_reasons", [])
        # right after the drug (or the word): a reason, so "avoid" is a clinical judgement
        self.contraindication_reason = re.compile(r"[\s,]*(?:" + _by_length(reasons) + r")(?:(?<=[\s(:])|(?![\w]))")
        before = _by_length(q.get("contraindication_reasons_before", []))
        self.contraindication_reason_before = re.compile(rf"(?<![\w])(?:{before})[\s,]*$") if before else None
        self.contraindication_wish = phrase_re(q.get("contraindication_wishes", []))
        hedges = q.get("contraindication_hedges", [])
        self.contraindication_hedge = (
            re.compile(r"\?|(?<![\w])(?:" + _by_length(hedges) + r")(?![\w])") if hedges else None
        )
        self.contraindicated_classes = q.get("contraindicated_classes", {})
        self.query_options = PhraseMap((w, key) for key, ws in q["options"].items() for w in ws)
        self.query_classes = q["classes"]
        self.query_agents = q["agents"]
        hist = lex["history"]
        self.history_before = Tail(hist["triggers"], trailing=r"[\s:,]*")
        self.collisions = phrase_re(hist["collisions"])
        others = lex["others"]  # "family hx of diabetes": someone else's, to the end of the clause
        related = [  # "son has", "brother on", "husband's" (a possessive joins its word)
            who + ("" if how[0] in "'’" else " ") + how
            for who in others.get("relatives", [])
            for how in others.get("relations", [])
        ]
        self.others = re.compile(r"(?<![\w])(?:" + _by_length(others["before"] + related) + r")(?![\w])[^,;.\n]*")
        self.not_trials = phrase_re(others["not_trials"])  # "IV lidocaine" is not the plaster
        self.year_after = re.compile(r"\s*(?:in\s+)?" + hist["year"] + r"\b")
        joined = lex.get("combination_joined", {})
        joiners = joined.get("joiners", [])
        unit, freq = _by_length(joined["dose_units"]), _by_length(joined["dose_frequencies"])
        dose = rf"(?:\s*[\d.]+\s*(?:{unit})?(?:\s*(?:{freq}))?)?"  # "dulox 60 od with ..."
        self.joined_pair = (  # "dulox 60 + pregab"
            re.compile(dose + r"\s*(?:" + _by_length(joiners) + r")\s*$") if joiners else None
        )
        self.second_dose = re.compile(dose)  # "... + pregab 150 bd for 3 months": the second drug's dose
        self.current_before = Tail(joined.get("current_before", []))
        self.current_pairs = {frozenset(pair) for pair in joined.get("current_pairs", [])}
        self.concurrent = re.compile(dose + r"\s*(?:" + _by_length(joined.get("concurrent", ["with"])) + r")\s*$")
        self.both_before = Tail(joined.get("both_before", []))
        # "(no) gabapentinoid with an SNRI": a class named with a partner drug or class
        partnered = _by_length(joined.get("concurrent", ["with"]) + joiners)
        self.class_partner = re.compile(r"\s*(?:" + partnered + r")\s*(?:(?:an?|the)\s+)?")
        self.class_partner_before = re.compile(r"(?:" + partnered + r")\s*(?:(?:an?|the)\s+)?$")
        self.added_before = Tail(joined.get("added_before", []))
        after = joined.get("added_after", [])
        self.added_after = re.compile(dose + r"\s*,?\s*(?:" + _by_length(after) + r")(?![\w])") if after else None
        self.added_between_loose = re.compile(dose + r"[\s,]*(?:(?:and\s+)?(?:then|later|subsequently)|and)?[\s,]*$")
        self.both_between = re.compile(dose + r"\s*(?:and|&)\s*$")
        self.added_between = re.compile(dose + r"\s*(?:to|onto|on to|in to)\s*$")
        self.clarify = lex["clarify"]
        self.messages = lex["messages"]
        names = {}
        for agent, spec in knowledge.agents.items():
            for name in spec["names"]:
                names[name.lower()] = agent
        self.drug_names = names
        self.drug_re = phrase_re(names)
        # The name a button's value uses: the first that no class word takes ("opioid" is read as the
        # class, "hydrocodone" as the agent), so the reader reads the button back as that agent.
        self.button_name = {
            agent: next(
                (n for n in spec["names"] if not any(rx and rx.fullmatch(n) for rx in self.class_words.values())),
                spec["names"][0],
            )
            for agent, spec in knowledge.agents.items()
        }
        spelling = lex.get("spelling", {})
        self.spell_min_length = spelling.get("min_length", 6)
        self.spell_min_similarity = spelling.get("min_similarity", 1.0)
        self.not_drugs = set(spelling.get("not_drugs", [])) - set(names)
        self.spell_targets = sorted(
            {n for n in list(names) + list(knowledge.ambiguous) if n.isalpha() and len(n) >= self.spell_min_length}
        )
        self.spell_cache: dict[str, str | None] = {}
        self.ambiguous_re = {key: re.compile(rf"(?<![\w%]){re.escape(key)}(?![\w%])") for key in knowledge.ambiguous}
        words = lex["number_words"]  # "six months", "twenty five mg": digits
        self.number_words = {**words["ones"], **words["teens"], **words["tens"]}
        ones, tens = _by_length(words["ones"]), _by_length(words["tens"])
        spelled = rf"(?:(?:{tens})(?:[\s-]+(?:{ones}))?|{_by_length(words['teens'])}|{ones})"
        after = _by_length(list(self.duration_units) + words["before"])
        self.spelled_number = re.compile(rf"(?<![\w-])(?P<n>{spelled})(?=\s*(?:{after})(?![a-z]))")
        article = words.get("article", {})
        self.article_number = {k.lower(): v for k, v in article.get("words", {}).items()}
        rate = "".join(rf"(?<!\b{re.escape(w)} )" for w in article.get("not_after", []))
        self.article_duration = (  # "a week", "a couple of months"
            re.compile(
                rf"(?<![\w-]){rate}(?P<n>{_by_length(self.article_number)})\s+(?=(?:{_by_length(article['units'])})\b)"
            )
            if self.article_number
            else None
        )
        # a range ("6-8 weeks", "2 to 3 months") is read at its lower end: at least that long, never longer
        # (not after a number of three digits: "gaba 300-6 weeks" is a dose, then a duration)
        joiners = _by_length(lex["duration_range"]["joiners"])
        ranged = r"(?:(?<!\d\d\d)(?:-|\s+(?:" + joiners + r")\s+)(?P<hi>\d+(?:\.\d+)?))?"
        self.duration_re = re.compile(
            # from a number's start only: inside a run of digits every start would rescan it (quadratic)
            rf"(?<![\d.,])(?P<n>{NUMBER}){ranged}\s*(?P<u>" + _by_length(self.duration_units) + r")(?![a-z])"
        )
        # "nausea (for the) first 2 wks": how long a side effect lasted, right after it
        lasted = _by_length(status["effect_lasted"])
        self.effect_lasted = re.compile(
            r"(?:[\s:\-]*(?:"
            + lasted
            + r")(?![\w]))*[\s:\-]*"
            + self.duration_re.pattern  # no comma: "drowsy, 8 weeks"
        )
        units = _by_length(self.units)
        self.thousands_space = re.compile(rf"(?<![\d.,])\d{{1,3}}(?: \d{{3}})+(?=\s*(?:{units})\b)")
        # never a number glued to a word ("b12", "T8", "x5"): a name or a label, not a dose
        self.dose_re = re.compile(
            rf"(?<![a-z\d.,])(?P<n>{NUMBER})\s*(?P<u>{units})?\b(?P<per>\s*(?:/\s*(?:d|day|24h)|per\s+day|a\s+day|/day"
            r"|daily\s+total|total\s+daily|total))?"
        )
        # One search each for the steps of the reader that a message mostly does not concern
        # (bot/text/parse.py): each step's own patterns, nothing listed by hand. A step that comes
        # to read another pattern must add it to its AnyOf here, or it would be skipped unread
        # (tests/test_reader_skips.py reads every corpus message with and without the skips).
        self.history_any = AnyOf(self.others, self.not_trials, self.collisions)
        self.numbers_any = AnyOf(*(rx for rxs in self.number_res.values() for rx in rxs))
        self.topics_any = AnyOf(
            self.flag_pseudo,
            self.topic_words.rx,
            *(rx for _, rx in self.flags + self.flags_absent),
            self.red_flags_subject,
        )
        self.classes_any = AnyOf(*self.class_words.values())
        self.questions_any = AnyOf(
            self.hypothetical,
            self.not_given,
            self.contraindicated,
            self.contraindicated_with_reason,
            self.conditional,
            self.query_starts,
            self.query_inside,
        )
        self.subjects_any = AnyOf(*(topic.subject for topic in self.topics))
        self.times_re = re.compile(
            r"(?:\bx\s*(?P<a>[1-4])\b(?!\s*(?:"
            + _by_length(self.duration_units)
            + r")(?![a-z]))(?:\s*/\s*d(?:ay)?|\s*(?:a|per)\s*day|\s*daily)?"
            r"|\b(?P<b>[1-4])\s*x\s*(?:/\s*d(?:ay)?|(?:a|per)\s*day|daily|\b)"
            r"|\b(?P<c>[1-4])\s*times\s*(?:/\s*d(?:ay)?|(?:a|per|each)\s*day|daily))"  # "75 2 times a day"
        )


_lexicons: dict[int, Lexicon] = {}


def lexicon(knowledge: Knowledge) -> Lexicon:
    """One compiled lexicon per knowledge object (compiling the patterns is the slow part)."""
    key = id(knowledge)
    if key not in _lexicons:
        _lexicons[key] = Lexicon(knowledge)
    return _lexicons[key]
