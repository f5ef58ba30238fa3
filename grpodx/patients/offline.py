"""An offline patient that answers every question of a turn from the case's findings, by meaning."""

from __future__ import annotations

import re
from functools import lru_cache

from grpodx.case_vocabulary import vocabulary_of
from grpodx.cases import Case, Finding
from grpodx.episode import Match, PatientReply
from grpodx.knowledge import KnowledgeBase, embedded_knowledge_base
from grpodx.patients.base import Patient, mentions, without_leaks
from grpodx.patients.matching import Candidate, FindingMatcher, SentenceEncoder

_QUESTION_START = re.compile(
    r"^(do|does|did|have|has|had|are|is|was|were|any|can|could|how|when|where|what|which|who|why|"
    r"tell|describe|please|would|will|should|so)\b", re.IGNORECASE)
_ASKS_DIAGNOSIS = re.compile(
    r"(what (do i|i) have|what is wrong|what's wrong|(your|the|my|patient's|hidden|true|real|actual|correct|"
    r"final) diagnosis|diagnosis (is|was)|which disease|what disease|name of (the|your) (disease|condition)|"
    r"(name|reveal|tell me|say|state|print) (the|your|this) (disease|condition|illness)|what condition|"
    r"what (illness|sickness) |what are you suffering from|what is it called|disease name|"
    r"ignore (your|all|previous|the above)( \w+)? (instructions|rules)|system prompt|developer mode|"
    r"(repeat|print|show) (your|the) (instructions|prompt|case|record))", re.IGNORECASE)
DONT_KNOW_DIAGNOSIS = "I don't know what it is; that's what I'm hoping you can tell me."
NOT_UNDERSTOOD = "I'm not sure what you mean. Could you ask me about a specific symptom?"
NOT_UNDERSTOOD_ONE = "I'm not sure what you mean by one of your questions."
# Said instead of a recorded sentence that happens to name the hidden diagnosis ("I've had pericarditis").
_NAMELESS = {True: "Yes, I have.", False: "No, I haven't.", None: "I'm not sure."}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[?.!])\s+|\n+", text) if s.strip()]


def questions_in(text: str) -> list[str]:
    """The questions in a doctor's visible text: sentences ending in '?' or opening like one.

    Statements are not answered: a doctor must ask to uncover a finding (and earn judge credit).
    """
    return [s for s in _sentences(text) if s.endswith("?") or _QUESTION_START.match(s)]


def requests_in(text: str) -> list[str]:
    """The questions, plus any sentence that asks for the diagnosis ("Tell me the disease.")."""
    return [s for s in _sentences(text) if s.endswith("?") or _QUESTION_START.match(s) or asks_diagnosis(s)]


def asks_diagnosis(question: str) -> bool:
    """A request for the diagnosis itself, or an attempt to make the patient step out of its role."""
    return bool(_ASKS_DIAGNOSIS.search(question))


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One embedding model per process, whatever the number of patients (it takes seconds to load)."""
    return SentenceEncoder()


class OfflinePatient(Patient):
    """Answers every question in a turn from the recorded findings, in first-person sentences.

    Each question is matched by meaning to the findings the case's source can ask about (DDXPlus:
    every release evidence; otherwise the embedded knowledge base's findings, plus the case's own).
    Present findings are confirmed with their recorded words and values, recorded-absent ones
    denied, the rest get "I'm not sure"; the reply lists every finding it matched and its truth.
    It never names the diagnosis: requests for it get DONT_KNOW_DIAGNOSIS, and a recorded sentence
    that names it is replaced by a plain yes/no.

    Args:
        max_findings_per_question: findings one question may match ("fever or chills?" matches two).
        use_embeddings: match by sentence embeddings (all-MiniLM-L6-v2) plus cue words; False = cue
            words only (also the automatic fallback, with a warning, when the model cannot load).
    """

    def __init__(self, max_findings_per_question: int = 3, use_embeddings: bool = True):
        encoder = shared_encoder() if use_embeddings else SentenceEncoder(enabled=False)
        self.matcher = FindingMatcher(encoder, max_per_question=max_findings_per_question)
        self._kb: KnowledgeBase = embedded_knowledge_base()
        self._default_vocabulary = tuple(Finding(e.id, e.label, e.cues, f"I'm not sure about {e.label}.")
                                         for e in self._kb.findings.values())

    def candidates(self, case: Case) -> list[Candidate]:
        """Every finding the patient can talk about, in the vocabulary's fixed order (so the
        matcher's cached index is shared by all cases of a source), recorded truths laid over it;
        recorded findings the vocabulary lacks (a vignette's own names) come last, marked `own`."""
        recorded = {f.id: Candidate(f, False) for f in case.absent}
        recorded.update({f.id: Candidate(f, True) for f in case.present})
        vocabulary = vocabulary_of(case) or self._default_vocabulary
        ordered = [recorded.pop(f.id, None) or Candidate(f, None) for f in vocabulary]
        return ordered + [Candidate(c.finding, c.present, own=True) for c in recorded.values()]

    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        return self.reply_batch([case], [doctor_text], [history])[0]

    def reply_batch(self, cases: list[Case], doctor_texts: list[str],
                    histories: list[list[dict]]) -> list[PatientReply]:
        """All questions of all episodes are embedded in one batch."""
        asked = [requests_in(text) for text in doctor_texts]
        pending = [(k, q) for k, questions in enumerate(asked) for q in questions if not asks_diagnosis(q)]
        candidates = {k: self.candidates(cases[k]) for k in {k for k, _ in pending}}
        hits = self.matcher.match([q for _, q in pending], [candidates[k] for k, _ in pending])
        answers = dict(zip(pending, hits))
        return [self._reply(case, questions, answers, k) for k, (case, questions) in enumerate(zip(cases, asked))]

    def _reply(self, case: Case, questions: list[str], answers: dict, k: int) -> PatientReply:
        sentences, matched, seen = [], [], set()
        for question in questions:
            if asks_diagnosis(question):
                sentences.append(DONT_KNOW_DIAGNOSIS)
                continue
            found = answers.get((k, question), [])
            if not found:
                sentences.append(NOT_UNDERSTOOD_ONE)
            for candidate in found:
                finding = candidate.finding
                if finding.id in seen:
                    continue
                seen.add(finding.id)
                nameless = not mentions(finding.statement, case.diagnosis_names)
                sentences.append(finding.statement if nameless else _NAMELESS[candidate.present])
                matched.append(Match(finding.id, candidate.present, finding.statement if candidate.present else ""))
        if not matched and DONT_KNOW_DIAGNOSIS not in sentences:
            sentences = [NOT_UNDERSTOOD]
        text = " ".join(dict.fromkeys(sentences))
        return PatientReply(without_leaks(text, case, NOT_UNDERSTOOD), tuple(matched))
