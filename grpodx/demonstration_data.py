"""The warm start's DataModule: batches of demonstrations, and the same held-out cases as GRPO.

Training cycles through the demonstrations, each pass in a new seeded order; the held-out cases
come from `cases` exactly as CaseDataModule draws them, so validation is GRPO's validation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from torch.utils.data import DataLoader, IterableDataset

from grpodx.data import CaseDataModule, _as_is
from grpodx.demonstrations import Demonstration, read_demonstrations
from grpodx.dialogue import differential, split_reasoning
from grpodx.errors import ConfigError

FIELD = "data.init_args.demonstrations"


@dataclass(frozen=True)
class DemonstrationBatch:
    """The demonstrations of one training step, with their position in the stream (for resume)."""

    index: int
    demonstrations: list[Demonstration]


class DemonstrationStream(IterableDataset):
    """Batch k holds stream positions (k*world + rank)*batch_size ...: ranks never share one, and
    position p is demonstration order[p % n] of pass p // n (each pass reshuffled by the seed)."""

    def __init__(self, demonstrations: list[Demonstration], batch_size: int, seed: int, start: int,
                 rank: int, world_size: int):
        self.demonstrations, self.batch_size, self.seed = demonstrations, batch_size, seed
        self.start, self.rank, self.world_size = start, rank, world_size

    @lru_cache(maxsize=2)
    def _order(self, number: int) -> list[int]:
        order = list(range(len(self.demonstrations)))
        random.Random(f"demonstrations-{self.seed}-{number}").shuffle(order)
        return order

    def __iter__(self):
        index, n = self.start, len(self.demonstrations)
        while True:
            first = (index * self.world_size + self.rank) * self.batch_size
            picked = [self.demonstrations[self._order(p // n)[p % n]] for p in range(first, first + self.batch_size)]
            yield DemonstrationBatch(index, picked)
            index += 1


class DemonstrationDataModule(CaseDataModule):
    """Demonstrations for training; `cases`' held-out slice for validation/test (as GRPO's).

    Args:
        demonstrations: a JSONL file written by `python -m grpodx.demonstrations` from `cases`.
        cases: the case source the demonstrations were played on (its held-out cases validate).
        batch_size: demonstrations (whole episodes) per optimizer step.
        val_size, val_batch_size, seed: as in CaseDataModule.
    """

    def __init__(self, demonstrations: str, cases: str = "kb", batch_size: int = 8, val_size: int = 16,
                 val_batch_size: int = 8, seed: int = 1234):
        super().__init__(cases, batch_size, val_size, val_batch_size, seed)
        self.demonstrations = read_demonstrations(demonstrations, FIELD)
        played_on = {d.cases for d in self.demonstrations}
        if {_normalised(c) for c in played_on} != {_normalised(cases)}:
            raise ConfigError(FIELD, f"the demonstrations were played on {sorted(played_on)}, but data.cases "
                              f"is {cases!r}", "set data.cases to their source, or regenerate them from this one")
        held_out = {c.case_id for c in self.source.held_out(val_size, seed)}
        leaked = sorted({d.case_id for d in self.demonstrations} & held_out)
        if leaked:
            raise ConfigError(FIELD, f"{len(leaked)} demonstrations are held-out cases (e.g. {leaked[0]})",
                              "regenerate them with python -m grpodx.demonstrations (training cases only)")
        self.max_turns = max(len(d.turns) for d in self.demonstrations)
        self.condition_names = condition_names(self.demonstrations)

    def train_dataloader(self):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        stream = DemonstrationStream(self.demonstrations, self.batch_size, self.seed, self.next_batch, rank, world)
        return DataLoader(stream, batch_size=None, collate_fn=_as_is, generator=self._own_generator())


def condition_names(demonstrations: list[Demonstration]) -> tuple[str, ...]:
    """Every condition the demonstrations name: hidden and final diagnoses and the last turns'
    differentials (the warm start weighs their tokens up: WarmStartConfig.diagnosis_weight)."""
    names = set()
    for d in demonstrations:
        names |= {d.hidden_diagnosis, d.final_diagnosis,
                  *differential(split_reasoning(d.turns[-1].text).visible_text)}
    return tuple(sorted(n for n in names if n.strip()))


def _normalised(reference: str) -> str:
    """'ddxplus-sample:../data/x/' and 'ddxplus-sample:/abs/data/x' name the same source."""
    kind, sep, path = reference.partition(":")
    return f"{kind}:{Path(path.strip()).expanduser().resolve()}" if sep else reference
