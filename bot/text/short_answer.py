"""A short reply read as the answer to the open question ("yes", "600 tid", "normal", "35").

A reply is taken as the answer only when it fits the question: a number for a number, a dose
for a dose, yes/no/unknown or the drug's details for a yes/no question about a drug. A reply
that names something else ("a1c 86" while the TCA question is open) is free text, never a TCA
dose; one that fits nothing is asked about. The answer carries the question it answered, so the
echo can say so ("Noted (gabapentin dose): 1800 mg/day").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from neuroladder.rules.data import Knowledge

from .parse import Clarify, Parsed, Parser, normalise

if TYPE_CHECKING:  # the intake's questions are shown and read here, not decided: no import at run time
    from neuroladder.bot.dialogue.intake import Question

NUMBER_ONLY = re.compile(
    r"\s*[<>~=]?\s*(-?\d+(?:[.,]\d+)?)\s*(?:ml/min(?:/1\.73\s*m2)?|mls?/min|ml|years?|yrs?|y|yo)?\s*"
)
BARE_NUMBER = re.compile(r"\s*\d+(?:[.,]\d+)?\s*")  # a number with no unit and no word
WEEKS_ONLY = re.compile(r"\s*(-?\d+(?:[.,]\d+)?)\s*(?:weeks?|wks?|w)?\s*")
# Words that may appear in any short reply without naming another subject.
GLUE = re.compile(
    r"[\s,.;:!?()\-+/&x]+|\b(?:a|an|the|and|or|for|of|was|is|it|at|to|in|on|per|day|daily|total|mg|g|"
    r"mcg|ug|max|dose|doses|divided|times|once|twice|then|about|approx|around|~|only|just|but|she|he|"
    r"pt|patient|had|has|tried|yes|no|not|never|none|nil|unknown|with|from|up|so|too|very|v|due|because|"
    r"after|since|still|now|ok|okay)\b"
)


def read_turn(parser: Parser, knowledge: Knowledge, q: Question | None, text: str) -> Parsed:
    """A message as the consult reads it: the open question's own choice (pressed or typed) is its
    answer, never re-read as free text; then free text; a short reply that states nothing by
    itself is read as the answer to the open question q, when it fits q."""
    own = q.value_of(text) if q is not None else None
    if own is not None:
        return Parsed(facts=dict(own) if isinstance(own, dict) else {q.slot: own}, answered=q.label)
    parsed = parser.parse(text, subject=_drug_asked(parser, q, text))  # "no, c/i": the drug asked about
    if parsed.queries and not parsed.facts:
        return parsed
    if q is not None and q.named_together and q.slot not in parsed.facts:
        _named_together(parser, q, text, parsed)
    if q is not None and parsed.facts and q.slot not in parsed.facts:
        typed = _typed_choice(parser, q, text)  # "after a fall - fracture": falls, and the cause asked
        if typed is not None:
            parsed.facts[q.slot] = typed
    if (
        q is not None
        and q.answer == "yesno"
        and not q.slot.endswith(".tried")
        and q.slot not in parsed.facts
        and parsed.answer is None  # ("none that I know of" is one answer, not "none" and more)
        and parser.lx.leading_answer.fullmatch(text.lower())
    ):
        # "yes on gaba" under "any weakness since starting gabapentin?": the answer leads, and what
        # follows it is read too (it named a drug, so it would otherwise answer nothing asked)
        led = read(parser, knowledge, q, text, Parsed())
        led.facts = {**parsed.facts, **led.facts}
        led.clarify, led.questioned = parsed.clarify + led.clarify, parsed.questioned + led.questioned
        return led
    if not (parsed.facts or parsed.ambiguous or parsed.clarify or parsed.questioned) and q is not None:
        # ("capsaicin": ask, never guess; "1e309": questioned, never an answer to anything)
        parsed = read(parser, knowledge, q, text, parsed)
    return parsed


def _drug_asked(parser: Parser, q: Question | None, text: str) -> str | None:
    """The drug the open question is about, when the reply names no drug or class of its own: a
    contraindication in it ("no, contraindicated") is then said of that drug."""
    if q is None or not q.slot.startswith("trial."):
        return None
    low = normalise(text)
    if parser.lx.drug_re.search(low) or any(rx and rx.search(low) for rx in parser.lx.class_words.values()):
        return None
    return q.slot.split(".")[1]


def read(parser: Parser, knowledge: Knowledge, q: Question, text: str, parsed: Parsed) -> Parsed:
    """The reply as the answer to q, or `parsed` unchanged when it does not fit q."""
    got = _read(parser, knowledge, q, text, parsed)
    if got is not parsed and (got.facts or got.questioned):
        got.answered = q.label
    return got


def _read(parser: Parser, knowledge: Knowledge, q: Question, text: str, parsed: Parsed) -> Parsed:
    sanity = knowledge.thresholds["sanity"]
    if parsed.answer == "no" and q.answer in ("dose", "number", "weeks"):
        # "none" to "how many weeks at the highest dose?" is not "the drug was not tried": read
        # with the subject it would store the opposite of what was meant. Left unknown.
        return Parsed(answer="skip")
    if q.answer == "yesno" and not q.slot.endswith(".tried") and parser.lx.answer_then_unsure.fullmatch(text.lower()):
        return Parsed(facts={q.slot: "unknown"})  # "no, not examined" under a red flag: not known
    if q.answer == "yesno" and not q.slot.endswith(".tried") and parsed.answer in ("yes", "no", "unknown"):
        return Parsed(facts={q.slot: parsed.answer})  # a red flag, falls, weakness: the slot itself
    if q.answer == "yesno" and q.counts:
        count = parser.lx.count_reply.fullmatch(text.lower())
        if count:  # "twice", "1 last month" under "any falls?": it happened ("0": it did not)
            n = count.group("n")
            return Parsed(facts={q.slot: "no" if n.isdigit() and not n.strip("0") else "yes"})  # (no int(): any length)
    if q.answer == "yesno" and not q.slot.endswith(".tried"):
        lead = parser.lx.leading_answer.fullmatch(text.lower())
        if lead:  # "no, only 10mg": the slot answered, the rest read with the question's subject
            rest = parser.parse(f"{q.subject} {lead.group('rest')}")
            alone = _alone(parser, q.subject)
            facts = {k: v for k, v in rest.facts.items() if alone.get(k) != v and k != q.slot}
            facts[q.slot] = parser.lx.leading_answers[lead.group("word")]
            return Parsed(facts=facts, clarify=rest.clarify, questioned=rest.questioned)
    if parsed.answer in ("unknown", "skip") and q.answer in ("dose", "number", "weeks", "outcome"):
        # "unknown" to a detail question leaves that detail unknown: read with the subject
        # ("gabapentin unknown") it would re-answer whether the drug was tried at all.
        if parsed.answer == "unknown" and q.answer == "outcome":
            return Parsed(facts={q.slot: "unknown"})
        return Parsed(answer="skip")
    said = (
        parser.lx.outcome_replies.get(re.sub(r"[^\w' ]+", " ", text.lower()).strip()) if q.answer == "outcome" else None
    )
    if said:  # "a bit", "not really" under "what was the effect?"
        return Parsed(facts={q.slot: said, _given(q): "yes"})
    typed = _typed_choice(parser, q, text) if not parsed.facts else None
    if typed is not None:
        return Parsed(facts={q.slot: typed})
    if parsed.answer == "no" and q.answer == "outcome":
        return Parsed(facts={q.slot: "no_benefit", _given(q): "yes"})  # "what was the effect?" - "nil"
    if q.slot.endswith(".doses_per_day") and parser.lx.frequency_re:
        said = parser.lx.frequency_re.fullmatch(re.sub(r"[^\w' ]+", " ", text.lower()).strip())
        if said:  # "tds" under "how many doses a day?"
            return Parsed(facts={q.slot: parser.lx.frequency[said.group()], _given(q): "yes"})
    if q.answer in ("number", "weeks"):
        mt = (NUMBER_ONLY if q.answer == "number" else WEEKS_ONLY).fullmatch(text.lower())
        if mt:
            value = float(mt.group(1).replace(",", "."))
            value = int(value) if value.is_integer() else value
            if q.answer == "number":
                lo, hi = sanity.get(q.slot) or sanity[q.slot.rsplit(".", 1)[-1]]  # trial.x.doses_per_day
                if not lo <= value <= hi:
                    # read with its subject, a number may be in another unit the reader knows
                    # ("64" under "HbA1c?": mmol/mol); else it is questioned, never stored
                    retry = parser.parse(f"{q.subject} {text.strip()}")
                    if q.slot in retry.facts and not retry.clarify:
                        return Parsed(facts={q.slot: retry.facts[q.slot]})
                    return Parsed(questioned=[f"{q.slot}:{text.strip()}"])
                return Parsed(facts={q.slot: value})
            if 0 < value <= sanity["weeks"][1]:
                return Parsed(facts={q.slot: value})
            return Parsed(questioned=[f"{q.slot}:{text.strip()}"])
        if q.answer == "weeks":
            retry = parser.parse(f"{q.subject} for {text}")
            got = [v for k, v in retry.facts.items() if k.endswith(".weeks")]
            if got and _fits(parser, q, text):
                # "no benefit after 3 months": the duration asked, and the rest said with it
                rest = {k: v for k, v in retry.facts.items() if not k.endswith((".weeks", ".weeks_at_max"))}
                return Parsed(facts={**rest, q.slot: got[0]})
    if q.answer in ("yesno", "outcome") and q.slot.startswith("trial.") and BARE_NUMBER.fullmatch(text):
        # "80" under "has a TCA been tried?": a dose, or a late answer to an earlier question? ask
        words, number = parser.lx.clarify, text.strip()
        drug = knowledge.agent_label(q.slot.split(".")[1])
        yes = words["bare_number_yes"].format(text=number, subject=drug)
        ask = words["bare_number"].format(text=number, subject=drug)
        return Parsed(
            clarify=[Clarify(ask, [(yes, words["bare_number_value"].format(text=number, subject=q.subject))])]
        )
    if parsed.names_a_class:  # "no other SNRI" answers nothing about the drug asked
        return parsed
    if parsed.answer == "no" and q.answer == "yesno":  # "hasn't", "didn't" under "has X been tried?"
        return Parsed(facts={q.slot: "no"})
    retry = parser.parse(f"{q.subject} {text}")
    if not _fits(parser, q, text):
        if parsed.facts or q.answer != "dose" or not re.search(r"\d", text):
            return parsed
        # "ldl 86" under the dose question: a number about something else? ask, store nothing
        ask = parser.lx.clarify["reply_fit"].format(text=text.strip(), question=q.label)
        return Parsed(clarify=[Clarify(ask, [(f"Yes: {q.label}", f"{q.subject} {text.strip()}")])])
    if retry.clarify:
        return retry
    # The subject alone ("gabapentin") reads as "tried" (or "present"): a reply that adds
    # nothing to what the subject alone says ("x&y<z>...") is not an answer - unless it is a
    # plain yes.
    alone = _alone(parser, q.subject)
    added = {k: v for k, v in retry.facts.items() if alone.get(k) != v}
    if added or retry.questioned or (retry.facts and parsed.answer == "yes"):
        return retry
    lead = parser.lx.leading_answer.fullmatch(text.lower())
    if lead and parser.lx.leading_answers[lead.group("word")] == "yes" and retry.facts:
        # "yeah for a bit": a yes, when the rest read alone with the subject says nothing other
        # than the subject does ("yes but didn't take it" says it was not taken: not read)
        rest = parser.parse(f"{q.subject} {lead.group('rest')}")
        if rest.facts == alone and not (rest.clarify or rest.questioned or rest.ambiguous):
            return retry
    if parsed.answer == "unknown" and q.answer in ("choice", "yesno", "outcome", "flags"):
        if q.answer == "flags":
            return parser.parse("red flags unknown")
        return Parsed(facts={q.slot: "unknown"})
    if parsed.answer == "unknown":
        return Parsed(answer="skip")
    return parsed


def _typed_choice(parser: Parser, q: Question, text: str) -> str | None:
    """The value a question's own reply words give ("surgery" under "is there a known cause?":
    post-surgical; intake.toml `replies`), when they give exactly one, not negated, not hedged."""
    if not q.replies:
        return None
    low = text.lower()
    unsure = parser.lx.answers["unknown"]
    if unsure and unsure.search(low):  # "trauma? not sure"
        return None
    hits = {
        value
        for value, rx in q.replies
        for m in rx.finditer(low)
        if not (parser.lx.scope.negated_before(low, m.start())[0] or parser.lx.hedged.search(low[: m.start()], 40))
    }
    return hits.pop() if len(hits) == 1 else None


def _named_together(parser: Parser, q: Question, text: str, parsed: Parsed) -> None:
    """Under "was a combination tried?" (intake.toml `named_together`), two drugs named as tried
    ("gaba + dulox") are that combination - unless the reply says one came after the other."""
    agents = sorted(
        {name.split(".")[1] for name, value in parsed.facts.items() if name.endswith(".tried") and value == "yes"}
    )
    if (
        len(agents) >= 2
        and parser.seed_pair(agents)  # ("dulox and ami", "tramadol + pregab": not the seed's combination)
        and not (parser.lx.sequence and parser.lx.sequence.search(text.lower()))
    ):
        parsed.facts.update({q.slot: "yes", f"{q.slot}.agents": agents})


def _given(q: Question) -> str:
    """The fact an outcome question presumes: trial.x.outcome -> trial.x.tried; the combination is its
    own yes/no."""
    subject = q.slot.rsplit(".", 1)[0]
    return subject + ".tried" if subject.startswith("trial.") else subject


_subjects: dict[tuple[int, str], dict] = {}


def _alone(parser: Parser, subject: str) -> dict:
    """What a question's subject alone reads as ("gabapentin": tried), once per process."""
    key = (id(parser), subject)
    if key not in _subjects:
        _subjects[key] = dict(parser.parse(subject).facts)
    return _subjects[key]


