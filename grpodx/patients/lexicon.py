"""Lay and clinical words for the same thing, and the qualifiers that tell sibling findings apart.

Doctors (and a small LLM playing one) say "winded", "hard to catch your breath" or "dyspnoea" for
one symptom; `canonical` rewrites such phrases to one phrase so a cue matches every wording.
Some findings differ from a sibling only by a qualifier: "former smoker" vs "smoker", "about to
faint" vs "fainted", "wheeze breathing out" vs "breathing in", "family asthma" vs "asthma";
`qualifiers` names the ones a text expresses, so the matcher can ask that question and finding
agree on them. Both are general English, written by the project, not lists of test questions.
"""

from __future__ import annotations

import re

# (pattern, canonical phrase); applied in order to lower-cased text, so longer phrases come first.
_SYNONYMS: tuple[tuple[str, str], ...] = (
    # breathing
    (r"\b(breathing out|breathe out|exhal(e|es|ed|ing|ation)|expir(e|es|ed|ing|ation|atory))\b", "breathe out"),
    (r"\b(breathing in|breathe in|inhal(e|es|ed|ing|ation)|inspir(ation|atory))\b", "breathe in"),
    (r"(hard|difficult|difficulty|trouble|struggl\w*|unable|can'?t|cannot)( to)? (catch|get) "
     r"(your|my|their|a) breath", "short of breath"),
    (r"catch(ing)? (your|my) breath|short(ness)? of breath|out of breath|breathlessness|winded|puffed out|"
     r"dyspno?ea|(hard|difficult|difficulty|trouble|struggl\w*)( to)? breath\w*|breathless", "short of breath"),
    # pain
    (r"\b(radiat\w*|spread\w*|shoot\w*|travel\w* (to|down|up|into|anywhere|elsewhere)|"
     r"mov(e|es|ing) (to|down|up|into|anywhere|elsewhere)|go(es)? (anywhere|elsewhere|down|up|into))",
     "radiate"),
    (r"\b(hurt\w*|ach(e|es|ing|y)|sore(ness)?|painful|tender(ness)?)\b", "pain"),
    # bodies and their products
    (r"\b(tummy|belly|stomach|abdomen|abdominal)\b", "belly"),
    (r"\b(poo|poop|stools?|faeces|feces|bowel movements?)\b", "stool"),
    (r"\b(pee|wee|urinat\w*|urine)\b", "urine"),
    (r"\b(phlegm|sputum|mucus)\b", "phlegm"),
    (r"\b(snot|nasal discharge)\b", "snot"),
    (r"\b(throw\w* up|thrown up|vomit\w*|puk\w*|been sick)\b", "vomit"),
    (r"\b(queasy|queasiness|nause\w*|sick to (your|my) stomach)\b", "nausea"),
    (r"\b(pass(ed|ing)? out|black(ed|ing)? out|keel\w* over|faint\w*|swoon\w*)\b", "faint"),
    (r"\b(unconscious\w*|lost consciousness|loss of consciousness|lose consciousness)\b", "faint"),
    (r"\b(light-? ?headed\w*|woozy|wooziness|giddy|dizz\w*)\b", "dizzy"),
    (r"\b(exhaust\w*|fatigu\w*|worn out|wiped out|drained|run-? ?down|tired\w*|weary)\b", "tired"),
    (r"\b(feverish|fevers?|high temperature|running a temperature|running hot)\b", "fever"),
    (r"\b(shiver\w*|chills?|rigou?rs|shak\w* with cold)\b", "chills"),
    (r"\b(pins and needles|tingl\w*|numb\w*)\b", "tingling"),
    (r"\b(palpitations?|heart (is )?(racing|pounding|fluttering|thumping))\b", "palpitations"),
    (r"\b(rash\w*|spots|lesions?|hives|blotch\w*|welts?)\b", "rash"),
    (r"\b(itch\w*|scratch\w*)\b", "itch"),
    (r"\b(swollen|swelling|puffy|puffiness|o?edema)\b", "swelling"),
    # history
    (r"\b(abroad|overseas|out of the country|international\w*|foreign countr\w*)\b", "abroad"),
    (r"\b(vaccin\w*|immuni[sz]\w*|jabs|shots)\b", "vaccine"),
    (r"\b(operations?|operated|surgery|surgical\w*)\b", "surgery"),
    (r"\b(mum|mom|mommy|mummy|mother)\b", "mother family"),  # a mother's asthma is family asthma too
    (r"\b(dad|daddy|father|parents?|siblings?|brothers?|sisters?|relatives?|grand\w+)\b", "family"),
    (r"\b(smok\w*|cigarettes?|ciggies|tobacco)\b", "smoke"),
)
_SYNONYM_PATTERNS = tuple((re.compile(p), word) for p, word in _SYNONYMS)

