"""Free text -> facts. "gabapentin 300 mg tid x 3 mo, no help; duloxetine 30; never had a TCA; 78 yo; eGFR 35"

Lexicons are data (conversations/lexicon.toml, rules/drugs.toml); this module only knows how
clinicians write: numbers with units and frequencies, durations, negation, a subject near its
value. Values outside the plausible ranges in the rules' data are questioned, never stored.

How it reads a message: first the topics that are not drugs (age, renal function, work-up, red
flags, pain pattern) are found and masked, so "B12" or "78 years" is never read as a drug's dose
or duration; then each drug mention owns the text up to the clause where the next drug starts.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..rules.data import Knowledge, load_knowledge, read_toml

CONVERSATIONS = __package__.rsplit(".", 1)[0] + ".conversations"
NUMBER = r"-?\d+(?:[.,]\d+)?"
THOUSANDS_COMMA = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,]|\.\d)")
CLAUSE_BREAK = re.compile(r"[;.\n]|,|\band\b|\bbut\b|\bthen\b|\balso\b|\bplus\b")


@dataclass
class Parsed:
    facts: dict[str, Any] = field(default_factory=dict)
    questioned: list[str] = field(default_factory=list)     # implausible values, not stored
    ambiguous: list[str] = field(default_factory=list)      # keys of rules/drugs.toml [ambiguous]
    answer: str | None = None                               # a bare yes/no/unknown/skip
    names_a_class: bool = False                             # "no other SNRI": about a class, not one drug
    respelled: list[tuple[str, str]] = field(default_factory=list)  # ("gabapentn", "gabapentin")

    def __bool__(self) -> bool:
        return bool(self.facts or self.questioned or self.ambiguous)


def _phrase_re(phrases) -> re.Pattern | None:
    phrases = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    if not phrases:
        return None
    alts = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?<![\w%])(?:{alts})(?![\w%])")


class Lexicon:
    def __init__(self, knowledge: Knowledge):
        self.k = knowledge
        lex = read_toml(CONVERSATIONS, "lexicon.toml")
        self.raw = lex
        self.frequency = {k.lower(): v for k, v in lex["frequency"].items()}
        self.frequency_re = _phrase_re(self.frequency)
        self.units = lex["units"]
        self.divided = {k.lower(): v for k, v in lex.get("divided_doses", {}).items()}
        self.divided_re = _phrase_re(self.divided)
        self.duration_units = lex["duration_units"]
        self.at_max_re = _phrase_re(lex["at_max"]["phrases"])
        self.outcomes = [(o, _phrase_re(ps)) for o, ps in lex["outcomes"].items()]
        self.neg_before = _phrase_re(lex["negation"]["before"])
        self.neg_after = re.compile(r"^[\s:=\-–—]*(?:" + "|".join(
            re.escape(p) for p in sorted(lex["negation"]["after"], key=len, reverse=True)) + r")(?!\w)")
        self.answers = {a: _phrase_re(ps) for a, ps in lex["answers"].items()}
        self.answer_words = {p.lower(): a for a, ps in lex["answers"].items() for p in ps}
        self.age_res = [re.compile(p) for p in lex["age"]["patterns"]]
        self.crcl_res = [re.compile(p) for p in lex["crcl"]["patterns"]]
        self.topics = lex["topics"]
        self.topic_subject = {t: _phrase_re(spec["subject"]) for t, spec in self.topics.items()}
        self.topic_values = {t: [(v, _phrase_re(ws)) for v, ws in spec.get("values", {}).items()]
                             for t, spec in self.topics.items()}
        self.topic_phrases = {t: [(v, _phrase_re(ps)) for v, ps in spec.get("phrases", {}).items()]
                              for t, spec in self.topics.items()}
        self.red_flags = [(flag, _phrase_re(ps)) for flag, ps in lex["red_flag_phrases"].items()]
        self.class_words = {cls: _phrase_re(words) for cls, words in lex.get("class_words", {}).items()}
        names = {}
        for agent, spec in knowledge.agents.items():
            for name in spec["names"]:
                names[name.lower()] = agent
        self.drug_names = names
        self.drug_re = _phrase_re(names)
        spelling = lex.get("spelling", {})
        self.spell_min_length = spelling.get("min_length", 6)
        self.spell_min_similarity = spelling.get("min_similarity", 1.0)
        self.not_drugs = set(spelling.get("not_drugs", [])) - set(names)
        self.spell_targets = sorted({n for n in list(names) + list(knowledge.ambiguous)
                                     if n.isalpha() and len(n) >= self.spell_min_length})
        self.spell_cache: dict[str, str | None] = {}
        self.ambiguous_re = {key: re.compile(rf"(?<![\w%]){re.escape(key)}(?![\w%])") for key in knowledge.ambiguous}
        self.duration_re = re.compile(
            rf"(?P<n>{NUMBER})\s*(?P<u>" + "|".join(sorted(map(re.escape, self.duration_units), key=len, reverse=True))
            + r")\b")
        units = "|".join(sorted(map(re.escape, self.units), key=len, reverse=True))
        self.thousands_space = re.compile(rf"(?<![\d.,])\d{{1,3}}(?: \d{{3}})+(?=\s*(?:{units})\b)")
        self.dose_re = re.compile(
            rf"(?P<n>{NUMBER})\s*(?P<u>" + "|".join(sorted(map(re.escape, self.units), key=len, reverse=True))
            + r")?\b(?P<per>\s*(?:/\s*(?:d|day|24h)|per\s+day|a\s+day|/day|daily\s+total|total\s+daily|total))?")
        self.times_re = re.compile(r"(?:\bx\s*(?P<a>[1-4])\b(?!\s*(?:" + "|".join(
            map(re.escape, sorted(self.duration_units, key=len, reverse=True))) + r")\b)(?:\s*/\s*d(?:ay)?|\s*(?:a|per)\s*day|\s*daily)?"
            r"|\b(?P<b>[1-4])\s*x\s*(?:/\s*d(?:ay)?|(?:a|per)\s*day|daily|\b))")


_lexicons: dict[int, Lexicon] = {}


def lexicon(knowledge: Knowledge) -> Lexicon:
    """One compiled lexicon per knowledge object (compiling the patterns is the slow part)."""
    key = id(knowledge)
    if key not in _lexicons:
        _lexicons[key] = Lexicon(knowledge)
    return _lexicons[key]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = text.replace("×", " x ").replace("–", "-").replace("—", "-").replace("’", "'")
    return text.lower()


def _num(s: str) -> float:
    v = float(s.replace(",", "."))
    return int(v) if v.is_integer() else v


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


class Parser:
    def __init__(self, knowledge: Knowledge | None = None):
        self.k = knowledge or load_knowledge()
        self.lx = lexicon(self.k)
        self.sanity = self.k.thresholds["sanity"]

    # -- entry point ------------------------------------------------------------------------------
    def parse(self, raw: str) -> Parsed:
        out = Parsed()
        text = self._thousands(normalise(raw)[:4096])
        text = self._respell(text, out)
        text = self._numbers(text, out)
        text = self._topics(text, out)
        text = self._ambiguous(text, out)
        text = self._classes(text, out)
        self._drugs(text, out)
        if not out:
            out.answer = self.bare_answer(text)
        return out

    def _thousands(self, text: str) -> str:
        """'1,200 mg' and '50 000 mg/day' are one number (thousands separators), never 1.2 or 50."""
        text = THOUSANDS_COMMA.sub(lambda mt: mt.group().replace(",", ""), text)
        return self.lx.thousands_space.sub(lambda mt: mt.group().replace(" ", ""), text)

    def bare_answer(self, text: str) -> str | None:
        """yes / no / unknown / skip when that is all the message says."""
        cleaned = re.sub(r"[^\w?/' ]+", " ", normalise(text)).strip()
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

        return re.sub(rf"(?<![\w%])[a-z]{{{self.lx.spell_min_length},}}(?![\w%])", fix, text)

    # -- age and renal function --------------------------------------------------------------------
    def _numbers(self, text: str, out: Parsed) -> str:
        for name, regexes, kind in (("age", self.lx.age_res, int), ("crcl", self.lx.crcl_res, float)):
            for rx in regexes:
                for mt in list(rx.finditer(text)):
                    value = _num(mt.group("n"))
                    lo, hi = self.sanity[name]
                    if lo <= value <= hi:
                        out.facts[name] = kind(value) if kind is int else value
                    else:
                        out.questioned.append(f"{name}:{mt.group('n')}")
                    text = _mask(text, mt.start(), mt.end())
        return text

    # -- topics: work-up, pain pattern, red flags, combination, weakness ------------------------------
    def _topics(self, text: str, out: Parsed) -> str:
        flags: set[str] = set()
        for flag, rx in self.lx.red_flags:
            for mt in list(rx.finditer(text)):
                if not self._negated_before(text, mt.start()):
                    flags.add(flag)
                text = _mask(text, mt.start(), mt.end())
        for topic, spec in self.lx.topics.items():
            fact = spec["fact"]
            for value, rx in self.lx.topic_phrases[topic]:
                if rx is None:
                    continue
                for mt in list(rx.finditer(text)):
                    out.facts[fact] = value
                    text = _mask(text, mt.start(), mt.end())
            subject = self.lx.topic_subject[topic]
            for mt in list(subject.finditer(text)):
                clause_start, clause_end = self._clause(text, mt.start(), mt.end())
                window = text[clause_start:clause_end]
                chosen = None
                for value, vrx in self.lx.topic_values[topic]:
                    hit = vrx.search(window) if vrx else None
                    if hit and (chosen is None or len(hit.group()) > chosen[1]):
                        chosen = (value, len(hit.group()), clause_start + hit.start(), clause_start + hit.end())
                if chosen:
                    value = chosen[0]
                elif "default" in spec:
                    value = spec["default"]
                else:
                    continue
                if fact == "red_flags":
                    out.facts[fact] = [] if value == "none" else "unknown"
                else:
                    out.facts[fact] = value
                if spec.get("mask") == "words":
                    # Topics that sit beside drug names ("combo of pregabalin + duloxetine",
                    # "gabapentin causing fatigue"): hide only the topic's own words, so its "no"
                    # does not negate the drug.
                    text = _mask(text, mt.start(), mt.end())
                    if chosen:
                        text = _mask(text, chosen[2], chosen[3])
                else:
                    text = _mask(text, clause_start, clause_end)
        if flags:
            out.facts["red_flags"] = sorted(flags)
        return text

    def _clause(self, text: str, start: int, end: int) -> tuple[int, int]:
        before = [m.end() for m in CLAUSE_BREAK.finditer(text, 0, start)]
        after = CLAUSE_BREAK.search(text, end)
        return (before[-1] if before else 0), (after.start() if after else len(text))

    def _negated_before(self, text: str, pos: int) -> bool:
        clause_start, _ = self._clause(text, pos, pos)
        prefix = text[clause_start:pos]
        return bool(self.lx.neg_before.search(prefix)) if self.lx.neg_before else False

    # -- class words ("no SNRI") ---------------------------------------------------------------
    def _classes(self, text: str, out: Parsed) -> str:
        for cls, rx in self.lx.class_words.items():
            for mt in list(rx.finditer(text)) if rx else []:
                out.names_a_class = True
                other = re.search(r"\b(?:other|another|more|further)\s+(?:\w+\s+)?$", text[:mt.start()])
                if self._negated_before(text, mt.start()) and cls in self.k.classes and not other:
                    for agent, spec in self.k.agents.items():
                        if spec["class"] == cls:
                            out.facts.setdefault(f"trial.{agent}.tried", "no")
                text = _mask(text, mt.start(), mt.end())
        return text

    # -- ambiguous names ("capsaicin": patch or cream?) -------------------------------------------------
    def _ambiguous(self, text: str, out: Parsed) -> str:
        for key, rx in self.lx.ambiguous_re.items():
            for mt in list(rx.finditer(text)):
                inside_name = any(n.start() <= mt.start() and n.end() >= mt.end() and n.group() != key
                                  for n in self.lx.drug_re.finditer(text))
                if not inside_name:
                    out.ambiguous.append(key)
                    text = _mask(text, mt.start(), mt.end())
        return text

    # -- drugs ------------------------------------------------------------------------------------------
    def _drugs(self, text: str, out: Parsed) -> None:
        mentions = list(self.lx.drug_re.finditer(text))
        for i, mt in enumerate(mentions):
            agent = self.lx.drug_names[mt.group()]
            if i + 1 < len(mentions):
                nxt = mentions[i + 1]
                end = max(self._clause(text, nxt.start(), nxt.end())[0], mt.end())
            else:
                end = len(text)
            segment = text[mt.end():end]
            if i + 1 < len(mentions) and self.lx.drug_names[mentions[i + 1].group()] == agent \
                    and not segment.strip(" ,;/+&-"):
                continue  # "gabapentin (neurontin)": one mention
            self._drug(agent, text, mt, segment, out)

    def _drug(self, agent: str, text: str, mt: re.Match, segment: str, out: Parsed) -> None:
        prefix = f"trial.{agent}."
        bare = self.bare_answer(segment)
        if bare == "skip":
            return  # "pregabalin skip" (a skipped question) says nothing about the drug
        if bare in ("no", "unknown"):
            out.facts[prefix + "tried"] = bare  # "tca nope", "botox nah", "lyrica idk"
            return
        if self._negated_before(text, mt.start()) or (
                self.lx.neg_after.search(segment) and not self._outcome(segment[:24])):
            out.facts[prefix + "tried"] = "no"
            return
        facts: dict[str, Any] = {}
        seg = segment
        # weeks at the maximum dose: "2 weeks at max", "2 at max dose"
        if self.lx.at_max_re:
            for am in list(self.lx.at_max_re.finditer(seg)):
                before = seg[:am.start()]
                num = re.search(rf"({NUMBER})\s*(?:({'|'.join(map(re.escape, self.lx.duration_units))})\b)?\s*$", before)
                if num:
                    weeks = _num(num.group(1)) * self.lx.duration_units.get(num.group(2) or "weeks", 1)
                    facts["weeks_at_max"] = round(weeks, 1)
                    seg = _mask(seg, num.start(), am.end())
        # durations: "for 3 months", "x 6 wk"
        for dm in list(self.lx.duration_re.finditer(seg)):
            weeks = _num(dm.group("n")) * self.lx.duration_units[dm.group("u")]
            facts["weeks"] = facts.get("weeks", 0) + round(weeks, 1) if "weeks" in facts else round(weeks, 1)
            seg = _mask(seg, dm.start(), dm.end())
        # frequency: "tid", "twice a day", "x3/day", "3x daily"
        per_day = None
        total = False   # "1800 mg in 3 doses": the number is the daily total, not one dose
        if self.lx.divided_re:
            vm = self.lx.divided_re.search(seg)
            if vm:
                per_day, total = self.lx.divided[vm.group()], True
                seg = _mask(seg, vm.start(), vm.end())
        if per_day is None and self.lx.frequency_re:
            fm = self.lx.frequency_re.search(seg)
            if fm:
                per_day = self.lx.frequency[fm.group()]
                seg = _mask(seg, fm.start(), fm.end())
        tm = None if total else self.lx.times_re.search(seg)
        if tm:
            per_day = int(tm.group("a") or tm.group("b"))
            seg = _mask(seg, tm.start(), tm.end())
        # dose: the first number left ("300 mg", "1.2 g/day", "duloxetine 30")
        for dm in self.lx.dose_re.finditer(seg):
            if seg[dm.end():dm.end() + 1] == "%" or seg[dm.start() - 1:dm.start()] in "%":
                continue
            amount = _num(dm.group("n")) * self.lx.units.get(dm.group("u") or "mg", 1)
            daily = amount if (dm.group("per") or total) else amount * (per_day or 1)
            daily = round(daily, 3)
            spec = self.k.agents[agent]
            if not spec.get("implausible_below_mg_day", 0) <= daily <= spec["implausible_above_mg_day"] or daily <= 0:
                out.questioned.append(f"{prefix}dose:{dm.group('n')}{dm.group('u') or ''}")
            else:
                facts["dose"] = int(daily) if float(daily).is_integer() else daily
                if per_day and not dm.group("per"):
                    facts["doses_per_day"] = per_day
            break
        if per_day and "doses_per_day" not in facts and "dose" in facts:
            facts["doses_per_day"] = per_day
        weeks_limit = self.sanity["weeks"][1]
        for key in ("weeks", "weeks_at_max"):
            if key in facts and not (0 < facts[key] <= weeks_limit):
                out.questioned.append(f"{prefix}{key}:{facts.pop(key)}")
        outcome = self._outcome(segment)
        if outcome:
            facts["outcome"] = outcome
        answer = self.lx.answers["unknown"].search(segment[:20]) if self.lx.answers["unknown"] else None
        if facts:
            facts["tried"] = "yes"
        elif answer:
            facts["tried"] = "unknown"
        else:
            facts["tried"] = "yes"
        for key, value in facts.items():
            out.facts[prefix + key] = value

    def _outcome(self, segment: str) -> str | None:
        best = None
        for outcome, rx in self.lx.outcomes:
            if rx is None:
                continue
            for mt in rx.finditer(segment):
                if best is None or len(mt.group()) > best[1]:
                    best = (outcome, len(mt.group()))
        return best[0] if best else None
