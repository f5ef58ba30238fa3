"""Partial credit for a named diagnosis, from the knowledge base's ontology.

Which condition an answer names is read by grpodx.cases.names (one rule for the judges, the metrics
and the patients); this is only what each reading earns. Exact name or alias of the hidden
diagnosis = full credit; same ICD-10 3-character category; same ICD-10 chapter letter or organ
system; for cases with a recorded differential (DDXPlus), credit by the answer's rank in it; else
none; an answer naming several conditions (`multi`) earns nothing. The best applicable level wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from grpodx.cases import Case
from grpodx.cases.knowledge import KnowledgeBase
from grpodx.cases.names import differential_rank, read_answer, reading_condition


# what each level means, in words a transcript reader needs ("reward 0.0 (missing)" explains nothing)
LEVEL_WORDS = {
    "exact": "names the hidden diagnosis", "category": "same ICD-10 category", "organ_system": "same organ system",
    "differential": "in the case's recorded differential", "wrong": "another condition",
    "unrecognised": "not a condition the judge knows", "multi": "names several conditions, earns nothing",
    "missing": "no final diagnosis given",
    # OpenAIJudge with `moderator: true` (AgentClinic's same-disease question)
    "same_disease": "the moderator judged it the same disease",
    "not_same_disease": "the moderator judged it a different disease",
}


@dataclass(frozen=True)
class DiagnosisCredit:
    """Credit levels, each in [0, 1]; config."""

    exact: float = 1.0
    category: float = 0.5
    organ_system: float = 0.2
    differential: float = 0.4


def diagnosis_credit(answer: str | None, case: Case, kb: KnowledgeBase,
                     credit: DiagnosisCredit = DiagnosisCredit()) -> tuple[float, str]:
    """(credit, level) for the doctor's final answer against the hidden diagnosis."""
    if not answer:
        return 0.0, "missing"
    reading = read_answer(answer, case, kb)
    if reading.multi:
        return 0.0, "multi"
    if reading.names_hidden:
        return credit.exact, "exact"
    named = reading_condition(reading, kb)
    levels = [(0.0, "wrong" if reading.root is not None else "unrecognised")]
    rank = differential_rank(reading, case, kb)
    if rank is not None:
        levels.append((credit.differential * (1 - rank / len(case.differential)), "differential"))
    if named is not None:
        if named.icd10[:3].upper() == case.icd10[:3].upper():
            levels.append((credit.category, "category"))
        elif named.organ_system == case.organ_system or named.icd10[:1].upper() == case.icd10[:1].upper():
            levels.append((credit.organ_system, "organ_system"))
    return max(levels, key=lambda level: level[0])
