"""Partial credit for a named diagnosis, from the knowledge base's ontology.

Exact name or alias = full credit; same ICD-10 3-character category; same organ system; else none.
"""

from __future__ import annotations

from dataclasses import dataclass

from grpodx.cases import Case
from grpodx.knowledge import Condition, KnowledgeBase, normalise_name


@dataclass(frozen=True)
class DiagnosisCredit:
    """Credit levels, each in [0, 1]; config."""

    exact: float = 1.0
    category: float = 0.5
    organ_system: float = 0.2


def _contains(answer: str, name: str) -> bool:
    name = normalise_name(name)
    return bool(name) and f" {name} " in f" {answer} "


def named_condition(answer: str, kb: KnowledgeBase) -> Condition | None:
    """The knowledge-base condition an answer names: exact, else the longest name it contains."""
    exact = kb.condition(answer)
    if exact is not None:
        return exact
    normal = normalise_name(answer)
    best, best_len = None, 0
    for condition in kb.conditions:
        for name in (condition.name, *condition.aliases):
            size = len(normalise_name(name))
            if size > best_len and _contains(normal, name):
                best, best_len = condition, size
    return best


def diagnosis_credit(answer: str | None, case: Case, kb: KnowledgeBase,
                     credit: DiagnosisCredit = DiagnosisCredit()) -> tuple[float, str]:
    """(credit, level) for the doctor's final answer against the hidden diagnosis."""
    if not answer:
        return 0.0, "missing"
    normal = normalise_name(answer)
    if any(normalise_name(n) == normal or _contains(normal, n) for n in case.diagnosis_names):
        return credit.exact, "exact"
    named = named_condition(answer, kb)
    if named is None:
        return 0.0, "unrecognised"
    if named.icd10[:3].upper() == case.icd10[:3].upper():
        return credit.category, "category"
    if named.organ_system == case.organ_system:
        return credit.organ_system, "organ_system"
    return 0.0, "wrong"
