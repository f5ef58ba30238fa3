"""A callback for the multi-process test: each rank writes its cases and a LoRA weight digest per
step, and (for the single-process replay) its starting LoRA weights, episodes and summed gradient."""

from __future__ import annotations

import hashlib
import json
import os

import lightning as L
import torch


def _trainable(pl_module) -> dict[str, torch.Tensor]:
    return {n: p for n, p in pl_module.named_parameters() if p.requires_grad}


class WeightProbe(L.Callback):
    def _save(self, trainer, name: str, value, step: int) -> None:
        folder = os.environ["GRPODX_PROBE_DIR"]
        torch.save(value, os.path.join(folder, f"{name}-rank{trainer.global_rank}-step{step}.pt"))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        weights = {n: p.detach().clone() for n, p in _trainable(pl_module).items()}
        self._save(trainer, "weights", weights, trainer.global_step)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        """After the module summed every rank's gradient: what the optimizer applies."""
        gradient = {n: p.grad.detach().clone() for n, p in _trainable(pl_module).items()}
        self._save(trainer, "gradient", gradient, trainer.global_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        played = getattr(batch, "demonstrations", None) or outputs["episodes"]  # warm start: its demonstrations
        self._save(trainer, "episodes", played, trainer.global_step - 1)  # the step just taken
        digest = hashlib.sha256()
        for name, param in sorted(_trainable(pl_module).items()):
            digest.update(param.detach().cpu().numpy().tobytes())
        record = {"rank": trainer.global_rank, "step": trainer.global_step, "weights": digest.hexdigest(),
                  "cases": [c.case_id for c in getattr(batch, "demonstrations", None) or batch.cases],
                  "reward": float(trainer.callback_metrics.get("train/reward", -1))}
        with open(os.path.join(os.environ["GRPODX_PROBE_DIR"], f"rank{trainer.global_rank}.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
