"""Which questions name a condition, and which of those ask about the patient's history.

"Do you have <condition>?" asks the patient for the diagnosis: answered from the record it let a
doctor sweep names (issue 11: the offline patient confirmed a finding of the true condition for 16 of
59 names, of a wrong one for 2 of 177). A question that names any condition of the case's world (every
condition its hidden diagnosis could be, so the rule never depends on which one it is) is answered as
a request for the diagnosis, unless it asks about history ("Have you ever been diagnosed with …",
"… before", "does anyone in your family have …"): DDXPlus antecedents stay history questions,
answered from the record, but only by a finding about that condition.
A name inside a longer finding phrase is that finding, not the condition ("hiatal hernia" is not
"hernia", "chronic pancreatitis" is not "pancreatitis"), unless the phrase is the condition's own
history ("pneumothorax before"); a name that is a whole finding on its own ("asthma", "pink eye")
still asks for the diagnosis unless the question is about history.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from grpodx.cases import Case, Finding
from grpodx.cases.knowledge import embedded_knowledge_base
from grpodx.patients.lexicon import qualifiers

# Past, family, other people, exposure or treatment: a question about the patient's history, not the
# diagnosis. Broad on purpose: such a question is answered only by a finding about the named condition.
_HISTORY = re.compile(
    r"\b(ever|had|before|previous\w*|prior|in the past|history|diagnos\w*|been told|told you|known|recent\w*|"
    r"anyone|anybody|someone|somebody|people|a person|others|partners?|relatives?|"
    r"(last|past) (few |several |\d+ |one |two |three |four |six |twelve )?(days?|weeks?|months?|years?)|"
    r"as a (child|kid|baby)|childhood|(treat\w*|medication|medicine|antibiotics?|tablets|pills|drugs?) for|"
    r"hospitali[sz]\w*|admitted|admissions?)\b")
_HISTORY_QUALIFIERS = frozenset({"family", "contact", "former"})  # lexicon.py: relatives, exposure, "used to"


def _tokens(text: str) -> list[str]:
    """Words and numbers, accents dropped, case kept ("Guillain-Barré" -> Guillain, Barre)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.findall(r"[A-Za-z0-9]+", plain)


@dataclass(frozen=True)
class _Name:
    condition: str
    words: tuple[str, ...]  # lower-case
    exact_case: bool  # a short abbreviation ("PE", "CAP", "MG") is a name only in capitals


def _name(condition: str, text: str) -> _Name | None:
    words = _tokens(text)
    if not words:
        return None
    exact = len(words) == 1 and words[0].isupper() and len(words[0]) <= 3
    return _Name(condition, tuple(words if exact else (w.lower() for w in words)), exact)


def _at(words: tuple[str, ...], tokens: list[str], lower: list[str], start: int, exact: bool) -> bool:
    """Do `words` occur at `start`? The last word may take a plural ending ("migraines")."""
    seen = tokens if exact else lower
    if start + len(words) > len(seen):
        return False
    *head, last = words
    got = seen[start + len(head)]
    return all(seen[start + i] == w for i, w in enumerate(head)) and (
        got == last or (not exact and got in (last + "s", last + "es")))


def _lower_words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _tokens(text))


def _by_first_word(phrases) -> dict[str, list[tuple[str, ...]]]:
    index = defaultdict(list)
    for phrase in phrases:
        index[phrase[0]].append(phrase)
    return index


def _spans(phrases: dict[str, list[tuple[str, ...]]], lower: list[str]) -> list[tuple[int, int]]:
    """Where the phrases (indexed by their first word) occur in the question's lower-case words."""
    return [(i, i + len(p)) for i, word in enumerate(lower) for p in phrases.get(word, ())
            if _at(p, lower, lower, i, False)]


