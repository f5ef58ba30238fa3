"""Validate once more when training reaches max_steps, so every run ends with val/* figures."""

from __future__ import annotations

import lightning as L


class ValidateAtEnd(L.Callback):
    """Asks Lightning to stop at max_steps through `should_stop`, which runs a final validation."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps:
            trainer.should_stop = True
