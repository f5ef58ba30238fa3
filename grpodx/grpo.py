"""GRPO math as pure tensor functions: advantages, per-token log-probs, the clipped loss.

Names follow the papers: DeepSeekMath (GRPO), Dr. GRPO (no std scaling, a constant normaliser),
DAPO (token-level aggregation, asymmetric clip). No I/O, no models, no Lightning: every function is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

SCALE_MODES = ("group", "batch", "none")
AGGREGATIONS = ("token", "sequence", "constant")
ZERO_ADVANTAGE = 1e-6  # |A| below this is rounding, not signal (fp32 means of G equal rewards)


def group_advantages(rewards: Tensor, valid: Tensor | None = None, scale_rewards: str = "group",
                     eps: float = 1e-4, batch_rewards: Tensor | None = None) -> Tensor:
    """Advantage = (r - mean_group) / (std_group + eps) for rewards shaped [groups, G].

    `scale_rewards`: "group" divides by each group's std (GRPO), "batch" by the std of all valid
    rewards (`batch_rewards`: every rank's, under DDP; default this call's), "none" not at all
    (Dr. GRPO). Std is the unbiased sample std, as in TRL. Invalid episodes (failed API calls) get
    advantage 0 and do not enter the statistics; a group with fewer than two valid episodes gets 0.
    A group whose valid rewards are equal gets exactly 0: in fp32 the mean of five equal rewards can
    be off by 6e-8, which the group std (also ~6e-8) would blow up to +-6e-4 for every episode.
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
        all_valid = rewards[valid] if batch_rewards is None else batch_rewards
        std = all_valid.std() if all_valid.numel() > 1 else rewards.new_tensor(0.0)
        advantages = centered / (std + eps)
    else:
        advantages = centered
    spread = _masked_range(rewards, valid).unsqueeze(1)
    signal = (count >= 2) & (spread > ZERO_ADVANTAGE)
    advantages = advantages * signal.to(rewards.dtype) * weight
    return torch.where(advantages.abs() < ZERO_ADVANTAGE, torch.zeros_like(advantages), advantages)


def _masked_range(rewards: Tensor, valid: Tensor) -> Tensor:
    """max - min of each group's valid rewards (-inf for a group with none)."""
    masked_max = torch.where(valid, rewards, torch.full_like(rewards, -torch.inf)).amax(dim=1)
    masked_min = torch.where(valid, rewards, torch.full_like(rewards, torch.inf)).amin(dim=1)
    return masked_max - masked_min


def zero_std_groups(rewards: Tensor, valid: Tensor | None = None, tolerance: float = ZERO_ADVANTAGE) -> int:
    """How many groups carry no learning signal: all their valid rewards are equal."""
    valid = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid.bool()
    usable = valid.sum(dim=1) >= 2
    return int(((_masked_range(rewards, valid) <= tolerance) & usable).sum())


def selective_log_probs(hidden: Tensor, lm_head_weight: Tensor, targets: Tensor,
                        chunk_size: int = 256, temperature: float = 1.0) -> Tensor:
    """log p(target) under softmax(logits / temperature) for each row of `hidden` [N, d], computing
    vocabulary logits in chunks.

    Why chunks: full-vocabulary fp32 logits for every position (N x 49k floats) dominate a step's
    memory; we only need the sampled token's log-prob at the doctor's own positions. Why the
    temperature: the tokens were drawn from softmax(logits / T), and the ratio and KL must score
    them under that same distribution (as TRL does); at T = 0.7 the untempered log-prob was off by
    0.16 nats per token on SmolLM2 (issue 11).
    """
    out, weight = [], lm_head_weight.float()  # fp32 head: log-softmax over 49k logits needs the precision
    for start in range(0, hidden.shape[0], chunk_size):
        logits = hidden[start:start + chunk_size].float() @ weight.T
        if temperature != 1.0:
            logits = logits / temperature
        picked = logits.gather(1, targets[start:start + chunk_size, None]).squeeze(1)
        out.append(picked - torch.logsumexp(logits, dim=1))
    return torch.cat(out) if out else hidden.new_zeros(0, dtype=torch.float32)


def loss_normaliser(aggregation: str, tokens: float, episodes: float, all_episodes: float,
                    max_episode_tokens: int) -> float:
    """The step's loss denominator, from counts over every valid episode of the step (every rank's).

    "token" (DAPO, TRL's default): all doctor tokens of valid episodes. "sequence" (original GRPO):
    valid episodes with at least one doctor token. "constant" (Dr. GRPO): all episodes x the most
    doctor tokens one episode can hold (max_turns x max_new_tokens), fixed for a run, so a step's
    gradient does not grow when its episodes happen to be short. Counting episodes whose rows are
    skipped (advantage 0, no KL term) keeps the others' weight independent of `beta`.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    count = {"token": tokens, "sequence": episodes, "constant": all_episodes * max_episode_tokens}[aggregation]
    return max(float(count), 1.0)


def aggregation_weights(episode_ids: Tensor, episode_tokens: Tensor, normaliser: float,
                        aggregation: str = "token") -> Tensor:
    """Per-token weights that turn a sum over scored tokens into the step's loss.

    "token" and "constant": every token weighs 1 / normaliser. "sequence": each episode weighs
    1 / normaliser, spread evenly over its `episode_tokens[e]` doctor tokens. With the normaliser of
    `loss_normaliser`, micro-batches, skipped rows and ranks all add up to the one full-batch loss.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    if aggregation == "sequence":
        return 1.0 / (episode_tokens[episode_ids].float().clamp(min=1) * normaliser)
    return torch.full(episode_ids.shape, 1.0 / normaliser)


@dataclass
class LossTerms:
    """The loss, and per scored token what TensorBoard shows (TRL's terms; no gradient)."""

    loss: Tensor
    per_token_kl: Tensor
    ratio: Tensor  # pi / pi_old (TRL's coef_1)
    low_clipped: Tensor  # ratio < 1 - eps_low with A < 0: the clip took this token's gradient away
    high_clipped: Tensor  # ratio > 1 + eps_high with A > 0


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
    ratio = ratio.detach()
    return LossTerms(
        loss=(per_token * weights).sum(),
        per_token_kl=kl.detach(),
        ratio=ratio,
        low_clipped=(ratio < 1 - epsilon_low) & (advantages < 0),
        high_clipped=(ratio > 1 + epsilon_high) & (advantages > 0),
    )
