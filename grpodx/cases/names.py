"""The one home of names of a disease: how a name is normalised, whether a text mentions one (the
patient's leak guard) and which condition a final answer names (the judges, train/accuracy, top-3
and the confusion table). Two rules here would let the OpenAI judge's `exact` level and
train/accuracy disagree (issue 13).

A final diagnosis names exactly one condition: an answer that lists several, or negates or hedges
one ("not X", "rule out X", "X vs Y", "X or Y") names none and is `multi` (issue 11: listing every
condition of the right organ system scored 0.80 against 0.44 for one honest guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from grpodx.cases.case import Case

if TYPE_CHECKING:  # the knowledge base reads names through this module, so no import at load time
    from grpodx.cases.knowledge import Condition, KnowledgeBase

_FILLER = {"possible", "probable", "likely", "suspected", "acute", "an", "a", "the", "of", "probably"}


def normalise_name(text: str) -> str:
    """Lower-case, drop punctuation and filler words so 'Possible GERD.' matches 'gerd'."""
    text = re.sub(r"[^a-z0-9 ]+", " ", text.lower())
    return " ".join(w for w in text.split() if w not in _FILLER)


def whole_word(name: str) -> re.Pattern:
    """`name` as whole words in lower-cased text (the rule `mentions` and the warm start's name
    emphasis share)."""
    return re.compile(rf"(?<![a-z0-9]){re.escape(name.lower())}(?![a-z0-9])")


def mentions(text: str, names: tuple[str, ...]) -> bool:
    """True when any of `names` appears in `text` as whole words (case-insensitive)."""
    return any(whole_word(n).search(text.lower()) for n in names if n.strip())


def without_leaks(text: str, case: Case, fallback: str) -> str:
    """Drop every sentence that names the hidden diagnosis or an alias; the patient never tells it."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept = [s for s in sentences if not mentions(s, case.diagnosis_names)]
    return " ".join(kept).strip() or fallback


_WORD = re.compile(r"[a-z0-9]+")  # the words normalise_name keeps (it drops every other character)
_NAME = "\u00a7"  # stands for a known name once found, so words inside names are never read as list marks
_SEPARATOR = re.compile(r"[,;/|&+?\n]|\b(?:and|or|plus|vs|versus)\b")
_NEGATION_OR_HEDGE = re.compile(
    r"\b(?:not|no|without|unlikely|exclude[ds]?|excluding|ruled?\s+out|r\s*/\s*o|vs|versus|or|either|"
    r"neither|nor|rather|instead)\b")


@dataclass(frozen=True)
class NameIndex:
    """Every name the rule knows for one case, each mapped to its synonym group (`root`)."""

    roots: dict[str, str]  # normalised name -> normalised name standing for its synonym group
    hidden: frozenset[str]  # normalised names of the hidden diagnosis
    longest: int  # words in the longest name


@dataclass(frozen=True)
class AnswerReading:
    """What a final answer names: the known names found (left to right, longest first), whether it
    commits to one condition, and whether that condition is the hidden diagnosis by name."""

    names: tuple[str, ...]
    multi: bool
    names_hidden: bool
    root: str | None  # the one synonym group named; None when multi or nothing known is named


