"""A case that also carries the question vocabulary of its source.

A patient answers "I'm not sure" to questions about findings the case does not record; to tell such
a question from one it does not understand at all, it must know every finding the source could ask
about. For DDXPlus that is every evidence of release_evidences.json; the tuple is shared by all cases
of one source, so carrying it costs nothing per case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grpodx.cases import Case, Finding


@dataclass(frozen=True)
class CaseWithVocabulary(Case):
    """`vocabulary`: findings the source can ask about (statements say "I'm not sure about …").
    `condition_names`: every condition of the source, (name, *aliases) each: a patient treats a
    question naming any of them alike, whichever is hidden."""

    vocabulary: tuple[Finding, ...] = field(default=(), repr=False, compare=False)
    condition_names: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)


def vocabulary_of(case: Case) -> tuple[Finding, ...] | None:
    """The case's own vocabulary, or None when the patient should use its default one."""
    return case.vocabulary if isinstance(case, CaseWithVocabulary) and case.vocabulary else None


def condition_names_of(case: Case) -> tuple[tuple[str, ...], ...] | None:
    """The source's conditions as (name, *aliases), or None for the embedded knowledge base's."""
    return case.condition_names if isinstance(case, CaseWithVocabulary) and case.condition_names else None
