"""The identifier guard: patient identifiers never reach the log.

NeuroLadder needs no names, dates of birth, contact details or record numbers, but clinicians
type fast and sometimes paste them. Every inbound message passes through `guard()` before it
is stored or parsed: text that cannot be stored (lone surrogates, control characters, runaway
length) is cleaned, and spans that look like identifiers are replaced by a label such as
"[redacted email]". The reply then carries `WARNING` so the clinician knows what happened.

The patterns are tuned to leave clinical numbers alone: doses ("2400", "300 mg", "1.2 g/day"),
titrations ("300 600 900 1200 mg"), durations ("x 3/12"), ages ("78 yo"), eGFR and "B12".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_CHARS = (
    20_000  # Telegram's limit is 4096; Matrix allows far more. The parser reads all of it; the reply says what was cut.
)
WARNING = (
    "This message looked like it held patient identifiers ({kinds}). I stored it with those parts "
    "removed and read only the clinical facts. Please leave names, dates of birth, contact details "
    "and record numbers out: NeuroLadder needs none of them."
)

_UNIT_AFTER = r"(?!\s{0,3}(?:mg|mcg|µg|ug|g\b|gm|ml|iu|units?|%|/|x\b|weeks?|wks?|months?|mo\b|days?|years?|yrs?))"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ID_WORDS = (
    r"(?:mrn|m\.r\.n\.?|nhs(?:\s{0,3}(?:no\.?|number|#))?|chi(?:\s{0,3}(?:no\.?|number))?"
    r"|hosp(?:ital|\.)?\s{0,3}(?:no\.?|number|num|#|id)|record\s{0,3}(?:no\.?|number|id)|patient\s{0,3}(?:no\.?|number|id)"
    r"|pt\s{0,3}(?:no\.?|id|#)|case\s{0,3}(?:no\.?|number)|unit\s{0,3}(?:no\.?|number)|urn|pid|ssn|social\s{1,3}security(?:\s{0,3}(?:no\.?|number))?"
    r"|medicare(?:\s{0,3}(?:no\.?|number))?|insurance\s{0,3}(?:no\.?|number|id))"
)
# words that end a name typed after "name:" ("name: john smith gabapentin 300" keeps the drug)
_NAME_STOP_WORDS = {
    "aged",
    "age",
    "dob",
    "born",
    "is",
    "has",
    "had",
    "with",
    "on",
    "tried",
    "male",
    "female",
    "man",
    "woman",
    "yo",
    "years",
    "y",
    "pain",
    "and",
    "but",
    "no",
    "not",
    "never",
    "mrn",
    "nhs",
    "tel",
    "phone",
    "was",
    "who",
    "for",
    "since",
    "now",
    "still",
    "the",
    "a",
    "an",
    "in",
    "at",
    "of",
    "to",
}
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_SEP = r"[\s/.,\-]{0,3}"
# "12/03/1954", "12-Mar-1954", "3rd of March 1954", "March 3, 1954", "1954-03-12"
_DATE = (
    r"(?:\d{1,4}\s{0,2}[/.\-]\s{0,2}\d{1,2}(?:\s{0,2}[/.\-]\s{0,2}\d{1,4})?(?!\d)"
    r"|" + _DAY + r"(?:\s{1,3}of)?" + _SEP + _MONTHS + r"\.?" + _SEP + r"\d{2,4}"
    r"|" + _MONTHS + r"\.?" + _SEP + _DAY + r",?" + _SEP + r"\d{2,4}|\d{4})"
)
# UK postcode, any case. Inward letters never include C I K M O V; ordinals ("b12 2nd") and
# clinical words ("dm2", "b12") are excluded in code, so lower-case notes keep their meaning.
_POSTCODE = r"(?<![\w/])(?P<out>[a-z]{1,2}\d[a-z\d]?)\s?(?P<in>\d[abd-hjlnp-uw-z]{2})(?![\w/])"
_STREET = (
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|close|way|court|ct|place|crescent|terrace|gardens|"
    r"grove|square|sq|boulevard|blvd|row|mews|walk|hill|park)\b"
)

# (label, pattern). Order matters: the first pattern that claims a span wins. Every repeat is
# bounded: one message must never cost more than a few milliseconds whatever it holds.
PATTERNS: list[tuple[str, re.Pattern]] = [
    # a bot token pasted into a chat ("123456789:AA..."): a secret, not a clinical fact
    ("secret", re.compile(r"(?<![\w-])\d{3,20}:[A-Za-z0-9_-]{30,100}(?![\w-])")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.I)),
    (
        "date of birth",
        re.compile(
            r"\b(?:d\.?o\.?b\.?|date\s{1,3}of\s{1,3}birth|birth\s{0,3}date|born(?:\s{1,3}on)?)\s{0,3}[:=\-]?\s{0,3}"
            + _DATE,
            re.I,
        ),
    ),
    # identifier words followed by a number-bearing token: "MRN 12345", "MRN A-12345", "NHS no: 943 476 5919",
    # "hosp no 654321"
    (
        "record number",
        re.compile(
            r"\b" + _ID_WORDS + r"\s{0,3}[:#=\-]?\s{0,3}[A-Z]{0,3}[\-/]?\d[\d\-/]{0,20}"
            r"(?:\s\d{3,4}\b" + _UNIT_AFTER + r"){0,2}[A-Z]?\b",
            re.I,
        ),
    ),
    ("social security number", re.compile(r"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])")),
    (
        "date",
        re.compile(
            r"(?<![\d./-])(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|(?:19|20)\d{2}[/.\-]\d{1,2}[/.\-]\d{1,2})"
            r"(?![\d./-])"
        ),
    ),
    (
        "date",
        re.compile(
            r"\b"
            + _DAY
            + r"(?:\s{1,3}of)?"
            + _SEP
            + _MONTHS
            + r"\.?"
            + _SEP
            + r"(?:19|20)\d{2}\b|\b"
            + _MONTHS
            + r"\.?"
            + _SEP
            + _DAY
            + r",?"
            + _SEP
            + r"(?:19|20)\d{2}\b",
            re.I,
        ),
    ),
    # "+44 20 7946 0958": a bounded run after "+" (an unbounded nested repeat backtracked for seconds)
    ("phone number", re.compile(r"(?<![\w+])\+\d{1,3}[\s.\-]?\(?\d[\d\s().\-]{4,18}\d(?![\w(])")),
    (
        "phone number",
        re.compile(
            r"\b(?:tel|phone|mobile|mob|cell|ph)\.?\s{0,3}(?:no\.?|number|#)?\s{0,3}[:=\-]?\s{0,3}"
            r"\+?[\d(][\d\s().\-]{5,20}\d\b",
            re.I,
        ),
    ),
    # "(555) 123-4567", "555-123-4567", "07700 900123", "07700-900-123", "020 7946 0018", "0123 456 789"
    (
        "phone number",
        re.compile(
            r"(?<![\w.])(?:\(\d{3}\)\s?\d{3}[\s.\-]\d{4}|\d{3}[.\-]\d{3}[.\-]\d{4}"
            r"|0\d{2}[\s\-]?\d{4}[\s\-]?\d{4}|0\d{3,4}[\s\-]?\d{3}[\s\-]?\d{3,4})(?![\w.])"
        ),
    ),
    (
        "patient name",
        re.compile(
            r"\b(?:(?:patient|pt)(?:'?s)?\s{1,3}name|name)\s{0,3}(?::|=|-|\bis\b)[ \t]{0,3}"
            r"(?P<words>[^\W\d_][\w'\-]{0,40}(?:[ \t]{1,3}[^\W\d_][\w'\-]{0,40}){0,2})",
            re.I,
        ),
    ),
    (
        "patient name",
        re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s{1,3}[A-Z][a-zA-Z'\-]{1,40}(?:\s{1,3}[A-Z][a-zA-Z'\-]{1,40})?"),
    ),
    # "pt John Smith", "patient Ann Lee": two capitalised words after pt/patient
    (
        "patient name",
        re.compile(r"\b(?:[Pp]t|[Pp]atient)\.?\s{1,3}(?P<words>[A-Z][a-z'\-]{1,40}[ \t]{1,3}[A-Z][a-z'\-]{1,40})"),
    ),
    # "221B Baker Street", "12 Acacia Avenue"
    ("address", re.compile(r"\b\d{1,4}[A-Za-z]?,?\s{1,3}(?:[A-Z][a-z'\-]{1,30}\s{1,3}){1,3}" + _STREET, re.I)),
    # a run of 7+ digits that is not a dose ("record numbers"); NHS-shaped "943 476 5919" with a valid check digit
    ("record number", re.compile(r"(?<![\d.,])\d{7,40}(?![\d.,])" + _UNIT_AFTER, re.I)),
    ("record number", re.compile(r"(?<![\d.,])(?P<nhs>\d{3}[ \-]\d{3}[ \-]\d{4})(?![\d.,])" + _UNIT_AFTER, re.I)),
    ("postcode", re.compile(_POSTCODE, re.I)),
]
_ORDINAL_INWARD = re.compile(r"\d(?:st|nd|rd|th)$", re.I)
# Clinical shorthand shaped like a postcode's outward code ("b12 2wk", "dm2 ...").
_NOT_OUTWARD = {"b12", "dm1", "dm2", "t1", "t2", "l4", "l5", "s1", "s2", "c5", "c6", "c7", "c8", "t1dm", "t2dm"}


@dataclass
class Guarded:
    text: str  # what may be stored and parsed
    kinds: list[str] = field(default_factory=list)  # labels of what was redacted, in order found
    truncated: bool = False

    @property
    def warning(self) -> str | None:
        return WARNING.format(kinds=", ".join(self.kinds)) if self.kinds else None


def clean(text: str | None) -> tuple[str, bool]:
    """Text SQLite and every channel can hold: valid UTF-8 (lone surrogates become U+FFFD),
    no control characters but newline and tab, at most MAX_CHARS characters."""
    text = text or ""
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    # Compatibility forms (full-width digits, superscripts) read as what they look like, and
    # invisible format characters (zero-width space, soft hyphen, BOM) go: "12\u200b/03/1954"
    # must not slip past the date pattern.
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = "".join(ch if ch >= " " or ch in "\n\t" else " " for ch in text).replace("\x7f", " ")
    truncated = len(text) > MAX_CHARS
    return (text[:MAX_CHARS] if truncated else text), truncated


def _nhs_valid(digits: str) -> bool:
    if len(digits) != 10:
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _clinical_words() -> set[str]:
    global _CLINICAL
    if _CLINICAL is None:
        from neuroladder.rules.data import load_knowledge

        k = load_knowledge()
        words = {w for spec in k.agents.values() for name in spec["names"] for w in name.lower().split()}
        words |= {w for name in k.classes for w in str(name).lower().replace("_", " ").split()}
        _CLINICAL = words | _NAME_STOP_WORDS
    return _CLINICAL


_CLINICAL: set[str] | None = None


def _name_words(words: str) -> tuple[list[str], str]:
    """The leading words of `words` that can be a name, and the text after them."""
    parts = re.split(r"([ \t]+)", words)
    kept: list[str] = []
    for i in range(0, len(parts), 2):
        if parts[i].lower().strip("'-") in _clinical_words():
            return kept, "".join(parts[i - 1 :]) if i else words
        kept.append(parts[i])
    return kept, ""


def redact(text: str) -> Guarded:
    """Replace identifier-like spans by "[redacted <kind>]"; say which kinds were found."""
    kinds: list[str] = []
    for label, rx in PATTERNS:

        def sub(m: re.Match, label=label, rx=rx) -> str:
            span = m.group()
            if "nhs" in rx.groupindex and not _nhs_valid(re.sub(r"\D", "", span)):
                return span  # "600 900 1200": a titration, not an NHS number
            if "in" in rx.groupindex and (
                _ORDINAL_INWARD.match(m.group("in")) or m.group("out").lower() in _NOT_OUTWARD | _clinical_words()
            ):
                return span  # "b12 2nd check", "dm2 ...": clinical shorthand, not a postcode
            if "words" in rx.groupindex:
                kept, rest = _name_words(m.group("words"))
                if not kept:
                    return span
                if label not in kinds:
                    kinds.append(label)
                return f"[redacted {label}]" + rest
            if label not in kinds:
                kinds.append(label)
            return f"[redacted {label}]"

        text = rx.sub(sub, text)
    return Guarded(text, kinds)


MARKER_RE = re.compile(r"\[redacted ([a-z ]+)\]")


def guard(text: str | None) -> Guarded:
    """Clean, then redact: what `Service.handle` stores and parses. Text redacted earlier (a channel's
    inbox row) still reports what was taken out, so the clinician is warned either way."""
    out = _guarded(text or "")
    return Guarded(out.text, list(out.kinds), out.truncated)


_CACHE: dict[str, Guarded] = {}
_CACHE_SIZE = 512


def _guarded(text: str) -> Guarded:
    # A message is guarded when its inbox row is written and again when the service reads the
    # stored (already redacted) text: both texts are cached, so the patterns run once per message.
    hit = _CACHE.get(text)
    if hit is not None:
        return hit
    cleaned, truncated = clean(text)
    out = redact(cleaned)
    for kind in MARKER_RE.findall(out.text):
        if kind not in out.kinds:
            out.kinds.append(kind)
    out.truncated = truncated
    while len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[text] = out
    _CACHE.setdefault(out.text, Guarded(out.text, list(out.kinds)))
    return out


PAYLOAD_TEXT_KEYS = ("text", "body")  # Telegram's Inbound.text, a Matrix event's body


def redact_payload(payload: dict) -> dict:
    """A channel's inbox payload with its message text guarded: what a channel hands to `Store.inbox_add`."""
    if not isinstance(payload, dict) or not any(isinstance(payload.get(k), str) for k in PAYLOAD_TEXT_KEYS):
        return payload
    return {k: guard(v).text if k in PAYLOAD_TEXT_KEYS and isinstance(v, str) else v for k, v in payload.items()}
