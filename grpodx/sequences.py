"""Doctor turns as training sequences: exact sampled ids in the context they were sampled in.

Each doctor turn becomes one row, prompt ids + completion ids; only completion positions are
scored, so patient, system and padding tokens are masked by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from grpodx.episode import Episode


@dataclass(frozen=True)
class Row:
    """One doctor turn of one episode: `ids[completion_start:]` are the sampled tokens; `weights`,
    when given, weighs each of them in a supervised loss (the warm start's emphasis; None: all 1)."""

    episode: int
    ids: list[int]
    completion_start: int
    weights: tuple[float, ...] | None = None

    def weight(self, p: int) -> float:
        """The loss weight of the token at position p (a completion position)."""
        return 1.0 if self.weights is None else self.weights[p - self.completion_start]

    @property
    def num_completion_tokens(self) -> int:
        return len(self.ids) - self.completion_start


@dataclass
class MicroBatch:
    """Right-padded rows plus where each scored token sits: hidden[row, position] predicts target."""

    input_ids: Tensor
    attention_mask: Tensor
    rows: Tensor
    positions: Tensor
    targets: Tensor
    episode_ids: Tensor
    weights: Tensor  # each scored token's loss weight (Row.weights; 1 where none)

    @property
    def num_tokens(self) -> int:
        """Tokens the forward pass runs (padding excluded)."""
        return int(self.attention_mask.sum())


def episode_rows(episodes: list[Episode], include: list[bool]) -> list[Row]:
    """Rows for every doctor turn of the included episodes (turns with no sampled token skipped)."""
    return [Row(i, t.prompt_ids + t.completion_ids, len(t.prompt_ids))
            for i, (episode, keep) in enumerate(zip(episodes, include)) if keep
            for t in episode.doctor_turns if t.completion_ids]


def doctor_token_counts(episodes: list[Episode], valid: list[bool]) -> Tensor:
    """Sampled doctor tokens of each valid episode (0 for a failed one): what the loss normalises by,
    whether or not the update runs the episode's rows."""
    return torch.tensor([sum(len(t.completion_ids) for t in e.doctor_turns) if v else 0
                         for e, v in zip(episodes, valid)], dtype=torch.long)


def pack(rows: list[Row], max_tokens: int) -> list[list[Row]]:
    """Group rows into micro-batches whose padded size (rows x longest) stays under max_tokens.

    Sorting by length keeps padding low; a row longer than max_tokens gets a micro-batch alone.
    """
    batches, current, longest = [], [], 0
    for row in sorted(rows, key=lambda r: len(r.ids)):
        width = max(longest, len(row.ids))
        if current and width * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, width = [], len(row.ids)
        current.append(row)
        longest = width
    if current:
        batches.append(current)
    return batches


def collate(rows: list[Row], pad_id: int) -> MicroBatch:
    """Tensors for one micro-batch; targets are the completion ids, predicted one position earlier."""
    width = max(len(r.ids) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    row_idx, positions, targets, episode_ids, weights = [], [], [], [], []
    for b, row in enumerate(rows):
        input_ids[b, : len(row.ids)] = torch.tensor(row.ids)
        attention[b, : len(row.ids)] = 1
        for p in range(row.completion_start, len(row.ids)):
            row_idx.append(b)
            positions.append(p - 1)
            targets.append(row.ids[p])
            episode_ids.append(row.episode)
            weights.append(row.weight(p))
    as_long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return MicroBatch(input_ids, attention, as_long(row_idx), as_long(positions), as_long(targets),
                      as_long(episode_ids), torch.tensor(weights, dtype=torch.float32))
