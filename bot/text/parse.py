"""Free text -> facts. "gabapentin 300 mg tid x 3 mo, no help; duloxetine 30; never had a TCA; 78 yo; CrCl 35"

Lexicons are data (conversations/lexicon.toml, rules/drugs.toml); this module only knows how
clinicians write: numbers with units and frequencies, durations, a subject near its value, and
the scope of modifiers (bot/text/context.py: negation, history, questions, terminations). Values
outside the plausible ranges in the rules' data are questioned, never stored; where the text
leaves a reading open, a clarifying question is returned instead of a guess.

How it reads a message, each step masking what it has read so later steps never re-read it:
questions and plans (nothing stored; the options asked about are noted), history abbreviations
that collide with drug names, numbers with a subject (age, CrCl, eGFR, HbA1c, B12), topics
(work-up, red flags, pain pattern, falls, liver, combination), then each drug mention with the
words up to the clause where the next drug starts (dose, frequency, duration, outcome, status).
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from neuroladder.rules.data import Knowledge, load_knowledge

from .context import BLOCK, CLAUSE_BREAK, HARD_BREAK_RE, mask, sentences
from .contraindication import read_contraindications
from .lexicon import CONVERSATIONS, Lexicon, lexicon  # noqa: F401  (CONVERSATIONS: imported from here by other modules)
from .trial import outcome_of, read_trials

THOUSANDS_COMMA = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,]|\.\d)")
# Exponent and hex notation: never a clinician's number, and read in part ("1e309" -> 309) it
# would store a dose or an age no one typed.
MALFORMED_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,40}(?:[.,]\d{1,40})?e[+-]?\d{1,40}|0x[0-9a-f]{1,40})(?![\w.])")
# Cheap first looks: a number typed against a word ("150bd"), a letter between dots ("t.d.s.").
GLUED_QUESTION = re.compile(r"(?<=[a-z0-9%])\?(?=[a-z])")
GLUED = re.compile(r"\d ?[a-z]")
DOTTED = re.compile(r"\b[a-z]\.[a-z]\b")
NOT_IN_AN_ANSWER = re.compile(r"[^\w?/' ]+")
# A hostile or pasted message is read up to this many characters; the reply says what was cut.
MAX_CHARS = 20_000


def queried(text: str, start: int) -> bool:
    """A question mark typed against a term ("?mgus", "?B12", "?gaba") queries it: suspected or
    to be checked, never found."""
    return start > 0 and text[start - 1] == "?" and (start < 2 or not text[start - 2].isalnum())


@dataclass
class Clarify:
    """One short question, and buttons whose values are messages the reader reads unambiguously."""

    question: str
    choices: list[tuple[str, str]]


@dataclass
class Parsed:
    facts: dict[str, Any] = field(default_factory=dict)
    questioned: list[str] = field(default_factory=list)  # implausible values, not stored
    ambiguous: list[str] = field(default_factory=list)  # keys of rules/drugs.toml [ambiguous]
    answer: str | None = None  # a bare yes/no/unknown/skip
    names_a_class: bool = False  # "no other SNRI": about a class, not one drug
    respelled: list[tuple[str, str]] = field(default_factory=list)  # ("gabapentn", "gabapentin")
    clarify: list[Clarify] = field(default_factory=list)  # asked instead of guessed
    queries: list[str] = field(default_factory=list)  # options the clinician asked about
    truncated: tuple[int, int, str] | None = None  # (total chars, chars read, the last words read)
    answered: str | None = None  # the open question a short reply answered
    not_given: list[str] = field(default_factory=list)  # "prefers to avoid opioids": said, nothing stored

    def __bool__(self) -> bool:
        return bool(self.facts or self.questioned or self.ambiguous or self.clarify or self.queries)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():  # most messages are printable throughout: nothing to replace
        text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = text.replace("×", " x ").replace("–", "-").replace("—", "-").replace("’", "'").replace("→", "->")
    return text.lower()


def _word_end(mt: re.Match) -> int:
    """Where a bare "nil" ends, before the full stop or comma the match takes with it: the stop still
    ends the clause ("together 8 wks nil. on oxycodone 20 bd now": "on" is the oxycodone's)."""
    return mt.start() + len(mt.group().rstrip(",;.!\n)->").rstrip())


def _num(s: str) -> float:
    v = float(s.replace(",", "."))
    return int(v) if v.is_integer() else v


@dataclass
class _Concept:
    start: int
    end: int
    fact: str  # the fact it fills (a topic fact or flag.<key>)
    value: str | None  # its own value (a phrase), or None for a bare subject
    topic: Any = None
    kind: str = "topic"  # topic / flag / red_flags


# What may stand between two drugs named together, and after the last ("gaba + dulox together")
LISTED = re.compile(r"[\s,/+&\x00]*(?:(?:and|or|with|plus)[\s,/+&]*)?")
# What may stand between a combination's second drug (or its dose) and its duration or outcome
LEAD_IN = re.compile(r"[\s:,\-]*(?:(?:x|for|over)\s*)?")


class Parser:
    def __init__(self, knowledge: Knowledge | None = None):
        self.k = knowledge or load_knowledge()
        self.lx: Lexicon = lexicon(self.k)
        self.sanity = self.k.thresholds["sanity"]
        self._long_word = re.compile(
            rf"(?<![\w%-])[a-z]{{{self.lx.spell_min_length},}}(?![\w%-])"
        )  # respelt if near a drug (never part of a hyphenated word: "co-codamol" is no "co-cocodamol")
        self.units = self.k.thresholds.get("units", {})
        # the highest daily dose any renal band allows: a dose per intake times its frequency above it
        # is more likely the day's total typed with the frequency
        self.max_daily = {
            agent: max(band["max_mg_day"] for band in bands)
            for agent, bands in self.k.thresholds.get("renal", {}).items()
        }

    # -- entry point ------------------------------------------------------------------------------
    def parse(self, raw: str, subject: str | None = None) -> Parsed:
        """`subject`: the drug (agent key) the open question is about, when it is about one: a
        contraindication that names no drug ("no, contraindicated") is said of it."""
        out = Parsed()
        text = normalise(raw)
        if len(text) > MAX_CHARS:
            out.truncated = (len(text), MAX_CHARS, raw[MAX_CHARS - 30 : MAX_CHARS])  # where reading stopped
            text = text[:MAX_CHARS]
        text = self._thousands(text)
        if "?" in text:  # "falls?no", "mgus?neg": a question and its answer, as "falls? no"
            text = GLUED_QUESTION.sub("? ", text)
        text = self._spelled(text)
        if GLUED.search(text):
            text = self.lx.glued_frequency.sub(" ", text)
        if self.lx.dotted_re and DOTTED.search(text):  # "t.d.s." -> "tds": its dots are not full stops
            text = self.lx.dotted_re.sub(lambda mt: self.lx.dotted[mt.group().rstrip(".")] + " ", text)
        text = self._malformed(text, out)
        text = self._respell(text, out)
        text = self._planned(text, out)  # (before the plans: "gaba 300 tds proposed" is the dose's plan word)
        text = self._questions(text, out, subject)
        text = self._history(text)
        text = self._numbers(text, out)
        text, combined_at = self._topics(text, out)
        text = self._combination(text, combined_at, out)
        text, ambiguous_spans = self._ambiguous(text, out)
        text, class_spans = self._classes(text, out)
        class_spans = {**ambiguous_spans, **class_spans}  # "not had capsaicin or botox": both in the list
        text, nothing_else = self._nothing_else(text)
        read_trials(self, text, out, class_spans)
        if nothing_else:
            self._ask_untried(nothing_else, out)
        if not out:
            out.answer = self.bare_answer(text)
        return out

    def _spelled(self, text: str) -> str:
        """ "six months", "twenty-five mg", "eighty yr old": the number in digits (before a unit, a
        duration or an age only)."""

        def digits(mt: re.Match) -> str:
            words = re.split(r"[\s-]+", mt.group("n"))
            return str(sum(self.lx.number_words[w] for w in words))

        text = self.lx.spelled_number.sub(digits, text)
        if self.lx.article_duration:  # "a week", "couple of months": 1 week, 2 months
            text = self.lx.article_duration.sub(lambda mt: f"{self.lx.article_number[mt.group('n')]} ", text)
        return text

    def _thousands(self, text: str) -> str:
        """'1,200 mg' and '50 000 mg/day' are one number (thousands separators), never 1.2 or 50."""
        text = THOUSANDS_COMMA.sub(lambda mt: mt.group().replace(",", ""), text)
        return self.lx.thousands_space.sub(lambda mt: mt.group().replace(" ", ""), text)

    def _malformed(self, text: str, out: Parsed) -> str:
        """'1e309', '1e-9', '0x960': numbers no clinician writes. Each is questioned and hidden, so
        no part of it ('309', '960') is read as a dose, an age or a clearance."""

        def question(mt: re.Match) -> str:
            out.questioned.append(f"number:{mt.group()}")
            return " " * len(mt.group())

        return MALFORMED_NUMBER.sub(question, text)

    def bare_answer(self, text: str) -> str | None:
        """yes / no / unknown / skip when that is all the message says."""
        cleaned = NOT_IN_AN_ANSWER.sub(" ", normalise(text)).strip()
        return self.lx.answer_words.get(cleaned)

    # -- misspelt drug names ----------------------------------------------------------------------
    def _respell(self, text: str, out: Parsed) -> str:
        """Replace a word that is a near miss of a drug name ("duloxatine") with that name."""

        def fix(mt: re.Match) -> str:
            word = mt.group()
            if word in self.lx.drug_names or word in self.lx.not_drugs or word in self.lx.spell_targets:
                return word
            if word not in self.lx.spell_cache:  # words recur: difflib is the costly part
                best = difflib.get_close_matches(word, self.lx.spell_targets, n=1, cutoff=self.lx.spell_min_similarity)
                near = best[0] if best and not (best[0] in word and len(word) - len(best[0]) >= 3) else None
                if len(self.lx.spell_cache) > 20000:  # bounded: hostile input must not grow it forever
                    self.lx.spell_cache.clear()
                self.lx.spell_cache[word] = near  # ("desvenlafaxine" is not venlafaxine)
            near = self.lx.spell_cache[word]
            if near is None:
                return word
            out.respelled.append((word, near))
            return near

        return self._long_word.sub(fix, text)

    # -- questions and plans: nothing stored, the options asked about are noted ---------------------
    def _questions(self, text: str, out: Parsed, subject: str | None = None) -> str:
        for start, end in sentences(text):
            sentence = text[start:end]
            if "?" not in sentence and self.lx.questions_any.absent(sentence):
                continue  # no question, plan or condition: what follows would find none
            text = read_contraindications(self, text, start, end, out, subject)  # "TCA c/i": stored, masked
            sentence = text[start:end]
            hypo = self.lx.hypothetical.search(sentence) if self.lx.hypothetical else None
            if hypo and self.lx.not_hypothetical:  # "didn't want to start pregab": a refusal, no plan
                refusals = [(m.start(), m.end()) for m in self.lx.not_hypothetical.finditer(sentence)]
                plans = (h for h in self.lx.hypothetical.finditer(sentence))
                hypo = next((h for h in plans if not any(s <= h.start() and h.end() <= e for s, e in refusals)), None)
            avoid = self.lx.not_given.search(sentence) if self.lx.not_given else None
            if avoid and not self._is_question(sentence):  # "avoiding TCAs": not given, nothing asked
                stop = self.lx.scope.termination.search(sentence, avoid.end()) if self.lx.scope.termination else None
                begin, finish = start + self._said_of(sentence, avoid.start()), start + stop.start() if stop else end
                if self.lx.drug_re.search(text, begin, finish):  # said back, so the clinician sees it was read
                    out.not_given.append(text[begin:finish].strip(" ,;.-"))
                text = mask(text, begin, finish)
                continue
            cond = self._condition(sentence)
            if self._is_question(sentence):
                begin = start
            elif cond and not (hypo and hypo.start() < cond.start()):
                begin = start + cond.start()
                stop = re.compile(r",|\bthen\b").search(sentence, cond.end())
                end = start + stop.start() if stop else end
            elif hypo:
                begin = start + hypo.start()
                stop = self.lx.scope.termination.search(sentence, hypo.end()) if self.lx.scope.termination else None
                end = start + stop.start() if stop else end
            else:
                continue
            self._query_options(text[begin:end], out)
            text = mask(text, begin, end)
        return text

    def _planned(self, text: str, out: Parsed) -> str:
        """ "gaba 300 tds planned": the dose is the plan's, never reached - hidden (by spaces, so the
        plan word still reaches back to the drug: planned, not tried, as "lyrica planned"); where the
        plan word says no "not tried" of its own ("gaba 300 tds proposed"), the drug is the plan's too:
        nothing stored, the option noted as a plan's is."""
        if self.lx.planned_after is None or self.lx.planned_after.search(text) is None:
            return text
        for mt in list(self.lx.drug_re.finditer(text)):
            dose = self.lx.planned_dose.match(text, mt.end())
            plan = self.lx.planned_after.match(text, dose.end()) if dose else None
            if plan is None:
                continue
            word = plan.end() - len(plan.group().lstrip())
            longer = self.lx.hypothetical.match(text, word) if self.lx.hypothetical else None
            if longer and longer.end() > plan.end():
                continue  # "gaba 300 tds planned increase to 600": the increase is planned, 300 tds taken
            text = mask(text, mt.end(), dose.end(), " ")
            if not self.lx.scope.negated_after(text, mt.end()):
                self._query_options(text[mt.start() : plan.end()], out)
                text = mask(text, mt.start(), plan.end())
        return text

    def _said_of(self, sentence: str, at: int) -> int:
        """Where the drug a "not given" phrase is said of starts, when it comes right before the
        phrase ("TCA contraindicated", "ami - avoid"); else the phrase's own start."""
        drugs = [m for m in self.lx.drug_re.finditer(sentence, 0, at)]
        if drugs and re.fullmatch(
            r"[\s:\-(,]*(?:is|are|was|were|felt|deemed|considered)?\s*", sentence[drugs[-1].end() : at]
        ):
            return drugs[-1].start()
        return at

    def _condition(self, sentence: str) -> re.Match | None:
        """The first "if" / "unless" that sets a condition ("if dulox fails"), not one that asks
        whether ("not sure if it helped")."""
        if not self.lx.conditional or not self.lx.conditional.search(sentence):
            return None
        asking = (
            [(m.start(), m.end()) for m in self.lx.not_conditional.finditer(sentence)]
            if self.lx.not_conditional
            else []
        )
        for mt in self.lx.conditional.finditer(sentence):
            if not any(s <= mt.start() and mt.end() <= e for s, e in asking):
                return mt
        return None

    def _is_question(self, sentence: str) -> bool:
        body = sentence.rstrip(" \x00;.!\n")
        if self.lx.query_starts.search(sentence) or (self.lx.query_inside and self.lx.query_inside.search(sentence)):
            return True
        if not body.endswith("?"):
            return False
        if self.lx.query_weak_starts.search(sentence):
            return True
        # "tramadol?" alone may be "not sure": a question only when it names an option and no number
        words = re.findall(r"[a-z0-9%]+", body)
        named = self.lx.query_options.search(body) or bool(self.lx.drug_re.search(body))
        return named and bool(words) and not re.search(r"\d", body)

    def _query_options(self, span: str, out: Parsed) -> None:
        found: list[str] = []
        for start, end, keys in list(self.lx.query_options.finditer(span)):
            found += keys
            span = mask(span, start, end)  # "strong opioids" is one option, not also "opioids"
        for mt in self.lx.drug_re.finditer(span):
            agent = self.lx.drug_names[mt.group()]
            found += self.lx.query_agents.get(agent) or self.lx.query_classes.get(self.k.agents[agent]["class"], [])
        for cls, rx in self.lx.class_words.items():
            if rx and rx.search(span):
                found += self.lx.query_classes.get(cls, [])
        for key in found:
            if key not in out.queries:
                out.queries.append(key)

    # -- history abbreviations that collide with drug names ("hx AMI 2019"), others' history -------
    def _history(self, text: str) -> str:
        if self.lx.history_any.absent(text):
            return text
        for rx in (self.lx.others, self.lx.not_trials):  # someone else's; a namesake treatment
            for mt in list(rx.finditer(text)):
                text = mask(text, mt.start(), mt.end())
        if not self.lx.collisions:
            return text
        for mt in list(self.lx.collisions.finditer(text)):
            before = text[max(0, mt.start() - 30) : mt.start()]
            year = self.lx.year_after.match(text, mt.end())
            if self.lx.history_before.search(before) or year:
                text = mask(text, mt.start(), year.end() if year else mt.end())  # the year is not a dose
        return text

    # -- numbers with a subject: age, renal function, HbA1c, B12 ------------------------------------
    def _numbers(self, text: str, out: Parsed) -> str:
        if self.lx.numbers_any.absent(text):
            return text
        for name in ("age", "crcl", "egfr"):
            for rx in self.lx.number_res[name]:
                for mt in list(rx.finditer(text)):
                    value = _num(mt.group("n"))
                    lo, hi = self.sanity["age" if name == "age" else "crcl"]
                    if lo <= value <= hi:
                        out.facts[name] = int(value) if name == "age" else value
                    else:
                        out.questioned.append(f"{name}:{mt.group('n')}")
                    text = mask(text, mt.start(), mt.end())
        for rx in self.lx.number_res["hba1c"]:
            for mt in list(rx.finditer(text)):
                self._hba1c(mt, out)
                text = mask(text, mt.start("n"), mt.end(), " ")  # the subject stays: "HbA1c 11.2%, poorly controlled"
        for rx in self.lx.number_res["b12_level"]:
            for mt in list(rx.finditer(text)):
                self._b12_level(mt, out)
                text = mask(text, mt.start("n"), mt.end(), " ")
        return text

    def _in_range(self, name: str, value: float, typed: str, out: Parsed) -> bool:
        lo, hi = self.sanity[name]
        if lo <= value <= hi:
            return True
        out.questioned.append(f"{name}:{typed}")
        return False

    def _hba1c(self, mt: re.Match, out: Parsed) -> None:
        spec, n, unit = self.units["hba1c"], _num(mt.group("n")), mt.group("u")
        if unit in self.lx.hba1c_units["mmol"] or (unit is None and n >= spec["mmol_from"]):
            conv = self.k.thresholds["hba1c"]  # [L8]: mmol/mol = (% - offset) x factor
            value = round(n / conv["mmol_factor"] + conv["mmol_offset"], 1)
        elif unit in self.lx.hba1c_units["percent"] or n < spec["percent_below"]:
            value = n
        else:  # a bare number between the two: % or mmol/mol? ask
            self._ask_unit("hba1c", n, out)
            return
        if self._in_range("hba1c", value, mt.group("n"), out):
            out.facts["hba1c"] = value

    def _b12_level(self, mt: re.Match, out: Parsed) -> None:
        n, unit = _num(mt.group("n")), mt.group("u")
        if unit in self.lx.b12_units["pmol"]:
            value = n
        elif unit in self.lx.b12_units["pg"]:
            value = round(n * self.k.thresholds["b12"]["pmol_per_pg"])  # [L9]
        else:  # a bare B12 number: pmol/L and pg/mL both occur - ask which
            self._ask_unit("b12", n, out)
            return
        if self._in_range("b12_level", value, mt.group("n"), out):
            out.facts["b12_level"] = value

    def _ask_unit(self, kind: str, n: float, out: Parsed) -> None:
        """A value whose unit decides what it means: one question, a button per unit."""
        c = self.lx.clarify
        out.clarify.append(
            Clarify(
                c[f"{kind}_unit"].format(n=n), [(lab.format(n=n), val.format(n=n)) for lab, val in c[f"{kind}_choices"]]
            )
        )

    # -- topics: work-up, pain pattern, red flags, falls, liver, combination ---------------------------
    def _concepts(self, text: str) -> list[_Concept]:
        """Every topic mention, longest first where two overlap."""
        found: list[_Concept] = []
        for start, end, meanings in self.lx.topic_words.finditer(text):
            found += [
                _Concept(start, end, topic.fact, value, topic)
                for topic, value in meanings
                if not (topic.not_before and topic.not_before.match(text, end))
            ]
        for flag, rx in self.lx.flags:
            if rx:
                found += [_Concept(m.start(), m.end(), f"flag.{flag}", "yes", kind="flag") for m in rx.finditer(text)]
        unless = self.lx.flags_absent_unless
        for flag, rx in self.lx.flags_absent:
            if rx:
                found += [
                    _Concept(m.start(), m.end(), f"flag.{flag}", "no", kind="flag")
                    for m in rx.finditer(text)
                    if not (unless and unless.match(text, m.end()))  # "power 5/5 except ...": rules nothing out
                ]
        if self.lx.red_flags_subject:
            found += [
                _Concept(m.start(), m.end(), "red_flags", None, kind="red_flags")
                for m in self.lx.red_flags_subject.finditer(text)
            ]
        # Where two overlap the longer stands; two red flags may share words ("rapidly progressive
        # weakness"): both stand. Longest first, checked against the kept ones that start nearby.
        kept: list[_Concept] = []
        kept_starts: list[int] = []
        for c in sorted(found, key=lambda c: -(c.end - c.start)):
            i = bisect.bisect_left(kept_starts, c.start - 120)
            clash = False
            while i < len(kept) and kept[i].start < c.end:
                k = kept[i]
                if c.start < k.end and k.start < c.end and not (c.kind == k.kind == "flag" and c.fact != k.fact):
                    clash = True
                    break
                i += 1
            if not clash:
                j = bisect.bisect_left(kept_starts, c.start)
                kept.insert(j, c)
                kept_starts.insert(j, c.start)
        return kept

    def _topics(self, text: str, out: Parsed) -> tuple[str, list[int]]:
        if self.lx.topics_any.absent(text):  # no concept, nothing masked: nothing to read
            return text, []
        if self.lx.flag_pseudo:  # "slowly progressive" is the usual course, not a red flag ...
            flagged = [(m.start(), m.end()) for _, rx in self.lx.flags if rx for m in rx.finditer(text)]
            for mt in list(self.lx.flag_pseudo.finditer(text)):
                if not any(s <= mt.start() and mt.end() <= e for s, e in flagged):  # ... unless of weakness
                    text = mask(text, mt.start(), mt.end())
        concepts = self._concepts(text)
        ends = {c.end: c.start for c in concepts}
        values = self._value_hits(text, concepts)
        starts = [c.start for c in concepts]
        got: dict[str, list[tuple[str, _Concept]]] = {}
        excepted = None  # "no red flags apart from <this>"
        combined_at: list[tuple[int, bool]] = []  # where a combination is said, and whether it asserts one
        asks: dict[str, tuple[dict, str]] = {}  # a subject alone that is asked about
        unclear_said: dict[str, tuple[dict, str]] = {}  # a subject and value read two ways
        for i, c in enumerate(concepts):
            if self._describes_weakness(text, concepts, i):
                continue
            course = self._course_contradicts(text, concepts, i)
            if course:
                if course != "opposite" and not self.lx.scope.negated_before(text, c.start, ends)[0]:
                    spec = self.lx.flag_course[c.fact[5:]]["shorter"]  # "over 6 weeks": rapid, or not?
                    asks.setdefault(c.fact, (spec, text[c.start : c.end] + course))
                continue
            value, hit = self._value_of(text, c, values, concepts, starts)
            negated, through = self.lx.scope.negated_before(text, c.start, ends)
            if c.fact == "combination" and not negated and c.value is None:
                # "not tried gaba + dulox together": the negation reaches over the drugs named together
                named = [self.lx.drug_re, *(rx for rx in self.lx.class_words.values() if rx)]
                drugs = {m.end(): m.start() for rx in named for m in rx.finditer(text, 0, c.start)}
                negated, through = self.lx.scope.negated_before(text, c.start, {**ends, **drugs})
                if negated and through:  # the drugs are the combination's, not trials of their own
                    text = mask(text, self._listed_from(text, drugs, c.start), c.start)
            after = self.lx.scope.negated_after(text, c.end) if hit is None else None
            planned = bool(after and self.lx.planned_after and self.lx.planned_after.fullmatch(after.group("trigger")))
            if planned and c.fact != "combination":
                # "diabetes screen planned": a test planned, its result not known - never "no diabetes"
                if c.topic is None or "unknown" not in c.topic.values:
                    continue
                value, hit, after = "unknown", None, None
            if after and not planned and c.topic is not None and text[c.start : c.end] in c.topic.asserted:
                after = None  # "gaba + dulox together - nil": given together, to no effect
            if after and not self._outcome_at(text, after.start("trigger")):
                negated = True  # ("together no better": an outcome, not "not together")
            if through and hit is None and c.kind == "topic" and c.value is not None:
                negated = False  # "no falls, diffuse": a value said of its own, not a member of the list
            if negated and through and c.topic is not None and not self.lx.list_or.search(text[: c.start], 20):
                said = text[c.start : c.end]  # "no falls, T2DM": named as present, not a member of the list
                if said in c.topic.listed_present:
                    negated = False
                elif said in c.topic.listed_unclear.get("words", ()) and hit is None:
                    asks.setdefault(c.fact, (c.topic.listed_unclear, said))  # "no falls, diabetes": asked
                    continue
            if (
                hit is not None
                and c.topic is not None
                and c.topic.not_done_before is not None
                and text[c.start : c.end] in c.topic.not_done_words
                and c.topic.not_done_before.fullmatch(text, hit[0], c.start)
            ):  # "no SPEP yet", "nil recent a1c": the test's name negated, not a result
                if c.topic.not_done is None:
                    text = mask(text, hit[0], c.end)
                    continue
                value, hit, negated = c.topic.not_done, None, False
            if hit is not None:
                if through or hit[0] < c.start:
                    # a concept with its own value is outside a list's negation ("no mgus, b12
                    # low"); a value word before it may be the negation itself ("no paraprotein")
                    negated = False
                if hit[0] > c.end:
                    vneg, _ = self.lx.scope.negated_before(text, hit[0])
                    negated = negated != vneg
            if c.kind == "red_flags":  # "no red flags", "red flags: none", "red flags unknown"
                value = value if hit is not None and not (negated and hit[0] > c.end) else ("no" if negated else None)
                negated = False
                unless = self.lx.red_flags_except
                said_to = max(c.end, hit[1] if hit is not None else c.end)
                exception = unless.match(text, said_to) if unless is not None and value == "no" else None
                if exception is not None:  # "no red flags apart from ...": which one, if none is read
                    stop = CLAUSE_BREAK.search(text, exception.end())
                    begin = min(c.start, hit[0]) if hit is not None else c.start
                    excepted = text[begin : stop.start() if stop else len(text)].strip()
            if value is None and negated and c.topic is not None and c.topic.absent:
                if text[c.start : c.end] in c.topic.not_done_words:  # "never had SPEP": not done
                    if c.topic.not_done is None or through:  # "no falls or spep": not said which
                        text = mask(text, c.start, c.end)
                        continue
                    value, negated = c.topic.not_done, False
                else:
                    value, negated = c.topic.absent, False  # "diabetes: no", "no paraprotein"
            if (
                (self._in_doubt(text, c) or (hit is not None and text[hit[1] : hit[1] + 1] == "?"))  # "dm controlled?"
                and c.topic is not None
                and "unknown" in c.topic.values
            ):
                value, negated = "unknown", False  # "?mgus", "possible B12 deficiency": asked about, not found
            if c.kind == "flag" and value == "yes" and self._flag_not_known(text, c):
                value, negated = "unknown", False  # "areflexia not examined", "foot drop?": not found
            said = text[c.start : c.end]
            if value == "unknown" and c.topic is not None and said in c.topic.unknown_not_from:
                for s, e in [(c.start, c.end)] + ([hit] if hit else []):  # "a1c pending": nothing of diabetes
                    text = mask(text, s, e)
                continue
            if value is None and not negated and c.topic is not None and said in c.topic.alone.get("words", ()):
                asks.setdefault(c.fact, (c.topic.alone, said))  # "T2DM": present, control not said
            if value is None:
                continue
            unclear = c.topic.unclear if c.topic is not None else {}
            if hit is not None and said in unclear.get("words", ()) and text[hit[0] : hit[1]] in unclear["values"]:
                unclear_said.setdefault(c.fact, (unclear, text[min(c.start, hit[0]) : max(c.end, hit[1])]))
                for s, e in [(c.start, c.end), hit]:
                    text = mask(text, s, e)
                continue
            if negated:
                flipped = self._flip(c, value)
                if flipped is None:
                    continue
                value = flipped
            got.setdefault(c.fact, []).append((value, c))
            if c.fact == "combination" and value == "yes":
                said = c.topic is not None and text[c.start : c.end] in c.topic.asserted
                combined_at.append((c.start, said or hit is not None))  # "combination tried nil": given
            for s, e in [(c.start, c.end)] + ([hit] if hit else []):
                text = mask(text, s, e)
        self._resolve(got, out, excepted)
        for fact, (spec, said) in {**unclear_said, **asks}.items():  # one question a fact
            if fact in got or fact in out.facts or any(name in out.facts for name in spec.get("unless_facts", ())):
                continue
            out.clarify.append(Clarify(spec["question"].format(said=said), [tuple(ch) for ch in spec["choices"]]))
        return text, combined_at

    @staticmethod
    def _listed_from(text: str, drugs: dict[int, int], at: int) -> int:
        """Where the run of drugs named together right before `at` starts ("gaba + dulox together")."""
        first = at
        for end in sorted(drugs, reverse=True):
            if not LISTED.fullmatch(text[end:first]):
                break
            first = drugs[end]
        return first

    @staticmethod
    def _describes_weakness(text: str, concepts: list[_Concept], i: int) -> bool:
        """ "proximal weakness both legs": where the weakness is, not where the pain is."""
        c = concepts[i]
        if c.fact != "pain_pattern" or i == 0:
            return False
        before = concepts[i - 1]
        weakness = before.kind == "flag" or before.fact == "weakness_fatigue"
        return weakness and not text[before.end : c.start].strip(" -:")

    def _course_contradicts(self, text: str, concepts: list[_Concept], i: int) -> str | None:
        """A flag defined by a long course ("weakness progressing over more than 8 weeks") said with
        a shorter course (the words that say it: " over 3 weeks") or inside a phrase of the
        opposite course ("opposite": "rapidly progressive weakness"): the words do not say it."""
        c = concepts[i]
        spec = self.lx.flag_course.get(c.fact[5:]) if c.kind == "flag" else None
        if not spec:
            return False
        opposite = {f"flag.{flag}" for flag in spec.get("not_with", [])}
        near = concepts[max(0, i - 2) : i + 3]
        if any(o.fact in opposite and o.start < c.end and c.start < o.end for o in near):
            return "opposite"
        lead = re.compile(r"[\s,\-]*(?:(?:over|for|x|in|during|across)\s+(?:the\s+)?(?:last|past)?\s*)?")
        dm = self.lx.duration_re.match(text, lead.match(text, c.end).end())
        if dm is None:
            return None
        weeks = _num(dm.group("n")) * self.lx.duration_units[dm.group("u")]
        return text[c.end : dm.end()] if weeks <= spec["more_than_weeks"] else None

    def _outcome_at(self, text: str, start: int) -> bool:
        """An outcome phrase starts here ("no better", "no help")."""
        return any(s == start for s, _, _ in self.lx.outcomes.finditer(text, start, min(len(text), start + 40)))

    def _value_hits(self, text: str, concepts: list[_Concept]) -> list[tuple[int, int, str, str]]:
        """(start, end, fact, value) of every value word outside the concepts themselves."""
        hits = [
            (s, e, fact, value) for s, e, meanings in self.lx.value_words.finditer(text) for fact, value in meanings
        ]
        starts = [c.start for c in concepts]
        out = []
        for h in hits:  # not inside a concept (concepts are sorted and do not overlap but for flags)
            i = bisect.bisect_right(starts, h[0]) - 1
            if i >= 0 and concepts[i].start <= h[0] < concepts[i].end:
                continue
            out.append(h)
        return out

    def _value_of(self, text: str, c: _Concept, hits, concepts, starts) -> tuple[str | None, tuple[int, int] | None]:
        """A concept's value: its own (a phrase), else the value word of its fact nearest to it in
        scope (the same clause, no other concept or drug between); where the topic ranks its
        values ("b12 low, replaced" = treated), the highest ranked in scope."""
        if c.value is not None and not (c.topic is not None and c.topic.priority):
            return c.value, None
        found = [] if c.value is None else [(0, c.value, None)]
        lo = bisect.bisect_left(hits, (c.start - 90,))
        hi = bisect.bisect_right(hits, (c.end + 61,))
        for s, e, fact, value in hits[lo:hi]:  # a value sits within 60 characters of its subject
            if fact != c.fact:
                continue
            gap = text[c.end : s] if s >= c.end else text[e : c.start]
            if HARD_BREAK_RE.search(gap) or BLOCK in gap or len(gap) > 60:
                continue
            if self.lx.scope.termination and self.lx.scope.termination.search(gap):
                continue
            if s < c.start and "," in gap:  # a value before its subject sits next to it ("normal b12")
                continue
            if self.lx.drug_re.search(gap):
                continue
            if self._other_concept_between(concepts, starts, c, s, e) and not self._tests_listed(
                text, concepts, starts, c, s
            ):
                continue
            if s >= c.end and self._leads_concept(text, concepts, starts, e):
                continue  # "no falls, no diabetes": the second "no" is the next item's, not falls'
            distance = (s - c.end) if s >= c.end else (c.start - e) + 0.5
            found.append((distance, value, (s, e)))
        if found:
            topic = c.topic
            if topic is not None and topic.priority and len({f[1] for f in found}) > 1:
                found.sort(key=lambda f: topic.priority.index(f[1]) if f[1] in topic.priority else 99)
            else:
                found.sort(key=lambda f: f[0])
            return found[0][1], found[0][2]
        if c.kind == "topic" and c.topic is not None:
            return c.topic.present, None
        return None, None

    @staticmethod
    def _leads_concept(text: str, concepts: list[_Concept], starts: list[int], end: int) -> bool:
        """Another concept starts right after `end`, only spaces between."""
        i = bisect.bisect_left(starts, end)
        return i < len(concepts) and not text[end : concepts[i].start].strip()

    @staticmethod
    def _other_concept_between(concepts: list[_Concept], starts: list[int], c: _Concept, s: int, e: int) -> bool:
        lo, hi = (c.end, s) if s >= c.end else (e, c.start)
        i = bisect.bisect_left(starts, lo)
        while i < len(concepts) and concepts[i].start < hi:
            if concepts[i].end <= hi and concepts[i].fact != c.fact:
                return True
            i += 1
        return False

    def _tests_listed(self, text: str, concepts: list[_Concept], starts: list[int], c: _Concept, s: int) -> bool:
        """ "b12 and spep normal": tests listed before one result share it - every concept between
        the subject and the value a test (a topic with `shares_result`), joined only by the lexicon's
        `tests_listed` words (never a comma: "T2DM, b12 normal" is no normal diabetes)."""
        if c.topic is None or not c.topic.shares_result or s < c.end:
            return False
        i = bisect.bisect_left(starts, c.end)
        gap = list(text[c.end : s])
        while i < len(concepts) and concepts[i].start < s:
            k = concepts[i]
            if k.topic is None or not k.topic.shares_result or k.value is not None:
                return False
            gap[k.start - c.end : k.end - c.end] = " " * (k.end - k.start)
            i += 1
        return not self.lx.tests_joined.sub(" ", "".join(gap)).strip()

    def _flag_not_known(self, text: str, c: _Concept) -> bool:
        """A red flag named with "not examined", "unknown", "?" after it, or queried or hedged before
        it, is not known - never present (a suspected diagnosis aside: "?CIDP" is CIDP suspected, the flag)."""
        if self.lx.flag_unknown_after and self.lx.flag_unknown_after.match(text, c.end):
            return True
        if text[c.start : c.end] in self.lx.flags_queried_present:
            return False
        return text[c.end : c.end + 1] == "?" or self._in_doubt(text, c)

    def _in_doubt(self, text: str, c: _Concept) -> bool:
        """Queried ("?mgus") or hedged ("possible B12 deficiency", "foot drop maybe"): asked about, not found."""
        return bool(
            queried(text, c.start)
            or self.lx.hedged.search(text[: c.start], 40)
            or self.lx.hedged_after.match(text, c.end)
        )

    def _flip(self, c: _Concept, value: str) -> str | None:
        if c.kind in ("flag",):
            return {"yes": "no"}.get(value)
        if c.kind == "red_flags":
            return None
        flipped = c.topic.negated.get(value) if c.topic else None
        return flipped or None

    def _resolve(self, got: dict[str, list[tuple[str, _Concept]]], out: Parsed, excepted: str | None = None) -> None:
        every = None
        for fact, pairs in got.items():
            vals = list(dict.fromkeys(v for v, _ in pairs))
            topic = pairs[0][1].topic
            if fact == "red_flags":
                if len(vals) == 1:
                    every = vals[0]
                continue
            if topic is not None and topic.combine == "any_yes" and "yes" in vals:
                vals = ["yes"]
            if topic is not None and topic.priority and len(vals) > 1:
                vals = sorted(vals, key=lambda v: topic.priority.index(v) if v in topic.priority else 99)[:1]
            if topic is not None and topic.known_wins and len(vals) == 2 and "unknown" in vals:
                vals = [v for v in vals if v != "unknown"]
            if len(vals) > 1:
                self._ask_topic(fact, topic, vals, out)
                continue
            out.facts[fact] = vals[0]
            for name, value in topic.implies.items() if topic is not None and vals[0] != "unknown" else ():
                out.facts.setdefault(name, value)
        named = any(f.startswith("flag.") for f in (*got, *out.facts))
        if every == "no" and excepted and not named:
            # "no red flags apart from ankle jerks absent": an exception read as no flag - never
            # "no" to all of them; which flag it is, is asked
            c = self.lx.clarify
            out.clarify.append(
                Clarify(c["flags_excepted"].format(said=excepted), [tuple(ch) for ch in c["flags_excepted_choices"]])
            )
        elif every is not None:
            for flag in self.k.red_flags:
                out.facts.setdefault(f"flag.{flag}", every)

    def _ask_topic(self, fact: str, topic, vals: list[str], out: Parsed) -> None:
        c = self.lx.clarify
        label = c["topic_labels"].get(fact, fact.replace("flag.", "").replace("_", " "))
        subject = fact.replace("_", " ") if not fact.startswith("flag.") else fact[5:].replace("_", " ")
        out.clarify.append(
            Clarify(
                c["topic"].format(label=label, a=vals[0].replace("_", " "), b=vals[1].replace("_", " ")),
                [(v.replace("_", " "), f"{subject} {v.replace('_', ' ')}") for v in vals[:3]],
            )
        )

    # -- combination: "gaba + dulox together x 3 mo, no help" ------------------------------------------
    def _joined_pairs(self, text: str) -> dict[int, list[str]]:
        """Where two drugs are said to be taken together ("dulox added to pregab", "both gaba and
        dulox"), or joined by "+" and followed by a duration or an outcome ("gaba+dulox 8 wks nil"):
        the start of the pair, and its drugs."""
        pairs: dict[int, list[str]] = {}
        mentions = list(self.lx.drug_re.finditer(text))
        for first, second in zip(mentions, mentions[1:]):
            between, before = text[first.end() : second.start()], text[: first.start()]
            if (
                self.lx.concurrent.match(between)  # "dulox 60 added to pregab", "gaba with dulox"
                or (self.lx.both_between.match(between) and self.lx.both_before.search(before))  # "both gaba and dulox"
                or (
                    self.lx.added_between.match(between) and self.lx.added_before.search(before)
                )  # "added dulox to gaba"
                or (
                    self.lx.added_after
                    and self.lx.added_between_loose.match(between)
                    and self.lx.added_after.match(text, second.end())
                )  # "pregab, then dulox added on top"
                or (
                    (
                        self.lx.both_between.match(between)
                        or (self.lx.joined_pair and self.lx.joined_pair.match(between))
                    )
                    and self.lx.current_before.search(before)
                    and self._combinable(first.group(), second.group())
                )  # "on dulox 60 + pregab 150 bd", "currently taking gaba and ami": taken together now
            ):
                agents = sorted({self.lx.drug_names[first.group()], self.lx.drug_names[second.group()]})
                if len(agents) == 2:
                    pairs[first.start()] = agents
                continue
            if not self.lx.joined_pair or not self.lx.joined_pair.match(between):
                continue
            said = None
            # right after the second drug, or after its dose ("+ pregab 150 bd for 3 months")
            for at in dict.fromkeys((second.end(), self.lx.second_dose.match(text, second.end()).end())):
                lead = LEAD_IN.match(text, at).end()
                said = (
                    self.lx.duration_re.match(text, lead)
                    or self._outcome_at(text, lead)
                    or self.lx.bare_negative.match(text, lead)
                )
                if said:
                    break
            if said:
                agents = sorted({self.lx.drug_names[first.group()], self.lx.drug_names[second.group()]})
                if len(agents) == 2:
                    pairs[first.start()] = agents
        return pairs

    def seed_pair(self, agents: list[str]) -> bool:
        """Do the agents include a pair the seed calls the combination (lexicon current_pairs)?"""
        classes = {self.k.agents[a]["class"] for a in agents}
        return any(pair <= classes for pair in self.lx.current_pairs)

    def _combinable(self, first: str, second: str) -> bool:
        """Do the two drugs' classes make one of the pairs that, named as taken now, are read as taken
        together (lexicon [combination_joined] current_pairs)?"""
        classes = frozenset(self.k.agents[self.lx.drug_names[name]]["class"] for name in (first, second))
        return classes in self.lx.current_pairs

    def _combination(self, text: str, combined_at: list[tuple[int, bool]], out: Parsed) -> str:
        """The drugs, duration and outcome of the sentence that says they were given together."""
        if not combined_at and not self.lx.drug_re.search(text):  # no drug: no pair, no anchor
            return text
        pairs = self._joined_pairs(text)
        for at in [at for at in pairs if self.lx.scope.negated_before(text, at)[0]]:
            # "never had gaba with dulox": the combination is denied, not either drug (each is not read)
            del pairs[at]
            if "combination" not in out.facts:
                out.facts["combination"] = "no"
            second = next(m for m in self.lx.drug_re.finditer(text) if m.start() > at)
            text = mask(text, at, second.end())
            combined_at = [(a, said) for a, said in combined_at if not at <= a < second.end()]
        if pairs:
            out.facts.setdefault("combination", "yes")
            combined_at = combined_at + [(at, True) for at in pairs]
        for start, end in sentences(text):
            anchors = sorted(a for a, _ in combined_at if start <= a < end)
            asserted = any(said for a, said in combined_at if start <= a < end)
            if not anchors:
                continue
            sentence = text[start:end]
            agents = sorted({self.lx.drug_names[m.group()] for m in self.lx.drug_re.finditer(sentence)})
            agents = pairs.get(anchors[0], agents)
            if len(agents) >= 2 and not self.seed_pair(agents):
                # "tramadol and gaba together": not the seed's combination (a gabapentinoid with an
                # SNRI or TCA [3, 2]) - nothing is stored as the combination, never "combination tried"
                if out.facts.get("combination") == "yes":
                    del out.facts["combination"]
                continue
            if len(agents) >= 2:
                out.facts["combination.agents"] = agents
            at = anchors[0]
            seg = text[at:end]
            dm = self.lx.duration_re.search(seg)
            if dm:
                weeks = round(_num(dm.group("n")) * self.lx.duration_units[dm.group("u")], 1)
                if 0 < weeks <= self.sanity["weeks"][1]:
                    out.facts["combination.weeks"] = weeks
                text = mask(text, at + dm.start(), at + dm.end())
            outcome, spans = outcome_of(self.lx, text[at:end])
            if outcome == "?":
                continue
            stop = self.lx.stopped.search(text, at, end) if self.lx.stopped else None
            felt = [(s, e) for s, e, _ in self.lx.adverse.finditer(text, at, end)]
            if outcome is None and stop and felt:  # "together, stopped - too sedated"
                outcome = "side_effects"
                spans = [(s - at, e - at) for s, e in [(stop.start(), stop.end()), *felt]]
            bare = self.lx.bare_negative.search(text, at, end)
            if outcome is None and bare and (dm or asserted):  # "dual therapy x 6 wks, nil", "together - nil"
                outcome, spans = "no_benefit", [(bare.start() - at, _word_end(bare) - at)]
            if outcome:
                out.facts["combination.outcome"] = outcome
            for s, e in spans:
                text = mask(text, at + s, at + e)
            if outcome:  # the outcome is the combination's; a bare "no" after it is not the drug's
                tail = self.lx.bare_negative.search(text, at, end)
                if tail:
                    text = mask(text, tail.start(), _word_end(tail))
        return text

    # -- "nothing else tried": which drugs that means is asked ------------------------------------------
    def _nothing_else(self, text: str) -> tuple[str, str | None]:
        mt = self.lx.nothing_else_re.search(text) if self.lx.nothing_else_re else None
        if mt is None:
            return text, None
        return mask(text, mt.start(), mt.end()), mt.group()

    def _ask_untried(self, said: str, out: Parsed) -> None:
        """After a drug was described, "nothing else tried" may mean every other first-line drug, or
        only those the clinician had in mind: asked, a button for each first-line rung not named."""
        named = {name.split(".")[1] for name in out.facts if name.startswith("trial.")}
        if not named:
            return
        spec = self.lx.nothing_else
        choices, every = [], []
        for rung in self.k.rungs:
            agents = [a for a in rung.get("agents", []) if a in self.k.agents]
            if rung.get("step") != "first_line" or not agents or named & set(agents):
                continue
            value = ", ".join(f"{self.lx.button_name[a]} not tried" for a in agents)
            choices.append((spec["each"].format(label=rung["label"]), value))
            every.append(value)
        if not choices:
            return
        if len(choices) > 1:
            choices.append((spec["all"], ", ".join(every)))
        out.clarify.append(Clarify(spec["question"].format(said=said), choices))

    # -- ambiguous names ("capsaicin": patch or cream?) -------------------------------------------------
    def _ambiguous(self, text: str, out: Parsed) -> tuple[str, dict[int, int]]:
        """Names read two ways are asked about, and where each stood (end -> start): a list's
        negation reaches over them as over any drug ("has not had capsaicin or botox")."""
        spans: dict[int, int] = {}
        for key, rx in self.lx.ambiguous_re.items():
            for mt in list(rx.finditer(text)):
                inside_name = any(
                    n.start() <= mt.start() and n.end() >= mt.end() and n.group() != key
                    for n in self.lx.drug_re.finditer(text)
                )
                if not inside_name:
                    out.ambiguous.append(key)
                    text = mask(text, mt.start(), mt.end())
                    spans[mt.end()] = mt.start()
        return text, spans

    # -- class words ("no SNRI") ---------------------------------------------------------------
    def _drug_partnered(self, text: str, start: int) -> int | None:
        """The start of a drug named together right before the class word at `start` ("tca with a
        gabapentinoid"), or None."""
        join = self.lx.class_partner_before.search(text, max(0, start - 30), start)
        if join is None:
            return None
        head = text[: join.start()].rstrip()
        drug = next((m for m in self.lx.drug_re.finditer(head, max(0, len(head) - 40)) if m.end() == len(head)), None)
        return drug.start() if drug else None

    def _partner(self, text: str, end: int) -> int | None:
        """The end of a drug or class named together with the class word ending at `end`
        ("gabapentinoid with an SNRI", "gabapentinoid + ami"), or None."""
        join = self.lx.class_partner.match(text, end)
        if join is None or join.end() == end:
            return None
        rxs = [self.lx.drug_re, *(rx for rx in self.lx.class_words.values() if rx)]
        found = [m for rx in rxs if (m := rx.match(text, join.end()))]
        return max((m.end() for m in found), default=None)

    def _classes(self, text: str, out: Parsed) -> tuple[str, dict[int, int]]:
        """Class words ("no SNRI"), and where each stood (end -> start): a drug listed after one
        shares its negation ("no SNRI or TCA")."""
        spans: dict[int, int] = {}
        if self.lx.classes_any.absent(text):
            return text, spans
        named = text  # before any class word is masked (a partner may be read first)
        for cls, rx in self.lx.class_words.items():
            for mt in list(rx.finditer(text)) if rx else []:
                out.names_a_class = True
                other = re.search(r"\b(?:other|another|more|further)\s+(?:\w+\s+)?$", text[: mt.start()])
                negated, _ = self.lx.scope.negated_before(text, mt.start())
                negated = negated or bool(self.lx.scope.negated_after(text, mt.end()))  # "opioid naive"
                partner = self._partner(named, mt.end()) if negated else None
                drug = None if negated else self._drug_partnered(named, mt.start())
                if drug is not None and self.lx.scope.negated_before(named, drug)[0]:
                    partner = mt.end()  # "never had a tca with a gabapentinoid"
                    mt_start = drug
                else:
                    mt_start = mt.start()
                if partner:  # "not had a gabapentinoid with an SNRI": the combination denied, no drug
                    out.facts.setdefault("combination", "no")
                    text = mask(text, mt_start, partner)
                    spans[mt.end()] = mt.start()
                    continue
                if negated and cls in self.k.classes and not other:
                    for agent, spec in self.k.agents.items():
                        if spec["class"] == cls:
                            out.facts.setdefault(f"trial.{agent}.tried", "no")
                text = mask(text, mt.start(), mt.end())
                spans[mt.end()] = mt.start()
        return text, spans
