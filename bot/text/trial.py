"""Drug mentions -> trial facts: dose, frequency, duration, outcome, status, side effects.

Each drug mention owns the words after it up to the clause where the next drug starts (its
segment), and the words just before it in its own clause (its prefix: "no help from gaba",
"on gaba"). Outcomes are modifiers of the drug they sit beside, never free-floating words.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING, Any

from .context import BLOCK, CLAUSE_BREAK, HARD_BREAK_RE, mask
from .lexicon import Lexicon

if TYPE_CHECKING:
    from .parse import Parsed, Parser

# "co-codamol 30/500" is a tablet's strength, "butrans 10 patch" / "25 mcg/h" a patch's rate:
# neither is a daily dose in mg.
STRENGTH_OR_RATE = re.compile(r"\s*/\s*\d|\s*(?:mcg|ug|micrograms?)?\s*/\s*h(?:r|our)?\b|\s*(?:mcg|ug)?\s*patch")
# "co-codamol 30/500 2 qds": a count of tablets of that strength (the day's total is asked)
COUNT_AFTER_STRENGTH = re.compile(
    r"\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?\s*(?:mg)?\s+[1-4](?![\d.]|\s*(?:mg|g|mcg|ug|/|%|x\b))"
)
# A drug named as its patch or plaster ("fentanyl patch", "lido plaster")
PATCH_NAMED = re.compile(r"(?:patch|patches|plaster|plasters)$")
# "300 not 600": the number denied
DENIED_NUMBER = re.compile(r"\bnot\s+\d+(?:\.\d+)?\s*(?:mg)?\b")
# "since 2019" is a date, not a dose
YEAR = re.compile(r"(?:19|20)\d\d")
# a year after these is a date ("stopped 2019"), never a dose
SINCE = re.compile(
    r"\b(?:since|in|from|until|till|circa|year|yr|stopped|started|ceased|discontinued|ended|commenced|began|begun)\s*$"
)
# ("10-25mg": a range titrated through, its top the dose reached)
RAISED_TO = re.compile(r"(?:->|>|\bto|\bthen|\bnow|\bincreased|\bupped|(?<=\d)\s*-)\s*$")
# An outcome-list key for benefit on something other than the pain ("helped sleep").
NOT_PAIN = "not_pain"
ASK = "ask"  # an outcome word that says neither which way ("meh")
LIST_WORDS = re.compile(r"\b(?:or|nor|and|mg|x)\b|[,/+&]")
SAID_OF_NEXT = re.compile(r"\b(?:on|with|from|since starting|after starting|due to|d/t)\s*$")
GOOD = ("good", "partial")
SCORE_HINT = re.compile(r"\d\s*(?:%|/\s*10|to\b|-+>|>)|relief|benefit")
JOINED_ON = re.compile(r"(?:\+|&|\band|\bplus)\s*$")
UNITLESS_WEEKS = re.compile(r"(?<![\d.])(\d+(?:[.,]\d+)?)(?:\s*-\s*\d+(?:[.,]\d+)?)?\s*$")
SPACES = re.compile(r"\s*")
SENTENCE_END = re.compile(r"[\n!?]|(?<!\d)\.|\.(?!\d)")
LIST_ONLY = re.compile(r"^[\s,/+&]*(?:(?:or|and|nor|&|\+|/|,)[\s,/+&]*)*$")


def outcome_of(lx: Lexicon, segment: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The outcome a segment states, and the spans that say it. "?" when two outcomes compete.

    A good/partial phrase right after a negator is no benefit ("hasn't helped"); an outcome that
    helped and then stopped is `waned`; a side effect alone is not an outcome."""
    kept = [(s, e, outcomes[0]) for s, e, outcomes in lx.outcomes.finditer(segment)]
    # "didn't tolerate higher doses": the dose was limited, the drug not stopped (max_tolerated)
    limited = [(m.start(), m.end()) for m in lx.dose_limited.finditer(segment)]
    kept = [k for k in kept if not (k[2] == "side_effects" and any(s <= k[0] < e for s, e in limited))]
    # a score says more than the benefit word inside it ("helped ~30%"); a negative phrase stands
    scores = _pain_scores(lx, segment)
    if scores:
        overlap = [k for k in kept if any(h[0] < k[1] and k[0] < h[1] for h in scores)]
        scores = [h for h in scores if not any(h[0] < k[1] and k[0] < h[1] and k[2] not in GOOD for k in overlap)]
        kept = sorted([k for k in kept if not (k in overlap and k[2] in GOOD)] + scores)
    read: list[str] = []
    spans: list[tuple[int, int]] = []
    vague = False
    for s, e, outcome in kept:
        if outcome == NOT_PAIN:  # "helped sleep": said, read, and not the trial's outcome
            spans.append((s, e))
            continue
        if outcome == ASK:  # "meh": neither good nor bad - asked, unless a definite word says which
            vague = True
            spans.append((s, e))
            continue
        if outcome != "unknown" and (
            _hedged(lx, segment, s) or (lx.outcome_hedged_after and lx.outcome_hedged_after.match(segment, e))
        ):  # "prob didn't tolerate", "? helped", "helped maybe"
            outcome = "unknown"
        elif outcome in ("good", "partial") and lx.outcome_negators:
            lo = max(0, s - 40)
            neg = lx.outcome_negators.search(segment[lo:s])
            aux = None if neg else lx.outcome_auxiliaries.search(segment[lo:s])
            if aux:  # "nothing has worked", "none of them have really helped"
                neg = lx.outcome_negators.search(segment[lo : lo + aux.start()])
            if neg:
                outcome = "no_benefit"
                s = lo + neg.start()
        if outcome == "good" and (
            lx.partial_before.search(segment[max(0, s - 20) : s]) or lx.partial_after.match(segment, e)
        ):
            outcome = "partial"
        elif outcome == "no_benefit" and lx.enough_after.match(segment, e):
            outcome = "partial"  # "didn't help enough", "not effective enough": too little, not none
        read.append(outcome)
        spans.append((s, e))
    kinds = list(dict.fromkeys(read))
    if not kinds and vague:
        return "?", spans
    if not kinds:
        return None, spans
    if "waned" in kinds:
        return "waned", spans
    if "side_effects" in kinds:
        return "side_effects", spans
    if len(kinds) > 1 and "unknown" in kinds:
        kinds.remove("unknown")
    if set(kinds) == {"good", "partial"}:
        return "partial", spans
    if len(kinds) == 1:
        return kinds[0], spans
    first, last = read[0], read[-1]
    if first in ("good", "partial") and last == "no_benefit" and lx.sequence and lx.sequence.search(segment):
        return "waned", spans  # "helped, then no benefit"
    return "?", spans


