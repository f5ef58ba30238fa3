"""Examinations and tests the doctor asks for, answered from the case's record (AgentClinic's
measurement agent), as a turn of their own kind: the doctor sees it, the patient never does.

A request is a sentence of the doctor's visible text that either uses the explicit form
(`Request test: Chest X-ray`, `Request exam: abdominal palpation`; AgentClinic's `REQUEST TEST:`)
or asks, in plain words, to check / order / run / measure / examine something named like a test or
an examination ("Can we check her acetylcholine receptor antibodies?"). Questions to the patient
("Have you had a fever?", "Did you have an X-ray?") are not requests.

A request is matched to the record by its words (nested keys flattened: "Blood Tests / WBC"):
- it names entries -> their values ("Blood Tests / Acetylcholine Receptor Antibodies: Present");
- it names a test the record has but not the value asked for ("CSF lactate" where only other CSF
  values are recorded) -> "normal";
- otherwise -> "not available" (always, for sources without a record: the knowledge base, DDXPlus).
Each request counts toward the turn's question budget (grpodx.patients.questions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grpodx.cases import Case
from grpodx.episode import MeasurementReply
from grpodx.patients.questions import is_request, over_budget_line, sentences

_EXPLICIT = re.compile(r"^\W*request\s+(?:a\s+)?(test|lab|labs|imaging|exam|examination|physical\s+exam(?:ination)?)s?"
                       r"\s*[:\-]\s*(.+)$", re.IGNORECASE)
_ASKS_PATIENT = re.compile(r"\b(?:do|did|does|have|has|had|are|were|is|was|can|could|will|would)\s+you\b", re.IGNORECASE)
_ACTION = re.compile(r"\b(?:check|checking|order|ordering|run|running|perform|performing|measure|measuring|examine|"
                     r"examining|send|sending|obtain|obtaining|draw|drawing|listen|auscultate|palpate|look\s+at|"
                     r"(?:can|could|shall|may|let)\s+(?:we|i|us)\s+(?:do|get|have|take|see)|i(?:'d| would) like)\b",
                     re.IGNORECASE)
_OBJECT = re.compile(r"^.*?\b(?:check|order|run|perform|measure|examine|send(?:\s+off)?|obtain|draw|listen\s+to|"
                     r"auscultate|palpate|look\s+at|do|get|have|take|see|like)\s+(?:(?:a|an|the|some|her|his|your|"
                     r"their|for|to|of|me|us|off)\s+)*", re.IGNORECASE)
_PHRASES = [  # one spelling for names written several ways, in requests and in the record alike
    (r"x[\s-]?rays?|radiographs?|cxr", "xray"), (r"electrocardiograms?|ekgs?|ecgs?", "ecg"),
    (r"complete blood counts?|full blood counts?|cbc|fbc", "cbc"), (r"blood pressure|\bbp\b", "bp"),
    (r"lumbar punctures?|spinal taps?|\blp\b", "lp"), (r"cerebrospinal fluid", "csf"),
    (r"ultrasounds?|sonograph(?:y|s)?|\bus\b", "ultrasound"), (r"heart rate|pulse rate|\bpulse\b|\bhr\b", "heartrate"),
    (r"computed tomography|ct scans?|\bct\b|cat scans?", "ct"), (r"magnetic resonance|mri scans?|\bmri\b", "mri"),
    (r"urinalysis|urine analysis|urine tests?", "urinalysis"), (r"oxygen saturation|\bspo2\b|\bsats\b", "spo2"),
    (r"temp\b|temperature", "temperature"), (r"white (?:blood )?cells?(?: count)?|\bwbcs?\b|leukocyte count", "wbc"),
    (r"haemoglobin|hemoglobin|\bhgb\b|\bhb\b", "hemoglobin"), (r"echocardiograms?|\becho\b", "echocardiogram"),
    (r"abdom(?:en|inal)", "abdomen"), (r"neuro(?:logic(?:al)?)?\b", "neuro"), (r"cardiac|cardiovascular", "cardiac"),
    (r"pulmonary|respiratory|lungs?\b", "lung"),
]
_RAW_GENERIC = {"test", "tests", "testing", "result", "results", "finding", "findings", "exam", "examination",
                "examinations", "level", "levels", "value", "values", "lab", "labs", "panel", "study", "studies",
                "comment", "comments", "check", "please", "can", "could", "we", "i", "her", "his", "your", "the", "a",
                "an", "some", "and", "or", "of", "for", "to", "on", "in", "with", "me", "us", "do", "get", "have",
                "take", "see", "order", "run", "perform", "measure", "examine", "send", "obtain", "draw", "listen",
                "like", "would", "let", "shall", "may", "look", "at", "any", "also", "other", "next", "now", "then",
                "quick", "full", "general", "physical", "request", "imaging", "scan", "scans", "assessment", "signs",
                "sign", "off", "out", "see", "if", "is", "are", "there", "what", "show", "shows", "report", "reports",
                "type", "done"}
_RAW_CUE_WORDS = {"xray", "ecg", "cbc", "bp", "lp", "csf", "ultrasound", "heartrate", "ct", "mri", "urinalysis",
                  "spo2", "temperature", "wbc", "hemoglobin", "echocardiogram", "blood", "urine", "serum", "culture",
                  "biopsy", "swab", "smear", "stain", "titer", "titre", "antibody", "antibodies", "serology", "vital",
                  "vitals", "reflexes", "auscultation", "palpation", "abdomen", "abdominal", "chest", "lungs",
                  "heart", "neck", "skin", "eyes", "fundoscopy", "neurological", "gait", "throat", "ears", "glucose",
                  "sodium", "potassium", "creatinine", "troponin", "lipase", "tsh", "thyroid", "liver", "kidney",
                  "renal", "electrolytes", "platelets", "inr", "esr", "crp", "d-dimer", "ddimer", "lactate",
                  "pregnancy", "hcg"}
# a request naming one of these must find it in the record's path: a chest X-ray is not a chest CT
_RAW_MODALITIES = {"xray", "ct", "mri", "ultrasound", "ecg", "echocardiogram", "biopsy", "culture", "lp", "csf",
                   "urinalysis", "cbc", "smear", "swab", "serology", "stain"}
# what a plain request to examine says about which part of the examination it wants
_MANOEUVRES = {r"\bpalpat": "palpation", r"\b(?:listen|auscultat)": "auscultation", r"\bpercuss": "percussion",
               r"\b(?:inspect|look\s+at)": "inspection", r"\bexamin": "examination"}
MAX_ENTRIES = 12  # a request naming a whole group ("blood tests") lists at most this many values


@dataclass(frozen=True)
class Routed:
    """One doctor turn split between the patient and the measurements: the text the patient gets,
    the examination/test requests, and the requests beyond the turn's budget (left unanswered)."""

    patient_text: str
    requests: tuple[str, ...]
    dropped: int


