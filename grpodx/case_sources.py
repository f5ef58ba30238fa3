"""Where cases come from: a reference string in the config becomes a CaseSource.

`kb` samples patients from the embedded knowledge base. Training and held-out cases come from
separate seeded streams, so the validation split is fixed and never drawn for training.
"""

from __future__ import annotations

import random

from grpodx.cases import Case
from grpodx.errors import ConfigError
from grpodx.knowledge import KnowledgeBase, embedded_knowledge_base, sample_case


class CaseSource:
    """A deterministic, indexable supply of training cases plus a fixed held-out list."""

    def train_case(self, index: int, seed: int) -> Case:
        raise NotImplementedError

    def held_out(self, count: int, seed: int) -> list[Case]:
        raise NotImplementedError


class KnowledgeBaseCases(CaseSource):
    """Patients drawn from the knowledge base: a uniform condition, then findings by frequency."""

    def __init__(self, kb: KnowledgeBase):
        if not kb.conditions:
            raise ConfigError("data.init_args.cases", "the knowledge base has no conditions",
                              "add conditions to grpodx/knowledge/conditions.json")
        self.kb = kb

    def train_case(self, index: int, seed: int) -> Case:
        rng = random.Random(f"train-{seed}-{index}")
        return sample_case(self.kb, rng.choice(self.kb.conditions), rng, f"kb-train-{index}")

    def held_out(self, count: int, seed: int) -> list[Case]:
        """Round-robin over conditions so every condition is validated on."""
        conditions = self.kb.conditions
        return [sample_case(self.kb, conditions[i % len(conditions)], random.Random(f"heldout-{seed}-{i}"),
                            f"kb-heldout-{i}") for i in range(count)]


def case_source(reference: str) -> CaseSource:
    """Parse `data.cases`; unknown references fail with the accepted forms."""
    if reference == "kb":
        return KnowledgeBaseCases(embedded_knowledge_base())
    raise ConfigError("data.init_args.cases", f"unknown case source {reference!r}",
                      "use 'kb' (the embedded knowledge base)")
