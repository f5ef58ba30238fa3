"""The KV cache of every episode's conversation, kept from one doctor turn to the next.

Turn t+1's prompt is turn t's prompt plus the doctor's visible reply and the patient's answer, so
re-encoding the whole conversation every turn (prefill) repeats work that grows with each turn.
The cache keeps each row's prompt keys/values; a new turn only prefills the new suffix. Rows are
left-padded once; each later suffix is right-aligned after a block of padding, so gaps sit in the
middle of a row. They are masked out, and position ids come from the mask's running count, so every
real token keeps the position it would have in an unpadded prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@dataclass
class TurnCache:
    """One rollout's cache; rows are identified by the caller's episode keys."""

    cache: object | None = None
    ids: Tensor | None = None  # [B, W]: every token the cache covers, padding included
    mask: Tensor | None = None  # [B, W]: 1 where a cached token is part of the row's prompt
    prompts: list[list[int]] = field(default_factory=list)
    keys: list = field(default_factory=list)
    reused_tokens: int = 0  # prompt tokens served from the cache instead of prefilled
    prefilled_tokens: int = 0

    def inputs(self, keys: list, prompts: list[list[int]], pad: int) -> tuple[Tensor, Tensor, object | None]:
        """Token ids, attention mask and cache for this turn's `generate` call."""
        if self.cache is None or any(k not in self.keys for k in keys):
            self.cache = None
            ids, mask = left_padded(prompts, pad)
            self.prefilled_tokens += sum(map(len, prompts))
            return ids, mask, None
        rows = [self.keys.index(k) for k in keys]
        self.cache.batch_select_indices(torch.tensor(rows))
        old_ids, old_mask = self.ids[rows], self.mask[rows].clone()
        suffixes = []
        for r, (row, prompt) in enumerate(zip(rows, prompts)):
            previous = self.prompts[row]
            # keep at least one new token: generation must start from a real token of this turn
            keep = min(common_prefix_length(previous, prompt), len(prompt) - 1)
            positions = old_mask[r].nonzero().flatten()
            old_mask[r, positions[keep:]] = 0  # cached tokens the new prompt does not share
            suffixes.append(prompt[keep:])
            self.reused_tokens += keep
        self.prefilled_tokens += sum(map(len, suffixes))
        new_ids, new_mask = left_padded(suffixes, pad)
        return torch.cat([old_ids, new_ids], 1), torch.cat([old_mask, new_mask], 1), self.cache

    def share_prefill(self, prefill, keys: list, prompts: list[list[int]], pad: int) -> None:
        """First turn: the G episodes of a case start from the same prompt, so each distinct prompt
        is encoded once (all but its last token, which `generate` needs as input) and its cache is
        copied to every row that shares it. `prefill(ids, mask)` returns the cache of those rows."""
        distinct = list(dict.fromkeys(tuple(p) for p in prompts))
        if self.cache is not None or len(distinct) == len(prompts) or min(map(len, prompts)) < 2:
            return
        heads = [list(p[:-1]) for p in distinct]
        ids, mask = left_padded(heads, pad)
        cache = prefill(ids, mask)
        rows = torch.tensor([distinct.index(tuple(p)) for p in prompts])
        cache.batch_select_indices(rows)
        self.cache, self.ids, self.mask = cache, ids[rows], mask[rows]
        self.prompts, self.keys = [list(p[:-1]) for p in prompts], list(keys)
        computed = sum(map(len, heads))
        self.prefilled_tokens += computed
        self.reused_tokens -= computed  # `inputs` counts every row's head as reused; the distinct ones were encoded

    def keep(self, keys: list, prompts: list[list[int]], ids: Tensor, mask: Tensor, cache) -> None:
        """After `generate`: keep the prompt part of the cache, drop the sampled tokens (the next
        prompt holds only their visible text, re-encoded with the patient's answer)."""
        sampled = cache.get_seq_length() - ids.shape[1]
        if sampled > 0:
            cache.crop(-sampled)
        self.cache, self.ids, self.mask, self.prompts, self.keys = cache, ids, mask, prompts, list(keys)


def left_padded(prompts: list[list[int]], pad: int) -> tuple[Tensor, Tensor]:
    """Rows end where generation starts."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
        mask[row, width - len(prompt):] = 1
    return ids, mask
