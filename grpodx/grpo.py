"""GRPO math as pure tensor functions: advantages, per-token log-probs, the clipped loss.

Names follow the papers: DeepSeekMath (GRPO), Dr. GRPO (no std scaling), DAPO (token-level
aggregation, asymmetric clip). No I/O, no models, no Lightning: every function is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

SCALE_MODES = ("group", "batch", "none")
AGGREGATIONS = ("token", "sequence")


def group_advantages(rewards: Tensor, valid: Tensor | None = None, scale_rewards: str = "group",
                     eps: float = 1e-4) -> Tensor:
    """Advantage = (r - mean_group) / (std_group + eps) for rewards shaped [groups, G].

    `scale_rewards`: "group" divides by each group's std (GRPO), "batch" by the std of all valid
    rewards, "none" not at all (Dr. GRPO). Std is the unbiased sample std, as in TRL. Invalid
    episodes (failed API calls) get advantage 0 and do not enter the statistics; a group with fewer
    than two valid episodes gets 0 everywhere.
    """
    if scale_rewards not in SCALE_MODES:
        raise ValueError(f"scale_rewards must be one of {SCALE_MODES}, got {scale_rewards!r}")
    valid = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid.bool()
    weight = valid.to(rewards.dtype)
    count = weight.sum(dim=1, keepdim=True)
    mean = (rewards * weight).sum(dim=1, keepdim=True) / count.clamp(min=1)
    centered = (rewards - mean) * weight
    if scale_rewards == "group":
        std = (centered.pow(2).sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)).sqrt()
        advantages = centered / (std + eps)
    elif scale_rewards == "batch":
        all_valid = rewards[valid]
        std = all_valid.std() if all_valid.numel() > 1 else rewards.new_tensor(0.0)
        advantages = centered / (std + eps)
    else:
        advantages = centered
    return advantages * (count >= 2).to(rewards.dtype) * weight


def zero_std_groups(rewards: Tensor, valid: Tensor | None = None, tolerance: float = 1e-6) -> int:
    """How many groups carry no learning signal: all their valid rewards are equal."""
    valid = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid.bool()
    masked_max = torch.where(valid, rewards, torch.full_like(rewards, -torch.inf)).amax(dim=1)
    masked_min = torch.where(valid, rewards, torch.full_like(rewards, torch.inf)).amin(dim=1)
    usable = valid.sum(dim=1) >= 2
    return int(((masked_max - masked_min <= tolerance) & usable).sum())


def selective_log_probs(hidden: Tensor, lm_head_weight: Tensor, targets: Tensor,
                        chunk_size: int = 256) -> Tensor:
    """log p(target) for each row of `hidden` [N, d], computing vocabulary logits in chunks.

    Why: full-vocabulary fp32 logits for every position (N x 49k floats) dominate a step's memory;
    we only need the sampled token's log-prob at the doctor's own positions.
    """
    out, weight = [], lm_head_weight.float()  # fp32 head: log-softmax over 49k logits needs the precision
    for start in range(0, hidden.shape[0], chunk_size):
        logits = hidden[start:start + chunk_size].float() @ weight.T
        picked = logits.gather(1, targets[start:start + chunk_size, None]).squeeze(1)
        out.append(picked - torch.logsumexp(logits, dim=1))
    return torch.cat(out) if out else hidden.new_zeros(0, dtype=torch.float32)


def aggregation_weights(episode_ids: Tensor, num_episodes: int, aggregation: str = "token") -> Tensor:
    """Per-token weights that turn a sum over tokens into the step's loss.

    "token" (DAPO): every doctor token of the step weighs 1/N_tokens. "sequence" (original GRPO):
    each episode weighs 1/N_episodes, spread evenly over its tokens. Weights sum to 1 over the step,
    so micro-batch losses add up to the full-batch loss.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    if aggregation == "token":
        return torch.full(episode_ids.shape, 1.0 / max(episode_ids.numel(), 1))
    lengths = torch.bincount(episode_ids, minlength=num_episodes).float()
    present = int((lengths > 0).sum())
    return 1.0 / (lengths[episode_ids] * max(present, 1))


@dataclass
class LossTerms:
    """The loss and the per-token statistics TensorBoard shows (sums weighted like the loss)."""

    loss: Tensor
    kl: Tensor
    clip_ratio: Tensor
    ratio_mean: Tensor


def kl_k3(log_probs: Tensor, ref_log_probs: Tensor) -> Tensor:
    """Per-token KL(policy || reference) with Schulman's k3 estimator: exp(d) - d - 1, d = ref - policy."""
    delta = ref_log_probs - log_probs
    return torch.exp(delta) - delta - 1


def policy_loss(log_probs: Tensor, old_log_probs: Tensor, advantages: Tensor, weights: Tensor,
                epsilon_low: float = 0.2, epsilon_high: float = 0.2, beta: float = 0.0,
                ref_log_probs: Tensor | None = None) -> LossTerms:
    """Clipped surrogate loss over flat doctor tokens, plus beta * KL to the reference.

    ratio = exp(logp - logp_old); per-token loss = -min(ratio * A, clip(ratio, 1-eps_low, 1+eps_high) * A).
    With one update per rollout logp_old = logp.detach(), the ratio is 1 and this is plain GRPO.
    """
    ratio = torch.exp(log_probs - old_log_probs)
    clipped = ratio.clamp(1 - epsilon_low, 1 + epsilon_high)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    kl = torch.zeros_like(log_probs)
    if beta > 0:
        if ref_log_probs is None:
            raise ValueError("beta > 0 needs ref_log_probs")
        kl = kl_k3(log_probs, ref_log_probs)
        per_token = per_token + beta * kl
    was_clipped = ((ratio * advantages) > (clipped * advantages)).float()
    return LossTerms(
        loss=(per_token * weights).sum(),
        kl=(kl.detach() * weights).sum(),
        clip_ratio=(was_clipped * weights).sum(),
        ratio_mean=(ratio.detach() * weights).sum(),
    )
