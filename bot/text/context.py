"""Scope of modifiers, after ConText (Harkema et al. 2009) and NegEx (Chapman et al. 2001).

A trigger ("no", "never", "hx", "can I") modifies the concepts in its scope. A `before` trigger
reaches forward over a list of concepts joined by fillers ("no weakness or fatigue"); an `after`
trigger reaches back to the concept just before it ("TCA not tried"). Pseudo-triggers look like
triggers and are not ("no longer", "not sure"). Hard breaks (";", a full stop that is not a
decimal point, a new line) and termination words ("but", "then") end every scope.

The words are data (conversations/lexicon.toml); this module only knows how scope works. Masked
text is replaced by BLOCK characters, which keep offsets and end every scope they sit in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLOCK = "\x00"
# A full stop ends a clause unless it is a decimal point ("HbA1c 11.2%"); a question mark unless it
# stands apart from the word before and against the word after ("gaba ?helped": that word is in
# doubt, no question ends there; "falls?no" is a question and its answer).
HARD_BREAK = r"[;\n!]|\?(?![a-z0-9])|(?<=[\w%)\]])\?|(?<!\d)\.|\.(?!\d)"
HARD_BREAK_RE = re.compile(HARD_BREAK)
# Clauses, for which drug owns which words: hard breaks, commas and joining words.
CLAUSE_BREAK = re.compile(HARD_BREAK + r"|,|\band\b|\bbut\b|\bthen\b|\balso\b|\bplus\b")
SENTENCE_RE = re.compile(r"[^;\n!?.]*(?:(?:(?<=\d)\.(?=\d)|\.(?=[\w%]))[^;\n!?.]*)*[;\n!?.]*")


def alternation(phrases) -> str:
    """The phrases as one pattern shaped like a trie ("no(?: help| benefit)?"): the regex engine
    then tries a few characters at each position instead of every phrase, and a longer phrase
    still wins over its prefix ("no help" over "no")."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        end = "" in node
        alts = [re.escape(ch) + pattern(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and not end else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if end else body

    return pattern(trie)


def phrase_re(phrases, right: str = r"(?![\w%])") -> re.Pattern | None:
    """One alternation of phrases on word boundaries, longest first (so "no help" beats "no")."""
    phrases = {p.lower() for p in phrases}
    if not phrases:
        return None
    return re.compile(rf"(?<![\w%/])(?:{alternation(phrases)}){right}")


class _TailMatch:
    def __init__(self, start: int, end: int):
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


class Tail:
    """Phrases that END a text ("... never had a"), matched on the reversed text so that only the
    tail is looked at (an end-anchored search would try every position). `repeat`: any run of
    the phrases and spaces (fillers)."""

    def __init__(self, phrases, trailing: str = r"\s*", repeat: bool = False):
        words = {p.lower()[::-1] for p in phrases}
        alts = alternation(words) if words else ""
        if not words:
            self.rx = None
        elif repeat:
            # a punctuation joiner may touch the word before it ("gaba, pregab"): no boundary for it
            marks = {w for w in words if not any(ch.isalnum() for ch in w)}
            signs = rf"|(?:{alternation(marks)})" if marks else ""
            self.rx = re.compile(rf"(?:\s|(?<![\w/])(?:{alts})(?![\w/]){signs})*")
        else:
            self.rx = re.compile(rf"{trailing}(?:{alts})(?![\w%/])")

    def search(self, text: str, limit: int = 80) -> _TailMatch | None:
        """The phrase(s) at the end of text, in text's own positions; None when there is none."""
        if self.rx is None:
            return None
        tail = text[-limit:][::-1]
        mt = self.rx.match(tail)
        if mt is None:
            return None
        return _TailMatch(len(text) - mt.end(), len(text))


def mask(text: str, start: int, end: int, char: str = BLOCK) -> str:
    return text[:start] + char * (end - start) + text[end:]


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, its terminator included; a decimal point does not end one."""
    out, start = [], 0
    for mt in HARD_BREAK_RE.finditer(text):
        out.append((start, mt.end()))
        start = mt.end()
    if start < len(text):
        out.append((start, len(text)))
    return [(s, e) for s, e in out if text[s:e].strip(" \x00;.!\n")] or [(0, len(text))]


@dataclass
class Scope:
    before: Tail  # forward triggers ("no", "never tried"), at the end of what precedes
    after: re.Pattern  # backward triggers, anchored at a concept's end ("not tried")
    # "falls, no" / "lyrica, never tried": a backward trigger after a comma that ends its clause
    # ("falls, no diabetes" is another item's negation, so the trigger must stand alone)
    after_comma: re.Pattern
    pseudo: re.Pattern | None  # look like triggers, are not ("no longer", "not sure")
    pseudo_tail: Tail
    filler: Tail  # words a trigger's reach may cross ("never had a TCA")
    joiner: Tail  # what joins the members of a list ("no foot drop, areflexia or ...")
    termination: re.Pattern | None

    @classmethod
    def from_lexicon(cls, lex: dict) -> Scope:
        neg = lex["negation"]
        after = "|".join(re.escape(p) for p in sorted(neg["after"], key=len, reverse=True))
        gap = "|".join(re.escape(p) for p in sorted(neg.get("after_gap", []), key=len, reverse=True))
        # up to three gap words, and then a comma may stand before the trigger ("issued, never started")
        # ("gaba (no)": a bracket may open before the trigger)
        gaps = rf"(?:(?:[\s:=\-(]*(?:{gap})(?![\w%]))" + "{1,3}" + r"[\s:=\-,(]*|[\s:=\-(]*)" if gap else r"[\s:=\-(]*"
        return cls(
            before=Tail(neg["before"], trailing=r"[\s:]*"),  # ("not tried: dulox, ami")
            after=re.compile(gaps + r"(?P<trigger>" + after + r")(?![\w%])"),
            after_comma=re.compile(r"\s*,\s*(?P<trigger>" + after + r")(?=\s*(?:[,;.!?\n]|$))"),
            pseudo=phrase_re(neg["pseudo"]),
            pseudo_tail=Tail(neg["pseudo"]),
            filler=Tail(neg["fillers"], repeat=True),
            joiner=Tail(neg["joiners"], repeat=True),
            termination=phrase_re(neg["terminations"]),
        )

    def negated_before(self, text: str, start: int, ends: dict[int, int] | None = None) -> tuple[bool, bool]:
        """Is the concept at `start` in the forward scope of a negation? -> (negated, through a list).

        Walks back over fillers to a trigger; over a joiner only to another member of the list
        (`ends`: end -> start of the concepts that may be members), and from there on. Anything
        else ends the walk: a word, a BLOCK, a hard break, a comma not between two members."""
        pos, through = start, False
        ends = ends or {}
        for _ in range(12):
            head = text[max(0, pos - 60) : pos]
            fill = self.filler.search(head)
            cut = pos - (len(head) - fill.start()) if fill else pos
            for end in (pos, cut) if cut != pos else (pos,):  # (no filler: the same head twice)
                head = text[max(0, end - 60) : end]
                if self.pseudo_tail.search(head):
                    return False, through
                if self.before.search(head):
                    return True, through
            head = text[max(0, cut - 30) : cut]
            join = self.joiner.search(head)
            joined = cut - (len(head) - join.start()) if join else cut
            if joined not in ends:
                return False, through
            pos, through = ends[joined], True
        return False, through

    def negated_after(self, text: str, end: int) -> re.Match | None:
        """A backward trigger right after the concept ("TCA: not tried", "mgus neg")."""
        mt = self.after.match(text, end) or self.after_comma.match(text, end)
        if mt and self.pseudo:
            # a pseudo-trigger that starts where the trigger starts and reaches further ("no longer")
            pseudo = self.pseudo.match(text, mt.start("trigger"))
            if pseudo and pseudo.end() > mt.end():
                return None
        return mt

    def terminated(self, text: str) -> bool:
        return bool(HARD_BREAK_RE.search(text) or (self.termination and self.termination.search(text)))
