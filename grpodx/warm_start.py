"""Supervised warm start: imitate the naive-Bayes doctor's demonstrations before GRPO.

The loss is the cross-entropy of the demonstration's doctor tokens only, each turn in exactly the
prompt the doctor would see at that turn (grpodx.doctor.prompting: system prompt, the visible history
with earlier `<reason>` blocks removed, the last-turn instruction), scored through the same rows,
micro-batches and selective log-probs as GRPO's update. Validation plays the same greedy held-out
episodes as GRPO, so val/* curves of both stages compare. `python train.py fit --config
configs/warmstart.yaml`; its `checkpoints/last-adapter` starts GRPO through `model.doctor.adapter`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from grpodx.demonstration_data import DemonstrationBatch
from grpodx.demonstrations import Demonstration
from grpodx.doctor import Doctor, DoctorConfig
from grpodx.doctor.prompting import conversation_messages
from grpodx.doctor_module import DoctorModule
from grpodx.errors import ConfigError
from grpodx.judges import Judge
from grpodx.patients import Patient
from grpodx.sequences import Row


@dataclass
class WarmStartConfig:
    """The optimisation side of the warm start.

    Args:
        learning_rate, weight_decay, max_grad_norm: AdamW and gradient clipping.
        warmup_steps: linear warm-up, then cosine decay to `min_lr_ratio` x learning_rate at
            trainer.max_steps (resume with the same max_steps to continue the same schedule).
        min_lr_ratio: where the cosine ends (1.0 keeps the rate constant after warm-up).
        micro_batch_tokens: padded tokens per forward/backward micro-batch (memory bound).
        logprob_chunk: positions per chunk when computing vocabulary log-probs.
        share_prefixes: run each demonstration as one sequence whose turns share their prompt
            prefix (grpodx.prefix_sharing: same contexts, same log-probs, 2.2x fewer tokens on
            5-turn episodes); False runs one row per turn, as GRPO's update does.
    """

    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    warmup_steps: int = 10
    min_lr_ratio: float = 0.1
    micro_batch_tokens: int = 2048
    logprob_chunk: int = 256
    share_prefixes: bool = True

    def validate(self) -> None:
        field = "model.init_args.optimizer"
        if self.learning_rate <= 0:
            raise ConfigError(f"{field}.learning_rate", f"must be > 0, got {self.learning_rate}", "use e.g. 2e-4")
        if self.max_grad_norm <= 0:
            raise ConfigError(f"{field}.max_grad_norm", "must be > 0", "use 1.0")
        if self.warmup_steps < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError(f"{field}.warmup_steps", "warmup_steps must be >= 0 and min_lr_ratio in [0, 1]",
                              "use warmup_steps: 10, min_lr_ratio: 0.1")
        if self.micro_batch_tokens < 64 or self.logprob_chunk < 1:
            raise ConfigError(f"{field}.micro_batch_tokens", "must be >= 64 (and logprob_chunk >= 1)", "use 2048")


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine to `min_ratio` at `total_steps` (flat after)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if total_steps <= warmup_steps:
        return 1.0
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def demonstration_rows(demonstrations: list[Demonstration], doctor: Doctor) -> list[Row]:
    """One row per doctor turn: the prompt the doctor would see at that turn, then the turn's tokens
    and the stop token the doctor ends a turn with. Only those completion tokens are scored."""
    stop = doctor.tokenizer.eos_token_id
    rows = []
    for i, demonstration in enumerate(demonstrations):
        for t, turn in enumerate(demonstration.turns):
            messages = conversation_messages(demonstration.opening_statement, demonstration.visible_history(t),
                                             turn.last_turn)
            prompt = doctor.prompt_ids(messages)
            completion = doctor.tokenizer(turn.text, add_special_tokens=False)["input_ids"] + [stop]
            rows.append(Row(i, prompt + completion, len(prompt)))
    return rows


class WarmStart(DoctorModule):
    """Cross-entropy on demonstrated doctor turns (LoRA only), validated like GRPO.

    Args:
        doctor: model, LoRA adapter and sampling (see DoctorConfig); the same as GRPO's.
        patient: the patient of the held-out validation episodes (class_path).
        judge: the judge of the held-out validation episodes (class_path).
        max_turns: doctor turns per validation episode; must equal the demonstrations' turns.
        optimizer: learning rate, schedule and memory bounds (see WarmStartConfig).
    """

    def __init__(self, doctor: DoctorConfig | None = None, patient: Patient | None = None,
                 judge: Judge | None = None, max_turns: int = 5, optimizer: WarmStartConfig | None = None):
        super().__init__(doctor, patient, judge, max_turns)
        self.optimizer_config = optimizer or WarmStartConfig()
        self.optimizer_config.validate()
        self.automatic_optimization = False  # micro-batches of one step accumulate into one update
        self.save_hyperparameters(ignore=["patient", "judge"])

    def setup(self, stage: str) -> None:
        datamodule = self._trainer.datamodule if self._trainer is not None else None
        turns = getattr(datamodule, "max_turns", None)
        if turns is not None and turns != self.environment.max_turns:
            raise ConfigError("model.init_args.max_turns", f"is {self.environment.max_turns} but the "
                              f"demonstrations play {turns} turns", f"set model.max_turns: {turns}")

    def configure_optimizers(self):
        c = self.optimizer_config
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=c.learning_rate, weight_decay=c.weight_decay)
        total = self.trainer.max_steps if self._trainer is not None and self.trainer.max_steps > 0 else 0
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: learning_rate_factor(step, c.warmup_steps, total, c.min_lr_ratio))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def demonstration_log_probs(self, rows: list[Row]):
        """Per micro-batch, a function computing log p of its scored doctor tokens (called one at a
        time, so only one micro-batch's activations live at once)."""
        c = self.optimizer_config
        for batch in self.micro_batches(rows, c.micro_batch_tokens, c.share_prefixes):
            yield lambda batch=batch: self.batch_log_probs(batch, c.logprob_chunk)

    def training_step(self, batch: DemonstrationBatch, batch_idx: int) -> dict:
        started = time.perf_counter()
        c, optimizer = self.optimizer_config, self.optimizers()
        rows = demonstration_rows(batch.demonstrations, self.policy)
        local_tokens = sum(r.num_completion_tokens for r in rows)
        # every doctor token of the step weighs the same, on every rank (see DoctorModule)
        tokens = max(float(self.sum_across_ranks(torch.tensor([float(local_tokens)]))[0]), 1.0)
        total_nll = 0.0
        with self.local_gradients():
            for log_probs in self.demonstration_log_probs(rows):
                nll = -log_probs().sum()
                if not torch.isfinite(nll):
                    raise FloatingPointError("non-finite warm-start loss; the step is stopped before the "
                                             "optimizer touches the weights")
                self.manual_backward(nll / tokens)
                total_nll += float(nll.detach())
        self.sum_gradients_across_ranks()
        total_nll = float(self.sum_across_ranks(torch.tensor([total_nll], dtype=torch.float64))[0])
        self.clip_gradients(optimizer, gradient_clip_val=c.max_grad_norm, gradient_clip_algorithm="norm")
        learning_rate = optimizer.param_groups[0]["lr"]
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        self.lr_schedulers().step()
        loss = total_nll / tokens
        self.log_dict({"train/loss": loss, "train/perplexity": math.exp(min(loss, 50.0)),
                       "train/doctor_tokens": float(tokens), "train/learning_rate": learning_rate,
                       "time/step_s": time.perf_counter() - started,
                       "step": float(self.global_step)},  # TensorBoard's x: steps done, as console and transcripts
                      on_step=True, on_epoch=False, batch_size=len(batch.demonstrations),
                      sync_dist=False)  # already summed over ranks
        return {"loss": torch.tensor(loss), "episodes": []}  # no rollout: the reward callbacks skip the step
