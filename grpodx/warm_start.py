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
from grpodx.name_emphasis import name_spans, token_weights
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
        diagnosis_weight: loss weight of the tokens naming a condition (hypotheses, differential,
            final diagnosis; grpodx.name_emphasis) against 1 for every other doctor token, so the
            diagnostic decision is not drowned by the question wordings. 1.0: plain cross-entropy.
    """

    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    warmup_steps: int = 10
    min_lr_ratio: float = 0.1
    micro_batch_tokens: int = 2048
    logprob_chunk: int = 256
    share_prefixes: bool = True
    diagnosis_weight: float = 1.0

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
        if not self.diagnosis_weight > 0:
            raise ConfigError(f"{field}.diagnosis_weight", f"must be > 0, got {self.diagnosis_weight}",
                              "use 1.0 (plain cross-entropy) or e.g. 5.0 to weigh condition names up")


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine to `min_ratio` at `total_steps` (flat after)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if total_steps <= warmup_steps:
        return 1.0
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def demonstration_rows(demonstrations: list[Demonstration], doctor: Doctor, names: tuple[str, ...] = (),
                       diagnosis_weight: float = 1.0) -> list[Row]:
    """One row per doctor turn: the prompt the doctor would see at that turn, then the turn's tokens
    and the stop token the doctor ends a turn with. Only those completion tokens are scored; with a
    diagnosis_weight other than 1, the tokens naming one of `names` weigh that much (the stop 1)."""
    stop, emphasis = doctor.tokenizer.eos_token_id, diagnosis_weight != 1.0
    rows = []
    for i, demonstration in enumerate(demonstrations):
        for t, turn in enumerate(demonstration.turns):
            messages = conversation_messages(demonstration.opening_statement, demonstration.visible_history(t),
                                             turn.last_turn)
            prompt = doctor.prompt_ids(messages)
            encoded = doctor.tokenizer(turn.text, add_special_tokens=False, return_offsets_mapping=emphasis)
            completion = encoded["input_ids"] + [stop]
            weights = None
            if emphasis:
                spans = name_spans(turn.text, names)
                weights = (*token_weights(encoded["offset_mapping"], spans, diagnosis_weight), 1.0)
            rows.append(Row(i, prompt + completion, len(prompt), weights))
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
        self.condition_names: tuple[str, ...] = ()  # the demonstrations' (setup), for diagnosis_weight
        self.automatic_optimization = False  # micro-batches of one step accumulate into one update
        self.save_hyperparameters(ignore=["patient", "judge"])

    def setup(self, stage: str) -> None:
        datamodule = self._trainer.datamodule if self._trainer is not None else None
        self.condition_names = tuple(getattr(datamodule, "condition_names", ()))
        if self.optimizer_config.diagnosis_weight != 1.0 and not self.condition_names:
            raise ConfigError("model.init_args.optimizer.diagnosis_weight", "needs the condition names of the "
                              "demonstrations, and the datamodule gives none", "use grpodx.demonstration_data."
                              "DemonstrationDataModule, or diagnosis_weight: 1.0")
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
        """Per micro-batch, its scored tokens' loss weights and a function computing their log p
        (called one at a time, so only one micro-batch's activations live at once)."""
        c = self.optimizer_config
        for batch in self.micro_batches(rows, c.micro_batch_tokens, c.share_prefixes):
            yield batch.weights, lambda batch=batch: self.batch_log_probs(batch, c.logprob_chunk)

    def training_step(self, batch: DemonstrationBatch, batch_idx: int) -> dict:
        started = time.perf_counter()
        c, optimizer = self.optimizer_config, self.optimizers()
        rows = demonstration_rows(batch.demonstrations, self.policy, self.condition_names, c.diagnosis_weight)
        local_tokens = sum(r.num_completion_tokens for r in rows)
        local_weight = sum(sum(r.weights) if r.weights else r.num_completion_tokens for r in rows)
        # every doctor token of the step weighs its loss weight, on every rank (see DoctorModule):
        # the loss is sum(w * nll) / sum(w) over the whole step
        tokens, weight = (max(float(x), 1.0) for x in self.sum_across_ranks(
            torch.tensor([float(local_tokens), float(local_weight)], dtype=torch.float64)))
        sums = torch.zeros(4, dtype=torch.float64)  # nll, weighted nll, nll and count of the weighted-up tokens
        with self.local_gradients():
            for weights, log_probs in self.demonstration_log_probs(rows):
                nll = -log_probs()
                weights = weights.to(nll.device, nll.dtype)
                weighted = (nll * weights).sum()
                if not torch.isfinite(weighted):
                    raise FloatingPointError("non-finite warm-start loss; the step is stopped before the "
                                             "optimizer touches the weights")
                self.manual_backward(weighted / weight)
                named = weights != 1.0
                sums += torch.tensor([float(nll.detach().sum()), float(weighted.detach()),
                                      float(nll.detach()[named].sum()), float(named.sum())], dtype=torch.float64)
        self.sum_gradients_across_ranks()
        total_nll, total_weighted, name_nll, name_tokens = (float(x) for x in self.sum_across_ranks(sums))
        self.clip_gradients(optimizer, gradient_clip_val=c.max_grad_norm, gradient_clip_algorithm="norm")
        learning_rate = optimizer.param_groups[0]["lr"]
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        self.lr_schedulers().step()
        loss = total_nll / tokens  # per doctor token, unweighted: comparable across diagnosis_weight
        metrics = {"train/loss": loss, "train/perplexity": math.exp(min(loss, 50.0)),
                   "train/weighted_loss": total_weighted / weight,
                   "train/doctor_tokens": float(tokens), "train/learning_rate": learning_rate,
                   "time/step_s": time.perf_counter() - started,
                   "step": float(self.global_step)}  # TensorBoard's x: steps done, as console and transcripts
        if name_tokens:
            metrics["train/name_loss"] = name_nll / name_tokens  # per condition-name token
        self.log_dict(metrics, on_step=True, on_epoch=False, batch_size=len(batch.demonstrations),
                      sync_dist=False)  # already summed over ranks
        return {"loss": torch.tensor(loss), "episodes": []}  # no rollout: the reward callbacks skip the step
