"""One sequence per episode instead of one row per turn, with the same exact contexts.

Turn t+1's prompt starts with turn t's whole prompt (the chat template only appends the visible
answer, the reply and, on the last turn, a note), so an episode's rows share their prefixes. Packed
as P_1 C_1 X_1 C_2 X_2 ... C_k (P_1 the first prompt, C_t turn t's completion, X_t what prompt t+1
adds), with an attention mask in which context tokens (P, X) see only earlier context tokens and a
completion sees the context before it plus its own earlier tokens, and with each token at the
position it has in its own row, every scored token sees exactly its row's context: the log-probs
equal the per-row ones, for ~45 % of the tokens on 5-turn demonstrations. Rows whose prompt does
not extend the previous one start a new chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from grpodx.sequences import Row


@dataclass
class PackedBatch:
    """Chains right-padded into [B, T]; `visible[b, q, k]`: may token q attend to token k.

    Scored tokens as in sequences.MicroBatch: hidden[rows, positions] predicts targets.
    """

    input_ids: Tensor
    position_ids: Tensor
    visible: Tensor
    rows: Tensor
    positions: Tensor
    targets: Tensor
    episode_ids: Tensor
    num_tokens: int  # tokens the forward pass runs (padding excluded)
    weights: Tensor  # each scored token's loss weight (Row.weights; 1 where none)

    def attention_bias(self, dtype: torch.dtype) -> Tensor:
        """The additive [B, 1, T, T] mask the attention layers take as-is (0 or the dtype's minimum)."""
        bias = torch.zeros(self.visible.shape, dtype=dtype)
        bias.masked_fill_(~self.visible, torch.finfo(dtype).min)
        return bias[:, None]


def chains(rows: list[Row]) -> list[list[Row]]:
    """Consecutive rows of one episode whose prompt extends the previous row's whole prompt."""
    out: list[list[Row]] = []
    for row in rows:
        last = out[-1][-1] if out else None
        prompt = row.ids[:row.completion_start]
        if (last is not None and last.episode == row.episode and len(prompt) >= last.completion_start
                and prompt[:last.completion_start] == last.ids[:last.completion_start]):
            out[-1].append(row)
        else:
            out.append([row])
    return out


def chain_length(chain: list[Row]) -> int:
    """Tokens of the packed chain: the last prompt plus every completion."""
    return chain[-1].completion_start + sum(r.num_completion_tokens for r in chain)


def pack_chains(all_chains: list[list[Row]], max_tokens: int) -> list[list[list[Row]]]:
    """Group chains so that chains x longest stays under max_tokens (a longer chain goes alone)."""
    batches, current, longest = [], [], 0
    for chain in sorted(all_chains, key=chain_length):
        width = max(longest, chain_length(chain))
        if current and width * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, width = [], chain_length(chain)
        current.append(chain)
        longest = width
    if current:
        batches.append(current)
    return batches


def _layout(chain: list[Row]) -> tuple[list[int], list[int], list[int], list[tuple[int, int, int, float]]]:
    """ids, positions and segment (-1 context, t completion t) of a chain, and its scored tokens as
    (index predicting it, target id, episode, loss weight)."""
    ids, positions, segments, scored = [], [], [], []
    start = 0
    for t, row in enumerate(chain):
        prompt_end = row.completion_start
        ids += row.ids[start:prompt_end]  # the part of this prompt not packed yet
        positions += list(range(start, prompt_end))
        segments += [-1] * (prompt_end - start)
        previous = len(ids) - 1  # the last context token predicts the first completion token
        for p in range(prompt_end, len(row.ids)):
            scored.append((previous, row.ids[p], row.episode, row.weight(p)))
            previous = len(ids)
            ids.append(row.ids[p])
            positions.append(p)
            segments.append(t)
        start = prompt_end
    return ids, positions, segments, scored


def collate_chains(batch: list[list[Row]], pad_id: int) -> PackedBatch:
    """Tensors for chains packed side by side; padding sees only itself (no empty attention rows)."""
    layouts = [_layout(chain) for chain in batch]
    width = max(len(ids) for ids, _, _, _ in layouts)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    position_ids = torch.zeros((len(batch), width), dtype=torch.long)
    visible = torch.eye(width, dtype=torch.bool).repeat(len(batch), 1, 1)
    rows, positions, targets, episodes, weights = [], [], [], [], []
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    for b, (ids, pos, segments, scored) in enumerate(layouts):
        n = len(ids)
        input_ids[b, :n] = torch.tensor(ids)
        position_ids[b, :n] = torch.tensor(pos)
        segment = torch.tensor(segments)
        context = segment == -1
        same = segment[:, None] == segment[None, :]
        visible[b, :n, :n] = causal[:n, :n] & (context[None, :] | (same & ~context[:, None]))
        for index, target, episode, weight in scored:
            rows.append(b)
            positions.append(index)
            targets.append(target)
            episodes.append(episode)
            weights.append(weight)
    as_long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return PackedBatch(input_ids, position_ids, visible, as_long(rows), as_long(positions), as_long(targets),
                       as_long(episodes), sum(len(ids) for ids, _, _, _ in layouts),
                       torch.tensor(weights, dtype=torch.float32))