def _shared_side_effect(p: Parser, first, last, facts: dict, out: Parsed) -> None:
    """ "on pregab 150 bd and tramadol 50 qds, drowsy": a side effect in a clause of its own after
    two drugs taken together may be either's - asked, never given to the nearest."""
    from .parse import Clarify

    segment = last[3]
    comma = segment.find(",")
    said = [m for m in p.lx.adverse.finditer(segment)] if comma >= 0 else []
    if not said or any(s < comma for s, _, _ in said) or not facts.get("adverse"):
        return
    s, e, _ = said[0]
    word = segment[s:e]
    facts.pop("adverse")
    choices = [(p.k.agent_label(item[0]), f"{word} on {p.lx.button_name[item[0]]}") for item in (first, last)]
    out.clarify.append(Clarify(p.lx.clarify["adverse_owner"].format(effect=word.capitalize()), choices))


def _elliptic_outcomes(lx: Lexicon, text: str, items: list, results: list[dict]) -> None:
    """ "gaba helped but dulox didn't", "gaba helped, lyrica & dulox not", "dulox didn't help but
    pregab did": a drug whose clause only denies or affirms takes the opposite or the same of the
    nearest outcome said before it in the sentence (the drugs listed with it then share it)."""
    for i in range(1, len(items)):
        said = items[i][3].replace(BLOCK, " ")
        if "outcome" in results[i] or results[i].get("tried") != "yes":
            continue
        donor = next((j for j in range(i - 1, -1, -1) if results[j].get("outcome") not in (None, "?")), None)
        if donor is None or SENTENCE_END.search(text, items[donor][1].end(), items[i][1].start()):
            continue  # ("gaba no help. dulox was ..."): said of the same sentence only
        before = results[donor]["outcome"]
        if before in GOOD and lx.elliptic_negation.fullmatch(said):
            results[i].update(outcome="no_benefit", _from="segment")
        elif before == "no_benefit" and lx.elliptic_affirmation.fullmatch(said):
            results[i].update(outcome="good", _from="segment")


def _share_outcome_of_all(lx: Lexicon, text: str, items: list, results: list[dict]) -> None:
    """ "gaba 600 tds; dulox 60; ami 25 - all no help", "gaba and pregab both stopped for dizziness":
    an outcome, a stop or a side effect led by "all" / "both" / "each" after the last drug of a
    sentence is also every earlier drug's there that has none of its own (and was not said to be
    untried) - wherever the list ends, not only at the message's last drug ("gaba and pregab both
    stopped (dizzy); dulox 60")."""
    ends = [0] + [b.end() for b in SENTENCE_END.finditer(text)]  # found once: a long list stays linear
    for i in range(1, len(items)):
        if lx.list_all.search(items[i][3]):
            sentence_start = ends[bisect.bisect_right(ends, items[i][1].start()) - 1]
            _share_back(lx, items, results, i, sentence_start)


def _share_back(lx: Lexicon, items: list, results: list[dict], i: int, sentence_start: int) -> None:
    """What drug i says, led by "all" / "both" in its own segment, shared back over the list."""
    last, segment = results[i], items[i][3]
    outcome = next(iter(lx.outcomes.finditer(segment)), None)
    halt = lx.stopped.search(segment) if lx.stopped else None
    felt = next(iter(lx.adverse.finditer(segment)), None)
    starts = [s for s in (outcome and outcome[0], halt and halt.start(), felt and felt[0]) if s is not None]
    if not starts:
        return
    first = min(starts)
    said = [m for m in lx.list_all.finditer(segment) if m.start() <= first]  # ("neither tolerated": the outcome's own)
    # the quantifier leads what is said: only words between ("both partially effective", "both made her dizzy")
    if not said or re.search(r"[^a-z\s,;:\-]", segment[said[-1].end() : first]) or first - said[-1].end() > 25:
        return
    shared: dict[str, Any] = {}
    if last.get("outcome") not in (None, "?") and last.get("_from") != "prefix":
        shared["outcome"] = last["outcome"]
    if last.get("current") == "no" and (halt is not None or last.get("outcome") == "side_effects"):
        shared["current"] = "no"  # "both stopped", "both not tolerated"
    if last.get("adverse"):
        shared["adverse"] = last["adverse"]  # "both stopped for dizziness", "both made her dizzy"
    # ("gaba 600 tds; dulox 60; ami 25 - all no help": a list may be split by semicolons)
    # back over the list: it ends at a drug with an outcome of its own, or taken now where the list
    # was stopped ("on gaba 300 tds, dulox and ami both stopped": not gaba); "both" is two drugs
    reach = 1 if said[-1].group().startswith("both") else i
    for j in range(i - 1, i - 1 - reach, -1):
        mt, facts = items[j][1], results[j]
        if mt.start() < sentence_start or "outcome" in facts:
            break
        if shared.get("current") == "no" and facts.get("current") == "yes":
            break
        if facts.get("tried") == "yes":
            for key, value in shared.items():
                facts.setdefault(key, value)