# Qualifier -> how a text expresses it. Only modifiers that separate findings of the same symptom.
_QUALIFIERS: dict[str, str] = {
    "former": r"\b(former\w*|ex-? ?smok\w*|used? to|quit\w*|stopped|gave up|given up|no longer)\b",
    "family": r"\b(family|families|relatives?|mother|mum|mom|father|dad|parents?|siblings?|brothers?|"
              r"sisters?|grand\w+|runs? in)\b",
    "near": r"\b(about to|going to|close to|almost|nearly|near|verge of|might)\b",
    "slight": r"\b(slight\w*|a little|a bit|mild\w*|somewhat)\b",
    "severe": r"\b(severe\w*|advanced|serious\w*|very bad)\b",
    "night": r"\b(night\w*|overnight|nocturnal\w*)\b",
    "lying": r"\b(lying|lie down|lie flat|flat on your back|propped|sitting up|sit up|pillows?)\b",
    "effort": r"\b(effort|exert\w*|walk\w*|stairs|climb\w*|hills?|physical activity)\b",
    "exhale": r"\b(breathing out|breathe out|exhal(e|es|ed|ing|ation)|expir(e|es|ed|ing|ation|atory))\b",
    "inhale": r"\b(breathing in|breathe in|breath in|inhal(e|es|ed|ing|ation)|inspir(ation|atory)|"
              r"deep breaths?)\b",
    "radiate": r"\b(radiat\w*|spread\w*|shoot\w*|travel\w* (to|down|up|into|anywhere|elsewhere)|"
               r"mov(e|es|ing) (to|down|up|into|anywhere|elsewhere)|go(es)? (anywhere|elsewhere|down|up|into))",
    "hospital": r"\b(hospital\w*|admitted|admission)\b",
    "rest": r"\b(at rest|resting|sitting still|lying still|not exerting)\b",
    "meal": r"\b(after (eating|meals?|food|you eat|a meal)|mealtimes?)\b",
    "others": r"\b(second-? ?hand|passive\w*|around you|anyone (at home|in your home|in your house))\b",
    "contact": r"\b(contact|been around|around (anyone|someone|people)|exposed|exposure)\b",
    "one side": r"\b(one side|one-sided|unilateral|half of (your|the) face)\b",
    "blood": r"\b(blood(?! (pressure|sugar|vessels?|thinners?|clots?|count|tests?))|bloody|bleed\w*|"
             r"ha?emopt\w*|coffee grounds?)\b",
}
_QUALIFIER_PATTERNS = {name: re.compile(p) for name, p in _QUALIFIERS.items()}


# Question openers the embedding model reads as something else ("have you got asthma?" came closer to
# "have you had two asthma attacks?" than to "do you have asthma?"), in their plain form.
_OPENERS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"\bhave (you|they|we) got\b", re.IGNORECASE), r"do \1 have"),
    (re.compile(r"\bhas (he|she|it|your \w+) got\b", re.IGNORECASE), r"does \1 have"),
    (re.compile(r"^(you )?got any\b", re.IGNORECASE), "do you have any"),
)


def plain_question(question: str) -> str:
    """`question` with idiomatic openers in their plain form: what the embedding model is shown."""
    for pattern, plain in _OPENERS:
        question = pattern.sub(plain, question)
    return question


def canonical(text: str) -> str:
    """`text` lower-cased with lay and clinical synonyms rewritten to one phrase each."""
    text = text.lower().replace("’", "'")
    for pattern, word in _SYNONYM_PATTERNS:
        text = pattern.sub(word, text)
    return text


def qualifiers(text: str) -> frozenset[str]:
    """The qualifiers ("former", "family", "night", ...) that `text` expresses."""
    text = text.lower().replace("’", "'")
    return frozenset(name for name, pattern in _QUALIFIER_PATTERNS.items() if pattern.search(text))
