"""The LightningModule: rollout episode groups, then the GRPO update on the doctor's own tokens."""

from __future__ import annotations

import math
import time

import torch

from grpodx import grpo
from grpodx.cases import CaseBatch
from grpodx.doctor import DoctorConfig
from grpodx.doctor_module import DoctorModule
from grpodx.episode import Episode
from grpodx.errors import ConfigError, RolloutInterrupted
from grpodx.grpo_config import GRPOConfig
from grpodx.judges import Judge
from grpodx.patients import Patient
from grpodx.sequences import doctor_token_counts, episode_rows


class DiagnosisGRPO(DoctorModule):
    """GRPO on a LoRA doctor: each step draws cases, runs G episodes of each, and updates.

    Args:
        doctor: model, LoRA adapter and sampling (see DoctorConfig).
        patient: the patient simulator (class_path); default the offline knowledge-base patient.
        judge: the judge (class_path); default the offline knowledge-base judge.
        group_size: G, episodes per case (>= 2: advantages compare episodes of one case).
        max_turns: doctor turns before the episode ends (the last one asks for a diagnosis).
        grpo: loss and optimizer settings (see GRPOConfig).
    """

    def __init__(self, doctor: DoctorConfig | None = None, patient: Patient | None = None,
                 judge: Judge | None = None, group_size: int = 4, max_turns: int = 5,
                 grpo: GRPOConfig | None = None):
        if group_size < 2:
            raise ConfigError("model.init_args.group_size", f"must be >= 2, got {group_size}",
                              "GRPO compares episodes of one case: use e.g. 4")
        super().__init__(doctor, patient, judge, max_turns)
        self.grpo_config = grpo or GRPOConfig()
        self.grpo_config.validate()
        self.group_size = group_size
        self.automatic_optimization = False  # one rollout feeds num_iterations updates of micro-batches
        self.update_observers: list = []  # called (micro-batches done, total) during the update (progress)
        self.save_hyperparameters(ignore=["patient", "judge"])

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.grpo_config.learning_rate,
                                 weight_decay=self.grpo_config.weight_decay)

    # ---- training -------------------------------------------------------------------------------
    def training_step(self, batch: CaseBatch, batch_idx: int) -> dict:
        started = time.perf_counter()
        episodes, stats = self.environment.run(self.policy, batch.cases, self.group_size, greedy=False)
        rewards, valid = self._rewards(episodes)
        g = self.grpo_config
        batch_rewards = self._all_valid_rewards(rewards, valid) if g.scale_rewards == "batch" else None
        advantages = grpo.group_advantages(rewards, valid, g.scale_rewards, batch_rewards=batch_rewards)
        update_started = time.perf_counter()
        terms = self._update(episodes, advantages.flatten(), valid.flatten())
        metrics = {
            **{f"train/{k}": terms[k] for k in ("loss", "kl", "clip_ratio", "clip_ratio_low", "clip_ratio_high",
                                                "ratio_mean", "update_tokens")},
            "train/zero_std_groups": float(grpo.zero_std_groups(rewards, valid)),
            "train/failed_episodes": float((~valid).sum()),
            "train/doctor_tokens_per_s": stats.doctor_tokens_per_s,
            "train/doctor_tokens": float(stats.doctor_tokens),
            "time/doctor_s": stats.doctor_seconds, "time/patient_s": stats.patient_seconds,
            "time/judge_s": stats.judge_seconds, "time/logprob_s": terms["logprob_s"],
            "time/backward_s": terms["backward_s"], "time/optimizer_s": terms["optimizer_s"],
            "time/update_s": time.perf_counter() - update_started,
            "time/step_s": time.perf_counter() - started,
            "train/learning_rate": g.learning_rate,
            "step": float(self.global_step),  # TensorBoard's x: steps done (from 1), as console and transcripts
        }
        self.log_dict(metrics, on_step=True, on_epoch=False, batch_size=len(episodes), sync_dist=self.world_size > 1)
        return {"episodes": episodes}  # what the callbacks read (metrics, transcripts)

    def _rewards(self, episodes: list[Episode]) -> tuple[torch.Tensor, torch.Tensor]:
        """Rewards [cases, G] and a validity mask; failed episodes never get a made-up reward."""
        values = [e.score.reward if e.score is not None and not e.failed else 0.0 for e in episodes]
        if any(not math.isfinite(v) for v in values):
            raise FloatingPointError("a judge returned a non-finite reward; the step is stopped "
                                     "before any weight changes")
        shape = (len(episodes) // self.group_size, self.group_size)
        valid = torch.tensor([not e.failed and e.score is not None for e in episodes]).view(shape)
        return torch.tensor(values, dtype=torch.float32).view(shape), valid

    def _update(self, episodes: list[Episode], advantages: torch.Tensor, valid: torch.Tensor) -> dict:
        """num_iterations optimizer updates over micro-batches of the rollout's doctor tokens."""
        g, optimizer = self.grpo_config, self.optimizers()
        batches, weights = self._loss_batches(episodes, advantages, valid)
        sums = torch.zeros(6, dtype=torch.float64, device=self.device)  # see _accumulate
        totals = {"update_tokens": float(sum(mb.num_tokens for mb in batches)),
                  "logprob_s": 0.0, "backward_s": 0.0, "optimizer_s": 0.0}
        # With no rows (every group had equal rewards) the optimizer still steps, gradient-free, so
        # global_step always counts rollouts x num_iterations and resume lands where expected.
        old = self._frozen_log_probs(batches) if g.num_iterations > 1 and batches else None
        ref = self._frozen_log_probs(batches, reference=True) if g.beta > 0 and batches else None
        for iteration in range(g.num_iterations):
            with self.local_gradients():
                sums += self._accumulate(batches, advantages, weights, old, ref, totals, iteration)
            self.sum_gradients_across_ranks()
            clock = time.perf_counter()
            self.clip_gradients(optimizer, gradient_clip_val=g.max_grad_norm, gradient_clip_algorithm="norm")
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            totals["optimizer_s"] += time.perf_counter() - clock
        loss, kl, ratio, low, high, tokens = self.sum_across_ranks(sums).tolist()
        per_token = 1.0 / max(tokens, 1.0)
        totals.update(loss=loss / g.num_iterations, kl=kl * per_token, ratio_mean=ratio * per_token,
                      clip_ratio_low=low * per_token, clip_ratio_high=high * per_token,
                      clip_ratio=(low + high) * per_token)
        return totals

    def _loss_batches(self, episodes: list[Episode], advantages: torch.Tensor, valid: torch.Tensor):
        """Micro-batches of the rows the update runs, and each scored token's loss weight.

        With beta = 0 an episode whose advantage is 0 adds nothing to the gradient, so its rows are
        not run; the normaliser still counts its tokens (and every rank's), so skipping, beta and
        the number of ranks never change the gradient.
        """
        g, valid = self.grpo_config, valid.tolist()
        include = [v and (g.beta > 0 or a != 0) for v, a in zip(valid, advantages.tolist())]
        batches = list(self.micro_batches(episode_rows(episodes, include), g.micro_batch_tokens, g.share_prefixes))
        tokens = doctor_token_counts(episodes, valid)
        counts = torch.tensor([tokens.sum(), (tokens > 0).sum(), len(episodes)], dtype=torch.float64)
        normaliser = grpo.loss_normaliser(g.aggregation, *self.sum_across_ranks(counts).tolist(),
                                          self.environment.max_turns * self.doctor_config.max_new_tokens)
        return batches, [grpo.aggregation_weights(mb.episode_ids, tokens, normaliser, g.aggregation) for mb in batches]

    def _accumulate(self, batches, advantages, weights, old, ref, totals, iteration: int) -> torch.Tensor:
        """Backward every micro-batch of the rollout into the gradients (one optimizer update).

        Returns sums over the scored tokens: loss, kl, ratio, low clips, high clips, token count.
        """
        g = self.grpo_config
        sums = torch.zeros(6, dtype=torch.float64, device=self.device)
        for i, mb in enumerate(batches):
            if self.environment.should_stop():  # before optimizer.step: the weights stay those of the last step
                raise RolloutInterrupted("stopped during an update; its gradients are dropped")
            clock = time.perf_counter()
            log_probs = self._log_probs(mb)
            terms = grpo.policy_loss(
                log_probs, old[i] if old else log_probs.detach(), advantages[mb.episode_ids].to(log_probs),
                weights[i].to(log_probs), g.epsilon, g.epsilon_high or g.epsilon, g.beta,
                ref[i] if ref else None)
            if not torch.isfinite(terms.loss):
                raise FloatingPointError("non-finite GRPO loss; the step is stopped before the "
                                         "optimizer touches the weights")
            totals["logprob_s"] += time.perf_counter() - clock
            clock = time.perf_counter()
            self.manual_backward(terms.loss)
            totals["backward_s"] += time.perf_counter() - clock
            sums += torch.stack([terms.loss.detach(), terms.per_token_kl.sum(), terms.ratio.sum(),
                                 terms.low_clipped.sum(), terms.high_clipped.sum(),
                                 torch.tensor(len(log_probs), device=sums.device)]).to(sums)
            for observer in self.update_observers:  # progress over all iterations' micro-batches
                observer(iteration * len(batches) + i + 1, g.num_iterations * len(batches))
        return sums

    def _all_valid_rewards(self, rewards: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Every rank's valid rewards, for `scale_rewards: batch` (ranks hold equal-shaped batches)."""
        if self.world_size < 2:
            return rewards[valid]
        gathered = self.all_gather(torch.stack([rewards, valid.to(rewards.dtype)]).to(self.device)).cpu()
        return gathered[:, 0][gathered[:, 1].bool()]

    def _log_probs(self, mb) -> torch.Tensor:
        """log-probs of the sampled ids under the distribution they were drawn from (temperature T)."""
        return self.batch_log_probs(mb, self.grpo_config.logprob_chunk, self.doctor_config.temperature)

    @torch.no_grad()
    def _frozen_log_probs(self, batches, reference: bool = False) -> list[torch.Tensor]:
        """log-probs with no gradient: the rollout policy (for the ratio) or the reference (for KL)."""
        if reference:
            with self.policy.reference_policy():
                return [self._log_probs(mb) for mb in batches]
        return [self._log_probs(mb) for mb in batches]
