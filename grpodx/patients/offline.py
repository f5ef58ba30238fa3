"""An offline patient that answers every question of a turn from the case's findings, by meaning."""

from __future__ import annotations

from functools import lru_cache

from grpodx.cases import Case, Finding
from grpodx.episode import Match, PatientReply
from grpodx.cases.knowledge import KnowledgeBase, embedded_knowledge_base
from grpodx.patients.base import Patient
from grpodx.cases.names import mentions, without_leaks
from grpodx.patients.condition_names import asks_history, world_of
from grpodx.patients.matching import Candidate, FindingMatcher, SentenceEncoder
from grpodx.patients.questions import (DEFAULT_MAX_QUESTIONS, asks_diagnosis, checked_budget, over_budget_line,
                                       questions_in, requests_in)

DONT_KNOW_DIAGNOSIS = "I don't know what it is; that's what I'm hoping you can tell me."
NOT_UNDERSTOOD = "I'm not sure what you mean. Could you ask me about a specific symptom?"
NOT_UNDERSTOOD_ONE = "I'm not sure what you mean by one of your questions."
# A history question about a condition no recorded finding speaks of ("Have you had gout before?").
NOT_KNOWN_HISTORY = "I'm not sure; I don't remember anything like that."
# Said instead of a recorded sentence that names a condition ("I've had pericarditis").
_NAMELESS = {True: "Yes, I have.", False: "No, I haven't.", None: "I'm not sure."}
__all__ = ["DONT_KNOW_DIAGNOSIS", "OfflinePatient", "asks_diagnosis", "questions_in", "requests_in"]


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
    that names it is replaced by a plain yes/no. A question naming a condition ("Do you have
    migraine?") is such a request unless it asks about history (condition_names.py).

    Args:
        max_findings_per_question: findings one question may match ("fever or chills?" matches two).
        use_embeddings: match by sentence embeddings (all-MiniLM-L6-v2) plus cue words; False = cue
            words only (also the automatic fallback, with a warning, when the model cannot load).
        max_questions_per_turn: questions (requests for the diagnosis included) answered per turn;
            the rest get one line saying so, so asking more per turn earns no more findings.
    """

    def __init__(self, max_findings_per_question: int = 3, use_embeddings: bool = True,
                 max_questions_per_turn: int = DEFAULT_MAX_QUESTIONS):
        self.max_questions_per_turn = checked_budget(max_questions_per_turn)
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
        vocabulary = case.vocabulary or self._default_vocabulary
        ordered = [recorded.pop(f.id, None) or Candidate(f, None) for f in vocabulary]
        return ordered + [Candidate(c.finding, c.present, own=True) for c in recorded.values()]

    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        return self.reply_batch([case], [doctor_text], [history])[0]

    def reply_batch(self, cases: list[Case], doctor_texts: list[str],
                    histories: list[list[dict]]) -> list[PatientReply]:
        """Each episode's first `max_questions_per_turn` requests are answered; all questions of
        all episodes are embedded in one batch."""
        asked = [requests_in(text) for text in doctor_texts]
        plans = {(k, q): self.plan(case, q) for k, (case, questions) in enumerate(zip(cases, asked))
                 for q in questions[:self.max_questions_per_turn]}
        searched = self._search_lists(cases, plans)
        pending = [key for key, found in searched.items() if found]
        answers = dict(zip(pending, self.matcher.match([q for _, q in pending], [searched[key] for key in pending])))
        return [self._reply(case, questions, plans, answers, k)
                for k, (case, questions) in enumerate(zip(cases, asked))]

    @staticmethod
    def plan(case: Case, question: str) -> tuple[str, ...] | None:
        """None: a request for the diagnosis (asked for, or a condition of the case's world named
        outside a history question); else the conditions a history question names (often none)."""
        if asks_diagnosis(question):
            return None
        named = world_of(case).named_in(question, case.present + case.absent)
        return None if named and not asks_history(question) else named

    def _search_lists(self, cases: list[Case], plans: dict) -> dict[tuple[int, str], list[Candidate]]:
        """The findings each answerable question may be matched to, built once per Case (the G
        episodes of a group share one) and per named condition. A history question about a
        condition is answered only by a finding about it ("Have you ever had pneumonia?"), never
        by the symptoms the condition causes."""
        everything, about, searched = {}, {}, {}
        for (k, question), named in plans.items():
            if named is None:
                continue
            case = cases[k]
            if id(case) not in everything:
                everything[id(case)] = self.candidates(case)
            if named and (id(case), named) not in about:
                world, conditions = world_of(case), frozenset(named)
                about[(id(case), named)] = [c for c in everything[id(case)] if world.is_about(c.finding, conditions)]
            searched[(k, question)] = about[(id(case), named)] if named else everything[id(case)]
        return searched

    def _reply(self, case: Case, questions: list[str], plans: dict, answers: dict, k: int) -> PatientReply:
        sentences, matched, seen, world = [], [], set(), world_of(case)
        for question in questions[:self.max_questions_per_turn]:
            plan = plans[(k, question)]
            if plan is None:
                sentences.append(DONT_KNOW_DIAGNOSIS)
                continue
            found = answers.get((k, question), [])
            if not found:
                sentences.append(NOT_KNOWN_HISTORY if plan else NOT_UNDERSTOOD_ONE)
            for candidate in found:
                finding = candidate.finding
                if finding.id in seen:
                    continue
                seen.add(finding.id)
                # any condition of the world, not only the hidden one: what is said must not depend on which it is
                nameless = not (world.named_in(finding.statement) or mentions(finding.statement, case.diagnosis_names))
                sentences.append(finding.statement if nameless else _NAMELESS[candidate.present])
                matched.append(Match(finding.id, candidate.present, finding.statement if candidate.present else ""))
        if not matched and not {DONT_KNOW_DIAGNOSIS, NOT_KNOWN_HISTORY} & set(sentences):
            sentences = [NOT_UNDERSTOOD]
        if len(questions) > self.max_questions_per_turn:
            sentences.append(over_budget_line(self.max_questions_per_turn))
        text = " ".join(dict.fromkeys(sentences))
        return PatientReply(without_leaks(text, case, NOT_UNDERSTOOD), tuple(matched), questions=len(questions))
