"""Partial credit for a named diagnosis, from the knowledge base's ontology.

Exact name or alias = full credit; same ICD-10 3-character category; same ICD-10 chapter letter or
organ system; for cases with a recorded differential (DDXPlus), credit by the answer's rank in it;
else none. The best applicable level wins.
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
    differential: float = 0.4


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


def names_match(answer: str, case: Case) -> bool:
    """True when the answer names the hidden diagnosis or one of its aliases."""
    normal = normalise_name(answer)
    return any(normalise_name(n) == normal or _contains(normal, n) for n in case.diagnosis_names)


def differential_rank(answer: str, case: Case) -> int | None:
    """0-based rank of the answer in the case's recorded differential, or None."""
    normal = normalise_name(answer)
    for rank, name in enumerate(case.differential):
        if normalise_name(name) == normal or _contains(normal, name):
            return rank
    return None


def diagnosis_credit(answer: str | None, case: Case, kb: KnowledgeBase,
                     credit: DiagnosisCredit = DiagnosisCredit()) -> tuple[float, str]:
    """(credit, level) for the doctor's final answer against the hidden diagnosis."""
    if not answer:
        return 0.0, "missing"
    if names_match(answer, case):
        return credit.exact, "exact"
    named = named_condition(answer, kb)
    levels = [(0.0, "wrong" if named is not None else "unrecognised")]
    rank = differential_rank(answer, case)
    if rank is not None:
        levels.append((credit.differential * (1 - rank / len(case.differential)), "differential"))
    if named is not None:
        if named.icd10[:3].upper() == case.icd10[:3].upper():
            levels.append((credit.category, "category"))
        elif named.organ_system == case.organ_system or named.icd10[:1].upper() == case.icd10[:1].upper():
            levels.append((credit.organ_system, "organ_system"))
    return max(levels, key=lambda level: level[0])