def _failed_lists(lx: Lexicon, text: str) -> list[tuple[int, int]]:
    """(start, end) of "neither ... nor ... helped": a list of drugs under a list negation whose
    sentence goes on to a benefit word - the benefit is what is negated, not the trials."""
    spans = []
    for mt in lx.list_outcome.finditer(text) if lx.list_outcome else []:
        stop = HARD_BREAK_RE.search(text, mt.end())
        end = stop.start() if stop else len(text)
        for s, _, outcomes in lx.outcomes.finditer(text, mt.end(), end):
            listed = text[mt.end() : s]
            aux = lx.outcome_auxiliaries.search(listed)  # "none of gaba or dulox have (really) helped"
            if outcomes[0] in ("good", "partial") and _only_drugs(lx, listed[: aux.start()] if aux else listed):
                spans.append((mt.start(), s))
            break
    return spans


def _only_drugs(lx: Lexicon, span: str) -> bool:
    """Nothing but drugs, their doses and the words that join a list ("gaba 600 tds nor dulox");
    a list joined by "nor" ends at its "nor" member ("neither gaba nor lyrica, dulox helped")."""
    nor = re.search(r"\bnor\b", span)
    if nor and "," in span[nor.end() :]:
        return False
    for rx in (lx.drug_re, lx.frequency_re, lx.duration_re, lx.dose_re, LIST_WORDS):
        if rx:
            span = rx.sub(" ", span)
    return not re.search(r"[a-z]", span)


def _pain_scores(lx: Lexicon, segment: str) -> list[tuple[int, int, str]]:
    """Pain scores before and after ("pain down from 8 to 4", "helped ~30%") and relief that
    lasted ("~8 weeks relief"): the outcome they show, as (start, end, outcome); "?" for a small
    drop (partial or no benefit: ask)."""
    if not SCORE_HINT.search(segment):  # no "%", "/10", "to" or "->" after a number: nothing to read
        return []
    scores = [(mt, 10.0, 10 - float(mt.group("pct")) / 10) for rx in lx.pain_percent for mt in rx.finditer(segment)]
    scores += [(mt, float(mt.group("a")), float(mt.group("b"))) for rx in lx.pain_scores for mt in rx.finditer(segment)]
    found: list[tuple[int, int, str]] = [
        (mt.start(), mt.end(), "good")
        for rx in lx.relief_for
        for mt in rx.finditer(segment)
        if not (lx.outcome_negators and lx.outcome_negators.search(segment[max(0, mt.start() - 25) : mt.start()]))
    ]
    for mt, before, after in scores:
        scale = 100 if max(before, after) > 10 else 10  # "VAS 70 to 40": a 0-100 scale
        if not (0 < before <= scale and 0 <= after <= scale) or any(
            s < mt.end() and mt.start() < e for s, e, _ in found
        ):
            continue
        if after <= before * lx.pain_good_at_most:
            outcome = "good"
        elif after <= before * lx.pain_partial_at_most:
            outcome = "partial"
        else:
            outcome = "?" if after < before else "no_benefit"
        found.append((mt.start(), mt.end(), outcome))
    return found


def _hedged(lx: Lexicon, segment: str, start: int) -> bool:
    """A hedge earlier in the outcome's own clause ("not sure it helped", "? helping")."""
    lo = max(0, start - 30)
    window = segment[lo : start + 1]  # with the outcome's first letter: the "?" of "?helped" ends no clause
    breaks = [b.end() for b in CLAUSE_BREAK.finditer(window) if b.group() != "and" and b.end() <= start - lo]
    clause = segment[lo + max(breaks, default=0) : start]
    return bool(lx.outcome_hedges and lx.outcome_hedges.search(clause))