def _fits(parser: Parser, q: Question, text: str) -> bool:
    """Does the reply say nothing but what an answer to q may say? A drug, a topic or a number
    with another subject named in it means it is about something else."""
    lx = parser.lx
    low = text.lower()
    if lx.drug_re.search(low):
        names = {lx.drug_names[m.group()] for m in lx.drug_re.finditer(low)}
        subject = {lx.drug_names.get(q.subject)}
        if names - subject:
            return False
    for topic in () if lx.subjects_any.absent(low) else lx.topics:
        if (
            topic.subject
            and topic.subject.search(low)
            and not (topic.subject.search(q.subject) or topic.fact == q.slot)
        ):
            return False
    if not lx.numbers_any.absent(low) and any(rx.search(low) for rxs in lx.number_res.values() for rx in rxs):
        return False
    if q.answer == "dose":
        rest = GLUE.sub(" ", _strip_known(parser, low))
        return bool(re.search(r"\d", low)) and not re.search(r"[a-z]{2,}", rest)
    return True


def _strip_known(parser: Parser, low: str) -> str:
    """The reply without the words a trial's details are made of (doses, frequencies, durations,
    outcomes, side effects, status): what is left names something else."""
    lx = parser.lx
    for rx in (
        lx.frequency_re,
        lx.divided_re,
        lx.duration_re,
        lx.times_re,
        lx.outcomes.rx,
        lx.adverse.rx,
        lx.no_adverse,
        lx.stopped,
        lx.current_after,
        lx.max_yes,
        lx.max_no,
        lx.at_max_re,
    ):
        if rx:
            low = rx.sub(" ", low)
    low = re.sub(r"-?\d+(?:[.,]\d+)?", " ", low)
    return low
