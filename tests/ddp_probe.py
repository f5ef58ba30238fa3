"""A callback for the multi-process test: each rank writes its cases and a LoRA weight digest per step."""

from __future__ import annotations

import hashlib
import json
import os

import lightning as L


class WeightProbe(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        digest = hashlib.sha256()
        for name, param in sorted(pl_module.named_parameters()):
            if param.requires_grad:
                digest.update(param.detach().cpu().numpy().tobytes())
        record = {"rank": trainer.global_rank, "step": trainer.global_step, "weights": digest.hexdigest(),
                  "cases": [c.case_id for c in batch.cases],
                  "reward": float(trainer.callback_metrics.get("train/reward", -1))}
        with open(os.path.join(os.environ["GRPODX_PROBE_DIR"], f"rank{trainer.global_rank}.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