def read_trials(p: Parser, text: str, out: Parsed, class_spans: dict[int, int] | None = None) -> None:
    lx = p.lx
    mentions = list(lx.drug_re.finditer(text))
    if not mentions:  # no trial to read (what follows reads only the mentions' items)
        return
    items = []
    prev_end = 0
    for i, mt in enumerate(mentions):
        agent = lx.drug_names[mt.group()]
        end = len(text)
        if i + 1 < len(mentions):
            nxt = mentions[i + 1]
            breaks = [b.end() for b in CLAUSE_BREAK.finditer(text, mt.end(), nxt.start())]
            end = breaks[-1] if breaks else nxt.start()
        segment = text[mt.end() : end]
        if (
            i + 1 < len(mentions)
            and lx.drug_names[mentions[i + 1].group()] == agent
            and not segment.strip(" ,;/+&-()\x00")
        ):
            continue  # "gabapentin (neurontin)": one mention
        breaks = [b.end() for b in CLAUSE_BREAK.finditer(text, prev_end, mt.start())]
        prefix_start = max([prev_end] + breaks)
        items.append((agent, mt, text[prefix_start : mt.start()], segment))
        prev_end = end
    ends = {**(class_spans or {}), **{mt.end(): mt.start() for _, mt, _, _ in items}}  # what a list may hold
    results: list[dict[str, Any]] = []
    for agent, mt, prefix, segment in items:
        results.append(_trial(p, agent, text, mt, prefix, segment, ends, out))
    _elliptic_outcomes(lx, text, items, results)
    # The members of a list share what is said of the whole list: a backward negation or outcome
    # after its last member ("gaba or dulox not tried", "gaba, dulox and ami - none helped"), an
    # outcome before its first ("failed gaba and lyrica").
    for i in range(len(items) - 2, -1, -1):
        segment = items[i][3]
        nxt = results[i + 1]
        if not (LIST_ONLY.match(segment.replace(BLOCK, " ")) and results[i].get("_bare")):
            continue
        if results[i].get("tried") == "no":  # "no gaba, dulox 60 no help": gaba stays not tried
            continue
        if nxt.get("_after_neg"):
            results[i] = {"tried": "no", "_after_neg": True, "_bare": True}
        elif nxt.get("_from") == "segment" and nxt.get("_bare") and "outcome" not in results[i]:
            # ("no help from gaba or pregab, dulox 60 helped": dulox's own trial, not the list's end)
            results[i] = {"tried": "yes", "outcome": nxt["outcome"], "_from": "segment", "_bare": True}
    for i in range(1, len(items)):
        if (
            LIST_ONLY.match(items[i - 1][3].replace(BLOCK, " "))
            and LIST_ONLY.match(items[i][3].replace(BLOCK, " "))  # ("no help from gaba, dulox ok": dulox's own words)
            and results[i].get("_bare")
            and results[i].get("tried") == "yes"
            and results[i - 1].get("_from") == "prefix"
            and "outcome" not in results[i]
        ):
            results[i] = {"tried": "yes", "outcome": results[i - 1]["outcome"], "_from": "prefix", "_bare": True}
    # "on gaba 600 tds + ami 25 nocte": "on" reaches over drugs joined by "+" / "and" / "plus"
    for i in range(1, len(items)):
        if not (results[i - 1].get("_on_before") and results[i].get("tried") == "yes" and "current" not in results[i]):
            continue
        if JOINED_ON.search(items[i - 1][3][-12:].replace(BLOCK, " ")) and not items[i][2].strip(" \x00"):
            results[i]["current"] = "yes"
            results[i]["_on_before"] = True
            _shared_side_effect(p, items[i - 1], items[i], results[i], out)
    _share_outcome_of_all(lx, text, items, results)
    for a, b in _failed_lists(lx, text):  # "neither gaba nor lyrica helped": both tried, no benefit
        for i, (_, mt, _, _) in enumerate(items):
            if a < mt.start() < b:
                kept = {k: v for k, v in results[i].items() if k not in ("_clarify", "tried", "outcome")}
                results[i] = {**kept, "tried": "yes", "outcome": "no_benefit"}
    for (agent, *_), facts in zip(items, results):
        for key in ("_bare", "_after_neg", "_from", "_on_before"):
            facts.pop(key, None)
        clarify = facts.pop("_clarify", None)
        if clarify:
            out.clarify.append(clarify)
            continue
        ask = facts.pop("_ask", None)
        if ask:
            out.clarify.append(ask)
        for key, value in facts.items():
            name = f"trial.{agent}.{key}"
            if key == "adverse" and isinstance(out.facts.get(name), list):
                value = sorted(set(out.facts[name]) | set(value))
            out.facts[name] = value


