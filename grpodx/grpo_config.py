"""GRPO hyper-parameters, named as in the papers and validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grpodx.errors import ConfigError


@dataclass
class GRPOConfig:
    """The optimisation side of a step.

    Args:
        scale_rewards: `group` (GRPO), `batch`, or `none` (Dr. GRPO) std scaling of advantages.
        aggregation: how token losses add up to the step's loss. `token` (DAPO, TRL's default):
            every doctor token weighs 1 / (doctor tokens of all valid episodes of the step);
            `sequence` (original GRPO): every valid episode weighs 1 / (valid episodes), spread
            over its tokens; `constant` (Dr. GRPO): every token weighs 1 / (episodes x max_turns x
            doctor.max_new_tokens), a fixed normaliser, so short episodes do not get a larger
            step. Every normaliser counts all valid episodes of the step on every rank, including
            those whose rows the update skips (advantage 0 with beta = 0), so skipping and beta
            never change the gradient's scale.
        epsilon, epsilon_high: PPO clip range [1 - epsilon, 1 + epsilon_high] (epsilon_high defaults
            to epsilon); only active when num_iterations > 1 reuses a rollout.
        beta: weight of the k3 KL to the reference policy, the one the run started from (the base
            model, or model.doctor.adapter's weights as loaded); 0 disables it.
        num_iterations: optimizer updates per rollout (mu in the GRPO paper).
        learning_rate, weight_decay, max_grad_norm: AdamW and gradient clipping.
        micro_batch_tokens: padded tokens per forward/backward micro-batch (memory bound).
        logprob_chunk: positions per chunk when computing vocabulary log-probs.
        share_prefixes: run each episode as one sequence whose turns share their prompt prefix
            (grpodx.prefix_sharing: the same exact contexts and log-probs on fewer tokens; the
            transformers backend only, Unsloth keeps one row per turn).
    """

    scale_rewards: Literal["group", "batch", "none"] = "group"
    aggregation: Literal["token", "sequence", "constant"] = "token"
    epsilon: float = 0.2
    epsilon_high: float | None = None
    beta: float = 0.0
    num_iterations: int = 1
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    micro_batch_tokens: int = 512
    logprob_chunk: int = 256
    share_prefixes: bool = True

    def validate(self) -> None:
        """Called by the module at start-up, before any weights load (not during parsing)."""
        field = "model.init_args.grpo"
        if self.learning_rate <= 0:
            raise ConfigError(f"{field}.learning_rate", f"must be > 0, got {self.learning_rate}", "use e.g. 1e-4")
        if self.epsilon <= 0 or (self.epsilon_high is not None and self.epsilon_high <= 0):
            raise ConfigError(f"{field}.epsilon", "clip range must be > 0", "use e.g. 0.2")
        if self.beta < 0:
            raise ConfigError(f"{field}.beta", f"must be >= 0, got {self.beta}", "use 0 (no KL) or e.g. 0.04")
        if self.num_iterations < 1:
            raise ConfigError(f"{field}.num_iterations", "must be >= 1", "use 1")
        if self.micro_batch_tokens < 64 or self.logprob_chunk < 1:
            raise ConfigError(f"{field}.micro_batch_tokens", "must be >= 64 (and logprob_chunk >= 1)", "use 512")
        if self.max_grad_norm <= 0:
            raise ConfigError(f"{field}.max_grad_norm", "must be > 0", "use 1.0")
