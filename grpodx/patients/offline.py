"""An offline patient that answers from the case's findings by matching the doctor's cue words."""

from __future__ import annotations

import re

from grpodx.cases import Case, Finding
from grpodx.episode import Match, PatientReply
from grpodx.knowledge import KnowledgeBase, embedded_knowledge_base
from grpodx.patients.base import Patient, without_leaks

_QUESTION_START = re.compile(
    r"^(do|does|did|have|has|had|are|is|was|were|any|can|could|how|when|where|what|which|who|why|"
    r"tell|describe|please|would|will|should|so)\b", re.IGNORECASE)
_ASKS_DIAGNOSIS = re.compile(
    r"(what (do i|i) have|what is wrong|what's wrong|your diagnosis|the diagnosis|which disease|"
    r"what disease|name of (the|your) (disease|condition)|what condition|tell me (the|your) (disease|condition)|"
    r"ignore (your|all|previous) instructions)", re.IGNORECASE)
DONT_KNOW_DIAGNOSIS = "I don't know what it is; that's what I'm hoping you can tell me."
NOT_UNDERSTOOD = "I'm not sure what you mean. Could you ask me about a specific symptom?"


def questions_in(text: str) -> list[str]:
    """The questions in a doctor's visible text: sentences ending in '?' or opening like one.

    Statements are not answered: a doctor must ask to uncover a finding (and earn judge credit).
    """
    sentences = [s.strip() for s in re.split(r"(?<=[?.!])\s+|\n+", text) if s.strip()]
    return [s for s in sentences if s.endswith("?") or _QUESTION_START.match(s)]


def _cue_hits(question: str, finding_cues: tuple[str, ...]) -> int:
    lowered = question.lower()
    return sum(1 for cue in finding_cues
               if re.search(rf"(?<![a-z]){re.escape(cue.lower())}(?![a-z])", lowered))


class OfflinePatient(Patient):
    """Answers every question in a turn from the recorded findings, in first-person sentences.

    Present findings are confirmed with their recorded wording, recorded-absent ones denied, and
    findings the case does not record get "I'm not sure"; the reply lists what it matched.
    """

    def __init__(self, max_findings_per_question: int = 3):
        self.max_findings_per_question = max_findings_per_question
        self._kb: KnowledgeBase = embedded_knowledge_base()

    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        recorded = [(f, True) for f in case.present] + [(f, False) for f in case.absent]
        recorded_ids = {f.id for f, _ in recorded}
        unknown = [(Finding(e.id, e.label, e.cues, f"I'm not sure about {e.label}."), None)
                   for e in self._kb.findings.values() if e.id not in recorded_ids]
        sentences, matched, seen = [], [], set()
        for question in questions_in(doctor_text):
            if _ASKS_DIAGNOSIS.search(question):
                sentences.append(DONT_KNOW_DIAGNOSIS)
                continue
            hits = self._match(question, recorded) or self._match(question, unknown)
            for finding, present in hits:
                if finding.id in seen:
                    continue
                seen.add(finding.id)
                sentences.append(finding.statement)
                matched.append(Match(finding.id, present, finding.statement if present else ""))
        text = " ".join(dict.fromkeys(sentences)) or NOT_UNDERSTOOD
        return PatientReply(without_leaks(text, case, NOT_UNDERSTOOD), tuple(matched))

    def _match(self, question: str, candidates: list[tuple[Finding, bool | None]]):
        scored = [(_cue_hits(question, f.cues), f, p) for f, p in candidates]
        scored = [s for s in scored if s[0] > 0]
        scored.sort(key=lambda s: -s[0])
        return [(f, p) for _, f, p in scored[: self.max_findings_per_question]]
