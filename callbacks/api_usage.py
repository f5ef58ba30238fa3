"""API accounting in TensorBoard: tokens, latency, cost and errors of an API-backed patient and judge
since the last training step (`api/*`); offline parties report nothing."""

from __future__ import annotations

import lightning as L


class ApiUsage(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        environment = getattr(pl_module, "environment", None)
        if environment is None:
            return
        usage = {**environment.patient.drain_usage(), **environment.judge.drain_usage()}
        if usage:
            pl_module.log_dict(usage, on_step=True, on_epoch=False, batch_size=1, sync_dist=trainer.world_size > 1)