def _trial(p: Parser, agent: str, text: str, mt: re.Match, prefix: str, segment: str, ends, out: Parsed) -> dict:
    from .parse import Clarify, queried

    lx = p.lx
    label = p.k.agent_label(agent)
    name = p.lx.button_name[agent]  # button values are messages the reader reads back
    facts: dict[str, Any] = {}
    seg = segment
    # outcomes first: their words ("didn't touch it", "no help") must not read as negation or numbers
    outcome, spans_o = outcome_of(lx, seg)
    for s, e in spans_o:
        seg = mask(seg, s, e)
    pre_outcome, pre_spans = outcome_of(lx, prefix)
    if pre_outcome is not None and lx.off_before.search(prefix):
        pre_outcome = None  # "pain worse off gaba": the pain without it, not its outcome
    masked_prefix = prefix
    for s, e in pre_spans:
        masked_prefix = mask(masked_prefix, s, e)
    source = "segment" if outcome is not None else None
    if outcome is None and pre_outcome is not None:
        outcome, source = pre_outcome, "prefix"
    elif pre_outcome not in (None, outcome) and outcome is not None:
        outcome = "?"
    # "fentanyl patch 12", "lidocaine plaster 2": after a name that is a patch, a bare number is a rate or a count
    details = _details(p, agent, seg, out, facts, counted=bool(PATCH_NAMED.search(mt.group())))
    seg = details.pop("_seg")
    has_details = bool(facts) or outcome is not None
    # status: still taking it, stopped, side effects, maximum tolerated
    current = None
    on = lx.current_before.search(masked_prefix) if lx.current_before else None
    on_before = bool(on)
    if on:  # "not currently on gaba", "isn't on lyrica": not taking it now
        current = "no" if lx.current_negators.search(masked_prefix[: on.start()]) else "yes"
        on_before = current == "yes"
    still = lx.current_after.search(seg) if lx.current_after else None
    if still:  # "gaba not currently"
        current = "no" if lx.current_negators.search(seg[: still.start()]) else "yes"
    halt = lx.stopped.search(seg) if lx.stopped else None
    if halt and still and still.start() <= halt.start() < still.end():
        halt = None  # "not stopped", "never came off": the stop is denied
    stopped = bool(halt) or bool(
        lx.stopped_before
        and lx.stopped_before.search(masked_prefix)
        and not re.search(r"(?:^|\s)on\s*$", masked_prefix.strip() + " ")
        or re.search(r"\b(?:was|previously|no longer)\s+on\s*$", masked_prefix)
    )
    if stopped:
        current = "no"
    quiet = lx.no_adverse_said.search(seg) if lx.no_adverse_said else None
    if quiet:  # "side effects: none": no side effect, and its "none" is no outcome
        seg = mask(seg, quiet.start(), quiet.end(), " ")
    said = [(seg[s:e], keys[0]) for s, e, keys in lx.adverse.finditer(seg) if not lx.scope.negated_before(seg, s)[0]]
    if SAID_OF_NEXT.search(masked_prefix):  # "dizzy on pregab", "nausea from dulox"
        said += [
            (masked_prefix[s:e], k[0])
            for s, e, k in lx.adverse.finditer(masked_prefix)
            if not lx.scope.negated_before(masked_prefix, s)[0]
        ]
    named = any(key != "other" for _, key in said)  # "side effects - dry mouth": the heading is no other effect
    adverse = sorted({key for word, key in said if not (named and word.lower() in lx.adverse_headings)})
    if quiet or (lx.no_adverse and lx.no_adverse.search(segment)):
        adverse = []
        facts["adverse"] = []
    elif adverse:
        facts["adverse"] = adverse
    if outcome is None and adverse and current == "no":
        outcome = "side_effects"  # stopped, and a side effect named: stopped for it
    elif outcome in GOOD and adverse and lx.stopped_for_it:
        cause = lx.stopped_for_it.search(segment)  # "worked but weight gain so stopped": stopped for it
        if cause and any(e <= cause.start() for _, e, _ in lx.adverse.finditer(segment)):
            outcome, current = "side_effects", "no"
    if outcome == "side_effects" and current is None:
        current = "no"
    if current:
        facts["current"] = current
    if lx.max_yes and lx.max_yes.search(segment) or lx.dose_limited.search(segment):
        facts["max_tolerated"] = "yes"
    elif lx.max_no and lx.max_no.search(segment):
        facts["max_tolerated"] = "no"
    # a negation word standing alone after the trial's details is its outcome ("x4 mo nil")
    if outcome is None and (facts.keys() - {"current"}) and lx.bare_negative.search(seg):
        outcome = "no_benefit"
        has_details = True
    if outcome == "?":  # "dulox 60 8 wks, meh": the outcome is asked; the dose and weeks typed are kept
        facts["_ask"] = Clarify(
            lx.clarify["outcome"].format(drug=label), [(lab, f"{name} {val}") for lab, val in _outcome_choices(p)]
        )
        outcome = None
    if outcome:
        facts["outcome"] = outcome
        facts["_from"] = source
    has_details = has_details or bool(facts.keys() - {"current"})
    # negation: forward from a trigger before it (over a list of drugs), or backward right after it
    negated, through = lx.scope.negated_before(text, mt.start(), ends)
    if (
        not negated
        and lx.drug_not_yet_before
        and lx.drug_not_yet_before.search(text, max(0, mt.start() - 40), mt.start())
    ):
        negated = True  # "awaiting botox", "referred for qutenza": not had yet
    if negated and re.search(r"\bno\s+(?:help|benefit|relief|response|effect)\b", prefix):
        negated = False
    after = lx.scope.negated_after(text, mt.end()) or (lx.drug_not_yet and lx.drug_not_yet.match(text, mt.end()))
    if negated and not through and lx.no_longer_after.match(segment):
        return {"tried": "yes", "current": "no"}  # "not on gaba anymore": taken, then stopped
    if negated and not through and lx.not_now_after.match(segment):
        return {"current": "no"}  # "not on gaba at present": whether it was ever tried is asked
    if current == "no" and not stopped and not has_details and on and not negated:
        return {"current": "no"}  # "not currently on gaba": the same
    if lx.answers["skip"] and lx.answers["skip"].match(segment.strip()) and not has_details:
        return {}  # "pregabalin skip": nothing said about it
    said_at = (after.start("trigger") if "trigger" in after.re.groupindex else after.end()) if after else 0
    if after and not negated and not has_details and _tried_list(lx, text, mt.start(), ends, said_at):
        return {"tried": "yes", "outcome": "no_benefit", "_from": "segment", "_bare": True}  # "tried - x, y - nil"
    if (negated or after) and not has_details:
        return {"tried": "no", "_after_neg": bool(after), "_bare": True}
    if negated and has_details and not through:
        return {"_clarify": _tried_or_not(lx, label, name)}
    if queried(text, mt.start()):  # "?gaba": whether it was tried is the question
        if has_details:
            return {"_clarify": _tried_or_not(lx, label, name)}
        return {"tried": "unknown"}
    answer = lx.answers["unknown"].search(segment[:20]) if lx.answers["unknown"] else None
    facts["tried"] = "unknown" if (answer and not has_details) else "yes"
    if not (facts.keys() - {"tried", "outcome", "_from"}) and not answer:
        facts["_bare"] = True
    if on_before and facts.get("current") == "yes":
        facts["_on_before"] = True  # "on" before it: it may reach the next drug of a list
    return facts


