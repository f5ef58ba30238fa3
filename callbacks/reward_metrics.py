"""Reward metrics with torchmetrics: per step for training, per validation run for val/test."""

from __future__ import annotations

import lightning as L
import torch
import torch.distributed as dist
from torchmetrics import MeanMetric

from grpodx.answer_spread import answer_spread
from grpodx.episode_metrics import episode_values, scored

KEYS = ("reward", "accuracy", "top3", "partial_credit", "turns", "questions", "tests", "format", "no_final", "multi_answer")


class RewardMetrics(L.Callback):
    """Logs train/{reward,reward_std,accuracy,...} each step and val/... (or test/...) per run,
    with top_final_share and distinct_finals: how far the answers narrowed onto one name.

    torchmetrics' MeanMetric reduces across DDP ranks when computed; the final answers, strings,
    are gathered from every rank before their spread is taken.
    """

    def __init__(self):
        self._train = {k: MeanMetric() for k in KEYS}
        self._eval = {k: MeanMetric() for k in KEYS}
        self._eval_finals: list[str | None] = []

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
        values.update(_spread_values("train", [e.final_diagnosis for e in episodes]))
        values["step"] = float(trainer.global_step)  # TensorBoard's x: steps done, as the module logs it
        pl_module.log_dict(values, on_step=True, on_epoch=False, batch_size=len(episodes))

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._update_eval(scored(outputs["episodes"]))

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._update_eval(scored(outputs["episodes"]))

    def on_validation_epoch_end(self, trainer, pl_module):
        self._log_eval(pl_module, "val")

    def on_test_epoch_end(self, trainer, pl_module):
        self._log_eval(pl_module, "test")

    def _log_eval(self, pl_module, prefix: str):
        if not pl_module.trainer.sanity_checking:
            values = {f"{prefix}/{k}": m.compute() for k, m in self._eval.items() if m.update_called}
            values.update(_spread_values(prefix, self._eval_finals))
            values["step"] = float(pl_module.trainer.global_step)  # the training step these weights reached
            pl_module.log_dict(values)
        for metric in self._eval.values():
            metric.reset()
        self._eval_finals = []

    def _update_eval(self, episodes) -> None:
        self._update(self._eval, episodes)
        self._eval_finals.extend(e.final_diagnosis for e in episodes)

    @staticmethod
    def _update(metrics: dict, episodes) -> None:
        for episode in episodes:
            for key, value in episode_values(episode).items():
                metrics[key].update(value)


def _spread_values(prefix: str, finals: list[str | None]) -> dict[str, float]:
    """{prefix}/top_final_share and {prefix}/distinct_finals over every rank's episodes.

    Every rank must call it (a collective under DDP); the values come out equal on all of them.
    """
    if dist.is_available() and dist.is_initialized():
        gathered: list[list[str | None]] = [[] for _ in range(dist.get_world_size())]
        dist.all_gather_object(gathered, finals)
        finals = [f for rank in gathered for f in rank]
    spread = answer_spread(finals)
    return {f"{prefix}/top_final_share": spread.top_share, f"{prefix}/distinct_finals": float(spread.distinct)}