@lru_cache(maxsize=4096)
def _index(kb: KnowledgeBase, diagnosis_names: tuple[str, ...], differential: tuple[str, ...],
           source_conditions: tuple[tuple[str, ...], ...] = ()) -> NameIndex:
    """Knowledge-base names and aliases, the case's names, its recorded differential and every
    condition its source knows; groups that share a name are one condition (DDXPlus 'Pneumonia' is
    the KB's 'Community-acquired pneumonia'). The source's conditions must be known names: else
    'Unstable angina' reads as the KB's 'angina' and earns a Stable angina case full credit."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    groups = ([(c.name, *c.aliases) for c in kb.conditions] + [diagnosis_names] + [(d,) for d in differential]
              + list(source_conditions))
    for group in groups:
        names = [n for n in map(normalise_name, group) if n]
        for name in names[1:]:
            parent[find(name)] = find(names[0])
        for name in names[:1]:
            find(name)
    roots = {name: find(name) for name in parent}
    hidden = frozenset(n for n in map(normalise_name, diagnosis_names) if n)
    return NameIndex(roots, hidden, max((len(n.split()) for n in roots), default=1))


def name_index(case: Case, kb: KnowledgeBase | None = None) -> NameIndex:
    if kb is None:
        from grpodx.cases.knowledge import embedded_knowledge_base
        kb = embedded_knowledge_base()
    return _index(kb, case.diagnosis_names, tuple(case.differential), case.condition_names)


def _known_spans(text: str, index: NameIndex) -> list[tuple[str, int, int]]:
    """(name, start, end) of known names in lower-cased text, leftmost-longest, not overlapping."""
    words = [m for m in _WORD.finditer(text) if normalise_name(m.group())]
    spans, i = [], 0
    while i < len(words):
        for size in range(min(index.longest, len(words) - i), 0, -1):
            name = " ".join(m.group() for m in words[i:i + size])
            if name in index.roots:
                spans.append((name, words[i].start(), words[i + size - 1].end()))
                i += size
                break
        else:
            i += 1
    return spans


def read_answer(answer: str, case: Case, kb: KnowledgeBase | None = None) -> AnswerReading:
    """Read a final answer: multi when it names two conditions, is a list (two or more items split
    by , ; / & 'and' 'or' …, unless every item names the same condition), or negates or hedges.

    Known names are found first and stand as one token, so names that hold separators
    ('Possible NSTEMI / STEMI', 'skin and soft tissue infection') are one answer.
    """
    return _read(answer, name_index(case, kb))


def _read(answer: str, index: NameIndex) -> AnswerReading:
    text = answer.lower()
    spans = _known_spans(text, index)
    masked, pos = [], 0
    for _, start, end in spans:
        masked += [text[pos:start], f" {_NAME} "]
        pos = end
    masked = "".join(masked + [text[pos:]])
    items = [p for p in _SEPARATOR.split(masked) if _NAME in p or normalise_name(p)]
    roots = {index.roots[name] for name, _, _ in spans}
    multi = (bool(_NEGATION_OR_HEDGE.search(masked)) or len(roots) > 1
             or (len(items) > 1 and not all(_NAME in item for item in items)))
    names = tuple(name for name, _, _ in spans)
    one = not multi and len(roots) == 1
    return AnswerReading(names, multi, one and any(n in index.hidden for n in names),
                         next(iter(roots)) if one else None)


def is_multi_answer(answer: str | None, case: Case, kb: KnowledgeBase | None = None) -> bool:
    """True when a given final answer names several conditions or negates/hedges one (no credit)."""
    return answer is not None and read_answer(answer, case, kb).multi


def names_match(answer: str, case: Case, kb: KnowledgeBase | None = None) -> bool:
    """True when the answer names the hidden diagnosis (or an alias) and no other condition."""
    return read_answer(answer, case, kb).names_hidden


def named_condition(answer: str, kb: KnowledgeBase) -> Condition | None:
    """The knowledge-base condition a one-condition answer names (None: no known name, or multi)."""
    return reading_condition(_read(answer, _index(kb, (), ())), kb)


def reading_condition(reading: AnswerReading, kb: KnowledgeBase) -> Condition | None:
    """The KB condition behind the answer's longest known name, when it names one condition."""
    if reading.root is None:
        return None
    return next((c for n in sorted(reading.names, key=len, reverse=True) if (c := kb.condition(n))), None)


def differential_rank(reading: AnswerReading, case: Case, kb: KnowledgeBase | None = None) -> int | None:
    """0-based rank of the answer's condition in the case's recorded differential, or None."""
    if reading.root is None:
        return None
    roots = name_index(case, kb).roots
    return next((rank for rank, name in enumerate(case.differential)
                 if roots.get(normalise_name(name)) == reading.root), None)


