"""A drug that cannot be given: "TCA contraindicated", "c/i: gabapentinoids", "not suitable for ami",
"avoid amitriptyline (QTc)" -> trial.<agent>.contraindicated = yes; "TCA not contraindicated", "no
contraindication to TCA" -> = no. It says nothing of whether the drug was tried: the drugs it names
(and a "no" just before them, "no gabapentinoids - c/i") are masked, so no trial is read from them.

Only what is unmistakable is stored. "avoid" is a clinical judgement only with a reason after it; a
wish in the same clause ("prefers", "worried", "declined") makes it the patient's preference; both
are said back as not given, nothing stored, as is one under "if" or "considering" in its clause.
In a question nothing is read here (the question pass notes it). The words are data (conversations/lexicon.toml [queries]).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .context import BLOCK, CLAUSE_BREAK, mask

if TYPE_CHECKING:  # the parser calls in; no import at run time
    from .parse import Parsed, Parser

# Between the drug and the word: "TCA: c/i", "ami is not felt to be suitable", "gaba (contraindicated"
SAID_OF_GAP = re.compile(
    r"[\s:\-(,]*(?:(?:is|are|was|were|now|also|both)\s+)*(?:(?:not|no longer|never)\s+|n't\s+)?"
    r"(?:(?:felt|deemed|considered|thought)\s+)?(?:to\s+be\s+)?(?:(?:absolutely|strongly|clearly)\s+)?"
)
GAP_NEGATED = re.compile(r"\b(?:not|no longer|never)\b|n't\b")
# Just before the word when the drug follows it: "no contraindication to TCA", "no known c/i for ami"
NEGATED_BEFORE = re.compile(
    r"(?<![\w/])(?:no|not|nil|without|non)(?:\s+(?:known|obvious|clear|particular|absolute|real|specific|other))?"
    r"(?:\s+|-)$"  # not across a dash: "no - c/i" answers no, then says contraindicated
)
# After the word, before the drug it is said of: "contraindicated: TCA", "c/i to ami", "not suitable for a TCA"
AFTER_GAP = re.compile(r"[\s:\-(]*(?:(?:to|for|with|of|in|re)\s+)?(?:(?:a|an|any|the|all|both)\s+)?")
# Between two drugs of one list: "TCA and SNRI", "gaba/pregab", "ami, nortrip or dulox"
LIST_JOIN = re.compile(r"\s*(?:,|/|&|\+|\band\b|\bor\b|\bnor\b)?\s*(?:(?:a|an|any|the|all)\s+)?")
# A "no" just before the drug a contraindication is said of ("no gabapentinoids - c/i"): not "not tried"
NO_BEFORE = re.compile(r"(?<![\w/])(?:no|nil)\s+$")
DOSE_NEXT = re.compile(r"\s*\d")
# How far from the word a drug, a clause break or a wish is looked for: a list of drugs is short,
# and a bound keeps a long hostile sentence of many such words linear ("tca c/i " x 2,500).
REACH = 240
# A sentence that opens as a question does ("is gabapentin c/i here"), with no "?" typed
ASKING = re.compile(r"[\s\x00,]*(?:is|are|was|were|would|could|should|can|does|do|any)\b")


def read_contraindications(
    parser: Parser, text: str, start: int, end: int, out: Parsed, subject: str | None = None
) -> str:
    """Read the contraindications of one sentence (text[start:end]); return the text with what was
    read masked. `subject`: the drug the open question is about ("Has gabapentin been tried?" - "no,
    contraindicated"), said to be contraindicated when the sentence names no drug at all."""
    lx = parser.lx
    found = [(mt, False) for mt in lx.contraindicated.finditer(text, start, end)] if lx.contraindicated else []
    if lx.contraindicated_with_reason:
        found += [(mt, True) for mt in lx.contraindicated_with_reason.finditer(text, start, end)]
    if not found:
        return text
    sentence = text[start:end]
    for mt, _ in found:  # "not suitable for ami" asks nothing ("is she suitable for SCS" does)
        sentence = mask(sentence, mt.start() - start, mt.end() - start)
    if parser._is_question(sentence):
        return text
    asking = ASKING.match(text, start) is not None  # before anything of the sentence is masked
    wishes = [(m.start(), m.end()) for m in lx.not_given.finditer(text, start, end)] if lx.not_given else []
    said: dict[str, str] = {}
    conflicts: set[str] = set()
    for mt, needs_reason in sorted(found, key=lambda f: f[0].start()):
        at, after = mt.start(), mt.end()
        if BLOCK in text[at:after]:  # read already
            continue
        if any(s <= at and after <= e for s, e in wishes):  # "prefers to avoid": the not-given pass says it
            continue
        implied = False
        before = _named_before(parser, text, start, at)
        if before and mt.group() in ("ci", "c.i.") and "," in before[2]:
            before = None  # "meds: gabapentin, CI, HTN": a list, CI perhaps cognitive impairment
        if before:
            begin, agents, gap = before
            negated, finish = bool(GAP_NEGATED.search(gap)), after
            reason_at = after
        else:
            neg = NEGATED_BEFORE.search(text, max(start, at - 30), at)
            negated = neg is not None
            named = _named_after(parser, text, after, end)
            # (never the bare "ci": "cognitive impairment", "CI runs" - said of a drug it must name it)
            implied = named is None and bool(subject) and mt.group() not in ("ci", "c.i.")
            if implied:
                named = (after, [subject])  # the reply to a drug's question: said of that drug
            if named is None:  # "no contraindications", "c/i with her tramadol: dulox": of no drug plainly
                text = _unattributed(lx, text, start, neg.start() if neg else at, after, end, not neg, out)
                continue
            finish, agents = named
            begin, reason_at = (neg.start() if neg else at), finish
        clause = _clause(text, start, end, begin, finish)
        wish = lx.contraindication_wish and lx.contraindication_wish.search(clause)
        # "c/i if QTc long", "considering ami - c/i", "is ami c/i", "? ami c/i", "relatively c/i": not said
        # as a fact (said back, as a wish is)
        wish = wish or parser._condition(clause) or (lx.hypothetical and lx.hypothetical.search(clause))
        wish = wish or asking or (lx.contraindication_hedge and lx.contraindication_hedge.search(clause))
        # "? TCA c/i", "TCA c/i?": queried
        wish = wish or "?" in text[max(0, begin - 3) : begin] or text[finish : finish + 4].lstrip(" )").startswith("?")
        reasoned = lx.contraindication_reason.match(text, reason_at) is not None or bool(
            lx.contraindication_reason_before
            and lx.contraindication_reason_before.search(text, max(start, at - 30), at)
        )
        if negated and needs_reason:  # "not avoiding TCA": not a finding either way
            text = mask(text, begin, finish)
            continue
        if wish or (needs_reason and not reasoned) or not agents:  # a preference, or no reason: said back only
            if not negated:  # ("not sure TCA is not c/i": nothing to say back as not given)
                out.not_given.append((clause if implied else text[begin:finish]).strip(" ,;.-\x00"))
            text = mask(text, begin, finish)
            continue
        value = "no" if negated else "yes"
        for agent in agents:
            name = f"trial.{agent}.contraindicated"
            if said.setdefault(name, value) != value:
                conflicts.add(name)
        text = mask(text, begin, finish)
    for name, value in said.items():
        if name not in conflicts:  # said both ways in one sentence: not stored (never guessed)
            out.facts[name] = value
    return text


def _unattributed(lx, text: str, start: int, begin: int, after: int, end: int, say: bool, out: Parsed) -> str:
    """A contraindication said of no drug plainly ("ami would be c/i", "c/i with her tramadol:
    dulox"): nothing stored, and no drug of its clause is read as tried - said back as not given
    (unless the word was negated). A drug with a dose or duration before it keeps its trial."""
    clause, finish = _clause_bounds(text, start, end, begin, after)
    before = list(lx.drug_re.finditer(text, clause, begin))
    if before and not re.search(r"\d", text[before[-1].end() : begin]):
        begin = before[-1].start()
    if say and lx.drug_re.search(text, begin, finish):
        out.not_given.append(text[begin:finish].strip(" ,;.-\x00"))
    return mask(text, begin, finish)


def _mentions(parser: Parser, text: str, lo: int, hi: int) -> list[tuple[int, int, list[str]]]:
    """The drugs and class words in text[lo:hi]: (start, end, agents); a class word names each agent
    of its class, or none ("antidepressants")."""
    lx = parser.lx
    words = [(mt, cls) for cls, rx in lx.class_words.items() if rx for mt in rx.finditer(text, lo, hi)]
    found: list[tuple[int, int, list[str]]] = []
    for mt, cls in sorted(words, key=lambda w: w[0].start() - w[0].end()):  # longest first
        if any(s < mt.end() and mt.start() < e for s, e, _ in found):  # "strong opioids", not also "opioids"
            continue
        classes = lx.contraindicated_classes.get(cls, [])
        agents = [a for a, spec in parser.k.agents.items() if spec["class"] in classes]
        found.append((mt.start(), mt.end(), agents))
    for mt in lx.drug_re.finditer(text, lo, hi):
        if not any(s <= mt.start() < e for s, e, _ in found):  # "opioids": the class, not the agent
            found.append((mt.start(), mt.end(), [lx.drug_names[mt.group()]]))
    return sorted(found)


def _named_before(parser: Parser, text: str, lo: int, at: int) -> tuple[int, list[str], str] | None:
    """The drugs a word is said of when they come right before it ("TCA and SNRI: c/i"): (where the
    list starts, its agents, the gap before the word)."""
    mentions = _mentions(parser, text, max(lo, at - REACH), at)
    if not mentions:
        return None
    last = mentions[-1]
    gap = text[last[1] : at]
    if not SAID_OF_GAP.fullmatch(gap):
        return None
    begin, agents = last[0], list(last[2])
    for prev in reversed(mentions[:-1]):
        if not LIST_JOIN.fullmatch(text[prev[1] : begin]):
            break
        begin, agents = prev[0], prev[2] + agents
    no = NO_BEFORE.search(text, max(lo, begin - 6), begin)
    return (no.start() if no else begin), agents, gap


def _named_after(parser: Parser, text: str, after: int, end: int) -> tuple[int, list[str]] | None:
    """The drugs a word is said of when they follow it ("c/i: TCA, duloxetine"): (where the list ends,
    its agents). A drug with a dose after it is its own trial, not a member ("c/i: TCA, gaba 300")."""
    lead = AFTER_GAP.match(text, after)
    mentions = _mentions(parser, text, lead.end(), min(end, lead.end() + REACH))
    if not mentions or mentions[0][0] != lead.end():
        return None
    finish, agents = mentions[0][1], list(mentions[0][2])
    for nxt in mentions[1:]:
        if not LIST_JOIN.fullmatch(text[finish : nxt[0]]) or DOSE_NEXT.match(text, nxt[1]):
            break
        finish, agents = nxt[1], agents + nxt[2]
    return finish, agents


def _clause(text: str, start: int, end: int, begin: int, finish: int) -> str:
    """The clause around text[begin:finish], within the sentence: where a wish would be said."""
    lo, hi = _clause_bounds(text, start, end, begin, finish)
    return text[lo:hi]


def _clause_bounds(text: str, start: int, end: int, begin: int, finish: int) -> tuple[int, int]:
    """Where the clause around text[begin:finish] starts and ends, within the sentence text[start:end]
    and at most REACH either side."""
    lo = max(start, begin - REACH)
    breaks = list(CLAUSE_BREAK.finditer(text, lo, begin))
    lo = breaks[-1].end() if breaks else lo
    limit = min(end, finish + REACH)
    stop = CLAUSE_BREAK.search(text, finish, limit)
    return lo, (stop.start() if stop else limit)