def _tried_list(lx: Lexicon, text: str, start: int, ends: dict[int, int], trigger: int) -> bool:
    """Is the drug at `start` in a list led by "tried" ("opioids tried - tramadol, codeine - nil"), with a
    bare negative word after it (the list's outcome)?"""
    if not lx.bare_negative.match(text, trigger):
        return False
    for _ in range(12):  # back over the list's members to its first
        before = [end for end in ends if end <= start and LIST_ONLY.match(text[end:start].replace(BLOCK, " "))]
        if not before:
            break
        start = ends[max(before)]
    return bool(lx.tried_list_lead.search(text[max(0, start - 40) : start]))


def _tried_or_not(lx: Lexicon, label: str, name: str):
    from .parse import Clarify

    return Clarify(
        lx.clarify["tried"].format(drug=label),
        [(f"{label} tried", f"{name} tried"), (f"{label} not tried", f"{name} not tried")],
    )


def _total_or_each(p: Parser, agent: str, amount: float, per_day: int, daily: float):
    return _dose_question(p, agent, "dose_total", n=_mg(amount), k=per_day, total=_mg(daily))


def _daily_total(p: Parser, agent: str, said: str):
    return _dose_question(p, agent, "daily_total", said=said.strip())


def _dose_question(p: Parser, agent: str, key: str, **fill):
    """The lexicon's question `key` about a drug's dose, and its `key`_choices as buttons."""
    from .parse import Clarify

    c = p.lx.clarify
    fill.update(drug=p.k.agent_label(agent), name=p.lx.button_name[agent])
    return Clarify(
        c[key].format(**fill), [(lab.format(**fill), val.format(**fill)) for lab, val in c[f"{key}_choices"]]
    )


def _mg(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value}"


def _outcome_choices(p: Parser) -> list[tuple[str, str]]:
    return [tuple(choice) for choice in p.lx.clarify["outcome_choices"]]


def _corrected(lx: Lexicon, seg: str) -> str:
    """A correction in the segment ("1200 bd sorry meant tds", "600 - sorry, 300 not 600"): the doses
    or frequencies typed before it are hidden when it restates them, and a number it denies ("not
    600") is hidden too."""
    fix = lx.correction.search(seg) if lx.correction else None
    if fix is None:
        return seg
    head, tail = seg[: fix.start()], seg[fix.end() :]
    tail = DENIED_NUMBER.sub(lambda m: " " * len(m.group()), tail)

    def blank(m: re.Match) -> str:
        return " " * len(m.group())

    for rx in (lx.duration_re, lx.frequency_re, lx.dose_re):
        said = rx.search(lx.duration_re.sub(blank, tail) if rx is lx.dose_re else tail) if rx else None
        if said is None:
            continue
        if rx is lx.dose_re:  # a dose is a number that is no duration ("x 3/12, sorry 6/12" restates no dose)
            kept = lx.duration_re.sub(blank, head)
            for m in reversed(list(rx.finditer(kept))):
                head = head[: m.start()] + blank(m) + head[m.end() :]
        else:
            head = rx.sub(blank, head)
    return head + " " * (fix.end() - fix.start()) + tail


