"""AgentClinic OSCE cases (`data.cases: agentclinic:PATH`), read as published (Schmidgall et al. 2024,
MIT): one JSON object per line, `{"OSCE_Examination": {...}}` with

    Objective_for_Doctor, Correct_Diagnosis,
    Patient_Actor: {Demographics, History, Symptoms: {Primary_Symptom, Secondary_Symptoms},
                    Past_Medical_History, Social_History, Review_of_Systems},
    Physical_Examination_Findings: {...}, Test_Results: {...}   (nested objects of any depth)

Only Patient_Actor and Correct_Diagnosis are required; every other section may be missing or empty,
and any value may be a string, a list or a nested object. What the patient may say becomes findings,
answered in the record's own words in the first person: the symptoms (a secondary symptom written
"No X" is a recorded absence), the history, past medical and social history sentences; the review
of systems' denials ("Denies fever, cough, or rash") become absent findings. A finding whose words
name one of the embedded knowledge base's findings takes that finding's id and cue words (so the
judge's `findings` part and the patient's matcher know it); the others stay the case's own. The
examination and the tests go to `Case.examinations` / `Case.tests` (grpodx.measurements answers
them when asked), never to the patient. The diagnosis is never said: sentences that name it are
answered with a plain yes or no by the patient. Diagnosis credit offline: the name, the name without
its parenthesis, the parenthesis ("PML"), the initials of a multi-word name ("DLBCL"), and the
knowledge base's aliases when it knows the condition.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from grpodx.cases.case import Case, Finding
from grpodx.cases.knowledge import KnowledgeBase, embedded_knowledge_base
from grpodx.cases.line_index import json_cases
from grpodx.cases.names import mentions, normalise_name

FIELD = "data.init_args.cases"
FORMAT = "AgentClinic's OSCE format is in grpodx/cases/agentclinic.py and the README"
_EMPTY = re.compile(r"^(n/?a|none|not (provided|available|applicable|given|reported)|information not provided|"
                    r"no additional (symptoms|information)( provided| noted| reported)?|unknown|-)?\.?$", re.IGNORECASE)
_DENIAL = re.compile(r"^(?:the patient |patient |she |he |mother |parents? )?(?:also )?"
                     r"(?:denies|denied|deny|reports no|negative for|no history of|no episodes of|no signs of|no|without)\b"
                     r"\s*(?:(?:any|experiencing|having)\s+)*(.*)$", re.IGNORECASE)
_ITEMS = re.compile(r",\s*(?:or|and|nor)?\s*|\s+(?:or|and|nor)\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
_AGE = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(?:-|to|–)\s*(\d+(?:\.\d+)?))?[\s-]*(year|yr|month|week|day|hour)s?[\s-]*old",
                  re.IGNORECASE)
_FEMALE = re.compile(r"\b(female|woman|girl|lady|mother|she)\b", re.IGNORECASE)
_MALE = re.compile(r"\b(male|man|boy|gentleman|father|he)\b", re.IGNORECASE)
_THIRD_PERSON = [  # the record's narration, told by the patient
    (r"\b(?:the patient|patient|she|he)\b", "I"), (r"\b(?:her|his)\b", "my"), (r"\bhim\b", "me"),
    (r"\b(?:herself|himself)\b", "myself"),
    (r"\bI (has|is|was|does|reports|notes|denies|describes|states|says|complains|presents|mentions|feels|"
     r"experiences|admits|works|drinks|smokes|lives|takes|uses|started|noticed|believes|endorses)\b", None),
]
_SMALL_WORDS = {"of", "and", "or", "the", "with", "without", "due", "to", "in", "on", "by", "except"}
_VERB = {"has": "have", "is": "am", "does": "do", "reports": "report", "notes": "notice", "denies": "deny",
         "describes": "describe", "states": "say", "says": "say", "complains": "complain", "presents": "come",
         "mentions": "mention", "feels": "feel", "experiences": "experience", "admits": "admit", "works": "work",
         "drinks": "drink", "smokes": "smoke", "lives": "live", "takes": "take", "uses": "use",
         "believes": "believe", "endorses": "have"}


class _Bad(ValueError):
    """A bad field of one record (the reader adds FILE:LINE)."""


def read_agentclinic(path: Path | str, kb: KnowledgeBase | None = None) -> list[Case]:
    """Every OSCE record of an AgentClinic JSONL file, validated up front."""
    count, build = agentclinic_file(path, kb)
    return [build(i) for i in range(count)]


def agentclinic_file(path: Path | str, kb: KnowledgeBase | None = None):
    """(count, build) over an OSCE JSONL file, every record validated once (grpodx.cases.line_index)."""
    kb = kb or embedded_knowledge_base()
    return json_cases(path, "agentclinic", lambda raw, case_id: osce_case(raw, case_id, kb), FORMAT, FIELD)


def osce_case(raw: object, case_id: str, kb: KnowledgeBase) -> Case:
    """One OSCE record -> Case; raises ValueError naming the bad field."""
    if not isinstance(raw, dict) or not isinstance(raw.get("OSCE_Examination"), dict):
        raise _Bad("field 'OSCE_Examination' must be an object (AgentClinic's NEJM image cases are not OSCE records)")
    osce = raw["OSCE_Examination"]
    actor = osce.get("Patient_Actor")
    if not isinstance(actor, dict):
        raise _Bad("field 'OSCE_Examination.Patient_Actor' must be an object")
    diagnosis = osce.get("Correct_Diagnosis", raw.get("Correct_Diagnosis"))
    if not isinstance(diagnosis, str) or not diagnosis.strip():
        raise _Bad("field 'OSCE_Examination.Correct_Diagnosis' must be a non-empty string")
    diagnosis = " ".join(diagnosis.split())
    demographics = _text(actor.get("Demographics"))
    age, sex, child = _age_and_sex(demographics)
    known = kb.condition(diagnosis) or kb.condition(_without_parenthesis(diagnosis))
    aliases = tuple(a for a in dict.fromkeys((*_aliases(diagnosis), *(known.aliases if known else ())))
                    if normalise_name(a) != normalise_name(diagnosis))
    names = (diagnosis, *aliases)
    present, absent, key = _findings(actor, kb, child)
    if not present:
        raise _Bad("field 'OSCE_Examination.Patient_Actor' has no symptoms or history for the patient to tell")
    primary = _text(_symptoms(actor).get("Primary_Symptom"))
    complaint = (f"{'My child has' if child else 'I have'} {_lower_first(primary).rstrip('.')}." if primary
                 else present[0].statement.removeprefix("Yes, "))
    if mentions(complaint, names):
        complaint = "My child hasn't been well." if child else "I haven't been feeling well."
    return Case(
        case_id=case_id, hidden_diagnosis=diagnosis, icd10=known.icd10 if known else "",
        organ_system=known.organ_system if known else "unknown", age=age, sex=sex, opening_complaint=complaint,
        present=present, absent=absent, key_findings=key, aliases=aliases,
        examinations=_flatten(osce.get("Physical_Examination_Findings")), tests=_flatten(osce.get("Test_Results")),
        speaker=_speaker(demographics, child))


def _findings(actor: dict, kb: KnowledgeBase, child: bool) -> tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[str, ...]]:
    """Present findings, absent ones and the key findings (the symptoms), ids unique, present first."""
    symptoms = _symptoms(actor)
    secondary = symptoms.get("Secondary_Symptoms")
    if isinstance(secondary, str):  # "Weight loss, dark urine": a list written as one string
        secondary = re.split(r"\s*[,;]\s*", secondary)
    items = [*_pieces(symptoms.get("Primary_Symptom")), *_pieces(secondary)]
    items += [s for key, value in symptoms.items() if key not in ("Primary_Symptom", "Secondary_Symptoms")
              for s in _pieces(value)]
    present, absent, key, seen = [], [], [], set()

    def add(finding: Finding, into: list, is_key: bool = False) -> None:
        if finding.id not in seen:
            seen.add(finding.id)
            into.append(finding)
            if is_key:
                key.append(finding.id)

    for item in items:
        denied = _denied(item)
        if denied:
            for thing in denied:
                add(_finding(thing, _no(thing, child), kb), absent)
        else:
            add(_finding(item, _yes(item, child), kb), present, is_key=True)
    for section in ("History", "Past_Medical_History", "Social_History", "Review_of_Systems"):
        for sentence in (s for piece in _pieces(actor.get(section)) for s in _SENTENCE.split(piece)):
            denied = _denied(sentence)
            if denied:
                for thing in denied:
                    add(_finding(thing, _no(thing, child), kb), absent)
            elif not _EMPTY.match(sentence.strip()):
                add(_finding(sentence, _told(sentence, child), kb, own_words=True), present)
    return tuple(present), tuple(absent), tuple(key) or tuple(f.id for f in present)


def _finding(name: str, statement: str, kb: KnowledgeBase, own_words: bool = False) -> Finding:
    """The record's words; a knowledge-base finding's id and cue words when they name one."""
    label = name.strip().rstrip(".")
    entry = None if own_words else _kb_finding(label, kb)
    cues = (label, *entry.cues) if entry else (label,)
    fid = entry.id if entry else "agentclinic_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60]
    return Finding(fid, label, tuple(dict.fromkeys(cues)), statement)


def _kb_finding(label: str, kb: KnowledgeBase):
    """The KB finding whose label or a cue of 4+ letters the words name, the cue being most of
    them (a symptom, not one word of a sentence); the longest such cue wins."""
    words = normalise_name(label).split()
    cues = _kb_cues(kb)
    text_length = len(" ".join(words))
    for size in range(len(words), 0, -1):  # longest first: every run of `size` words
        for start in range(len(words) - size + 1):
            cue = " ".join(words[start:start + size])
            if cue in cues and len(cue) * 2 >= text_length:
                return cues[cue]
    return None


@lru_cache(maxsize=4)
def _kb_cues(kb: KnowledgeBase) -> dict:
    """Normalised label or cue (4+ letters) -> its finding, computed once per KB (first one wins)."""
    out = {}
    for entry in kb.findings.values():
        for cue in map(normalise_name, (entry.label, *entry.cues)):
            if len(cue) >= 4:
                out.setdefault(cue, entry)
    return out


def _denied(text: str) -> list[str]:
    """The things a denial sentence denies ("Denies fever, cough, or rash." -> three), else []."""
    match = _DENIAL.match(text.strip())
    if not match or not match.group(1).strip():
        return []
    things = [t.strip(" .;:") for t in _ITEMS.split(match.group(1).strip().rstrip("."))]
    return [t for t in things if t and not _EMPTY.match(t)]


def _yes(symptom: str, child: bool) -> str:
    return f"Yes, {'my child has' if child else 'I have'} {_lower_first(symptom).rstrip('.')}."


def _no(thing: str, child: bool) -> str:
    return f"No, {'my child has' if child else 'I have'} not had {_lower_first(thing).rstrip('.')}."


def _told(sentence: str, child: bool) -> str:
    """A narrated sentence in the patient's (or, for a child, the parent's) own voice."""
    text = sentence.strip()
    if child:
        text = re.sub(r"\b(?:the patient|patient)\b", "my child", text, flags=re.IGNORECASE)
        return _upper_first(text)
    for pattern, replacement in _THIRD_PERSON:
        if replacement is None:
            text = re.sub(pattern, lambda m: f"I {_VERB.get(m.group(1).lower(), m.group(1))}", text)
        else:
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return _upper_first(re.sub(r"\bi\b", "I", text))


def _age_and_sex(demographics: str) -> tuple[int, str, bool]:
    """(age in whole years, sex, a child spoken for by a parent) from e.g. '35-year-old female',
    '8-month-old boy', 'Newborn, female', '45-50-year-old man' (the range's middle)."""
    sex = "female" if _FEMALE.search(demographics) else "male" if _MALE.search(demographics) else "other"
    match = _AGE.search(demographics)
    if match:
        low, high, unit = float(match.group(1)), float(match.group(2) or match.group(1)), match.group(3).lower()
        years = (low + high) / 2 / {"year": 1, "yr": 1, "month": 12, "week": 52, "day": 365, "hour": 8760}[unit]
    elif re.search(r"\b(newborn|neonate|infant|baby)\b", demographics, re.IGNORECASE):
        years = 0.0
    else:
        return 0, sex, False
    return int(years), sex, years < 12


def _speaker(demographics: str, child: bool) -> str:
    """'a 35-year-old female' or, for a child, 'the parent of an 8-month-old boy' (the record's words)."""
    who = re.sub(r",?\s*\brace\b.*$", "", demographics, flags=re.IGNORECASE).strip(" ,.") or "a patient"
    if re.match(r"(a|an|the)\b", who, re.IGNORECASE) is None and who != "a patient":
        who = ("an " if re.match(r"(8|11|18)\b|8\d|[aeiou]", who, re.IGNORECASE) else "a ") + _lower_first(who)
    return f"the parent of {who}" if child else who


def _aliases(diagnosis: str) -> list[str]:
    """'Progressive multifocal encephalopathy (PML)' -> the name alone, 'PML'; 'Diffuse large B-cell
    lymphoma' -> 'DLBCL' (initials of three or more words)."""
    out = []
    bare = _without_parenthesis(diagnosis)
    if bare != diagnosis:
        out.append(bare)
        out += [p.strip() for p in re.findall(r"\(([^)]*)\)", diagnosis) if p.strip()]
    words = [w for w in re.split(r"[\s-]+", bare) if w and w[0].isalpha() and w.lower() not in _SMALL_WORDS]
    if 3 <= len(words) <= 5 and "," not in bare and not any(a.isupper() and " " not in a for a in out):
        out.append("".join(w[0].upper() for w in words))
    return out


def _without_parenthesis(name: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", name).split())


def _flatten(value, path: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """Nested objects -> ((path, value), ...); keys' underscores become spaces; empty values dropped."""
    if isinstance(value, dict):
        return tuple(item for key, inner in value.items() for item in _flatten(inner, (*path, _words(str(key)))))
    text = _text(value)
    if not text or _EMPTY.match(text):
        return ()
    return ((" / ".join(path) or "Findings", text),)


def _pieces(value) -> list[str]:
    """A section as a list of non-empty strings, whatever its shape."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() and not _EMPTY.match(value.strip()) else []
    if isinstance(value, list):
        return [p for v in value for p in _pieces(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _pieces(v)]
    return [str(value)] if value is not None and not isinstance(value, bool) else []


def _text(value) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, (list, tuple)):
        return "; ".join(t for t in map(_text, value) if t)
    if isinstance(value, dict):
        return "; ".join(f"{_words(str(k))}: {t}" for k, v in value.items() if (t := _text(v)))
    return "" if value is None else str(value)


def _symptoms(actor: dict) -> dict:
    """The Symptoms section as an object (a bare string or list is the primary symptom)."""
    symptoms = actor.get("Symptoms")
    return symptoms if isinstance(symptoms, dict) else {"Primary_Symptom": symptoms}


def _words(key: str) -> str:
    return " ".join(key.replace("_", " ").split())


def _lower_first(text: str) -> str:
    text = text.strip()
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
