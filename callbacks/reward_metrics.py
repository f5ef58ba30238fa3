"""Reward metrics with torchmetrics: per step for training, per validation run for val/test."""

from __future__ import annotations

import lightning as L
import torch
from torchmetrics import MeanMetric

from grpodx.episode_metrics import episode_values, scored

KEYS = ("reward", "accuracy", "top3", "partial_credit", "turns", "questions", "tests", "format", "no_final", "multi_answer")


class RewardMetrics(L.Callback):
    """Logs train/{reward,reward_std,accuracy,...} each step and val/... (or test/...) per run.

    torchmetrics' MeanMetric reduces across DDP ranks when computed.
    """

    def __init__(self):
        self._train = {k: MeanMetric() for k in KEYS}
        self._eval = {k: MeanMetric() for k in KEYS}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        episodes = scored(outputs["episodes"])
        if not episodes:
            return
        for metric in self._train.values():
            metric.reset()
        self._update(self._train, episodes)
        values = {f"train/{k}": m.compute() for k, m in self._train.items()}
        rewards = torch.tensor([e.score.reward for e in episodes])
        values["train/reward_std"] = rewards.std() if len(rewards) > 1 else torch.tensor(0.0)
        values["step"] = float(trainer.global_step)  # TensorBoard's x: steps done, as the module logs it
        pl_module.log_dict(values, on_step=True, on_epoch=False, batch_size=len(episodes))

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._update(self._eval, scored(outputs["episodes"]))

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._update(self._eval, scored(outputs["episodes"]))

    def on_validation_epoch_end(self, trainer, pl_module):
        self._log_eval(pl_module, "val")

    def on_test_epoch_end(self, trainer, pl_module):
        self._log_eval(pl_module, "test")

    def _log_eval(self, pl_module, prefix: str):
        if not pl_module.trainer.sanity_checking:
            values = {f"{prefix}/{k}": m.compute() for k, m in self._eval.items() if m.update_called}
            values["step"] = float(pl_module.trainer.global_step)  # the training step these weights reached
            pl_module.log_dict(values)
        for metric in self._eval.values():
            metric.reset()

    @staticmethod
    def _update(metrics: dict, episodes) -> None:
        for episode in episodes:
            for key, value in episode_values(episode).items():
                metrics[key].update(value)