def _details(p: Parser, agent: str, seg: str, out: Parsed, facts: dict, counted: bool = False) -> dict:
    """Dose, doses per day, weeks and weeks at the maximum from a drug's segment."""
    lx = p.lx
    seg = _corrected(lx, seg)
    prefix = f"trial.{agent}."
    # "600/600/900" first: its "75/7" is no number of days
    scheduled = False
    sched = lx.schedule.match(seg) or lx.timed_doses.search(seg)
    if sched:  # the day's doses one by one ("600/600/900", "300 mane, 600 nocte"): their sum
        parts = [float(n) for n in re.findall(r"\d+", sched.groupdict().get("doses") or sched.group())]
        spec = p.k.agents[agent]
        if spec.get("implausible_below_mg_day", 0) <= sum(parts) <= spec["implausible_above_mg_day"]:
            facts["dose"], facts["doses_per_day"] = _num(str(sum(parts))), len(parts)
            seg, scheduled = mask(seg, sched.start(), sched.end(), " "), True
    # durations: the first is the total; one after "incl"/"with" is part of it, never added;
    # one followed by "at max" is the weeks at the highest dose; "then" adds a further stretch
    total = None
    last_end = 0
    single = lx.k.agents[agent].get("single_application", False)  # "qutenza 3 wks ago": watched 3 weeks
    for wear in list(lx.not_duration.finditer(seg)) if lx.not_duration else []:
        seg = mask(seg, wear.start(), wear.end(), " ")
    for _, felt_end, _ in list(lx.adverse.finditer(seg)):  # "nausea first 2 wks": how long it was felt
        said = lx.effect_lasted.match(seg, felt_end)
        if said:
            seg = mask(seg, said.start(), said.end(), " ")
    for am in list(lx.at_max_re.finditer(seg)):
        after = re.match(r"(?:\s*(?:tolerated|tolerable|dose))*\s*(?:for|x)?\s*", seg[am.end() :])
        dm = lx.duration_re.match(seg, am.end() + after.end())
        if dm:
            facts["weeks_at_max"] = round(_num(dm.group("n")) * lx.duration_units[dm.group("u")], 1)
            seg = mask(seg, dm.start(), dm.end(), " ")
    durations = list(lx.duration_re.finditer(seg))
    # "started 4 wks ago" is how long, unless another "ago" says when it ended ("started 3 yrs ago,
    # stopped 2 yrs ago": not 3 years)
    agos = sum(1 for dm in durations if lx.duration_when.match(seg, dm.end()))
    for dm in durations:
        ahead = seg[max(0, dm.start() - 30) : dm.start()]
        if (
            lx.interval_after.match(seg, dm.end())  # "6 months apart": how often
            or lx.interval_before.search(ahead)  # "every 3 months"
            or lx.not_trial_before.search(ahead)  # "review in 4 weeks", "pain for 2 years"
            or lx.duration_at_most.search(ahead)  # "less than 4 weeks": at most that long, never stored
        ):  # not how long it was taken
            seg = mask(seg, dm.start(), dm.end(), " ")
            continue
        started = agos == 1 and lx.started_before.search(seg, max(0, dm.start() - 25), dm.start())
        if lx.duration_when.match(seg, dm.end()) and not single and not started:  # "stopped 2 yrs ago": when
            seg = mask(seg, dm.start(), dm.end(), " ")
            continue
        weeks = round(_num(dm.group("n")) * lx.duration_units[dm.group("u")], 1)
        at_max = lx.at_max_re.match(seg, dm.end())
        at_dose = _at_highest_dose(lx, seg, dm.end()) if total is not None and not at_max else None
        before = seg[last_end : dm.start()]
        if at_dose:  # "10/52 incl 4/52 at 75": 4 weeks at the highest dose; 75 is still read as the dose
            facts["weeks_at_max"] = weeks
            seg = mask(seg, dm.start(), at_dose.start("n"), " ")
        elif at_max:
            facts["weeks_at_max"] = weeks
            seg = mask(seg, dm.start(), at_max.end(), " ")
            if total is not None and lx.sequence and lx.sequence.search(before):
                total = round(total + weeks, 1)  # "over 6 wks, then 4 wks at max": 10 weeks in all
        elif total is not None and lx.part_of.search(before):
            seg = mask(seg, dm.start(), dm.end(), " ")
        elif total is not None and lx.sequence and lx.sequence.search(before):
            total = round(total + weeks, 1)
            seg = mask(seg, dm.start(), dm.end(), " ")
        elif total is None:
            total = weeks
            seg = mask(seg, dm.start(), dm.end(), " ")
        else:
            total = max(total, weeks)
            seg = mask(seg, dm.start(), dm.end(), " ")
        last_end = dm.end()
    # "2 at max" with no unit: weeks ("2-3 at max": at least 2)
    for am in list(lx.at_max_re.finditer(seg)):
        num = UNITLESS_WEEKS.search(seg[: am.start()])
        if num and "weeks_at_max" not in facts:
            facts["weeks_at_max"] = _num(num.group(1))
            seg = mask(seg, num.start(), am.end(), " ")
    if total is not None:
        facts["weeks"] = total
    if scheduled:
        return _sane_weeks(p, prefix, seg, out, facts)
    tablets = lx.tablets.search(seg) or COUNT_AFTER_STRENGTH.search(seg)
    if tablets:  # "2 x 300mg tds": the day's total is asked, no dose stored
        out.clarify.append(_daily_total(p, agent, tablets.group()))
        seg = lx.frequency_re.sub(lambda m: " " * len(m.group()), seg) if lx.frequency_re else seg
        return _sane_weeks(p, prefix, mask(seg, tablets.start(), tablets.end(), " "), out, facts)
    # frequency: "tid", "twice a day", "x3/day", "3x daily"
    per_day = None
    divided = False  # "1800 mg in 3 doses": the number is the daily total, not one dose
    if lx.divided_re:
        vm = lx.divided_re.search(seg)
        if vm:
            per_day, divided = lx.divided[vm.group()], True
            seg = mask(seg, vm.start(), vm.end(), " ")
    if per_day is None and lx.frequency_re:
        said = list(lx.frequency_re.finditer(seg))
        # "300 od -> bd -> tds": the frequency it was raised to, the last of a run joined by "->"/"then"
        fm = said[0] if said else None
        for later in said[1:]:
            if _ends_with(RAISED_TO, seg, later.start()) and not re.search(r"\d", seg[fm.end() : later.start()]):
                fm = later
            else:
                break
        if fm:
            per_day = lx.frequency[fm.group()]
            seg = mask(seg, said[0].start(), fm.end(), " ")
    tm = None if divided else lx.times_re.search(seg)
    if tm:
        per_day = int(tm.group("a") or tm.group("b") or tm.group("c"))
        seg = mask(seg, tm.start(), tm.end(), " ")
    if single:  # a patch or an injection applied once ("botox 100 units", "qutenza 1 patch"): no mg/day
        return _sane_weeks(p, prefix, seg, out, facts)
    # dose: the first number left, or the one a dose was raised to ("30 -> 60")
    doses = [
        dm
        for dm in lx.dose_re.finditer(seg)
        if not (
            seg[dm.end() : dm.end() + 1] == "%"
            or seg[dm.start() - 1 : dm.start()] in "%"
            or STRENGTH_OR_RATE.match(seg, dm.end())
            or seg[dm.start() - 1 : dm.start()] == "/"
            or (YEAR.fullmatch(dm.group("n")) and not dm.group("u") and _ends_with(SINCE, seg, dm.start()))
            or (not dm.group("u") and lx.ordinal_before and _ends_with(lx.ordinal_before, seg, dm.start()))
            or lx.dose_at_most.search(seg[max(0, dm.start() - 20) : dm.start()])  # "less than 300": a bound
            or (counted and not dm.group("u") and not seg[: dm.start()].strip(" :,-\x00"))
        )
    ]
    # a number right after a word no dose is led by is that word's value ("creat 150"), never the dose
    labelled = [(dm, lead) for dm in doses if (lead := _lead_of_another(lx, seg, dm.start()))]
    if labelled:
        others = {dm.start() for dm, _ in labelled}
        doses = [dm for dm in doses if dm.start() not in others]
    if not doses and labelled:
        dm, lead = labelled[0]
        if lead.group("w").rstrip(".") not in lx.measures:  # "effexor xr 150": the dose? asked
            said = seg[lead.start("w") : dm.end()].strip()
            number = f"{dm.group('n')} {dm.group('u') or 'mg'}" + (f" x{per_day}/day" if per_day else "")
            out.clarify.append(_dose_question(p, agent, "labelled_dose", said=said, number=number))
    raised = [
        dm
        for dm in doses[1:]
        if _ends_with(RAISED_TO, seg, dm.start())
        and not lx.lowered_to.search(seg[max(0, dm.start() - 30) : dm.start()])
    ]
    as_needed = lx.as_needed.search(seg) if lx.as_needed else None
    for dm in raised[-1:] or doses[:1]:
        own = lx.frequency_re.match(seg, SPACES.match(seg, dm.end()).end()) if lx.frequency_re and not divided else None
        if own:  # "25 od then 25 bd then 50 bd": the frequency said with the dose reached
            per_day = lx.frequency[own.group()]
        if as_needed and per_day is None and not (dm.group("per") or divided):
            # "tramadol 50 prn": one dose taken as needed; the day's total is asked, never assumed
            out.clarify.append(_daily_total(p, agent, f"{dm.group().strip()} {as_needed.group()}"))
            continue
        amount = _in_mg(lx, dm)
        # "120 (60 bd)": the number in brackets after it, times the frequency, makes it - the day's total
        parts = [
            _in_mg(lx, o)
            for o in doses
            if o.start() > dm.end() and re.fullmatch(r"[\s:,]*\(\s*", seg[dm.end() : o.start()])
        ]
        total_said = bool(per_day) and any(abs(part * per_day - amount) < 1e-6 for part in parts)
        daily = amount if (dm.group("per") or divided or total_said) else amount * (per_day or 1)
        daily = round(daily, 3)
        spec = p.k.agents[agent]
        if daily != amount and amount <= p.max_daily.get(agent, daily) < daily:
            # "gaba 2400 tds": each dose times the frequency is above the drug's maximum daily
            # dose, while the number alone is not - likely the day's total: asked, never multiplied
            out.clarify.append(_total_or_each(p, agent, amount, per_day, daily))
            continue
        if not spec.get("implausible_below_mg_day", 0) <= daily <= spec["implausible_above_mg_day"] or daily <= 0:
            out.questioned.append(f"{prefix}dose:{dm.group('n')}{dm.group('u') or ''}")
        else:
            facts["dose"] = int(daily) if float(daily).is_integer() else daily
            if per_day and not dm.group("per"):
                facts["doses_per_day"] = per_day
    if per_day and "doses_per_day" not in facts and "dose" in facts:
        facts["doses_per_day"] = per_day
    return _sane_weeks(p, prefix, seg, out, facts)


