"""The DataModule: an endless, resumable stream of case batches and a fixed held-out set."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset

from grpodx.cases.sources import case_source
from grpodx.cases import CaseBatch
from grpodx.errors import ConfigError


class CaseStream(IterableDataset):
    """Batch k holds cases k*batch_size ... of this rank's stream; starts at `start` on resume."""

    def __init__(self, source, batch_size: int, seed: int, start: int, rank: int, world_size: int):
        self.source, self.batch_size, self.seed = source, batch_size, seed
        self.start, self.rank, self.world_size = start, rank, world_size

    def __iter__(self):
        index = self.start
        while True:
            first = (index * self.world_size + self.rank) * self.batch_size  # ranks never share a case
            yield CaseBatch(index, [self.source.train_case(first + j, self.seed) for j in range(self.batch_size)])
            index += 1


def _as_is(item):
    return item


class CaseDataModule(L.LightningDataModule):
    """Yields CaseBatch objects; remembers how far the stream got so resume neither repeats nor
    skips a case.

    Args:
        cases: the case source (`kb`: the embedded knowledge base).
        batch_size: cases per training step (each runs group_size episodes).
        val_size: held-out cases for validation/test (greedy, one episode each).
        val_batch_size: held-out cases per validation batch.
        seed: seed of the case streams.
    """

    def __init__(self, cases: str = "kb", batch_size: int = 2, val_size: int = 8, val_batch_size: int = 8,
                 seed: int = 1234):
        super().__init__()
        if batch_size < 1:
            raise ConfigError("data.init_args.batch_size", f"must be >= 1, got {batch_size}", "use e.g. 4")
        if val_size < 1 or val_batch_size < 1:
            raise ConfigError("data.init_args.val_size", "val_size and val_batch_size must be >= 1", "use 16 and 8")
        self.cases = cases  # the reference, as given (reports name what they evaluated)
        self.source = case_source(cases)
        self.batch_size, self.val_size, self.val_batch_size, self.seed = batch_size, val_size, val_batch_size, seed
        self.next_batch = 0

    def train_dataloader(self):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        stream = CaseStream(self.source, self.batch_size, self.seed, self.next_batch, rank, world)
        return DataLoader(stream, batch_size=None, collate_fn=_as_is, generator=self._own_generator())

    def _held_out_loader(self):
        cases = self.source.held_out(self.val_size, self.seed)
        trainer = self.trainer
        if trainer and trainer.world_size > 1:
            cases = cases[trainer.global_rank::trainer.world_size]
        batches = [CaseBatch(i, cases[s:s + self.val_batch_size])
                   for i, s in enumerate(range(0, len(cases), self.val_batch_size))]
        return DataLoader(batches, batch_size=None, collate_fn=_as_is, generator=self._own_generator())

    def _own_generator(self) -> torch.Generator:
        """Creating a loader iterator draws a seed; from its own generator, not the sampling RNG, so
        a resumed run samples exactly like an uninterrupted one."""
        return torch.Generator().manual_seed(self.seed)

    def val_dataloader(self):
        return self._held_out_loader()

    def test_dataloader(self):
        return self._held_out_loader()

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        """Cases hold no tensors: nothing to move (and Lightning cannot walk frozen dataclasses)."""
        return batch

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """Called for the batch actually being trained on (not a prefetched one)."""
        if self.trainer is not None and self.trainer.training:
            self.next_batch = batch.index + 1
        return batch

    def state_dict(self) -> dict:
        return {"next_batch": self.next_batch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.next_batch = int(state_dict["next_batch"])
