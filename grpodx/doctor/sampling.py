"""Drawing the next token by inverse CDF instead of `torch.multinomial`.

Measured on this CPU: `torch.multinomial` over SmolLM2's 49,152-token vocabulary takes 16 ms per
decode step for 16 rows, a quarter of the step; a cumulative sum and a binary search draw from the
same distribution in under 1 ms. `generate` runs greedy with this processor last: it draws a token
per row and leaves that token the only finite score, so the greedy pick is the draw.
"""

from __future__ import annotations

import torch
from torch import Tensor
from transformers import LogitsProcessor


def nucleus(probs: Tensor, top_p: float) -> Tensor:
    """Zero every token outside the smallest set whose probability reaches `top_p` (kept >= 1)."""
    if top_p >= 1.0:
        return probs
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    outside = sorted_probs.cumsum(-1) - sorted_probs >= top_p  # mass before the token already enough
    sorted_probs = sorted_probs.masked_fill(outside, 0.0)
    return torch.zeros_like(probs).scatter_(-1, order, sorted_probs)


def inverse_cdf_draw(probs: Tensor) -> Tensor:
    """One token id per row of (unnormalised) probabilities [B, V]; zero-probability ids never come
    out. Draws from torch's global generator, as `multinomial` does, so seeding and resume hold."""
    cdf = probs.double().cumsum(-1)
    u = torch.rand((probs.shape[0], 1), dtype=torch.float64, device=probs.device) * cdf[:, -1:]
    token = torch.searchsorted(cdf, u, right=True)
    return torch.minimum(token, torch.tensor(probs.shape[-1] - 1, device=probs.device)).squeeze(-1)


class InverseCDFSampler(LogitsProcessor):
    """Temperature and top-p sampling as the last logits processor of a greedy `generate`."""

    def __init__(self, temperature: float = 1.0, top_p: float = 1.0):
        self.temperature, self.top_p = temperature, top_p

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        logits = scores.float() if self.temperature == 1.0 else scores.float() / self.temperature
        probs = nucleus(torch.softmax(logits, dim=-1), self.top_p)
        token = inverse_cdf_draw(probs)
        return torch.full_like(scores, float("-inf")).scatter_(-1, token[:, None], 0.0)