# The word right before a number (over spaces, ':', '=', '-', '('), and the one before it
LEAD_WORD = re.compile(r"(?:(?<![a-z])(?P<w2>[a-z][a-z.']*)\s+)?(?<![a-z])(?P<w>[a-z][a-z.']*)[\s:=(\-]*$")


def _in_mg(lx: Lexicon, dm: re.Match) -> float:
    """A dose match's number in mg (its unit, mg when none is typed)."""
    return _num(dm.group("n")) * lx.units.get(dm.group("u") or "mg", 1)


def _lead_of_another(lx: Lexicon, seg: str, at: int) -> re.Match | None:
    """The word right before the number at `at` when no dose is led by it ("creat 150", "hb 120",
    "vit d 45" beside a drug): the number is then that word's value, never the drug's dose."""
    lead = LEAD_WORD.search(seg, max(0, at - 40), at)
    if lead is None:
        return None
    word = lead.group("w").rstrip(".")
    two = f"{lead.group('w2')} {word}" if lead.group("w2") else None
    return lead if word not in lx.dose_lead and two not in lx.dose_lead else None


def _at_highest_dose(lx: Lexicon, seg: str, at: int) -> re.Match | None:
    """ "4 wks at 75" where 75 is the highest dose the segment names: the weeks at the highest dose."""
    said = lx.at_dose.match(seg, at)
    if said is None:
        return None
    others = [_num(m.group("n")) for m in lx.dose_re.finditer(seg) if m.start() != said.start("n")]
    return said if all(_num(said.group("n")) >= n for n in others) else None


def _sane_weeks(p: Parser, prefix: str, seg: str, out: Parsed, facts: dict) -> dict:
    """A duration outside the sanity range is questioned, never stored."""
    weeks_limit = p.sanity["weeks"][1]
    for key in ("weeks", "weeks_at_max"):
        if key in facts and not (0 < facts[key] <= weeks_limit):
            out.questioned.append(f"{prefix}{key}:{facts.pop(key)}")
    return {"_seg": seg}


def _ends_with(word_at_end: re.Pattern, text: str, end: int) -> bool:
    """`word_at_end` (a short word, spaces, the end) matched against text[:end], looking only at its
    last characters: searching the whole text before every number made a long message with
    thousands of numbers quadratic (minutes for 20,000 characters). Same answer either way."""
    stop = end
    while stop > 0 and text[stop - 1].isspace():  # what the pattern's trailing \s* would take
        stop -= 1
    # The words are at most 9 characters; \b still sees the character before the window.
    return word_at_end.search(text, max(0, stop - 16), stop) is not None


def _num(s: str) -> float:
    v = float(s.replace(",", "."))
    return int(v) if v.is_integer() else v