class ConditionWorld:
    """Every condition a case's hidden diagnosis could be, with all its names, and the finding
    phrases that contain a name (they are findings, not names, where a question says them whole)."""

    def __init__(self, conditions: dict[str, tuple[str, ...]], findings: tuple[Finding, ...] = ()):
        self.conditions = conditions
        self._by_first: dict[str, list[_Name]] = defaultdict(list)
        for condition, names in conditions.items():
            for name in filter(None, (_name(condition, n) for n in names)):
                self._by_first[name.words[0]].append(name)
        self._about: dict[str, frozenset[str]] = {}  # caches: text -> conditions it names,
        self._finding_about: dict[tuple[str, str], frozenset[str]] = {}  # (finding id, label) -> the same
        texts = dict.fromkeys(t for f in findings for t in (f.label, *f.cues))
        self.finding_phrases = _by_first_word({_lower_words(t) for t in texts if self._is_other_finding(t)})

    def _occurrences(self, tokens: list[str], lower: list[str]) -> list[tuple[_Name, int]]:
        found = []
        for start, (token, word) in enumerate(zip(tokens, lower)):
            keys = dict.fromkeys((word, token, word[:-1] if word.endswith("s") else word,
                                  word[:-2] if word.endswith("es") else word))  # one-word names in the plural
            names = [name for key in keys for name in self._by_first.get(key, [])]
            found += [(name, start) for name in names if _at(name.words, tokens, lower, start, name.exact_case)]
        return found

    def conditions_in(self, text: str) -> frozenset[str]:
        """The conditions whose names `text` contains as whole words."""
        if text not in self._about:
            tokens = _tokens(text)
            found = self._occurrences(tokens, [t.lower() for t in tokens])
            self._about[text] = frozenset(name.condition for name, _ in found)
        return self._about[text]

    def _is_other_finding(self, text: str) -> bool:
        """A finding phrase around a name that is not the condition's own history ("hiatal hernia",
        not "pneumothorax before"): said whole, it is about that finding, not the named condition."""
        return bool(self.conditions_in(text)) and not asks_history(text)

    def named_in(self, question: str, findings: tuple[Finding, ...] = ()) -> tuple[str, ...]:
        """The conditions `question` names, leaving out names inside a longer finding phrase it says
        (the world's findings, plus `findings`: a vignette's own)."""
        tokens = _tokens(question)
        lower = [t.lower() for t in tokens]
        found = self._occurrences(tokens, lower)
        if not found:
            return ()
        texts = (t for f in findings for t in (f.label, *f.cues))
        own = _by_first_word(_lower_words(t) for t in texts if self._is_other_finding(t))
        # a longer name or finding phrase said whole wins: "laryngo-tracheo-bronchitis" is croup, not bronchitis
        covers = (_spans(self.finding_phrases, lower) + _spans(own, lower)
                  + [(i, i + len(n.words)) for n, i in found])
        named = [name.condition for name, start in found
                 if not any(a <= start and start + len(name.words) <= b and b - a > len(name.words)
                            for a, b in covers)]
        return tuple(dict.fromkeys(named))

    def is_about(self, finding: Finding, conditions: frozenset[str]) -> bool:
        """Is the finding the patient's own or family history of one of `conditions` ("Have you ever
        had pneumonia?", "family lung cancer")? A symptom named like a condition ("Does the person
        have a whooping cough?") or a different condition around a name ("hiatal hernia") is not."""
        key = (finding.id, finding.label)
        if key not in self._finding_about:
            texts = (finding.label, *finding.cues)
            history = any(asks_history(t) for t in texts)
            self._finding_about[key] = frozenset().union(*(self.named_in(t) for t in texts)) if history else frozenset()
        return bool(self._finding_about[key] & conditions)


def asks_history(question: str) -> bool:
    """A question about the past, the family or an exposure rather than what the patient has now."""
    plain = question.lower().replace("’", "'")
    return bool(_HISTORY.search(plain)) or bool(qualifiers(question) & _HISTORY_QUALIFIERS)


@lru_cache(maxsize=1)
def knowledge_base_world() -> ConditionWorld:
    """The embedded knowledge base's 59 conditions: the world of sampled cases and vignettes."""
    kb = embedded_knowledge_base()
    findings = tuple(Finding(e.id, e.label, e.cues, "") for e in kb.findings.values())
    return ConditionWorld({c.name: (c.name, *c.aliases) for c in kb.conditions}, findings)


_SOURCE_WORLDS: dict[int, tuple[tuple, ConditionWorld]] = {}  # by the id of the cases' shared names


def _source_world(names: tuple[tuple[str, ...], ...], vocabulary: tuple[Finding, ...]) -> ConditionWorld:
    """One world per case source (every case of a source shares the same tuples)."""
    kept = _SOURCE_WORLDS.get(id(names))
    if kept is None or kept[0] is not names:
        if len(_SOURCE_WORLDS) >= 8:
            _SOURCE_WORLDS.clear()
        kept = _SOURCE_WORLDS[id(names)] = (names, ConditionWorld({n[0]: n for n in names}, vocabulary))
    return kept[1]


def world_of(case: Case) -> ConditionWorld:
    """DDXPlus cases live among the release's pathologies (names and aliases they carry, read from
    the release files at run time), every other case among the knowledge base's conditions."""
    return _source_world(case.condition_names, case.vocabulary) if case.condition_names else knowledge_base_world()