def is_measurement_request(sentence: str) -> bool:
    if _EXPLICIT.match(sentence):
        return True
    if _ASKS_PATIENT.search(sentence) or not _ACTION.search(sentence):
        return False
    return bool(_tokens(sentence) & _CUE_WORDS)


def route(doctor_text: str, budget: int) -> Routed:
    """The patient's part of a turn and its measurement requests, within one budget of requests.
    A turn with no measurement request goes to the patient unchanged (its own budget rules apply)."""
    parts = sentences(doctor_text)
    measuring = [is_measurement_request(s) for s in parts]
    if not any(measuring):
        return Routed(doctor_text, (), 0)
    kept, requests, dropped, count = [], [], 0, 0
    for sentence, measuring in zip(parts, measuring):
        if measuring or is_request(sentence):
            count += 1
            if count > budget:
                dropped += 1
                continue
        (requests if measuring else kept).append(sentence)
    return Routed(" ".join(kept), tuple(requests), dropped)


def answer(case: Case, routed: Routed, budget: int) -> MeasurementReply:
    """The record's answer to each request (one line each), and the budget note when requests were left over."""
    lines = [_answer_one(case, request) for request in routed.requests]
    if routed.dropped:
        lines.append(over_budget_line(budget))
    return MeasurementReply(" ".join(lines), len(routed.requests), routed.dropped)


def _answer_one(case: Case, request: str) -> str:
    explicit = _EXPLICIT.match(request)
    kind = explicit.group(1).lower() if explicit else ""
    wanted = explicit.group(2) if explicit else _OBJECT.sub("", _OBJECT.sub("", request, count=1), count=1)
    wanted = wanted.strip(" ?.!") or request.strip(" ?.!")
    manoeuvre = {word for verb, word in _MANOEUVRES.items() if re.search(verb, request, re.IGNORECASE)}
    examining = kind.startswith(("exam", "physical")) or (not kind and manoeuvre)
    pool = case.examinations if examining else case.tests if kind else case.examinations + case.tests
    asked = (_tokens(wanted) - _GENERIC or _tokens(request) - _GENERIC) | (manoeuvre - _GENERIC)
    scored = []
    for path, value in pool:
        parts = [_part_tokens(part) for part in path.split(" / ")]
        words = frozenset().union(*parts)
        if not asked & _MODALITIES <= words:
            continue
        leaf = next((i for i in reversed(range(len(parts))) if parts[i] - _GENERIC), len(parts) - 1)
        group = frozenset().union(*(t for i, t in enumerate(parts) if i != leaf)) - _GENERIC
        # the leaf's own words: "Blood Tests / Blood Culture" is named by "culture", its group by "blood"
        scored.append((len(asked & (parts[leaf] - group - _GENERIC)), len(asked & group), path, value, words))
    named = [s for s in scored if s[0]]
    if named:
        best = max(s[0] + s[1] for s in named)
        return _listed(wanted, [(p, v) for leaf, group, p, v, _ in named if leaf + group == best])
    in_group = [s for s in scored if s[1]]
    if in_group:
        covered = frozenset().union(*(words for *_, words in in_group))
        if asked - covered:  # a test of a recorded group, its value not recorded
            return f"{_upper(wanted)}: normal."
        return _listed(wanted, [(p, v) for _, _, p, v, _ in in_group])
    return f"{_upper(wanted) or 'That'}: not available."


def _listed(wanted: str, entries: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{path}: {value}" for path, value in entries[:MAX_ENTRIES])
    more = f" (and {len(entries) - MAX_ENTRIES} more)" if len(entries) > MAX_ENTRIES else ""
    return f"{_upper(wanted)} - {shown}{more}."


def _tokens(text: str) -> set[str]:
    text = text.lower()
    for pattern, canonical in _PHRASES:
        text = re.sub(pattern, f" {canonical} ", text)
    return {_singular(w) for w in re.findall(r"[a-z0-9]+", text)}


@lru_cache(maxsize=8192)
def _part_tokens(part: str) -> frozenset[str]:
    """One component of a record path, tokenised once (the G episodes of a case ask about the same record)."""
    return frozenset(_tokens(part))


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


_GENERIC = {_singular(w) for w in _RAW_GENERIC}
_CUE_WORDS = {t for w in _RAW_CUE_WORDS for t in _tokens(w)}
_MODALITIES = {t for w in _RAW_MODALITIES for t in _tokens(w)}


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]
